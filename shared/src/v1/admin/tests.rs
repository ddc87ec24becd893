use serde_json::{Value, json};

use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const USERS_PAGE: &str = include_str!("../../../tests/data/v1/admin-users-page.json");
const USER_DUO_FULL: &str = include_str!("../../../tests/data/v1/admin-user-duo-full.json");
const FAIL: &str = include_str!("../../../tests/data/v1/admin-fail.json");
const BYPASS_CODES: &str = include_str!("../../../tests/data/v1/admin-bypass-codes.json");
const BYPASS_CODE_LIST: &str = include_str!("../../../tests/data/v1/admin-bypass-code-list.json");

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Parses a fixture as `T` and serializes it back: the same JSON, key for key.
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(fixture: &str) -> (T, Value) {
    let value: Value = serde_json::from_str(fixture).unwrap();
    let parsed: T = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
    (parsed, value)
}

#[test]
fn users_page_round_trips_with_exact_keys() {
    let (envelope, value) = round_trip::<Envelope<Vec<User>>>(USERS_PAGE);
    assert_eq!(keys(&value), ["metadata", "response", "stat"]);
    assert_eq!(
        keys(&value["response"][0]),
        [
            "created",
            "email",
            "firstname",
            "groups",
            "is_enrolled",
            "last_login",
            "lastname",
            "notes",
            "phones",
            "realname",
            "status",
            "tokens",
            "user_id",
            "username",
            "webauthncredentials"
        ]
    );
    assert_eq!(
        keys(&value["response"][0]["phones"][0]),
        [
            "activated",
            "capabilities",
            "extension",
            "name",
            "number",
            "phone_id",
            "platform",
            "sms_passcodes_sent",
            "type"
        ]
    );
    // `last_login` is `null` before the first sign-in, never left out.
    assert_eq!(value["response"][1]["last_login"], Value::Null);
    assert_eq!(envelope.http_status(), 200);
    let users = envelope.into_result().unwrap();
    assert_eq!(users[1].status, UserStatus::LockedOut);
    assert_eq!(users[0].tokens[1].token_type, TokenType::T6);
    assert_eq!(users[0].phones[0].platform, PhonePlatform::GoogleAndroid);
}

#[test]
fn duo_user_with_more_fields_parses() {
    // Duo's documented user carries fields this subset does not model; they are ignored.
    let value: Value = serde_json::from_str(USER_DUO_FULL).unwrap();
    let envelope: Envelope<User> = serde_json::from_value(value).unwrap();
    let user = envelope.into_result().unwrap();
    assert_eq!(user.username, "jsmith");
    assert_eq!(user.last_login, Some(1343921403));
    assert_eq!(user.phones[0].capabilities.len(), 5);
    assert_eq!(user.tokens[0].totp_step, None);
    assert_eq!(user.groups[0].name, "token_users");
}

