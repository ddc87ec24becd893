//! Tessera's reference authenticator: the on-disk device state (accounts and their TOTP
//! secrets), where it lives, and the passcodes it shows. The `tessera-device` binary is a
//! thin CLI over this library.
//!
//! `client` speaks `/device/v1/*`: activation (the device draws its Ed25519 seed and
//! registers the public key), the signed listing of pending pushes, signed answers and
//! the WebSocket pushes arrive on. `add-totp` still adds a TOTP-only account locally.

pub mod activation;
pub mod client;
pub mod paths;
pub mod state;

pub use paths::{STATE_ENV, resolve_state_path, state_path_from_env};
pub use state::{
    Account, AccountError, DeviceState, OtpAlgorithm, STATE_VERSION, SelectError, StateError,
    TotpSettings, Upsert, current_code, load, load_or_empty, new_device_id, new_signing_seed, save,
    signing_key_from_seed,
};
