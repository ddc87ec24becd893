//! The edge's front door: configuration, per-request inputs and the router.

use http::Method;
use http::header::{self, HeaderName};
use tessera_shared::SecretString;
use tessera_shared::v1::ErrorCode;

use crate::session::SessionKey;
use crate::store::{Entropy, Stores};
use crate::web::{self, ApiError, Request, Response};
use crate::{admin, oauth, openid, prompt, push};

/// Deployment settings, read from the environment by the glue.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TESSERA_SESSION_KEY`; without it the prompt refuses to start.
    pub session_key: Option<SessionKey>,
    /// `TESSERA_ADMIN_TOKEN`; without it `/internal/v1/*` refuses everyone.
    pub admin_token: Option<SecretString>,
    /// `TESSERA_SERVICE_NAME`, shown on hosted pages.
    pub service_name: String,
    /// Push lifetime, mute period, plain push, code digits, rate limit
    /// (`TESSERA_PUSH_*`, see `docs/api.md`).
    pub push: crate::push_object::PushSettings,
    /// The bypass-code pepper, derived from `TESSERA_STORAGE_KEY` (`sealing`); without it
    /// no bypass code can be issued.
    pub bypass_pepper: Option<tessera_shared::bypass::BypassPepper>,
}

/// What the platform (never the client) says about the caller: `CF-Connecting-IP`,
/// `request.cf.country` and `request.cf.regionCode`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub country: Option<String>,
    /// ISO 3166-2 subdivision without the country prefix (`"43"` for UA-43).
    pub region: Option<String>,
}

/// One request's inputs besides the request itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// Unix seconds.
    pub now: i64,
    pub client: ClientInfo,
}

/// The edge: configuration plus the ways to reach state and randomness.
pub struct Edge<'a, S> {
    pub config: &'a Config,
    pub stores: &'a S,
    pub entropy: &'a dyn Entropy,
}

impl<S> std::fmt::Debug for Edge<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edge")
            .field("config", self.config)
            .finish_non_exhaustive()
    }
}

/// The routes, with the methods each accepts.
const ROUTES: &[(&str, &[Method])] = &[
    ("/healthz", &[Method::GET, Method::HEAD]),
    ("/oauth/v1/health_check", &[Method::POST]),
    ("/oauth/v1/authorize", &[Method::GET]),
    ("/oauth/v1/token", &[Method::POST]),
    (prompt::START_PATH, &[Method::POST, Method::OPTIONS]),
    (prompt::PASSCODE_PATH, &[Method::POST, Method::OPTIONS]),
    (admin::SEED_PATH, &[Method::POST]),
    (admin::AUDIT_PATH, &[Method::GET]),
    (admin::BYPASS_CODES_PATH, &[Method::GET, Method::POST]),
    (openid::DISCOVERY_PATH, &[Method::GET, Method::HEAD]),
    (openid::JWKS_PATH, &[Method::GET, Method::HEAD]),
    (openid::ROTATE_PATH, &[Method::POST]),
    (push::PUSH_PATH, &[Method::POST, Method::OPTIONS]),
    (push::STATUS_PATH, &[Method::POST, Method::OPTIONS]),
    (push::FEEDBACK_PATH, &[Method::POST, Method::OPTIONS]),
    (push::CANCEL_PATH, &[Method::POST, Method::OPTIONS]),
    (push::ACTIVATE_PATH, &[Method::POST]),
    (push::PUSHES_PATH, &[Method::GET]),
    (push::APPROVAL_PATH, &[Method::POST]),
    (push::ADMIN_ACTIVATION_PATH, &[Method::POST]),
    (push::ADMIN_NOTIFICATIONS_PATH, &[Method::GET]),
];

/// Files of the built prompt, served from the static assets.
pub const ASSET_PREFIX: &str = "/prompt/v1/";
/// How long browsers may reuse the prompt's files without asking again.
pub const ASSET_CACHE_CONTROL: &str = "public, max-age=300";