#[test]
fn failures_round_trip_with_exact_keys() {
    let (envelope, value) = round_trip::<Envelope<Value>>(FAIL);
    assert_eq!(keys(&value), ["code", "message", "message_detail", "stat"]);
    assert_eq!(envelope.http_status(), 400);
    let failure = envelope.into_result().unwrap_err();
    assert_eq!(
        failure,
        Failure::new(FailCode::InvalidParameters, Some("username".into()))
    );

    let bare: Envelope<Value> = Failure::new(FailCode::NotFound, None).into();
    assert_eq!(
        serde_json::to_value(&bare).unwrap(),
        json!({"stat": "FAIL", "code": 40401, "message": "Resource not found"})
    );
    assert_eq!(bare.http_status(), 404);
    // The OAuth health check adds `timestamp`; a client-side parse ignores it.
    let health: Envelope<Value> = serde_json::from_str(
        r#"{"stat":"FAIL","code":40002,"message":"invalid_client","message_detail":"The provided client_assertion was invalid.","timestamp":1573053670}"#,
    )
    .unwrap();
    assert_eq!(health.http_status(), 400);
    // A stat other than OK or FAIL is no envelope.
    assert!(serde_json::from_str::<Envelope<Value>>(r#"{"stat":"ok","response":1}"#).is_err());
    assert!(serde_json::from_str::<Envelope<Value>>(r#"{"response":1}"#).is_err());
}

#[test]
fn success_keys_are_exact() {
    let plain = Envelope::ok(json!({"time": 1}));
    assert_eq!(
        serde_json::to_string(&plain).unwrap(),
        r#"{"stat":"OK","response":{"time":1}}"#
    );
    // A bare string response (Duo's `enroll_status`).
    let text: Envelope<String> =
        serde_json::from_str(r#"{"stat":"OK","response":"waiting"}"#).unwrap();
    assert_eq!(text.into_result().unwrap(), "waiting");
}

#[test]
fn fail_codes_and_statuses() {
    let cases: &[(FailCode, u32, u16)] = &[
        (FailCode::MissingParameters, 40001, 400),
        (FailCode::InvalidParameters, 40002, 400),
        (FailCode::MissingCredentials, 40101, 401),
        (FailCode::InvalidIntegrationKey, 40102, 401),
        (FailCode::InvalidSignature, 40103, 401),
        (FailCode::Forbidden, 40301, 403),
        (FailCode::NotFound, 40401, 404),
        (FailCode::MethodNotAllowed, 40501, 405),
        (FailCode::RateLimited, 42901, 429),
        (FailCode::Internal, 50001, 500),
    ];
    for &(code, number, status) in cases {
        let failure = Failure::new(code, None);
        assert_eq!((failure.code, failure.http_status()), (number, status));
    }
    let odd = Failure {
        code: 20001,
        message: String::new(),
        message_detail: None,
    };
    assert_eq!(odd.http_status(), 500);
}

#[test]
fn bypass_code_responses_round_trip() {
    let (issued, value) = round_trip::<Envelope<IssuedBypassCodes>>(BYPASS_CODES);
    assert_eq!(keys(&value), ["response", "stat"]);
    let codes = issued.into_result().unwrap();
    assert_eq!(codes.0.len(), 10);
    assert_eq!(format!("{codes:?}"), "IssuedBypassCodes([10 REDACTED])");

    let (list, value) = round_trip::<Envelope<Vec<BypassCodeInfo>>>(BYPASS_CODE_LIST);
    assert_eq!(
        keys(&value["response"][0]),
        [
            "admin_email",
            "bypass_code_id",
            "created",
            "expiration",
            "reuse_count"
        ]
    );
    assert_eq!(value["response"][1]["expiration"], Value::Null);
    assert_eq!(list.into_result().unwrap()[1].reuse_count, 0);
}

#[test]
fn metadata_for_pages() {
    let page = |limit, offset| Page { limit, offset };
    let cases: &[(Page, u64, Value)] = &[
        (page(100, 0), 5, json!({"total_objects": 5})),
        (page(2, 0), 5, json!({"next_offset": 2, "total_objects": 5})),
        (
            page(2, 2),
            5,
            json!({"next_offset": 4, "prev_offset": 0, "total_objects": 5}),
        ),
        (page(2, 4), 5, json!({"prev_offset": 2, "total_objects": 5})),
        (
            page(2, 1),
            5,
            json!({"next_offset": 3, "prev_offset": 0, "total_objects": 5}),
        ),
        (
            page(10, 20),
            5,
            json!({"prev_offset": 10, "total_objects": 5}),
        ),
        (
            page(1, u64::MAX),
            5,
            json!({"prev_offset": u64::MAX - 1, "total_objects": 5}),
        ),
    ];
    for (page, total, expected) in cases {
        let metadata = Metadata::for_page(*page, *total);
        assert_eq!(
            &serde_json::to_value(metadata).unwrap(),
            expected,
            "{page:?}"
        );
    }
}

#[test]
fn params_accept_strings_numbers_and_booleans() {
    let cases: &[(&str, Option<&str>)] = &[
        (r#""1""#, Some("1")),
        (r#""true""#, Some("true")),
        ("true", Some("true")),
        ("false", Some("false")),
        ("10", Some("10")),
        ("-3", Some("-3")),
        ("1.5", None),
        ("[1]", None),
        (r#"{"a":1}"#, None),
    ];
    for (json, expected) in cases {
        let got = serde_json::from_str::<Param>(json).ok().map(|p| p.0);
        assert_eq!(got.as_deref(), *expected, "{json}");
    }
    // Null and absence are both "not given".
    let params: CreateBypassCodesParams =
        serde_json::from_str(r#"{"count":null,"preserve_existing":true}"#).unwrap();
    assert_eq!(params.count, None);
    assert_eq!(params.preserve_existing, Some(Param::from("true")));
    // Form bodies (v2 signatures) arrive as strings.
    let form: CreateBypassCodesParams =
        serde_urlencoded::from_str("count=3&reuse_count=0&valid_secs=3600&preserve_existing=1")
            .unwrap();
    let order = BypassCodeOrder::try_from(&form).unwrap();
    assert!(matches!(order.source, BypassCodeSource::Generate(3)));
    assert_eq!(order.uses, bypass::Uses::Unlimited);
    assert_eq!(order.expires_at(1000), Some(4600));
    assert!(order.preserve_existing);
    // duo_client's v5 JSON body for the same call.
    let json: CreateBypassCodesParams = serde_json::from_str(
        r#"{"count":"3","preserve_existing":true,"reuse_count":"0","valid_secs":"3600"}"#,
    )
    .unwrap();
    let from_json = BypassCodeOrder::try_from(&json).unwrap();
    assert!(matches!(from_json.source, BypassCodeSource::Generate(3)));
    assert_eq!(
        (
            from_json.uses,
            from_json.valid_secs,
            from_json.preserve_existing
        ),
        (order.uses, order.valid_secs, order.preserve_existing)
    );
}

fn params<T: serde::de::DeserializeOwned>(json: Value) -> T {
    serde_json::from_value(json).unwrap()
}

fn invalid(name: &'static str, problem: Problem) -> ParamError {
    ParamError::Invalid { name, problem }
}

#[test]
fn pages_convert() {
    type Expected = Result<(u32, u64), ParamError>;
    let cases: &[(Value, Expected)] = &[
        (json!({}), Ok((100, 0))),
        (json!({"limit": "10", "offset": "20"}), Ok((10, 20))),
        (json!({"limit": 10, "offset": 20}), Ok((10, 20))),
        (json!({"limit": "1000"}), Ok((300, 0))),
        (
            json!({"limit": "0"}),
            Err(invalid(
                "limit",
                Problem::OutOfRange {
                    min: 1,
                    max: u32::MAX.into(),
                },
            )),
        ),
        (
            json!({"limit": "-1"}),
            Err(invalid(
                "limit",
                Problem::OutOfRange {
                    min: 1,
                    max: u32::MAX.into(),
                },
            )),
        ),
        (
            json!({"offset": "+5"}),
            Err(invalid(
                "offset",
                Problem::OutOfRange {
                    min: 0,
                    max: i64::MAX.unsigned_abs(),
                },
            )),
        ),
        (
            json!({"offset": "99999999999999999999"}),
            Err(invalid(
                "offset",
                Problem::OutOfRange {
                    min: 0,
                    max: i64::MAX.unsigned_abs(),
                },
            )),
        ),
    ];
    for (json, expected) in cases {
        let got = Page::try_from(&params::<PageParams>(json.clone())).map(|p| (p.limit, p.offset));
        assert_eq!(&got, expected, "{json}");
    }
}

#[test]
fn user_statuses_use_duo_strings() {
    let cases: &[(UserStatus, &str, bool)] = &[
        (UserStatus::Active, "active", true),
        (UserStatus::Bypass, "bypass", true),
        (UserStatus::Disabled, "disabled", true),
        (UserStatus::LockedOut, "locked out", false),
        (UserStatus::PendingDeletion, "pending deletion", false),
    ];
    for &(status, text, settable) in cases {
        assert_eq!(serde_json::to_value(status).unwrap(), text);
        assert_eq!(UserStatus::parse(text), Some(status));
        assert_eq!(status.is_settable(), settable);
    }
    for text in ["Active", "locked_out", "lockedout", " active", ""] {
        assert_eq!(UserStatus::parse(text), None, "{text:?}");
    }
}

#[test]
fn new_users_convert() {
    type Expected = Result<(&'static str, &'static str, UserStatus), ParamError>;
    let cases: &[(Value, Expected)] = &[
        (
            json!({"username": "jsmith"}),
            Ok(("jsmith", "", UserStatus::Active)),
        ),
        (
            json!({"username": " jsmith ", "email": "jsmith@example.com", "status": "bypass"}),
            Ok(("jsmith", "jsmith@example.com", UserStatus::Bypass)),
        ),
        (
            json!({"username": "jsmith", "email": "", "status": "disabled", "notes": "line 1\nline 2"}),
            Ok(("jsmith", "", UserStatus::Disabled)),
        ),
        (json!({}), Err(ParamError::Missing("username"))),
        (
            json!({"username": "  "}),
            Err(invalid("username", Problem::Empty)),
        ),
        (
            json!({"username": "a".repeat(257)}),
            Err(invalid("username", Problem::TooLong(MAX_NAME_CHARS))),
        ),
        (
            json!({"username": "j\u{0}smith"}),
            Err(invalid("username", Problem::TooLong(MAX_NAME_CHARS))),
        ),
        (
            json!({"username": "jsmith", "status": "locked out"}),
            Err(invalid("status", Problem::NotSettable)),
        ),
        (
            json!({"username": "jsmith", "status": "pending deletion"}),
            Err(invalid("status", Problem::NotSettable)),
        ),
        (
            json!({"username": "jsmith", "status": "enabled"}),
            Err(invalid("status", Problem::UnknownValue)),
        ),
        (
            json!({"username": "jsmith", "email": "jsmith"}),
            Err(invalid("email", Problem::NotEmail)),
        ),
        (
            json!({"username": "jsmith", "email": "a@b@c"}),
            Err(invalid("email", Problem::NotEmail)),
        ),
        (
            json!({"username": "jsmith", "email": "j smith@example.com"}),
            Err(invalid("email", Problem::NotEmail)),
        ),
        (
            json!({"username": "jsmith", "notes": "x".repeat(1025)}),
            Err(invalid("notes", Problem::TooLong(MAX_NOTES_CHARS))),
        ),
        (
            json!({"username": "jsmith", "realname": "a\u{7}"}),
            Err(invalid("realname", Problem::TooLong(MAX_NAME_CHARS))),
        ),
    ];
    for (json, expected) in cases {
        let got = NewUser::try_from(&params::<CreateUserParams>(json.clone()))
            .map(|u| (u.username, u.email, u.status));
        let expected = expected
            .clone()
            .map(|(name, email, status)| (name.to_owned(), email.to_owned(), status));
        assert_eq!(got, expected, "{json}");
    }
}

#[test]
fn user_changes_convert() {
    let cases: &[(Value, Result<UserChanges, ParamError>)] = &[
        (json!({}), Ok(UserChanges::default())),
        (
            json!({"status": "active"}),
            Ok(UserChanges {
                status: Some(UserStatus::Active),
                ..UserChanges::default()
            }),
        ),
        (
            json!({"email": "", "realname": "", "firstname": "Joe"}),
            Ok(UserChanges {
                email: Some(String::new()),
                realname: Some(String::new()),
                firstname: Some("Joe".into()),
                ..UserChanges::default()
            }),
        ),
        (
            json!({"username": ""}),
            Err(invalid("username", Problem::Empty)),
        ),
        (
            json!({"status": "locked out"}),
            Err(invalid("status", Problem::NotSettable)),
        ),
    ];
    for (json, expected) in cases {
        let got = UserChanges::try_from(&params::<ModifyUserParams>(json.clone()));
        assert_eq!(&got, expected, "{json}");
    }
}

#[test]
fn new_phones_convert() {
    type Expected = Result<(Option<&'static str>, PhoneType, PhonePlatform), ParamError>;
    let cases: &[(Value, Expected)] = &[
        (
            json!({}),
            Ok((None, PhoneType::Unknown, PhonePlatform::Unknown)),
        ),
        (
            json!({"number": "+1 (555) 010-0100", "type": "mobile", "platform": "google android"}),
            Ok((
                Some("+15550100100"),
                PhoneType::Mobile,
                PhonePlatform::GoogleAndroid,
            )),
        ),
        (
            json!({"number": "+15550100100", "type": "Landline", "platform": "Apple iOS"}),
            Ok((
                Some("+15550100100"),
                PhoneType::Landline,
                PhonePlatform::AppleIos,
            )),
        ),
        (
            json!({"number": "", "platform": "windows phone 7"}),
            Ok((None, PhoneType::Unknown, PhonePlatform::WindowsPhone)),
        ),
        (
            json!({"number": "+41 33 123456789", "extension": "1234", "predelay": "2", "postdelay": 3}),
            Ok((
                Some("+4133123456789"),
                PhoneType::Unknown,
                PhonePlatform::Unknown,
            )),
        ),
        (
            json!({"number": "555-010-0100"}),
            Err(invalid(
                "number",
                Problem::Phone(PhoneError::MissingInternationalPrefix),
            )),
        ),
        (
            json!({"number": "+1 555 010 010"}),
            Err(invalid("number", Problem::Phone(PhoneError::NorthAmerica))),
        ),
        (
            json!({"extension": "12a"}),
            Err(invalid("extension", Problem::TooLong(10))),
        ),
        (
            json!({"type": "cell"}),
            Err(invalid("type", Problem::UnknownValue)),
        ),
        (
            json!({"platform": "android"}),
            Err(invalid("platform", Problem::UnknownValue)),
        ),
        (
            json!({"predelay": "61"}),
            Err(invalid("predelay", Problem::OutOfRange { min: 0, max: 60 })),
        ),
        (
            json!({"postdelay": true}),
            Err(invalid(
                "postdelay",
                Problem::OutOfRange { min: 0, max: 60 },
            )),
        ),
    ];
    for (json, expected) in cases {
        let got = NewPhone::try_from(&params::<CreatePhoneParams>(json.clone())).map(|p| {
            (
                p.number.map(|n| n.as_str().to_owned()),
                p.phone_type,
                p.platform,
            )
        });
        let expected = expected
            .clone()
            .map(|(number, kind, platform)| (number.map(str::to_owned), kind, platform));
        assert_eq!(got, expected, "{json}");
    }
}

#[test]
fn phone_enums_use_duo_strings() {
    for platform in PhonePlatform::ALL {
        assert_eq!(serde_json::to_value(platform).unwrap(), platform.as_str());
        assert_eq!(PhonePlatform::parse(platform.as_str()), Some(platform));
        assert_eq!(
            PhonePlatform::parse(&platform.as_str().to_lowercase()),
            Some(platform)
        );
    }
    for kind in [PhoneType::Mobile, PhoneType::Landline, PhoneType::Unknown] {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    assert_eq!(
        serde_json::to_value([Capability::Auto, Capability::MobileOtp]).unwrap(),
        json!(["auto", "mobile_otp"])
    );
}

/// What a token converts to, without its keys.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Hotp { digits: u8, counter: u64 },
    Totp { digits: u8, step_at_60: u64 },
    Yubikey,
}

#[test]
fn new_tokens_convert() {
    const SECRET: &str = "3132333435363738393031323334353637383930";
    const PRIVATE_ID: &str = "8792ebfe26cc";
    const AES_KEY: &str = "ecde18dbe76fbd0c33330f1c354871db";
    let cases: &[(Value, Result<Kind, ParamError>)] = &[
        (
            json!({"type": "h6", "serial": "1", "secret": SECRET}),
            Ok(Kind::Hotp {
                digits: 6,
                counter: 0,
            }),
        ),
        (
            json!({"type": "h8", "serial": "1", "secret": SECRET.to_uppercase(), "counter": "7"}),
            Ok(Kind::Hotp {
                digits: 8,
                counter: 7,
            }),
        ),
        (
            json!({"type": "t6", "serial": "1", "secret": SECRET}),
            Ok(Kind::Totp {
                digits: 6,
                step_at_60: 2,
            }),
        ),
        (
            json!({"type": "t8", "serial": "1", "secret": SECRET, "totp_step": "60"}),
            Ok(Kind::Totp {
                digits: 8,
                step_at_60: 1,
            }),
        ),
        (
            json!({"type": "yk", "serial": "1", "private_id": PRIVATE_ID, "aes_key": AES_KEY}),
            Ok(Kind::Yubikey),
        ),
        (json!({"serial": "1"}), Err(ParamError::Missing("type"))),
        (json!({"type": "h6"}), Err(ParamError::Missing("serial"))),
        (
            json!({"type": "d1", "serial": "1"}),
            Err(invalid("type", Problem::UnknownValue)),
        ),
        (
            json!({"type": "H6", "serial": "1", "secret": SECRET}),
            Err(invalid("type", Problem::UnknownValue)),
        ),
        (
            json!({"type": "h6", "serial": "1"}),
            Err(ParamError::Missing("secret")),
        ),
        (
            json!({"type": "h6", "serial": "1", "secret": "zz"}),
            Err(invalid("secret", Problem::NotHex("10 or more"))),
        ),
        (
            json!({"type": "h6", "serial": "1", "secret": "313233"}),
            Err(invalid("secret", Problem::BadKey)),
        ),
        (
            json!({"type": "h6", "serial": "1", "secret": SECRET, "totp_step": "30"}),
            Err(invalid("totp_step", Problem::NotApplicable)),
        ),
        (
            json!({"type": "t6", "serial": "1", "secret": SECRET, "counter": "1"}),
            Err(invalid("counter", Problem::NotApplicable)),
        ),
        (
            json!({"type": "t6", "serial": "1", "secret": SECRET, "totp_step": "0"}),
            Err(invalid(
                "totp_step",
                Problem::OutOfRange { min: 1, max: 300 },
            )),
        ),
        (
            json!({"type": "h6", "serial": "1", "secret": SECRET, "aes_key": AES_KEY}),
            Err(invalid("aes_key", Problem::NotApplicable)),
        ),
        (
            json!({"type": "yk", "serial": "1", "aes_key": AES_KEY}),
            Err(ParamError::Missing("private_id")),
        ),
        (
            json!({"type": "yk", "serial": "1", "private_id": "8792eb", "aes_key": AES_KEY}),
            Err(invalid("private_id", Problem::NotHex("6"))),
        ),
        (
            json!({"type": "yk", "serial": "1", "private_id": PRIVATE_ID, "aes_key": "ec"}),
            Err(invalid("aes_key", Problem::NotHex("16"))),
        ),
        (
            json!({"type": "yk", "serial": "1", "private_id": PRIVATE_ID, "aes_key": AES_KEY, "secret": SECRET}),
            Err(invalid("secret", Problem::NotApplicable)),
        ),
    ];
    for (json, expected) in cases {
        let wire: CreateTokenParams = params(json.clone());
        let got = NewToken::try_from(&wire).map(|t| match t.secret {
            TokenSecret::Hotp { key, counter } => Kind::Hotp {
                digits: key.digits(),
                counter,
            },
            TokenSecret::Totp(totp) => Kind::Totp {
                digits: totp.key().digits(),
                step_at_60: totp.step_at(60),
            },
            TokenSecret::Yubikey { .. } => Kind::Yubikey,
        });
        assert_eq!(&got, expected, "{json}");
    }
    // RFC 4226's first HOTP value proves the hex key arrived intact.
    let wire: CreateTokenParams = params(json!({"type": "h6", "serial": "1", "secret": SECRET}));
    let TokenSecret::Hotp { key, .. } = NewToken::try_from(&wire).unwrap().secret else {
        panic!("not HOTP");
    };
    assert_eq!(key.hotp(0), "755224");
    let shown = format!("{wire:?}");
    assert!(!shown.contains(SECRET), "{shown}");
}

#[test]
fn bypass_code_orders_convert() {
    /// (source: count or the codes, uses, valid_secs, preserve_existing)
    type Expected = Result<
        (
            Result<u8, Vec<&'static str>>,
            bypass::Uses,
            Option<u32>,
            bool,
        ),
        ParamError,
    >;
    let limited = |n| bypass::Uses::Limited(NonZeroU32::new(n).unwrap());
    let cases: Vec<(Value, Expected)> = vec![
        (json!({}), Ok((Ok(10), bypass::Uses::Single, None, false))),
        (
            json!({"count": "1", "reuse_count": "5", "valid_secs": "0", "preserve_existing": "false"}),
            Ok((Ok(1), limited(5), None, false)),
        ),
        (
            json!({"count": 10, "reuse_count": 1, "valid_secs": 86400, "preserve_existing": true}),
            Ok((Ok(10), bypass::Uses::Single, Some(86400), true)),
        ),
        (
            json!({"codes": "123456789, 987-654-321", "preserve_existing": "True"}),
            Ok((
                Err(vec!["123456789", "987654321"]),
                bypass::Uses::Single,
                None,
                true,
            )),
        ),
        (
            json!({"count": "3", "codes": "123456789"}),
            Err(ParamError::Exclusive("count", "codes")),
        ),
        (
            json!({"count": "0"}),
            Err(invalid("count", Problem::OutOfRange { min: 1, max: 10 })),
        ),
        (
            json!({"count": "11"}),
            Err(invalid("count", Problem::OutOfRange { min: 1, max: 10 })),
        ),
        (
            json!({"codes": ""}),
            Err(invalid("codes", Problem::BadBypassCode)),
        ),
        (
            json!({"codes": "12345678"}),
            Err(invalid("codes", Problem::BadBypassCode)),
        ),
        (
            json!({"codes": "123456789,"}),
            Err(invalid("codes", Problem::BadBypassCode)),
        ),
        (
            json!({"codes": "123456789,123 456 789"}),
            Err(invalid("codes", Problem::Duplicate)),
        ),
        (
            json!({"codes": (100_000_000..100_000_011).map(|n: u32| n.to_string()).collect::<Vec<_>>().join(",")}),
            Err(invalid("codes", Problem::OutOfRange { min: 1, max: 10 })),
        ),
        (
            json!({"reuse_count": "-1"}),
            Err(invalid(
                "reuse_count",
                Problem::OutOfRange {
                    min: 0,
                    max: u32::MAX.into(),
                },
            )),
        ),
        (
            json!({"valid_secs": "4294967296"}),
            Err(invalid(
                "valid_secs",
                Problem::OutOfRange {
                    min: 0,
                    max: u32::MAX.into(),
                },
            )),
        ),
        (
            json!({"preserve_existing": "yes"}),
            Err(invalid("preserve_existing", Problem::NotBoolean)),
        ),
        (
            json!({"preserve_existing": 2}),
            Err(invalid("preserve_existing", Problem::NotBoolean)),
        ),
    ];
    for (json, expected) in cases {
        let wire: CreateBypassCodesParams = params(json.clone());
        let got = BypassCodeOrder::try_from(&wire).map(|order| {
            let source = match order.source {
                BypassCodeSource::Generate(n) => Ok(n),
                BypassCodeSource::Given(codes) => Err(codes
                    .iter()
                    .map(|c| c.expose_secret().to_owned())
                    .collect::<Vec<_>>()),
            };
            (
                source,
                order.uses,
                order.valid_secs.map(NonZeroU32::get),
                order.preserve_existing,
            )
        });
        let expected = expected.map(|(source, uses, secs, keep)| {
            (
                source.map_err(|codes| codes.iter().map(|c| (*c).to_owned()).collect()),
                uses,
                secs,
                keep,
            )
        });
        assert_eq!(got, expected, "{json}");
    }
    let wire: CreateBypassCodesParams = params(json!({"codes": "123456789"}));
    assert!(!format!("{wire:?}").contains("123456789"));
}

#[test]
fn param_errors_become_duo_failures() {
    let cases: &[(ParamError, Value)] = &[
        (
            ParamError::Missing("username"),
            json!({"stat": "FAIL", "code": 40001, "message": "Missing required request parameters", "message_detail": "username"}),
        ),
        (
            invalid("status", Problem::NotSettable),
            json!({"stat": "FAIL", "code": 40002, "message": "Invalid request parameters", "message_detail": "parameter `status` is set by the system only"}),
        ),
        (
            ParamError::Exclusive("count", "codes"),
            json!({"stat": "FAIL", "code": 40002, "message": "Invalid request parameters", "message_detail": "parameters `count` and `codes` are mutually exclusive"}),
        ),
    ];
    for (error, expected) in cases {
        let envelope: Envelope<Value> = error.failure().into();
        assert_eq!(&serde_json::to_value(&envelope).unwrap(), expected);
    }
}

#[test]
fn token_types_use_duo_strings() {
    for (kind, text, digits) in [
        (TokenType::H6, "h6", Some(6)),
        (TokenType::H8, "h8", Some(8)),
        (TokenType::T6, "t6", Some(6)),
        (TokenType::T8, "t8", Some(8)),
        (TokenType::Yk, "yk", None),
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), text);
        assert_eq!(TokenType::parse(text), Some(kind));
        assert_eq!(kind.digits(), digits);
    }
}

#[test]
fn paths_live_under_the_prefix() {
    for path in [ADMIN_USERS, ADMIN_PHONES, ADMIN_TOKENS, ADMIN_BYPASS_CODES] {
        assert!(path.starts_with(ADMIN_PREFIX), "{path}");
    }
}
