//! The prompt API (`/prompt/v1/start`, `/prompt/v1/passcode`) and its CORS rules.
//!
//! Start verifies the relying app's signed request, resolves the policy in force for the
//! application (realm global < application; users have no groups yet), checks the
//! browser's remembered-device tokens, and lets the user's account object decide: the
//! usable methods, a final allow without a second factor (which yields a code at once),
//! or a denial. A passcode is decided inside the account object too, and only an accepted
//! one (or a final allow) yields an authorization code. Cross-origin callers must be registered for the application;
//! callers without an `Origin` (curl) or from the edge itself (the hosted page) need not.

use http::header::{self, HeaderName};
use tessera_shared::SecretString;
use tessera_shared::duo;
use tessera_shared::jws::Hs512Key;
use tessera_shared::policy::{EffectivePolicy, Policy};
use tessera_shared::v1::{
    self, Application, Completion, ErrorCode, PasscodeRequest, PolicyConfig, RememberOffer,
    StartRequest, StartResponse,
};

use crate::account::{AccountCommand, AccountKey, AccountReply, AuditContext, Passcode, Refusal};
use crate::app::{Edge, RequestContext};
use crate::code::{CODE_LIFETIME, Grant, IssuedCode};
use crate::directory::{AppRecord, Branding, DirectoryCommand, DirectoryReply, Policies};
use crate::remember::{self, Remembered};
use crate::session::{self, SESSION_LIFETIME, Session, SessionError, SessionKey};
use crate::store::{self, StoreError, Stores};
use crate::web::{self, ApiError, Request, Response};
use crate::{issuer, openid};

pub const START_PATH: &str = v1::PROMPT_START;
pub const PASSCODE_PATH: &str = v1::PROMPT_PASSCODE;
const PASSCODE_DIGITS: usize = 6;
/// The longest typed bypass code accepted: 9 digits and a few separators.
const MAX_BYPASS_CODE_INPUT: usize = 16;

/// `OPTIONS` on a prompt endpoint. The preflight cannot know the application (it has no
/// body), so it answers every origin; the actual request is where origins are checked.
pub fn preflight(request: &Request) -> Response {
    let mut response = web::response(204, "text/plain", Vec::new());
    let headers = response.headers_mut();
    if let Some(origin) = web::header_str(request, header::ORIGIN) {
        web::set_header(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    web::set_header(headers, header::ACCESS_CONTROL_ALLOW_METHODS, "POST");
    web::set_header(
        headers,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        "content-type",
    );
    web::set_header(headers, header::ACCESS_CONTROL_MAX_AGE, "600");
    web::set_header(headers, header::VARY, "Origin");
    response
}

pub async fn start<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let mut allowed_origin = None;
    let result = start_flow(edge, request, cx, &mut allowed_origin).await;
    respond(result, allowed_origin.as_deref())
}

pub async fn passcode<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let mut allowed_origin = None;
    let result = passcode_flow(edge, request, cx, &mut allowed_origin).await;
    respond(result, allowed_origin.as_deref())
}

