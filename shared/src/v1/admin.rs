//! The Admin API subset (`/admin/v1/*`), shaped like Duo's Admin API so that `duo_client`
//! and the other Duo admin clients work unchanged (`PROTOCOL-DUO.md` §2.2, §3).
//!
//! This module owns Duo's response envelope ([`Envelope`]: `{"stat":"OK","response":…}` or
//! `{"stat":"FAIL","code":…,"message":…}`), the objects (users, phones, hardware tokens,
//! bypass codes) with Duo's key names and types, and the request parameters with their
//! checks. Duo's parameters are strings: form fields for v2 signatures, a JSON object for
//! v5, where clients also send numbers and booleans (`duo_client` passes
//! `preserve_existing=True` through as JSON `true`). [`Param`] takes any of them as text;
//! the `TryFrom` conversions parse `"1"`/`"0"`/`"true"`/`"false"` and digits, and name the
//! offending parameter in a [`ParamError`] that becomes Duo's `40001`/`40002` failure.
//!
//! Types follow what the strictest clients decode (`duo_api_golang`'s `admin` package):
//! integers stay integers, `last_login` is an integer or `null`, booleans are JSON
//! booleans, and `metadata.next_offset` is absent on the last page.

use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

use crate::SecretBytes;
use crate::bypass::{self, BypassCode};
use crate::otp::{Algorithm, OtpKey, Totp};
use crate::phone::{PhoneError, PhoneNumber};
use crate::yubico::{AesKey, PrivateId};

/// Path prefix of the Admin API.
pub const ADMIN_PREFIX: &str = "/admin/v1";
/// `GET` (`username=`, paging) → `[User]`; `POST` [`CreateUserParams`] → [`User`]. Below
/// it: `/{user_id}` (`GET`, `POST` [`ModifyUserParams`], `DELETE`), `/{user_id}/phones`,
/// `/{user_id}/tokens`, `/{user_id}/bypass_codes` (`POST` [`CreateBypassCodesParams`] →
/// [`IssuedBypassCodes`]; `GET` → `[BypassCodeInfo]`).
pub const ADMIN_USERS: &str = "/admin/v1/users";
/// `GET` (`number=`, `extension=`) → `[Phone]`; `POST` [`CreatePhoneParams`] → [`Phone`].
pub const ADMIN_PHONES: &str = "/admin/v1/phones";
/// `GET` (`type=`, `serial=`) → `[Token]`; `POST` [`CreateTokenParams`] → [`Token`].
pub const ADMIN_TOKENS: &str = "/admin/v1/tokens";
/// `GET` → `[BypassCodeInfo]`; `/{bypass_code_id}` for `DELETE`.
pub const ADMIN_BYPASS_CODES: &str = "/admin/v1/bypass_codes";

/// Page size when the client sends no `limit` (Duo's default).
pub const DEFAULT_PAGE_LIMIT: u32 = 100;
/// The largest `limit` honoured (Duo's maximum for users).
pub const MAX_PAGE_LIMIT: u32 = 300;
/// At most this many bypass codes per request (Duo's limit).
pub const MAX_BYPASS_CODES: u8 = 10;
/// The longest username, name, email or serial, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// The longest `notes`, in characters.
pub const MAX_NOTES_CHARS: usize = 1024;

// ---------------------------------------------------------------------------------------
// The envelope.

/// Every Admin API response body: `{"stat":"OK","response":…}` (list endpoints add
/// `metadata`), or `{"stat":"FAIL","code":40002,"message":…,"message_detail":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stat")]
pub enum Envelope<T> {
    #[serde(rename = "OK")]
    Ok {
        response: T,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Metadata>,
    },
    #[serde(rename = "FAIL")]
    Fail(Failure),
}

impl<T> Envelope<T> {
    /// A success without paging.
    pub fn ok(response: T) -> Self {
        Self::Ok {
            response,
            metadata: None,
        }
    }

    /// One page of a list.
    pub fn page(response: T, metadata: Metadata) -> Self {
        Self::Ok {
            response,
            metadata: Some(metadata),
        }
    }

    /// The HTTP status that goes with the body.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Ok { .. } => 200,
            Self::Fail(failure) => failure.http_status(),
        }
    }

    /// The response, or the failure (as a client reads it).
    pub fn into_result(self) -> Result<T, Failure> {
        match self {
            Self::Ok { response, .. } => Ok(response),
            Self::Fail(failure) => Err(failure),
        }
    }
}

