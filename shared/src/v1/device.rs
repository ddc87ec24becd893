//! The authenticator API (`/device/v1/*`): activation, the pushes a device is asked to
//! answer, and its signed answers.
//!
//! Activation is authenticated by the activation code alone: a bearer secret that the edge
//! shows once (QR code, link or typed), stores only as [`ActivationCode::lookup_key`], lets
//! expire and accepts once. The device sends it with its Ed25519 public key and receives
//! its id and TOTP seed; every later request is authenticated by that key
//! ([`DeviceApproval`], `shared::approval`).
//!
//! Activation codes are 20 symbols of Crockford's base32 (`0-9 A-Z` without `I L O U`),
//! 100 bits drawn by the caller, shown as `XXXXX-XXXXX-XXXXX-XXXXX`. [`ActivationCode::parse`]
//! reads what a person typed or a QR code carried (untrusted input, fuzzed): case is
//! ignored, spaces and hyphens are dropped, and the letters people confuse with digits are
//! read as Crockford decodes them (`O` as `0`, `I` and `L` as `1`).

use std::fmt;
use std::net::IpAddr;

use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::checked_text;
use crate::approval::{DevicePublicKey, KeyError};
use crate::otp::{self, OtpError, OtpKey, Totp};
use crate::{SecretBytes, SecretString};

/// Path prefix of the authenticator API.
pub const DEVICE_PREFIX: &str = "/device/v1";
/// `POST` [`ActivationRequest`] → [`ActivationResponse`], authenticated by the activation
/// code in the body.
pub const DEVICE_ACTIVATE: &str = "/device/v1/activate";
/// `GET` → [`PendingPushes`]. A WebSocket upgrade on the same path delivers each new
/// [`PushRequest`] as one JSON text message instead.
pub const DEVICE_PUSHES: &str = "/device/v1/pushes";
/// `POST` [`DeviceApproval`]: the device's signed answer to a push.
pub const DEVICE_APPROVAL: &str = "/device/v1/approval";

/// Symbols in an activation code.
pub const ACTIVATION_CODE_LEN: usize = 20;
/// Random bytes [`ActivationCode::generate`] takes: 5 bits of each.
pub const ACTIVATION_RANDOM_BYTES: usize = 20;
/// The longest input [`ActivationCode::parse`] reads, separators included.
pub const MAX_ACTIVATION_INPUT: usize = 64;
/// The longest device name or platform, in characters.
pub const MAX_DEVICE_NAME_CHARS: usize = 64;
/// The longest application name or username a push carries, in characters.
pub const MAX_PUSH_TEXT_CHARS: usize = 256;
/// Digits of a Verified Push code: 3 by default, up to 6 when policy asks.
pub const VERIFIED_CODE_LENGTHS: std::ops::RangeInclusive<u8> = 3..=6;

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Domain separation of [`ActivationCode::lookup_key`].
const LOOKUP_DOMAIN: &[u8] = b"tessera-activation-v1\0";

/// Why an activation code was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActivationCodeError {
    #[error("enter the activation code")]
    Empty,
    #[error("an activation code has at most {MAX_ACTIVATION_INPUT} characters")]
    InputTooLong,
    #[error("{0:?} is not allowed in an activation code")]
    InvalidCharacter(char),
    #[error("an activation code has {ACTIVATION_CODE_LEN} letters and digits, not {0}")]
    WrongLength(usize),
}

/// An activation code in canonical form (20 symbols, upper case, no separators). A bearer
/// secret until used: redacted from `Debug`, wiped on drop, never serialized.
#[derive(Clone)]
pub struct ActivationCode(SecretString);

impl ActivationCode {
    /// A fresh code from `random` (bytes from a CSPRNG): the low 5 bits of each byte pick
    /// a symbol, so every symbol is uniform (256 is a multiple of 32).
    pub fn generate(random: &[u8; ACTIVATION_RANDOM_BYTES]) -> Self {
        let code = random
            .iter()
            .map(|&b| char::from(ALPHABET.get(usize::from(b & 0x1f)).copied().unwrap_or(b'0')))
            .collect();
        Self(SecretString::new(code))
    }

