//! Version 1 of Tessera's own JSON APIs and of its Duo-shaped ones: the prompt API
//! (`/prompt/v1/*`, [`prompt`]), the authenticator API (`/device/v1/*`, [`device`]), the
//! Admin API subset shaped like Duo's (`/admin/v1/*`, [`admin`]), help-desk account-update
//! requests (`/helpdesk/v1/*`, [`helpdesk`]), policy configuration ([`policy`]), and the
//! error shape every Tessera endpoint uses (Duo-compatible endpoints keep Duo's own).
//!
//! Stability promise: within `v1`, fields are only ever added (as optional, with
//! `#[serde(default)]`), never renamed, retyped or removed, and enum variants are only
//! added. A breaking change is a new module, `v2`, served beside this one. These are the
//! only types in the crate that derive `Serialize` (besides the fixed shapes of standards
//! in `duo` and `oidc`).
//!
//! Each submodule pairs its wire types (`Serialize`, `Deserialize`, plain strings and
//! numbers as clients send them) with the checked forms the edge and the device work with
//! (no `Serialize`; built only through `TryFrom`, with an error enum that says what is
//! wrong). Every type that was at `v1::X` before the split is re-exported here, so those
//! paths keep working.

use serde::{Deserialize, Serialize};

pub mod admin;
pub mod device;
pub mod helpdesk;
pub mod policy;
pub mod prompt;

pub use device::{ApprovalDecision, DeviceApproval};
pub use policy::{
    AuthenticationAction, AuthorizedNetworksConfig, LocationAction, LocationConfig, LockoutConfig,
    NetworkAction, NewUserAction, PolicyConfig, PushRateLimitConfig, RememberScope,
    RememberedDevicesConfig,
};
pub use prompt::{
    Application, CancelRequest, Completion, MAX_PUSH_WAIT_MS, Method, MethodOption, PROMPT_CANCEL,
    PROMPT_PASSCODE, PROMPT_PREFIX, PROMPT_PUSH, PROMPT_PUSH_FEEDBACK, PROMPT_PUSH_STATUS,
    PROMPT_START, PasscodeRequest, PushFeedbackRequest, PushStartRequest, PushStarted, PushState,
    PushStatus, PushStatusRequest, RememberOffer, StartRequest, StartResponse,
};

/// The body of every error response from a Tessera API (Duo-compatible endpoints keep
/// Duo's own shapes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    /// A sentence for the user, in English; the prompt translates by `code`.
    pub message: String,
    /// For failures that count towards lockout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorInfo {
                code,
                message: message.into(),
                attempts_left: None,
            },
        }
    }
}

/// Stable machine codes. Clients switch on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The body or query could not be parsed.
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotFound,
    MethodNotAllowed,
    /// The application's request JWT was refused.
    InvalidRequest,
    UnknownClient,
    OriginNotAllowed,
    InvalidSession,
    SessionExpired,
    InvalidPasscode,
    PasscodeReused,
    LockedOut,
    UserDisabled,
    LocationDenied,
    AccessDenied,
    EnrollmentRequired,
    MethodUnavailable,
    RateLimited,
    Unauthorized,
    /// Pushes to this user are muted for a while after a push was reported as fraud.
    PushMuted,
    /// No pending push with that transaction id (answered, expired, cancelled or unknown).
    TransactionNotFound,
    /// The activation code is unknown, used, expired or for another realm.
    InvalidActivation,
    /// A device's signed answer was refused (signature, freshness, replay, device).
    ApprovalRefused,
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest | Self::InvalidRequest | Self::MethodUnavailable => 400,
            Self::Unauthorized
            | Self::UnknownClient
            | Self::InvalidSession
            | Self::SessionExpired => 401,
            Self::InvalidPasscode | Self::PasscodeReused => 401,
            Self::OriginNotAllowed
            | Self::LockedOut
            | Self::UserDisabled
            | Self::LocationDenied
            | Self::AccessDenied
            | Self::EnrollmentRequired => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited | Self::PushMuted => 429,
            Self::TransactionNotFound => 404,
            Self::InvalidActivation | Self::ApprovalRefused => 403,
            Self::Internal => 500,
        }
    }
}

/// `text` trimmed, if it is 1 to `max_chars` characters without control characters.
pub(crate) fn checked_text(text: &str, max_chars: usize) -> Option<String> {
    let text = text.trim();
    let chars = text.chars().count();
    (chars > 0 && chars <= max_chars && !text.chars().any(char::is_control))
        .then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn methods_rank_in_declaration_order() {
        let mut methods = vec![
            Method::PhoneCall,
            Method::Passcode,
            Method::SecurityKey,
            Method::VerifiedPush,
        ];
        methods.sort();
        assert_eq!(
            methods,
            [
                Method::SecurityKey,
                Method::VerifiedPush,
                Method::Passcode,
                Method::PhoneCall
            ]
        );
    }

    #[test]
    fn wire_names_match_serde() {
        for method in [
            Method::PlatformAuthenticator,
            Method::Passcode,
            Method::BypassCode,
            Method::YubikeyOtp,
        ] {
            assert_eq!(serde_json::to_value(method).unwrap(), method.as_str());
        }
        let body = ErrorBody::new(ErrorCode::PasscodeReused, "Used");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"passcode_reused","message":"Used"}}"#
        );
    }

    #[test]
    fn passcodes_are_redacted_from_debug() {
        let request = PasscodeRequest {
            session: "s".into(),
            passcode: "123456".into(),
        };
        assert!(!format!("{request:?}").contains("123456"));
    }
}
