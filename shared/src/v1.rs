//! Version 1 of Tessera's own JSON APIs: the prompt API (`/prompt/v1/*`) and the error
//! shape every Tessera endpoint uses.
//!
//! Stability promise: within `v1`, fields are only ever added (as optional, with
//! `#[serde(default)]`), never renamed, retyped or removed, and enum variants are only
//! added. A breaking change is a new module, `v2`, served beside this one. These are the
//! only types in the crate that derive `Serialize`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Path prefix of the prompt API.
pub const PROMPT_PREFIX: &str = "/prompt/v1";
/// `POST` [`StartRequest`] → [`StartResponse`].
pub const PROMPT_START: &str = "/prompt/v1/start";
/// `POST` [`PasscodeRequest`] → [`Completion`].
pub const PROMPT_PASSCODE: &str = "/prompt/v1/passcode";

/// Begins a prompt for a relying application's signed authorize request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    pub client_id: String,
    /// The `request` JWT, exactly as the relying app built it for `/oauth/v1/authorize`.
    pub request: String,
    /// A nonce passed beside the JWT (the Python SDK puts it in the query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// What the prompt shows: who is signing in to what, and with which methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartResponse {
    /// Opaque, short-lived session bound to the verified request. Sent back with every
    /// action.
    pub session: String,
    pub application: Application,
    pub username: String,
    /// The user's usable methods that the application allows, most secure first.
    pub methods: Vec<MethodOption>,
    /// Unix seconds when `session` stops being accepted.
    pub expires_at: i64,
}

/// Branding and links the application configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// A CSS colour such as `#1a73e8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_devices_url: Option<String>,
}

/// One way the user can complete the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodOption {
    pub method: Method,
    /// The device this option uses, as the user named it ("iPhone", "YubiKey 5").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// Authentication methods, declared from most to least secure (`PRODUCT.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    PlatformAuthenticator,
    SecurityKey,
    VerifiedPush,
    Push,
    YubikeyOtp,
    /// A TOTP passcode from the authenticator app or any standard TOTP app.
    Passcode,
    HardwareToken,
    SmsPasscode,
    PhoneCall,
    BypassCode,
}

impl Method {
    /// The factor name in tokens and logs (Duo's Admin API vocabulary).
    pub fn factor(self) -> &'static str {
        match self {
            Self::PlatformAuthenticator | Self::SecurityKey => "webauthn_credential",
            Self::VerifiedPush => "verified_duo_push",
            Self::Push => "duo_push",
            Self::YubikeyOtp => "yubikey_code",
            Self::Passcode => "duo_mobile_passcode",
            Self::HardwareToken => "hardware_token",
            Self::SmsPasscode => "sms_passcode",
            Self::PhoneCall => "phone_call",
            Self::BypassCode => "bypass_code",
        }
    }

    /// The wire name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlatformAuthenticator => "platform_authenticator",
            Self::SecurityKey => "security_key",
            Self::VerifiedPush => "verified_push",
            Self::Push => "push",
            Self::YubikeyOtp => "yubikey_otp",
            Self::Passcode => "passcode",
            Self::HardwareToken => "hardware_token",
            Self::SmsPasscode => "sms_passcode",
            Self::PhoneCall => "phone_call",
            Self::BypassCode => "bypass_code",
        }
    }
}

/// Submits a passcode (authenticator, hardware token, SMS or bypass code).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasscodeRequest {
    pub session: String,
    /// Carried as plain text on the wire only; the edge wraps it in a `SecretString`
    /// at once. Redacted from `Debug`.
    pub passcode: String,
}

impl fmt::Debug for PasscodeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasscodeRequest")
            .field("session", &self.session)
            .field("passcode", &"[REDACTED]")
            .finish()
    }
}

/// The prompt succeeded: hand `{code, state}` to the page, or go to `redirect`, which is
/// the application's `redirect_uri` with `duo_code` (or `code`) and `state` added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub redirect: String,
    pub code: String,
    pub state: String,
}

