//! Duo's signed requests (Auth API v2 and Admin API): canonicalization, signing and
//! verification of versions 2 (HMAC-SHA1 or HMAC-SHA512) and 5 (HMAC-SHA512 over body and
//! header hashes), as `duo_client` and `duo_api_golang` produce them (`PROTOCOL-DUO.md` §2.1).
//!
//! A request carries no version marker, so `verify` tries the candidates that fit the
//! signature's length. Signatures are compared by `Mac::verify_slice` (constant time).

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha512};
use thiserror::Error;

use crate::SecretString;

/// How far a request's date may be from the verifier's clock.
pub const MAX_DATE_SKEW_SECONDS: i64 = 300;

/// A signature scheme, as tried by `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2Sha1,
    V2Sha512,
    V5,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("the Authorization header is missing or not Basic")]
    MissingCredentials,
    #[error("the Authorization header is malformed")]
    MalformedCredentials,
    #[error("the request date is missing or malformed")]
    BadDate,
    #[error("the request date is more than {MAX_DATE_SKEW_SECONDS} s from now")]
    DateSkew,
    #[error("the signature does not match")]
    BadSignature,
}

/// The parts of an HTTP request that Duo signatures cover.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// Upper-cased by the canonicalization.
    pub method: &'a str,
    /// The API host as the client signed it: lower-cased, without port.
    pub host: &'a str,
    pub path: &'a str,
    /// Query parameters, or form fields of a form-encoded body; for a v5 JSON body, the
    /// query only.
    pub params: &'a [(String, String)],
    /// The raw body bytes, hashed as received (never re-serialized).
    pub body: &'a [u8],
    /// `X-Duo-Date` if present, else `Date`, verbatim.
    pub date: &'a str,
    /// The `X-Duo-*` headers other than `X-Duo-Date`, as received.
    pub x_duo_headers: &'a [(String, String)],
}

/// Percent-encodes everything but RFC 3986's unreserved characters, upper-case hex.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `k=v` pairs, encoded, sorted by key then value, joined by `&`.
pub fn canonical_params(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn sha512_hex(bytes: &[u8]) -> String {
    hex(&Sha512::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn x_duo_digest(headers: &[(String, String)]) -> String {
    let mut sorted: Vec<(String, &str)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
        .collect();
    sorted.sort();
    let joined: Vec<&str> = sorted
        .iter()
        .flat_map(|(name, value)| [name.as_str(), *value])
        .collect();
    sha512_hex(joined.join("\0").as_bytes())
}

/// The string a version signs.
pub fn canonical_string(version: Version, parts: &RequestParts<'_>) -> String {
    let mut lines = vec![
        parts.date.to_owned(),
        parts.method.to_ascii_uppercase(),
        parts.host.to_ascii_lowercase(),
        parts.path.to_owned(),
        canonical_params(parts.params),
    ];
    if version == Version::V5 {
        lines.push(sha512_hex(parts.body));
        lines.push(x_duo_digest(parts.x_duo_headers));
    }
    lines.join("\n")
}

fn mac_bytes<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &str) -> Option<M> {
    let mut mac = <M as Mac>::new_from_slice(key).ok()?;
    mac.update(message.as_bytes());
    Some(mac)
}

/// The hex signature of `parts` under `version` (what a client puts after `ikey:`).
pub fn sign(secret_key: &SecretString, version: Version, parts: &RequestParts<'_>) -> String {
    let message = canonical_string(version, parts);
    let key = secret_key.expose_secret().as_bytes();
    let digest = match version {
        Version::V2Sha1 => {
            mac_bytes::<Hmac<sha1::Sha1>>(key, &message).map(|m| m.finalize().into_bytes().to_vec())
        }
        Version::V2Sha512 | Version::V5 => {
            mac_bytes::<Hmac<Sha512>>(key, &message).map(|m| m.finalize().into_bytes().to_vec())
        }
    };
    hex(&digest.unwrap_or_default())
}

/// `Basic base64(ikey:signature)`.
pub fn authorization_header(integration_key: &str, signature_hex: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{integration_key}:{signature_hex}"))
    )
}

/// The integration key and hex signature of an `Authorization` header. The key selects
/// the secret; nothing in it is trusted until `verify` succeeds.
pub fn parse_authorization(header: &str) -> Result<(String, String), SignatureError> {
    let encoded = header
        .strip_prefix("Basic ")
        .ok_or(SignatureError::MissingCredentials)?
        .trim();
    let decoded = STANDARD
        .decode(encoded)
        .map_err(|_| SignatureError::MalformedCredentials)?;
    let text = String::from_utf8(decoded).map_err(|_| SignatureError::MalformedCredentials)?;
    let (ikey, signature) = text
        .split_once(':')
        .ok_or(SignatureError::MalformedCredentials)?;
    if ikey.is_empty() || signature.is_empty() || !signature.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(SignatureError::MalformedCredentials);
    }
    Ok((ikey.to_owned(), signature.to_ascii_lowercase()))
}

