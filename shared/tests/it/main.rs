//! The integration tests of `tessera-shared`: one binary (see `STYLE.md`).
// Test helpers outside `#[test]` functions fail loudly by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod interop;
