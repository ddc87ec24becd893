//! Authorization codes: what a code stands for ([`Grant`]), its form, and how it is kept.
//!
//! A code lives in the account object of the user it signs in, so a sign-in costs one
//! object round trip: the object that accepts the passcode (or decides the final allow)
//! draws and stores the code in the same step, never without its audit row, and hands it
//! back in its reply. The code must then find its way back to that object from nothing
//! but itself, so it is `random "." route`: 32 random bytes (unpadded base64url) and the
//! account object's opaque route (its Durable Object id in production), which names the
//! object without naming the user. The Worker only sends the [`Grant`] the code would
//! stand for, so a sign-in that ends in no allow draws nothing.
//!
//! The object keeps only the SHA-256 of the whole code, so a lookup never compares the
//! code itself, and it deletes a code in the same step that reads it: two exchanges of one
//! code cannot both succeed. Expired codes are purged whenever the object redeems one.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Authorization codes live for 5 minutes (RFC 6749 § 4.1.2 recommends at most 10): long
/// enough for a user to answer "Is this your device?", which holds the completion, before
/// the browser goes back to the application. Each is still single-use and bound to its
/// client, redirect URI and nonce.
pub const CODE_LIFETIME: i64 = 300;
/// Random bytes in a code.
pub const CODE_BYTES: usize = 32;
/// Longest code accepted at the token endpoint, before any lookup.
pub const MAX_CODE_LEN: usize = 512;

/// What an authorization code stands for; everything the token endpoint needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub realm: String,
    pub username: String,
    pub nonce: Option<String>,
    pub factor: String,
    pub reason: String,
    pub auth_time: i64,
    pub txid: String,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub expires_at: i64,
}

impl Grant {
    /// The grant as stored for a decision with `factor` and `reason` (the Worker sends it
    /// with both empty: only the account object decides).
    pub fn decided(self, factor: &str, reason: &str) -> Self {
        Self {
            factor: factor.to_owned(),
            reason: reason.to_owned(),
            ..self
        }
    }
}

/// An authorization code an account object issued, on its way back to the Worker.
/// Redacted from `Debug`: it is a bearer credential until redeemed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IssuedCode(pub String);

impl std::fmt::Debug for IssuedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedCode([REDACTED])")
    }
}

/// A code made of `random` (base64url) and the account object's `route`.
pub fn compose(random: &str, route: &str) -> String {
    format!("{random}.{route}")
}

/// A new code routed to the account object whose route is `route`: [`CODE_BYTES`] from
/// `entropy`, then the route.
pub fn draw(
    entropy: &dyn crate::store::Entropy,
    route: &str,
) -> Result<String, crate::store::StoreError> {
    Ok(compose(
        &crate::store::random_token(entropy, CODE_BYTES)?,
        route,
    ))
}

/// The account route a presented code names, or `None` for a code not of our making.
pub fn route(code: &str) -> Option<&str> {
    if code.len() > MAX_CODE_LEN {
        return None;
    }
    let (random, route) = code.rsplit_once('.')?;
    let url_safe = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (url_safe(random) && url_safe(route)).then_some(route)
}

/// The storage key of an authorization code: lowercase hex SHA-256.
pub fn code_hash(code: &str) -> String {
    Sha256::digest(code.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_composed_code_names_its_route() {
        let code = compose("c2VjcmV0LXJhbmRvbQ", "0123abcd");
        assert_eq!(route(&code), Some("0123abcd"));
    }

    #[test]
    fn codes_not_of_our_making_name_no_route() {
        for code in [
            "",
            "no-dot-at-all",
            ".route",
            "random.",
            "random.rou te",
            "random.route%2F",
            "ran/dom.route",
        ] {
            assert_eq!(route(code), None, "{code:?}");
        }
        assert_eq!(route(&format!("a.{}", "b".repeat(MAX_CODE_LEN))), None);
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            code_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
