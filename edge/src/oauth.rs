//! Duo Web SDK v4 endpoints (`PROTOCOL-DUO.md` §1): `/oauth/v1/health_check`,
//! `/oauth/v1/authorize` (the hosted prompt page) and `/oauth/v1/token`. These keep Duo's
//! own response and error shapes, byte for byte where clients are strict.

use std::collections::BTreeMap;

use http::header::{self, HeaderName};
use serde_json::json;
use tessera_shared::duo::{self, IdTokenContent, TokenResponse};
use tessera_shared::jws::Hs512Key;
use tessera_shared::multipart;

use crate::app::{Edge, RequestContext};
use crate::code;
use crate::directory::{AppRecord, IdTokenFormat};
use crate::prompt::application;
use crate::store::{self, Stores};
use crate::web::{self, MAX_BODY_BYTES, Request, Response};
use crate::{issuer, openid};

pub const TOKEN_PATH: &str = "/oauth/v1/token";
pub const HEALTH_CHECK_PATH: &str = "/oauth/v1/health_check";
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Lifetime announced for the (opaque, unused) access token.
pub const ACCESS_TOKEN_LIFETIME: i64 = 3600;

/// The content security policy of hosted pages: our own scripts and Wasm only, never
/// framed.
pub const HOSTED_PAGE_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: https: http://localhost:*; font-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Why a token request failed, in Duo's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenError {
    InvalidRequest { status: u16 },
    InvalidClient,
    InvalidGrant,
    ServerError,
}

impl TokenError {
    fn into_response(self) -> Response {
        let (status, error, description) = match self {
            Self::InvalidRequest { status } => (
                status,
                "invalid_request",
                "The request is missing a required parameter or is malformed.",
            ),
            Self::InvalidClient => (
                400,
                "invalid_client",
                "The provided client_assertion was invalid.",
            ),
            Self::InvalidGrant => (
                400,
                "invalid_grant",
                "The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI.",
            ),
            Self::ServerError => (
                500,
                "server_error",
                "The server encountered an unexpected condition.",
            ),
        };
        let mut response = web::json(
            status,
            &json!({"error": error, "error_description": description}),
        );
        web::set_header(response.headers_mut(), header::PRAGMA, "no-cache");
        response
    }
}

fn server_error(detail: &dyn std::fmt::Display) -> TokenError {
    web::log(&format!("token: internal error: {detail}"));
    TokenError::ServerError
}

/// Query and body parameters merged (Python sends everything in the query, the others a
/// form body). The same name with two different values is refused.
fn merged_params(request: &Request) -> Result<BTreeMap<String, String>, TokenError> {
    if request.body().len() > MAX_BODY_BYTES {
        return Err(TokenError::InvalidRequest { status: 413 });
    }
    let mut pairs = match request.uri().query() {
        Some(query) => web::form_pairs(query).ok_or(TokenError::InvalidRequest { status: 400 })?,
        None => Vec::new(),
    };
    if !request.body().is_empty() {
        match web::media_type(request).as_deref() {
            Some("application/x-www-form-urlencoded") => {
                let text = std::str::from_utf8(request.body())
                    .map_err(|_| TokenError::InvalidRequest { status: 400 })?;
                pairs.extend(
                    web::form_pairs(text).ok_or(TokenError::InvalidRequest { status: 400 })?,
                );
            }
            // Duo's PHP client (curl with an array of fields).
            Some("multipart/form-data") => {
                let content_type =
                    web::header_str(request, header::CONTENT_TYPE).unwrap_or_default();
                let fields = multipart::boundary(content_type)
                    .and_then(|boundary| multipart::parse_form(request.body(), &boundary))
                    .map_err(|error| {
                        web::log(&format!("oauth: multipart body refused: {error}"));
                        TokenError::InvalidRequest { status: 400 }
                    })?;
                pairs.extend(fields);
            }
            _ => return Err(TokenError::InvalidRequest { status: 415 }),
        }
    }
    let mut params = BTreeMap::new();
    for (name, value) in pairs {
        match params.get(&name) {
            Some(existing) if *existing != value => {
                return Err(TokenError::InvalidRequest { status: 400 });
            }
            _ => {
                params.insert(name, value);
            }
        }
    }
    Ok(params)
}