    /// Reads a code as typed or scanned (see the module docs).
    pub fn parse(input: &str) -> Result<Self, ActivationCodeError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(ActivationCodeError::Empty);
        }
        if input.chars().count() > MAX_ACTIVATION_INPUT {
            return Err(ActivationCodeError::InputTooLong);
        }
        let mut code = String::with_capacity(ACTIVATION_CODE_LEN);
        for c in input.chars() {
            let symbol = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                upper if upper.is_ascii() && ALPHABET.contains(&(upper as u8)) => upper,
                _ => return Err(ActivationCodeError::InvalidCharacter(c)),
            };
            code.push(symbol);
        }
        let code = SecretString::new(code);
        match code.expose_secret().len() {
            ACTIVATION_CODE_LEN => Ok(Self(code)),
            0 => Err(ActivationCodeError::Empty),
            other => Err(ActivationCodeError::WrongLength(other)),
        }
    }

    /// The canonical 20 symbols.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// For showing: `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub fn to_display(&self) -> SecretString {
        let code = self.expose_secret();
        let mut out = String::with_capacity(ACTIVATION_CODE_LEN + 3);
        for (i, c) in code.chars().enumerate() {
            if i > 0 && i % 5 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        SecretString::new(out)
    }

    /// What the edge stores and looks the code up by: SHA-256 over a domain prefix and the
    /// canonical code. 100 random bits need no salt or pepper, and a leaked table gives no
    /// usable code.
    pub fn lookup_key(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(LOOKUP_DOMAIN);
        hash.update(self.expose_secret().as_bytes());
        hash.finalize().into()
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode([REDACTED])")
    }
}

/// A device activates: the code it was given, its Ed25519 public key and its name.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationRequest {
    /// As typed or scanned; see [`ActivationCode::parse`]. Redacted from `Debug`.
    pub activation_code: String,
    /// base64url without padding: the device's 32-byte Ed25519 public key.
    pub public_key: String,
    /// What the user calls the device ("iPhone", "work laptop").
    pub device_name: String,
    /// The device's operating system or kind, free text ("iOS 18", "tessera-device").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The realm the code was issued in, as the activation link says. Tessera keeps a
    /// code in the account it binds, so the edge needs both to find it; a code presented
    /// for another realm or user is refused like an unknown one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// The user the code was issued for, as the activation link says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl fmt::Debug for ActivationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivationRequest")
            .field("activation_code", &"[REDACTED]")
            .field("public_key", &self.public_key)
            .field("device_name", &self.device_name)
            .field("platform", &self.platform)
            .field("realm", &self.realm)
            .field("username", &self.username)
            .finish()
    }
}

/// Why an activation request was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActivationError {
    #[error("activation code: {0}")]
    Code(#[from] ActivationCodeError),
    #[error("public key: {0}")]
    PublicKey(#[from] KeyError),
    #[error(
        "the device name must be 1 to {MAX_DEVICE_NAME_CHARS} characters without control characters"
    )]
    DeviceName,
    #[error(
        "the platform must be at most {MAX_DEVICE_NAME_CHARS} characters without control characters"
    )]
    Platform,
    #[error(
        "the realm and username must be 1 to {MAX_PUSH_TEXT_CHARS} characters without control characters"
    )]
    Account,
}

/// A checked [`ActivationRequest`]. The edge still has to find the code, check that it has
/// not expired and consume it, atomically.
#[derive(Debug, Clone)]
pub struct Activation {
    pub code: ActivationCode,
    pub public_key: DevicePublicKey,
    /// Trimmed.
    pub device_name: String,
    /// Trimmed; `None` when absent or blank.
    pub platform: Option<String>,
    /// As sent (not trimmed: names are compared exactly); `None` when absent.
    pub realm: Option<String>,
    pub username: Option<String>,
}

impl TryFrom<ActivationRequest> for Activation {
    type Error = ActivationError;