async fn start_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
    allowed_origin: &mut Option<String>,
) -> Result<StartResponse, ApiError> {
    let body: StartRequest = web::json_body(request)?;
    let key = session_key(edge)?;
    let app = application(edge.stores, &body.client_id)
        .await?
        .ok_or_else(unknown_client)?;
    *allowed_origin = check_origin(request, &app)?;
    let host =
        web::host(request).ok_or_else(|| ApiError::bad_request("The Host header is missing."))?;
    let secret = Hs512Key::from_secret_str(app.client_secret.expose_secret());
    let verified = duo::verify_authorize_request(&secret, &body.request, &app.client_id, &host, cx.now)
        .map_err(|error| {
            web::log(&format!("start: request refused for {}: {error}", app.client_id));
            ApiError::new(
                ErrorCode::InvalidRequest,
                "This sign-in request is invalid or has expired. Go back to the application and try again.",
            )
        })?;
    // A request JWT with a `jti` (C#) starts at most one prompt.
    if let Some(jti) = &verified.jti {
        if jti.is_empty() || jti.len() > openid::MAX_JTI_LEN {
            return Err(openid::request_replayed());
        }
        let scope = issuer::request_scope(&app.client_id);
        let fresh = openid::record_jti(edge.stores, scope, jti, verified.expires_at, cx.now)
            .await
            .map_err(|e| web::internal(&e))?;
        if !fresh {
            web::log(&format!(
                "start: request jti replayed for {}",
                app.client_id
            ));
            return Err(openid::request_replayed());
        }
    }
    let txid = store::random_txid(edge.entropy).map_err(|e| web::internal(&e))?;
    let (policy, branding) = policy_for(edge.stores, &app).await?;
    let remembered = body
        .remembered
        .iter()
        .take(remember::MAX_TOKENS)
        .any(|token| {
            remember::open(key, token).is_some_and(|grant| {
                grant.honoured(
                    &policy.effective.remembered_devices,
                    &app.realm,
                    &verified.username,
                    &app.client_id,
                    cx.now,
                )
            })
        });
    let expires_at = cx.now.saturating_add(SESSION_LIFETIME);
    let session = Session {
        realm: app.realm.clone(),
        username: verified.username.clone(),
        client_id: app.client_id.clone(),
        redirect_uri: verified.redirect_uri,
        state: verified.state,
        nonce: verified.nonce.or(body.nonce),
        use_duo_code_attribute: verified.use_duo_code_attribute,
        txid,
        expires_at,
    };
    let account = AccountKey::new(&app.realm, &verified.username);
    let command = AccountCommand::Begin {
        audit: audit_context(&app, &session.txid, cx),
        now: cx.now,
        policy: policy.config.clone(),
        remembered,
        // Issued by the account only if its verdict is a final allow.
        code: Some(code_grant(&session, cx)),
    };
    let reply = edge
        .stores
        .account(&account, command)
        .await
        .map_err(|e| web::internal(&e))?;
    let (methods, finished) = match reply {
        AccountReply::Ready { methods } => {
            // Push devices live in the account's push book; the policy filters them too.
            let methods =
                crate::push::with_push_methods(edge, &account, &policy.effective, methods)
                    .await?
                    .into_iter()
                    .filter(|option| policy.effective.allowed_methods.contains(&option.method))
                    .collect();
            (methods, None)
        }
        // A remembered device is not offered again: the browser already holds a token.
        AccountReply::Allowed {
            code: Some(code), ..
        } => (Vec::new(), Some(completion(&session, code, None))),
        AccountReply::Refused(refusal) => {
            return Err(refusal_error(refusal, &edge.config.service_name));
        }
        _ => return Err(web::internal(&StoreError::UnexpectedReply("begin"))),
    };
    Ok(StartResponse {
        session: session::seal(key, &session),
        application: Application {
            name: app.name.clone(),
            logo_url: branding.logo_url,
            accent_color: branding.accent_color,
            help_url: branding.help_url,
            manage_devices_url: branding.manage_devices_url,
        },
        username: session.username.clone(),
        default_method: methods.first().map(|option| option.method),
        methods,
        completion: finished,
        expires_at,
    })
}

/// The policy in force for an application's sign-ins, in checked and wire form.
#[derive(Debug)]
pub struct AppPolicy {
    pub effective: EffectivePolicy,
    /// The merged levels, as sent to the account object.
    pub config: PolicyConfig,
}

/// Reads the realm's global policy and the application's settings, and merges them.
pub async fn policy_for<S: Stores>(
    stores: &S,
    app: &AppRecord,
) -> Result<(AppPolicy, Branding), ApiError> {
    let command = DirectoryCommand::GetPolicies {
        realm: app.realm.clone(),
        client_id: app.client_id.clone(),
    };
    let Policies {
        global,
        application,
    } = match stores.directory(command).await {
        Ok(DirectoryReply::Policies(policies)) => *policies,
        Ok(_) => return Err(web::internal(&StoreError::UnexpectedReply("get_policies"))),
        Err(error) => return Err(web::internal(&error)),
    };
    let check = |config: PolicyConfig| {
        Policy::try_from(config).map_err(|error| {
            web::internal(&StoreError::Corrupt(format!(
                "policy for {}: {error}",
                app.client_id
            )))
        })
    };
    let merged = check(global)?.overlay(&check(application.policy)?);
    Ok((
        AppPolicy {
            effective: merged.resolve(),
            config: PolicyConfig::from(&merged),
        },
        application.branding,
    ))
}

/// What the authorization code of `session`'s sign-in will stand for, sent to the
/// account object, which issues the code only if it allows (and sets the factor and
/// reason of its decision).
fn code_grant(session: &Session, cx: &RequestContext) -> Grant {
    Grant {
        client_id: session.client_id.clone(),
        redirect_uri: session.redirect_uri.clone(),
        realm: session.realm.clone(),
        username: session.username.clone(),
        nonce: session.nonce.clone(),
        factor: String::new(),
        reason: String::new(),
        auth_time: cx.now,
        txid: session.txid.clone(),
        ip: cx.client.ip.clone(),
        country: cx.client.country.clone(),
        expires_at: cx.now.saturating_add(CODE_LIFETIME),
    }
}

/// The completion of an allowed sign-in whose code the account object issued.
fn completion(session: &Session, code: IssuedCode, remember: Option<RememberOffer>) -> Completion {
    let IssuedCode(code) = code;
    Completion {
        redirect: completion_redirect(
            &session.redirect_uri,
            session.use_duo_code_attribute,
            &code,
            &session.state,
        ),
        code,
        state: session.state.clone(),
        remember,
    }
}

