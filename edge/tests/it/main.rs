//! Native flow tests of the edge core with in-memory stores: the prompt, Duo's OAuth
//! endpoints and the admin seed, driven over `http` types exactly as the Worker drives
//! them, and checked with the relying-party side of `tessera-shared`.

// A test binary: its helpers may panic on broken expectations (clippy's in-test
// allowances only cover `#[test]` functions themselves).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_edge::account::AccountKey;
use tessera_edge::app::{ClientInfo, Config, Edge, RequestContext};
use tessera_edge::memory::{CountingEntropy, MemoryStores};
use tessera_edge::session::SessionKey;
use tessera_shared::jws::{self, Hs512Key};
use tessera_shared::otp::{Algorithm, OtpKey, Totp};
use tessera_shared::rp::Client;

mod bypass;
mod cache;
mod policy;
mod push;

const CLIENT_ID: &str = "DIABCDEFGHIJKLMNOPQR";
const SECRET: &str = "abcdefghijABCDEFGHIJ0123456789abcdefghij";
const OTHER_SECRET: &str = "zzzzzzzzzzABCDEFGHIJ0123456789abcdefghij";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const HOST: &str = "localhost:8787";
const RP_ORIGIN: &str = "http://localhost:8080";
const REDIRECT: &str = "http://localhost:8080/duo-callback";
const ADMIN_TOKEN: &str = "admin-token";
const STATE: &str = "0123456789abcdef0123456789abcdef";
/// A time in the middle of a 30-second step, so skew tests are unambiguous.
const NOW: i64 = 1_750_000_005;

/// Drives a future that never waits on I/O (the memory stores answer at once).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn totp() -> Totp {
    Totp::new(
        OtpKey::from_base32(TOTP_SECRET, Algorithm::Sha1, 6).unwrap(),
        30,
    )
}

fn client() -> Client {
    Client::new(CLIENT_ID, SECRET, HOST, REDIRECT)
}

fn client_info() -> ClientInfo {
    ClientInfo {
        ip: Some("198.51.100.7".into()),
        country: Some("NL".into()),
        region: None,
    }
}

struct Reply {
    status: u16,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn error_code(&self) -> Value {
        self.json()["error"]["code"].clone()
    }
}

struct World {
    stores: MemoryStores,
    config: Config,
    entropy: CountingEntropy,
    /// What the platform says about the caller of the next requests.
    client: std::cell::RefCell<ClientInfo>,
}

impl World {
    fn new() -> Self {
        let world = Self {
            stores: MemoryStores::default(),
            config: Config {
                session_key: SessionKey::new(b"session key for tests"),
                admin_token: Some(ADMIN_TOKEN.into()),
                service_name: "Tessera".into(),
                push: Default::default(),
                bypass_pepper: tessera_edge::memory::test_bypass_pepper(),
            },
            entropy: CountingEntropy::default(),
            client: std::cell::RefCell::new(client_info()),
        };
        let reply = world.seed(&seed_body());
        assert_eq!(reply.status, 200, "{}", reply.text());
        world
    }

    fn seed(&self, body: &Value) -> Reply {
        self.send(
            request("POST", "/internal/v1/seed")
                .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
                .header("content-type", "application/json")
                .body(body.to_string().into_bytes())
                .unwrap(),
            NOW,
        )
    }

