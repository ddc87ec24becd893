//! Arbitrary JSON through the policy wire form and its checks: never a panic, and every
//! accepted policy survives the round trip through its wire form, merges, and decides.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::policy::{EffectivePolicy, Location, Method, Policy};
use tessera_shared::v1::PolicyConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = serde_json::from_slice::<PolicyConfig>(data) else {
        return;
    };
    let Ok(policy) = Policy::try_from(config) else {
        return;
    };
    let wire = PolicyConfig::from(&policy);
    let again = Policy::try_from(wire).expect("a checked policy's wire form is accepted");
    assert_eq!(again, policy);
    let effective = EffectivePolicy::merge(&policy, &Policy::default(), &policy);
    let location = Location::from_platform(Some("CU"), None);
    let access = effective.evaluate(&location, None, &[Method::Passcode]);
    assert_eq!(format!("{access:?}"), "Deny(SanctionedRegion)");
    let _ = effective.evaluate(
        &Location::from_platform(Some("CH"), None),
        "192.0.2.1".parse().ok(),
        &[Method::Push, Method::VerifiedPush],
    );
});
