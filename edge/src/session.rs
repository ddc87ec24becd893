//! The prompt session: a stateless token handed to the browser by `/prompt/v1/start` and
//! sent back with every action. It carries the verified authorize request (realm, user,
//! client, redirect URI, state, nonce, code attribute), the transaction id and an expiry,
//! and is MAC'd with HMAC-SHA256 under `TESSERA_SESSION_KEY`.
//!
//! Format: `base64url(json) "." base64url(HMAC-SHA256(key, "tessera-session-v1." json_b64))`.
//! It is signed, not encrypted: everything in it is already known to the browser.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tessera_shared::SecretBytes;
use thiserror::Error;

/// Sessions expire ten minutes after the prompt starts.
pub const SESSION_LIFETIME: i64 = 600;
/// Longest token accepted, before any decoding.
pub const MAX_SESSION_LEN: usize = 4096;
const DOMAIN: &[u8] = b"tessera-session-v1.";

/// The MAC key. Refuses to exist when empty.
#[derive(Clone, Debug)]
pub struct SessionKey(SecretBytes);

impl SessionKey {
    pub fn new(bytes: &[u8]) -> Option<Self> {
        (!bytes.is_empty()).then(|| Self(SecretBytes::new(bytes.to_vec())))
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        self.domain_mac(DOMAIN, payload)
    }

    /// HMAC-SHA256 over `domain ‖ payload`: one key, separate domains for each kind of
    /// token (sessions, remembered devices), so no token passes as another kind.
    pub(crate) fn domain_mac(&self, domain: &[u8], payload: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret())
            .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
        mac.update(domain);
        mac.update(payload.as_bytes());
        mac
    }
}

/// The verified authorize request a prompt is working on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub realm: String,
    pub username: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub nonce: Option<String>,
    pub use_duo_code_attribute: bool,
    pub txid: String,
    pub expires_at: i64,
}

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    #[error("the session token is malformed")]
    Malformed,
    #[error("the session token's MAC is invalid")]
    BadMac,
    #[error("the session has expired")]
    Expired,
}

pub fn seal(key: &SessionKey, session: &Session) -> String {
    let json = serde_json::to_vec(session).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let tag = URL_SAFE_NO_PAD.encode(key.mac(&payload).finalize().into_bytes());
    format!("{payload}.{tag}")
}

/// Checks the MAC (in constant time) before reading anything, then the expiry.
pub fn open(key: &SessionKey, token: &str, now: i64) -> Result<Session, SessionError> {
    if token.len() > MAX_SESSION_LEN {
        return Err(SessionError::Malformed);
    }
    let (payload, tag) = token.split_once('.').ok_or(SessionError::Malformed)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| SessionError::Malformed)?;
    key.mac(payload)
        .verify_slice(&tag)
        .map_err(|_| SessionError::BadMac)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| SessionError::Malformed)?;
    let session: Session = serde_json::from_slice(&json).map_err(|_| SessionError::Malformed)?;
    if session.expires_at < now {
        return Err(SessionError::Expired);
    }
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            realm: "demo".into(),
            username: "alice".into(),
            client_id: "DIXXXXXXXXXXXXXXXXXX".into(),
            redirect_uri: "http://localhost:8080/duo-callback".into(),
            state: "s".repeat(32),
            nonce: None,
            use_duo_code_attribute: true,
            txid: "t".into(),
            expires_at: 1000,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let key = SessionKey::new(b"k").unwrap();
        let other = SessionKey::new(b"other").unwrap();
        let token = seal(&key, &session());
        assert_eq!(open(&key, &token, 1000), Ok(session()));
        let (payload, tag) = token.split_once('.').unwrap();
        let cases = [
            (token.clone(), 1001, SessionError::Expired),
            (seal(&other, &session()), 0, SessionError::BadMac),
            (format!("{payload}x.{tag}"), 0, SessionError::BadMac),
            (format!("{payload}.{tag}!"), 0, SessionError::Malformed),
            (payload.to_owned(), 0, SessionError::Malformed),
            ("x".repeat(MAX_SESSION_LEN + 1), 0, SessionError::Malformed),
        ];
        for (token, now, expected) in cases {
            assert_eq!(open(&key, &token, now), Err(expected), "{token:.40}");
        }
        assert!(SessionKey::new(b"").is_none());
    }
}