impl<T> From<Failure> for Envelope<T> {
    fn from(failure: Failure) -> Self {
        Self::Fail(failure)
    }
}

/// Paging of a list response. `next_offset` is absent on the last page: both
/// `duo_client` and `duo_api_golang` stop there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_objects: Option<u64>,
}

impl Metadata {
    /// The metadata of the page `page` out of `total_objects`.
    pub fn for_page(page: Page, total_objects: u64) -> Self {
        let limit = u64::from(page.limit);
        let end = page.offset.saturating_add(limit);
        Self {
            next_offset: (end < total_objects).then_some(end),
            prev_offset: (page.offset > 0).then(|| page.offset.saturating_sub(limit)),
            total_objects: Some(total_objects),
        }
    }
}

/// A failure body. `code` is the HTTP status × 100 plus a number (Duo's scheme).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: u32,
    pub message: String,
    /// Names the parameter or the object for `40002` and `40401`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_detail: Option<String>,
}

impl Failure {
    /// The failure for `code` with Duo's message.
    pub fn new(code: FailCode, message_detail: Option<String>) -> Self {
        Self {
            code: code.code(),
            message: code.message().to_owned(),
            message_detail,
        }
    }

    /// `code / 100` when that is an HTTP error status, otherwise 500.
    pub fn http_status(&self) -> u16 {
        u16::try_from(self.code / 100)
            .ok()
            .filter(|status| (400..=599).contains(status))
            .unwrap_or(500)
    }
}

/// The failure codes the edge sends, with Duo's messages (`PROTOCOL-DUO.md` §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailCode {
    MissingParameters,
    InvalidParameters,
    MissingCredentials,
    InvalidIntegrationKey,
    InvalidSignature,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RateLimited,
    Internal,
}

impl FailCode {
    pub fn code(self) -> u32 {
        match self {
            Self::MissingParameters => 40001,
            Self::InvalidParameters => 40002,
            Self::MissingCredentials => 40101,
            Self::InvalidIntegrationKey => 40102,
            Self::InvalidSignature => 40103,
            Self::Forbidden => 40301,
            Self::NotFound => 40401,
            Self::MethodNotAllowed => 40501,
            Self::RateLimited => 42901,
            Self::Internal => 50001,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::MissingParameters => "Missing required request parameters",
            Self::InvalidParameters => "Invalid request parameters",
            Self::MissingCredentials => "Missing request credentials",
            Self::InvalidIntegrationKey => "Invalid integration key in request credentials",
            Self::InvalidSignature => "Invalid signature in request credentials",
            Self::Forbidden => "Access forbidden",
            Self::NotFound => "Resource not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::RateLimited => "Too many requests",
            Self::Internal => "Internal server error",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Objects.

/// A user status, with Duo's exact strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserStatus {
    /// Must complete 2FA (the default). Setting it unlocks a locked-out user.
    #[serde(rename = "active")]
    Active,
    /// Skips 2FA.
    #[serde(rename = "bypass")]
    Bypass,
    /// Cannot sign in.
    #[serde(rename = "disabled")]
    Disabled,
    /// Too many failures; set by the system only.
    #[serde(rename = "locked out")]
    LockedOut,
    /// Deleted, within the recovery period; set by the system only.
    #[serde(rename = "pending deletion")]
    PendingDeletion,
}

impl UserStatus {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Bypass => "bypass",
            Self::Disabled => "disabled",
            Self::LockedOut => "locked out",
            Self::PendingDeletion => "pending deletion",
        }
    }

    /// Parses the exact wire string.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Active,
            Self::Bypass,
            Self::Disabled,
            Self::LockedOut,
            Self::PendingDeletion,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// Whether an administrator may set it (the others are the system's).
    pub fn is_settable(self) -> bool {
        matches!(self, Self::Active | Self::Bypass | Self::Disabled)
    }
}

/// A user, as `GET /admin/v1/users` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub username: String,
    pub realname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    pub email: String,
    pub status: UserStatus,
    pub notes: String,
    /// Unix seconds.
    pub created: i64,
    /// Whether the user has at least one usable method.
    pub is_enrolled: bool,
    /// Unix seconds of the last successful sign-in; `null` before the first.
    pub last_login: Option<i64>,
    pub phones: Vec<Phone>,
    pub tokens: Vec<Token>,
    pub webauthncredentials: Vec<WebauthnCredential>,
    pub groups: Vec<Group>,
}

