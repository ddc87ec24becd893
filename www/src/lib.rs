//! Tessera's demo relying application: a password login whose second step embeds the
//! Tessera prompt, then exchanges the returned code at the edge and verifies the
//! `id_token` with `tessera_shared::rp`, exactly as a Duo Web SDK v4 backend would.
//!
//! Architecture invariant: no protocol logic here. Request JWTs, client assertions and
//! token verification come from `shared::rp`; this crate only does HTTP, sessions and HTML.

pub mod config;
pub mod edge;
pub mod pages;
pub mod session;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Form, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use tessera_shared::rp::Client;

pub use config::Config;
use edge::{Edge, ExchangeError};
use session::{COOKIE, Sessions, StateCheck};

/// The state every handler shares.
#[derive(Debug)]
struct App {
    config: Config,
    client: Client,
    edge: Edge,
    sessions: Sessions,
}

type Shared = State<Arc<App>>;

/// The demo's routes, with per-request logging and baseline security headers.
pub fn router(config: Config) -> Router {
    let client = Client::new(
        &config.client_id,
        config.client_secret.expose_secret(),
        &config.api_host,
        &config.redirect_uri(),
    );
    let app = Arc::new(App {
        edge: Edge::new(&config.edge_url),
        client,
        config,
        sessions: Sessions::default(),
    });
    Router::new()
        .route("/", get(index))
        .route("/login", get(index).post(login))
        .route("/logout", post(logout).get(|| async { Redirect::to("/") }))
        .route("/duo-callback", get(callback))
        .route("/logo.svg", get(logo))
        .fallback(not_found)
        .with_state(app)
        .layer(middleware::from_fn(log_and_harden))
}

/// One stderr line per request (path only: the query carries codes) and headers that
/// keep these pages out of caches and frames.
async fn log_and_harden(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    eprintln!(
        "tessera-www: {method} {path} -> {}",
        response.status().as_u16()
    );
    response
}

/// The demo application's logo, which the edge shows in the prompt (application
/// branding); an image the prompt on the edge's origin may load.
async fn logo() -> Response {
    const LOGO: &str = concat!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="Tessera Demo">"##,
        r##"<rect width="64" height="64" rx="14" fill="#1a56db"/>"##,
        r##"<path d="M16 16h32v8H36v24h-8V24H16z" fill="#fff"/></svg>"##
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
        ],
        LOGO,
    )
        .into_response()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `bytes` random bytes, hex-encoded.
fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)?;
    Ok(data_encoding::HEXLOWER.encode(&buffer))
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn cookie(app: &App, value: &str, max_age: Option<u64>) -> String {
    let secure = if app.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let max_age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}")
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// A failure page: one sentence for the person, the detail for the log.
fn failure(app: &App, status: StatusCode, message: &str, detail: &str) -> Response {
    eprintln!("tessera-www: {message} ({detail})");
    html(status, pages::failure(&app.config.app_name, message))
}

async fn index(State(app): Shared, headers: HeaderMap) -> Response {
    let name = &app.config.app_name;
    let signed_in = session_id(&headers)
        .and_then(|id| app.sessions.get(&id))
        .and_then(|s| s.factor.clone().map(|factor| (s.username, factor)));
    match signed_in {
        Some((username, factor)) => {
            html(StatusCode::OK, pages::signed_in(name, &username, &factor))
        }
        None => html(StatusCode::OK, pages::login(name, None, "")),
    }
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// Compares against every demo user, each time, over fixed-length digests, so neither
/// the position of a match nor the lengths of the secrets show in the timing.
fn password_matches(config: &Config, username: &str, password: &str) -> bool {
    let typed_user = Sha256::digest(username.as_bytes());
    let typed_password = Sha256::digest(password.as_bytes());
    let mut found = Choice::from(0);
    for user in &config.users {
        let user_ok = Sha256::digest(user.username.as_bytes()).ct_eq(&typed_user);
        let password_ok =
            Sha256::digest(user.password.expose_secret().as_bytes()).ct_eq(&typed_password);
        found |= user_ok & password_ok;
    }
    found.into()
}

async fn login(State(app): Shared, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let name = &app.config.app_name;
    if !password_matches(&app.config, &form.username, &form.password) {
        eprintln!("tessera-www: wrong password for {:?}", form.username);
        return html(
            StatusCode::UNAUTHORIZED,
            pages::login(name, Some("Wrong username or password."), &form.username),
        );
    }
    // A fresh id at every login, so a session id planted before it is worthless.
    if let Some(old) = session_id(&headers) {
        app.sessions.remove(&old);
    }
    let (id, state) = match (random_hex(32), random_hex(16)) {
        (Ok(id), Ok(state)) => (id, state),
        (Err(e), _) | (_, Err(e)) => {
            return failure(
                &app,
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable right now; try again shortly.",
                &format!("no randomness: {e}"),
            );
        }
    };
    let request = app
        .client
        .authorize_request(&form.username, &state, unix_now());
    app.sessions
        .insert(id.clone(), form.username.clone(), state);
    let hosted_url = format!(
        "{}/oauth/v1/authorize?{}",
        app.config.edge_url,
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", app.config.client_id.as_str()),
            ("request", request.as_str()),
        ])
        .unwrap_or_default()
    );
    let page = pages::verify(&pages::Verify {
        app_name: name,
        username: &form.username,
        edge_url: &app.config.edge_url,
        client_id: &app.config.client_id,
        request: &request,
        hosted_url: &hosted_url,
    });
    (
        StatusCode::OK,
        [(header::SET_COOKIE, cookie(&app, &id, None))],
        Html(page),
    )
        .into_response()
}

