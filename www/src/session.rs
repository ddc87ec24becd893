//! Server-side sessions kept in memory: the cookie holds only a random id. A session is
//! created by a correct password, carries the pending `state` until the callback consumes
//! it, and records the second factor once the token is verified.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// Name of the session cookie.
pub const COOKIE: &str = "tessera_demo";
/// Idle lifetime of a session.
pub const LIFETIME: Duration = Duration::from_secs(60 * 60);

/// What the server remembers about one browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    /// The `state` sent with the pending authorize request; taken by the callback.
    pub pending_state: Option<String>,
    /// The verified second factor, once signed in.
    pub factor: Option<String>,
    expires_at: Instant,
}

/// Why the callback's `state` was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateCheck {
    /// No session for this cookie (missing, unknown or expired).
    NoSession,
    /// The session has no pending request (already used, or never started).
    NotPending,
    /// The `state` differs from the one this session sent.
    Mismatch,
}

/// The in-memory session map.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Session>) -> R) -> R {
        // A panic while holding the lock cannot leave a half-written session worth
        // refusing service for, so a poisoned lock is used as is.
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut map)
    }

    /// Stores a new session under `id`, dropping expired ones.
    pub fn insert(&self, id: String, username: String, pending_state: String) {
        let now = Instant::now();
        self.with(|map| {
            map.retain(|_, s| s.expires_at > now);
            map.insert(
                id,
                Session {
                    username,
                    pending_state: Some(pending_state),
                    factor: None,
                    expires_at: now + LIFETIME,
                },
            );
        });
    }

    /// The live session for `id`, its lifetime extended.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        self.with(|map| match map.get_mut(id) {
            Some(session) if session.expires_at > now => {
                session.expires_at = now + LIFETIME;
                Some(session.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        })
    }

    pub fn remove(&self, id: &str) {
        self.with(|map| map.remove(id));
    }

    /// Compares `state` with the session's pending one in constant time and, when they
    /// match, consumes it so a `state` is accepted once. Returns the session's username.
    pub fn take_state(&self, id: &str, state: &str) -> Result<String, StateCheck> {
        let now = Instant::now();
        self.with(|map| {
            let session = map
                .get_mut(id)
                .filter(|s| s.expires_at > now)
                .ok_or(StateCheck::NoSession)?;
            let pending = session
                .pending_state
                .as_deref()
                .ok_or(StateCheck::NotPending)?;
            if !bool::from(pending.as_bytes().ct_eq(state.as_bytes())) {
                return Err(StateCheck::Mismatch);
            }
            session.pending_state = None;
            Ok(session.username.clone())
        })
    }

    /// Marks the session signed in with `factor`.
    pub fn sign_in(&self, id: &str, factor: String) {
        self.with(|map| {
            if let Some(session) = map.get_mut(id) {
                session.factor = Some(factor);
            }
        });
    }
}
