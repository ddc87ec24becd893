use serde_json::json;

use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
use crate::rp::Client;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const SECRET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
const CLIENT_ID: &str = "DIABCDEFGHIJKLMNOPQR";
const HOST: &str = "localhost:8443";
const NOW: i64 = 1_700_000_000;

fn key() -> Hs512Key {
    Hs512Key::from_secret_str(SECRET)
}

fn request_claims() -> Map<String, Value> {
    json!({
        "scope": "openid", "redirect_uri": "https://app.example/cb", "client_id": CLIENT_ID,
        "iss": CLIENT_ID, "aud": "https://localhost:8443", "exp": NOW + 300,
        "state": "0123456789abcdef0123", "response_type": "code", "duo_uname": "alice",
        "use_duo_code_attribute": true
    })
    .as_object()
    .unwrap()
    .clone()
}

/// Applies `edit` to the standard request claims and verifies the result.
fn check(
    edit: impl FnOnce(&mut Map<String, Value>),
    expected: Result<(), TokenError>,
) -> Option<AuthorizeRequest> {
    let mut claims = request_claims();
    edit(&mut claims);
    let token = jws::sign(&key(), &claims);
    let result = verify_authorize_request(&key(), &token, CLIENT_ID, HOST, NOW);
    assert_eq!(
        result.as_ref().map(|_| ()).map_err(Clone::clone),
        expected,
        "{claims:?}"
    );
    result.ok()
}

#[test]
fn request_quirks_of_every_official_client_are_accepted() {
    let ok = Ok(());
    check(|_| {}, ok.clone());
    check(
        |c| _ = c.insert("exp".into(), json!(NOW as f64 + 299.75)),
        ok.clone(),
    ); // Python
    check(
        |c| _ = c.insert("exp".into(), json!((NOW + 300).to_string())),
        ok.clone(),
    ); // C#
    check(
        |c| _ = c.insert("exp".into(), json!(NOW + 3600)),
        ok.clone(),
    ); // Java
    check(
        |c| {
            c.remove("iss");
            c.remove("aud");
        },
        ok.clone(),
    ); // Java
    check(
        |c| {
            _ = c.insert(
                "aud".into(),
                json!("https://localhost:8443/oauth/v1/authorize"),
            )
        },
        ok.clone(),
    ); // C#
    check(
        |c| _ = c.insert("aud".into(), json!(["https://localhost:8443"])),
        ok.clone(),
    );
    check(|c| _ = c.insert("exp".into(), json!(NOW - 30)), ok.clone()); // within leeway
    let spellings = [
        (json!(true), true),
        (json!("true"), true),
        (json!("True"), true),
        (json!(false), false),
        (json!("yes"), false),
    ];
    for (value, expected) in spellings {
        let request = check(
            |c| _ = c.insert("use_duo_code_attribute".into(), value),
            ok.clone(),
        )
        .unwrap();
        assert_eq!(request.use_duo_code_attribute, expected);
    }
    let absent = check(|c| _ = c.remove("use_duo_code_attribute"), ok.clone()).unwrap();
    assert!(!absent.use_duo_code_attribute);
    let with_nonce = check(|c| _ = c.insert("nonce".into(), json!("n-123")), ok).unwrap();
    assert_eq!(with_nonce.nonce.as_deref(), Some("n-123"));
}

#[test]
fn bad_requests_are_refused() {
    check(
        |c| _ = c.insert("exp".into(), json!(NOW - 61)),
        Err(TokenError::Expired),
    );
    check(
        |c| _ = c.remove("exp"),
        Err(TokenError::MissingClaim("exp")),
    );
    check(
        |c| _ = c.insert("exp".into(), json!("soon")),
        Err(TokenError::InvalidClaim("exp")),
    );
    check(
        |c| _ = c.insert("exp".into(), json!(f64::MAX)),
        Err(TokenError::InvalidClaim("exp")),
    );
    check(
        |c| _ = c.insert("client_id".into(), json!("DIOTHERCLIENT0000000")),
        Err(TokenError::InvalidClaim("client_id")),
    );
    check(
        |c| _ = c.insert("response_type".into(), json!("token")),
        Err(TokenError::InvalidClaim("response_type")),
    );
    check(
        |c| _ = c.insert("aud".into(), json!("https://evil.example")),
        Err(TokenError::InvalidClaim("aud")),
    );
    check(
        |c| _ = c.insert("aud".into(), json!(42)),
        Err(TokenError::InvalidClaim("aud")),
    );
    check(
        |c| _ = c.insert("iss".into(), json!("someone")),
        Err(TokenError::InvalidClaim("iss")),
    );
    check(
        |c| _ = c.remove("duo_uname"),
        Err(TokenError::MissingClaim("duo_uname")),
    );
    check(
        |c| _ = c.insert("duo_uname".into(), json!("")),
        Err(TokenError::InvalidClaim("duo_uname")),
    );
    check(
        |c| _ = c.insert("duo_uname".into(), json!("a\u{0}b")),
        Err(TokenError::InvalidClaim("duo_uname")),
    );
    check(
        |c| _ = c.insert("state".into(), json!("short")),
        Err(TokenError::InvalidClaim("state")),
    );
    check(
        |c| _ = c.insert("redirect_uri".into(), json!("javascript:alert(1)")),
        Err(TokenError::InvalidClaim("redirect_uri")),
    );
    check(
        |c| _ = c.insert("nonce".into(), json!(7)),
        Err(TokenError::InvalidClaim("nonce")),
    );
    let wrong_key = jws::sign(
        &Hs512Key::from_secret_str("x".repeat(40).as_str()),
        &request_claims(),
    );
    assert_eq!(
        verify_authorize_request(&key(), &wrong_key, CLIENT_ID, HOST, NOW),
        Err(TokenError::Jws(JwsError::BadSignature))
    );
}