/// Finds and verifies the calling application from its client assertion for `path`.
async fn authenticate_client<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    params: &BTreeMap<String, String>,
    path: &str,
    now: i64,
) -> Result<AppRecord, TokenError> {
    let assertion = params
        .get("client_assertion")
        .ok_or(TokenError::InvalidClient)?;
    let client_id = params
        .get("client_id")
        .cloned()
        .or_else(|| duo::assertion_client_id(assertion))
        .ok_or(TokenError::InvalidClient)?;
    let app = application(edge.stores, &client_id)
        .await
        .map_err(|_| TokenError::ServerError)?
        .ok_or(TokenError::InvalidClient)?;
    let host = web::host(request).ok_or(TokenError::InvalidClient)?;
    let key = Hs512Key::from_secret_str(app.client_secret.expose_secret());
    let verified = duo::verify_client_assertion(&key, assertion, &app.client_id, &host, path, now)
        .map_err(|error| {
            web::log(&format!(
                "oauth: assertion refused for {client_id}: {error}"
            ));
            TokenError::InvalidClient
        })?;
    // Every official client sends a random `jti`; one seen before is a replay.
    let jti = verified
        .jti
        .filter(|jti| !jti.is_empty() && jti.len() <= openid::MAX_JTI_LEN)
        .ok_or_else(|| {
            web::log(&format!(
                "oauth: assertion without a usable jti from {client_id}"
            ));
            TokenError::InvalidClient
        })?;
    let fresh = openid::record_jti(
        edge.stores,
        issuer::assertion_scope(&app.client_id),
        &jti,
        verified.exp,
        now,
    )
    .await
    .map_err(|e| server_error(&e))?;
    if !fresh {
        web::log(&format!("oauth: assertion jti replayed by {client_id}"));
        return Err(TokenError::InvalidClient);
    }
    Ok(app)
}

/// `POST /oauth/v1/health_check`.
pub async fn health_check<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let verified = match merged_params(request) {
        Ok(params) => authenticate_client(edge, request, &params, HEALTH_CHECK_PATH, cx.now)
            .await
            .map(|_| ()),
        Err(error) => Err(error),
    };
    match verified {
        Ok(()) => web::json(
            200,
            &json!({"stat": "OK", "response": {"timestamp": cx.now}}),
        ),
        Err(_) => web::json(
            400,
            &json!({
                "stat": "FAIL",
                "code": 40002,
                "message": "invalid_client",
                "message_detail": "The provided client_assertion was invalid.",
                "timestamp": cx.now,
            }),
        ),
    }
}

/// `POST /oauth/v1/token`: exchanges a single-use code for the `id_token`.
pub async fn token<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    match token_flow(edge, request, cx).await {
        Ok(body) => {
            let mut response = web::json(200, &body);
            web::set_header(response.headers_mut(), header::PRAGMA, "no-cache");
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn token_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Result<TokenResponse, TokenError> {
    let params = merged_params(request)?;
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Err(TokenError::InvalidGrant);
    }
    if params.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
        return Err(TokenError::InvalidClient);
    }
    let app = authenticate_client(edge, request, &params, TOKEN_PATH, cx.now).await?;
    let code = params.get("code").ok_or(TokenError::InvalidGrant)?;
    let redirect_uri = params.get("redirect_uri").ok_or(TokenError::InvalidGrant)?;
    // The code is consumed by this lookup whatever happens next: a code shown with the
    // wrong client or redirect URI is burnt, not left for another try.
    let route = code::route(code).ok_or(TokenError::InvalidGrant)?;
    let grant = edge
        .stores
        .redeem_code(route, &code::code_hash(code), cx.now)
        .await
        .map_err(|error| server_error(&error))?
        .ok_or(TokenError::InvalidGrant)?;
    if grant.client_id != app.client_id
        || grant.redirect_uri != *redirect_uri
        || grant.realm != app.realm
    {
        web::log(&format!(
            "token: code presented with a mismatched client or redirect_uri by {}",
            app.client_id
        ));
        return Err(TokenError::InvalidGrant);
    }
    let host = web::host(request).ok_or(TokenError::InvalidClient)?;
    let content = IdTokenContent {
        client_id: app.client_id.clone(),
        application_name: app.name.clone(),
        username: grant.username,
        nonce: grant.nonce,
        factor: grant.factor,
        reason: grant.reason,
        auth_time: grant.auth_time,
        txid: grant.txid,
        ip: grant.ip,
        country: grant.country,
    };
    let id_token = match app.id_token_format {
        IdTokenFormat::Hs512 => {
            let key = Hs512Key::from_secret_str(app.client_secret.expose_secret());
            duo::mint_id_token(&key, &host, &content, cx.now)
        }
        IdTokenFormat::EdDsa => {
            let grant = openid::EdDsaGrant {
                host: &host,
                client_id: &content.client_id,
                username: &content.username,
                nonce: content.nonce.as_deref(),
                factor: &content.factor,
                auth_time: content.auth_time,
            };
            openid::mint_id_token(edge, &grant, cx.now)
                .await
                .map_err(|e| server_error(&e))?
        }
    };
    let access_token = store::random_token(edge.entropy, 32).map_err(|e| server_error(&e))?;
    Ok(TokenResponse {
        access_token,
        expires_in: ACCESS_TOKEN_LIFETIME,
        id_token,
        token_type: "Bearer".to_owned(),
    })
}