async fn passcode_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
    allowed_origin: &mut Option<String>,
) -> Result<Completion, ApiError> {
    let body: PasscodeRequest = web::json_body(request)?;
    let PasscodeRequest { session, passcode } = body;
    let passcode = SecretString::from(passcode);
    let (session, app) = open_session(edge, request, &session, cx, allowed_origin).await?;
    let well_formed = passcode.expose_secret().len() == PASSCODE_DIGITS
        && passcode.expose_secret().bytes().all(|b| b.is_ascii_digit());
    if !well_formed && !is_bypass_code(&passcode) {
        return Err(ApiError::bad_request("Enter the 6-digit passcode."));
    }
    let (policy, _) = policy_for(edge.stores, &app).await?;
    let account = AccountKey::new(&session.realm, &session.username);
    let command = AccountCommand::VerifyPasscode {
        passcode: Passcode(passcode),
        audit: audit_context(&app, &session.txid, cx),
        now: cx.now,
        policy: policy.config,
        code: Some(code_grant(&session, cx)),
    };
    let reply = edge
        .stores
        .account(&account, command)
        .await
        .map_err(|e| web::internal(&e))?;
    let code = match reply {
        AccountReply::Accepted {
            code: Some(code), ..
        } => code,
        AccountReply::Refused(refusal) => {
            return Err(refusal_error(refusal, &edge.config.service_name));
        }
        _ => {
            return Err(web::internal(&StoreError::UnexpectedReply(
                "verify_passcode",
            )));
        }
    };
    let remember = remember_offer(edge, &policy.effective, &session, cx)?;
    Ok(completion(&session, code, remember))
}

/// A 9-digit bypass code as typed (Duo's spaces or hyphens allowed), of bounded length;
/// the account object decides whether it is one of the user's.
fn is_bypass_code(candidate: &SecretString) -> bool {
    candidate.expose_secret().len() <= MAX_BYPASS_CODE_INPUT
        && tessera_shared::bypass::BypassCode::parse(candidate.expose_secret()).is_ok()
}

/// The remembered-device offer for a sign-in that just succeeded, when policy allows one.
fn remember_offer<S>(
    edge: &Edge<'_, S>,
    policy: &EffectivePolicy,
    session: &Session,
    cx: &RequestContext,
) -> Result<Option<RememberOffer>, ApiError> {
    let key = session_key(edge)?;
    Ok(Remembered::offer(
        &policy.remembered_devices,
        &session.realm,
        &session.username,
        &session.client_id,
        cx.now,
    )
    .map(|grant| RememberOffer {
        token: remember::seal(key, &grant),
        expires_at: grant.expires_at,
        scope: grant.scope_name().to_owned(),
    }))
}

/// Opens the prompt session a request carries and finds its application, checking the
/// caller's origin against it (the CORS origin to echo goes to `allowed_origin`).
pub(crate) async fn open_session<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    sealed: &str,
    cx: &RequestContext,
    allowed_origin: &mut Option<String>,
) -> Result<(Session, AppRecord), ApiError> {
    let key = session_key(edge)?;
    let session = session::open(key, sealed, cx.now).map_err(|error| match error {
        SessionError::Expired => ApiError::new(
            ErrorCode::SessionExpired,
            "This sign-in took too long. Go back to the application and start again.",
        ),
        SessionError::Malformed | SessionError::BadMac => invalid_session(),
    })?;
    // An application deleted since the session started can no longer be signed in to.
    let app = application(edge.stores, &session.client_id)
        .await?
        .filter(|app| app.realm == session.realm)
        .ok_or_else(invalid_session)?;
    *allowed_origin = check_origin(request, &app)?;
    Ok((session, app))
}

/// A second factor other than a passcode (a push) succeeded: the account object issues
/// the single-use authorization code; a remembered-device offer comes with it when the
/// policy allows one.
pub(crate) async fn complete<S: Stores>(
    edge: &Edge<'_, S>,
    session: &Session,
    app: &AppRecord,
    factor: String,
    reason: String,
    cx: &RequestContext,
) -> Result<Completion, ApiError> {
    let (policy, _) = policy_for(edge.stores, app).await?;
    let remember = remember_offer(edge, &policy.effective, session, cx)?;
    let account = AccountKey::new(&session.realm, &session.username);
    let command = AccountCommand::IssueCode {
        code: code_grant(session, cx),
        factor,
        reason,
    };
    match edge.stores.account(&account, command).await {
        Ok(AccountReply::CodeIssued(code)) => Ok(completion(session, code, remember)),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("issue_code"))),
        Err(error) => Err(web::internal(&error)),
    }
}

