use serde_json::{Value, json};

use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const FIXTURE: &str = include_str!("../../../tests/data/v1/helpdesk-request.json");

fn check_query(input: &str, expected: Result<SearchQuery, SearchError>) {
    assert_eq!(SearchQuery::parse(input), expected, "{input:?}");
}

#[test]
fn search_queries_parse() {
    use SearchQuery::*;
    let name = |last: &str, first: &str| Name {
        last: last.into(),
        first: first.into(),
    };
    // The reference procedure's examples: "Titan, Tuffy" or "tuffytitan".
    let long = "x".repeat(101);
    let cases: Vec<(&str, Result<SearchQuery, SearchError>)> = vec![
        ("Titan, Tuffy", Ok(name("titan", "tuffy"))),
        ("tuffytitan", Ok(Term("tuffytitan".into()))),
        ("  Titan ,  Tuffy  ", Ok(name("titan", "tuffy"))),
        ("Titan,", Ok(name("titan", ""))),
        ("Van  der Berg, Anna", Ok(name("van der berg", "anna"))),
        ("Ångström", Ok(Term("ångström".into()))),
        ("ti", Ok(Term("ti".into()))),
        ("t", Err(SearchError::TooShort)),
        ("", Err(SearchError::TooShort)),
        (", Tuffy", Err(SearchError::TooShort)),
        ("a,b,c", Err(SearchError::InvalidCharacter)),
        ("Titan\u{0}", Err(SearchError::InvalidCharacter)),
        (&long, Err(SearchError::TooLong)),
    ];
    for (input, expected) in cases {
        check_query(input, expected);
    }
    let search = AccountSearch {
        q: "Titan, Tuffy".into(),
    };
    assert_eq!(SearchQuery::try_from(&search), Ok(name("titan", "tuffy")));
}

#[test]
fn search_queries_match() {
    // (query, username, first name, last name, matches)
    let cases: &[(&str, &str, &str, &str, bool)] = &[
        ("Titan, Tuffy", "tuffytitan", "Tuffy", "Titan", true),
        ("titan, tu", "tuffytitan", "Tuffy", "Titan", true),
        ("Titan,", "tuffytitan", "Tuffy", "Titan", true),
        ("Titan, Anna", "tuffytitan", "Tuffy", "Titan", false),
        ("Tuffy, Titan", "tuffytitan", "Tuffy", "Titan", false),
        ("tuffytitan", "tuffytitan", "Tuffy", "Titan", true),
        ("TUFFY", "tuffytitan", "Tuffy", "Titan", true),
        ("Titan", "tuffytitan", "Tuffy", "Titan", true),
        ("tit", "jsmith", "Joe", "Titanic", true),
        ("smith", "jsmith", "Joe", "Smith", true),
        ("mith", "jsmith", "Joe", "Smith", false),
    ];
    for &(query, username, first, last, expected) in cases {
        let query = SearchQuery::parse(query).unwrap();
        assert_eq!(
            query.matches(username, first, last),
            expected,
            "{query:?} {username}"
        );
    }
}

fn request(json: Value) -> AccountUpdateRequest {
    serde_json::from_value(json).unwrap()
}

/// A compact view of a checked request: `(type, [(person, change)])`, where the change is
/// `+number`, `~last_four>number`, or `-last_four`.
fn summary(update: &AccountUpdate) -> (RequestType, Vec<String>) {
    let changes = match &update.change {
        AccountChange::User(UserPhoneChange::Add { new_phone }) => vec![format!("+{new_phone}")],
        AccountChange::User(UserPhoneChange::Update {
            new_phone,
            last_four,
        }) => vec![format!(
            "~{}>{new_phone}",
            last_four.map(|l| l.to_string()).unwrap_or_default()
        )],
        AccountChange::Administrative(people) => people
            .iter()
            .map(|(person, change)| match change {
                AdminPhoneChange::Add { new_phone } => format!("{person}:+{new_phone}"),
                AdminPhoneChange::Update {
                    last_four,
                    new_phone,
                } => format!("{person}:~{last_four}>{new_phone}"),
                AdminPhoneChange::Remove { last_four } => format!("{person}:-{last_four}"),
            })
            .collect(),
    };
    (update.request_type(), changes)
}

