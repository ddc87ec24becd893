use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const RFC_SHA1: &[u8] = b"12345678901234567890";
const RFC_SHA256: &[u8] = b"12345678901234567890123456789012";
const RFC_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

fn key(algorithm: Algorithm, digits: u8) -> OtpKey {
    let secret = match algorithm {
        Algorithm::Sha1 => RFC_SHA1,
        Algorithm::Sha256 => RFC_SHA256,
        Algorithm::Sha512 => RFC_SHA512,
    };
    OtpKey::new(SecretBytes::new(secret.to_vec()), algorithm, digits).unwrap()
}

/// RFC 4226 Appendix D, stored as data: `counter value`.
#[test]
fn rfc4226_appendix_d() {
    let data = include_str!("../../tests/data/rfc4226.txt");
    let mut checked = 0;
    for line in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = line.split_whitespace();
        let counter: u64 = parts.next().unwrap().parse().unwrap();
        let expected = parts.next().unwrap();
        assert_eq!(
            key(Algorithm::Sha1, 6).hotp(counter),
            expected,
            "counter {counter}"
        );
        checked += 1;
    }
    assert_eq!(checked, 10);
}

/// RFC 6238 Appendix B, stored as data: `unix_time algorithm value`.
#[test]
fn rfc6238_appendix_b() {
    let data = include_str!("../../tests/data/rfc6238.txt");
    let mut checked = 0;
    for line in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = line.split_whitespace();
        let time: i64 = parts.next().unwrap().parse().unwrap();
        let algorithm = match parts.next().unwrap() {
            "SHA1" => Algorithm::Sha1,
            "SHA256" => Algorithm::Sha256,
            "SHA512" => Algorithm::Sha512,
            other => panic!("unknown algorithm {other}"),
        };
        let expected = parts.next().unwrap();
        let totp = Totp::new(key(algorithm, 8), 30);
        assert_eq!(totp.code_at(time), expected, "{time} {algorithm:?}");
        let step = totp.verify(expected, time, 0, None).unwrap();
        assert_eq!(step, totp.step_at(time));
        checked += 1;
    }
    assert_eq!(checked, 18);
}

fn check(candidate: &str, now: i64, last: Option<u64>, expected: Result<u64, OtpError>) {
    let totp = Totp::new(key(Algorithm::Sha1, 6), 30);
    assert_eq!(
        totp.verify(candidate, now, 1, last),
        expected,
        "{candidate:?} at {now}"
    );
}

#[test]
fn verify_windows_formats_and_replays() {
    let totp = Totp::new(key(Algorithm::Sha1, 6), 30);
    let now = 1_700_000_000;
    let step = totp.step_at(now);
    let current = totp.code_at(now);
    let previous = totp.code_at(now - 30);
    let next = totp.code_at(now + 30);
    let too_old = totp.code_at(now - 60);

    check(&current, now, None, Ok(step));
    check(&previous, now, None, Ok(step - 1));
    check(&next, now, None, Ok(step + 1));
    check(&too_old, now, None, Err(OtpError::Mismatch));
    check(&current, now, Some(step), Err(OtpError::Replayed));
    check(&previous, now, Some(step - 1), Err(OtpError::Replayed));
    check(&current, now, Some(step - 1), Ok(step));
    check("12345", now, None, Err(OtpError::Malformed { expected: 6 }));
    check(
        "1234567",
        now,
        None,
        Err(OtpError::Malformed { expected: 6 }),
    );
    check(
        "12a456",
        now,
        None,
        Err(OtpError::Malformed { expected: 6 }),
    );
    check(
        " 123456",
        now,
        None,
        Err(OtpError::Malformed { expected: 6 }),
    );
    check(
        "١٢٣٤٥٦",
        now,
        None,
        Err(OtpError::Malformed { expected: 6 }),
    );
}

#[test]
fn short_keys_and_bad_digit_counts_are_refused() {
    assert!(OtpKey::new(SecretBytes::new(vec![1; 9]), Algorithm::Sha1, 6).is_err());
    assert!(OtpKey::new(SecretBytes::new(vec![1; 20]), Algorithm::Sha1, 5).is_err());
    assert!(OtpKey::new(SecretBytes::new(vec![1; 20]), Algorithm::Sha1, 9).is_err());
    assert!(OtpKey::from_base32("not base32!", Algorithm::Sha1, 6).is_err());
}

#[test]
fn base32_keys_match_raw_keys() {
    // "12345678901234567890" in base32, in lower case with spaces, as users paste it.
    let from_text = OtpKey::from_base32(
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        Algorithm::Sha1,
        6,
    )
    .unwrap();
    assert_eq!(from_text.hotp(1), key(Algorithm::Sha1, 6).hotp(1));
}
