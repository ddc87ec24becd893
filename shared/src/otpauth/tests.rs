use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const DATA: &str = include_str!("../../tests/data/otpauth-uri.txt");
const SECRET_B32: &str = "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ";

fn lines(kind: &str) -> impl Iterator<Item = Vec<&'static str>> + '_ {
    DATA.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(" | ").collect::<Vec<_>>())
        .filter(move |fields| fields[0] == kind)
}

fn algorithm(name: &str) -> Algorithm {
    match name {
        "SHA1" => Algorithm::Sha1,
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        other => panic!("unknown algorithm {other}"),
    }
}

/// Parses the fields after the URI into a `KeyUri` built with `KeyUri::new`.
fn expected(fields: &[&str]) -> KeyUri {
    let [kind, factor, issuer, account, secret, alg, digits] = fields.try_into().unwrap();
    let factor: u64 = factor.parse().unwrap();
    let kind = match kind {
        "totp" => OtpKind::Totp { period: factor },
        "hotp" => OtpKind::Hotp { counter: factor },
        other => panic!("unknown type {other}"),
    };
    let issuer = (issuer != "-").then_some(issuer);
    let secret = data_encoding::HEXLOWER.decode(secret.as_bytes()).unwrap();
    KeyUri::new(
        kind,
        issuer,
        account,
        SecretBytes::new(secret),
        algorithm(alg),
        digits.parse().unwrap(),
    )
    .unwrap()
}

fn assert_same(parsed: &KeyUri, expected: &KeyUri, uri: &str) {
    assert_eq!(parsed.kind(), expected.kind(), "{uri}");
    assert_eq!(parsed.issuer(), expected.issuer(), "{uri}");
    assert_eq!(parsed.account(), expected.account(), "{uri}");
    assert_eq!(parsed.algorithm(), expected.algorithm(), "{uri}");
    assert_eq!(parsed.digits(), expected.digits(), "{uri}");
    assert_eq!(
        parsed.secret().expose_secret(),
        expected.secret().expose_secret(),
        "{uri}"
    );
    assert_eq!(parsed.key().hotp(7), expected.key().hotp(7), "{uri}");
}

