//! Policies: what an administrator configures (`Policy`, one per level), how the levels
//! combine (`EffectivePolicy::merge`), and the pure decisions taken from the result:
//! location, authorized networks, the usable methods and the access verdict, plus the
//! lockout state machine. The edge stores configuration and state; nothing here reads a
//! clock or does I/O.
//!
//! Precedence is global < application < group (`PRODUCT.md` "Policies", Duo's policy
//! docs): a field set at a more specific level wins, an unset field inherits, and with
//! nothing set anywhere the defaults are Duo's: require 2FA, require enrollment, every
//! method, no location restriction, remembered devices off, lockout after 10 failures
//! with no automatic unlock. Two defaults are our own: plain Push is not offered beside
//! Verified Push (`PEERS.md`: Verified Push by default, against push fatigue), and pushes
//! are limited to 10 per user in 10 minutes (Duo publishes no figure).
//!
//! The wire form is `v1::PolicyConfig`; `Policy::try_from` checks it (country codes, CIDR
//! blocks, ranges) with real errors, and `v1::PolicyConfig::from(&Policy)` gives it back.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::num::{NonZeroU16, NonZeroU32};

mod config;
mod location;
mod lockout;
mod network;

pub use crate::v1::{AuthenticationAction, Method, NewUserAction, RememberScope};
pub use config::PolicyConfigError;
pub use location::{
    CountryCode, CountryCodeError, Location, LocationAction, LocationDecision, LocationPolicy,
    SANCTIONED_COUNTRIES, SANCTIONED_REGIONS,
};
pub use lockout::{LockoutPolicy, LockoutState};
pub use network::{
    AuthorizedNetworks, Cidr, CidrError, MAX_NETWORKS, NetworkAction, NetworkDecision,
    NetworksError,
};

/// The service name in user-facing messages unless configured otherwise.
pub const DEFAULT_SERVICE_NAME: &str = "Tessera";

/// One level's policy (global, an application's, or a group's). `None` means "not set
/// here": the less specific level's value applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub authentication: Option<AuthenticationAction>,
    pub new_user: Option<NewUserAction>,
    /// Never empty when set (`Policy::try_from` refuses an empty list).
    pub allowed_methods: Option<BTreeSet<Method>>,
    pub allow_plain_push: Option<bool>,
    pub location: LocationRules,
    pub authorized_networks: Option<AuthorizedNetworks>,
    pub remembered_devices: Option<RememberedDevices>,
    pub lockout_threshold: Option<NonZeroU32>,
    pub auto_unlock: Option<AutoUnlock>,
    pub push_rate_limit: Option<PushRateLimit>,
}

/// The location section of one level; each part inherits on its own. The country map
/// is set as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationRules {
    pub countries: Option<std::collections::BTreeMap<CountryCode, LocationAction>>,
    pub default: Option<LocationAction>,
    /// Falls back to the effective `default` when no level sets it.
    pub unknown: Option<LocationAction>,
    /// Falls back to the effective `default` when no level sets it.
    pub anonymous: Option<LocationAction>,
}

/// Remembered devices ("Yes, this is my device").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RememberedDevices {
    #[default]
    Off,
    Remember {
        days: NonZeroU16,
        scope: RememberScope,
    },
}

impl RememberedDevices {
    /// When a grant made at `granted_at` (Unix seconds) stops counting, if grants exist.
    pub fn expires_at(&self, granted_at: i64) -> Option<i64> {
        match self {
            Self::Off => None,
            Self::Remember { days, .. } => {
                Some(granted_at.saturating_add(i64::from(days.get()).saturating_mul(86_400)))
            }
        }
    }
}

/// Whether a lock lifts by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoUnlock {
    /// Only an administrator unlocks (Duo's default).
    Never,
    AfterMinutes(NonZeroU32),
}

/// At most `max_requests` pushes to one user within any `window_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushRateLimit {
    pub max_requests: NonZeroU32,
    pub window_minutes: NonZeroU32,
}

