//! The lockout state machine: consecutive failures lock a user out, a success resets the
//! count, and a lock lifts by an administrator's unlock or, when configured, by itself.
//! The edge stores the state; nothing here reads a clock.

/// Lockout settings: after `threshold` consecutive failures the user is locked out; with
/// `auto_unlock_after` set, the lock lifts by itself after that many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub auto_unlock_after: Option<i64>,
}

impl Default for LockoutPolicy {
    /// Duo's defaults: 10 failures, no automatic unlock.
    fn default() -> Self {
        Self {
            threshold: 10,
            auto_unlock_after: None,
        }
    }
}

/// A user's failure count and lock, as the edge stores it.
///
/// ```text
///   Open(n) --failure, n+1 < threshold--> Open(n+1)
///   Open(n) --failure, n+1 = threshold--> Locked(since)
///   Open(n) --success-->                  Open(0)
///   Locked  --admin unlock / auto unlock after M minutes--> Open(0)
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockoutState {
    pub failures: u32,
    pub locked_since: Option<i64>,
}

impl LockoutState {
    /// Whether the user is locked out at `now`.
    pub fn is_locked(&self, policy: &LockoutPolicy, now: i64) -> bool {
        match (self.locked_since, policy.auto_unlock_after) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(since), Some(after)) => now < since.saturating_add(after),
        }
    }

    /// The state at `now`, with an expired automatic lock lifted.
    pub fn current(self, policy: &LockoutPolicy, now: i64) -> Self {
        if self.locked_since.is_some() && !self.is_locked(policy, now) {
            Self::default()
        } else {
            self
        }
    }

    pub fn record_failure(self, policy: &LockoutPolicy, now: i64) -> Self {
        let state = self.current(policy, now);
        if state.locked_since.is_some() {
            return state;
        }
        let failures = state.failures.saturating_add(1);
        let locked_since = (failures >= policy.threshold).then_some(now);
        Self {
            failures,
            locked_since,
        }
    }

    pub fn record_success(self) -> Self {
        Self::default()
    }

    /// Failures left before the lock.
    pub fn attempts_left(&self, policy: &LockoutPolicy) -> u32 {
        policy.threshold.saturating_sub(self.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn locks_after_threshold_and_success_resets() {
        let policy = LockoutPolicy {
            threshold: 3,
            auto_unlock_after: None,
        };
        let mut state = LockoutState::default();
        for expected_left in [2, 1] {
            state = state.record_failure(&policy, 100);
            assert_eq!(state.attempts_left(&policy), expected_left);
            assert!(!state.is_locked(&policy, 100));
        }
        assert!(state.record_success().failures == 0);
        state = state.record_failure(&policy, 100);
        assert!(state.is_locked(&policy, 100));
        assert!(state.is_locked(&policy, 1_000_000));
        assert_eq!(
            state.record_failure(&policy, 200),
            state,
            "a locked state does not change"
        );
    }

    #[test]
    fn auto_unlock_lifts_the_lock() {
        let policy = LockoutPolicy {
            threshold: 1,
            auto_unlock_after: Some(60),
        };
        let locked = LockoutState::default().record_failure(&policy, 1000);
        assert!(locked.is_locked(&policy, 1059));
        assert!(!locked.is_locked(&policy, 1060));
        assert_eq!(locked.current(&policy, 1060), LockoutState::default());
        assert_eq!(locked.record_failure(&policy, 1060).failures, 1);
    }
}