/// Duo's phone types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PhoneType {
    Mobile,
    Landline,
    Unknown,
}

impl PhoneType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mobile => "Mobile",
            Self::Landline => "Landline",
            Self::Unknown => "Unknown",
        }
    }

    /// Parses a parameter: Duo documents lower case, and echoes capitalised; both work.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Mobile, Self::Landline, Self::Unknown]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// Duo's phone platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PhonePlatform {
    Unknown,
    #[serde(rename = "Google Android")]
    GoogleAndroid,
    #[serde(rename = "Apple iOS")]
    AppleIos,
    #[serde(rename = "Windows Phone")]
    WindowsPhone,
    #[serde(rename = "RIM BlackBerry")]
    RimBlackBerry,
    #[serde(rename = "Java J2ME")]
    JavaJ2me,
    #[serde(rename = "Palm WebOS")]
    PalmWebOs,
    #[serde(rename = "Symbian OS")]
    SymbianOs,
    #[serde(rename = "Windows Mobile")]
    WindowsMobile,
    #[serde(rename = "Generic Smartphone")]
    GenericSmartphone,
}

impl PhonePlatform {
    const ALL: [Self; 10] = [
        Self::Unknown,
        Self::GoogleAndroid,
        Self::AppleIos,
        Self::WindowsPhone,
        Self::RimBlackBerry,
        Self::JavaJ2me,
        Self::PalmWebOs,
        Self::SymbianOs,
        Self::WindowsMobile,
        Self::GenericSmartphone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "Unknown",
            Self::GoogleAndroid => "Google Android",
            Self::AppleIos => "Apple iOS",
            Self::WindowsPhone => "Windows Phone",
            Self::RimBlackBerry => "RIM BlackBerry",
            Self::JavaJ2me => "Java J2ME",
            Self::PalmWebOs => "Palm WebOS",
            Self::SymbianOs => "Symbian OS",
            Self::WindowsMobile => "Windows Mobile",
            Self::GenericSmartphone => "Generic Smartphone",
        }
    }

    /// Parses a parameter in any case (Duo documents `google android`, `apple ios`, …);
    /// `windows phone 7` is an older spelling of `windows phone`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("windows phone 7") {
            return Some(Self::WindowsPhone);
        }
        Self::ALL
            .into_iter()
            .find(|platform| platform.as_str().eq_ignore_ascii_case(text))
    }
}

/// What a phone can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The device's best method (push if activated, else a call).
    Auto,
    Push,
    Sms,
    Phone,
    MobileOtp,
}

/// A phone (SMS, calls, and the authenticator app when activated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub phone_id: String,
    /// E.164, or empty for a device without a number (a tablet).
    pub number: String,
    pub extension: String,
    pub name: String,
    #[serde(rename = "type")]
    pub phone_type: PhoneType,
    pub platform: PhonePlatform,
    /// Whether the authenticator app is activated on it.
    pub activated: bool,
    pub sms_passcodes_sent: bool,
    pub capabilities: Vec<Capability>,
}

/// Duo's hardware token types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// HOTP, 6 digits.
    H6,
    /// HOTP, 8 digits.
    H8,
    /// TOTP, 6 digits.
    T6,
    /// TOTP, 8 digits.
    T8,
    /// YubiKey in Yubico OTP mode.
    Yk,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::H6 => "h6",
            Self::H8 => "h8",
            Self::T6 => "t6",
            Self::T8 => "t8",
            Self::Yk => "yk",
        }
    }

    /// Parses the exact wire string.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::H6, Self::H8, Self::T6, Self::T8, Self::Yk]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Passcode digits, for the OATH types.
    pub fn digits(self) -> Option<u8> {
        match self {
            Self::H6 | Self::T6 => Some(6),
            Self::H8 | Self::T8 => Some(8),
            Self::Yk => None,
        }
    }
}

/// A hardware token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub token_id: String,
    #[serde(rename = "type")]
    pub token_type: TokenType,
    pub serial: String,
    /// Seconds per step, for `t6`/`t8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_step: Option<u32>,
}

