use std::collections::HashMap;

use aes::cipher::BlockEncrypt;

use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const DATA: &str = include_str!("../../tests/data/yubico-otp.txt");

fn lines(kind: &str) -> impl Iterator<Item = Vec<&'static str>> + '_ {
    DATA.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(move |fields| fields[0] == kind)
}

fn hex(text: &str) -> Vec<u8> {
    data_encoding::HEXLOWER.decode(text.as_bytes()).unwrap()
}

fn public_id(field: &str) -> &str {
    if field == "-" { "" } else { field }
}

fn error(name: &str) -> YubicoError {
    match name {
        "Malformed" => YubicoError::Malformed,
        "WrongToken" => YubicoError::WrongToken,
        "BadCrc" => YubicoError::BadCrc,
        "PrivateIdMismatch" => YubicoError::PrivateIdMismatch,
        "Replayed" => YubicoError::Replayed,
        other => panic!("unknown error {other}"),
    }
}

#[test]
fn modhex_vectors() {
    let mut checked = 0;
    for fields in lines("modhex") {
        let (text, expected) = (fields[1], hex(fields[2]));
        assert_eq!(modhex_decode(text), Some(expected.clone()), "{text}");
        assert_eq!(modhex_decode(&text.to_uppercase()), Some(expected.clone()));
        assert_eq!(modhex_encode(&expected), text);
        checked += 1;
    }
    assert_eq!(checked, 5);
    for bad in ["c", "abc", "cbd", "zz", "cb ", "ĉb"] {
        assert_eq!(modhex_decode(bad), None, "{bad:?}");
    }
    assert_eq!(modhex_decode(""), Some(Vec::new()));
}

