use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const NOW: i64 = 1_700_000_000;
const TXID: &str = "TX0123456789abcdef";
const DEVICE: &str = "DPXXXXXXXXXXXXXXXXXX";
const MAX_AGE: i64 = 60;

fn seed() -> [u8; 32] {
    std::array::from_fn(|i| u8::try_from(i + 1).unwrap())
}

fn key() -> DeviceSigningKey {
    DeviceSigningKey::from_seed(seed()).unwrap()
}

fn approval(decision: ApprovalDecision, code: Option<&str>, time: i64) -> Approval {
    Approval::new(TXID, decision, code, time, DEVICE).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// A known answer, computed independently (Python `cryptography` over the documented
/// layout), so the format and the signature cannot drift.
#[test]
fn known_answer() {
    let signed = sign_approval(
        &key(),
        &approval(ApprovalDecision::Approve, Some("482"), NOW),
    );
    assert_eq!(
        hex(&signed.approval().canonical_bytes()),
        "746573736572612d617070726f76616c2d76310000000012545830313233343536373839616263646566\
         010100000003343832000000006553f100000000144450585858585858585858585858585858585858"
    );
    assert_eq!(
        hex(signed.signature()),
        "a30dec271ab99dc4fd9f8158171ddc4ec177ff1de4a785788dbca358efa836e8\
         a1c91f2d60c425d11b47fdee43f06df5fed14949c0d50419fd8ddb01df0c7303"
    );
    assert_eq!(
        key().public_key().to_base64url(),
        "ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ"
    );
}

fn check(
    signed: &SignedApproval,
    expected_txid: &str,
    expected_code: Option<&str>,
    now: i64,
    expected: Result<ApprovalDecision, ApprovalError>,
) {
    let result = verify_approval(
        &key().public_key(),
        signed,
        expected_txid,
        expected_code,
        now,
        MAX_AGE,
    );
    assert_eq!(
        result.map(|v| {
            assert_eq!((v.txid.as_str(), v.device_id.as_str()), (TXID, DEVICE));
            assert_eq!(v.time, signed.approval().time());
            v.decision
        }),
        expected,
        "{signed:?} for {expected_txid} {expected_code:?} at {now}"
    );
}

#[test]
fn verification_rules() {
    use ApprovalDecision::{Approve, Deny, DenyFraud};
    use ApprovalError::*;
    let sign = |decision, code, time| sign_approval(&key(), &approval(decision, code, time));
    let verified = sign(Approve, Some("482"), NOW);
    let plain = sign(Approve, None, NOW);

    check(&verified, TXID, Some("482"), NOW, Ok(Approve));
    check(&plain, TXID, None, NOW, Ok(Approve));
    check(
        &verified,
        "TX0123456789abcdeF",
        Some("482"),
        NOW,
        Err(WrongTransaction),
    );
    check(
        &verified,
        "TX0123456789abcde",
        Some("482"),
        NOW,
        Err(WrongTransaction),
    );
    check(&verified, TXID, Some("483"), NOW, Err(WrongCode));
    check(&verified, TXID, Some("4821"), NOW, Err(WrongCode));
    check(&verified, TXID, None, NOW, Err(UnexpectedCode));
    check(&plain, TXID, Some("482"), NOW, Err(MissingCode));
    // Freshness, both directions, at the edges.
    check(&verified, TXID, Some("482"), NOW + MAX_AGE, Ok(Approve));
    check(&verified, TXID, Some("482"), NOW + MAX_AGE + 1, Err(Stale));
    check(
        &verified,
        TXID,
        Some("482"),
        NOW - CLOCK_SKEW_SECONDS,
        Ok(Approve),
    );
    check(
        &verified,
        TXID,
        Some("482"),
        NOW - CLOCK_SKEW_SECONDS - 1,
        Err(FromTheFuture),
    );
    check(&sign(Approve, None, i64::MIN), TXID, None, NOW, Err(Stale));
    check(
        &sign(Approve, None, i64::MAX),
        TXID,
        None,
        NOW,
        Err(FromTheFuture),
    );
    // Denials need no code, and any code they carry is not compared.
    check(&sign(Deny, None, NOW), TXID, Some("482"), NOW, Ok(Deny));
    check(
        &sign(DenyFraud, Some("999"), NOW),
        TXID,
        Some("482"),
        NOW,
        Ok(DenyFraud),
    );
    check(
        &sign(Deny, None, NOW),
        TXID,
        Some("482"),
        NOW + 600,
        Err(Stale),
    );
}

#[test]
fn any_change_to_a_signed_field_breaks_the_signature() {
    let signed = sign_approval(&key(), &approval(ApprovalDecision::Deny, None, NOW));
    let forged = |change: &dyn Fn(&mut DeviceApproval)| {
        let mut wire = signed.to_wire();
        change(&mut wire);
        SignedApproval::try_from(wire).unwrap()
    };
    let cases: [&dyn Fn(&mut DeviceApproval); 6] = [
        &|w| w.decision = ApprovalDecision::Approve,
        &|w| w.decision = ApprovalDecision::DenyFraud,
        &|w| w.code = Some("482".into()),
        &|w| w.time += 1,
        &|w| w.device_id.push('X'),
        &|w| {
            let mut bytes = URL_SAFE_NO_PAD.decode(&w.signature).unwrap();
            bytes[10] ^= 0x20;
            w.signature = URL_SAFE_NO_PAD.encode(bytes);
        },
    ];
    for change in cases {
        let forged = forged(change);
        assert_eq!(
            verify_approval(&key().public_key(), &forged, TXID, None, NOW, MAX_AGE),
            Err(ApprovalError::BadSignature),
            "{forged:?}"
        );
    }
    // Another device's key.
    let other = DeviceSigningKey::from_seed([9; 32]).unwrap().public_key();
    assert_eq!(
        verify_approval(&other, &signed, TXID, None, NOW, MAX_AGE),
        Err(ApprovalError::BadSignature)
    );
}

#[test]
fn the_encoding_is_unambiguous() {
    // Moving a boundary between fields, or dropping the code, changes the bytes.
    let pairs = [
        (("ab", None, "c"), ("a", None, "bc")),
        (("a", Some("1"), "b"), ("a", None, "b")),
        (("a", Some("12"), "b"), ("a", Some("1"), "2b")),
    ];
    for ((t1, c1, d1), (t2, c2, d2)) in pairs {
        let one = Approval::new(t1, ApprovalDecision::Approve, c1, 0, d1).unwrap();
        let two = Approval::new(t2, ApprovalDecision::Approve, c2, 0, d2).unwrap();
        assert_ne!(one.canonical_bytes(), two.canonical_bytes());
        assert!(one.canonical_bytes().starts_with(DOMAIN));
    }
}

#[test]
fn wire_form_round_trips() {
    let signed = sign_approval(
        &key(),
        &approval(ApprovalDecision::Approve, Some("482"), NOW),
    );
    let json = serde_json::to_string(&signed.to_wire()).unwrap();
    assert_eq!(
        json,
        r#"{"txid":"TX0123456789abcdef","decision":"approve","code":"482","time":1700000000,"device_id":"DPXXXXXXXXXXXXXXXXXX","signature":"ow3sJxq5ncT9n4FYFx3cTsF3_x3kp4V4jbyjWO-oNuihyR8tYMQl0RtH_e5D8G31_tFJScDVBBn9jdsB3wxzAw"}"#
    );
    let wire: DeviceApproval = serde_json::from_str(&json).unwrap();
    assert_eq!(SignedApproval::try_from(wire).unwrap(), signed);
    let deny = sign_approval(&key(), &approval(ApprovalDecision::DenyFraud, None, NOW));
    let json = serde_json::to_string(&deny.to_wire()).unwrap();
    assert!(json.contains(r#""decision":"deny_fraud","time""#), "{json}");
}

fn check_parse(change: impl Fn(&mut DeviceApproval), expected: ApprovalFormatError) {
    let signed = sign_approval(&key(), &approval(ApprovalDecision::Approve, None, NOW));
    let mut wire = signed.to_wire();
    change(&mut wire);
    assert_eq!(
        SignedApproval::try_from(wire.clone()),
        Err(expected),
        "{wire:?}"
    );
}

#[test]
fn wire_parse_errors() {
    use ApprovalFormatError::*;
    check_parse(|w| w.txid = String::new(), InvalidTxid);
    check_parse(|w| w.txid = "x".repeat(MAX_TXID_LEN + 1), InvalidTxid);
    check_parse(|w| w.txid = "TX 1".into(), InvalidTxid);
    check_parse(|w| w.txid = "TXé".into(), InvalidTxid);
    check_parse(|w| w.device_id = String::new(), InvalidDeviceId);
    check_parse(|w| w.device_id = "D\n".into(), InvalidDeviceId);
    check_parse(|w| w.code = Some(String::new()), InvalidCode);
    check_parse(|w| w.code = Some("48 2".into()), InvalidCode);
    check_parse(|w| w.code = Some("٤٨٢".into()), InvalidCode);
    check_parse(|w| w.code = Some("1".repeat(MAX_CODE_LEN + 1)), InvalidCode);
    check_parse(|w| w.signature.push('='), InvalidSignature);
    check_parse(
        |w| w.signature.pop().map(drop).unwrap_or(()),
        InvalidSignature,
    );
    check_parse(|w| w.signature.replace_range(..1, "+"), InvalidSignature);
    check_parse(
        |w| w.signature = URL_SAFE_NO_PAD.encode([0; 63]),
        InvalidSignature,
    );
    check_parse(
        |w| w.signature = URL_SAFE_NO_PAD.encode([0; 65]),
        InvalidSignature,
    );
    // Unknown decisions and missing fields fail in serde, before any of this.
    let bad = r#"{"txid":"T","decision":"maybe","time":1,"device_id":"D","signature":""}"#;
    assert!(serde_json::from_str::<DeviceApproval>(bad).is_err());
}

#[test]
fn keys() {
    assert_eq!(
        DeviceSigningKey::from_seed([0; 32]).unwrap_err(),
        KeyError::ZeroSeed
    );
    assert_eq!(format!("{:?}", key()), "DeviceSigningKey([REDACTED])");
    let public = key().public_key();
    assert_eq!(
        DevicePublicKey::from_base64url(&public.to_base64url()),
        Ok(public)
    );
    assert_eq!(DevicePublicKey::from_bytes(*public.as_bytes()), Ok(public));
    let mut identity = [0; 32];
    identity[0] = 1;
    let cases = [
        (URL_SAFE_NO_PAD.encode(identity), KeyError::WeakOrInvalid),
        (URL_SAFE_NO_PAD.encode([0; 31]), KeyError::Malformed),
        (format!("{}=", public.to_base64url()), KeyError::Malformed),
        ("!".into(), KeyError::Malformed),
    ];
    for (text, expected) in cases {
        assert_eq!(
            DevicePublicKey::from_base64url(&text),
            Err(expected),
            "{text}"
        );
    }
}
