use std::collections::BTreeMap;

use super::*;
use crate::v1;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn policy(json: &str) -> Policy {
    let config: v1::PolicyConfig = serde_json::from_str(json).unwrap();
    Policy::try_from(config).unwrap()
}

fn code(text: &str) -> CountryCode {
    text.parse().unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn defaults_are_duos() {
    let effective = EffectivePolicy::default();
    assert_eq!(effective.authentication, AuthenticationAction::Require2fa);
    assert_eq!(effective.new_user, NewUserAction::RequireEnrollment);
    assert_eq!(effective.allowed_methods.len(), 10, "every method");
    assert!(!effective.allow_plain_push);
    assert_eq!(effective.location, LocationPolicy::default());
    assert_eq!(effective.authorized_networks, None);
    assert_eq!(effective.remembered_devices, RememberedDevices::Off);
    assert_eq!(effective.lockout, LockoutPolicy::default());
    assert_eq!(effective.lockout.threshold, 10);
    assert_eq!(effective.lockout.auto_unlock_after, None);
    assert_eq!(effective.push_rate_limit.max_requests.get(), 10);
    assert_eq!(effective.push_rate_limit.window_minutes.get(), 10);
    let empty = Policy::default();
    assert_eq!(EffectivePolicy::merge(&empty, &empty, &empty), effective);
}

#[test]
fn group_beats_application_beats_global() {
    let global = policy(
        r#"{"authentication": "require_2fa", "new_user": "deny",
            "location": {"countries": {"FR": "deny"}, "default": "require_2fa", "anonymous": "deny"},
            "lockout": {"threshold": 5, "auto_unlock_minutes": 90},
            "remembered_devices": {"mode": "remember", "days": 30, "scope": "shared"}}"#,
    );
    let application = policy(
        r#"{"authentication": "skip", "allowed_methods": ["push", "verified_push", "passcode"],
            "location": {"countries": {"DE": "deny"}},
            "lockout": {"auto_unlock_minutes": 0},
            "authorized_networks": {"networks": ["192.0.2.0/24"], "action": "allow_without_2fa"}}"#,
    );
    let group = policy(
        r#"{"authentication": "deny", "allow_plain_push": true,
            "location": {"default": "allow"},
            "remembered_devices": {"mode": "off"}}"#,
    );
    let none = Policy::default();

    let merged = EffectivePolicy::merge(&global, &application, &group);
    assert_eq!(
        merged.authentication,
        AuthenticationAction::Deny,
        "group wins"
    );
    assert_eq!(merged.new_user, NewUserAction::Deny, "only global sets it");
    assert_eq!(
        merged.allowed_methods.iter().copied().collect::<Vec<_>>(),
        [Method::VerifiedPush, Method::Push, Method::Passcode]
    );
    assert!(merged.allow_plain_push);
    // The country map is replaced as a whole; the other location fields inherit one by one.
    assert_eq!(
        merged.location.countries,
        BTreeMap::from([(code("DE"), LocationAction::Deny)])
    );
    assert_eq!(merged.location.default, LocationAction::Allow);
    assert_eq!(merged.location.anonymous, LocationAction::Deny);
    assert_eq!(
        merged.location.unknown,
        LocationAction::Allow,
        "follows the effective default"
    );
    assert_eq!(
        merged.lockout,
        LockoutPolicy {
            threshold: 5,
            auto_unlock_after: None
        }
    );
    assert_eq!(merged.remembered_devices, RememberedDevices::Off);
    assert!(merged.authorized_networks.is_some());

    let without_group = EffectivePolicy::merge(&global, &application, &none);
    assert_eq!(without_group.authentication, AuthenticationAction::Skip);
    assert!(!without_group.allow_plain_push);
    assert_eq!(without_group.location.default, LocationAction::Require2fa);
    assert_eq!(without_group.location.unknown, LocationAction::Require2fa);
    assert_eq!(
        without_group.remembered_devices.expires_at(1_000),
        Some(1_000 + 30 * 86_400)
    );

    let global_only = EffectivePolicy::merge(&global, &none, &none);
    assert_eq!(
        global_only.lockout,
        LockoutPolicy {
            threshold: 5,
            auto_unlock_after: Some(5400)
        }
    );
    assert_eq!(
        global_only.location.countries,
        BTreeMap::from([(code("FR"), LocationAction::Deny)])
    );
    assert_eq!(global_only.authorized_networks, None);

    // Overlaying is associative: folding several groups gives the same as one overlay.
    assert_eq!(
        global.overlay(&application).overlay(&group),
        global.overlay(&application.overlay(&group))
    );
}