    fn try_from(wire: ActivationRequest) -> Result<Self, Self::Error> {
        let code = ActivationCode::parse(&wire.activation_code)?;
        let public_key = DevicePublicKey::from_base64url(wire.public_key.trim())?;
        let device_name = checked_text(&wire.device_name, MAX_DEVICE_NAME_CHARS)
            .ok_or(ActivationError::DeviceName)?;
        let platform = match wire.platform.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(platform) => Some(
                checked_text(platform, MAX_DEVICE_NAME_CHARS).ok_or(ActivationError::Platform)?,
            ),
        };
        let account_field = |value: Option<String>| match value {
            None => Ok(None),
            Some(value)
                if !value.is_empty()
                    && value.chars().count() <= MAX_PUSH_TEXT_CHARS
                    && !value.chars().any(char::is_control) =>
            {
                Ok(Some(value))
            }
            Some(_) => Err(ActivationError::Account),
        };
        Ok(Self {
            code,
            public_key,
            device_name,
            platform,
            realm: account_field(wire.realm)?,
            username: account_field(wire.username)?,
        })
    }
}

/// What an activated device needs: its id, whose device it is, and its TOTP seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationResponse {
    /// The id the device signs its approvals with (`DeviceApproval::device_id`).
    pub device_id: String,
    pub realm: String,
    pub username: String,
    pub totp: TotpProvision,
    /// The edge's base URL to use from now on, when it differs from the one activated at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_url: Option<String>,
}

/// The TOTP hash, by its `otpauth://` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TotpAlgorithm {
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
    #[serde(rename = "SHA512")]
    Sha512,
}

impl From<otp::Algorithm> for TotpAlgorithm {
    fn from(algorithm: otp::Algorithm) -> Self {
        match algorithm {
            otp::Algorithm::Sha1 => Self::Sha1,
            otp::Algorithm::Sha256 => Self::Sha256,
            otp::Algorithm::Sha512 => Self::Sha512,
        }
    }
}

impl From<TotpAlgorithm> for otp::Algorithm {
    fn from(algorithm: TotpAlgorithm) -> Self {
        match algorithm {
            TotpAlgorithm::Sha1 => Self::Sha1,
            TotpAlgorithm::Sha256 => Self::Sha256,
            TotpAlgorithm::Sha512 => Self::Sha512,
        }
    }
}

/// A TOTP seed with its parameters, as sent once at activation. The secret travels in
/// clear inside TLS only here; it is redacted from `Debug`. Convert with
/// `Totp::try_from(&provision)`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpProvision {
    /// RFC 4648 base32 without padding.
    pub secret_base32: String,
    pub algorithm: TotpAlgorithm,
    pub digits: u8,
    /// Seconds per step.
    pub period: u32,
}

impl TotpProvision {
    /// The wire form of a seed the edge drew.
    pub fn new(secret: &SecretBytes, algorithm: otp::Algorithm, digits: u8, period: u32) -> Self {
        Self {
            secret_base32: BASE32_NOPAD.encode(secret.expose_secret()),
            algorithm: algorithm.into(),
            digits,
            period,
        }
    }
}

impl fmt::Debug for TotpProvision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpProvision")
            .field("secret_base32", &"[REDACTED]")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish()
    }
}

/// Why a TOTP provision was refused by the device.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvisionError {
    #[error("the TOTP key is unusable: {0}")]
    Key(#[from] OtpError),
    #[error("the TOTP period must be 1 to 300 seconds")]
    Period,
}

impl TryFrom<&TotpProvision> for Totp {
    type Error = ProvisionError;

    fn try_from(wire: &TotpProvision) -> Result<Self, Self::Error> {
        if !(1..=300).contains(&wire.period) {
            return Err(ProvisionError::Period);
        }
        let key = OtpKey::from_base32(&wire.secret_base32, wire.algorithm.into(), wire.digits)?;
        Ok(Totp::new(key, u64::from(wire.period)))
    }
}

/// A push as the device shows it: who is signing in to what, from where, and whether the
/// user must type the code the prompt shows (Verified Push).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The transaction to answer (`DeviceApproval::txid`).
    pub txid: String,
    /// The application's name, as configured.
    pub application: String,
    pub username: String,
    /// The address of the browser that started the sign-in, as the platform saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default)]
    pub location: PushLocation,
    /// Unix seconds when the edge sent the push.
    pub time: i64,
    /// Unix seconds after which an answer is refused.
    pub expires_at: i64,
    /// Verified Push: the user types the code shown in the prompt.
    #[serde(default)]
    pub verified: bool,
    /// With `verified`: how many digits the code has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_length: Option<u8>,
}