impl<S: Stores> Edge<'_, S> {
    /// Handles one request. Never panics; every failure is a JSON error (Duo's shapes on
    /// `/oauth`, `ErrorBody` elsewhere).
    pub async fn handle(&self, request: Request, context: &RequestContext) -> Response {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let Some((_, methods)) = ROUTES.iter().find(|(p, _)| *p == path) else {
            if is_asset_path(&path) {
                return self.asset(&method, &path).await;
            }
            return ApiError::new(ErrorCode::NotFound, "There is nothing at this address.")
                .into_response();
        };
        if !methods.contains(&method) {
            let mut response = ApiError::new(
                ErrorCode::MethodNotAllowed,
                "This address does not accept that method.",
            )
            .into_response();
            let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
            web::set_header(response.headers_mut(), header::ALLOW, &allow.join(", "));
            return response;
        }
        match path.as_str() {
            "/healthz" => web::json(200, &serde_json::json!({"status": "ok"})),
            "/oauth/v1/health_check" => oauth::health_check(self, &request, context).await,
            "/oauth/v1/authorize" => oauth::authorize(self, &request, context).await,
            "/oauth/v1/token" => oauth::token(self, &request, context).await,
            prompt::START_PATH | prompt::PASSCODE_PATH if method == Method::OPTIONS => {
                prompt::preflight(&request)
            }
            prompt::START_PATH => prompt::start(self, &request, context).await,
            prompt::PASSCODE_PATH => prompt::passcode(self, &request, context).await,
            admin::SEED_PATH => admin::seed(self, &request).await,
            admin::AUDIT_PATH => admin::audit(self, &request).await,
            admin::BYPASS_CODES_PATH if method == Method::POST => {
                admin::issue_bypass_codes(self, &request, context).await
            }
            admin::BYPASS_CODES_PATH => admin::bypass_codes(self, &request, context).await,
            openid::DISCOVERY_PATH => openid::discovery(&request),
            openid::JWKS_PATH => openid::jwks(self, context).await,
            openid::ROTATE_PATH => openid::rotate(self, &request, context).await,
            p if push::PROMPT_PATHS.contains(&p) && method == Method::OPTIONS => {
                prompt::preflight(&request)
            }
            push::PUSH_PATH => push::start(self, &request, context).await,
            push::STATUS_PATH => push::status(self, &request, context).await,
            push::FEEDBACK_PATH => push::feedback(self, &request, context).await,
            push::CANCEL_PATH => push::cancel(self, &request, context).await,
            push::ACTIVATE_PATH => push::activate(self, &request, context).await,
            push::PUSHES_PATH => push::pushes(self, &request, context).await,
            push::APPROVAL_PATH => push::approval(self, &request, context).await,
            push::ADMIN_ACTIVATION_PATH => push::issue_activation(self, &request, context).await,
            push::ADMIN_NOTIFICATIONS_PATH => push::notifications(self, &request).await,
            _ => ApiError::new(ErrorCode::NotFound, "There is nothing at this address.")
                .into_response(),
        }
    }

    async fn asset(&self, method: &Method, path: &str) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return ApiError::new(
                ErrorCode::MethodNotAllowed,
                "This address does not accept that method.",
            )
            .into_response();
        }
        let mut response = match self.stores.asset(path).await {
            Ok(Some(response)) => response,
            Ok(None) => {
                return ApiError::new(ErrorCode::NotFound, "There is nothing at this address.")
                    .into_response();
            }
            Err(error) => return web::internal(&error).into_response(),
        };
        // The prompt is embedded by registered sites; the files themselves are public.
        let headers = response.headers_mut();
        web::set_header(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        web::set_header(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        web::set_header(
            headers,
            HeaderName::from_static("cross-origin-resource-policy"),
            "cross-origin",
        );
        // The addresses are not versioned, so only briefly: a returning visitor within
        // the window loads the prompt (and its compiled Wasm) from the browser's cache.
        web::set_header(headers, header::CACHE_CONTROL, ASSET_CACHE_CONTROL);
        response
    }
}

/// `/prompt/v1/<file>` where the file name is plain: no directories, no dot-dot.
fn is_asset_path(path: &str) -> bool {
    path.strip_prefix(ASSET_PREFIX).is_some_and(|name| {
        !name.is_empty()
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}
