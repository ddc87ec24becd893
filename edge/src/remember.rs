//! Remembered-device tokens ("Yes, this is my device"): after a success, when policy
//! allows, the browser may keep a token that stands in for the second factor for the
//! policy's number of days, for one application or for every application of the realm.
//!
//! Format: `base64url(json) "." base64url(HMAC-SHA256(key, "tessera-remember-v1." json_b64))`
//! under `TESSERA_SESSION_KEY`, in its own MAC domain so that a session token never
//! passes as a remembered device or the reverse. Signed, not encrypted: it names only
//! the realm, the user, the application and the expiry, which the browser already knows.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use tessera_shared::policy::{RememberScope, RememberedDevices};

use crate::session::SessionKey;

const DOMAIN: &[u8] = b"tessera-remember-v1.";
/// Longest token read, before any decoding.
pub const MAX_TOKEN_LEN: usize = 1024;
/// At most this many tokens from one start request are looked at.
pub const MAX_TOKENS: usize = 8;

/// What a remembered-device token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub realm: String,
    pub username: String,
    /// `None` for a grant shared by every application of the realm.
    pub client_id: Option<String>,
    /// Unix seconds.
    pub granted_at: i64,
    pub expires_at: i64,
}

impl Remembered {
    /// The grant policy allows after a success at `now`, or `None` when remembered devices
    /// are off.
    pub fn offer(
        policy: &RememberedDevices,
        realm: &str,
        username: &str,
        client_id: &str,
        now: i64,
    ) -> Option<Self> {
        let RememberedDevices::Remember { scope, .. } = policy else {
            return None;
        };
        Some(Self {
            realm: realm.to_owned(),
            username: username.to_owned(),
            client_id: (*scope == RememberScope::PerApp).then(|| client_id.to_owned()),
            granted_at: now,
            expires_at: policy.expires_at(now)?,
        })
    }

    /// `application` or `shared`, as `RememberOffer::scope` says it.
    pub fn scope_name(&self) -> &'static str {
        if self.client_id.is_some() {
            "application"
        } else {
            "shared"
        }
    }

    /// Whether this grant counts for `username` of `realm` signing in to `client_id` at
    /// `now` under the policy in force now: same user, the right scope, not expired by its
    /// own date nor by the current policy's number of days.
    pub fn honoured(
        &self,
        policy: &RememberedDevices,
        realm: &str,
        username: &str,
        client_id: &str,
        now: i64,
    ) -> bool {
        let RememberedDevices::Remember { scope, .. } = policy else {
            return false;
        };
        let scope_ok = match (scope, &self.client_id) {
            (RememberScope::PerApp, Some(granted)) => granted == client_id,
            (RememberScope::Shared, None) => true,
            _ => false,
        };
        let policy_expiry = policy.expires_at(self.granted_at).unwrap_or(i64::MIN);
        scope_ok
            && self.realm == realm
            && self.username == username
            && self.granted_at <= now
            && now < self.expires_at
            && now < policy_expiry
    }
}

pub fn seal(key: &SessionKey, grant: &Remembered) -> String {
    let json = serde_json::to_vec(grant).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let tag = URL_SAFE_NO_PAD.encode(key.domain_mac(DOMAIN, &payload).finalize().into_bytes());
    format!("{payload}.{tag}")
}

/// The grant in `token` if its MAC is right (checked in constant time before anything is
/// parsed); expiry and scope are `Remembered::honoured`'s business.
pub fn open(key: &SessionKey, token: &str) -> Option<Remembered> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let (payload, tag) = token.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    key.domain_mac(DOMAIN, payload).verify_slice(&tag).ok()?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU16;

    use super::*;

    fn policy(scope: RememberScope) -> RememberedDevices {
        RememberedDevices::Remember {
            days: NonZeroU16::new(2).unwrap(),
            scope,
        }
    }

    #[test]
    fn round_trip_scope_and_expiry() {
        let key = SessionKey::new(b"k").unwrap();
        let per_app = policy(RememberScope::PerApp);
        let grant = Remembered::offer(&per_app, "r", "alice", "APP1", 1000).unwrap();
        assert_eq!(grant.expires_at, 1000 + 2 * 86_400);
        let token = seal(&key, &grant);
        let opened = open(&key, &token).unwrap();
        assert_eq!(opened, grant);
        let cases = [
            (per_app, "r", "alice", "APP1", 2000, true),
            (per_app, "r", "alice", "APP2", 2000, false),
            (per_app, "r", "bob", "APP1", 2000, false),
            (per_app, "other", "alice", "APP1", 2000, false),
            (per_app, "r", "alice", "APP1", 1000 + 2 * 86_400, false),
            (
                policy(RememberScope::Shared),
                "r",
                "alice",
                "APP1",
                2000,
                false,
            ),
            (RememberedDevices::Off, "r", "alice", "APP1", 2000, false),
        ];
        for (policy, realm, user, app, now, expected) in cases {
            assert_eq!(
                opened.honoured(&policy, realm, user, app, now),
                expected,
                "{realm} {user} {app} {now}"
            );
        }
        let shared = Remembered::offer(&policy(RememberScope::Shared), "r", "a", "X", 0).unwrap();
        assert_eq!(shared.scope_name(), "shared");
        assert!(shared.honoured(&policy(RememberScope::Shared), "r", "a", "Y", 5));
        assert!(open(&SessionKey::new(b"other").unwrap(), &token).is_none());
        assert!(open(&key, &format!("{token}x")).is_none());
        assert!(open(&key, "no-dot").is_none());
        // A session token under the same key is not a remembered device.
        let (payload, _) = token.split_once('.').unwrap();
        let forged = format!(
            "{payload}.{}",
            URL_SAFE_NO_PAD.encode(
                key.domain_mac(b"tessera-session-v1.", payload)
                    .finalize()
                    .into_bytes()
            )
        );
        assert!(open(&key, &forged).is_none());
    }
}
