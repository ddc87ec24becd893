use super::*;
use crate::approval::DeviceSigningKey;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const ACTIVATION: &str = include_str!("../../../tests/data/v1/device-activation.json");
const PUSHES: &str = include_str!("../../../tests/data/v1/device-push.json");

/// The fixture's public key: Ed25519 of the seed `[7; 32]`, as Python's `cryptography`
/// derives it.
const PUBLIC_KEY_SEED_7: &str = "6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw";

/// `input` parses to the canonical `expected` code, or fails with the error.
fn check(input: &str, expected: Result<&str, ActivationCodeError>) {
    let got = ActivationCode::parse(input).map(|code| code.expose_secret().to_owned());
    assert_eq!(got, expected.map(str::to_owned), "{input:?}");
}

#[test]
fn activation_codes_parse() {
    use ActivationCodeError::*;
    let cases: &[(&str, Result<&str, ActivationCodeError>)] = &[
        ("7KQ2M-4XH9D-PWZ3B-R8T6V", Ok("7KQ2M4XH9DPWZ3BR8T6V")),
        ("7KQ2M4XH9DPWZ3BR8T6V", Ok("7KQ2M4XH9DPWZ3BR8T6V")),
        ("  7kq2m 4xh9d pwz3b r8t6v\n", Ok("7KQ2M4XH9DPWZ3BR8T6V")),
        ("7kq2m-4xh9d-PWZ3B-r8t6v", Ok("7KQ2M4XH9DPWZ3BR8T6V")),
        // Crockford's reading of the letters people confuse with digits.
        ("OOOOO-IIIII-LLLLL-ooooo", Ok("00000111111111100000")),
        ("il0o1-00000-00000-00000", Ok("11001000000000000000")),
        ("0123456789ABCDEFGHJK", Ok("0123456789ABCDEFGHJK")),
        ("MNPQRSTVWXYZ00000000", Ok("MNPQRSTVWXYZ00000000")),
        ("", Err(Empty)),
        ("   ", Err(Empty)),
        ("-----", Err(Empty)),
        ("7KQ2M-4XH9D-PWZ3B-R8T6", Err(WrongLength(19))),
        ("7KQ2M-4XH9D-PWZ3B-R8T6VW", Err(WrongLength(21))),
        ("ABC", Err(WrongLength(3))),
        ("UUUUU-UUUUU-UUUUU-UUUUU", Err(InvalidCharacter('U'))),
        ("7KQ2M_4XH9D_PWZ3B_R8T6V", Err(InvalidCharacter('_'))),
        ("7KQ2M.4XH9D", Err(InvalidCharacter('.'))),
        ("7KQ2M-4XH9D-PWZ3B-R8T6É", Err(InvalidCharacter('É'))),
        ("７KQ2M4XH9DPWZ3BR8T6V", Err(InvalidCharacter('７'))),
        ("duo://7KQ2M4XH9DPWZ3BR8T6V", Err(InvalidCharacter('u'))),
        (&"A".repeat(65), Err(InputTooLong)),
        (&"-".repeat(65), Err(InputTooLong)),
    ];
    for (input, expected) in cases {
        check(input, expected.clone());
    }
}

#[test]
fn activation_codes_generate_uniformly_and_round_trip() {
    let cases: &[([u8; 20], &str)] = &[
        ([0; 20], "00000000000000000000"),
        ([0xff; 20], "ZZZZZZZZZZZZZZZZZZZZ"),
        // Only the low 5 bits count.
        ([0x20; 20], "00000000000000000000"),
    ];
    for (random, expected) in cases {
        assert_eq!(ActivationCode::generate(random).expose_secret(), *expected);
    }
    let mut random = [0u8; 20];
    for (i, b) in random.iter_mut().enumerate() {
        *b = u8::try_from(i).unwrap() + 12;
    }
    let code = ActivationCode::generate(&random);
    assert_eq!(code.expose_secret(), "CDEFGHJKMNPQRSTVWXYZ");
    let shown = code.to_display();
    assert_eq!(shown.expose_secret(), "CDEFG-HJKMN-PQRST-VWXYZ");
    let parsed = ActivationCode::parse(shown.expose_secret()).unwrap();
    assert_eq!(parsed.expose_secret(), code.expose_secret());
}

