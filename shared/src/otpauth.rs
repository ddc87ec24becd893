//! `otpauth://` key URIs, as in Google Authenticator's "Key Uri Format": what an enrolment
//! QR code carries so that any standard authenticator app can hold a TOTP or HOTP key.
//!
//! ```text
//! otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDM…&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30
//! otpauth://hotp/ACME%20Co:john.doe@email.com?secret=HXDM…&issuer=ACME%20Co&algorithm=SHA1&digits=6&counter=0
//! ```
//!
//! This module owns both directions. [`KeyUri::to_uri`] writes the label as
//! `issuer:account` and every parameter, percent-encoded (RFC 3986 unreserved characters
//! kept, and `@` in the label). [`KeyUri::parse`] reads URIs from other issuers (untrusted
//! input, fuzzed): the label's colon may be literal or `%3A` and may be followed by
//! spaces, parameter names and values are form-decoded (`+` is a space, as in pyotp),
//! unknown parameters are ignored, and anything ambiguous is refused: a repeated
//! parameter, an issuer prefix that differs from the `issuer` parameter, a colon inside
//! the issuer or the account. The key itself goes through [`OtpKey`]'s own rules (at
//! least 80 bits, 6 to 8 digits).
//!
//! The URI contains the secret, so [`KeyUri::to_uri`] returns a [`SecretString`].

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::otp::{Algorithm, OtpKey, Totp};
use crate::{SecretBytes, SecretString};

/// The longest URI [`KeyUri::parse`] reads; a QR code holds less than 3 KB anyway.
pub const MAX_URI_LEN: usize = 4096;

/// The longest issuer or account name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// The longest secret, in bytes (1024 bits, the SHA-512 block size). With the name limit
/// this keeps every URI [`KeyUri::to_uri`] writes under [`MAX_URI_LEN`].
pub const MAX_SECRET_LEN: usize = 128;

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// In the label `@` may stay too (it is a path character), as in `john.doe@email.com`.
const LABEL: &AsciiSet = &VALUE.remove(b'@');

/// Which OTP the key produces, with its moving factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtpKind {
    /// RFC 6238, `period` seconds per step.
    Totp { period: u64 },
    /// RFC 4226, starting at `counter`.
    Hotp { counter: u64 },
}

/// Why a key URI was refused (when parsing) or could not be made.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtpauthError {
    #[error("the URI is longer than {MAX_URI_LEN} bytes")]
    TooLong,
    #[error("not an otpauth:// URI")]
    NotOtpauth,
    #[error("the OTP type must be totp or hotp")]
    UnknownType,
    #[error("the URI has a fragment or an unreadable query")]
    Malformed,
    #[error(
        "the label must be an account name of at most {MAX_NAME_LEN} bytes, optionally after `issuer:`, without colons or control characters"
    )]
    BadLabel,
    #[error("the issuer must be 1 to {MAX_NAME_LEN} bytes, without colons or control characters")]
    BadIssuer,
    #[error("the issuer in the label differs from the issuer parameter")]
    IssuerMismatch,
    #[error("the {0} parameter appears more than once")]
    DuplicateParameter(&'static str),
    #[error("the secret parameter is missing")]
    MissingSecret,
    #[error("the secret is not base32, or is shorter than 80 bits or longer than 1024")]
    BadSecret,
    #[error("the algorithm must be SHA1, SHA256 or SHA512")]
    BadAlgorithm,
    #[error("digits must be 6, 7 or 8")]
    BadDigits,
    #[error("the period must be a whole number of seconds above zero")]
    BadPeriod,
    #[error("an hotp URI needs a counter parameter")]
    MissingCounter,
    #[error("the counter must be a whole number")]
    BadCounter,
}

/// An OTP key with everything an authenticator app shows and needs: the contents of an
/// `otpauth://` URI, checked.
#[derive(Clone)]
pub struct KeyUri {
    kind: OtpKind,
    issuer: Option<String>,
    account: String,
    algorithm: Algorithm,
    digits: u8,
    secret: SecretBytes,
    key: OtpKey,
}