/// `redirect_uri` with `duo_code` (or `code`) and `state` added to its query, before any
/// fragment.
pub fn completion_redirect(redirect_uri: &str, duo_code: bool, code: &str, state: &str) -> String {
    let (base, fragment) = match redirect_uri.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (redirect_uri, None),
    };
    let name = if duo_code { "duo_code" } else { "code" };
    let query = serde_urlencoded::to_string([(name, code), ("state", state)]).unwrap_or_default();
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    match fragment {
        Some(fragment) => format!("{base}{separator}{query}#{fragment}"),
        None => format!("{base}{separator}{query}"),
    }
}

/// Looks an application up in the directory.
pub async fn application<S: Stores>(
    stores: &S,
    client_id: &str,
) -> Result<Option<AppRecord>, ApiError> {
    if client_id.len() != duo::CLIENT_ID_LEN {
        return Ok(None);
    }
    let command = DirectoryCommand::GetApplication {
        client_id: client_id.to_owned(),
    };
    match stores.directory(command).await {
        Ok(DirectoryReply::Application(app)) => Ok(app),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply(
            "get_application",
        ))),
        Err(error) => Err(web::internal(&error)),
    }
}

/// `Ok(Some(origin))` to echo in `Access-Control-Allow-Origin`, `Ok(None)` when the caller
/// sent no `Origin` or is the edge itself (http or https, as a TLS terminator may sit in
/// front), or `origin_not_allowed`.
fn check_origin(request: &Request, app: &AppRecord) -> Result<Option<String>, ApiError> {
    let Some(origin) = web::header_str(request, header::ORIGIN) else {
        return Ok(None);
    };
    if let Some(host) = web::host(request)
        && (origin == format!("http://{host}") || origin == format!("https://{host}"))
    {
        return Ok(None);
    }
    if app.origins.iter().any(|allowed| allowed == origin) {
        return Ok(Some(origin.to_owned()));
    }
    web::log(&format!(
        "prompt: origin {origin} refused for {}",
        app.client_id
    ));
    Err(ApiError::new(
        ErrorCode::OriginNotAllowed,
        "This site is not allowed to show the sign-in prompt for this application.",
    ))
}

pub(crate) fn respond<T: serde::Serialize>(
    result: Result<T, ApiError>,
    allowed_origin: Option<&str>,
) -> Response {
    let mut response = match result {
        Ok(body) => web::json(200, &body),
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    web::set_header(headers, header::VARY, "Origin");
    if let Some(origin) = allowed_origin {
        web::set_header(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        web::set_header(
            headers,
            HeaderName::from_static("timing-allow-origin"),
            origin,
        );
    }
    response
}

fn session_key<'a, S>(edge: &'a Edge<'_, S>) -> Result<&'a SessionKey, ApiError> {
    edge.config
        .session_key
        .as_ref()
        .ok_or_else(|| web::internal(&"TESSERA_SESSION_KEY is not set"))
}

pub(crate) fn audit_context(app: &AppRecord, txid: &str, cx: &RequestContext) -> AuditContext {
    AuditContext {
        client_id: app.client_id.clone(),
        application: app.name.clone(),
        txid: txid.to_owned(),
        ip: cx.client.ip.clone(),
        country: cx.client.country.clone(),
        region: cx.client.region.clone(),
    }
}

fn unknown_client() -> ApiError {
    ApiError::new(
        ErrorCode::UnknownClient,
        "This application is not registered with the sign-in service.",
    )
}

fn invalid_session() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidSession,
        "This sign-in session is not valid. Go back to the application and start again.",
    )
}

/// The user-facing error for an account's refusal; `service_name` goes into the
/// sanctioned-region message.
pub fn refusal_error(refusal: Refusal, service_name: &str) -> ApiError {
    match refusal {
        Refusal::Denied(denial) => {
            let reason = denial.reason();
            ApiError::new(reason.error_code(), &reason.user_message(service_name))
        }
        Refusal::EnrollmentRequired => ApiError::new(
            ErrorCode::EnrollmentRequired,
            "You need to enroll a device before you can sign in. Contact your help desk.",
        ),
        Refusal::Disabled => ApiError::new(
            ErrorCode::UserDisabled,
            "Your account is disabled. Contact your help desk.",
        ),
        Refusal::LockedOut => ApiError::new(
            ErrorCode::LockedOut,
            "Your account is locked. Contact your help desk.",
        ),
        Refusal::Malformed => ApiError::bad_request("Enter the 6-digit passcode."),
        Refusal::InvalidPasscode { attempts_left } => {
            let noun = if attempts_left == 1 {
                "attempt"
            } else {
                "attempts"
            };
            ApiError::new(
                ErrorCode::InvalidPasscode,
                &format!("Incorrect passcode. {attempts_left} {noun} left."),
            )
            .with_attempts_left(attempts_left)
        }
        Refusal::PasscodeReused => ApiError::new(
            ErrorCode::PasscodeReused,
            "That passcode was already used. Wait for the next one.",
        ),
    }
}
