use super::*;
// On wasm32 the same tests run under wasm-bindgen-test (in Node).
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://tessera.example";
const CLIENT: &str = "client-1";

fn current() -> EdDsaSigningKey {
    EdDsaSigningKey::from_seed("2024-06", [1; 32]).unwrap()
}

fn previous() -> EdDsaSigningKey {
    EdDsaSigningKey::from_seed("2024-01", [2; 32]).unwrap()
}

fn jwks() -> Jwks {
    Jwks::new(&[current().public_key(), previous().public_key()])
}

fn claims() -> IdTokenClaims {
    IdTokenClaims {
        subject: "user-42".into(),
        auth_time: NOW - 5,
        nonce: Some("n-0S6_WzA2Mj".into()),
        preferred_username: Some("alice".into()),
        amr: vec!["otp".into(), "mfa".into()],
    }
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// A token with any header and payload, signed (or not) by `key`.
fn forge(header: &str, payload: &Value, key: Option<&EdDsaSigningKey>) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(&payload.to_string()));
    let signature = key.map_or_else(
        || "AAAA".to_owned(),
        |k| URL_SAFE_NO_PAD.encode(k.pair.sign(signing_input.as_bytes())),
    );
    format!("{signing_input}.{signature}")
}

fn payload() -> Value {
    json!({"iss": ISSUER, "sub": "user-42", "aud": CLIENT, "exp": NOW + 300, "iat": NOW,
        "nonce": "n-0S6_WzA2Mj"})
}

fn with(changes: &[(&str, Value)]) -> Value {
    let mut payload = payload();
    for (name, value) in changes {
        if value.is_null() {
            payload.as_object_mut().unwrap().remove(*name);
        } else {
            payload[*name] = value.clone();
        }
    }
    payload
}

const HEADER: &str = r#"{"alg":"EdDSA","typ":"JWT","kid":"2024-06"}"#;

fn check(token: &str, expected: Result<&str, OidcTokenError>) {
    let result = verify_eddsa_id_token(&jwks(), token, ISSUER, CLIENT, Some("n-0S6_WzA2Mj"), NOW);
    assert_eq!(
        result.map(|v| v.kid),
        expected.map(str::to_owned),
        "{token:.120}"
    );
}

#[test]
fn minted_tokens_verify() {
    let token = mint_eddsa_id_token(&current(), ISSUER, CLIENT, &claims(), NOW);
    let header = token.split('.').next().unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(header).unwrap(),
        br#"{"alg":"EdDSA","kid":"2024-06","typ":"JWT"}"#
    );
    let verified =
        verify_eddsa_id_token(&jwks(), &token, ISSUER, CLIENT, Some("n-0S6_WzA2Mj"), NOW).unwrap();
    assert_eq!(verified.subject, "user-42");
    assert_eq!(verified.kid, "2024-06");
    assert_eq!(verified.auth_time, Some(NOW - 5));
    assert_eq!(verified.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(verified.preferred_username.as_deref(), Some("alice"));
    assert_eq!(verified.amr, ["otp", "mfa"]);
    assert_eq!(verified.expires_at, NOW + ID_TOKEN_LIFETIME_SECONDS);
    assert_eq!(verified.claims["iat"], NOW);
    // Optional claims are omitted, not null.
    let bare = IdTokenClaims {
        nonce: None,
        preferred_username: None,
        amr: Vec::new(),
        ..claims()
    };
    let token = mint_eddsa_id_token(&previous(), ISSUER, CLIENT, &bare, NOW);
    let verified = verify_eddsa_id_token(&jwks(), &token, ISSUER, CLIENT, None, NOW).unwrap();
    assert_eq!(verified.kid, "2024-01");
    let names: Vec<&str> = verified.claims.keys().map(String::as_str).collect();
    assert_eq!(names, ["aud", "auth_time", "exp", "iat", "iss", "sub"]);
}