/// Where the sign-in comes from, as far as the platform can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2, as the platform reports it (`T1` for Tor); the device shows
    /// the country's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The second kind of WebSocket message on [`DEVICE_PUSHES`]: a push the device was
/// shown is no longer answerable (answered elsewhere, cancelled by the prompt, expired).
/// A device tells the two apart by the field: a [`PushRequest`] has `txid`, this has
/// `withdrawn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushWithdrawn {
    /// The transaction id.
    pub withdrawn: String,
}

/// The pushes waiting for this device (the polling form of [`DEVICE_PUSHES`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPushes {
    pub pushes: Vec<PushRequest>,
}

/// Why a push was not shown.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    #[error("the transaction id is empty, too long or not printable ASCII")]
    InvalidTxid,
    #[error("`{0}` must be 1 to {MAX_PUSH_TEXT_CHARS} characters without control characters")]
    InvalidText(&'static str),
    #[error("`ip` is not an IP address")]
    InvalidIp,
    #[error("the push expires before it was sent")]
    ExpiresBeforeSent,
    #[error("a Verified Push needs a code length")]
    MissingCodeLength,
    #[error("a plain push carries no code length")]
    UnexpectedCodeLength,
    #[error("a Verified Push code has 3 to 6 digits, not {0}")]
    CodeLength(u8),
}

/// Whether the user just approves, or types the code the prompt shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushKind {
    Plain,
    Verified { code_length: u8 },
}

/// A checked [`PushRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub txid: String,
    pub application: String,
    pub username: String,
    pub ip: Option<IpAddr>,
    pub location: PushLocation,
    pub time: i64,
    pub expires_at: i64,
    pub kind: PushKind,
}

impl Push {
    /// Whether an answer given at `now` (Unix seconds) comes too late.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }

    /// The wire form the edge sends.
    pub fn to_wire(&self) -> PushRequest {
        let (verified, code_length) = match self.kind {
            PushKind::Plain => (false, None),
            PushKind::Verified { code_length } => (true, Some(code_length)),
        };
        PushRequest {
            txid: self.txid.clone(),
            application: self.application.clone(),
            username: self.username.clone(),
            ip: self.ip.map(|ip| ip.to_string()),
            location: self.location.clone(),
            time: self.time,
            expires_at: self.expires_at,
            verified,
            code_length,
        }
    }
}

impl TryFrom<PushRequest> for Push {
    type Error = PushError;

    fn try_from(wire: PushRequest) -> Result<Self, Self::Error> {
        if wire.txid.is_empty()
            || wire.txid.len() > crate::approval::MAX_TXID_LEN
            || !wire.txid.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(PushError::InvalidTxid);
        }
        let application = checked_text(&wire.application, MAX_PUSH_TEXT_CHARS)
            .ok_or(PushError::InvalidText("application"))?;
        let username = checked_text(&wire.username, MAX_PUSH_TEXT_CHARS)
            .ok_or(PushError::InvalidText("username"))?;
        let ip = wire
            .ip
            .as_deref()
            .map(|ip| ip.parse::<IpAddr>().map_err(|_| PushError::InvalidIp))
            .transpose()?;
        for (field, value) in [
            ("location.city", &wire.location.city),
            ("location.country", &wire.location.country),
        ] {
            if let Some(value) = value
                && checked_text(value, MAX_PUSH_TEXT_CHARS).is_none()
            {
                return Err(PushError::InvalidText(field));
            }
        }
        if wire.expires_at <= wire.time {
            return Err(PushError::ExpiresBeforeSent);
        }
        let kind = match (wire.verified, wire.code_length) {
            (false, None) => PushKind::Plain,
            (false, Some(_)) => return Err(PushError::UnexpectedCodeLength),
            (true, None) => return Err(PushError::MissingCodeLength),
            (true, Some(len)) if VERIFIED_CODE_LENGTHS.contains(&len) => {
                PushKind::Verified { code_length: len }
            }
            (true, Some(len)) => return Err(PushError::CodeLength(len)),
        };
        Ok(Self {
            txid: wire.txid,
            application,
            username,
            ip,
            location: wire.location,
            time: wire.time,
            expires_at: wire.expires_at,
            kind,
        })
    }
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

#[cfg(test)]
mod tests;
