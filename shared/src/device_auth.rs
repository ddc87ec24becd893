//! Signed device requests: how an activated authenticator proves, on every `/device/v1/*`
//! call after activation (listing pushes, opening the WebSocket, answering), that it holds
//! the Ed25519 key it registered.
//!
//! The device sends one header:
//!
//! ```text
//! Authorization: Tessera-Device <base64url(JSON claims)>.<base64url(signature)>
//! ```
//!
//! The claims name the account (realm, username), the device and the device's clock. The
//! signature covers, besides the claims, the HTTP method and path, so a signature for
//! `GET /device/v1/pushes` is no use for `POST /device/v1/approval`, and nothing else
//! Tessera signs can be replayed as one ([`DOMAIN`]):
//!
//! ```text
//! "tessera-device-request-v1\0"
//! u32be(len) method   u32be(len) path
//! u32be(len) realm    u32be(len) username   u32be(len) device_id
//! i64be time
//! ```
//!
//! [`verify_request`] checks the signature and freshness (not older than
//! [`MAX_REQUEST_AGE_SECONDS`], not more than `approval::CLOCK_SKEW_SECONDS` ahead). A
//! captured header can be replayed within that window against the same method and path
//! only: for the listing that reveals nothing the capture did not, and an answer is
//! additionally a single-use signed approval (`shared::approval`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::approval::{CLOCK_SKEW_SECONDS, DevicePublicKey, DeviceSigningKey, MAX_DEVICE_ID_LEN};
use crate::ed25519;

/// The domain-separation prefix of every signed device request (version 1).
pub const DOMAIN: &[u8] = b"tessera-device-request-v1\0";
/// The authorization scheme.
pub const SCHEME: &str = "Tessera-Device";
/// How old a signed request may be.
pub const MAX_REQUEST_AGE_SECONDS: i64 = 60;
/// The longest header value [`parse_authorization`] reads.
pub const MAX_AUTHORIZATION_LEN: usize = 2048;
/// Bounds on realm and username (as the prompt and seed accept them).
pub const MAX_NAME_LEN: usize = 256;

/// Who signs: the account and the device, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceClaims {
    pub realm: String,
    pub username: String,
    pub device_id: String,
    /// Unix seconds on the device's clock.
    pub time: i64,
}

/// Why a header was not a well-formed signed device request.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceAuthFormatError {
    #[error("the Authorization header is not `{SCHEME} <claims>.<signature>`")]
    Scheme,
    #[error("the Authorization header is too long")]
    TooLong,
    #[error("the claims are not base64url JSON with realm, username, device_id and time")]
    Claims,
    #[error("realm, username or device id is empty, too long or has control characters")]
    Field,
    #[error("the signature is not base64url of 64 bytes")]
    Signature,
}

/// Why a well-formed signed request was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceAuthError {
    #[error("the signature does not verify with the device's key")]
    BadSignature,
    #[error("the request is older than allowed")]
    Stale,
    #[error("the request is dated in the future")]
    FromTheFuture,
}

/// A parsed, not yet verified, signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDeviceRequest {
    claims: DeviceClaims,
    signature: [u8; 64],
}

impl SignedDeviceRequest {
    /// The claims as the device states them: use them to find the key, then verify.
    pub fn claims(&self) -> &DeviceClaims {
        &self.claims
    }
}

