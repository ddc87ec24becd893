use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use LocationAction::{Allow as A, Deny as D, Require2fa as R};

fn code(text: &str) -> CountryCode {
    text.parse().unwrap()
}

/// A strict policy: Canada allowed, Germany 2FA, France denied, everything else allowed,
/// unknown requiring 2FA, Tor denied.
fn strict() -> LocationPolicy {
    LocationPolicy {
        countries: [(code("CA"), A), (code("DE"), R), (code("FR"), D)].into(),
        default: A,
        unknown: R,
        anonymous: D,
    }
}

/// A policy that allows everything, including the sanctioned countries by name.
fn permissive() -> LocationPolicy {
    LocationPolicy {
        countries: SANCTIONED_COUNTRIES.iter().map(|c| (code(c), A)).collect(),
        default: A,
        unknown: A,
        anonymous: A,
    }
}

const ALLOW: LocationDecision = LocationDecision::Allow;
const TWO_FA: LocationDecision = LocationDecision::Require2fa;
const fn deny(reason: DenyReason) -> LocationDecision {
    LocationDecision::Deny { reason }
}
const SANCTIONED: LocationDecision = deny(DenyReason::SanctionedRegion);

fn check(
    country: Option<&str>,
    region: Option<&str>,
    policy: &LocationPolicy,
    expected: LocationDecision,
) {
    let location = Location::from_platform(country, region);
    assert_eq!(
        policy.decide(&location),
        expected,
        "country {country:?} region {region:?} → {location:?}"
    );
}

#[test]
fn sanctioned_regions_are_denied_whatever_the_policy() {
    let cases: &[(Option<&str>, Option<&str>)] = &[
        (Some("CU"), None),
        (Some("IR"), None),
        (Some("KP"), None),
        (Some("SY"), None),
        (Some("IR"), Some("07")),
        // Cloudflare's regionCode is the part after the dash.
        (Some("UA"), Some("43")),
        (Some("UA"), Some("40")),
        (Some("UA"), Some("14")),
        (Some("UA"), Some("09")),
        // A full ISO 3166-2 code is accepted too.
        (Some("UA"), Some("UA-43")),
        (Some("UA"), Some("UA-09")),
        // Platform input in lower case or padded is normalised, never let through.
        (Some("cu"), None),
        (Some("kp "), None),
        (Some("ua"), Some("ua-40")),
        (Some("Ua"), Some("14")),
    ];
    for policy in [strict(), permissive(), LocationPolicy::default()] {
        for &(country, region) in cases {
            check(country, region, &policy, SANCTIONED);
        }
    }
}

#[test]
fn the_rest_of_ukraine_follows_the_policy() {
    for region in [
        None,
        Some("30"),
        Some("UA-30"),
        Some("46"),
        Some("4"),
        Some("430"),
        Some("RU-43"),
        Some(""),
    ] {
        check(Some("UA"), region, &permissive(), ALLOW);
        check(Some("UA"), region, &strict(), ALLOW);
    }
    // Region codes of other countries that look like the sanctioned ones.
    check(Some("RU"), Some("43"), &permissive(), ALLOW);
    check(Some("US"), Some("UA-43"), &permissive(), ALLOW);
}

#[test]
fn countries_default_unknown_and_anonymous() {
    let policy = strict();
    let cases: &[(Option<&str>, Option<&str>, LocationDecision)] = &[
        (Some("CA"), None, ALLOW),
        (Some("DE"), Some("BY"), TWO_FA),
        (Some("de"), None, TWO_FA),
        (Some("FR"), None, deny(DenyReason::LocationDenied)),
        (Some("CH"), None, ALLOW),
        // Tor.
        (Some("T1"), None, deny(DenyReason::AnonymousNetwork)),
        (Some("t1"), None, deny(DenyReason::AnonymousNetwork)),
        // Unknown: absent, empty, XX, unassigned, malformed.
        (None, None, TWO_FA),
        (Some(""), None, TWO_FA),
        (Some("XX"), None, TWO_FA),
        (Some("ZZ"), None, TWO_FA),
        (Some("USA"), None, TWO_FA),
        (Some("1"), None, TWO_FA),
        (Some("ÜA"), None, TWO_FA),
    ];
    for &(country, region, expected) in cases {
        check(country, region, &policy, expected);
    }
}

#[test]
fn the_default_policy_allows_all_but_sanctioned() {
    let policy = LocationPolicy::default();
    for country in [Some("US"), Some("T1"), Some("XX"), None, Some("XK")] {
        check(country, None, &policy, ALLOW);
    }
}

#[test]
fn configured_country_codes() {
    let cases: &[(&str, Result<&str, CountryCodeError>)] = &[
        ("CH", Ok("CH")),
        ("ch", Ok("CH")),
        ("Xk", Ok("XK")),
        ("ZW", Ok("ZW")),
        ("AD", Ok("AD")),
        ("ZZ", Err(CountryCodeError::Unassigned("ZZ".into()))),
        ("UK", Err(CountryCodeError::Unassigned("UK".into()))),
        (
            "T1",
            Err(CountryCodeError::Special("T1".into(), "anonymous")),
        ),
        ("xx", Err(CountryCodeError::Special("XX".into(), "unknown"))),
        ("", Err(CountryCodeError::Malformed("".into()))),
        ("C", Err(CountryCodeError::Malformed("C".into()))),
        ("CHE", Err(CountryCodeError::Malformed("CHE".into()))),
        ("C1", Err(CountryCodeError::Malformed("C1".into()))),
        (" CH", Err(CountryCodeError::Malformed(" CH".into()))),
        ("ÇH", Err(CountryCodeError::Malformed("ÇH".into()))),
    ];
    for (input, expected) in cases {
        let parsed = input.parse::<CountryCode>();
        assert_eq!(
            parsed.as_ref().map(CountryCode::as_str),
            expected.as_ref().map(|s| *s),
            "{input:?}"
        );
    }
}

#[test]
fn the_iso_table_is_sorted_and_complete() {
    let codes: Vec<&[u8]> = ISO_3166_1.as_bytes().chunks(2).collect();
    assert_eq!(codes.len(), 250, "249 assigned codes and XK");
    assert!(
        codes.windows(2).all(|w| w[0] < w[1]),
        "sorted, no duplicates"
    );
    for (country, _) in SANCTIONED_REGIONS {
        assert!(country.parse::<CountryCode>().is_ok());
    }
    for country in SANCTIONED_COUNTRIES {
        assert!(country.parse::<CountryCode>().is_ok());
    }
}
