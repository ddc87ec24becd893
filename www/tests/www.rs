//! The demo relying app driven in-process (`tower::ServiceExt::oneshot`), against a tiny
//! in-test edge that speaks `/oauth/v1/token` with `tessera_shared::duo`. The real edge
//! is exercised by the end-to-end tests.

// Test helpers outside `#[test]` functions fail loudly too; clippy.toml covers only the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, State};
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::BodyExt;
use tessera_shared::duo::{self, IdTokenContent, TokenResponse};
use tessera_shared::jws::{self, Hs512Key};
use tessera_www::{Config, pages, router};
use tower::ServiceExt;

const CLIENT_ID: &str = "DIWWWTEST00000000001";
const CLIENT_SECRET: &str = "wwwtestsecret0000000000000000000000000000";
const PUBLIC_URL: &str = "http://localhost:8080";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

fn config(edge_url: &str, api_host: &str) -> Config {
    Config::from_json(
        &serde_json::json!({
            "listen": "127.0.0.1:0",
            "public_url": format!("{PUBLIC_URL}/"),
            "edge_url": edge_url,
            "api_host": api_host,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "app_name": "Tessera <Demo>",
            "users": [
                {"username": "alice", "password": "correct horse"},
                {"username": "bob", "password": "battery staple"},
                {"username": "<b>eve</b>", "password": "pw"}
            ]
        })
        .to_string(),
    )
    .unwrap()
}

/// An app whose edge is never contacted.
fn offline_app() -> Router {
    router(config("http://127.0.0.1:9", "localhost:9"))
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("tessera_demo={cookie}"));
    }
    request.body(Body::empty()).unwrap()
}

fn post_form(path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Request<Body> {
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("other=1; tessera_demo={cookie}"));
    }
    request
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap()
}

/// Signs in with a password; returns the session cookie value, the `state` inside the
/// request JWT, and the page.
async fn login(app: &Router, username: &str, password: &str) -> (String, String, Reply) {
    let reply = send(
        app,
        post_form(
            "/login",
            &[("username", username), ("password", password)],
            None,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let set_cookie = reply.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = set_cookie
        .strip_prefix("tessera_demo=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();
    let request = attribute(&reply.body, "data-request");
    let claims = jws::verify(&Hs512Key::from_secret_str(CLIENT_SECRET), &request).unwrap();
    let state = claims["state"].as_str().unwrap().to_owned();
    (cookie, state, reply)
}

fn attribute(body: &str, name: &str) -> String {
    let start = body.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + body[start..].find('"').unwrap();
    body[start..end].to_owned()
}

fn assert_alert(reply: &Reply, status: StatusCode, text: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.body.contains("role=\"alert\""), "{}", reply.body);
    assert!(reply.body.contains(text), "{}", reply.body);
}

// ---------------------------------------------------------------------------------------
// An in-test edge: `/oauth/v1/token` over `shared::duo`.

#[derive(Clone)]
struct TestEdge {
    api_host: String,
}

/// Codes the test edge understands: `good` (alice), `good-bob`, `wrong-user`, `wrong-key`;
/// anything else is an invalid grant.
async fn token(State(edge): State<TestEdge>, Form(form): Form<Vec<(String, String)>>) -> Response {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let key = Hs512Key::from_secret_str(CLIENT_SECRET);
    let assertion = duo::verify_client_assertion(
        &key,
        &field("client_assertion"),
        CLIENT_ID,
        &edge.api_host,
        "/oauth/v1/token",
        now(),
    );
    let refuse = |error: &str, description: &str| {
        json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({"error": error, "error_description": description}),
        )
    };
    if assertion.is_err() || field("grant_type") != "authorization_code" {
        return refuse("invalid_client", "bad client assertion");
    }
    if field("redirect_uri") != format!("{PUBLIC_URL}/duo-callback") {
        return refuse("invalid_grant", "redirect_uri mismatch");
    }
    let (username, signing_key) = match field("code").as_str() {
        "good" => ("alice", key),
        "good-bob" => ("bob", key),
        "wrong-user" => ("mallory", key),
        "wrong-key" => (
            "alice",
            Hs512Key::from_secret_str("another secret entirely, 40 chars..."),
        ),
        _ => {
            return refuse(
                "invalid_grant",
                "The authorization code is invalid or expired",
            );
        }
    };
    let content = IdTokenContent {
        client_id: CLIENT_ID.into(),
        application_name: "Tessera Demo".into(),
        username: username.into(),
        nonce: None,
        factor: "duo_mobile_passcode".into(),
        reason: "valid_passcode".into(),
        auth_time: now(),
        txid: "tx-1".into(),
        ip: None,
        country: None,
    };
    let tokens = TokenResponse {
        access_token: "at".into(),
        expires_in: 300,
        id_token: duo::mint_id_token(&signing_key, &edge.api_host, &content, now()),
        token_type: "Bearer".into(),
    };
    json(StatusCode::OK, &tokens)
}

fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(body).unwrap(),
    )
        .into_response()
}