/// `GET /oauth/v1/authorize`: the hosted prompt page. The request is verified here too
/// so a bad one gets an error page at once; per Duo's rules it never redirects, since the
/// `redirect_uri` of a bad request is untrusted.
pub async fn authorize<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let params = request
        .uri()
        .query()
        .and_then(web::form_pairs)
        .unwrap_or_default();
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let service = edge.config.service_name.as_str();
    let (Some(client_id), Some(jwt)) = (param("client_id"), param("request")) else {
        return error_page(
            service,
            "This sign-in link is incomplete. Go back to the application and try again.",
        );
    };
    let app = match application(edge.stores, client_id).await {
        Ok(Some(app)) => app,
        Ok(None) => {
            return error_page(
                service,
                "This application is not registered with the sign-in service.",
            );
        }
        Err(_) => {
            return error_page(
                service,
                "Something went wrong on our side. Try again in a moment.",
            );
        }
    };
    let key = Hs512Key::from_secret_str(app.client_secret.expose_secret());
    let host = web::host(request).unwrap_or_default();
    let verified = match duo::verify_authorize_request(&key, jwt, &app.client_id, &host, cx.now) {
        Ok(verified) => verified,
        Err(error) => {
            web::log(&format!(
                "authorize: request refused for {client_id}: {error}"
            ));
            return error_page(
                service,
                "This sign-in request is invalid or has expired. Go back to the application and try again.",
            );
        }
    };
    if let Some(jti) = &verified.jti {
        match openid::jti_seen(
            edge.stores,
            issuer::request_scope(&app.client_id),
            jti,
            cx.now,
        )
        .await
        {
            Ok(false) => {}
            Ok(true) => {
                return error_page(
                    service,
                    "This sign-in request was already used. Go back to the application and try again.",
                );
            }
            Err(_) => {
                return error_page(
                    service,
                    "Something went wrong on our side. Try again in a moment.",
                );
            }
        }
    }
    let nonce = param("nonce")
        .map(|nonce| format!(" data-nonce=\"{}\"", web::escape_html(nonce)))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Sign in to {app_name} – {service}</title>\n</head>\n<body>\n<main>\n\
         <div id=\"tessera-prompt\"></div>\n</main>\n\
         <script src=\"/prompt/v1/embed.js\" data-client-id=\"{client_id}\" data-request=\"{jwt}\"{nonce} \
         data-target=\"#tessera-prompt\" data-mode=\"page\" async></script>\n\
         <noscript>This sign-in page needs JavaScript.</noscript>\n</body>\n</html>\n",
        app_name = web::escape_html(&app.name),
        service = web::escape_html(service),
        client_id = web::escape_html(&app.client_id),
        jwt = web::escape_html(jwt),
    );
    html(200, body)
}

fn error_page(service: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Sign-in problem – {service}</title>\n</head>\n<body>\n<main>\n\
         <h1>Sign-in problem</h1>\n<p role=\"alert\">{message}</p>\n</main>\n</body>\n</html>\n",
        service = web::escape_html(service),
        message = web::escape_html(message),
    );
    html(400, body)
}

fn html(status: u16, body: String) -> Response {
    let mut response = web::response(status, "text/html; charset=utf-8", body.into_bytes());
    let headers = response.headers_mut();
    web::set_header(headers, header::CONTENT_SECURITY_POLICY, HOSTED_PAGE_CSP);
    web::set_header(headers, header::X_FRAME_OPTIONS, "DENY");
    web::set_header(headers, header::REFERRER_POLICY, "no-referrer");
    web::set_header(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    response
}