impl Default for PushRateLimit {
    /// 10 pushes in 10 minutes.
    fn default() -> Self {
        Self {
            max_requests: NonZeroU32::MIN.saturating_add(9),
            window_minutes: NonZeroU32::MIN.saturating_add(9),
        }
    }
}

impl PushRateLimit {
    /// Whether one more push may be sent at `now`, given the times (Unix seconds) of the
    /// pushes already sent to the user.
    pub fn allows(&self, sent: &[i64], now: i64) -> bool {
        let window = i64::from(self.window_minutes.get()).saturating_mul(60);
        let since = now.saturating_sub(window);
        let recent = sent.iter().filter(|&&t| t > since).count();
        u32::try_from(recent).is_ok_and(|recent| recent < self.max_requests.get())
    }
}

impl Policy {
    /// This policy with `specific`'s settings laid over it: whatever `specific` sets wins.
    pub fn overlay(&self, specific: &Policy) -> Policy {
        fn pick<T: Clone>(general: &Option<T>, specific: &Option<T>) -> Option<T> {
            specific.as_ref().or(general.as_ref()).cloned()
        }
        Policy {
            authentication: pick(&self.authentication, &specific.authentication),
            new_user: pick(&self.new_user, &specific.new_user),
            allowed_methods: pick(&self.allowed_methods, &specific.allowed_methods),
            allow_plain_push: pick(&self.allow_plain_push, &specific.allow_plain_push),
            location: LocationRules {
                countries: pick(&self.location.countries, &specific.location.countries),
                default: pick(&self.location.default, &specific.location.default),
                unknown: pick(&self.location.unknown, &specific.location.unknown),
                anonymous: pick(&self.location.anonymous, &specific.location.anonymous),
            },
            authorized_networks: pick(&self.authorized_networks, &specific.authorized_networks),
            remembered_devices: pick(&self.remembered_devices, &specific.remembered_devices),
            lockout_threshold: pick(&self.lockout_threshold, &specific.lockout_threshold),
            auto_unlock: pick(&self.auto_unlock, &specific.auto_unlock),
            push_rate_limit: pick(&self.push_rate_limit, &specific.push_rate_limit),
        }
    }

    /// Every unset field filled with its default.
    pub fn resolve(&self) -> EffectivePolicy {
        let default = self.location.default.unwrap_or(LocationAction::Allow);
        EffectivePolicy {
            authentication: self
                .authentication
                .unwrap_or(AuthenticationAction::Require2fa),
            new_user: self.new_user.unwrap_or(NewUserAction::RequireEnrollment),
            allowed_methods: self
                .allowed_methods
                .clone()
                .unwrap_or_else(|| ALL_METHODS.iter().copied().collect()),
            allow_plain_push: self.allow_plain_push.unwrap_or(false),
            location: LocationPolicy {
                countries: self.location.countries.clone().unwrap_or_default(),
                default,
                unknown: self.location.unknown.unwrap_or(default),
                anonymous: self.location.anonymous.unwrap_or(default),
            },
            authorized_networks: self.authorized_networks.clone(),
            remembered_devices: self.remembered_devices.unwrap_or_default(),
            lockout: LockoutPolicy {
                threshold: self
                    .lockout_threshold
                    .map_or(LockoutPolicy::default().threshold, NonZeroU32::get),
                auto_unlock_after: match self.auto_unlock {
                    None | Some(AutoUnlock::Never) => None,
                    Some(AutoUnlock::AfterMinutes(minutes)) => {
                        Some(i64::from(minutes.get()).saturating_mul(60))
                    }
                },
            },
            push_rate_limit: self.push_rate_limit.unwrap_or_default(),
        }
    }
}

/// Every method, most secure first.
const ALL_METHODS: [Method; 10] = [
    Method::PlatformAuthenticator,
    Method::SecurityKey,
    Method::VerifiedPush,
    Method::Push,
    Method::YubikeyOtp,
    Method::Passcode,
    Method::HardwareToken,
    Method::SmsPasscode,
    Method::PhoneCall,
    Method::BypassCode,
];

