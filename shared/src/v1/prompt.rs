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