/// Starts the test edge on a free port; returns an app wired to it.
async fn app_with_edge() -> Router {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let api_host = format!("localhost:{port}");
    let edge = Router::new()
        .route("/oauth/v1/token", post(token))
        .with_state(TestEdge {
            api_host: api_host.clone(),
        });
    tokio::spawn(async move { axum::serve(listener, edge).await.unwrap() });
    router(config(&format!("http://127.0.0.1:{port}"), &api_host))
}

// ---------------------------------------------------------------------------------------
// First factor

#[tokio::test]
async fn login_form() {
    let app = offline_app();
    for path in ["/", "/login"] {
        let reply = send(&app, get(path, None)).await;
        assert_eq!(reply.status, StatusCode::OK);
        for needle in [
            "<label for=\"username\">Username</label>",
            "name=\"username\"",
            "<label for=\"password\">Password</label>",
            "name=\"password\" type=\"password\"",
            "<button type=\"submit\">Sign in</button>",
        ] {
            assert!(reply.body.contains(needle), "{needle} in {}", reply.body);
        }
        assert!(!reply.body.contains("role=\"alert\""));
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    }
}

#[tokio::test]
async fn wrong_password_or_user_is_refused() {
    let app = offline_app();
    for (username, password) in [
        ("alice", "wrong"),
        ("alice", ""),
        ("alice", "battery staple"),
        ("mallory", "correct horse"),
        ("", ""),
        ("Alice", "correct horse"),
    ] {
        let reply = send(
            &app,
            post_form(
                "/login",
                &[("username", username), ("password", password)],
                None,
            ),
        )
        .await;
        assert_alert(
            &reply,
            StatusCode::UNAUTHORIZED,
            "Wrong username or password.",
        );
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
        assert!(
            reply
                .body
                .contains("<button type=\"submit\">Sign in</button>")
        );
    }
    // Missing fields are a wrong password too, not an extractor error.
    let reply = send(&app, post_form("/login", &[], None)).await;
    assert_alert(
        &reply,
        StatusCode::UNAUTHORIZED,
        "Wrong username or password.",
    );
}

