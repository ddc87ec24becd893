//! OpenID Connect for standard clients (EdDSA `id_token`s, discovery, JWKS, key rotation)
//! and the replay and body rules added for Duo's clients: `jti` reuse, multipart bodies.

use super::*;
use tessera_edge::issuer::{OVERLAP_PERIOD, ROTATION_PERIOD};
use tessera_shared::oidc::{self, Jwks, OidcTokenError};

const EDDSA_CLIENT_ID: &str = "DIEDDSA0000000000001";
const EDDSA_SECRET: &str = "eddsaeddsaABCDEFGHIJ0123456789abcdefghij";
const ISSUER: &str = "https://localhost:8787";
const BOUNDARY: &str = "------------------------d74496d66958873e";

/// The world with a second application that chose EdDSA `id_token`s.
fn eddsa_world() -> World {
    let world = World::new();
    let reply = world.seed(&json!({
        "realm": "demo",
        "applications": [{"client_id": EDDSA_CLIENT_ID, "client_secret": EDDSA_SECRET,
                          "name": "Standard OIDC app", "id_token_format": "eddsa",
                          "origins": [RP_ORIGIN]}],
    }));
    assert_eq!(reply.status, 200, "{}", reply.text());
    world
}

fn eddsa_client() -> Client {
    Client::new(EDDSA_CLIENT_ID, EDDSA_SECRET, HOST, REDIRECT)
}

fn get(world: &World, path: &str, now: i64) -> Reply {
    world.send(request("GET", path).body(Vec::new()).unwrap(), now)
}

fn jwks(world: &World, now: i64) -> Jwks {
    let reply = get(world, "/.well-known/jwks.json", now);
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_slice(&reply.body).unwrap()
}

fn kids(jwks: &Jwks) -> Vec<String> {
    jwks.keys.iter().map(|k| k.kid.clone().unwrap()).collect()
}