#[test]
fn verification_rules() {
    use OidcTokenError::*;
    let key = current();
    let ok = |token: String| check(&token, Ok("2024-06"));
    let no = |token: String, error: OidcTokenError| check(&token, Err(error));

    ok(forge(HEADER, &payload(), Some(&key)));
    ok(forge(
        r#"{"alg":"EdDSA","kid":"2024-06"}"#,
        &payload(),
        Some(&key),
    ));
    ok(forge(
        r#"{"alg":"EdDSA","typ":"jwt","kid":"2024-06"}"#,
        &payload(),
        Some(&key),
    ));
    check(
        &forge(
            r#"{"alg":"EdDSA","kid":"2024-01"}"#,
            &payload(),
            Some(&previous()),
        ),
        Ok("2024-01"),
    );
    // The algorithm is pinned before any key is chosen.
    for alg in [
        "none", "HS512", "HS256", "RS256", "ES256", "eddsa", "Ed25519",
    ] {
        let header = format!(r#"{{"alg":"{alg}","kid":"2024-06"}}"#);
        no(forge(&header, &payload(), Some(&key)), WrongAlgorithm);
    }
    no(
        forge(r#"{"kid":"2024-06"}"#, &payload(), Some(&key)),
        WrongAlgorithm,
    );
    no(
        forge(
            r#"{"alg":["EdDSA"],"kid":"2024-06"}"#,
            &payload(),
            Some(&key),
        ),
        WrongAlgorithm,
    );
    no(
        forge(
            r#"{"alg":"EdDSA","kid":"2024-06","crit":["exp"]}"#,
            &payload(),
            Some(&key),
        ),
        UnsupportedCritical,
    );
    no(
        forge(
            r#"{"alg":"EdDSA","typ":"at+jwt","kid":"2024-06"}"#,
            &payload(),
            Some(&key),
        ),
        WrongType,
    );
    no(
        forge(
            r#"{"alg":"EdDSA","typ":1,"kid":"2024-06"}"#,
            &payload(),
            Some(&key),
        ),
        WrongType,
    );
    no(
        forge(r#"{"alg":"EdDSA"}"#, &payload(), Some(&key)),
        MissingKeyId,
    );
    no(
        forge(r#"{"alg":"EdDSA","kid":7}"#, &payload(), Some(&key)),
        MissingKeyId,
    );
    no(
        forge(r#"{"alg":"EdDSA","kid":"2023"}"#, &payload(), Some(&key)),
        UnknownKey,
    );
    // Signed by the previous key but naming the current one, or not signed at all.
    no(forge(HEADER, &payload(), Some(&previous())), BadSignature);
    no(forge(HEADER, &payload(), None), BadSignature);
    let good = forge(HEADER, &payload(), Some(&key));
    let (input, signature) = good.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[63] ^= 0x01;
    no(
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bytes)),
        BadSignature,
    );
    no(format!("{input}.{signature}AAAA"), BadSignature);
    no(format!("{input}.!"), Jws(JwsError::Malformed));
    no(format!("{input}."), Jws(JwsError::Malformed));
    no("a.b".into(), Jws(JwsError::Malformed));
    no("x".repeat(jws::MAX_TOKEN_LEN + 1), Jws(JwsError::TooLong));
    // Claims, after the signature.
    let claim = |changes: &[(&str, Value)], error: OidcTokenError| {
        no(forge(HEADER, &with(changes), Some(&key)), error);
    };
    claim(&[("iss", json!("https://other.example"))], Mismatch("iss"));
    claim(
        &[("iss", json!("https://tessera.example/"))],
        Mismatch("iss"),
    );
    claim(&[("iss", Value::Null)], MissingClaim("iss"));
    claim(&[("aud", json!("client-2"))], Mismatch("aud"));
    claim(&[("aud", json!(["client-2"]))], Mismatch("aud"));
    claim(&[("aud", json!([CLIENT, "client-2"]))], Mismatch("azp"));
    claim(&[("aud", Value::Null)], MissingClaim("aud"));
    claim(&[("aud", json!(7))], MissingClaim("aud"));
    claim(&[("exp", json!(NOW - LEEWAY_SECONDS - 1))], Expired);
    claim(&[("exp", json!(1.7e9))], MissingClaim("exp"));
    claim(&[("exp", json!("1700000300"))], MissingClaim("exp"));
    claim(&[("exp", Value::Null)], MissingClaim("exp"));
    claim(
        &[("iat", json!(NOW + LEEWAY_SECONDS + 1))],
        IssuedInTheFuture,
    );
    claim(&[("iat", Value::Null)], MissingClaim("iat"));
    claim(&[("nonce", Value::Null)], MissingClaim("nonce"));
    claim(&[("nonce", json!("n-0S6_WzA2Mk"))], Mismatch("nonce"));
    claim(&[("nonce", json!(1))], MissingClaim("nonce"));
    claim(&[("sub", Value::Null)], MissingClaim("sub"));
    claim(&[("sub", json!(""))], MissingClaim("sub"));
    claim(&[("auth_time", json!("now"))], MissingClaim("auth_time"));
    claim(&[("amr", json!("otp"))], MissingClaim("amr"));
    // At the edges of the leeway, and several audiences with the right `azp`.
    ok(forge(
        HEADER,
        &with(&[("exp", json!(NOW - LEEWAY_SECONDS))]),
        Some(&key),
    ));
    ok(forge(
        HEADER,
        &with(&[("iat", json!(NOW + LEEWAY_SECONDS))]),
        Some(&key),
    ));
    ok(forge(
        HEADER,
        &with(&[("aud", json!(["client-2", CLIENT])), ("azp", json!(CLIENT))]),
        Some(&key),
    ));
    ok(forge(
        HEADER,
        &with(&[("aud", json!([CLIENT]))]),
        Some(&key),
    ));
    // A payload that is not a JSON object, correctly signed.
    let signing_input = format!("{}.{}", b64(HEADER), b64("[1]"));
    let signature = URL_SAFE_NO_PAD.encode(key.pair.sign(signing_input.as_bytes()));
    no(
        format!("{signing_input}.{signature}"),
        Jws(JwsError::Malformed),
    );
}

#[test]
fn jwks_shape_and_rotation() {
    let json = serde_json::to_value(jwks()).unwrap();
    assert_eq!(
        json["keys"][0],
        json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(current().public_key().as_bytes()),
            "kid": "2024-06", "use": "sig", "alg": "EdDSA"})
    );
    assert_eq!(json["keys"][1]["kid"], "2024-01");
    // After rotation the old key is gone and its tokens with it.
    let old = mint_eddsa_id_token(&previous(), ISSUER, CLIENT, &claims(), NOW);
    let rotated = Jwks::new(&[current().public_key()]);
    assert_eq!(
        verify_eddsa_id_token(&rotated, &old, ISSUER, CLIENT, None, NOW),
        Err(OidcTokenError::UnknownKey)
    );
    // A set with other key types, and a key with the right kid but for HS512, still parse;
    // only a usable Ed25519 key is picked.
    let mixed: Jwks = serde_json::from_value(json!({"keys": [
        {"kty": "RSA", "kid": "2024-06", "n": "0vx7", "e": "AQAB"},
        {"kty": "OKP", "crv": "Ed25519", "kid": "2024-06", "alg": "HS512",
            "x": URL_SAFE_NO_PAD.encode(previous().public_key().as_bytes())},
        json["keys"][0].clone(),
    ]}))
    .unwrap();
    assert_eq!(mixed.find("2024-06"), Some(current().public_key()));
    let token = mint_eddsa_id_token(&current(), ISSUER, CLIENT, &claims(), NOW);
    assert!(verify_eddsa_id_token(&mixed, &token, ISSUER, CLIENT, None, NOW).is_ok());
}

fn check_jwk(jwk: Value, expected: Result<(), OidcKeyError>) {
    let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
    assert_eq!(
        EdDsaPublicKey::from_jwk(&jwk).map(|_| ()),
        expected,
        "{jwk:?}"
    );
}

#[test]
fn jwk_rules() {
    use OidcKeyError::*;
    let x = URL_SAFE_NO_PAD.encode(current().public_key().as_bytes());
    let mut identity = [0u8; 32];
    identity[0] = 1;
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k"}),
        Ok(()),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k", "use": "sig", "alg": "EdDSA"}),
        Ok(()),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "X25519", "x": x, "kid": "k"}),
        Err(NotEd25519),
    );
    check_jwk(
        json!({"kty": "EC", "crv": "Ed25519", "x": x, "kid": "k"}),
        Err(NotEd25519),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k", "use": "enc"}),
        Err(NotEd25519),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k", "alg": "HS512"}),
        Err(NotEd25519),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
        Err(InvalidKid),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": ""}),
        Err(InvalidKid),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "k"}),
        Err(Malformed),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": format!("{x}="), "kid": "k"}),
        Err(Malformed),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([7; 31]), "kid": "k"}),
        Err(Malformed),
    );
    check_jwk(
        json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(identity), "kid": "k"}),
        Err(WeakOrInvalid),
    );
}

