//! Tessera's edge verifier.
//!
//! The crate has two halves. The core (every module except `glue`) is pure request
//! handling: `app::Edge::handle` turns an `http::Request<Vec<u8>>` into an
//! `http::Response<Vec<u8>>`, with the clock, randomness and the platform's view of the
//! client passed in, and state reached through the small `store::Stores` trait. It runs
//! natively under `cargo test` with the in-memory stores of `memory`.
//!
//! The glue (`glue`, compiled only for `wasm32`) adapts that core to Cloudflare Workers:
//! the fetch event, the `Account` and `Directory` Durable Objects with their SQLite
//! tables, the `ASSETS` binding, and the environment.
//!
//! Architecture invariant: nothing outside `glue` names the `worker` crate, reads a
//! clock, draws random bytes itself, or reads client-supplied location headers.

pub mod account;
pub mod admin;
pub mod app;
pub mod cache;
pub mod code;
pub mod directory;
pub mod issuer;
pub mod memory;
pub mod oauth;
pub mod openid;
pub mod prompt;
pub mod push;
pub mod push_object;
pub mod remember;
pub mod sealing;
pub mod session;
pub mod store;
pub mod web;

#[cfg(target_arch = "wasm32")]
mod glue;
