//! HS512 compact JWS, the only algorithm Duo's Web SDK v4 clients use in either direction.
//!
//! The algorithm is pinned: a token whose header names anything but `HS512` (`none`,
//! `HS256`, `RS512`, …) is refused before any MAC is computed, and a `crit` header is
//! refused because we implement no extensions. Claims come back as a raw JSON object: the
//! Duo clients disagree on claim encodings (float or string `exp`, see `duo`), so the
//! callers interpret them instead of a generic claims type that would reject some clients.
//! The MAC is checked with `Mac::verify_slice`, which compares in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha512;
use thiserror::Error;

use crate::SecretBytes;

/// Tokens longer than this are refused unparsed: no client sends more than a few KiB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Why a token was refused at the JWS layer.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwsError {
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("the token is longer than {MAX_TOKEN_LEN} bytes")]
    TooLong,
    #[error("the token's algorithm is not HS512")]
    WrongAlgorithm,
    #[error("the token's header has unsupported critical extensions")]
    UnsupportedCritical,
    #[error("the token's signature is invalid")]
    BadSignature,
}

/// An HS512 key. Duo clients use the client secret's raw UTF-8 bytes.
#[derive(Clone, Debug)]
pub struct Hs512Key(SecretBytes);

impl Hs512Key {
    pub fn new(key: SecretBytes) -> Self {
        Self(key)
    }

    pub fn from_secret_str(secret: &str) -> Self {
        Self(SecretBytes::new(secret.as_bytes().to_vec()))
    }

    fn mac(&self) -> Hmac<Sha512> {
        // HMAC takes keys of any length; the fallback key is never reached.
        Hmac::<Sha512>::new_from_slice(self.0.expose_secret())
            .unwrap_or_else(|_| <Hmac<Sha512> as hmac::digest::KeyInit>::new(&Default::default()))
    }
}

/// Signs `claims` as `{"alg":"HS512","typ":"JWT"}` compact JWS.
pub fn sign(key: &Hs512Key, claims: &Map<String, Value>) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = key.mac();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies an HS512 compact JWS and returns its claims object.
pub fn verify(key: &Hs512Key, token: &str) -> Result<Map<String, Value>, JwsError> {
    let parts = split(token)?;
    let header = decode_object(parts.header)?;
    check_header(&header)?;
    let signature = URL_SAFE_NO_PAD
        .decode(parts.signature)
        .map_err(|_| JwsError::Malformed)?;
    let mut mac = key.mac();
    mac.update(parts.signing_input.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| JwsError::BadSignature)?;
    decode_object(parts.payload)
}

/// Reads the claims without checking the signature: only to find which key to verify
/// with (a client id), never to trust a value.
pub fn peek_claims_unverified(token: &str) -> Result<Map<String, Value>, JwsError> {
    decode_object(split(token)?.payload)
}

/// The three parts of a compact JWS, split but not decoded. Shared with `oidc`, which
/// applies the same length cap and shape rules to EdDSA tokens.
pub(crate) struct Parts<'a> {
    pub(crate) signing_input: &'a str,
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
}

pub(crate) fn split(token: &str) -> Result<Parts<'_>, JwsError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwsError::TooLong);
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or(JwsError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(JwsError::Malformed)?;
    if payload.contains('.') || header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(JwsError::Malformed);
    }
    Ok(Parts {
        signing_input,
        header,
        payload,
        signature,
    })
}

pub(crate) fn decode_object(part: &str) -> Result<Map<String, Value>, JwsError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwsError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwsError::Malformed),
    }
}

fn check_header(header: &Map<String, Value>) -> Result<(), JwsError> {
    if header.get("alg").and_then(Value::as_str) != Some("HS512") {
        return Err(JwsError::WrongAlgorithm);
    }
    if header.contains_key("crit") {
        return Err(JwsError::UnsupportedCritical);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node).
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn key() -> Hs512Key {
        Hs512Key::from_secret_str("0123456789012345678901234567890123456789")
    }

    fn claims() -> Map<String, Value> {
        json!({"sub": "alice", "exp": 1_700_000_000})
            .as_object()
            .unwrap()
            .clone()
    }

    fn forge(header: &str, payload: &Map<String, Value>, key: &Hs512Key) -> String {
        let h = URL_SAFE_NO_PAD.encode(header);
        let p = URL_SAFE_NO_PAD.encode(Value::Object(payload.clone()).to_string());
        let mut mac = key.mac();
        mac.update(format!("{h}.{p}").as_bytes());
        format!(
            "{h}.{p}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn round_trip() {
        let token = sign(&key(), &claims());
        assert_eq!(verify(&key(), &token).unwrap(), claims());
    }

    #[test]
    fn refusals() {
        let good = sign(&key(), &claims());
        let other = Hs512Key::from_secret_str("another-secret-another-secret-another-se");
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"alice"}"#)
        );
        let cases: Vec<(String, JwsError)> = vec![
            (String::new(), JwsError::Malformed),
            ("a.b".into(), JwsError::Malformed),
            ("a.b.c.d".into(), JwsError::Malformed),
            (unsigned, JwsError::Malformed),
            ("x".repeat(MAX_TOKEN_LEN + 1), JwsError::TooLong),
            (sign(&other, &claims()), JwsError::BadSignature),
            (format!("{good}A"), JwsError::BadSignature),
            (
                forge(r#"{"alg":"none"}"#, &claims(), &key()),
                JwsError::WrongAlgorithm,
            ),
            (
                forge(r#"{"alg":"HS256"}"#, &claims(), &key()),
                JwsError::WrongAlgorithm,
            ),
            (
                forge(r#"{"alg":"hs512"}"#, &claims(), &key()),
                JwsError::WrongAlgorithm,
            ),
            (
                forge(r#"{"typ":"JWT"}"#, &claims(), &key()),
                JwsError::WrongAlgorithm,
            ),
            (
                forge(r#"{"alg":"HS512","crit":["b64"]}"#, &claims(), &key()),
                JwsError::UnsupportedCritical,
            ),
            (forge(r#"[1]"#, &claims(), &key()), JwsError::Malformed),
        ];
        for (token, expected) in cases {
            assert_eq!(verify(&key(), &token), Err(expected), "{token:.60}");
        }
    }

    #[test]
    fn headers_without_typ_are_accepted() {
        // Node's `jose` sends `{"alg":"HS512"}` only.
        let token = forge(r#"{"alg":"HS512"}"#, &claims(), &key());
        assert_eq!(verify(&key(), &token).unwrap(), claims());
    }
}