async fn logout(State(app): Shared, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        app.sessions.remove(&id);
    }
    (
        [(header::SET_COOKIE, cookie(&app, "", Some(0)))],
        Redirect::to("/"),
    )
        .into_response()
}

/// The first value of each query parameter.
fn query_params(query: Option<&str>) -> HashMap<String, String> {
    let pairs: Vec<(String, String)> = query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let mut params = HashMap::new();
    for (key, value) in pairs {
        params.entry(key).or_insert(value);
    }
    params
}

async fn callback(State(app): Shared, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query.as_deref());
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(id) = session_id(&headers) else {
        return failure(
            &app,
            StatusCode::BAD_REQUEST,
            "Your sign-in session was not found or has expired; sign in again.",
            "callback without a session cookie",
        );
    };
    if let Some(error) = param("error") {
        let description = param("error_description").unwrap_or("");
        return failure(
            &app,
            StatusCode::FORBIDDEN,
            "Tessera did not complete the second step; sign in again.",
            &format!("callback error {error:?}: {description:?}"),
        );
    }
    let username = match app.sessions.take_state(&id, param("state").unwrap_or("")) {
        Ok(username) => username,
        Err(StateCheck::NoSession) => {
            return failure(
                &app,
                StatusCode::BAD_REQUEST,
                "Your sign-in session was not found or has expired; sign in again.",
                "callback with an unknown or expired session",
            );
        }
        Err(StateCheck::NotPending) => {
            return failure(
                &app,
                StatusCode::BAD_REQUEST,
                "This sign-in response was already used; sign in again.",
                "callback for a session without a pending state",
            );
        }
        Err(StateCheck::Mismatch) => {
            return failure(
                &app,
                StatusCode::BAD_REQUEST,
                "This sign-in response does not belong to your session; sign in again.",
                "callback state does not match the session's",
            );
        }
    };
    let Some(code) = param("duo_code").or_else(|| param("code")) else {
        return failure(
            &app,
            StatusCode::BAD_REQUEST,
            "The sign-in response carries no authorization code; sign in again.",
            "callback without duo_code or code",
        );
    };
    let jti = match random_hex(16) {
        Ok(jti) => jti,
        Err(e) => {
            return failure(
                &app,
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable right now; try again shortly.",
                &format!("no randomness: {e}"),
            );
        }
    };
    let form = app.client.token_form(code, &jti, unix_now());
    let tokens = match app.edge.exchange(&form).await {
        Ok(tokens) => tokens,
        Err(e @ ExchangeError::Unreachable { .. }) => {
            return failure(
                &app,
                StatusCode::BAD_GATEWAY,
                "The Tessera service could not be reached; try again shortly.",
                &e.to_string(),
            );
        }
        Err(e) => {
            return failure(
                &app,
                StatusCode::BAD_REQUEST,
                "The Tessera service refused this sign-in; sign in again.",
                &e.to_string(),
            );
        }
    };
    match app
        .client
        .verify_id_token(&tokens.id_token, &username, None, unix_now())
    {
        Ok(verified) => {
            app.sessions.sign_in(&id, verified.factor.clone());
            html(
                StatusCode::OK,
                pages::signed_in(&app.config.app_name, &username, &verified.factor),
            )
        }
        Err(e) => failure(
            &app,
            StatusCode::UNAUTHORIZED,
            "The sign-in result from Tessera could not be verified; sign in again.",
            &format!("id_token refused: {e}"),
        ),
    }
}

async fn not_found(State(app): Shared) -> Response {
    html(
        StatusCode::NOT_FOUND,
        pages::not_found(&app.config.app_name),
    )
}
