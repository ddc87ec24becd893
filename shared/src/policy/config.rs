//! Between the wire form (`v1::PolicyConfig`) and the checked `Policy`: every value that
//! could be wrong is refused here with the field it came from.

use std::collections::{BTreeMap, BTreeSet};
use std::num::{NonZeroU16, NonZeroU32};

use thiserror::Error;

use super::{
    AuthorizedNetworks, AutoUnlock, CountryCode, CountryCodeError, LocationRules, NetworksError,
    Policy, PushRateLimit, RememberedDevices,
};
use crate::v1;

/// Remembered-device grants last at most a year.
const MAX_REMEMBER_DAYS: u16 = 365;
/// NIST SP 800-63B §5.2.2: no more than 100 consecutive failures.
const MAX_LOCKOUT_THRESHOLD: u32 = 100;
/// A push rate-limit window is at most a day.
const MAX_PUSH_WINDOW_MINUTES: u32 = 1440;

/// Why a policy configuration was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyConfigError {
    #[error("allowed_methods: at least one method must be allowed")]
    NoMethods,
    #[error("location.countries: {0}")]
    Country(#[source] CountryCodeError),
    #[error("location.countries: {0} is given twice")]
    DuplicateCountry(CountryCode),
    #[error("authorized_networks: {0}")]
    Networks(#[source] NetworksError),
    #[error("remembered_devices.days: {0} is not within 1 to {MAX_REMEMBER_DAYS}")]
    RememberDays(u16),
    #[error("lockout.threshold: {0} is not within 1 to {MAX_LOCKOUT_THRESHOLD}")]
    LockoutThreshold(u32),
    #[error("push_rate_limit: max_requests must be at least 1")]
    PushMaxRequests,
    #[error("push_rate_limit.window_minutes: {0} is not within 1 to {MAX_PUSH_WINDOW_MINUTES}")]
    PushWindow(u32),
}

impl TryFrom<v1::PolicyConfig> for Policy {
    type Error = PolicyConfigError;

    fn try_from(config: v1::PolicyConfig) -> Result<Self, Self::Error> {
        let allowed_methods = config
            .allowed_methods
            .map(|methods| {
                let set: BTreeSet<_> = methods.into_iter().collect();
                if set.is_empty() {
                    Err(PolicyConfigError::NoMethods)
                } else {
                    Ok(set)
                }
            })
            .transpose()?;
        let location = config.location.unwrap_or_default();
        let countries = location.countries.map(countries).transpose()?;
        let authorized_networks = config
            .authorized_networks
            .map(|n| AuthorizedNetworks::parse(&n.networks, n.action))
            .transpose()
            .map_err(PolicyConfigError::Networks)?;
        let remembered_devices = config
            .remembered_devices
            .map(|r| match r {
                v1::RememberedDevicesConfig::Off => Ok(RememberedDevices::Off),
                v1::RememberedDevicesConfig::Remember { days, scope } => NonZeroU16::new(days)
                    .filter(|d| d.get() <= MAX_REMEMBER_DAYS)
                    .map(|days| RememberedDevices::Remember { days, scope })
                    .ok_or(PolicyConfigError::RememberDays(days)),
            })
            .transpose()?;
        let lockout = config.lockout.unwrap_or_default();
        let lockout_threshold = lockout
            .threshold
            .map(|t| {
                NonZeroU32::new(t)
                    .filter(|t| t.get() <= MAX_LOCKOUT_THRESHOLD)
                    .ok_or(PolicyConfigError::LockoutThreshold(t))
            })
            .transpose()?;
        let auto_unlock = lockout
            .auto_unlock_minutes
            .map(|m| NonZeroU32::new(m).map_or(AutoUnlock::Never, AutoUnlock::AfterMinutes));
        let push_rate_limit = config
            .push_rate_limit
            .map(|p| {
                let max_requests =
                    NonZeroU32::new(p.max_requests).ok_or(PolicyConfigError::PushMaxRequests)?;
                let window_minutes = NonZeroU32::new(p.window_minutes)
                    .filter(|w| w.get() <= MAX_PUSH_WINDOW_MINUTES)
                    .ok_or(PolicyConfigError::PushWindow(p.window_minutes))?;
                Ok(PushRateLimit {
                    max_requests,
                    window_minutes,
                })
            })
            .transpose()?;
        Ok(Policy {
            authentication: config.authentication,
            new_user: config.new_user,
            allowed_methods,
            allow_plain_push: config.allow_plain_push,
            location: LocationRules {
                countries,
                default: location.default,
                unknown: location.unknown,
                anonymous: location.anonymous,
            },
            authorized_networks,
            remembered_devices,
            lockout_threshold,
            auto_unlock,
            push_rate_limit,
        })
    }
}

fn countries(
    map: BTreeMap<String, v1::LocationAction>,
) -> Result<BTreeMap<CountryCode, v1::LocationAction>, PolicyConfigError> {
    let mut countries = BTreeMap::new();
    for (key, action) in map {
        let code: CountryCode = key.parse().map_err(PolicyConfigError::Country)?;
        if countries.insert(code, action).is_some() {
            return Err(PolicyConfigError::DuplicateCountry(code));
        }
    }
    Ok(countries)
}

impl From<&Policy> for v1::PolicyConfig {
    /// The wire form of a checked policy; `Policy::try_from` of it gives the policy back.
    fn from(policy: &Policy) -> Self {
        let rules = &policy.location;
        let location = (rules != &LocationRules::default()).then(|| v1::LocationConfig {
            countries: rules.countries.as_ref().map(|countries| {
                countries
                    .iter()
                    .map(|(code, action)| (code.as_str().to_owned(), *action))
                    .collect()
            }),
            default: rules.default,
            unknown: rules.unknown,
            anonymous: rules.anonymous,
        });
        let lockout =
            (policy.lockout_threshold.is_some() || policy.auto_unlock.is_some()).then(|| {
                v1::LockoutConfig {
                    threshold: policy.lockout_threshold.map(NonZeroU32::get),
                    auto_unlock_minutes: policy.auto_unlock.map(|a| match a {
                        AutoUnlock::Never => 0,
                        AutoUnlock::AfterMinutes(m) => m.get(),
                    }),
                }
            });
        Self {
            authentication: policy.authentication,
            new_user: policy.new_user,
            allowed_methods: policy
                .allowed_methods
                .as_ref()
                .map(|methods| methods.iter().copied().collect()),
            allow_plain_push: policy.allow_plain_push,
            location,
            authorized_networks: policy.authorized_networks.as_ref().map(|n| {
                v1::AuthorizedNetworksConfig {
                    networks: n.networks().iter().map(ToString::to_string).collect(),
                    action: n.action(),
                }
            }),
            remembered_devices: policy.remembered_devices.map(|r| match r {
                RememberedDevices::Off => v1::RememberedDevicesConfig::Off,
                RememberedDevices::Remember { days, scope } => {
                    v1::RememberedDevicesConfig::Remember {
                        days: days.get(),
                        scope,
                    }
                }
            }),
            lockout,
            push_rate_limit: policy.push_rate_limit.map(|p| v1::PushRateLimitConfig {
                max_requests: p.max_requests.get(),
                window_minutes: p.window_minutes.get(),
            }),
        }
    }
}
