//! Policy configuration as the edge stores it and the Admin API sends it. The checked form
//! is `shared::policy::Policy` (`Policy::try_from`).

use serde::{Deserialize, Serialize};

use super::prompt::Method;

/// A policy as the edge stores it and the Admin API sends it (`shared::policy::Policy`
/// is the checked form: convert with `Policy::try_from`). Every field is optional: an
/// absent field inherits from the less specific level (global < application < group).
///
/// Unknown fields are refused rather than ignored, so a misspelt key can never silently
/// drop a restriction an administrator meant to set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_user: Option<NewUserAction>,
    /// The methods users may complete the prompt with; never empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_methods: Option<Vec<Method>>,
    /// Whether plain Push is offered when Verified Push is allowed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_plain_push: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_networks: Option<AuthorizedNetworksConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered_devices: Option<RememberedDevicesConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<LockoutConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_rate_limit: Option<PushRateLimitConfig>,
}

/// The authentication policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthenticationAction {
    #[serde(rename = "require_2fa")]
    Require2fa,
    /// Allow after the primary login alone.
    Skip,
    Deny,
}

/// What happens to a user with no enrolled method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewUserAction {
    /// Inline self-enrollment in the prompt.
    RequireEnrollment,
    /// Unenrolled users pass without 2FA.
    Allow,
    Deny,
}

/// What a location rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationAction {
    /// No objection: the rest of the policy decides (Duo's "No action").
    Allow,
    /// 2FA even where another rule (an authorized network, `authentication: skip`) would
    /// waive it.
    #[serde(rename = "require_2fa")]
    Require2fa,
    Deny,
}

/// The user-location section. Country keys are ISO 3166-1 alpha-2 codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    /// Per-country actions. Set as a whole: a more specific level replaces the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countries: Option<std::collections::BTreeMap<String, LocationAction>>,
    /// For every country not in `countries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<LocationAction>,
    /// When the platform cannot tell the country (absent, `XX`); falls back to `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<LocationAction>,
    /// Anonymous networks (Tor, country `T1`); falls back to `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<LocationAction>,
}

/// Authorized networks: CIDR blocks (`192.0.2.0/24`, `2001:db8::/32`, or a bare address)
/// and what being inside them means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizedNetworksConfig {
    pub networks: Vec<String>,
    pub action: NetworkAction,
}

/// What the authorized networks do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkAction {
    /// Inside: allow without 2FA. Outside: no effect.
    #[serde(rename = "allow_without_2fa")]
    AllowWithout2fa,
    /// Inside: 2FA (or enrollment) even where another rule would waive it.
    #[serde(rename = "require_2fa")]
    Require2fa,
    /// Outside: deny. Inside: no effect.
    DenyOthers,
}

/// Remembered devices ("Yes, this is my device").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum RememberedDevicesConfig {
    Off,
    /// Trust the browser for `days` (1 to 365) after a success.
    Remember {
        days: u16,
        scope: RememberScope,
    },
}

/// Whether a remembered device counts for one application or for all of the realm's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RememberScope {
    PerApp,
    Shared,
}

/// Lockout settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockoutConfig {
    /// Consecutive failures before the lock, 1 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    /// Minutes after which a lock lifts by itself; `0` means never (an administrator
    /// unlocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_unlock_minutes: Option<u32>,
}

/// At most `max_requests` pushes to one user within any `window_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRateLimitConfig {
    pub max_requests: u32,
    pub window_minutes: u32,
}
