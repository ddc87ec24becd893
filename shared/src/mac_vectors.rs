//! RFC 4231 HMAC-SHA-256 and HMAC-SHA-512 vectors, checked through the `hmac` crate exactly
//! as `jws` (HS512), `signing` (Duo request signatures) and `otp` use it, including the
//! constant-time `verify_slice` / `verify_truncated_left` comparisons. Test-only.

// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

use crate::test_data::{self, Record};

fn check<M: Mac + hmac::digest::KeyInit>(record: &Record, field: &str) {
    let (key, data, expected) = (
        record.bytes("key"),
        record.bytes("data"),
        record.bytes(field),
    );
    let mac = || {
        let mut mac = <M as Mac>::new_from_slice(&key).unwrap();
        mac.update(&data);
        mac
    };
    let full = mac().finalize().into_bytes();
    assert_eq!(
        full.get(..expected.len()),
        Some(expected.as_slice()),
        "{} {field}",
        record.name
    );
    // Test case 5 gives a truncated value: only the leftmost bits are compared.
    if expected.len() == full.len() {
        assert!(
            mac().verify_slice(&expected).is_ok(),
            "{} {field}",
            record.name
        );
    } else {
        assert!(
            mac().verify_truncated_left(&expected).is_ok(),
            "{}",
            record.name
        );
    }
    let mut flipped = expected.clone();
    if let Some(byte) = flipped.last_mut() {
        *byte ^= 1;
    }
    assert!(
        mac().verify_truncated_left(&flipped).is_err(),
        "{}",
        record.name
    );
}

/// RFC 4231 section 4, stored as data: test cases 1 to 7 for both hashes.
#[test]
fn rfc4231_test_cases() {
    let records = test_data::records(include_str!("../tests/data/rfc4231-hmac.txt"));
    for record in &records {
        check::<Hmac<Sha256>>(record, "sha256");
        check::<Hmac<Sha512>>(record, "sha512");
    }
    assert_eq!(records.len(), 7);
}
