use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const PEPPER: &[u8; 32] = b"tessera bypass-code pepper, v1!!";
const SALT: [u8; SALT_BYTES] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const NOW: i64 = 1_700_000_000;

fn pepper() -> BypassPepper {
    BypassPepper::new(SecretBytes::new(PEPPER.to_vec())).unwrap()
}

fn random(prefix: &[u8]) -> [u8; RANDOM_BYTES] {
    let mut bytes = [0u8; RANDOM_BYTES];
    bytes[..prefix.len()].copy_from_slice(prefix);
    bytes
}

fn hex(text: &str) -> Vec<u8> {
    data_encoding::HEXLOWER.decode(text.as_bytes()).unwrap()
}

#[test]
fn generation_is_rejection_sampling_over_30_bits() {
    let cases: &[(&[u8], Result<&str, BypassError>)] = &[
        (&hex("15cd5b07"), Ok("123456789")),
        // The top two bits of each draw are dropped.
        (&hex("15cd5bc7"), Ok("123456789")),
        (&hex("ffc99a7b"), Ok("999999999")),
        (&hex("00000000"), Ok("000000000")),
        (&hex("01000000"), Ok("000000001")),
        // 10^9 and above are rejected, and the next draw is used.
        (&hex("00ca9a3b"), Ok("000000000")),
        (&hex("ffffffff15cd5b07"), Ok("123456789")),
        (&[0xff; 28], Ok("000000000")),
        (&[0xff; 32], Err(BypassError::RandomnessExhausted)),
    ];
    for (bytes, expected) in cases {
        let got = generate(&random(bytes)).map(|code| code.expose_secret().to_owned());
        assert_eq!(got, expected.map(str::to_owned), "{bytes:02x?}");
    }
}

/// The stored hash is HMAC-SHA256(pepper, salt ‖ code), as Python's `hmac` computes it.
#[test]
fn stored_hash_known_answers() {
    let cases = [
        (
            "123456789",
            "edeec0dd478ecd50d228a237eaecab6b2feeb7367774979056ee59fba2ed0919",
        ),
        (
            "000000000",
            "bfb34f7cf16fca213187d808d16b49f7c89efe09f50b0154284304678bc64347",
        ),
    ];
    for (code, hash) in cases {
        let code = BypassCode::parse(code).unwrap();
        let stored = StoredBypassCode::new(&code, SALT, &pepper(), Uses::Single, None).unwrap();
        assert_eq!(stored.hash.to_vec(), hex(hash));
        assert_eq!(stored.salt, SALT);
        assert_eq!(stored.remaining_uses, Some(1));
    }
}

fn stored(remaining_uses: Option<u32>, expires_at: Option<i64>) -> StoredBypassCode {
    let code = BypassCode::parse("123456789").unwrap();
    StoredBypassCode {
        remaining_uses,
        expires_at,
        ..StoredBypassCode::new(&code, SALT, &pepper(), Uses::Unlimited, None).unwrap()
    }
}

fn check(
    state: StoredBypassCode,
    candidate: &str,
    now: i64,
    expected: Result<Option<StoredBypassCode>, BypassError>,
) {
    let expected = expected.map(|next| next.map_or(Redemption::UsedUp, Redemption::Remaining));
    assert_eq!(
        state.redeem(candidate, &pepper(), now),
        expected,
        "{candidate:?} at {now} with {state:?}"
    );
}