/// A WebAuthn credential (security key or platform authenticator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebauthnCredential {
    pub webauthnkey: String,
    pub credential_name: String,
    pub label: String,
    /// Unix seconds.
    pub date_added: i64,
}

/// A group the user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub group_id: String,
    pub name: String,
    pub desc: String,
}

/// What `POST /users/{user_id}/bypass_codes` returns: the new codes in clear, shown once.
/// Redacted from `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IssuedBypassCodes(pub Vec<String>);

impl fmt::Debug for IssuedBypassCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedBypassCodes([{} REDACTED])", self.0.len())
    }
}

/// A stored bypass code, as the lists show it (never the code itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BypassCodeInfo {
    pub bypass_code_id: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; `null` for a code that never expires.
    pub expiration: Option<i64>,
    /// Uses left; `0` for unlimited, as in the `reuse_count` parameter.
    pub reuse_count: u32,
    /// Who issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_email: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Parameters.

/// One request parameter as its text. Accepts a JSON string, integer or boolean (booleans
/// become `"true"`/`"false"`), and form fields as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Param(pub String);

impl Param {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Param {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Param;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an integer or a boolean")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Param, E> {
                Ok(Param(text.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Param, E> {
                Ok(Param(text))
            }

            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Param, E> {
                Ok(Param(value.to_string()))
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Param, E> {
                Ok(Param(value.to_string()))
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Param, E> {
                Ok(Param(value.to_string()))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

/// What is wrong with a parameter's value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters without control characters")]
    TooLong(usize),
    #[error("must be \"1\", \"0\", \"true\" or \"false\"")]
    NotBoolean,
    #[error("must be a whole number from {min} to {max}")]
    OutOfRange { min: u64, max: u64 },
    #[error("is not one of the accepted values")]
    UnknownValue,
    #[error("is set by the system only")]
    NotSettable,
    #[error("is not an email address")]
    NotEmail,
    #[error("{0}")]
    Phone(PhoneError),
    #[error("must be hex: {0} bytes")]
    NotHex(&'static str),
    #[error("is not a usable key")]
    BadKey,
    #[error("must be {} digit bypass codes separated by commas", bypass::DIGITS)]
    BadBypassCode,
    #[error("lists a code twice")]
    Duplicate,
    #[error("does not apply to this token type")]
    NotApplicable,
}

/// Why request parameters were refused. `failure()` gives Duo's failure body.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamError {
    #[error("missing required parameter `{0}`")]
    Missing(&'static str),
    #[error("parameter `{name}` {problem}")]
    Invalid {
        name: &'static str,
        problem: Problem,
    },
    #[error("parameters `{0}` and `{1}` are mutually exclusive")]
    Exclusive(&'static str, &'static str),
}

impl ParamError {
    fn invalid(name: &'static str, problem: Problem) -> Self {
        Self::Invalid { name, problem }
    }

    /// The Duo failure to answer with: `40001` for a missing parameter, otherwise `40002`,
    /// with the parameter named in `message_detail`.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Missing(name) => {
                Failure::new(FailCode::MissingParameters, Some((*name).to_owned()))
            }
            Self::Invalid { .. } | Self::Exclusive(..) => {
                Failure::new(FailCode::InvalidParameters, Some(self.to_string()))
            }
        }
    }
}

/// `Param` helpers, each naming the parameter in its error.
fn required<'a>(name: &'static str, value: Option<&'a Param>) -> Result<&'a Param, ParamError> {
    value.ok_or(ParamError::Missing(name))
}

fn parse_bool(name: &'static str, value: &Param) -> Result<bool, ParamError> {
    match value.as_str().trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        text if text.eq_ignore_ascii_case("true") => Ok(true),
        text if text.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ParamError::invalid(name, Problem::NotBoolean)),
    }
}

fn parse_int(name: &'static str, value: &Param, min: u64, max: u64) -> Result<u64, ParamError> {
    let text = value.as_str().trim();
    text.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| text.parse::<u64>().ok())
        .flatten()
        .filter(|n| (min..=max).contains(n))
        .ok_or(ParamError::invalid(name, Problem::OutOfRange { min, max }))
}

fn parse_u32(name: &'static str, value: &Param, min: u32, max: u32) -> Result<u32, ParamError> {
    let n = parse_int(name, value, u64::from(min), u64::from(max))?;
    u32::try_from(n).map_err(|_| {
        ParamError::invalid(
            name,
            Problem::OutOfRange {
                min: min.into(),
                max: max.into(),
            },
        )
    })
}

/// Non-empty text of at most `max` characters, trimmed.
fn text(name: &'static str, value: &Param, max: usize) -> Result<String, ParamError> {
    let trimmed = value.as_str().trim();
    if trimmed.is_empty() {
        return Err(ParamError::invalid(name, Problem::Empty));
    }
    super::checked_text(trimmed, max).ok_or(ParamError::invalid(name, Problem::TooLong(max)))
}

/// Text that may be empty (to clear a field): at most `max` characters, no control
/// characters except newlines (notes are multi-line).
fn clearable_text(name: &'static str, value: &Param, max: usize) -> Result<String, ParamError> {
    let text = value.as_str();
    if text.chars().count() > max || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ParamError::invalid(name, Problem::TooLong(max)));
    }
    Ok(text.trim().to_owned())
}