fn header_of(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

/// A full prompt and exchange for alice at the EdDSA application; returns the id_token.
fn eddsa_token(world: &World, nonce: Option<&str>, jti: &str, now: i64) -> String {
    let client = eddsa_client();
    let mut body = json!({"client_id": EDDSA_CLIENT_ID,
                          "request": client.authorize_request("alice", STATE, now)});
    if let Some(nonce) = nonce {
        body["nonce"] = json!(nonce);
    }
    let start = world.post_json("/prompt/v1/start", &body, None, now);
    assert_eq!(start.status, 200, "{}", start.text());
    let session = start.json()["session"].as_str().unwrap().to_owned();
    let done = world.passcode(&session, &totp().code_at(now), now);
    assert_eq!(done.status, 200, "{}", done.text());
    let code = code_from(&done.json());
    let reply = world.token(&client.token_form(&code, jti, now), now);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["id_token"].as_str().unwrap().to_owned()
}

fn rotate(world: &World, body: Option<&str>, token: &str, now: i64) -> Reply {
    let mut builder = request("POST", "/internal/v1/rotate-keys")
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    world.send(
        builder
            .body(body.unwrap_or_default().as_bytes().to_vec())
            .unwrap(),
        now,
    )
}

#[test]
fn discovery_names_this_host() {
    let world = World::new();
    let reply = get(&world, "/.well-known/openid-configuration", NOW);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let doc = reply.json();
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(doc["token_endpoint"], format!("{ISSUER}/oauth/v1/token"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["EdDSA", "HS512"])
    );
    // Another Host, another issuer.
    let other = world.send(
        http::Request::builder()
            .uri("/.well-known/openid-configuration")
            .header("host", "sso.example:8443")
            .body(Vec::new())
            .unwrap(),
        NOW,
    );
    assert_eq!(other.json()["issuer"], "https://sso.example:8443");
    let post = world.post_json("/.well-known/jwks.json", &json!({}), None, NOW);
    assert_eq!(post.status, 405);
}

#[test]
fn eddsa_id_token_verifies_with_the_published_key() {
    let world = eddsa_world();
    let token = eddsa_token(&world, Some("nonce-1"), "e1", NOW);
    let header = header_of(&token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "JWT");
    let set = jwks(&world, NOW);
    assert_eq!(kids(&set), [header["kid"].as_str().unwrap()]);
    assert_eq!(set.keys[0].kty, "OKP");
    assert_eq!(set.keys[0].crv.as_deref(), Some("Ed25519"));
    let verified =
        oidc::verify_eddsa_id_token(&set, &token, ISSUER, EDDSA_CLIENT_ID, Some("nonce-1"), NOW)
            .unwrap();
    assert_eq!(verified.subject, "alice");
    assert_eq!(verified.preferred_username.as_deref(), Some("alice"));
    assert_eq!(verified.amr, ["mfa", "otp"]);
    assert_eq!(verified.auth_time, Some(NOW));
    // iss, aud and nonce are enforced.
    let refusals = [
        (
            "https://evil.example",
            EDDSA_CLIENT_ID,
            Some("nonce-1"),
            OidcTokenError::Mismatch("iss"),
        ),
        (
            ISSUER,
            CLIENT_ID,
            Some("nonce-1"),
            OidcTokenError::Mismatch("aud"),
        ),
        (
            ISSUER,
            EDDSA_CLIENT_ID,
            Some("nonce-2"),
            OidcTokenError::Mismatch("nonce"),
        ),
    ];
    for (issuer, audience, nonce, expected) in refusals {
        assert_eq!(
            oidc::verify_eddsa_id_token(&set, &token, issuer, audience, nonce, NOW),
            Err(expected)
        );
    }
    // The Duo application still gets HS512 tokens signed with its secret.
    let code = code_from(&world.complete(NOW + 30));
    let body = world
        .token(&client().token_form(&code, "hs", NOW + 30), NOW + 30)
        .json();
    let duo_token = body["id_token"].as_str().unwrap();
    assert_eq!(header_of(duo_token)["alg"], "HS512");
    client()
        .verify_id_token(duo_token, "alice", None, NOW + 30)
        .unwrap();
    // One key for every token until a rotation.
    let second = eddsa_token(&world, None, "e2", NOW + 60);
    assert_eq!(header_of(&second)["kid"], header["kid"]);
}

#[test]
fn keys_rotate_on_time_and_old_ones_leave_after_the_overlap() {
    let world = eddsa_world();
    let old = eddsa_token(&world, None, "r1", NOW);
    let old_kid = header_of(&old)["kid"].as_str().unwrap().to_owned();

    let later = NOW + ROTATION_PERIOD;
    let set = jwks(&world, later);
    let ids = kids(&set);
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[1], old_kid, "the replaced key stays, after the new one");
    // Tokens signed before the rotation still verify with the published set.
    oidc::verify_eddsa_id_token(&set, &old, ISSUER, EDDSA_CLIENT_ID, None, NOW).unwrap();
    let new = eddsa_token(&world, None, "r2", later + 1);
    assert_eq!(header_of(&new)["kid"], ids[0].as_str());

    let set = jwks(&world, later + OVERLAP_PERIOD);
    assert_eq!(kids(&set), [ids[0].clone()]);
    assert_eq!(
        oidc::verify_eddsa_id_token(&set, &old, ISSUER, EDDSA_CLIENT_ID, None, NOW),
        Err(OidcTokenError::UnknownKey)
    );
    assert_eq!(
        world.stores.issuer.kids().len(),
        1,
        "the dropped key is deleted"
    );
}