#[test]
fn activation_code_lookup_key() {
    // SHA-256("tessera-activation-v1\0" ‖ code), computed with Python's hashlib.
    let expected = "27c47a0fca2a4c2267f188a306d997b036bb52027d4e2aff668c77c86036ce80";
    for typed in ["7KQ2M-4XH9D-PWZ3B-R8T6V", "7kq2m 4xh9d pwz3b r8t6v"] {
        let key = ActivationCode::parse(typed).unwrap().lookup_key();
        assert_eq!(data_encoding::HEXLOWER.encode(&key), expected);
    }
    let other = ActivationCode::parse("7KQ2M-4XH9D-PWZ3B-R8T6W").unwrap();
    assert_ne!(
        data_encoding::HEXLOWER.encode(&other.lookup_key()),
        expected
    );
}

#[test]
fn secrets_are_redacted_from_debug() {
    let code = ActivationCode::parse("7KQ2M-4XH9D-PWZ3B-R8T6V").unwrap();
    assert_eq!(format!("{code:?}"), "ActivationCode([REDACTED])");
    let fixture: serde_json::Value = serde_json::from_str(ACTIVATION).unwrap();
    let request: ActivationRequest = serde_json::from_value(fixture["request"].clone()).unwrap();
    let response: ActivationResponse = serde_json::from_value(fixture["response"].clone()).unwrap();
    assert!(!format!("{request:?}").contains("7KQ2M"));
    assert!(!format!("{response:?}").contains("GEZDGNBV"));
    let activation = Activation::try_from(request).unwrap();
    assert!(!format!("{activation:?}").contains("7KQ2M"));
}

#[test]
fn fixture_key_is_the_seed_7_key() {
    let key = DeviceSigningKey::from_seed([7; 32]).unwrap();
    assert_eq!(key.public_key().to_base64url(), PUBLIC_KEY_SEED_7);
}

fn activation_request(
    code: &str,
    key: &str,
    name: &str,
    platform: Option<&str>,
) -> ActivationRequest {
    ActivationRequest {
        activation_code: code.into(),
        public_key: key.into(),
        device_name: name.into(),
        platform: platform.map(Into::into),
        realm: None,
        username: None,
    }
}

#[test]
fn activation_requests_carry_the_account_from_the_link() {
    let mut wire = activation_request("7KQ2M-4XH9D-PWZ3B-R8T6V", PUBLIC_KEY_SEED_7, "phone", None);
    wire.realm = Some("demo".into());
    wire.username = Some("alice".into());
    let activation = Activation::try_from(wire.clone()).unwrap();
    assert_eq!(activation.realm.as_deref(), Some("demo"));
    assert_eq!(activation.username.as_deref(), Some("alice"));
    wire.username = Some("bad\nname".into());
    assert_eq!(
        Activation::try_from(wire).unwrap_err(),
        ActivationError::Account
    );
}

#[test]
fn activation_requests_convert() {
    use ActivationError as E;
    const CODE: &str = "7KQ2M-4XH9D-PWZ3B-R8T6V";
    let zero_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    type Expected = Result<(&'static str, Option<&'static str>), ActivationError>;
    let cases: Vec<(ActivationRequest, Expected)> = vec![
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, "iPhone", Some("iOS 18")),
            Ok(("iPhone", Some("iOS 18"))),
        ),
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, "  work laptop ", Some("  ")),
            Ok(("work laptop", None)),
        ),
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, "Ünïcødé 📱", None),
            Ok(("Ünïcødé 📱", None)),
        ),
        (
            activation_request("", PUBLIC_KEY_SEED_7, "iPhone", None),
            Err(E::Code(ActivationCodeError::Empty)),
        ),
        (
            activation_request("7KQ2M", PUBLIC_KEY_SEED_7, "iPhone", None),
            Err(E::Code(ActivationCodeError::WrongLength(5))),
        ),
        (
            activation_request(CODE, "not base64!", "iPhone", None),
            Err(E::PublicKey(KeyError::Malformed)),
        ),
        (
            activation_request(CODE, "AAAA", "iPhone", None),
            Err(E::PublicKey(KeyError::Malformed)),
        ),
        (
            activation_request(CODE, zero_key, "iPhone", None),
            Err(E::PublicKey(KeyError::WeakOrInvalid)),
        ),
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, "", None),
            Err(E::DeviceName),
        ),
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, "a\u{7}b", None),
            Err(E::DeviceName),
        ),
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, &"x".repeat(65), None),
            Err(E::DeviceName),
        ),
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, "iPhone", Some(&"x".repeat(65))),
            Err(E::Platform),
        ),
        (
            activation_request(CODE, PUBLIC_KEY_SEED_7, "iPhone", Some("a\nb")),
            Err(E::Platform),
        ),
    ];
    for (request, expected) in cases {
        let got = Activation::try_from(request.clone()).map(|a| {
            assert_eq!(a.public_key.to_base64url(), PUBLIC_KEY_SEED_7);
            assert_eq!(a.code.expose_secret(), "7KQ2M4XH9DPWZ3BR8T6V");
            (a.device_name, a.platform)
        });
        let expected =
            expected.map(|(name, platform)| (name.to_owned(), platform.map(str::to_owned)));
        assert_eq!(got, expected, "{request:?}");
    }
}