fn email(name: &'static str, value: &Param) -> Result<String, ParamError> {
    let email = clearable_text(name, value, MAX_NAME_CHARS)?;
    if email.is_empty() {
        return Ok(email);
    }
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !email.chars().any(char::is_whitespace)
    });
    if well_formed {
        Ok(email)
    } else {
        Err(ParamError::invalid(name, Problem::NotEmail))
    }
}

fn settable_status(name: &'static str, value: &Param) -> Result<UserStatus, ParamError> {
    let status = UserStatus::parse(value.as_str().trim())
        .ok_or(ParamError::invalid(name, Problem::UnknownValue))?;
    if status.is_settable() {
        Ok(status)
    } else {
        Err(ParamError::invalid(name, Problem::NotSettable))
    }
}

fn map_opt<T>(
    value: Option<&Param>,
    parse: impl FnOnce(&Param) -> Result<T, ParamError>,
) -> Result<Option<T>, ParamError> {
    value.map(parse).transpose()
}

/// Paging parameters of every list endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<Param>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1 to [`MAX_PAGE_LIMIT`]; a larger `limit` is lowered to it, as Duo does.
    pub limit: u32,
    pub offset: u64,
}

impl TryFrom<&PageParams> for Page {
    type Error = ParamError;

    fn try_from(params: &PageParams) -> Result<Self, Self::Error> {
        let limit = map_opt(params.limit.as_ref(), |v| {
            parse_u32("limit", v, 1, u32::MAX).map(|limit| limit.min(MAX_PAGE_LIMIT))
        })?
        .unwrap_or(DEFAULT_PAGE_LIMIT);
        let offset = map_opt(params.offset.as_ref(), |v| {
            parse_int("offset", v, 0, i64::MAX.unsigned_abs())
        })?
        .unwrap_or(0);
        Ok(Self { limit, offset })
    }
}

/// `POST /admin/v1/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUserParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realname: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Param>,
}

/// A checked new user. Empty optional text is kept as empty (Duo's "not set").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub realname: String,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub email: String,
    /// `active` unless given.
    pub status: UserStatus,
    pub notes: String,
}

impl TryFrom<&CreateUserParams> for NewUser {
    type Error = ParamError;

    fn try_from(params: &CreateUserParams) -> Result<Self, Self::Error> {
        Ok(Self {
            username: text(
                "username",
                required("username", params.username.as_ref())?,
                MAX_NAME_CHARS,
            )?,
            realname: map_opt(params.realname.as_ref(), |v| {
                clearable_text("realname", v, MAX_NAME_CHARS)
            })?
            .unwrap_or_default(),
            firstname: map_opt(params.firstname.as_ref(), |v| {
                clearable_text("firstname", v, MAX_NAME_CHARS)
            })?,
            lastname: map_opt(params.lastname.as_ref(), |v| {
                clearable_text("lastname", v, MAX_NAME_CHARS)
            })?,
            email: map_opt(params.email.as_ref(), |v| email("email", v))?.unwrap_or_default(),
            status: map_opt(params.status.as_ref(), |v| settable_status("status", v))?
                .unwrap_or(UserStatus::Active),
            notes: map_opt(params.notes.as_ref(), |v| {
                clearable_text("notes", v, MAX_NOTES_CHARS)
            })?
            .unwrap_or_default(),
        })
    }
}