/// The bytes signed for `method` and `path` (path only, no query).
pub fn canonical_bytes(claims: &DeviceClaims, method: &str, path: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(DOMAIN.len() + 64 + path.len());
    out.extend_from_slice(DOMAIN);
    for field in [
        method,
        path,
        &claims.realm,
        &claims.username,
        &claims.device_id,
    ] {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out.extend_from_slice(&claims.time.to_be_bytes());
    out
}

/// The `Authorization` header value a device sends for `method` and `path`.
pub fn authorization(
    key: &DeviceSigningKey,
    claims: &DeviceClaims,
    method: &str,
    path: &str,
) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let signature = key.sign_bytes(&canonical_bytes(claims, method, path));
    format!(
        "{SCHEME} {}.{}",
        URL_SAFE_NO_PAD.encode(json),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// Reads an `Authorization` header value (untrusted input; fuzzed).
pub fn parse_authorization(header: &str) -> Result<SignedDeviceRequest, DeviceAuthFormatError> {
    if header.len() > MAX_AUTHORIZATION_LEN {
        return Err(DeviceAuthFormatError::TooLong);
    }
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or(DeviceAuthFormatError::Scheme)?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(DeviceAuthFormatError::Scheme);
    }
    let (claims, signature) = token
        .trim()
        .split_once('.')
        .ok_or(DeviceAuthFormatError::Scheme)?;
    let claims = URL_SAFE_NO_PAD
        .decode(claims)
        .map_err(|_| DeviceAuthFormatError::Claims)?;
    let claims: DeviceClaims =
        serde_json::from_slice(&claims).map_err(|_| DeviceAuthFormatError::Claims)?;
    let plain = |text: &str, max: usize| {
        !text.is_empty() && text.len() <= max && !text.chars().any(char::is_control)
    };
    if !plain(&claims.realm, MAX_NAME_LEN)
        || !plain(&claims.username, MAX_NAME_LEN)
        || !plain(&claims.device_id, MAX_DEVICE_ID_LEN)
        || !claims.device_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(DeviceAuthFormatError::Field);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .ok_or(DeviceAuthFormatError::Signature)?;
    Ok(SignedDeviceRequest { claims, signature })
}

/// Checks the signature with the device's registered key, and freshness at `now`.
pub fn verify_request(
    key: &DevicePublicKey,
    signed: &SignedDeviceRequest,
    method: &str,
    path: &str,
    now: i64,
) -> Result<(), DeviceAuthError> {
    let message = canonical_bytes(&signed.claims, method, path);
    if !ed25519::verify(key.as_bytes(), &message, &signed.signature) {
        return Err(DeviceAuthError::BadSignature);
    }
    if now.saturating_sub(signed.claims.time) > MAX_REQUEST_AGE_SECONDS {
        return Err(DeviceAuthError::Stale);
    }
    if signed.claims.time.saturating_sub(now) > CLOCK_SKEW_SECONDS {
        return Err(DeviceAuthError::FromTheFuture);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn key(byte: u8) -> DeviceSigningKey {
        DeviceSigningKey::from_seed([byte; 32]).unwrap()
    }

    fn claims() -> DeviceClaims {
        DeviceClaims {
            realm: "demo".into(),
            username: "alice".into(),
            device_id: "DPABC".into(),
            time: 1_700_000_000,
        }
    }

    #[test]
    fn a_signed_request_verifies_for_its_method_and_path_only() {
        let key = key(7);
        let header = authorization(&key, &claims(), "GET", "/device/v1/pushes");
        let signed = parse_authorization(&header).unwrap();
        assert_eq!(signed.claims(), &claims());
        let public = key.public_key();
        let now = 1_700_000_010;
        assert_eq!(
            verify_request(&public, &signed, "GET", "/device/v1/pushes", now),
            Ok(())
        );
        assert_eq!(
            verify_request(&public, &signed, "POST", "/device/v1/pushes", now),
            Err(DeviceAuthError::BadSignature)
        );
        assert_eq!(
            verify_request(&public, &signed, "GET", "/device/v1/approval", now),
            Err(DeviceAuthError::BadSignature)
        );
        let other = self::key(8).public_key();
        assert_eq!(
            verify_request(&other, &signed, "GET", "/device/v1/pushes", now),
            Err(DeviceAuthError::BadSignature)
        );
    }

    #[test]
    fn freshness_is_checked_both_ways() {
        let key = key(7);
        let signed = parse_authorization(&authorization(&key, &claims(), "GET", "/p")).unwrap();
        let public = key.public_key();
        let t = claims().time;
        assert_eq!(
            verify_request(&public, &signed, "GET", "/p", t + 60),
            Ok(())
        );
        assert_eq!(
            verify_request(&public, &signed, "GET", "/p", t + 61),
            Err(DeviceAuthError::Stale)
        );
        assert_eq!(
            verify_request(&public, &signed, "GET", "/p", t - 30),
            Ok(())
        );
        assert_eq!(
            verify_request(&public, &signed, "GET", "/p", t - 31),
            Err(DeviceAuthError::FromTheFuture)
        );
    }

    #[test]
    fn tampered_claims_fail_the_signature() {
        let key = key(7);
        let header = authorization(&key, &claims(), "GET", "/p");
        let (_, signature) = header.rsplit_once('.').unwrap();
        let mut forged = claims();
        forged.username = "bob".into();
        let forged_header = format!(
            "{SCHEME} {}.{signature}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap())
        );
        let signed = parse_authorization(&forged_header).unwrap();
        assert_eq!(
            verify_request(&key.public_key(), &signed, "GET", "/p", claims().time),
            Err(DeviceAuthError::BadSignature)
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = authorization(&key(7), &claims(), "GET", "/p");
        let (claims_part, _) = good.rsplit_once('.').unwrap();
        for (header, error) in [
            ("", DeviceAuthFormatError::Scheme),
            ("Bearer abc", DeviceAuthFormatError::Scheme),
            ("Tessera-Device abc", DeviceAuthFormatError::Scheme),
            ("Tessera-Device !!.abc", DeviceAuthFormatError::Claims),
            ("Tessera-Device e30.abc", DeviceAuthFormatError::Claims),
        ] {
            assert_eq!(parse_authorization(header), Err(error), "{header}");
        }
        assert_eq!(
            parse_authorization(&format!("{claims_part}.AAAA")),
            Err(DeviceAuthFormatError::Signature)
        );
        assert_eq!(
            parse_authorization(&"x".repeat(MAX_AUTHORIZATION_LEN + 1)),
            Err(DeviceAuthFormatError::TooLong)
        );
        let mut empty_user = claims();
        empty_user.username = String::new();
        let header = format!(
            "{SCHEME} {}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&empty_user).unwrap()),
            URL_SAFE_NO_PAD.encode([0u8; 64])
        );
        assert_eq!(
            parse_authorization(&header),
            Err(DeviceAuthFormatError::Field)
        );
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let good = authorization(&key(7), &claims(), "GET", "/p");
        let lower = good.replacen(SCHEME, "tessera-device", 1);
        assert!(parse_authorization(&lower).is_ok());
    }
}