#[test]
fn aes_vectors() {
    let mut checked = 0;
    for fields in lines("aes-decrypt") {
        let key = AesKey::from_hex(fields[1]).unwrap();
        let mut block: [u8; 16] = hex(fields[2]).try_into().unwrap();
        Aes128::new(key.expose_secret().into()).decrypt_block((&mut block).into());
        assert_eq!(block.to_vec(), hex(fields[3]));
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn crc_residue_and_check_value() {
    // CRC-16/X-25's catalogue check value is 0x906e for "123456789" (with the final
    // complement that the residue form leaves out).
    assert_eq!(!crc16(b"123456789"), 0x906e);
    // yubico-c test-vectors.txt: the residue over the decrypted block.
    assert_eq!(crc16(&hex("8792ebfe26cc130030c20011c89f23c8")), CRC_RESIDUE);
}

/// Every `otp` line decodes to its fields, verifies from scratch and as the successor of
/// the line before it under the same key, and is a replay of itself.
#[test]
fn otp_vectors() {
    let mut last_by_key: HashMap<&str, Counters> = HashMap::new();
    let mut checked = 0;
    for fields in lines("otp") {
        let [
            _,
            key_hex,
            private_hex,
            otp,
            public,
            counter,
            session_use,
            timestamp,
            random,
            caps,
        ]: [&str; 10] = fields.try_into().unwrap();
        let key = AesKey::from_hex(key_hex).unwrap();
        let private_id = PrivateId::from_hex(private_hex).unwrap();
        let public = public_id(public);
        let expected = Counters {
            session_counter: counter.parse().unwrap(),
            session_use: session_use.parse().unwrap(),
        };

        let untrusted = UntrustedOtp::parse(otp).unwrap();
        assert_eq!(untrusted.public_id(), public);
        let decrypted = untrusted.decrypt(&key).unwrap();
        assert!(decrypted.private_id_matches(&private_id), "{otp}");
        assert_eq!(decrypted.counters(), expected, "{otp}");
        assert_eq!(decrypted.timestamp(), timestamp.parse::<u32>().unwrap());
        assert_eq!(decrypted.random(), random.parse::<u16>().unwrap());
        assert_eq!(decrypted.caps_lock(), caps == "1");

        let check = |last| verify(otp, public, &private_id, &key, last);
        assert_eq!(check(None), Ok(expected), "{otp}");
        assert_eq!(check(Some(expected)), Err(YubicoError::Replayed));
        if let Some(previous) = last_by_key.insert(key_hex, expected) {
            assert_eq!(
                check(Some(previous)),
                Ok(expected),
                "{otp} after {previous:?}"
            );
        }
        // Caps lock types the same OTP in upper case.
        assert_eq!(
            verify(&otp.to_uppercase(), public, &private_id, &key, None),
            Ok(expected)
        );
        checked += 1;
    }
    assert_eq!(checked, 13);
}

#[test]
fn refusal_vectors() {
    let mut checked = 0;
    for fields in lines("bad") {
        let [_, key_hex, private_hex, otp, public, expected]: [&str; 6] =
            fields.try_into().unwrap();
        let key = AesKey::from_hex(key_hex).unwrap();
        let private_id = PrivateId::from_hex(private_hex).unwrap();
        assert_eq!(
            verify(otp, public_id(public), &private_id, &key, None),
            Err(error(expected)),
            "{otp}"
        );
        checked += 1;
    }
    assert_eq!(checked, 11);
}

/// Builds an OTP the way a YubiKey does, with the `aes` crate's encryption (the path the
/// verifier never uses) and the CRC complemented into the last two bytes.
fn generate(
    key: &AesKey,
    public_id: &str,
    private_id: [u8; 6],
    raw_counter: u16,
    session_use: u8,
) -> String {
    let mut block = [0u8; 16];
    block[..6].copy_from_slice(&private_id);
    block[6..8].copy_from_slice(&raw_counter.to_le_bytes());
    block[8..11].copy_from_slice(&[0x12, 0x34, 0x56]);
    block[11] = session_use;
    block[12..14].copy_from_slice(&[0xab, 0xcd]);
    let crc = !crc16(&block[..14]);
    block[14..].copy_from_slice(&crc.to_le_bytes());
    Aes128::new(key.expose_secret().into()).encrypt_block((&mut block).into());
    format!("{public_id}{}", modhex_encode(&block))
}

const PUBLIC: &str = "vvccccjddvhv";
const UID: [u8; 6] = [0x87, 0x92, 0xeb, 0xfe, 0x26, 0xcc];

fn check(otp: &str, last: Option<(u16, u8)>, expected: Result<(u16, u8), YubicoError>) {
    let key = AesKey::new([7; 16]);
    let counters = |(session_counter, session_use)| Counters {
        session_counter,
        session_use,
    };
    assert_eq!(
        verify(otp, PUBLIC, &PrivateId::new(UID), &key, last.map(counters)),
        expected.map(counters),
        "{otp} after {last:?}"
    );
}

#[test]
fn replay_rule_is_strictly_increasing_counters() {
    let key = AesKey::new([7; 16]);
    let otp = |counter, session_use| generate(&key, PUBLIC, UID, counter, session_use);

    check(&otp(5, 3), None, Ok((5, 3)));
    check(&otp(5, 3), Some((5, 2)), Ok((5, 3)));
    check(&otp(5, 0), Some((4, 255)), Ok((5, 0)));
    check(&otp(6, 0), Some((5, 200)), Ok((6, 0)));
    check(&otp(5, 3), Some((5, 3)), Err(YubicoError::Replayed));
    check(&otp(5, 2), Some((5, 3)), Err(YubicoError::Replayed));
    check(&otp(4, 255), Some((5, 0)), Err(YubicoError::Replayed));
    check(&otp(0x7fff, 255), Some((0x7fff, 254)), Ok((0x7fff, 255)));
    check(
        &otp(0x7fff, 255),
        Some((0x7fff, 255)),
        Err(YubicoError::Replayed),
    );
    // The caps-lock bit is not part of the counter: it neither jumps ahead nor replays.
    check(&otp(0x8005, 4), Some((5, 3)), Ok((5, 4)));
    check(&otp(0x8005, 3), Some((5, 3)), Err(YubicoError::Replayed));
    check(&otp(6, 0), Some((0x7fff, 0)), Err(YubicoError::Replayed));
}

#[test]
fn wrong_token_key_and_private_id() {
    let key = AesKey::new([7; 16]);
    let other_key = AesKey::new([8; 16]);
    let good = generate(&key, PUBLIC, UID, 9, 1);
    check(&good, None, Ok((9, 1)));
    // The public id is compared case-insensitively, and upper-case OTPs are accepted.
    assert_eq!(
        verify(
            &good,
            &PUBLIC.to_uppercase(),
            &PrivateId::new(UID),
            &key,
            None
        )
        .map(|c| c.session_counter),
        Ok(9)
    );
    check(
        &generate(&key, "vvccccjddvhb", UID, 9, 1),
        None,
        Err(YubicoError::WrongToken),
    );
    check(
        &generate(&key, "", UID, 9, 1),
        None,
        Err(YubicoError::WrongToken),
    );
    check(
        &generate(&other_key, PUBLIC, UID, 9, 1),
        None,
        Err(YubicoError::BadCrc),
    );
    check(
        &generate(&key, PUBLIC, [0x87, 0x92, 0xeb, 0xfe, 0x26, 0xcd], 9, 1),
        None,
        Err(YubicoError::PrivateIdMismatch),
    );
    // Format errors come first, before any key is touched.
    check("", None, Err(YubicoError::Malformed));
    check(&good[1..], None, Err(YubicoError::WrongToken));
    check(&good[13..], None, Err(YubicoError::Malformed));
    check(&format!("{good} "), None, Err(YubicoError::Malformed));
    check(&format!(" {good}"), None, Err(YubicoError::Malformed));
    check(&good.replace('v', "ü"), None, Err(YubicoError::Malformed));
    check(&"c".repeat(49), None, Err(YubicoError::Malformed));
}

#[test]
fn public_ids_of_every_allowed_length_parse() {
    let key = AesKey::new([1; 16]);
    for chars in 0..=MAX_PUBLIC_ID_CHARS {
        let public: String = "cbdefghijklnrtuv".chars().cycle().take(chars).collect();
        let otp = generate(&key, &public, UID, 1, 0);
        let untrusted = UntrustedOtp::parse(&otp).unwrap();
        assert_eq!(untrusted.public_id(), public);
        assert!(untrusted.decrypt(&key).is_ok());
    }
}

#[test]
fn keys_from_hex_and_redaction() {
    assert!(AesKey::from_hex("ECDE18DBE76FBD0C33330F1C354871DB").is_ok());
    assert_eq!(
        AesKey::from_hex("ecde18dbe76fbd0c33330f1c354871").map(|_| ()),
        Err(YubicoError::BadKey)
    );
    assert_eq!(
        AesKey::from_hex("ecde18dbe76fbd0c33330f1c354871dbff").map(|_| ()),
        Err(YubicoError::BadKey)
    );
    assert_eq!(
        PrivateId::from_hex("8792ebfe26cg").map(|_| ()),
        Err(YubicoError::BadKey)
    );
    let key = AesKey::from_hex("ecde18dbe76fbd0c33330f1c354871db").unwrap();
    let private_id = PrivateId::from_hex("8792ebfe26cc").unwrap();
    let shown = format!("{key:?}{private_id:?}");
    assert!(
        !shown.contains("ecde") && !shown.contains("8792"),
        "{shown}"
    );
    let decrypted = UntrustedOtp::parse("dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh")
        .unwrap()
        .decrypt(&key)
        .unwrap();
    let shown = format!("{decrypted:?}");
    assert!(!shown.contains("135") && !shown.contains("8792"), "{shown}");
}
