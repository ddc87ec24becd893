//! Activation codes. Arbitrary strings through the code parser: never a panic; an accepted
//! code is 20 symbols of Crockford's base32 and reparses, from its canonical and its
//! displayed form, to itself with the same lookup key. Then the same bytes as the device's
//! JSON body (`v1::device::ActivationRequest`) through its checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::v1::device::{
    ACTIVATION_CODE_LEN, Activation, ActivationCode, ActivationRequest,
};

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fuzz_target!(|data: &[u8]| {
    if let Ok(wire) = serde_json::from_slice::<ActivationRequest>(data)
        && let Ok(activation) = Activation::try_from(wire)
    {
        assert!(!activation.device_name.is_empty());
        assert_eq!(activation.code.expose_secret().len(), ACTIVATION_CODE_LEN);
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(code) = ActivationCode::parse(text) else {
        return;
    };
    let canonical = code.expose_secret();
    assert_eq!(canonical.len(), ACTIVATION_CODE_LEN);
    assert!(
        canonical.chars().all(|c| ALPHABET.contains(c)),
        "{canonical}"
    );
    let again = ActivationCode::parse(canonical).unwrap();
    assert_eq!(again.expose_secret(), canonical);
    let shown = code.to_display();
    let from_display = ActivationCode::parse(shown.expose_secret()).unwrap();
    assert_eq!(from_display.expose_secret(), canonical);
    assert_eq!(from_display.lookup_key(), code.lookup_key());
    let lower = ActivationCode::parse(&text.to_lowercase()).unwrap();
    assert_eq!(lower.expose_secret(), canonical);
});
