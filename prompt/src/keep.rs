//! What the prompt keeps in this browser (the host page's `localStorage`): the method last
//! used, and remembered-device tokens the user accepted ("Is this your device?" → Yes).
//! Nothing is carried across browsers or devices. The pure parts are here; the storage
//! access is in [`crate::host`].

use serde::{Deserialize, Serialize};
use tessera_shared::v1::{Method, RememberOffer};

/// `localStorage` key of the last method used.
pub const METHOD_KEY: &str = "tessera.method";
/// `localStorage` key of the remembered-device tokens.
pub const DEVICES_KEY: &str = "tessera.remembered";
/// At most this many tokens are kept (one per application or realm in practice).
const MAX_TOKENS: usize = 8;

/// One kept token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub token: String,
    pub expires_at: i64,
}

/// The method stored under [`METHOD_KEY`], if it is one.
pub fn parse_method(stored: &str) -> Option<Method> {
    serde_json::from_value(serde_json::Value::String(stored.to_owned())).ok()
}

/// The unexpired tokens of a stored list (anything unreadable counts as none).
pub fn unexpired(stored: Option<&str>, now: i64) -> Vec<Kept> {
    stored
        .and_then(|text| serde_json::from_str::<Vec<Kept>>(text).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|kept| kept.expires_at > now)
        .collect()
}

/// The list to store after accepting `offer`: the newest first, expired and surplus ones
/// dropped.
pub fn with_offer(stored: Option<&str>, offer: &RememberOffer, now: i64) -> String {
    let mut kept = unexpired(stored, now);
    kept.retain(|old| old.token != offer.token);
    kept.insert(
        0,
        Kept {
            token: offer.token.clone(),
            expires_at: offer.expires_at,
        },
    );
    kept.truncate(MAX_TOKENS);
    serde_json::to_string(&kept).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert_eq!(parse_method("verified_push"), Some(Method::VerifiedPush));
        assert_eq!(
            parse_method(Method::BypassCode.as_str()),
            Some(Method::BypassCode)
        );
        assert_eq!(parse_method("\"passcode\""), None);
        assert_eq!(parse_method("telepathy"), None);
    }

    #[test]
    fn tokens() {
        let offer = |token: &str, expires_at| RememberOffer {
            token: token.into(),
            expires_at,
            scope: "application".into(),
        };
        let stored = with_offer(None, &offer("A", 100), 10);
        let stored = with_offer(Some(&stored), &offer("B", 50), 10);
        let tokens = |list: Vec<Kept>| list.into_iter().map(|k| k.token).collect::<Vec<_>>();
        assert_eq!(tokens(unexpired(Some(&stored), 10)), ["B", "A"]);
        assert_eq!(tokens(unexpired(Some(&stored), 60)), ["A"]);
        assert!(unexpired(Some("not json"), 0).is_empty());
        assert!(unexpired(None, 0).is_empty());
        let mut stored = String::new();
        for i in 0..20 {
            stored = with_offer(Some(&stored), &offer(&i.to_string(), 100), 0);
        }
        assert_eq!(unexpired(Some(&stored), 0).len(), MAX_TOKENS);
    }
}
