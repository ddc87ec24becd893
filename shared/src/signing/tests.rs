use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn canonical_params_encode_and_sort() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], ""),
        (&[("username", "alice")], "username=alice"),
        (&[("b", "2"), ("a", "1"), ("a", "0")], "a=0&a=1&b=2"),
        (&[("foo bar", "a/b+c~d")], "foo%20bar=a%2Fb%2Bc~d"),
        (&[("ü", "ä")], "%C3%BC=%C3%A4"),
        (&[("k", "*'()!")], "k=%2A%27%28%29%21"),
    ];
    for (input, expected) in cases {
        assert_eq!(canonical_params(&params(input)), *expected, "{input:?}");
    }
}

#[test]
fn rfc2822_dates() {
    let cases = [
        ("Tue, 21 Aug 2012 17:29:18 -0000", Some(1_345_570_158)),
        ("Tue, 21 Aug 2012 17:29:18 +0000", Some(1_345_570_158)),
        ("Tue, 21 Aug 2012 17:29:18 GMT", Some(1_345_570_158)),
        ("Tue, 21 Aug 2012 19:29:18 +0200", Some(1_345_570_158)),
        ("21 Aug 2012 17:29:18 -0000", Some(1_345_570_158)),
        ("Thu, 01 Jan 1970 00:00:00 +0000", Some(0)),
        ("Tue, 21 Foo 2012 17:29:18 -0000", None),
        ("Tue, 32 Aug 2012 17:29:18 -0000", None),
        ("Tue, 21 Aug 2012 17:29 -0000", None),
        ("", None),
        ("Tue, 21 Aug 2012 17:29:18 -0000 extra", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_rfc2822(text), expected, "{text}");
    }
}

const DATE: &str = "Tue, 21 Aug 2012 17:29:18 -0000";
const NOW: i64 = 1_345_570_158;

fn parts<'a>(p: &'a [(String, String)], body: &'a [u8]) -> RequestParts<'a> {
    RequestParts {
        method: "POST",
        host: "api-xxxxxxxx.example.com",
        path: "/auth/v2/auth",
        params: p,
        body,
        date: DATE,
        x_duo_headers: &[],
    }
}

#[test]
fn every_version_round_trips_and_is_detected() {
    let key = SecretString::from("gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT");
    let p = params(&[("username", "alice"), ("factor", "push")]);
    let request = parts(&p, b"");
    for version in [Version::V2Sha1, Version::V2Sha512, Version::V5] {
        let signature = sign(&key, version, &request);
        assert_eq!(verify(&key, &request, &signature, NOW), Ok(version));
        let header = authorization_header("DIXXXXXXXXXXXXXXXXXX", &signature);
        assert_eq!(
            parse_authorization(&header).unwrap(),
            ("DIXXXXXXXXXXXXXXXXXX".to_owned(), signature)
        );
    }
}

#[test]
fn tampering_and_bad_dates_are_refused() {
    let key = SecretString::from("gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT");
    let p = params(&[("username", "alice")]);
    let request = parts(&p, br#"{"username":"alice"}"#);
    let signature = sign(&key, Version::V5, &request);
    let other_params = params(&[("username", "mallory")]);
    let tampered = [
        RequestParts {
            params: &other_params,
            ..request
        },
        RequestParts {
            body: br#"{"username":"mallory"}"#,
            ..request
        },
        RequestParts {
            path: "/auth/v2/preauth",
            ..request
        },
        RequestParts {
            method: "GET",
            ..request
        },
        RequestParts {
            host: "evil.example.com",
            ..request
        },
    ];
    for parts in tampered {
        assert_eq!(
            verify(&key, &parts, &signature, NOW),
            Err(SignatureError::BadSignature)
        );
    }
    assert_eq!(
        verify(&key, &request, &signature, NOW + 301),
        Err(SignatureError::DateSkew)
    );
    assert_eq!(
        verify(
            &key,
            &RequestParts {
                date: "yesterday",
                ..request
            },
            &signature,
            NOW
        ),
        Err(SignatureError::BadDate)
    );
    assert_eq!(
        verify(&SecretString::from("x"), &request, &signature, NOW),
        Err(SignatureError::BadSignature)
    );
    assert_eq!(
        verify(&key, &request, "abc", NOW),
        Err(SignatureError::BadSignature)
    );
    assert_eq!(
        verify(&key, &request, &signature[..80], NOW),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn malformed_authorization_headers() {
    for header in [
        "",
        "Bearer x",
        "Basic !!!",
        "Basic aWtleQ==",
        "Basic OmFiYw==",
        "Basic aWtleTp4eXo=",
    ] {
        assert!(parse_authorization(header).is_err(), "{header}");
    }
}