#[test]
fn account_updates_convert() {
    use AccountUpdateError as E;
    use RequestType::*;
    let user = |extra: Value| {
        let mut base = json!({
            "requested_for": "Titan, Tuffy",
            "account": "tuffytitan",
            "account_kind": "user",
        });
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base
    };
    let admin = |extra: Value| {
        let mut base = json!({
            "requested_for": "Coordinator, Dept",
            "account": "dept-payroll-admin",
            "account_kind": "administrative",
        });
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base
    };
    let tuffy = || Some("tuffytitan".to_owned());
    type Expected = Result<(RequestType, Vec<&'static str>), AccountUpdateError>;
    let cases: Vec<(Value, Expected)> = vec![
        // User accounts: Add and Update.
        (
            user(json!({"request_type": "add", "new_phone": "+1 (555) 010-0100"})),
            Ok((Add, vec!["++15550100100"])),
        ),
        (
            user(json!({"request_type": "update", "new_phone": "+41 33 123456789"})),
            Ok((Update, vec!["~>+4133123456789"])),
        ),
        (
            user(
                json!({"request_type": "update", "new_phone": "+41 33 123456789", "last_four": " 0100 "}),
            ),
            Ok((Update, vec!["~0100>+4133123456789"])),
        ),
        (
            user(json!({"request_type": "remove", "last_four": "0100"})),
            Err(E::RemoveNeedsAdministrative),
        ),
        (
            user(json!({"request_type": "add"})),
            Err(E::MissingNewPhone(None)),
        ),
        (
            user(json!({"request_type": "add", "new_phone": "  "})),
            Err(E::MissingNewPhone(None)),
        ),
        (
            user(json!({"request_type": "add", "new_phone": "0100"})),
            Err(E::NewPhone {
                person: None,
                source: PhoneError::MissingInternationalPrefix,
            }),
        ),
        (
            user(json!({"request_type": "add", "new_phone": "+15550100100", "last_four": "0100"})),
            Err(E::UnexpectedLastFour(None)),
        ),
        (
            user(
                json!({"request_type": "update", "new_phone": "+15550100100", "last_four": "100"}),
            ),
            Err(E::LastFour(None)),
        ),
        (
            user(
                json!({"request_type": "add", "new_phone": "+15550100100", "people": [{"username": "jsmith"}]}),
            ),
            Err(E::PeopleOnUserAccount),
        ),
        // Administrative accounts: per person.
        (
            admin(json!({"request_type": "add", "people": [
                {"username": "tuffytitan", "new_phone": "+1 555 010 0100"},
                {"username": "jsmith", "new_phone": "+44 20 7946 0958"}
            ]})),
            Ok((
                Add,
                vec!["tuffytitan:++15550100100", "jsmith:++442079460958"],
            )),
        ),
        (
            admin(json!({"request_type": "update", "people": [
                {"username": "tuffytitan", "new_phone": "+1 555 010 0100", "last_four": "2000"}
            ]})),
            Ok((Update, vec!["tuffytitan:~2000>+15550100100"])),
        ),
        (
            admin(json!({"request_type": "remove", "people": [
                {"username": "tuffytitan", "last_four": "2000"},
                {"username": "jsmith", "last_four": "4567"}
            ]})),
            Ok((Remove, vec!["tuffytitan:-2000", "jsmith:-4567"])),
        ),
        (admin(json!({"request_type": "add"})), Err(E::NoPeople)),
        (
            admin(
                json!({"request_type": "add", "new_phone": "+15550100100", "people": [
                    {"username": "tuffytitan", "new_phone": "+1 555 010 0100"}
                ]}),
            ),
            Err(E::PhoneOutsidePeople),
        ),
        (
            admin(
                json!({"request_type": "remove", "last_four": "2000", "people": [
                    {"username": "tuffytitan", "last_four": "2000"}
                ]}),
            ),
            Err(E::PhoneOutsidePeople),
        ),
        (
            admin(json!({"request_type": "add", "people": [{"username": "tuffytitan"}]})),
            Err(E::MissingNewPhone(tuffy())),
        ),
        (
            admin(json!({"request_type": "add", "people": [
                {"username": "tuffytitan", "new_phone": "+15550100100", "last_four": "2000"}
            ]})),
            Err(E::UnexpectedLastFour(tuffy())),
        ),
        (
            admin(json!({"request_type": "update", "people": [
                {"username": "tuffytitan", "new_phone": "+15550100100"}
            ]})),
            Err(E::MissingLastFour(tuffy())),
        ),
        (
            admin(json!({"request_type": "update", "people": [
                {"username": "tuffytitan", "last_four": "2000"}
            ]})),
            Err(E::MissingNewPhone(tuffy())),
        ),
        (
            admin(json!({"request_type": "remove", "people": [{"username": "tuffytitan"}]})),
            Err(E::MissingLastFour(tuffy())),
        ),
        (
            admin(json!({"request_type": "remove", "people": [
                {"username": "tuffytitan", "last_four": "2000", "new_phone": "+15550100100"}
            ]})),
            Err(E::UnexpectedNewPhone(tuffy())),
        ),
        (
            admin(json!({"request_type": "remove", "people": [
                {"username": "tuffytitan", "last_four": "20o0"}
            ]})),
            Err(E::LastFour(tuffy())),
        ),
        (
            admin(json!({"request_type": "add", "people": [
                {"username": "tuffytitan", "new_phone": "+999 1234"}
            ]})),
            Err(E::NewPhone {
                person: tuffy(),
                source: PhoneError::UnknownCountryCode("999".into()),
            }),
        ),
        (
            admin(json!({"request_type": "remove", "people": [
                {"username": "tuffytitan", "last_four": "2000"},
                {"username": "TuffyTitan", "last_four": "3000"}
            ]})),
            Err(E::DuplicatePerson("TuffyTitan".into())),
        ),
        (
            admin(
                json!({"request_type": "remove", "people": [{"username": " ", "last_four": "2000"}]}),
            ),
            Err(E::Person),
        ),
        (
            admin(json!({"request_type": "remove", "people": (0..21)
                .map(|i| json!({"username": format!("u{i}"), "last_four": "2000"}))
                .collect::<Vec<_>>()})),
            Err(E::TooManyPeople),
        ),
        // The request's own fields.
        (
            user(json!({"request_type": "add", "new_phone": "+15550100100", "requested_for": ""})),
            Err(E::RequestedFor),
        ),
        (
            user(json!({"request_type": "add", "new_phone": "+15550100100", "account": "\t"})),
            Err(E::Account),
        ),
        (
            user(
                json!({"request_type": "add", "new_phone": "+15550100100", "special_instructions": "x".repeat(2001)}),
            ),
            Err(E::SpecialInstructions),
        ),
        (
            user(
                json!({"request_type": "add", "new_phone": "+15550100100", "special_instructions": "a\u{1b}b"}),
            ),
            Err(E::SpecialInstructions),
        ),
    ];
    for (json, expected) in cases {
        let got = AccountUpdate::try_from(&request(json.clone())).map(|u| summary(&u));
        let expected = expected.map(|(kind, changes)| {
            (
                kind,
                changes.into_iter().map(str::to_owned).collect::<Vec<_>>(),
            )
        });
        assert_eq!(got, expected, "{json}");
    }
}

#[test]
fn special_instructions_are_trimmed_and_optional() {
    let base = json!({
        "request_type": "add", "requested_for": "Titan, Tuffy", "account": "tuffytitan",
        "account_kind": "user", "new_phone": "+15550100100",
    });
    let with = |text: Option<&str>| {
        let mut json = base.clone();
        if let Some(text) = text {
            json["special_instructions"] = text.into();
        }
        AccountUpdate::try_from(&request(json))
            .unwrap()
            .special_instructions
    };
    assert_eq!(with(None), None);
    assert_eq!(with(Some("   ")), None);
    assert_eq!(
        with(Some(" line 1\nline 2 ")),
        Some("line 1\nline 2".into())
    );
}

#[test]
fn new_numbers_must_be_off_campus() {
    let ranges = NumberingRanges::parse(&["+1 555 010", "+41 33"]).unwrap();
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let wire = request(fixture["request"].clone());
    let update = AccountUpdate::try_from(&wire).unwrap();
    let refused = update.check_off_campus(&ranges).unwrap_err();
    assert_eq!(refused.range, "+1555010");
    assert_eq!(refused.number, "+15550100100");

    let off_campus = NumberingRanges::parse(&["+1 585 275"]).unwrap();
    assert_eq!(update.check_off_campus(&off_campus), Ok(()));

    let mut second_only = wire.clone();
    second_only.people.remove(0);
    let update = AccountUpdate::try_from(&second_only).unwrap();
    assert_eq!(update.check_off_campus(&ranges).unwrap_err().range, "+4133");

    let remove = request(json!({
        "request_type": "remove", "requested_for": "x", "account": "admin",
        "account_kind": "administrative", "people": [{"username": "a", "last_four": "0100"}],
    }));
    let remove = AccountUpdate::try_from(&remove).unwrap();
    assert!(remove.new_phones().is_empty());
    assert_eq!(remove.check_off_campus(&ranges), Ok(()));
}

#[test]
fn last_four_digits() {
    let number = PhoneNumber::parse("+1 555 010 0100").unwrap();
    let cases: &[(&str, Option<bool>)] = &[
        ("0100", Some(true)),
        (" 0100 ", Some(true)),
        ("0101", Some(false)),
        ("100", None),
        ("01000", None),
        ("01 0", None),
        ("０１００", None),
        ("", None),
    ];
    for &(input, expected) in cases {
        assert_eq!(
            LastFour::parse(input).map(|l| l.matches(&number)),
            expected,
            "{input:?}"
        );
    }
}

#[test]
fn fixture_round_trips_and_one_request_per_checkout() {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let wire = request(fixture["request"].clone());
    assert_eq!(serde_json::to_value(&wire).unwrap(), fixture["request"]);
    let receipt: AccountUpdateReceipt = serde_json::from_value(fixture["receipt"].clone()).unwrap();
    assert_eq!(serde_json::to_value(receipt).unwrap(), fixture["receipt"]);
    assert_eq!(receipt.request_number.sequence(), 12345);
    assert_eq!(receipt.item_number.sequence(), 23456);
    // Several requests in one submission are refused by the shape itself.
    let two = Value::Array(vec![fixture["request"].clone(), fixture["request"].clone()]);
    assert!(serde_json::from_value::<AccountUpdateRequest>(two).is_err());
}

#[test]
fn ticket_numbers_format() {
    let cases: &[(u32, &str, &str)] = &[
        (0, "REQ0000000", "RITM0000000"),
        (12345, "REQ0012345", "RITM0012345"),
        (9_999_999, "REQ9999999", "RITM9999999"),
        (10_000_000, "REQ10000000", "RITM10000000"),
        (u32::MAX, "REQ4294967295", "RITM4294967295"),
    ];
    for &(n, req, ritm) in cases {
        assert_eq!(RequestNumber::new(n).to_string(), req);
        assert_eq!(ItemNumber::new(n).to_string(), ritm);
        assert_eq!(req.parse::<RequestNumber>(), Ok(RequestNumber::new(n)));
        assert_eq!(ritm.parse::<ItemNumber>(), Ok(ItemNumber::new(n)));
    }
}

#[test]
fn ticket_numbers_parse() {
    use TicketNumberError::*;
    let cases: &[(&str, Result<u32, TicketNumberError>)] = &[
        ("REQ0012345", Ok(12345)),
        ("req0012345", Ok(12345)),
        (" REQ0012345 ", Ok(12345)),
        ("REQ12345678", Ok(12_345_678)),
        ("REQ", Err(Digits("REQ"))),
        ("REQ12345", Err(Digits("REQ"))),
        ("REQ00012345", Err(Digits("REQ"))),
        ("REQ001234a", Err(Digits("REQ"))),
        ("REQ+012345", Err(Digits("REQ"))),
        ("REQ 0012345", Err(Digits("REQ"))),
        ("REQ4294967296", Err(Digits("REQ"))),
        ("RITM0012345", Err(Prefix("REQ"))),
        ("RE", Err(Prefix("REQ"))),
        ("", Err(Prefix("REQ"))),
        ("ŔEQ0012345", Err(Prefix("REQ"))),
    ];
    for (input, expected) in cases {
        assert_eq!(
            input.parse::<RequestNumber>().map(RequestNumber::sequence),
            *expected,
            "{input:?}"
        );
    }
    assert_eq!("ritm0000001".parse::<ItemNumber>(), Ok(ItemNumber::new(1)));
    assert_eq!("REQ0000001".parse::<ItemNumber>(), Err(Prefix("RITM")));
    // The wire refuses what the parser refuses.
    assert!(serde_json::from_value::<RequestNumber>(json!("REQ12")).is_err());
    assert!(serde_json::from_value::<RequestNumber>(json!(12)).is_err());
}

#[test]
fn wire_names() {
    assert_eq!(
        serde_json::to_value([RequestType::Add, RequestType::Update, RequestType::Remove]).unwrap(),
        json!(["add", "update", "remove"])
    );
    assert_eq!(
        serde_json::to_value([AccountKind::User, AccountKind::Administrative]).unwrap(),
        json!(["user", "administrative"])
    );
    for path in [HELPDESK_ACCOUNTS, HELPDESK_REQUESTS] {
        assert!(path.starts_with(HELPDESK_PREFIX), "{path}");
    }
}
