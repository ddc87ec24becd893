//! The user-location rule: where the edge platform says the request comes from, and what
//! the policy does about it.
//!
//! The country arrives only from the platform (Cloudflare's `request.cf.country`, ISO
//! 3166-1 alpha-2, `XX` when unknown, `T1` for Tor) with the subdivision beside it
//! (`request.cf.regionCode`, the ISO 3166-2 part after the dash, e.g. `43`); no header a
//! client sends may reach here. Sanctioned regions are decided before any policy and
//! cannot be allowed by one.
//!
//! Case: platform input is normalised to upper case before anything is compared, so a
//! platform that sends `cu` is still refused as Cuba rather than slipping through as an
//! unknown country. Configured country codes are normalised the same way; a map holding
//! both `cu` and `CU` is refused as a duplicate.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::DenyReason;
pub use crate::v1::LocationAction;

/// Countries under comprehensive sanctions, always denied (`PRODUCT.md` "Policies";
/// Duo's KB is authoritative and the list can change).
pub const SANCTIONED_COUNTRIES: &[&str] = &["CU", "IR", "KP", "SY"];

/// Sanctioned subdivisions, as (country, ISO 3166-2 subdivision): Crimea (UA-43),
/// Sevastopol (UA-40), Donetsk (UA-14) and Luhansk (UA-09).
pub const SANCTIONED_REGIONS: &[(&str, &str)] =
    &[("UA", "43"), ("UA", "40"), ("UA", "14"), ("UA", "09")];

/// The officially assigned ISO 3166-1 alpha-2 codes (249, from Debian's `iso-codes`), plus
/// `XK` (Kosovo), the user-assigned code geolocation databases and Cloudflare use.
/// Sorted, two letters each.
const ISO_3166_1: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ\
CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGF\
GGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKW\
KYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINL\
NONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSST\
SVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

/// An assigned ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

/// Why a configured country code was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CountryCodeError {
    #[error("a country code is two letters (ISO 3166-1 alpha-2), not {0:?}")]
    Malformed(String),
    #[error("{0:?} is not an assigned ISO 3166-1 country code")]
    Unassigned(String),
    #[error("{0:?} is the platform's marker for {1}; set the `{1}` action instead")]
    Special(String, &'static str),
}

impl CountryCode {
    /// The code as text, e.g. `"CH"`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    fn is_assigned(code: [u8; 2]) -> bool {
        ISO_3166_1
            .as_bytes()
            .chunks_exact(2)
            .any(|pair| pair == code)
    }
}

impl FromStr for CountryCode {
    type Err = CountryCodeError;

    /// Parses a configured code, normalising case (`ch` → `CH`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.to_ascii_uppercase();
        match upper.as_bytes() {
            b"T1" => Err(CountryCodeError::Special(upper, "anonymous")),
            b"XX" => Err(CountryCodeError::Special(upper, "unknown")),
            &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
                if Self::is_assigned([a, b]) {
                    Ok(Self([a, b]))
                } else {
                    Err(CountryCodeError::Unassigned(text.to_owned()))
                }
            }
            _ => Err(CountryCodeError::Malformed(text.to_owned())),
        }
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a request comes from, as the platform reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A known country, with the ISO 3166-2 subdivision (the part after the dash) when the
    /// platform gave one.
    Country {
        country: CountryCode,
        region: Option<String>,
    },
    /// An anonymising network (Tor exit, country `T1`).
    Anonymous,
    /// No country, `XX`, or a code that is not an assigned country.
    Unknown,
}

impl Location {
    /// Reads the platform's fields: `country` as `request.cf.country`, `region` as
    /// `request.cf.regionCode` (`"43"`) or a full ISO 3166-2 code (`"UA-43"`; a full code
    /// of another country is ignored). Case is normalised; an empty string counts as
    /// absent.
    pub fn from_platform(country: Option<&str>, region: Option<&str>) -> Self {
        let Some(country) = country.map(str::trim).filter(|c| !c.is_empty()) else {
            return Self::Unknown;
        };
        if country.eq_ignore_ascii_case("T1") {
            return Self::Anonymous;
        }
        let Ok(country) = country.parse::<CountryCode>() else {
            return Self::Unknown;
        };
        let region = region
            .map(|r| r.trim().to_ascii_uppercase())
            .and_then(|r| match r.split_once('-') {
                Some((prefix, code)) => (prefix == country.as_str()).then(|| code.to_owned()),
                None => Some(r),
            })
            .filter(|r| !r.is_empty());
        Self::Country { country, region }
    }

    /// Whether the location is a sanctioned country or region. Checked before any policy,
    /// and by the edge even for users in bypass status.
    pub fn is_sanctioned(&self) -> bool {
        let Self::Country { country, region } = self else {
            return false;
        };
        let country = country.as_str();
        SANCTIONED_COUNTRIES.contains(&country)
            || region.as_deref().is_some_and(|region| {
                SANCTIONED_REGIONS
                    .iter()
                    .any(|&(c, r)| c == country && r == region)
            })
    }
}

/// The location rule's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationDecision {
    /// No objection; the rest of the policy decides.
    Allow,
    /// 2FA is required from here, whatever else would waive it.
    Require2fa,
    Deny {
        reason: DenyReason,
    },
}

/// The effective location rule: per-country actions, a default, and explicit actions for
/// unknown locations and anonymous networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationPolicy {
    pub countries: BTreeMap<CountryCode, LocationAction>,
    pub default: LocationAction,
    pub unknown: LocationAction,
    pub anonymous: LocationAction,
}

impl Default for LocationPolicy {
    /// No location restriction beyond the sanctioned regions.
    fn default() -> Self {
        Self {
            countries: BTreeMap::new(),
            default: LocationAction::Allow,
            unknown: LocationAction::Allow,
            anonymous: LocationAction::Allow,
        }
    }
}

impl LocationPolicy {
    /// Decides for a location: sanctioned regions first (always denied), then the
    /// matching rule.
    pub fn decide(&self, location: &Location) -> LocationDecision {
        if location.is_sanctioned() {
            return LocationDecision::Deny {
                reason: DenyReason::SanctionedRegion,
            };
        }
        let (action, reason) = match location {
            Location::Country { country, .. } => (
                self.countries.get(country).copied().unwrap_or(self.default),
                DenyReason::LocationDenied,
            ),
            Location::Anonymous => (self.anonymous, DenyReason::AnonymousNetwork),
            Location::Unknown => (self.unknown, DenyReason::UnknownLocation),
        };
        match action {
            LocationAction::Allow => LocationDecision::Allow,
            LocationAction::Require2fa => LocationDecision::Require2fa,
            LocationAction::Deny => LocationDecision::Deny { reason },
        }
    }
}

#[cfg(test)]
mod tests;
