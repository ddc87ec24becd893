//! Placeholder; the prompt helper owns this crate.