#[test]
fn redemption_enforces_code_uses_and_expiry() {
    use BypassError::*;
    let code = "123456789";
    let later = Some(NOW + 60);

    // Single use (the default), N uses, unlimited.
    check(stored(Some(1), None), code, NOW, Ok(None));
    check(
        stored(Some(3), None),
        code,
        NOW,
        Ok(Some(stored(Some(2), None))),
    );
    check(
        stored(Some(2), later),
        code,
        NOW,
        Ok(Some(stored(Some(1), later))),
    );
    check(stored(None, None), code, NOW, Ok(Some(stored(None, None))));
    check(
        stored(None, None),
        code,
        i64::MAX,
        Ok(Some(stored(None, None))),
    );
    check(stored(Some(0), None), code, NOW, Err(UsedUp));
    check(
        stored(Some(u32::MAX), None),
        code,
        NOW,
        Ok(Some(stored(Some(u32::MAX - 1), None))),
    );

    // Expiry: valid strictly before `expires_at`.
    check(stored(Some(1), later), code, NOW + 59, Ok(None));
    check(stored(Some(1), later), code, NOW + 60, Err(Expired));
    check(stored(None, later), code, NOW + 61, Err(Expired));
    check(stored(Some(0), later), code, NOW + 61, Err(Expired));

    // Typed with separators.
    check(stored(Some(1), None), "123 456 789", NOW, Ok(None));
    check(stored(Some(1), None), "123-456-789", NOW, Ok(None));

    // Wrong codes: a mismatch says nothing about uses or expiry.
    check(stored(Some(1), None), "123456788", NOW, Err(Mismatch));
    check(stored(Some(1), None), "923456789", NOW, Err(Mismatch));
    check(stored(Some(0), None), "000000000", NOW, Err(Mismatch));
    check(stored(Some(1), later), "000000000", NOW + 61, Err(Mismatch));

    // Malformed candidates never reach the hash.
    for bad in [
        "",
        "12345678",
        "1234567890",
        "12345678a",
        "１２３４５６７８９",
        "123_456_789",
        "+23456789",
    ] {
        check(stored(Some(1), None), bad, NOW, Err(Malformed));
    }
}

#[test]
fn a_code_redeems_only_under_its_own_salt_and_pepper() {
    let code = BypassCode::parse("555000111").unwrap();
    let stored = StoredBypassCode::new(&code, SALT, &pepper(), Uses::Single, None).unwrap();
    let other_salt =
        StoredBypassCode::new(&code, [9; SALT_BYTES], &pepper(), Uses::Single, None).unwrap();
    assert_ne!(stored.hash, other_salt.hash);
    let other_pepper = BypassPepper::new(SecretBytes::new(vec![1; 32])).unwrap();
    assert_eq!(
        stored.redeem("555000111", &other_pepper, NOW),
        Err(BypassError::Mismatch)
    );
    assert_eq!(
        stored.redeem("555000111", &pepper(), NOW),
        Ok(Redemption::UsedUp)
    );
}

#[test]
fn issue_then_redeem_every_uses_setting() {
    let three = NonZeroU32::new(3).unwrap();
    for (uses, redemptions) in [(Uses::Single, 1), (Uses::Limited(three), 3)] {
        let (code, mut state) =
            StoredBypassCode::issue(&random(&hex("15cd5b07")), SALT, &pepper(), uses, None)
                .unwrap();
        assert_eq!(code.expose_secret(), "123456789");
        for used in 1..=redemptions {
            match state.redeem(code.expose_secret(), &pepper(), NOW) {
                Ok(Redemption::Remaining(next)) if used < redemptions => state = next,
                Ok(Redemption::UsedUp) if used == redemptions => {}
                other => panic!("{uses:?}, use {used}: {other:?}"),
            }
        }
    }
    let (code, state) =
        StoredBypassCode::issue(&random(&[]), SALT, &pepper(), Uses::Unlimited, Some(NOW)).unwrap();
    assert_eq!(state.remaining_uses, None);
    assert_eq!(
        state.redeem(code.expose_secret(), &pepper(), NOW - 1),
        Ok(Redemption::Remaining(state.clone()))
    );
    assert_eq!(Uses::default(), Uses::Single);
}

#[test]
fn peppers_are_long_and_codes_stay_hidden() {
    assert_eq!(
        BypassPepper::new(SecretBytes::new(vec![1; 15])).map(|_| ()),
        Err(BypassError::WeakPepper)
    );
    assert!(BypassPepper::new(SecretBytes::new(vec![1; MIN_PEPPER_BYTES])).is_ok());
    let code = BypassCode::parse("123456789").unwrap();
    let shown = format!("{code:?} {:?}", pepper());
    assert!(
        !shown.contains("123456789") && !shown.contains("tessera"),
        "{shown}"
    );
}