#[test]
fn relying_party_and_verifier_agree() {
    let client = Client::new(CLIENT_ID, SECRET, HOST, "https://app.example/cb");
    let request = client.authorize_request("alice", "0123456789abcdef0123456", NOW);
    let verified = verify_authorize_request(&key(), &request, CLIENT_ID, HOST, NOW).unwrap();
    assert_eq!(verified.username, "alice");
    assert!(verified.use_duo_code_attribute);

    let assertion = client.client_assertion("/oauth/v1/token", "jti-1", NOW);
    assert_eq!(assertion_client_id(&assertion).as_deref(), Some(CLIENT_ID));
    let checked =
        verify_client_assertion(&key(), &assertion, CLIENT_ID, HOST, "/oauth/v1/token", NOW)
            .unwrap();
    assert_eq!(checked.jti.as_deref(), Some("jti-1"));
    assert_eq!(
        verify_client_assertion(
            &key(),
            &assertion,
            CLIENT_ID,
            HOST,
            "/oauth/v1/health_check",
            NOW
        ),
        Err(TokenError::InvalidClaim("aud"))
    );

    let content = IdTokenContent {
        client_id: CLIENT_ID.into(),
        application_name: "Demo".into(),
        username: "alice".into(),
        nonce: Some("n-1".into()),
        factor: "duo_mobile_passcode".into(),
        reason: "valid_passcode".into(),
        auth_time: NOW,
        txid: "tx-1".into(),
        ip: Some("127.0.0.1".into()),
        country: Some("US".into()),
    };
    let id_token = mint_id_token(&key(), HOST, &content, NOW);
    let verified = client
        .verify_id_token(&id_token, "alice", Some("n-1"), NOW + 10)
        .unwrap();
    assert_eq!(verified.factor, "duo_mobile_passcode");
    assert_eq!(verified.auth_time, NOW);
    use crate::rp::IdTokenError;
    assert_eq!(
        client.verify_id_token(&id_token, "bob", None, NOW),
        Err(IdTokenError::Mismatch("preferred_username"))
    );
    assert_eq!(
        client.verify_id_token(&id_token, "alice", Some("n-2"), NOW),
        Err(IdTokenError::Mismatch("nonce"))
    );
    assert_eq!(
        client.verify_id_token(&id_token, "alice", None, NOW + 400),
        Err(IdTokenError::Expired)
    );
    let other_host = Client::new(
        CLIENT_ID,
        SECRET,
        "localhost:9999",
        "https://app.example/cb",
    );
    assert_eq!(
        other_host.verify_id_token(&id_token, "alice", None, NOW),
        Err(IdTokenError::Mismatch("iss"))
    );
}

#[test]
fn id_token_numbers_are_integers_and_aud_is_a_string() {
    let content = IdTokenContent {
        client_id: CLIENT_ID.into(),
        application_name: "Demo".into(),
        username: "alice".into(),
        nonce: None,
        factor: "duo_mobile_passcode".into(),
        reason: "valid_passcode".into(),
        auth_time: NOW,
        txid: "tx".into(),
        ip: None,
        country: None,
    };
    let token = mint_id_token(&key(), HOST, &content, NOW);
    let claims = jws::verify(&key(), &token).unwrap();
    for name in ["exp", "iat", "auth_time"] {
        assert!(claims[name].is_i64(), "{name}");
    }
    assert!(claims["auth_context"]["timestamp"].is_i64());
    assert!(claims["aud"].is_string());
    assert!(!claims.contains_key("nonce"));
}