#[test]
fn forced_rotation_with_a_chosen_overlap() {
    let world = eddsa_world();
    let first = kids(&jwks(&world, NOW));
    // Only the admin may rotate, with a sane overlap.
    assert_eq!(
        rotate(&world, None, "wrong", NOW).error_code(),
        "unauthorized"
    );
    for bad in [
        r#"{"overlap_seconds":-1}"#,
        r#"{"overlap_seconds":31536001}"#,
        r#"{"overlap":5}"#,
        "[]",
    ] {
        let reply = rotate(&world, Some(bad), ADMIN_TOKEN, NOW);
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, json!("bad_request")),
            "{bad}"
        );
    }
    assert_eq!(
        kids(&jwks(&world, NOW)),
        first,
        "refused rotations changed nothing"
    );

    let reply = rotate(&world, Some(r#"{"overlap_seconds":10}"#), ADMIN_TOKEN, NOW);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["retiring"], json!(first));
    assert_eq!(body["drop_at"], NOW + 10);
    let current = body["current"].as_str().unwrap().to_owned();
    assert_eq!(
        kids(&jwks(&world, NOW + 10 - 1)),
        [current.clone(), first[0].clone()]
    );
    assert_eq!(
        kids(&jwks(&world, NOW + 10)),
        std::slice::from_ref(&current)
    );

    // Without a body: the standard overlap. With 0: the old key is gone at once.
    let reply = rotate(&world, None, ADMIN_TOKEN, NOW + 20);
    assert_eq!(reply.json()["drop_at"], NOW + 20 + OVERLAP_PERIOD);
    let after = kids(&jwks(&world, NOW + 21));
    assert_eq!(after.len(), 2);
    assert_eq!(after[1], current);
    let reply = rotate(
        &world,
        Some(r#"{"overlap_seconds":0}"#),
        ADMIN_TOKEN,
        NOW + 30,
    );
    let newest = reply.json()["current"].as_str().unwrap().to_owned();
    assert_eq!(kids(&jwks(&world, NOW + 30)), [newest]);
}

fn health(world: &World, assertion: &str, now: i64) -> Reply {
    let form = [
        ("client_id", CLIENT_ID.to_owned()),
        ("client_assertion", assertion.to_owned()),
    ];
    world.send(
        request("POST", "/oauth/v1/health_check")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap().into_bytes())
            .unwrap(),
        now,
    )
}

#[test]
fn client_assertion_jti_is_single_use() {
    let world = World::new();
    let assertion = client().client_assertion("/oauth/v1/health_check", "hc-1", NOW);
    assert_eq!(health(&world, &assertion, NOW).status, 200);
    let replay = health(&world, &assertion, NOW + 1);
    assert_eq!(
        (replay.status, replay.json()["code"].clone()),
        (400, json!(40002))
    );
    // The same jti in a new assertion is still a replay; another jti is not.
    let again = client().client_assertion("/oauth/v1/health_check", "hc-1", NOW + 5);
    assert_eq!(health(&world, &again, NOW + 5).status, 400);
    let other = client().client_assertion("/oauth/v1/health_check", "hc-2", NOW + 5);
    assert_eq!(health(&world, &other, NOW + 5).status, 200);
    // An assertion without a jti is refused.
    let claims = json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "exp": NOW + 300,
                        "aud": format!("https://{HOST}/oauth/v1/health_check")});
    assert_eq!(health(&world, &signed(claims, SECRET), NOW).status, 400);

    // At the token endpoint a replayed assertion is invalid_client and leaves the code alive.
    let code = code_from(&world.complete(NOW + 30));
    let form = client().token_form(&code, "hc-2", NOW + 30);
    let reply = world.token(&form, NOW + 30);
    assert_eq!(
        (reply.status, reply.json()["error"].clone()),
        (400, json!("invalid_client"))
    );
    let reply = world.token(&client().token_form(&code, "tk-1", NOW + 30), NOW + 30);
    assert_eq!(reply.status, 200, "{}", reply.text());
    // A jti is forgotten once its token has expired (exp + leeway).
    let before = world.stores.issuer.jti_count();
    let late = NOW + 30 + 300 + 60 + 1;
    let reused = client().client_assertion("/oauth/v1/health_check", "hc-1", late);
    assert_eq!(health(&world, &reused, late).status, 200);
    assert!(
        world.stores.issuer.jti_count() < before,
        "expired jtis are purged"
    );
}