    fn send(&self, request: http::Request<Vec<u8>>, now: i64) -> Reply {
        let edge = Edge {
            config: &self.config,
            stores: &self.stores,
            entropy: &self.entropy,
        };
        let context = RequestContext {
            now,
            client: self.client.borrow().clone(),
        };
        let response = block_on(edge.handle(request, &context));
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    fn post_json(&self, path: &str, body: &Value, origin: Option<&str>, now: i64) -> Reply {
        let mut builder = request("POST", path).header("content-type", "application/json");
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        self.send(builder.body(body.to_string().into_bytes()).unwrap(), now)
    }

    fn start_with(&self, jwt: &str, now: i64) -> Reply {
        let body = json!({"client_id": CLIENT_ID, "request": jwt});
        self.post_json("/prompt/v1/start", &body, Some(RP_ORIGIN), now)
    }

    /// Starts a prompt for `username` and returns the session.
    fn session(&self, username: &str, now: i64) -> String {
        let reply = self.start_with(&client().authorize_request(username, STATE, now), now);
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["session"].as_str().unwrap().to_owned()
    }

    fn passcode(&self, session: &str, passcode: &str, now: i64) -> Reply {
        let body = json!({"session": session, "passcode": passcode});
        self.post_json("/prompt/v1/passcode", &body, Some(RP_ORIGIN), now)
    }

    fn token(&self, form: &[(&str, String)], now: i64) -> Reply {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(
            request("POST", "/oauth/v1/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.into_bytes())
                .unwrap(),
            now,
        )
    }

    /// A full successful prompt for alice; returns the completion.
    fn complete(&self, now: i64) -> Value {
        let session = self.session("alice", now);
        let reply = self.passcode(&session, &totp().code_at(now), now);
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }
}

fn request(method: &str, path_and_query: &str) -> http::request::Builder {
    http::Request::builder()
        .method(method)
        .uri(format!("http://{HOST}{path_and_query}"))
        .header("host", HOST)
}

fn seed_body() -> Value {
    json!({
        "realm": "demo",
        "applications": [{"client_id": CLIENT_ID, "client_secret": SECRET, "name": "Tessera Demo",
                          "origins": [RP_ORIGIN]}],
        "users": [
            {"username": "alice", "devices": [{"id": "DPALICE0000000000001", "name": "Alice's phone",
              "totp": {"secret_base32": TOTP_SECRET, "algorithm": "SHA1", "digits": 6, "period": 30}}]},
            {"username": "bob", "devices": []}
        ]
    })
}

fn alice() -> AccountKey {
    AccountKey::new("demo", "alice")
}

/// A request JWT with arbitrary claims, signed with `secret`.
fn signed(claims: Value, secret: &str) -> String {
    jws::sign(
        &Hs512Key::from_secret_str(secret),
        claims.as_object().unwrap(),
    )
}

fn request_claims(now: i64) -> Value {
    json!({
        "response_type": "code", "scope": "openid", "client_id": CLIENT_ID, "iss": CLIENT_ID,
        "aud": format!("https://{HOST}"), "redirect_uri": REDIRECT, "state": STATE,
        "duo_uname": "alice", "exp": now + 300, "use_duo_code_attribute": true,
    })
}

fn code_from(completion: &Value) -> String {
    completion["code"].as_str().unwrap().to_owned()
}

#[test]
fn start_passcode_token_round_trip() {
    let world = World::new();
    let start = world.start_with(&client().authorize_request("alice", STATE, NOW), NOW);
    assert_eq!(start.status, 200, "{}", start.text());
    assert_eq!(start.header("access-control-allow-origin"), Some(RP_ORIGIN));
    let body = start.json();
    assert_eq!(body["application"]["name"], "Tessera Demo");
    assert_eq!(body["username"], "alice");
    assert_eq!(
        body["methods"],
        json!([{"method": "passcode", "device_name": "Alice's phone", "device_id": "DPALICE0000000000001"}])
    );
    assert_eq!(body["expires_at"], NOW + 600);

    let session = body["session"].as_str().unwrap();
    let done = world.passcode(session, &totp().code_at(NOW), NOW);
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.header("access-control-allow-origin"), Some(RP_ORIGIN));
    let completion = done.json();
    let code = code_from(&completion);
    assert_eq!(completion["state"], STATE);
    assert_eq!(
        completion["redirect"],
        format!("{REDIRECT}?duo_code={code}&state={STATE}")
    );

    let token = world.token(&client().token_form(&code, "jti-1", NOW + 2), NOW + 2);
    assert_eq!(token.status, 200, "{}", token.text());
    let body = token.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "id_token", "token_type"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let verified = client()
        .verify_id_token(body["id_token"].as_str().unwrap(), "alice", None, NOW + 2)
        .unwrap();
    assert_eq!(verified.factor, "duo_mobile_passcode");
    assert_eq!(verified.auth_time, NOW);
    assert_eq!(
        verified.claims["auth_context"]["access_device"]["ip"],
        "198.51.100.7"
    );

    let audit = world.stores.audit(&alice());
    let last = audit.last().unwrap();
    assert_eq!(
        (
            last.result.as_str(),
            last.reason.as_str(),
            last.factor.as_deref()
        ),
        ("allow", "valid_passcode", Some("duo_mobile_passcode"))
    );
    assert_eq!(last.txid, verified.txid);
    assert_eq!(
        (last.ip.as_deref(), last.country.as_deref()),
        (Some("198.51.100.7"), Some("NL"))
    );
    assert_eq!(last.client_id, CLIENT_ID);
}

#[test]
fn token_accepts_every_client_style() {
    let world = World::new();
    // Python: everything in the query string, empty body, no content type.
    let code = code_from(&world.complete(NOW));
    let query = serde_urlencoded::to_string(client().token_form(&code, "j1", NOW)).unwrap();
    let reply = world.send(
        request("POST", &format!("/oauth/v1/token?{query}"))
            .body(Vec::new())
            .unwrap(),
        NOW,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    // Java: no client_id field; it comes from the assertion.
    let code = code_from(&world.complete(NOW + 30));
    let form: Vec<(&str, String)> = client()
        .token_form(&code, "j2", NOW + 30)
        .into_iter()
        .filter(|(name, _)| *name != "client_id")
        .collect();
    let reply = world.token(&form, NOW + 30);
    assert_eq!(reply.status, 200, "{}", reply.text());
    // A nonce passed beside the request is echoed in the id_token.
    let session = {
        let jwt = client().authorize_request("alice", STATE, NOW + 60);
        let body = json!({"client_id": CLIENT_ID, "request": jwt, "nonce": "n-123"});
        world
            .post_json("/prompt/v1/start", &body, None, NOW + 60)
            .json()["session"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let code = code_from(
        &world
            .passcode(&session, &totp().code_at(NOW + 60), NOW + 60)
            .json(),
    );
    let body = world
        .token(&client().token_form(&code, "j3", NOW + 60), NOW + 60)
        .json();
    client()
        .verify_id_token(
            body["id_token"].as_str().unwrap(),
            "alice",
            Some("n-123"),
            NOW + 60,
        )
        .unwrap();
}

#[test]
fn passcode_refusals() {
    let world = World::new();
    let session = world.session("alice", NOW);
    let good = totp().code_at(NOW);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    // (passcode, status, code, attempts_left, message)
    let cases: &[(&str, u16, &str, Option<u32>, &str)] = &[
        (
            "12345",
            400,
            "bad_request",
            None,
            "Enter the 6-digit passcode.",
        ),
        (
            "1234567",
            400,
            "bad_request",
            None,
            "Enter the 6-digit passcode.",
        ),
        (
            "12345a",
            400,
            "bad_request",
            None,
            "Enter the 6-digit passcode.",
        ),
        (
            " 123456",
            400,
            "bad_request",
            None,
            "Enter the 6-digit passcode.",
        ),
        (
            wrong,
            401,
            "invalid_passcode",
            Some(9),
            "Incorrect passcode. 9 attempts left.",
        ),
        (
            wrong,
            401,
            "invalid_passcode",
            Some(8),
            "Incorrect passcode. 8 attempts left.",
        ),
        (&good, 200, "", None, ""),
        (
            &good,
            401,
            "passcode_reused",
            None,
            "That passcode was already used. Wait for the next one.",
        ),
    ];
    for (passcode, status, code, attempts_left, message) in cases {
        let reply = world.passcode(&session, passcode, NOW);
        assert_eq!(reply.status, *status, "{passcode}: {}", reply.text());
        if *status != 200 {
            let error = &reply.json()["error"];
            assert_eq!(error["code"], *code, "{passcode}");
            assert_eq!(error["message"], *message, "{passcode}");
            assert_eq!(
                error["attempts_left"].as_u64(),
                attempts_left.map(u64::from)
            );
        }
    }
    // The success reset the failure count; the previous step's code is a replay too.
    let record = world.stores.record(&alice()).unwrap();
    assert_eq!(record.lockout.failures, 0);
    let previous = totp().code_at(NOW - 30);
    assert_eq!(
        world.passcode(&session, &previous, NOW).error_code(),
        "passcode_reused"
    );
    let reasons: Vec<String> = world
        .stores
        .audit(&alice())
        .into_iter()
        .map(|e| format!("{}:{}", e.result, e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            "deny:invalid_passcode",
            "deny:invalid_passcode",
            "allow:valid_passcode",
            "deny:passcode_reused",
            "deny:passcode_reused"
        ]
    );
}

#[test]
fn lockout_after_ten_failures() {
    let world = World::new();
    let session = world.session("alice", NOW);
    let wrong = if totp().code_at(NOW) == "000000" {
        "111111"
    } else {
        "000000"
    };
    for attempt in 1..=9u64 {
        let reply = world.passcode(&session, wrong, NOW);
        assert_eq!(reply.json()["error"]["attempts_left"], 10 - attempt);
    }
    let tenth = world.passcode(&session, wrong, NOW);
    assert_eq!(
        (tenth.status, tenth.error_code()),
        (403, json!("locked_out"))
    );
    assert_eq!(
        tenth.json()["error"]["message"],
        "Your account is locked. Contact your help desk."
    );
    // Locked: even the right code is refused, and so is a new prompt; no code is issued.
    let right = world.passcode(&session, &totp().code_at(NOW), NOW);
    assert_eq!(right.error_code(), "locked_out");
    let start = world.start_with(&client().authorize_request("alice", STATE, NOW), NOW);
    assert_eq!(
        (start.status, start.error_code()),
        (403, json!("locked_out"))
    );
    assert_eq!(world.stores.code_count(), 0);
    // Re-seeding never unlocks or resets the count.
    assert_eq!(world.seed(&seed_body()).status, 200);
    assert_eq!(world.stores.record(&alice()).unwrap().lockout.failures, 10);
}

#[test]
fn start_refusals() {
    let world = World::new();
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(request_claims(NOW).to_string())
    );
    let hs256_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
    let mut bad_aud = request_claims(NOW);
    bad_aud["aud"] = json!("https://evil.example");
    let mut short_state = request_claims(NOW);
    short_state["state"] = json!("short");
    let mut carol = request_claims(NOW);
    carol["duo_uname"] = json!("carol");
    let mut bob = request_claims(NOW);
    bob["duo_uname"] = json!("bob");
    let mut expired = request_claims(NOW - 1000);
    expired["exp"] = json!(NOW - 61);
    // (request JWT, status, error code)
    let cases: Vec<(String, u16, &str)> = vec![
        (signed(request_claims(NOW), SECRET), 200, ""),
        (signed(expired, SECRET), 400, "invalid_request"),
        (
            signed(request_claims(NOW), OTHER_SECRET),
            400,
            "invalid_request",
        ),
        (alg_none, 400, "invalid_request"),
        (format!("{hs256_header}.e30.c2ln"), 400, "invalid_request"),
        ("not a jwt".into(), 400, "invalid_request"),
        (signed(bad_aud, SECRET), 400, "invalid_request"),
        (signed(short_state, SECRET), 400, "invalid_request"),
        (signed(carol, SECRET), 403, "enrollment_required"),
        (signed(bob, SECRET), 403, "enrollment_required"),
    ];
    for (jwt, status, code) in cases {
        let reply = world.start_with(&jwt, NOW);
        assert_eq!(reply.status, status, "{jwt:.50}: {}", reply.text());
        if status != 200 {
            assert_eq!(reply.error_code(), code, "{jwt:.50}");
        }
    }
    let bob_audit = world.stores.audit(&AccountKey::new("demo", "bob"));
    assert_eq!(bob_audit.len(), 1);
    assert_eq!(bob_audit[0].reason, "deny_unenrolled_user");
}

/// (method, path, content type, origin, body, status, error code)
type RawCase<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    String,
    u16,
    &'a str,
);

#[test]
fn malformed_requests() {
    let world = World::new();
    let jwt = client().authorize_request("alice", STATE, NOW);
    let start = json!({"client_id": CLIENT_ID, "request": jwt}).to_string();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    let cases: Vec<RawCase> = vec![
        (
            "POST",
            "/prompt/v1/start",
            Some("text/plain"),
            None,
            start.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/prompt/v1/start",
            None,
            None,
            start.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/prompt/v1/start",
            Some("application/json"),
            None,
            big,
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/prompt/v1/start",
            Some("application/json"),
            None,
            "{".into(),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/prompt/v1/start",
            Some("application/json"),
            None,
            "{}".into(),
            400,
            "bad_request",
        ),
        // serde fills structs from arrays by position; only objects are requests.
        (
            "POST",
            "/prompt/v1/start",
            Some("application/json"),
            None,
            json!([CLIENT_ID, jwt]).to_string(),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/prompt/v1/start",
            Some("application/json; charset=utf-8"),
            Some("https://evil.example"),
            start.clone(),
            403,
            "origin_not_allowed",
        ),
        (
            "POST",
            "/prompt/v1/start",
            Some("application/json"),
            Some("http://localhost:8787"),
            start.clone(),
            200,
            "",
        ),
        (
            "POST",
            "/prompt/v1/start",
            Some("application/json"),
            None,
            json!({"client_id": "DIUNKNOWN00000000000", "request": jwt}).to_string(),
            401,
            "unknown_client",
        ),
        (
            "POST",
            "/prompt/v1/passcode",
            Some("application/json"),
            None,
            json!({"session": "x.y", "passcode": "123456"}).to_string(),
            401,
            "invalid_session",
        ),
        (
            "GET",
            "/prompt/v1/start",
            None,
            None,
            String::new(),
            405,
            "method_not_allowed",
        ),
        (
            "GET",
            "/nowhere",
            None,
            None,
            String::new(),
            404,
            "not_found",
        ),
        (
            "GET",
            "/prompt/v1/../secret",
            None,
            None,
            String::new(),
            404,
            "not_found",
        ),
        (
            "POST",
            "/internal/v1/seed",
            Some("application/json"),
            None,
            seed_body().to_string(),
            401,
            "unauthorized",
        ),
    ];
    for (method, path, content_type, origin, body, status, code) in cases {
        let mut builder = request(method, path);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        let reply = world.send(builder.body(body.into_bytes()).unwrap(), NOW);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        if status != 200 {
            assert_eq!(reply.error_code(), code, "{method} {path}");
            assert_eq!(reply.header("access-control-allow-origin"), None);
        }
    }
}

#[test]
fn sessions_expire_and_are_bound_to_their_mac() {
    let world = World::new();
    let session = world.session("alice", NOW);
    let later = NOW + 601;
    let reply = world.passcode(&session, &totp().code_at(later), later);
    assert_eq!(
        (reply.status, reply.error_code()),
        (401, json!("session_expired"))
    );
    let (payload, tag) = session.split_once('.').unwrap();
    let forged = format!("{}.{tag}", payload.replace('a', "b"));
    let reply = world.passcode(&forged, &totp().code_at(NOW), NOW);
    assert_eq!(reply.error_code(), "invalid_session");
}

#[test]
fn token_refusals() {
    let world = World::new();
    let grant = |error: &str| json!(error);
    // A code shown with the wrong redirect_uri is refused and burnt.
    let code = code_from(&world.complete(NOW));
    let mut form = client().token_form(&code, "refusal-1", NOW);
    for (name, value) in &mut form {
        if *name == "redirect_uri" {
            *value = "http://localhost:8080/elsewhere".into();
        }
    }
    let reply = world.token(&form, NOW);
    assert_eq!(
        (reply.status, reply.json()["error"].clone()),
        (400, grant("invalid_grant"))
    );
    let reply = world.token(&client().token_form(&code, "refusal-2", NOW), NOW);
    assert_eq!(reply.json()["error"], "invalid_grant", "burnt code");

    // A used code is refused the second time.
    let code = code_from(&world.complete(NOW + 30));
    assert_eq!(
        world
            .token(&client().token_form(&code, "refusal-3", NOW + 30), NOW + 30)
            .status,
        200
    );
    let reply = world.token(&client().token_form(&code, "refusal-4", NOW + 30), NOW + 30);
    assert_eq!(reply.json()["error"], "invalid_grant", "reused code");

    // Codes live 5 minutes.
    let code = code_from(&world.complete(NOW + 60));
    let reply = world.token(
        &client().token_form(&code, "refusal-5", NOW + 361),
        NOW + 361,
    );
    assert_eq!(reply.json()["error"], "invalid_grant", "expired code");

    let code = code_from(&world.complete(NOW + 90));
    let wrong_secret = Client::new(CLIENT_ID, OTHER_SECRET, HOST, REDIRECT);
    let other_host = Client::new(CLIENT_ID, SECRET, "evil.example", REDIRECT);
    let unknown = Client::new("DIUNKNOWN00000000000", SECRET, HOST, REDIRECT);
    let mut wrong_grant_type = client().token_form(&code, "refusal-6", NOW + 90);
    wrong_grant_type[0].1 = "client_credentials".into();
    // (form, expected error)
    let cases = vec![
        (
            wrong_secret.token_form(&code, "refusal-7", NOW + 90),
            "invalid_client",
        ),
        (
            other_host.token_form(&code, "refusal-8", NOW + 90),
            "invalid_client",
        ),
        (
            unknown.token_form(&code, "refusal-9", NOW + 90),
            "invalid_client",
        ),
        (wrong_grant_type, "invalid_grant"),
        (
            client().token_form("no-such-code", "refusal-10", NOW + 90),
            "invalid_grant",
        ),
        (
            vec![("grant_type", "authorization_code".to_owned())],
            "invalid_client",
        ),
    ];
    for (form, expected) in cases {
        let reply = world.token(&form, NOW + 90);
        assert_eq!(reply.status, 400, "{form:?}");
        let body = reply.json();
        assert_eq!(body["error"], expected, "{form:?}");
        assert_eq!(body.as_object().unwrap().len(), 2);
    }
    // The refused client attempts did not burn the code.
    assert_eq!(
        world
            .token(
                &client().token_form(&code, "refusal-11", NOW + 90),
                NOW + 90
            )
            .status,
        200
    );
    // A JSON body is not what Duo's clients send.
    let reply = world.send(
        request("POST", "/oauth/v1/token")
            .header("content-type", "application/json")
            .body(b"{}".to_vec())
            .unwrap(),
        NOW,
    );
    assert_eq!(
        (reply.status, reply.json()["error"].clone()),
        (415, json!("invalid_request"))
    );
}

#[test]
fn codes_are_redeemed_in_the_account_their_route_names() {
    let world = World::new();
    let code = code_from(&world.complete(NOW));
    let (random, route) = code.rsplit_once('.').unwrap();
    assert_eq!(route, URL_SAFE_NO_PAD.encode(alice().object_name()));
    assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
    // The same random part routed to another account (bob's, which exists), to an
    // account that does not exist, or to no valid route finds nothing, and burns nothing.
    let bob = URL_SAFE_NO_PAD.encode(AccountKey::new("demo", "bob").object_name());
    let nobody = URL_SAFE_NO_PAD.encode(AccountKey::new("demo", "mallory").object_name());
    for (n, forged) in [
        format!("{random}.{bob}"),
        format!("{random}.{nobody}"),
        format!("{random}.!!"),
        random.to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let form = client().token_form(forged, &format!("route-{n}"), NOW);
        let reply = world.token(&form, NOW);
        assert_eq!(
            (reply.status, reply.json()["error"].clone()),
            (400, json!("invalid_grant")),
            "{forged}"
        );
    }
    let reply = world.token(&client().token_form(&code, "route-ok", NOW), NOW);
    assert_eq!(reply.status, 200);
    assert_eq!(world.stores.code_count(), 0);
}

#[test]
fn denials_never_yield_a_code() {
    let world = World::new();
    let session = world.session("alice", NOW);
    let good = totp().code_at(NOW);
    for passcode in ["000000", "111111", "12345"] {
        if passcode != good {
            let reply = world.passcode(&session, passcode, NOW);
            assert!(reply.json().get("code").is_none());
        }
    }
    assert_eq!(world.stores.code_count(), 0);
}

#[test]
fn cors_preflight_and_assets() {
    let world = World::new();
    let reply = world.send(
        request("OPTIONS", "/prompt/v1/start")
            .header("origin", RP_ORIGIN)
            .header("access-control-request-method", "POST")
            .body(Vec::new())
            .unwrap(),
        NOW,
    );
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-origin"), Some(RP_ORIGIN));
    assert_eq!(reply.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(
        reply.header("access-control-allow-headers"),
        Some("content-type")
    );

    world.stores.assets.borrow_mut().insert(
        "/prompt/v1/embed.js".into(),
        ("text/javascript".into(), b"// embed".to_vec()),
    );
    let get = |path: &str| world.send(request("GET", path).body(Vec::new()).unwrap(), NOW);
    let reply = get("/prompt/v1/embed.js");
    assert_eq!((reply.status, reply.text().as_str()), (200, "// embed"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("content-type"), Some("text/javascript"));
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(get("/prompt/v1/missing.js").error_code(), "not_found");
    assert_eq!(get("/healthz").json(), json!({"status": "ok"}));
}

#[test]
fn hosted_authorize_page() {
    let world = World::new();
    let client = client();
    let jwt = client.authorize_request("alice", STATE, NOW);
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("request", jwt.as_str()),
        ("nonce", "n\"<1>"),
    ])
    .unwrap();
    let reply = world.send(
        request("GET", &format!("/oauth/v1/authorize?{query}"))
            .body(Vec::new())
            .unwrap(),
        NOW,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let csp = reply.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let page = reply.text();
    assert!(
        page.contains(r#"<script src="/prompt/v1/embed.js""#),
        "{page}"
    );
    assert!(page.contains(&format!(r#"data-client-id="{CLIENT_ID}""#)));
    assert!(page.contains(&format!(r#"data-request="{jwt}""#)));
    assert!(page.contains(r#"data-nonce="n&quot;&lt;1&gt;""#), "{page}");
    assert!(page.contains(r#"<div id="tessera-prompt"></div>"#));

    // A bad request gets an error page, never a redirect.
    let forged = signed(request_claims(NOW), OTHER_SECRET);
    let reply = world.send(
        request(
            "GET",
            &format!("/oauth/v1/authorize?client_id={CLIENT_ID}&request={forged}"),
        )
        .body(Vec::new())
        .unwrap(),
        NOW,
    );
    assert_eq!(reply.status, 400);
    assert!(reply.header("location").is_none());
    assert!(reply.text().contains("role=\"alert\""));
}

#[test]
fn health_check() {
    let world = World::new();
    let check = |client: &Client| {
        let form = [
            ("client_id", CLIENT_ID.to_owned()),
            (
                "client_assertion",
                client.client_assertion("/oauth/v1/health_check", "j", NOW),
            ),
        ];
        world.send(
            request("POST", "/oauth/v1/health_check")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap().into_bytes())
                .unwrap(),
            NOW,
        )
    };
    let ok = check(&client());
    assert_eq!(
        (ok.status, ok.json()),
        (200, json!({"stat": "OK", "response": {"timestamp": NOW}}))
    );
    let fail = check(&Client::new(CLIENT_ID, OTHER_SECRET, HOST, REDIRECT));
    assert_eq!(fail.status, 400);
    assert_eq!(fail.json()["stat"], "FAIL");
    assert_eq!(fail.json()["code"], 40002);
}

#[test]
fn seeding_is_an_idempotent_upsert() {
    let world = World::new();
    let session = world.session("alice", NOW);
    assert_eq!(
        world.passcode(&session, &totp().code_at(NOW), NOW).status,
        200
    );
    let wrong = if totp().code_at(NOW + 30) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(world.passcode(&session, wrong, NOW + 30).status, 401);
    let before = world.stores.record(&alice()).unwrap();
    assert_eq!(world.seed(&seed_body()).status, 200);
    let after = world.stores.record(&alice()).unwrap();
    assert_eq!(after.lockout, before.lockout);
    assert_eq!(after.devices[0].last_step, before.devices[0].last_step);
    // So the accepted code is still a replay after re-seeding.
    assert_eq!(
        world
            .passcode(&session, &totp().code_at(NOW), NOW)
            .error_code(),
        "passcode_reused"
    );
    // Wrong admin token, and invalid seeds.
    let reply = world.send(
        request("POST", "/internal/v1/seed")
            .header("authorization", "Bearer admin-tokeN")
            .header("content-type", "application/json")
            .body(seed_body().to_string().into_bytes())
            .unwrap(),
        NOW,
    );
    assert_eq!(reply.status, 401);
    let mut short_secret = seed_body();
    short_secret["applications"][0]["client_secret"] = json!("short");
    let mut bad_totp = seed_body();
    bad_totp["users"][0]["devices"][0]["totp"]["secret_base32"] = json!("not base32!");
    for body in [short_secret, bad_totp] {
        assert_eq!(world.seed(&body).error_code(), "bad_request");
    }
}

#[test]
fn completion_redirects() {
    use tessera_edge::prompt::completion_redirect;
    // (redirect_uri, duo_code attribute, expected)
    let cases = [
        (
            "https://rp.example/cb",
            true,
            "https://rp.example/cb?duo_code=c%2B1&state=s%26t",
        ),
        (
            "https://rp.example/cb",
            false,
            "https://rp.example/cb?code=c%2B1&state=s%26t",
        ),
        (
            "https://rp.example/cb?x=1",
            true,
            "https://rp.example/cb?x=1&duo_code=c%2B1&state=s%26t",
        ),
        (
            "https://rp.example/cb?",
            true,
            "https://rp.example/cb?duo_code=c%2B1&state=s%26t",
        ),
        (
            "https://rp.example/cb#top",
            true,
            "https://rp.example/cb?duo_code=c%2B1&state=s%26t#top",
        ),
    ];
    for (redirect_uri, duo_code, expected) in cases {
        assert_eq!(
            completion_redirect(redirect_uri, duo_code, "c+1", "s&t"),
            expected
        );
    }
}

mod openid;