/// The policy in force for one user of one application: every setting resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectivePolicy {
    pub authentication: AuthenticationAction,
    pub new_user: NewUserAction,
    pub allowed_methods: BTreeSet<Method>,
    pub allow_plain_push: bool,
    pub location: LocationPolicy,
    /// `None` when no level configures authorized networks.
    pub authorized_networks: Option<AuthorizedNetworks>,
    pub remembered_devices: RememberedDevices,
    pub lockout: LockoutPolicy,
    pub push_rate_limit: PushRateLimit,
}

impl Default for EffectivePolicy {
    fn default() -> Self {
        Policy::default().resolve()
    }
}

/// Why access is denied. The reason goes to logs and tokens (`as_str`), the code to the
/// prompt (`error_code`), and the sentence to the user (`user_message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenyReason {
    /// A sanctioned country or region; never overridable.
    SanctionedRegion,
    /// The location policy denies this country.
    LocationDenied,
    AnonymousNetwork,
    UnknownLocation,
    /// Outside the authorized networks of a "deny others" policy.
    NetworkNotAuthorized,
    /// The authentication policy is "deny".
    PolicyDenied,
    /// The user has no enrolled method and the new-user policy is "deny".
    DenyUnenrolledUser,
    /// The user's enrolled methods are all disallowed by the policy.
    NoUsableMethod,
}

impl DenyReason {
    /// The machine reason, in Duo's vocabulary where Duo has one.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SanctionedRegion => "sanctioned_region",
            Self::LocationDenied => "location_denied",
            Self::AnonymousNetwork => "anonymous_network",
            Self::UnknownLocation => "unknown_location",
            Self::NetworkNotAuthorized => "network_not_authorized",
            Self::PolicyDenied => "policy_denied",
            Self::DenyUnenrolledUser => "deny_unenrolled_user",
            Self::NoUsableMethod => "no_usable_method",
        }
    }

    /// The prompt API's error code for the denial.
    pub fn error_code(self) -> crate::v1::ErrorCode {
        use crate::v1::ErrorCode;
        match self {
            Self::SanctionedRegion
            | Self::LocationDenied
            | Self::AnonymousNetwork
            | Self::UnknownLocation => ErrorCode::LocationDenied,
            Self::NoUsableMethod => ErrorCode::MethodUnavailable,
            Self::NetworkNotAuthorized | Self::PolicyDenied | Self::DenyUnenrolledUser => {
                ErrorCode::AccessDenied
            }
        }
    }

    /// The sentence shown to the user; `service_name` is the configured name of the
    /// service (`DEFAULT_SERVICE_NAME` by default).
    pub fn user_message(self, service_name: &str) -> String {
        match self {
            Self::SanctionedRegion => format!(
                "Access denied. {service_name} does not provide services in your current location."
            ),
            Self::LocationDenied => {
                "Access denied. Your organization does not allow sign-ins from your current location.".into()
            }
            Self::AnonymousNetwork => {
                "Access denied. Sign-ins through anonymous networks such as Tor are not allowed.".into()
            }
            Self::UnknownLocation => {
                "Access denied. Your current location could not be determined.".into()
            }
            Self::NetworkNotAuthorized => {
                "Access denied. This application cannot be used from your current network.".into()
            }
            Self::PolicyDenied => "Access denied by your organization's policy.".into(),
            Self::DenyUnenrolledUser => {
                "Access denied. You are not enrolled in two-factor authentication; contact your help desk.".into()
            }
            Self::NoUsableMethod => {
                "Access denied. None of your devices can be used with this application; contact your help desk.".into()
            }
        }
    }
}