/// `POST /admin/v1/users/{user_id}`: only the parameters given change.
pub type ModifyUserParams = CreateUserParams;

/// A checked modification: `None` leaves a field as it is; `Some("")` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub username: Option<String>,
    pub realname: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub email: Option<String>,
    /// `active` also unlocks a locked-out user.
    pub status: Option<UserStatus>,
    pub notes: Option<String>,
}

impl TryFrom<&ModifyUserParams> for UserChanges {
    type Error = ParamError;

    fn try_from(params: &ModifyUserParams) -> Result<Self, Self::Error> {
        Ok(Self {
            username: map_opt(params.username.as_ref(), |v| {
                text("username", v, MAX_NAME_CHARS)
            })?,
            realname: map_opt(params.realname.as_ref(), |v| {
                clearable_text("realname", v, MAX_NAME_CHARS)
            })?,
            firstname: map_opt(params.firstname.as_ref(), |v| {
                clearable_text("firstname", v, MAX_NAME_CHARS)
            })?,
            lastname: map_opt(params.lastname.as_ref(), |v| {
                clearable_text("lastname", v, MAX_NAME_CHARS)
            })?,
            email: map_opt(params.email.as_ref(), |v| email("email", v))?,
            status: map_opt(params.status.as_ref(), |v| settable_status("status", v))?,
            notes: map_opt(params.notes.as_ref(), |v| {
                clearable_text("notes", v, MAX_NOTES_CHARS)
            })?,
        })
    }
}

/// `POST /admin/v1/phones`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatePhoneParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Param>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub phone_type: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predelay: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postdelay: Option<Param>,
}

/// A checked new phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPhone {
    /// `None` for a device without a number.
    pub number: Option<PhoneNumber>,
    /// Digits only.
    pub extension: Option<String>,
    pub name: String,
    /// `Unknown` unless given.
    pub phone_type: PhoneType,
    /// `Unknown` unless given.
    pub platform: PhonePlatform,
    /// Seconds to wait after pickup before dialling the extension.
    pub predelay: Option<u32>,
    /// Seconds to wait after the extension before speaking.
    pub postdelay: Option<u32>,
}

/// The longest extension, and the longest dialling delay in seconds.
const MAX_EXTENSION_DIGITS: usize = 10;
const MAX_DELAY_SECONDS: u32 = 60;

impl TryFrom<&CreatePhoneParams> for NewPhone {
    type Error = ParamError;

    fn try_from(params: &CreatePhoneParams) -> Result<Self, Self::Error> {
        let number = match params.number.as_ref().map(|v| v.as_str().trim()) {
            None | Some("") => None,
            Some(number) => Some(
                PhoneNumber::parse(number)
                    .map_err(|e| ParamError::invalid("number", Problem::Phone(e)))?,
            ),
        };
        let extension = match params.extension.as_ref().map(|v| v.as_str().trim()) {
            None | Some("") => None,
            Some(ext)
                if ext.len() <= MAX_EXTENSION_DIGITS && ext.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(ext.to_owned())
            }
            Some(_) => {
                return Err(ParamError::invalid(
                    "extension",
                    Problem::TooLong(MAX_EXTENSION_DIGITS),
                ));
            }
        };
        Ok(Self {
            number,
            extension,
            name: map_opt(params.name.as_ref(), |v| {
                clearable_text("name", v, MAX_NAME_CHARS)
            })?
            .unwrap_or_default(),
            phone_type: map_opt(params.phone_type.as_ref(), |v| {
                PhoneType::parse(v.as_str())
                    .ok_or(ParamError::invalid("type", Problem::UnknownValue))
            })?
            .unwrap_or(PhoneType::Unknown),
            platform: map_opt(params.platform.as_ref(), |v| {
                PhonePlatform::parse(v.as_str())
                    .ok_or(ParamError::invalid("platform", Problem::UnknownValue))
            })?
            .unwrap_or(PhonePlatform::Unknown),
            predelay: map_opt(params.predelay.as_ref(), |v| {
                parse_u32("predelay", v, 0, MAX_DELAY_SECONDS)
            })?,
            postdelay: map_opt(params.postdelay.as_ref(), |v| {
                parse_u32("postdelay", v, 0, MAX_DELAY_SECONDS)
            })?,
        })
    }
}