#[test]
fn published_and_foreign_uris_parse() {
    let mut checked = 0;
    for fields in lines("parse").chain(lines("render")) {
        let uri = fields[1];
        let parsed = KeyUri::parse(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_same(&parsed, &expected(&fields[2..]), uri);
        // Whatever we read, we write back in a form that reads the same.
        let again = KeyUri::parse(parsed.to_uri().expose_secret()).unwrap();
        assert_same(&again, &parsed, uri);
        checked += 1;
    }
    assert_eq!(checked, 10);
}

#[test]
fn rendering_matches_the_published_form() {
    let mut checked = 0;
    for fields in lines("render") {
        let uri = expected(&fields[2..]).to_uri();
        assert_eq!(uri.expose_secret(), fields[1]);
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn published_labels() {
    let mut checked = 0;
    for fields in lines("label") {
        let [_, label, issuer, account] = fields.try_into().unwrap();
        let uri = format!("otpauth://totp/{label}?secret={SECRET_B32}");
        let parsed = KeyUri::parse(&uri).unwrap();
        assert_eq!(
            parsed.issuer(),
            (issuer != "-").then_some(issuer),
            "{label}"
        );
        assert_eq!(parsed.account(), account, "{label}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}

fn check(uri: &str, expected: Result<(OtpKind, Option<&str>, &str), OtpauthError>) {
    let got = KeyUri::parse(uri).map(|k| {
        (
            k.kind(),
            k.issuer().map(str::to_owned),
            k.account().to_owned(),
        )
    });
    let expected = expected
        .map(|(kind, issuer, account)| (kind, issuer.map(str::to_owned), account.to_owned()));
    assert_eq!(got, expected, "{uri}");
}

const TOTP30: OtpKind = OtpKind::Totp { period: 30 };

#[test]
fn parsing_accepts_variants_and_refuses_ambiguity() {
    use OtpauthError::*;
    let s = SECRET_B32;
    let ok = |issuer, account| Ok((TOTP30, issuer, account));

    // Accepted spellings.
    check(
        &format!("otpauth://totp/alice?secret={s}"),
        ok(None, "alice"),
    );
    check(
        &format!("OTPAUTH://TOTP/alice?secret={s}"),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/alice?SECRET={s}"),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/alice?secret={}", s.to_lowercase()),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}===="),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}%3D%3D"),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/A:%20%20alice?secret={s}"),
        ok(Some("A"), "alice"),
    );
    check(
        &format!("otpauth://totp/A%3Aalice?secret={s}&issuer=A"),
        ok(Some("A"), "alice"),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&issuer=A+Co"),
        ok(Some("A Co"), "alice"),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&issuer="),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/A:alice?secret={s}&issuer="),
        ok(Some("A"), "alice"),
    );
    check(&format!("otpauth://totp/a+b?secret={s}"), ok(None, "a+b"));
    check(&format!("otpauth://totp/a/b?secret={s}"), ok(None, "a/b"));
    check(
        &format!("otpauth://totp/alice?secret={s}&image=https%3A%2F%2Fx&color=red"),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&period=0030"),
        ok(None, "alice"),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&period=1"),
        Ok((OtpKind::Totp { period: 1 }, None, "alice")),
    );
    check(
        &format!("otpauth://hotp/alice?counter=18446744073709551615&secret={s}"),
        Ok((OtpKind::Hotp { counter: u64::MAX }, None, "alice")),
    );

    // Refused.
    check("", Err(NotOtpauth));
    check(&format!("https://totp/alice?secret={s}"), Err(NotOtpauth));
    check(&format!("otpauth:/totp/alice?secret={s}"), Err(NotOtpauth));
    check(
        &format!("otpauth://motp/alice?secret={s}"),
        Err(UnknownType),
    );
    check(&format!("otpauth://totp?secret={s}"), Err(BadLabel));
    check(&format!("otpauth://totp/?secret={s}"), Err(BadLabel));
    check(&format!("otpauth://totp/A:?secret={s}"), Err(BadLabel));
    check(&format!("otpauth://totp/:alice?secret={s}"), Err(BadLabel));
    check(&format!("otpauth://totp/A:b:c?secret={s}"), Err(BadLabel));
    check(
        &format!("otpauth://totp/A%3Ab%3Ac?secret={s}"),
        Err(BadLabel),
    );
    check(
        &format!("otpauth://totp/al%0Aice?secret={s}"),
        Err(BadLabel),
    );
    check(
        &format!("otpauth://totp/al%FFice?secret={s}"),
        Err(BadLabel),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}#frag"),
        Err(Malformed),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&issuer=A:B"),
        Err(BadIssuer),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&issuer=A%00"),
        Err(BadIssuer),
    );
    check(
        &format!("otpauth://totp/A:alice?secret={s}&issuer=B"),
        Err(IssuerMismatch),
    );
    check(
        &format!("otpauth://totp/A:alice?secret={s}&issuer=a"),
        Err(IssuerMismatch),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&secret={s}"),
        Err(DuplicateParameter("secret")),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&Secret={s}"),
        Err(DuplicateParameter("secret")),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&issuer=A&issuer=B"),
        Err(DuplicateParameter("issuer")),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&digits=6&digits=6"),
        Err(DuplicateParameter("digits")),
    );
    check("otpauth://totp/alice", Err(MissingSecret));
    check("otpauth://totp/alice?issuer=A", Err(MissingSecret));
    check("otpauth://totp/alice?secret=", Err(BadSecret));
    check(
        "otpauth://totp/alice?secret=JBSWY3DPEHPK3PX1",
        Err(BadSecret),
    );
    check("otpauth://totp/alice?secret=JBSWY3DPEHPK3P", Err(BadSecret));
    check(
        &format!("otpauth://totp/alice?secret={s}&algorithm=MD5"),
        Err(BadAlgorithm),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&algorithm=SHA-1"),
        Err(BadAlgorithm),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&digits=5"),
        Err(BadDigits),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&digits=9"),
        Err(BadDigits),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&digits=+6"),
        Err(BadDigits),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&digits=262"),
        Err(BadDigits),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&period=0"),
        Err(BadPeriod),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&period=-30"),
        Err(BadPeriod),
    );
    check(
        &format!("otpauth://totp/alice?secret={s}&period=30s"),
        Err(BadPeriod),
    );
    check(
        &format!("otpauth://hotp/alice?secret={s}"),
        Err(MissingCounter),
    );
    check(
        &format!("otpauth://hotp/alice?secret={s}&counter="),
        Err(BadCounter),
    );
    check(
        &format!("otpauth://hotp/alice?secret={s}&counter=18446744073709551616"),
        Err(BadCounter),
    );
    check(
        &format!("otpauth://totp/{}?secret={s}", "a".repeat(MAX_NAME_LEN + 1)),
        Err(BadLabel),
    );
    check(
        &format!("otpauth://totp/{}?secret={s}", "a".repeat(MAX_URI_LEN)),
        Err(TooLong),
    );
}

#[test]
fn new_refuses_what_parse_would_refuse() {
    let secret = || SecretBytes::new(vec![7; 20]);
    let make = |kind, issuer, account: &str, digits| {
        KeyUri::new(kind, issuer, account, secret(), Algorithm::Sha1, digits).map(|_| ())
    };
    assert_eq!(make(TOTP30, Some("A"), "alice", 6), Ok(()));
    assert_eq!(
        make(TOTP30, Some("A:B"), "alice", 6),
        Err(OtpauthError::BadIssuer)
    );
    assert_eq!(
        make(TOTP30, Some(""), "alice", 6),
        Err(OtpauthError::BadIssuer)
    );
    assert_eq!(make(TOTP30, None, "a:b", 6), Err(OtpauthError::BadLabel));
    assert_eq!(make(TOTP30, None, "", 6), Err(OtpauthError::BadLabel));
    assert_eq!(make(TOTP30, None, " alice", 6), Err(OtpauthError::BadLabel));
    assert_eq!(
        make(TOTP30, None, "al\u{7}ice", 6),
        Err(OtpauthError::BadLabel)
    );
    assert_eq!(
        make(OtpKind::Totp { period: 0 }, None, "alice", 6),
        Err(OtpauthError::BadPeriod)
    );
    assert_eq!(make(TOTP30, None, "alice", 9), Err(OtpauthError::BadDigits));
    assert_eq!(
        KeyUri::new(
            TOTP30,
            None,
            "alice",
            SecretBytes::new(vec![7; 9]),
            Algorithm::Sha1,
            6
        )
        .map(|_| ()),
        Err(OtpauthError::BadSecret)
    );
    let with_secret = |len| {
        KeyUri::new(
            TOTP30,
            None,
            "alice",
            SecretBytes::new(vec![7; len]),
            Algorithm::Sha1,
            6,
        )
        .map(|_| ())
    };
    assert_eq!(with_secret(MAX_SECRET_LEN), Ok(()));
    assert_eq!(
        with_secret(MAX_SECRET_LEN + 1),
        Err(OtpauthError::BadSecret)
    );
    let name = "é".repeat(MAX_NAME_LEN / 2);
    assert_eq!(make(TOTP30, Some(&name), &name, 6), Ok(()));
    let longer = format!("{name}a");
    assert_eq!(
        make(TOTP30, Some(&longer), "alice", 6),
        Err(OtpauthError::BadIssuer)
    );
    assert_eq!(make(TOTP30, None, &longer, 6), Err(OtpauthError::BadLabel));
}

/// The longest names and secret, in the characters that encode longest, still render to a
/// URI that parses back.
#[test]
fn the_largest_uri_still_parses() {
    let name = "\u{10348}".repeat(MAX_NAME_LEN / 4);
    let uri = KeyUri::new(
        OtpKind::Hotp { counter: u64::MAX },
        Some(&name),
        &name,
        SecretBytes::new(vec![0xff; MAX_SECRET_LEN]),
        Algorithm::Sha512,
        8,
    )
    .unwrap()
    .to_uri();
    assert!(uri.expose_secret().len() <= MAX_URI_LEN);
    let parsed = KeyUri::parse(uri.expose_secret()).unwrap();
    assert_eq!(parsed.account(), name);
    assert_eq!(parsed.issuer(), Some(name.as_str()));
}

#[test]
fn the_key_works_and_the_secret_stays_hidden() {
    let uri = format!("otpauth://totp/A:alice?secret={SECRET_B32}&issuer=A&digits=8&period=60");
    let parsed = KeyUri::parse(&uri).unwrap();
    let totp = parsed.totp().unwrap();
    assert_eq!(totp.code_at(120).len(), 8);
    assert_eq!(totp.step_at(120), 2);
    assert_eq!(totp.code_at(120), parsed.key().hotp(2));
    let shown = format!("{parsed:?} {:?}", parsed.to_uri());
    assert!(
        !shown.contains(SECRET_B32) && !shown.contains("3dc6"),
        "{shown}"
    );

    let hotp = KeyUri::parse(&format!(
        "otpauth://hotp/alice?secret={SECRET_B32}&counter=5"
    ))
    .unwrap();
    assert!(hotp.totp().is_none());
}