impl fmt::Debug for KeyUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyUri")
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl KeyUri {
    /// A key URI for `account` at `issuer`. Refuses what [`KeyUri::parse`] would refuse:
    /// colons or control characters in the names, an empty account, names over
    /// [`MAX_NAME_LEN`], a TOTP period of 0, secrets over [`MAX_SECRET_LEN`], and keys
    /// [`OtpKey::new`] refuses.
    pub fn new(
        kind: OtpKind,
        issuer: Option<&str>,
        account: &str,
        secret: SecretBytes,
        algorithm: Algorithm,
        digits: u8,
    ) -> Result<Self, OtpauthError> {
        if let Some(issuer) = issuer
            && (issuer.is_empty() || !plain_name(issuer))
        {
            return Err(OtpauthError::BadIssuer);
        }
        // A leading space would be read back as the optional spaces after the colon.
        if account.is_empty() || account.starts_with(' ') || !plain_name(account) {
            return Err(OtpauthError::BadLabel);
        }
        if kind == (OtpKind::Totp { period: 0 }) {
            return Err(OtpauthError::BadPeriod);
        }
        if !(6..=8).contains(&digits) {
            return Err(OtpauthError::BadDigits);
        }
        if secret.expose_secret().len() > MAX_SECRET_LEN {
            return Err(OtpauthError::BadSecret);
        }
        let key =
            OtpKey::new(secret.clone(), algorithm, digits).map_err(|_| OtpauthError::BadSecret)?;
        Ok(Self {
            kind,
            issuer: issuer.map(str::to_owned),
            account: account.to_owned(),
            algorithm,
            digits,
            secret,
            key,
        })
    }

    /// Reads an `otpauth://` URI (see the module docs for what is accepted).
    pub fn parse(uri: &str) -> Result<Self, OtpauthError> {
        if uri.len() > MAX_URI_LEN {
            return Err(OtpauthError::TooLong);
        }
        let rest = strip_prefix_ignore_case(uri, "otpauth://").ok_or(OtpauthError::NotOtpauth)?;
        if rest.contains('#') {
            return Err(OtpauthError::Malformed);
        }
        let (kind_name, rest) = rest.split_once('/').ok_or(OtpauthError::BadLabel)?;
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (label_issuer, account) = parse_label(label)?;
        let params = Params::parse(query)?;

        let kind = if kind_name.eq_ignore_ascii_case("totp") {
            let period = match params.period {
                None => Totp::DEFAULT_PERIOD,
                Some(text) => number(&text)
                    .filter(|&p| p > 0)
                    .ok_or(OtpauthError::BadPeriod)?,
            };
            OtpKind::Totp { period }
        } else if kind_name.eq_ignore_ascii_case("hotp") {
            let text = params.counter.ok_or(OtpauthError::MissingCounter)?;
            OtpKind::Hotp {
                counter: number(&text).ok_or(OtpauthError::BadCounter)?,
            }
        } else {
            return Err(OtpauthError::UnknownType);
        };

        let algorithm = match params.algorithm.as_deref() {
            None => Algorithm::Sha1,
            Some(name) if name.eq_ignore_ascii_case("SHA1") => Algorithm::Sha1,
            Some(name) if name.eq_ignore_ascii_case("SHA256") => Algorithm::Sha256,
            Some(name) if name.eq_ignore_ascii_case("SHA512") => Algorithm::Sha512,
            Some(_) => return Err(OtpauthError::BadAlgorithm),
        };
        let digits = match params.digits {
            None => 6,
            Some(text) => number(&text).ok_or(OtpauthError::BadDigits)?,
        };

        // An empty issuer parameter says nothing; the label's prefix may still name one.
        let issuer_param = params.issuer.filter(|issuer| !issuer.is_empty());
        let issuer = match (label_issuer, issuer_param) {
            (Some(from_label), Some(param)) if from_label != param => {
                return Err(OtpauthError::IssuerMismatch);
            }
            (from_label, param) => param.or(from_label),
        };

        let secret = params.secret.ok_or(OtpauthError::MissingSecret)?;
        let secret = decode_base32(&secret).ok_or(OtpauthError::BadSecret)?;
        Self::new(kind, issuer.as_deref(), &account, secret, algorithm, digits)
    }

    /// The URI, parameters in the order of Google's example: `secret`, `issuer`,
    /// `algorithm`, `digits`, then `period` or `counter`.
    pub fn to_uri(&self) -> SecretString {
        let (kind, factor) = match self.kind {
            OtpKind::Totp { period } => ("totp", format!("period={period}")),
            OtpKind::Hotp { counter } => ("hotp", format!("counter={counter}")),
        };
        let account = utf8_percent_encode(&self.account, LABEL);
        let (label, issuer_param) = match &self.issuer {
            Some(issuer) => (
                format!("{}:{account}", utf8_percent_encode(issuer, LABEL)),
                format!("&issuer={}", utf8_percent_encode(issuer, VALUE)),
            ),
            None => (account.to_string(), String::new()),
        };
        let secret =
            Zeroizing::new(data_encoding::BASE32_NOPAD.encode(self.secret.expose_secret()));
        let algorithm = match self.algorithm {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        };
        SecretString::new(format!(
            "otpauth://{kind}/{label}?secret={}{issuer_param}&algorithm={algorithm}&digits={}&{factor}",
            secret.as_str(),
            self.digits,
        ))
    }

    pub fn kind(&self) -> OtpKind {
        self.kind
    }

    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    pub fn secret(&self) -> &SecretBytes {
        &self.secret
    }

    /// The key, ready for [`OtpKey::hotp`] or a [`Totp`].
    pub fn key(&self) -> &OtpKey {
        &self.key
    }

    /// The TOTP generator/verifier of a `totp` URI; `None` for `hotp`.
    pub fn totp(&self) -> Option<Totp> {
        match self.kind {
            OtpKind::Totp { period } => Some(Totp::new(self.key.clone(), period)),
            OtpKind::Hotp { .. } => None,
        }
    }
}

