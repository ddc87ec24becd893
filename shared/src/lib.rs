//! Tessera's protocol and crypto core, shared by the edge, the prompt, the device and
//! relying-party backends.
//!
//! This crate owns every wire type (`v1`), one-time passwords (`otp`), the HS512 compact
//! JWS used by Duo-compatible clients (`jws`), the Duo Web SDK v4 token rules on both sides
//! (`duo` for the verifier, `rp` for relying parties), and pure policy state machines
//! (`policy`).
//!
//! Architecture invariant: no I/O, no clock and no randomness source in here. Time arrives
//! as Unix seconds and random values as arguments, so every function is deterministic and
//! builds unchanged for native targets and `wasm32-unknown-unknown`.

pub mod approval;
pub mod bypass;
pub mod device_auth;
pub mod duo;
mod ed25519;
pub mod jws;
#[cfg(test)]
mod mac_vectors;
pub mod multipart;
pub mod oidc;
pub mod otp;
pub mod otpauth;
pub mod phone;
pub mod policy;
pub mod rp;
pub mod secret;
pub mod signing;
#[cfg(test)]
mod test_data;
pub mod v1;
pub mod yubico;

pub use secret::{SecretBytes, SecretString};