#[test]
fn request_jti_starts_one_prompt() {
    let world = World::new();
    let mut claims = request_claims(NOW);
    claims["jti"] = json!("request-1");
    let jwt = signed(claims, SECRET);
    let page = |now| {
        get(
            &world,
            &format!("/oauth/v1/authorize?response_type=code&client_id={CLIENT_ID}&request={jwt}"),
            now,
        )
    };
    assert_eq!(page(NOW).status, 200);
    assert_eq!(world.start_with(&jwt, NOW).status, 200);
    let again = world.start_with(&jwt, NOW + 1);
    assert_eq!(
        (again.status, again.error_code()),
        (400, json!("invalid_request"))
    );
    assert!(
        again.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    let reply = page(NOW + 1);
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("already used"), "{}", reply.text());
    // Requests without a jti (every SDK but C#) are unaffected.
    let plain = client().authorize_request("alice", STATE, NOW);
    assert_eq!(world.start_with(&plain, NOW).status, 200);
    assert_eq!(world.start_with(&plain, NOW).status, 200);
}

fn multipart_body(fields: &[(&str, String)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body.into_bytes()
}

fn post_multipart(world: &World, path: &str, content_type: &str, body: Vec<u8>, now: i64) -> Reply {
    world.send(
        request("POST", path)
            .header("content-type", content_type)
            .body(body)
            .unwrap(),
        now,
    )
}

#[test]
fn multipart_bodies_as_php_sends_them() {
    let world = World::new();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let form = [
        ("client_id", CLIENT_ID.to_owned()),
        (
            "client_assertion",
            client().client_assertion("/oauth/v1/health_check", "mp-1", NOW),
        ),
    ];
    let reply = post_multipart(
        &world,
        "/oauth/v1/health_check",
        &content_type,
        multipart_body(&form),
        NOW,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    let code = code_from(&world.complete(NOW));
    let form = client().token_form(&code, "mp-2", NOW);
    let reply = post_multipart(
        &world,
        "/oauth/v1/token",
        &content_type,
        multipart_body(&form),
        NOW,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    client()
        .verify_id_token(
            reply.json()["id_token"].as_str().unwrap(),
            "alice",
            None,
            NOW,
        )
        .unwrap();

    // Malformed multipart: 400 invalid_request at the token endpoint, Duo's FAIL at the
    // health check, and the code is not used up.
    let code = code_from(&world.complete(NOW + 30));
    let good = multipart_body(&client().token_form(&code, "mp-3", NOW + 30));
    let cases: Vec<(String, Vec<u8>)> = vec![
        ("multipart/form-data".into(), good.clone()),
        ("multipart/form-data; boundary=other".into(), good.clone()),
        (content_type.clone(), good[..good.len() - 30].to_vec()),
        (
            content_type.clone(),
            String::from_utf8(good.clone())
                .unwrap()
                .replace("form-data; name", "attachment; name")
                .into_bytes(),
        ),
        (
            content_type.clone(),
            String::from_utf8(good.clone())
                .unwrap()
                .replacen("\"grant_type\"", "\"grant_type\"; filename=\"a.txt\"", 1)
                .into_bytes(),
        ),
    ];
    for (content_type, body) in cases {
        let reply = post_multipart(
            &world,
            "/oauth/v1/token",
            &content_type,
            body.clone(),
            NOW + 30,
        );
        assert_eq!(
            (reply.status, reply.json()["error"].clone()),
            (400, json!("invalid_request")),
            "{content_type}"
        );
        let reply = post_multipart(
            &world,
            "/oauth/v1/health_check",
            &content_type,
            body,
            NOW + 30,
        );
        assert_eq!(
            (reply.status, reply.json()["stat"].clone()),
            (400, json!("FAIL"))
        );
    }
    let reply = post_multipart(&world, "/oauth/v1/token", &content_type, good, NOW + 30);
    assert_eq!(reply.status, 200, "{}", reply.text());
}
