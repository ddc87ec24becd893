//! The prompt API (`/prompt/v1/*`): what the prompt sends to the edge and what it gets
//! back, and the authentication methods it offers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Path prefix of the prompt API.
pub const PROMPT_PREFIX: &str = "/prompt/v1";
/// `POST` [`StartRequest`] → [`StartResponse`].
pub const PROMPT_START: &str = "/prompt/v1/start";
/// `POST` [`PasscodeRequest`] → [`Completion`].
pub const PROMPT_PASSCODE: &str = "/prompt/v1/passcode";
/// `POST` [`PushStartRequest`] → [`PushStarted`]: sends a push (Verified Push unless the
/// policy allows plain Push and the prompt asked for it) to one of the user's devices.
pub const PROMPT_PUSH: &str = "/prompt/v1/push";
/// `POST` [`PushStatusRequest`] → [`PushStatus`]. With `wait_ms` it is a long poll: the
/// answer comes the instant the transaction changes, or with `pending` when the wait ends.
pub const PROMPT_PUSH_STATUS: &str = "/prompt/v1/push/status";
/// `POST` [`PushFeedbackRequest`] → `204`: after a denied push, the user says whether the
/// request was theirs ("No, report it" records fraud and mutes pushes).
pub const PROMPT_PUSH_FEEDBACK: &str = "/prompt/v1/push/feedback";
/// `POST` [`CancelRequest`] → `204`: the user switched methods; the pending push is
/// withdrawn (the device stops showing it; a late approval is refused).
pub const PROMPT_CANCEL: &str = "/prompt/v1/cancel";
/// Longest long poll the edge honours, in milliseconds.
pub const MAX_PUSH_WAIT_MS: u32 = 25_000;

/// Begins a prompt for a relying application's signed authorize request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    pub client_id: String,
    /// The `request` JWT, exactly as the relying app built it for `/oauth/v1/authorize`.
    pub request: String,
    /// A nonce passed beside the JWT (the Python SDK puts it in the query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Remembered-device tokens this browser keeps ([`RememberOffer::token`]); the edge
    /// honours one that is valid for this user and application while policy allows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remembered: Vec<String>,
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
    /// The method to show first on a browser's first visit (the most secure usable one).
    /// Afterwards the prompt prefers the method last used in that browser, when usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_method: Option<Method>,
    /// A final decision without a second factor (policy `skip`, an authorized network,
    /// a new user allowed through, a remembered device): complete at once, show nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
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
    /// The device's id, for methods aimed at one device (push: [`PushStartRequest`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
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
    /// Present when policy lets this browser be remembered: the prompt asks "Is this your
    /// device?" and keeps the token only on "Yes" (sent back in [`StartRequest::remembered`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember: Option<RememberOffer>,
}

/// A signed remembered-device token and how long it is good for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberOffer {
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// `application` (this application only) or `shared` (every application of the realm
    /// that shares remembered devices).
    pub scope: String,
}

/// Asks for a push. Without `device_id`, the user's first push-capable device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushStartRequest {
    pub session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// `verified_push` (default) or `push`; plain push is refused unless policy allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
}

/// A push on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushStarted {
    pub txid: String,
    /// Verified Push: the digits to show; the user types them on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
    /// Unix seconds when the push stops being answerable (60 s by default).
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// Asks where a push stands, waiting up to `wait_ms` (capped at [`MAX_PUSH_WAIT_MS`]) for
/// it to change from `pending`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushStatusRequest {
    pub session: String,
    pub txid: String,
    #[serde(default)]
    pub wait_ms: u32,
}

/// Where a push stands. `approved` carries the completion; the failures carry the
/// error the prompt shows (`ErrorBody`'s code and message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushStatus {
    pub state: PushState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<super::ErrorInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushState {
    Pending,
    Approved,
    /// Denied on the device (as a mistake); the prompt asks "Was this request from you?".
    Denied,
    /// Denied and reported as fraud on the device.
    Fraud,
    /// The device sent a wrong Verified Push code (a failure counted for lockout).
    WrongCode,
    /// Nobody answered within the push lifetime.
    Expired,
    Cancelled,
}

/// After `denied`: was the request the user's own?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFeedbackRequest {
    pub session: String,
    pub txid: String,
    /// `false`: "No, report it" (fraud).
    pub was_me: bool,
}

/// Withdraws a pending push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    pub session: String,
    pub txid: String,
}