/// `POST /admin/v1/tokens`. Holds key material: redacted from `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTokenParams {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub token_type: Option<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<Param>,
    /// `h*`/`t*`: the OATH key, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Param>,
    /// `h*`: the HOTP counter (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<Param>,
    /// `t*`: seconds per step (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_step: Option<Param>,
    /// `yk`: the 6-byte private id, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_id: Option<Param>,
    /// `yk`: the AES-128 key, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aes_key: Option<Param>,
}

impl fmt::Debug for CreateTokenParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |p: &Option<Param>| p.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("CreateTokenParams")
            .field("token_type", &self.token_type)
            .field("serial", &self.serial)
            .field("secret", &redacted(&self.secret))
            .field("counter", &self.counter)
            .field("totp_step", &self.totp_step)
            .field("private_id", &redacted(&self.private_id))
            .field("aes_key", &redacted(&self.aes_key))
            .finish()
    }
}

/// A token's key material, checked.
#[derive(Debug, Clone)]
pub enum TokenSecret {
    Hotp {
        key: OtpKey,
        counter: u64,
    },
    Totp(Totp),
    Yubikey {
        private_id: PrivateId,
        aes_key: AesKey,
    },
}

/// A checked new token (no `PartialEq`: it holds keys).
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token_type: TokenType,
    pub serial: String,
    pub secret: TokenSecret,
}

/// The shortest and longest seconds per TOTP step.
const TOTP_STEP_RANGE: (u32, u32) = (1, 300);

impl TryFrom<&CreateTokenParams> for NewToken {
    type Error = ParamError;

    fn try_from(params: &CreateTokenParams) -> Result<Self, Self::Error> {
        let token_type = TokenType::parse(
            required("type", params.token_type.as_ref())?
                .as_str()
                .trim(),
        )
        .ok_or(ParamError::invalid("type", Problem::UnknownValue))?;
        let serial = text(
            "serial",
            required("serial", params.serial.as_ref())?,
            MAX_NAME_CHARS,
        )?;
        let not_applicable = |name: &'static str, value: &Option<Param>| match value {
            Some(_) => Err(ParamError::invalid(name, Problem::NotApplicable)),
            None => Ok(()),
        };
        let secret = match token_type.digits() {
            Some(digits) => {
                not_applicable("private_id", &params.private_id)?;
                not_applicable("aes_key", &params.aes_key)?;
                let hex = required("secret", params.secret.as_ref())?;
                let bytes = data_encoding::HEXLOWER_PERMISSIVE
                    .decode(hex.as_str().trim().as_bytes())
                    .map_err(|_| ParamError::invalid("secret", Problem::NotHex("10 or more")))?;
                let key = OtpKey::new(SecretBytes::new(bytes), Algorithm::Sha1, digits)
                    .map_err(|_| ParamError::invalid("secret", Problem::BadKey))?;
                if matches!(token_type, TokenType::H6 | TokenType::H8) {
                    not_applicable("totp_step", &params.totp_step)?;
                    let counter = map_opt(params.counter.as_ref(), |v| {
                        parse_int("counter", v, 0, u64::MAX)
                    })?
                    .unwrap_or(0);
                    TokenSecret::Hotp { key, counter }
                } else {
                    not_applicable("counter", &params.counter)?;
                    let (min, max) = TOTP_STEP_RANGE;
                    let step = map_opt(params.totp_step.as_ref(), |v| {
                        parse_u32("totp_step", v, min, max)
                    })?
                    .unwrap_or(30);
                    TokenSecret::Totp(Totp::new(key, u64::from(step)))
                }
            }
            None => {
                not_applicable("secret", &params.secret)?;
                not_applicable("counter", &params.counter)?;
                not_applicable("totp_step", &params.totp_step)?;
                let private_id = PrivateId::from_hex(
                    required("private_id", params.private_id.as_ref())?
                        .as_str()
                        .trim(),
                )
                .map_err(|_| ParamError::invalid("private_id", Problem::NotHex("6")))?;
                let aes_key = AesKey::from_hex(
                    required("aes_key", params.aes_key.as_ref())?
                        .as_str()
                        .trim(),
                )
                .map_err(|_| ParamError::invalid("aes_key", Problem::NotHex("16")))?;
                TokenSecret::Yubikey {
                    private_id,
                    aes_key,
                }
            }
        };
        Ok(Self {
            token_type,
            serial,
            secret,
        })
    }
}

