//! The integration tests of `tessera-shared`: one binary (see `STYLE.md`).

mod interop;