/// Why access is allowed without a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AllowReason {
    /// The authentication policy is "skip".
    AllowedByPolicy,
    /// Inside an authorized network that waives 2FA.
    TrustedNetwork,
    /// No enrolled method, and the new-user policy lets such users pass.
    AllowUnenrolledUser,
}

impl AllowReason {
    /// The machine reason, in Duo's vocabulary where Duo has one.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowedByPolicy => "allowed_by_policy",
            Self::TrustedNetwork => "trusted_network",
            Self::AllowUnenrolledUser => "allow_unenrolled_user",
        }
    }
}

/// The policy's verdict for one sign-in, before any factor is tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Deny(DenyReason),
    /// Allowed without a second factor.
    Allow(AllowReason),
    /// The user must enroll a method first.
    Enroll,
    /// A second factor with one of these methods, most secure first (never empty).
    /// A valid remembered-device grant (`remembered_devices`) may stand in for it; the
    /// edge, which holds the grants, decides that.
    SecondFactor(Vec<Method>),
}

impl EffectivePolicy {
    /// Merges the three levels: global < application < group.
    pub fn merge(global: &Policy, application: &Policy, group: &Policy) -> Self {
        global.overlay(application).overlay(group).resolve()
    }

    /// The user's usable methods, most secure first (`PRODUCT.md`'s ranking, which is the
    /// declaration order of `Method`): those enrolled and allowed, without duplicates, and
    /// without plain Push when Verified Push is allowed and plain Push is not allowed
    /// beside it.
    pub fn usable_methods(&self, enrolled: &[Method]) -> Vec<Method> {
        let hide_plain_push =
            !self.allow_plain_push && self.allowed_methods.contains(&Method::VerifiedPush);
        let usable: BTreeSet<Method> = enrolled
            .iter()
            .copied()
            .filter(|method| self.allowed_methods.contains(method))
            .filter(|method| !(hide_plain_push && *method == Method::Push))
            .collect();
        usable.into_iter().collect()
    }

    /// The verdict for a sign-in from `location` and `client` (the platform's values) by a
    /// user with `enrolled` methods. Order: sanctioned regions and the location rule, the
    /// authentication policy's deny, the networks' deny; then whether 2FA is needed (a
    /// "require 2FA" from location or network beats a skip or a trusted network); then
    /// enrollment and the usable methods. Users in bypass status are the edge's business,
    /// but it must still refuse sanctioned locations (`Location::is_sanctioned`) for them.
    pub fn evaluate(
        &self,
        location: &Location,
        client: Option<IpAddr>,
        enrolled: &[Method],
    ) -> Access {
        let location = self.location.decide(location);
        if let LocationDecision::Deny { reason } = location {
            return Access::Deny(reason);
        }
        if self.authentication == AuthenticationAction::Deny {
            return Access::Deny(DenyReason::PolicyDenied);
        }
        let network = self
            .authorized_networks
            .as_ref()
            .map_or(NetworkDecision::NoEffect, |n| n.decide(client));
        if let NetworkDecision::Deny { reason } = network {
            return Access::Deny(reason);
        }
        let forced =
            location == LocationDecision::Require2fa || network == NetworkDecision::Require2fa;
        if !forced {
            if network == NetworkDecision::AllowWithout2fa {
                return Access::Allow(AllowReason::TrustedNetwork);
            }
            if self.authentication == AuthenticationAction::Skip {
                return Access::Allow(AllowReason::AllowedByPolicy);
            }
        }
        if enrolled.is_empty() {
            return match self.new_user {
                NewUserAction::Deny => Access::Deny(DenyReason::DenyUnenrolledUser),
                NewUserAction::Allow if !forced => Access::Allow(AllowReason::AllowUnenrolledUser),
                NewUserAction::Allow | NewUserAction::RequireEnrollment => Access::Enroll,
            };
        }
        match self.usable_methods(enrolled) {
            methods if methods.is_empty() => Access::Deny(DenyReason::NoUsableMethod),
            methods => Access::SecondFactor(methods),
        }
    }
}

#[cfg(test)]
mod tests;