#[test]
fn activation_fixture_round_trips() {
    let fixture: serde_json::Value = serde_json::from_str(ACTIVATION).unwrap();
    let request: ActivationRequest = serde_json::from_value(fixture["request"].clone()).unwrap();
    assert_eq!(serde_json::to_value(&request).unwrap(), fixture["request"]);
    let response: ActivationResponse = serde_json::from_value(fixture["response"].clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        fixture["response"]
    );
    assert_eq!(response.totp.algorithm, TotpAlgorithm::Sha1);
    Activation::try_from(request).unwrap();

    // Optional fields are left out, not null.
    let minimal = ActivationResponse {
        edge_url: None,
        ..response
    };
    let json = serde_json::to_value(&minimal).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["device_id", "realm", "totp", "username"]);
}

#[test]
fn totp_provisions_convert() {
    // RFC 6238's SHA-1 seed and its first vector: T = 59 s, 8 digits → 94287082.
    let seed = SecretBytes::new(b"12345678901234567890".to_vec());
    let provision = TotpProvision::new(&seed, otp::Algorithm::Sha1, 8, 30);
    assert_eq!(provision.secret_base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    let json = serde_json::to_string(&provision).unwrap();
    assert_eq!(
        json,
        r#"{"secret_base32":"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ","algorithm":"SHA1","digits":8,"period":30}"#
    );
    let totp = Totp::try_from(&provision).unwrap();
    assert_eq!(totp.code_at(59), "94287082");

    let with = |edit: &dyn Fn(&mut TotpProvision)| {
        let mut p = provision.clone();
        edit(&mut p);
        Totp::try_from(&p).map(|t| t.code_at(59))
    };
    type Edit<'a> = &'a dyn Fn(&mut TotpProvision);
    let cases: Vec<(Edit, Result<&str, ProvisionError>)> = vec![
        (&|_| {}, Ok("94287082")),
        (&|p| p.period = 0, Err(ProvisionError::Period)),
        (&|p| p.period = 301, Err(ProvisionError::Period)),
        (
            &|p| p.digits = 5,
            Err(ProvisionError::Key(OtpError::BadKey)),
        ),
        (
            &|p| p.digits = 9,
            Err(ProvisionError::Key(OtpError::BadKey)),
        ),
        (
            &|p| p.secret_base32 = "not base32!".into(),
            Err(ProvisionError::Key(OtpError::BadKey)),
        ),
        (
            &|p| p.secret_base32 = "GEZDGNBV".into(),
            Err(ProvisionError::Key(OtpError::BadKey)),
        ),
    ];
    for (edit, expected) in cases {
        assert_eq!(with(edit), expected.map(str::to_owned));
    }
    for (wire, algorithm) in [
        ("\"SHA1\"", otp::Algorithm::Sha1),
        ("\"SHA256\"", otp::Algorithm::Sha256),
        ("\"SHA512\"", otp::Algorithm::Sha512),
    ] {
        let parsed: TotpAlgorithm = serde_json::from_str(wire).unwrap();
        assert_eq!(otp::Algorithm::from(parsed), algorithm);
        assert_eq!(
            serde_json::to_string(&TotpAlgorithm::from(algorithm)).unwrap(),
            wire
        );
    }
    assert!(serde_json::from_str::<TotpAlgorithm>("\"sha1\"").is_err());
}

#[test]
fn push_fixture_round_trips() {
    let fixture: serde_json::Value = serde_json::from_str(PUSHES).unwrap();
    let pending: PendingPushes = serde_json::from_value(fixture.clone()).unwrap();
    let mut expected = fixture.clone();
    // `location: {}` and `verified: false` are defaults; `{}` stays, `verified` stays.
    assert_eq!(serde_json::to_value(&pending).unwrap(), expected);
    let pushes: Vec<Push> = pending
        .pushes
        .iter()
        .cloned()
        .map(|wire| Push::try_from(wire).unwrap())
        .collect();
    assert_eq!(pushes[0].kind, PushKind::Verified { code_length: 3 });
    assert_eq!(pushes[0].ip, Some("198.51.100.7".parse().unwrap()));
    assert_eq!(pushes[1].kind, PushKind::Plain);
    assert!(!pushes[0].is_expired(1714564859));
    assert!(pushes[0].is_expired(1714564860));
    for (push, wire) in pushes.iter().zip(&pending.pushes) {
        assert_eq!(&push.to_wire(), wire);
    }
    // A device must not choke on a bare minimum.
    expected = serde_json::json!({
        "txid": "t", "application": "a", "username": "u", "time": 1, "expires_at": 2
    });
    let minimal: PushRequest = serde_json::from_value(expected).unwrap();
    assert_eq!(Push::try_from(minimal).unwrap().kind, PushKind::Plain);
}

#[test]
fn push_requests_convert() {
    use PushError as E;
    let base = PushRequest {
        txid: "67199dfd-b964-40a2-857f-cf80a6c49581".into(),
        application: "My Web App".into(),
        username: "alice".into(),
        ip: Some("2001:db8::1".into()),
        location: PushLocation {
            city: Some("Zürich".into()),
            country: Some("CH".into()),
        },
        time: 100,
        expires_at: 160,
        verified: false,
        code_length: None,
    };
    type Edit<'a> = &'a dyn Fn(&mut PushRequest);
    let cases: Vec<(Edit, Result<PushKind, PushError>)> = vec![
        (&|_| {}, Ok(PushKind::Plain)),
        (
            &|p| {
                p.verified = true;
                p.code_length = Some(6);
            },
            Ok(PushKind::Verified { code_length: 6 }),
        ),
        (&|p| p.ip = None, Ok(PushKind::Plain)),
        (&|p| p.txid = String::new(), Err(E::InvalidTxid)),
        (&|p| p.txid = "a b".into(), Err(E::InvalidTxid)),
        (&|p| p.txid = "x".repeat(129), Err(E::InvalidTxid)),
        (
            &|p| p.application = " ".into(),
            Err(E::InvalidText("application")),
        ),
        (
            &|p| p.username = "a\u{0}".into(),
            Err(E::InvalidText("username")),
        ),
        (
            &|p| p.location.city = Some("\u{1b}[31m".into()),
            Err(E::InvalidText("location.city")),
        ),
        (
            &|p| p.location.country = Some(String::new()),
            Err(E::InvalidText("location.country")),
        ),
        (&|p| p.ip = Some("198.51.100.300".into()), Err(E::InvalidIp)),
        (&|p| p.expires_at = 100, Err(E::ExpiresBeforeSent)),
        (&|p| p.verified = true, Err(E::MissingCodeLength)),
        (&|p| p.code_length = Some(3), Err(E::UnexpectedCodeLength)),
        (
            &|p| {
                p.verified = true;
                p.code_length = Some(2);
            },
            Err(E::CodeLength(2)),
        ),
        (
            &|p| {
                p.verified = true;
                p.code_length = Some(7);
            },
            Err(E::CodeLength(7)),
        ),
    ];
    for (edit, expected) in cases {
        let mut wire = base.clone();
        edit(&mut wire);
        assert_eq!(
            Push::try_from(wire.clone()).map(|p| p.kind),
            expected,
            "{wire:?}"
        );
    }
}

#[test]
fn paths_live_under_the_prefix() {
    for path in [DEVICE_ACTIVATE, DEVICE_PUSHES, DEVICE_APPROVAL] {
        assert!(path.starts_with(DEVICE_PREFIX), "{path}");
    }
}
