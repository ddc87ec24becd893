//! Placeholder; the edge helper owns this crate.
