//! Interoperability with implementations we did not write: pyotp, PyJWT, the official
//! `duo_client` (request signing) and `duo_universal` (request JWTs), run as Python peers
//! by `tests/interop/peers.py`. `cargo xtask test` runs these with `--ignored` and
//! `TESSERA_PYTHON` pointing at the interpreter that has the pinned packages.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tessera_shared::SecretString;
use tessera_shared::duo::{self, IdTokenContent};
use tessera_shared::jws::{self, Hs512Key, JwsError};
use tessera_shared::oidc::{
    self, EdDsaPublicKey, EdDsaSigningKey, IdTokenClaims, Jwk, Jwks, OidcTokenError,
};
use tessera_shared::otp::{Algorithm, OtpKey, Totp};
use tessera_shared::signing::{self, RequestParts, Version};

const IGNORED: &str = "needs the Python peers; run by `cargo xtask test`";

fn peer(command: &str, request: &Value) -> Value {
    let python = std::env::var("TESSERA_PYTHON")
        .expect("TESSERA_PYTHON must name a Python with tests/interop/requirements.txt installed");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop/peers.py");
    let mut child = Command::new(python)
        .args([script, command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the Python peer");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "peer {command} failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
#[ignore = "needs the Python peers; run by `cargo xtask test`"]
fn pyotp_codes_are_accepted() {
    let _ = IGNORED;
    let secrets = [
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "NB2W45DFOIZA4ZLYMFWXA3DFEBQWE3DFEBUGC4Y",
    ];
    let mut cases = Vec::new();
    for secret in secrets {
        for algorithm in ["SHA1", "SHA256", "SHA512"] {
            for digits in [6, 8] {
                for time in [59, 1_111_111_109, 1_700_000_000, now()] {
                    cases.push(json!({"secret_base32": secret, "algorithm": algorithm, "digits": digits, "time": time}));
                }
            }
        }
    }
    let answer = peer("totp-codes", &json!({"cases": cases}));
    let codes = answer["codes"].as_array().unwrap();
    assert_eq!(codes.len(), cases.len());
    for (case, code) in cases.iter().zip(codes) {
        let algorithm = match case["algorithm"].as_str().unwrap() {
            "SHA1" => Algorithm::Sha1,
            "SHA256" => Algorithm::Sha256,
            _ => Algorithm::Sha512,
        };
        let digits = u8::try_from(case["digits"].as_u64().unwrap()).unwrap();
        let key = OtpKey::from_base32(case["secret_base32"].as_str().unwrap(), algorithm, digits)
            .unwrap();
        let totp = Totp::new(key, 30);
        let time = case["time"].as_i64().unwrap();
        let code = code.as_str().unwrap();
        assert_eq!(totp.code_at(time), code, "{case}");
        assert_eq!(totp.verify(code, time, 1, None), Ok(totp.step_at(time)));
    }
}

#[test]
#[ignore = "needs the Python peers; run by `cargo xtask test`"]
fn duo_client_signatures_verify() {
    let skey = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";
    let date = "Tue, 21 Aug 2012 17:29:18 -0000";
    let host = "api-abcdef12.example.com";
    let params = json!({"username": "alice", "factor": "push", "device": "auto", "pushinfo": "from=login page&ip=1.2.3.4", "realname": "Zoë Ünïcode ~*"});
    let cases = [
        (
            json!({"version": 2, "digest": "sha1", "method": "POST", "path": "/auth/v2/auth", "params": params}),
            Version::V2Sha1,
        ),
        (
            json!({"version": 2, "method": "POST", "path": "/auth/v2/auth", "params": params}),
            Version::V2Sha512,
        ),
        (
            json!({"version": 2, "method": "GET", "path": "/admin/v1/users", "params": {"username": "alice"}}),
            Version::V2Sha512,
        ),
        (
            json!({"version": 5, "method": "POST", "path": "/admin/v1/users", "params": params}),
            Version::V5,
        ),
        (
            json!({"version": 5, "method": "GET", "path": "/admin/v1/users", "params": {"limit": "10", "offset": "0"}}),
            Version::V5,
        ),
        (
            json!({"version": 5, "method": "GET", "path": "/auth/v2/check", "params": {}}),
            Version::V5,
        ),
    ];
    let request = json!({"ikey": "DIXXXXXXXXXXXXXXXXXX", "skey": skey, "host": host, "date": date,
        "cases": cases.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()});
    let answer = peer("duo-signatures", &request);
    let signed = answer["requests"].as_array().unwrap();
    let secret = SecretString::from(skey);
    let when = signing::parse_rfc2822(date).unwrap();
    for ((case, expected), wire) in cases.iter().zip(signed) {
        let (ikey, signature) =
            signing::parse_authorization(wire["authorization"].as_str().unwrap()).unwrap();
        assert_eq!(ikey, "DIXXXXXXXXXXXXXXXXXX");
        let params: Vec<(String, String)> = wire["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_owned(),
                    pair[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let body = wire["body"].as_str().unwrap();
        let parts = RequestParts {
            method: case["method"].as_str().unwrap(),
            host,
            path: case["path"].as_str().unwrap(),
            params: &params,
            body: body.as_bytes(),
            date,
            x_duo_headers: &[],
        };
        assert_eq!(
            signing::verify(&secret, &parts, &signature, when),
            Ok(*expected),
            "{case}"
        );
        let wrong = SecretString::from("x".repeat(40));
        assert!(signing::verify(&wrong, &parts, &signature, when).is_err());
    }
}

#[test]
#[ignore = "needs the Python peers; run by `cargo xtask test`"]
fn duo_universal_requests_verify() {
    let secret = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
    let request = json!({"client_id": "DIABCDEFGHIJKLMNOPQR", "client_secret": secret, "host": "localhost:8443",
        "redirect_uri": "https://app.example/callback", "username": "alice", "state": "0123456789abcdefghijklmnopqrstuv"});
    let answer = peer("universal-request", &request);
    let verified = duo::verify_authorize_request(
        &Hs512Key::from_secret_str(secret),
        answer["request"].as_str().unwrap(),
        answer["client_id"].as_str().unwrap(),
        "localhost:8443",
        now(),
    )
    .unwrap();
    assert_eq!(verified.username, "alice");
    assert_eq!(verified.redirect_uri, "https://app.example/callback");
    assert!(verified.use_duo_code_attribute);
}

#[test]
#[ignore = "needs the Python peers; run by `cargo xtask test`"]
fn pyjwt_tokens_and_pinned_algorithm() {
    let secret = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN";
    let key = Hs512Key::from_secret_str(secret);
    let claims = json!({"sub": "alice", "exp": now() + 300});
    let tokens = peer("pyjwt-tokens", &json!({"secret": secret, "claims": claims}));
    assert_eq!(
        jws::verify(&key, tokens["hs512"].as_str().unwrap()).unwrap()["sub"],
        "alice"
    );
    assert_eq!(
        jws::verify(&key, tokens["hs256"].as_str().unwrap()),
        Err(JwsError::WrongAlgorithm)
    );
    assert!(jws::verify(&key, tokens["none"].as_str().unwrap()).is_err());

    let content = IdTokenContent {
        client_id: "DIABCDEFGHIJKLMNOPQR".into(),
        application_name: "Demo".into(),
        username: "alice".into(),
        nonce: None,
        factor: "duo_mobile_passcode".into(),
        reason: "valid_passcode".into(),
        auth_time: now(),
        txid: "tx".into(),
        ip: None,
        country: None,
    };
    let id_token = duo::mint_id_token(&key, "localhost:8443", &content, now());
    let check = |secret: &str, issuer: &str| {
        peer(
            "pyjwt-verify",
            &json!({"token": id_token, "secret": secret, "client_id": "DIABCDEFGHIJKLMNOPQR",
            "issuer": issuer}),
        )
    };
    let ok = check(secret, "https://localhost:8443/oauth/v1/token");
    assert_eq!(ok, json!({"ok": true, "preferred_username": "alice"}));
    assert_eq!(
        check(&"z".repeat(40), "https://localhost:8443/oauth/v1/token")["ok"],
        false
    );
    assert_eq!(
        check(secret, "https://other:8443/oauth/v1/token")["ok"],
        false
    );
}

#[test]
#[ignore = "needs the Python peers; run by `cargo xtask test`"]
fn pyjwt_verifies_our_eddsa_id_tokens() {
    let issuer = "https://localhost:8443";
    let current = EdDsaSigningKey::from_seed("2024-06", [1; 32]).unwrap();
    let previous = EdDsaSigningKey::from_seed("2024-01", [2; 32]).unwrap();
    let jwks = Jwks::new(&[current.public_key(), previous.public_key()]);
    let claims = IdTokenClaims {
        subject: "user-42".into(),
        auth_time: now(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        preferred_username: Some("alice".into()),
        amr: vec!["otp".into(), "mfa".into()],
    };
    let check = |key: &EdDsaSigningKey, jwks: &Jwks, client_id: &str| {
        let token = oidc::mint_eddsa_id_token(key, issuer, "DIABCDEFGHIJKLMNOPQR", &claims, now());
        peer(
            "pyjwt-eddsa-verify",
            &json!({"token": token, "jwks": jwks, "client_id": client_id, "issuer": issuer,
                "nonce": "n-0S6_WzA2Mj"}),
        )
    };
    assert_eq!(
        check(&current, &jwks, "DIABCDEFGHIJKLMNOPQR"),
        json!({"ok": true, "kid": "2024-06", "sub": "user-42", "preferred_username": "alice",
            "amr": ["otp", "mfa"]})
    );
    // The previous key still verifies during the rotation overlap, and not after it.
    assert_eq!(
        check(&previous, &jwks, "DIABCDEFGHIJKLMNOPQR")["kid"],
        "2024-01"
    );
    let rotated = Jwks::new(&[current.public_key()]);
    assert_eq!(
        check(&previous, &rotated, "DIABCDEFGHIJKLMNOPQR")["ok"],
        false
    );
    assert_eq!(check(&current, &jwks, "DIOTHERCLIENTXXXXXXX")["ok"], false);
}

#[test]
#[ignore = "needs the Python peers; run by `cargo xtask test`"]
fn pyjwt_eddsa_tokens_verify_and_confused_algorithms_do_not() {
    let issuer = "https://idp.example";
    let claims = json!({"iss": issuer, "sub": "bob", "aud": "client-1", "exp": now() + 300,
        "iat": now(), "nonce": "abc"});
    let answer = peer(
        "pyjwt-eddsa-tokens",
        &json!({"kid": "py-1", "claims": claims}),
    );
    let jwk: Jwk = serde_json::from_value(answer["jwk"].clone()).unwrap();
    assert_eq!(EdDsaPublicKey::from_jwk(&jwk).unwrap().kid(), "py-1");
    let jwks = Jwks { keys: vec![jwk] };
    let verify = |token: &Value| {
        oidc::verify_eddsa_id_token(
            &jwks,
            token.as_str().unwrap(),
            issuer,
            "client-1",
            Some("abc"),
            now(),
        )
    };
    let verified = verify(&answer["eddsa"]).unwrap();
    assert_eq!(
        (verified.subject.as_str(), verified.kid.as_str()),
        ("bob", "py-1")
    );
    assert_eq!(
        verify(&answer["hs512"]),
        Err(OidcTokenError::WrongAlgorithm)
    );
}