/// Configuration JSON → `Policy::try_from` error message (or `None` for success).
fn check(json: &str, expected: Option<&str>) {
    let result = serde_json::from_str::<v1::PolicyConfig>(json)
        .map_err(|e| format!("json: {e}"))
        .and_then(|config| Policy::try_from(config).map_err(|e| e.to_string()));
    match (result, expected) {
        (Ok(_), None) => {}
        (Err(error), Some(expected)) => assert!(
            error.starts_with(expected),
            "{json}: got {error:?}, expected {expected:?}"
        ),
        (result, expected) => panic!("{json}: got {result:?}, expected {expected:?}"),
    }
}

#[test]
fn configuration_errors() {
    let cases: &[(&str, Option<&str>)] = &[
        ("{}", None),
        (r#"{"authentication": "skip", "new_user": "allow"}"#, None),
        (
            r#"{"location": {"countries": {"ch": "deny", "T1": "deny"}}}"#,
            Some("location.countries: \"T1\" is the platform's marker for anonymous"),
        ),
        (r#"{"location": {"countries": {"ch": "deny"}}}"#, None),
        (
            r#"{"location": {"countries": {"CH": "deny", "ch": "allow"}}}"#,
            Some("location.countries: CH is given twice"),
        ),
        (
            r#"{"location": {"countries": {"ZZ": "deny"}}}"#,
            Some("location.countries: \"ZZ\" is not an assigned"),
        ),
        (
            r#"{"location": {"countries": {"XX": "deny"}}}"#,
            Some("location.countries: \"XX\" is the platform's marker for unknown"),
        ),
        (
            r#"{"location": {"countries": {"Switzerland": "deny"}}}"#,
            Some("location.countries: a country code is two letters"),
        ),
        (
            r#"{"location": {"countries": {"CH": "block"}}}"#,
            Some("json: unknown variant `block`"),
        ),
        (
            r#"{"location": {"default": "deny", "tor": "deny"}}"#,
            Some("json: unknown field `tor`"),
        ),
        (
            r#"{"allowed_methods": []}"#,
            Some("allowed_methods: at least one method"),
        ),
        (r#"{"allowed_methods": ["push", "push"]}"#, None),
        (
            r#"{"allowed_methods": ["carrier_pigeon"]}"#,
            Some("json: unknown variant"),
        ),
        (
            r#"{"alowed_methods": ["push"]}"#,
            Some("json: unknown field `alowed_methods`"),
        ),
        (
            r#"{"authorized_networks": {"networks": ["10.0.0.0/8", "10.0.0.1/8"], "action": "deny_others"}}"#,
            Some("authorized_networks: network 1: 10.0.0.1/8 has host bits set"),
        ),
        (
            r#"{"authorized_networks": {"networks": ["10.0.0.0/33"], "action": "deny_others"}}"#,
            Some("authorized_networks: network 0: the prefix length 33"),
        ),
        (
            r#"{"authorized_networks": {"networks": ["intranet"], "action": "deny_others"}}"#,
            Some("authorized_networks: network 0: \"intranet\" is not an IPv4"),
        ),
        (
            r#"{"authorized_networks": {"networks": [], "action": "deny_others"}}"#,
            Some("authorized_networks: authorized networks need at least one block"),
        ),
        (
            r#"{"authorized_networks": {"networks": ["10.0.0.0/8"]}}"#,
            Some("json: missing field `action`"),
        ),
        (
            r#"{"remembered_devices": {"mode": "remember", "days": 0, "scope": "per_app"}}"#,
            Some("remembered_devices.days: 0 is not within 1 to 365"),
        ),
        (
            r#"{"remembered_devices": {"mode": "remember", "days": 366, "scope": "per_app"}}"#,
            Some("remembered_devices.days: 366"),
        ),
        (
            r#"{"remembered_devices": {"mode": "remember", "days": 365, "scope": "per_app"}}"#,
            None,
        ),
        (
            r#"{"remembered_devices": {"mode": "remember", "days": 30}}"#,
            Some("json: missing field `scope`"),
        ),
        (
            r#"{"remembered_devices": {"mode": "sometimes"}}"#,
            Some("json: unknown variant `sometimes`"),
        ),
        (
            r#"{"lockout": {"threshold": 0}}"#,
            Some("lockout.threshold: 0 is not within 1 to 100"),
        ),
        (
            r#"{"lockout": {"threshold": 101}}"#,
            Some("lockout.threshold: 101"),
        ),
        (
            r#"{"lockout": {"threshold": 100, "auto_unlock_minutes": 4294967295}}"#,
            None,
        ),
        (
            r#"{"lockout": {"threshold": -1}}"#,
            Some("json: invalid value"),
        ),
        (
            r#"{"push_rate_limit": {"max_requests": 0, "window_minutes": 10}}"#,
            Some("push_rate_limit: max_requests must be at least 1"),
        ),
        (
            r#"{"push_rate_limit": {"max_requests": 3, "window_minutes": 0}}"#,
            Some("push_rate_limit.window_minutes: 0"),
        ),
        (
            r#"{"push_rate_limit": {"max_requests": 3, "window_minutes": 1441}}"#,
            Some("push_rate_limit.window_minutes: 1441"),
        ),
        (
            r#"{"authentication": "require2fa"}"#,
            Some("json: unknown variant `require2fa`"),
        ),
        ("null", Some("json: invalid type")),
        (r#"{"lockout": "strict"}"#, Some("json: invalid type")),
    ];
    for &(json, expected) in cases {
        check(json, expected);
    }
}

#[test]
fn wire_form_round_trips() {
    let json = r#"{"authentication":"require_2fa","new_user":"allow","allowed_methods":["security_key","passcode"],"allow_plain_push":false,"location":{"countries":{"CH":"allow","FR":"deny"},"default":"require_2fa","unknown":"deny","anonymous":"deny"},"authorized_networks":{"networks":["192.0.2.0/24","2001:db8::/32"],"action":"deny_others"},"remembered_devices":{"mode":"remember","days":30,"scope":"per_app"},"lockout":{"threshold":5,"auto_unlock_minutes":0},"push_rate_limit":{"max_requests":3,"window_minutes":5}}"#;
    let config: v1::PolicyConfig = serde_json::from_str(json).unwrap();
    let checked = Policy::try_from(config.clone()).unwrap();
    let back = v1::PolicyConfig::from(&checked);
    assert_eq!(back, config);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert_eq!(checked.auto_unlock, Some(AutoUnlock::Never));
    // Normalised forms come back normalised.
    let config: v1::PolicyConfig = serde_json::from_str(
        r#"{"location":{"countries":{"ch":"deny"}},"authorized_networks":{"networks":["::ffff:10.0.0.0/104"],"action":"require_2fa"}}"#,
    )
    .unwrap();
    let normalised =
        serde_json::to_string(&v1::PolicyConfig::from(&Policy::try_from(config).unwrap())).unwrap();
    assert_eq!(
        normalised,
        r#"{"location":{"countries":{"CH":"deny"}},"authorized_networks":{"networks":["10.0.0.0/8"],"action":"require_2fa"}}"#
    );
    assert_eq!(
        serde_json::to_string(&v1::PolicyConfig::default()).unwrap(),
        "{}"
    );
}

#[test]
fn usable_methods_are_ranked_and_filtered() {
    use Method::*;
    let all = [
        BypassCode,
        PhoneCall,
        SmsPasscode,
        HardwareToken,
        Passcode,
        YubikeyOtp,
        Push,
        VerifiedPush,
        SecurityKey,
        PlatformAuthenticator,
    ];
    // (policy, enrolled, usable)
    let cases: &[(&str, &[Method], &[Method])] = &[
        (
            "{}",
            &all,
            &[
                PlatformAuthenticator,
                SecurityKey,
                VerifiedPush,
                YubikeyOtp,
                Passcode,
                HardwareToken,
                SmsPasscode,
                PhoneCall,
                BypassCode,
            ],
        ),
        (
            r#"{"allow_plain_push": true}"#,
            &[Push, VerifiedPush, Passcode],
            &[VerifiedPush, Push, Passcode],
        ),
        (
            "{}",
            &[Push, VerifiedPush, Passcode],
            &[VerifiedPush, Passcode],
        ),
        // Plain Push is the only push the policy allows: offered.
        (
            r#"{"allowed_methods": ["push", "passcode"]}"#,
            &[Push, VerifiedPush, Passcode],
            &[Push, Passcode],
        ),
        (r#"{"allowed_methods": ["verified_push"]}"#, &[Push], &[]),
        (
            r#"{"allowed_methods": ["sms_passcode", "phone_call"]}"#,
            &[PhoneCall, Passcode, SmsPasscode, PhoneCall],
            &[SmsPasscode, PhoneCall],
        ),
        ("{}", &[], &[]),
    ];
    for &(json, enrolled, usable) in cases {
        let effective = policy(json).resolve();
        assert_eq!(
            effective.usable_methods(enrolled),
            usable,
            "{json} {enrolled:?}"
        );
    }
}

/// (policy JSON, location, client address, enrolled methods, verdict)
type AccessCase<'a> = (String, &'a Location, Option<IpAddr>, &'a [Method], Access);

#[test]
fn access_verdicts() {
    use Method::*;
    let ch = Location::from_platform(Some("CH"), None);
    let crimea = Location::from_platform(Some("UA"), Some("43"));
    let de = Location::from_platform(Some("DE"), None);
    let tor = Location::from_platform(Some("T1"), None);
    let office = Some(ip("192.0.2.10"));
    let home = Some(ip("198.51.100.1"));
    let phone: &[Method] = &[Push, VerifiedPush, Passcode];
    let none: &[Method] = &[];
    let two_fa = Access::SecondFactor(vec![VerifiedPush, Passcode]);
    let trusted =
        r#""authorized_networks": {"networks": ["192.0.2.0/24"], "action": "allow_without_2fa"}"#;
    let deny_others =
        r#""authorized_networks": {"networks": ["192.0.2.0/24"], "action": "deny_others"}"#;
    let require =
        r#""authorized_networks": {"networks": ["192.0.2.0/24"], "action": "require_2fa"}"#;
    let cases: Vec<AccessCase> = vec![
        ("{}".into(), &ch, home, phone, two_fa.clone()),
        ("{}".into(), &ch, None, phone, two_fa.clone()),
        // Sanctioned beats everything, even skip and trusted networks.
        (
            format!(r#"{{"authentication": "skip", {trusted}}}"#),
            &crimea,
            office,
            phone,
            Access::Deny(DenyReason::SanctionedRegion),
        ),
        (
            r#"{"authentication": "deny"}"#.into(),
            &ch,
            home,
            phone,
            Access::Deny(DenyReason::PolicyDenied),
        ),
        (
            r#"{"location": {"countries": {"DE": "deny"}}}"#.into(),
            &de,
            office,
            phone,
            Access::Deny(DenyReason::LocationDenied),
        ),
        (
            r#"{"location": {"anonymous": "deny"}}"#.into(),
            &tor,
            home,
            phone,
            Access::Deny(DenyReason::AnonymousNetwork),
        ),
        (
            r#"{"location": {"default": "deny", "countries": {"CH": "allow"}}}"#.into(),
            &tor,
            home,
            phone,
            Access::Deny(DenyReason::AnonymousNetwork),
        ),
        (
            r#"{"location": {"default": "deny", "countries": {"CH": "allow"}}}"#.into(),
            &ch,
            home,
            phone,
            two_fa.clone(),
        ),
        (
            r#"{"authentication": "skip"}"#.into(),
            &ch,
            home,
            phone,
            Access::Allow(AllowReason::AllowedByPolicy),
        ),
        (
            r#"{"authentication": "skip", "location": {"countries": {"DE": "require_2fa"}}}"#
                .into(),
            &de,
            home,
            phone,
            two_fa.clone(),
        ),
        (
            format!("{{{trusted}}}"),
            &ch,
            office,
            phone,
            Access::Allow(AllowReason::TrustedNetwork),
        ),
        (format!("{{{trusted}}}"), &ch, home, phone, two_fa.clone()),
        (format!("{{{trusted}}}"), &ch, None, phone, two_fa.clone()),
        (
            format!(r#"{{{trusted}, "location": {{"default": "require_2fa"}}}}"#),
            &ch,
            office,
            phone,
            two_fa.clone(),
        ),
        (
            format!("{{{deny_others}}}"),
            &ch,
            office,
            phone,
            two_fa.clone(),
        ),
        (
            format!("{{{deny_others}}}"),
            &ch,
            home,
            phone,
            Access::Deny(DenyReason::NetworkNotAuthorized),
        ),
        (
            format!("{{{deny_others}}}"),
            &ch,
            None,
            phone,
            two_fa.clone(),
        ),
        (
            format!(r#"{{"authentication": "skip", {require}}}"#),
            &ch,
            office,
            phone,
            two_fa.clone(),
        ),
        (
            format!(r#"{{"authentication": "skip", {require}}}"#),
            &ch,
            home,
            phone,
            Access::Allow(AllowReason::AllowedByPolicy),
        ),
        // New users.
        ("{}".into(), &ch, home, none, Access::Enroll),
        (
            r#"{"new_user": "allow"}"#.into(),
            &ch,
            home,
            none,
            Access::Allow(AllowReason::AllowUnenrolledUser),
        ),
        (
            format!(r#"{{"new_user": "allow", {require}}}"#),
            &ch,
            office,
            none,
            Access::Enroll,
        ),
        (
            r#"{"new_user": "deny"}"#.into(),
            &ch,
            home,
            none,
            Access::Deny(DenyReason::DenyUnenrolledUser),
        ),
        (
            r#"{"new_user": "deny", "authentication": "skip"}"#.into(),
            &ch,
            home,
            none,
            Access::Allow(AllowReason::AllowedByPolicy),
        ),
        // Enrolled, but nothing the application allows.
        (
            r#"{"allowed_methods": ["security_key"]}"#.into(),
            &ch,
            home,
            phone,
            Access::Deny(DenyReason::NoUsableMethod),
        ),
    ];
    for (json, location, client, enrolled, expected) in cases {
        let effective = policy(&json).resolve();
        assert_eq!(
            effective.evaluate(location, client, enrolled),
            expected,
            "{json} {location:?} {client:?} {enrolled:?}"
        );
    }
}

#[test]
fn deny_reasons_and_messages() {
    assert_eq!(
        DenyReason::SanctionedRegion.user_message(DEFAULT_SERVICE_NAME),
        "Access denied. Tessera does not provide services in your current location."
    );
    assert_eq!(
        DenyReason::SanctionedRegion.user_message("Duo Security"),
        "Access denied. Duo Security does not provide services in your current location."
    );
    assert_eq!(DenyReason::SanctionedRegion.as_str(), "sanctioned_region");
    assert_eq!(
        DenyReason::SanctionedRegion.error_code(),
        v1::ErrorCode::LocationDenied
    );
    assert_eq!(
        DenyReason::DenyUnenrolledUser.as_str(),
        "deny_unenrolled_user"
    );
    assert_eq!(AllowReason::TrustedNetwork.as_str(), "trusted_network");
}

#[test]
fn push_rate_limit() {
    let limit = policy(r#"{"push_rate_limit": {"max_requests": 3, "window_minutes": 5}}"#)
        .resolve()
        .push_rate_limit;
    let now = 10_000;
    // (earlier pushes, allowed)
    let cases: &[(&[i64], bool)] = &[
        (&[], true),
        (&[now - 10, now - 20], true),
        (&[now - 10, now - 20, now - 30], false),
        // Exactly one window ago has left the window.
        (&[now - 300, now - 20, now - 30], true),
        (&[now - 299, now - 20, now - 30], false),
        // Times after `now` (clock skew between isolates) still count.
        (&[now + 5, now - 20, now - 30], false),
    ];
    for &(sent, allowed) in cases {
        assert_eq!(limit.allows(sent, now), allowed, "{sent:?}");
    }
}