/// Verifies a hex signature against the candidates its length allows and the request
/// date against `now`. For v5, the `X-Duo-*` digest is tried over the received headers,
/// then over none (both official clients sign none).
pub fn verify(
    secret_key: &SecretString,
    parts: &RequestParts<'_>,
    signature_hex: &str,
    now: i64,
) -> Result<Version, SignatureError> {
    let date = parse_rfc2822(parts.date).ok_or(SignatureError::BadDate)?;
    if (date - now).abs() > MAX_DATE_SKEW_SECONDS {
        return Err(SignatureError::DateSkew);
    }
    let signature = decode_hex(signature_hex).ok_or(SignatureError::BadSignature)?;
    let key = secret_key.expose_secret().as_bytes();
    let check = |version: Version, parts: &RequestParts<'_>| {
        let message = canonical_string(version, parts);
        let ok = match version {
            Version::V2Sha1 => {
                mac_bytes::<Hmac<sha1::Sha1>>(key, &message).map(|m| m.verify_slice(&signature))
            }
            Version::V2Sha512 | Version::V5 => {
                mac_bytes::<Hmac<Sha512>>(key, &message).map(|m| m.verify_slice(&signature))
            }
        };
        matches!(ok, Some(Ok(())))
    };
    match signature.len() {
        20 if check(Version::V2Sha1, parts) => Ok(Version::V2Sha1),
        64 => {
            let unsigned_headers = RequestParts {
                x_duo_headers: &[],
                ..*parts
            };
            // Without X-Duo headers both v5 candidates are the same string: check it once.
            let without_headers =
                || !parts.x_duo_headers.is_empty() && check(Version::V5, &unsigned_headers);
            if check(Version::V5, parts) || without_headers() {
                Ok(Version::V5)
            } else if check(Version::V2Sha512, parts) {
                Ok(Version::V2Sha512)
            } else {
                Err(SignatureError::BadSignature)
            }
        }
        _ => Err(SignatureError::BadSignature),
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// Parses the RFC 2822 dates clients send (`Tue, 21 Aug 2012 17:29:18 -0000`, `+0000`,
/// or `GMT`) into Unix seconds.
pub fn parse_rfc2822(text: &str) -> Option<i64> {
    let rest = text.trim();
    let rest = rest.split_once(", ").map_or(rest, |(_, after)| after);
    let mut fields = rest.split_whitespace();
    let day: i64 = fields.next()?.parse().ok()?;
    let month = match fields.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = fields.next()?.parse().ok()?;
    let mut clock = fields.next()?.split(':');
    let hour: i64 = clock.next()?.parse().ok()?;
    let minute: i64 = clock.next()?.parse().ok()?;
    let second: i64 = clock.next()?.parse().ok()?;
    let offset = match fields.next()? {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        zone => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hours: i64 = zone.get(1..3)?.parse().ok()?;
            let minutes: i64 = zone.get(3..5)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let valid = (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..=60).contains(&second);
    if !valid || fields.next().is_some() || !(1970..=9999).contains(&year) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