/// `POST /admin/v1/users/{user_id}/bypass_codes`. `codes` is redacted from `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateBypassCodesParams {
    /// How many codes to draw, 1 to 10 (default 10). Exclusive with `codes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Param>,
    /// Codes to store, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<Param>,
    /// Uses per code; `0` is unlimited (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_count: Option<Param>,
    /// Seconds until the codes expire; `0` is never (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_secs: Option<Param>,
    /// Keep the user's existing codes (by default they are replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_existing: Option<Param>,
}

impl fmt::Debug for CreateBypassCodesParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateBypassCodesParams")
            .field("count", &self.count)
            .field("codes", &self.codes.as_ref().map(|_| "[REDACTED]"))
            .field("reuse_count", &self.reuse_count)
            .field("valid_secs", &self.valid_secs)
            .field("preserve_existing", &self.preserve_existing)
            .finish()
    }
}

/// Where the new codes come from.
#[derive(Debug, Clone)]
pub enum BypassCodeSource {
    /// Draw this many (1 to 10).
    Generate(u8),
    /// Store these (1 to 10, distinct).
    Given(Vec<BypassCode>),
}

/// A checked bypass-code request.
#[derive(Debug, Clone)]
pub struct BypassCodeOrder {
    pub source: BypassCodeSource,
    pub uses: bypass::Uses,
    /// `None`: the codes never expire.
    pub valid_secs: Option<NonZeroU32>,
    pub preserve_existing: bool,
}

impl BypassCodeOrder {
    /// When codes issued at `now` (Unix seconds) stop working, for `StoredBypassCode`.
    pub fn expires_at(&self, now: i64) -> Option<i64> {
        self.valid_secs
            .map(|secs| now.saturating_add(i64::from(secs.get())))
    }
}

impl TryFrom<&CreateBypassCodesParams> for BypassCodeOrder {
    type Error = ParamError;

    fn try_from(params: &CreateBypassCodesParams) -> Result<Self, Self::Error> {
        let max = u64::from(MAX_BYPASS_CODES);
        let source = match (&params.count, &params.codes) {
            (Some(_), Some(_)) => return Err(ParamError::Exclusive("count", "codes")),
            (Some(count), None) => {
                let count = parse_int("count", count, 1, max)?;
                BypassCodeSource::Generate(u8::try_from(count).unwrap_or(MAX_BYPASS_CODES))
            }
            (None, None) => BypassCodeSource::Generate(MAX_BYPASS_CODES),
            (None, Some(codes)) => {
                let mut parsed: Vec<BypassCode> = Vec::new();
                for code in codes.as_str().split(',') {
                    let code = BypassCode::parse(code.trim())
                        .map_err(|_| ParamError::invalid("codes", Problem::BadBypassCode))?;
                    if parsed
                        .iter()
                        .any(|c| c.expose_secret() == code.expose_secret())
                    {
                        return Err(ParamError::invalid("codes", Problem::Duplicate));
                    }
                    if parsed.len() >= usize::from(MAX_BYPASS_CODES) {
                        return Err(ParamError::invalid(
                            "codes",
                            Problem::OutOfRange { min: 1, max },
                        ));
                    }
                    parsed.push(code);
                }
                BypassCodeSource::Given(parsed)
            }
        };
        let uses = match map_opt(params.reuse_count.as_ref(), |v| {
            parse_u32("reuse_count", v, 0, u32::MAX)
        })? {
            None | Some(1) => bypass::Uses::Single,
            Some(n) => NonZeroU32::new(n).map_or(bypass::Uses::Unlimited, bypass::Uses::Limited),
        };
        let valid_secs = map_opt(params.valid_secs.as_ref(), |v| {
            parse_u32("valid_secs", v, 0, u32::MAX)
        })?
        .and_then(NonZeroU32::new);
        let preserve_existing = map_opt(params.preserve_existing.as_ref(), |v| {
            parse_bool("preserve_existing", v)
        })?
        .unwrap_or(false);
        Ok(Self {
            source,
            uses,
            valid_secs,
            preserve_existing,
        })
    }
}

#[cfg(test)]
mod tests;
