//! Tessera's reference authenticator: the on-disk device state (accounts and their TOTP
//! secrets), where it lives, and the passcodes it shows. The `tessera-device` binary is a
//! thin CLI over this library.
//!
//! Architecture invariant: no network here yet. Activation, push approval and the
//! device's signing key arrive with the `/device/v1/*` API; until then an account is
//! added locally (`add-totp`) with a secret the edge was seeded with.

pub mod paths;
pub mod state;

pub use paths::{STATE_ENV, resolve_state_path, state_path_from_env};
pub use state::{
    Account, AccountError, DeviceState, OtpAlgorithm, STATE_VERSION, SelectError, StateError,
    TotpSettings, Upsert, current_code, load, load_or_empty, new_device_id, save,
};