/// The answer an authenticator sends for a push (`/device/v1/*`): the approval's fields
/// as signed, and the device's Ed25519 signature over their canonical encoding
/// (`shared::approval`). Convert with `SignedApproval::try_from`, then `verify_approval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceApproval {
    /// The transaction the push carried.
    pub txid: String,
    pub decision: ApprovalDecision,
    /// The Verified Push code as the user typed it on the device (digits only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Unix seconds on the device's clock when the user answered.
    pub time: i64,
    /// The device's id, as assigned at activation.
    pub device_id: String,
    /// base64url without padding: the 64-byte Ed25519 signature.
    pub signature: String,
}

/// The user's answer to a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approve,
    Deny,
    /// Denied and reported as fraud ("No, this wasn't me").
    DenyFraud,
}

impl ApprovalDecision {
    /// The wire name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::DenyFraud => "deny_fraud",
        }
    }
}

/// A policy as the edge stores it and the Admin API sends it (`shared::policy::Policy`
/// is the checked form: convert with `Policy::try_from`). Every field is optional: an
/// absent field inherits from the less specific level (global < application < group).
///
/// Unknown fields are refused rather than ignored, so a misspelt key can never silently
/// drop a restriction an administrator meant to set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_user: Option<NewUserAction>,
    /// The methods users may complete the prompt with; never empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_methods: Option<Vec<Method>>,
    /// Whether plain Push is offered when Verified Push is allowed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_plain_push: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_networks: Option<AuthorizedNetworksConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered_devices: Option<RememberedDevicesConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<LockoutConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_rate_limit: Option<PushRateLimitConfig>,
}

/// The authentication policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticationAction {
    #[serde(rename = "require_2fa")]
    Require2fa,
    /// Allow after the primary login alone.
    Skip,
    Deny,
}

/// What happens to a user with no enrolled method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewUserAction {
    /// Inline self-enrollment in the prompt.
    RequireEnrollment,
    /// Unenrolled users pass without 2FA.
    Allow,
    Deny,
}

/// What a location rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationAction {
    /// No objection: the rest of the policy decides (Duo's "No action").
    Allow,
    /// 2FA even where another rule (an authorized network, `authentication: skip`) would
    /// waive it.
    #[serde(rename = "require_2fa")]
    Require2fa,
    Deny,
}

/// The user-location section. Country keys are ISO 3166-1 alpha-2 codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    /// Per-country actions. Set as a whole: a more specific level replaces the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countries: Option<std::collections::BTreeMap<String, LocationAction>>,
    /// For every country not in `countries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<LocationAction>,
    /// When the platform cannot tell the country (absent, `XX`); falls back to `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<LocationAction>,
    /// Anonymous networks (Tor, country `T1`); falls back to `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<LocationAction>,
}

/// Authorized networks: CIDR blocks (`192.0.2.0/24`, `2001:db8::/32`, or a bare address)
/// and what being inside them means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizedNetworksConfig {
    pub networks: Vec<String>,
    pub action: NetworkAction,
}

/// What the authorized networks do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkAction {
    /// Inside: allow without 2FA. Outside: no effect.
    #[serde(rename = "allow_without_2fa")]
    AllowWithout2fa,
    /// Inside: 2FA (or enrollment) even where another rule would waive it.
    #[serde(rename = "require_2fa")]
    Require2fa,
    /// Outside: deny. Inside: no effect.
    DenyOthers,
}

/// Remembered devices ("Yes, this is my device").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum RememberedDevicesConfig {
    Off,
    /// Trust the browser for `days` (1 to 365) after a success.
    Remember {
        days: u16,
        scope: RememberScope,
    },
}

/// Whether a remembered device counts for one application or for all of the realm's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RememberScope {
    PerApp,
    Shared,
}

/// Lockout settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockoutConfig {
    /// Consecutive failures before the lock, 1 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    /// Minutes after which a lock lifts by itself; `0` means never (an administrator
    /// unlocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_unlock_minutes: Option<u32>,
}

/// At most `max_requests` pushes to one user within any `window_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRateLimitConfig {
    pub max_requests: u32,
    pub window_minutes: u32,
}

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
            Self::RateLimited => 429,
            Self::Internal => 500,
        }
    }
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