#[tokio::test]
async fn login_renders_the_embed_snippet() {
    let app = offline_app();
    let (cookie, state, reply) = login(&app, "alice", "correct horse").await;
    let set_cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.contains("; HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("; SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("; Path=/"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    assert_eq!(cookie.len(), 64);
    assert_eq!(state.len(), 32);
    assert!(
        reply.body.contains("<h1>Verify it&#x27;s you</h1>"),
        "{}",
        reply.body
    );

    let request = attribute(&reply.body, "data-request");
    let snippet = format!(
        "<div id=\"tessera-prompt\"></div><script src=\"http://127.0.0.1:9/prompt/v1/embed.js\" \
         data-client-id=\"{CLIENT_ID}\" data-request=\"{request}\" data-target=\"#tessera-prompt\" async></script>"
    );
    assert_eq!(reply.body.matches(&snippet).count(), 1, "{}", reply.body);
    assert_eq!(reply.body.matches("<script").count(), 1);

    let claims = jws::verify(&Hs512Key::from_secret_str(CLIENT_SECRET), &request).unwrap();
    assert_eq!(claims["duo_uname"], "alice");
    assert_eq!(claims["client_id"], CLIENT_ID);
    assert_eq!(claims["redirect_uri"], "http://localhost:8080/duo-callback");
    assert_eq!(claims["aud"], "https://localhost:9");

    let hosted = attribute(&reply.body, "<a href");
    assert_eq!(
        hosted,
        format!(
            "http://127.0.0.1:9/oauth/v1/authorize?response_type=code&amp;client_id={CLIENT_ID}&amp;request={request}"
        )
    );
    assert!(reply.body.contains(">Use the hosted prompt instead</a>"));

    // Each login makes a new session and a new state.
    let (cookie2, state2, _) = login(&app, "alice", "correct horse").await;
    assert_ne!(cookie, cookie2);
    assert_ne!(state, state2);
}

// ---------------------------------------------------------------------------------------
// Callback failures that never reach the edge

#[tokio::test]
async fn callback_without_session() {
    let app = offline_app();
    let (_, state, _) = login(&app, "alice", "correct horse").await;
    let path = format!("/duo-callback?duo_code=good&state={state}");
    let reply = send(&app, get(&path, None)).await;
    assert_alert(&reply, StatusCode::BAD_REQUEST, "session was not found");
    let reply = send(&app, get(&path, Some("not-a-session"))).await;
    assert_alert(&reply, StatusCode::BAD_REQUEST, "session was not found");
}

#[tokio::test]
async fn callback_with_wrong_state() {
    let app = offline_app();
    let (cookie, state, _) = login(&app, "alice", "correct horse").await;
    let (_, other_state, _) = login(&app, "alice", "correct horse").await;
    for query in [
        format!("duo_code=good&state={other_state}"),
        format!("duo_code=good&state={}", &state[..31]),
        "duo_code=good".to_owned(),
        "duo_code=good&state=".to_owned(),
    ] {
        let reply = send(&app, get(&format!("/duo-callback?{query}"), Some(&cookie))).await;
        assert_alert(
            &reply,
            StatusCode::BAD_REQUEST,
            "does not belong to your session",
        );
    }
}

#[tokio::test]
async fn callback_reporting_an_error_or_no_code() {
    let app = offline_app();
    let (cookie, state, _) = login(&app, "alice", "correct horse").await;
    let reply = send(
        &app,
        get(
            &format!("/duo-callback?error=access_denied&error_description=%3Cx%3E&state={state}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_alert(&reply, StatusCode::FORBIDDEN, "did not complete");
    assert!(!reply.body.contains("<x>"));
    let reply = send(
        &app,
        get(&format!("/duo-callback?state={state}"), Some(&cookie)),
    )
    .await;
    assert_alert(&reply, StatusCode::BAD_REQUEST, "no authorization code");
}

#[tokio::test]
async fn unreachable_edge_is_a_page_not_a_crash() {
    let app = offline_app();
    let (cookie, state, _) = login(&app, "alice", "correct horse").await;
    let path = format!("/duo-callback?duo_code=good&state={state}");
    let reply = send(&app, get(&path, Some(&cookie))).await;
    assert_alert(&reply, StatusCode::BAD_GATEWAY, "could not be reached");
}

// ---------------------------------------------------------------------------------------
// The code exchange against the test edge

#[tokio::test]
async fn happy_path_then_sign_out() {
    let app = app_with_edge().await;
    let (cookie, state, _) = login(&app, "alice", "correct horse").await;
    let path = format!("/duo-callback?duo_code=good&state={state}");
    let reply = send(&app, get(&path, Some(&cookie))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .contains(">Signed in as alice (factor: duo_mobile_passcode)<"),
        "{}",
        reply.body
    );

    // The state is single use.
    let again = send(&app, get(&path, Some(&cookie))).await;
    assert_alert(&again, StatusCode::BAD_REQUEST, "already used");

    // The home page shows the signed-in state and a sign-out button.
    let home = send(&app, get("/", Some(&cookie))).await;
    assert!(
        home.body
            .contains("Signed in as alice (factor: duo_mobile_passcode)")
    );
    assert!(home.body.contains("action=\"/logout\""));
    assert!(home.body.contains(">Sign out</button>"));

    let out = send(&app, post_form("/logout", &[], Some(&cookie))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers[header::LOCATION], "/");
    let cleared = out.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("tessera_demo=;") && cleared.contains("Max-Age=0"));
    let home = send(&app, get("/", Some(&cookie))).await;
    assert!(!home.body.contains("Signed in as"));
    assert!(home.body.contains(">Sign in</button>"));
}

#[tokio::test]
async fn plain_code_parameter_is_accepted() {
    let app = app_with_edge().await;
    let (cookie, state, _) = login(&app, "bob", "battery staple").await;
    let reply = send(
        &app,
        get(
            &format!("/duo-callback?state={state}&code=good-bob"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("Signed in as bob (factor: duo_mobile_passcode)")
    );
}

#[tokio::test]
async fn edge_refusals_and_bad_tokens() {
    let app = app_with_edge().await;
    #[track_caller]
    fn check(reply: &Reply, status: StatusCode, text: &str) {
        assert_alert(reply, status, text);
        assert!(!reply.body.contains("Signed in as"));
    }
    for (code, status, text) in [
        (
            "expired-code",
            StatusCode::BAD_REQUEST,
            "refused this sign-in",
        ),
        (
            "wrong-user",
            StatusCode::UNAUTHORIZED,
            "could not be verified",
        ),
        (
            "wrong-key",
            StatusCode::UNAUTHORIZED,
            "could not be verified",
        ),
    ] {
        let (cookie, state, _) = login(&app, "alice", "correct horse").await;
        let path = format!("/duo-callback?duo_code={code}&state={state}");
        check(&send(&app, get(&path, Some(&cookie))).await, status, text);
        // A failed exchange does not sign the session in.
        let home = send(&app, get("/", Some(&cookie))).await;
        assert!(!home.body.contains("Signed in as"), "{code}");
    }
}

// ---------------------------------------------------------------------------------------
// Escaping and configuration

#[test]
fn escape_table() {
    #[track_caller]
    fn check(input: &str, expected: &str) {
        assert_eq!(pages::escape(input), expected);
    }
    check("alice", "alice");
    check("<script>", "&lt;script&gt;");
    check("a&b", "a&amp;b");
    check(r#"" onmouseover='x'"#, "&quot; onmouseover=&#x27;x&#x27;");
    check("Zoë ✓", "Zoë ✓");
}

#[tokio::test]
async fn pages_escape_every_value() {
    let app = offline_app();
    let hostile = "<script>alert(1)</script>\"'";
    let reply = send(
        &app,
        post_form("/login", &[("username", hostile), ("password", "x")], None),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(!reply.body.contains("<script>alert"), "{}", reply.body);
    assert!(
        reply
            .body
            .contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;\"")
    );
    // The application name from the configuration is escaped too.
    assert!(reply.body.contains("Tessera &lt;Demo&gt;"));
    assert!(!reply.body.contains("<Demo>"));

    // A username with markup, signed in with the first factor.
    let (_, _, verify) = login(&app, "<b>eve</b>", "pw").await;
    assert!(
        verify
            .body
            .contains("<strong>&lt;b&gt;eve&lt;/b&gt;</strong>")
    );
    assert!(!verify.body.contains("<b>eve"));

    let page = pages::signed_in("App", "<i>x</i>", "a\"b");
    assert!(page.contains("Signed in as &lt;i&gt;x&lt;/i&gt; (factor: a&quot;b)"));
}

#[tokio::test]
async fn unknown_paths_are_html_404s() {
    let reply = send(&offline_app(), get("/nope", None)).await;
    assert_alert(&reply, StatusCode::NOT_FOUND, "no page at this address");
}

#[test]
fn config_checks() {
    let base = serde_json::json!({
        "listen": "127.0.0.1:8080", "public_url": "http://localhost:8080/",
        "edge_url": "http://localhost:8787///", "api_host": "localhost:8787",
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "app_name": "Demo",
        "users": [{"username": "alice", "password": "correct horse"}]
    });
    let config = Config::from_json(&base.to_string()).unwrap();
    assert_eq!(config.public_url, "http://localhost:8080");
    assert_eq!(config.edge_url, "http://localhost:8787");
    assert_eq!(config.redirect_uri(), "http://localhost:8080/duo-callback");
    let shown = format!("{config:?}");
    assert!(
        !shown.contains(CLIENT_SECRET) && !shown.contains("correct horse"),
        "{shown}"
    );

    #[track_caller]
    fn refused(field: &str, value: serde_json::Value) {
        let mut doc = serde_json::json!({
            "listen": "127.0.0.1:8080", "public_url": "http://localhost:8080",
            "edge_url": "http://localhost:8787", "api_host": "localhost:8787",
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "app_name": "Demo",
            "users": []
        });
        doc[field] = value;
        assert!(Config::from_json(&doc.to_string()).is_err(), "{field}");
    }
    refused("edge_url", "localhost:8787".into());
    refused("public_url", "ftp://x".into());
    refused("api_host", "https://localhost:8787".into());
    refused("client_secret", "".into());
    refused("users", serde_json::Value::Null);
}