/// Neither issuer nor account may contain a colon (the label's separator), and control
/// characters have no business in a name an app displays.
fn plain_name(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN && !name.chars().any(|c| c == ':' || c.is_control())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// `label = accountname / issuer (":" / "%3A") *"%20" accountname`, percent-decoded.
fn parse_label(label: &str) -> Result<(Option<String>, String), OtpauthError> {
    let decoded = percent_decode_str(label)
        .decode_utf8()
        .map_err(|_| OtpauthError::BadLabel)?;
    let (issuer, account) = match decoded.split_once(':') {
        Some((issuer, account)) => (Some(issuer), account.trim_start_matches(' ')),
        None => (None, decoded.as_ref()),
    };
    if account.is_empty() || !plain_name(account) {
        return Err(OtpauthError::BadLabel);
    }
    if let Some(issuer) = issuer
        && (issuer.is_empty() || !plain_name(issuer))
    {
        return Err(OtpauthError::BadLabel);
    }
    Ok((issuer.map(str::to_owned), account.to_owned()))
}

/// The parameters this module reads, each at most once.
#[derive(Default)]
struct Params {
    secret: Option<Zeroizing<String>>,
    issuer: Option<String>,
    algorithm: Option<String>,
    digits: Option<String>,
    period: Option<String>,
    counter: Option<String>,
}

impl Params {
    fn parse(query: &str) -> Result<Self, OtpauthError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|_| OtpauthError::Malformed)?;
        let mut params = Self::default();
        for (name, value) in pairs {
            let name = name.to_ascii_lowercase();
            let (slot, label) = match name.as_str() {
                "secret" => {
                    set(&mut params.secret, Zeroizing::new(value), "secret")?;
                    continue;
                }
                "issuer" => (&mut params.issuer, "issuer"),
                "algorithm" => (&mut params.algorithm, "algorithm"),
                "digits" => (&mut params.digits, "digits"),
                "period" => (&mut params.period, "period"),
                "counter" => (&mut params.counter, "counter"),
                // image, color and the like: not ours to interpret.
                _ => continue,
            };
            set(slot, value, label)?;
        }
        Ok(params)
    }
}

fn set<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), OtpauthError> {
    if slot.is_some() {
        return Err(OtpauthError::DuplicateParameter(name));
    }
    *slot = Some(value);
    Ok(())
}

/// A decimal number written with digits only (no sign, no spaces), as the format has it.
fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// RFC 4648 base32 as apps accept it: padding optional, case and spaces ignored.
fn decode_base32(text: &str) -> Option<SecretBytes> {
    let cleaned: Zeroizing<String> = Zeroizing::new(
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    );
    data_encoding::BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .ok()
        .map(SecretBytes::new)
}

#[cfg(test)]
mod tests;