#[test]
fn signing_keys() {
    assert_eq!(
        EdDsaSigningKey::from_seed("k", [0; 32]).unwrap_err(),
        OidcKeyError::ZeroSeed
    );
    for kid in ["", "a b", "é", &"k".repeat(MAX_KID_LEN + 1)] {
        assert_eq!(
            EdDsaSigningKey::from_seed(kid, [1; 32]).unwrap_err(),
            OidcKeyError::InvalidKid
        );
    }
    let debug = format!("{:?}", current());
    assert_eq!(
        debug,
        r#"EdDsaSigningKey { kid: "2024-06", key: "[REDACTED]" }"#
    );
}

/// RFC 8037 Appendix A.1–A.4: the Ed25519 JWK and JWS example (its key is RFC 8032 TEST 1).
#[test]
fn rfc8037_appendix_a() {
    let d = URL_SAFE_NO_PAD
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    let key = EdDsaSigningKey::from_seed("rfc8037", d.try_into().unwrap()).unwrap();
    assert_eq!(
        key.public_key().to_jwk().x.as_deref(),
        Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    );
    let signing_input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    assert_eq!(
        URL_SAFE_NO_PAD.encode(key.pair.sign(signing_input.as_bytes())),
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    );
}

#[test]
fn discovery() {
    let document = serde_json::to_value(discovery_document(ISSUER)).unwrap();
    assert_eq!(
        document,
        json!({
            "issuer": "https://tessera.example",
            "authorization_endpoint": "https://tessera.example/oauth/v1/authorize",
            "token_endpoint": "https://tessera.example/oauth/v1/token",
            "jwks_uri": "https://tessera.example/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA", "HS512"],
            "scopes_supported": ["openid"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
                "preferred_username", "amr"],
            "token_endpoint_auth_methods_supported": ["client_secret_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["HS512"],
            "request_parameter_supported": true,
            "request_object_signing_alg_values_supported": ["HS512"],
        })
    );
    assert_eq!(
        discovery_document("https://tessera.example/").jwks_uri,
        "https://tessera.example/.well-known/jwks.json"
    );
}
