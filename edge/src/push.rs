//! Push, end to end from the edge's side: the prompt's push endpoints
//! (`/prompt/v1/push`, `/push/status`, `/push/feedback`, `/cancel`), the authenticator API
//! (`/device/v1/activate`, `/device/v1/pushes`, `/device/v1/approval`) and the two admin
//! endpoints the demo and tests use (`/internal/v1/activation`,
//! `/internal/v1/notifications`).
//!
//! Decisions happen inside the user's account object (`push_object`); this module checks
//! the request, calls the object and phrases the answer. The WebSocket form of
//! `/device/v1/pushes` and the waiting of a long poll need the platform, so the glue
//! handles them; natively a status check answers at once.

use http::header;
use serde::{Deserialize, Serialize};
use tessera_shared::device_auth;
use tessera_shared::otp::Algorithm;
use tessera_shared::v1::device::{
    ACTIVATION_RANDOM_BYTES, Activation, ActivationCode, ActivationRequest, ActivationResponse,
    DEVICE_ACTIVATE, DEVICE_APPROVAL, DEVICE_PUSHES, PendingPushes, TotpProvision,
};
use tessera_shared::v1::{
    self, CancelRequest, DeviceApproval, ErrorCode, ErrorInfo, Method, MethodOption,
    PushFeedbackRequest, PushStartRequest, PushStarted, PushState, PushStatus, PushStatusRequest,
};
use tessera_shared::{SecretBytes, SecretString};

use crate::account::{AccountKey, TotpSeed};
use crate::app::{Edge, RequestContext};
use crate::prompt;
use crate::push_object::{
    FraudReport, OutboxCommand, OutboxReply, PushCommand, PushRefusal, PushReply,
};
use crate::store::{Entropy, StoreError, Stores};
use crate::web::{self, ApiError, Request, Response};
use tessera_shared::policy::EffectivePolicy;

pub const PUSH_PATH: &str = v1::PROMPT_PUSH;
pub const STATUS_PATH: &str = v1::PROMPT_PUSH_STATUS;
pub const FEEDBACK_PATH: &str = v1::PROMPT_PUSH_FEEDBACK;
pub const CANCEL_PATH: &str = v1::PROMPT_CANCEL;
pub const ACTIVATE_PATH: &str = DEVICE_ACTIVATE;
pub const PUSHES_PATH: &str = DEVICE_PUSHES;
pub const APPROVAL_PATH: &str = DEVICE_APPROVAL;
pub const ADMIN_ACTIVATION_PATH: &str = "/internal/v1/activation";
pub const ADMIN_NOTIFICATIONS_PATH: &str = "/internal/v1/notifications";

/// The prompt paths this module answers (CORS like `/prompt/v1/passcode`).
pub const PROMPT_PATHS: [&str; 4] = [PUSH_PATH, STATUS_PATH, FEEDBACK_PATH, CANCEL_PATH];

// ------------------------------------------------------------------ prompt side

/// The push options to show first: one Verified Push (and, when the policy allows plain
/// Push, one plain Push) per activated device, before the passcode options the account
/// listed.
pub async fn with_push_methods<S: Stores>(
    edge: &Edge<'_, S>,
    account: &AccountKey,
    policy: &EffectivePolicy,
    methods: Vec<MethodOption>,
) -> Result<Vec<MethodOption>, ApiError> {
    let devices = match edge.stores.push(account, PushCommand::Devices).await {
        Ok(PushReply::Devices { devices }) => devices,
        Ok(_) => return Err(web::internal(&StoreError::UnexpectedReply("devices"))),
        Err(error) => return Err(web::internal(&error)),
    };
    let mut all = Vec::with_capacity(methods.len() + devices.len() * 2);
    let mut kinds = Vec::new();
    if policy.allowed_methods.contains(&Method::VerifiedPush) {
        kinds.push(Method::VerifiedPush);
    }
    if policy.allow_plain_push && policy.allowed_methods.contains(&Method::Push) {
        kinds.push(Method::Push);
    }
    for method in kinds {
        for (id, name) in &devices {
            all.push(MethodOption {
                method,
                device_name: Some(name.clone()),
                device_id: Some(id.clone()),
            });
        }
    }
    all.extend(methods);
    Ok(all)
}

pub async fn start<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let mut origin = None;
    let result = start_flow(edge, request, cx, &mut origin).await;
    prompt::respond(result, origin.as_deref())
}

async fn start_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
    origin: &mut Option<String>,
) -> Result<PushStarted, ApiError> {
    let body: PushStartRequest = web::json_body(request)?;
    let (session, app) = prompt::open_session(edge, request, &body.session, cx, origin).await?;
    // The application's policy decides which pushes it allows and how failures count.
    let (policy, _) = prompt::policy_for(edge.stores, &app).await?;
    let wanted = body.method.unwrap_or(Method::VerifiedPush);
    if !policy.effective.allowed_methods.contains(&wanted) {
        return Err(ApiError::new(
            ErrorCode::MethodUnavailable,
            "This application does not allow that method.",
        ));
    }
    let mut settings = edge.config.push;
    // A push rate limit set in the policy replaces the deployment's default.
    if policy.config.push_rate_limit.is_some() {
        let limit = policy.effective.push_rate_limit;
        settings.rate_max = limit.max_requests.get();
        settings.rate_window_minutes = limit.window_minutes.get();
    }
    settings.allow_plain = policy.effective.allow_plain_push
        && policy.effective.allowed_methods.contains(&Method::Push);
    let txid = crate::store::random_txid(edge.entropy).map_err(|e| web::internal(&e))?;
    let code = random_digits(edge.entropy, settings.code_digits).map_err(|e| web::internal(&e))?;
    let command = PushCommand::Start {
        session_txid: session.txid.clone(),
        txid: txid.clone(),
        device_id: body.device_id,
        method: body.method,
        code,
        settings,
        lockout: policy.effective.lockout.into(),
        audit: prompt::audit_context(&app, &txid, cx),
        now: cx.now,
    };
    let account = AccountKey::new(&session.realm, &session.username);
    match edge.stores.push(&account, command).await {
        Ok(PushReply::Started {
            push,
            verification_code,
            device_name,
        }) => Ok(PushStarted {
            txid: push.txid,
            verification_code,
            expires_at: push.expires_at,
            device_name: Some(device_name),
        }),
        Ok(PushReply::Refused(refusal)) => Err(refusal_error(refusal, &edge.config.service_name)),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("push start"))),
        Err(error) => Err(web::internal(&error)),
    }
}

pub async fn status<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let mut origin = None;
    let result = status_flow(edge, request, cx, &mut origin).await;
    prompt::respond(result, origin.as_deref())
}

async fn status_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
    origin: &mut Option<String>,
) -> Result<PushStatus, ApiError> {
    let body: PushStatusRequest = web::json_body(request)?;
    let (session, app) = prompt::open_session(edge, request, &body.session, cx, origin).await?;
    let command = PushCommand::Status {
        txid: body.txid,
        session_txid: session.txid.clone(),
        now: cx.now,
        wait_ms: body.wait_ms.min(v1::MAX_PUSH_WAIT_MS),
    };
    let account = AccountKey::new(&session.realm, &session.username);
    let (state, grant, attempts_left, locked) = match edge.stores.push(&account, command).await {
        Ok(PushReply::Status {
            state,
            grant,
            attempts_left,
            locked,
            ..
        }) => (state, grant, attempts_left, locked),
        Ok(PushReply::Refused(refusal)) => {
            return Err(refusal_error(refusal, &edge.config.service_name));
        }
        Ok(_) => return Err(web::internal(&StoreError::UnexpectedReply("push status"))),
        Err(error) => return Err(web::internal(&error)),
    };
    let error = |code: ErrorCode, message: &str| {
        Some(ErrorInfo {
            code,
            message: message.to_owned(),
            attempts_left: None,
        })
    };
    let (completion, error) = match state {
        PushState::Pending => (None, None),
        PushState::Approved => {
            let (factor, reason) = grant.ok_or_else(|| {
                web::internal(&StoreError::UnexpectedReply("approved without grant"))
            })?;
            let completion = prompt::complete(edge, &session, &app, factor, reason, cx).await?;
            (Some(completion), None)
        }
        PushState::Denied => (
            None,
            error(
                ErrorCode::AccessDenied,
                "The request was denied on your device.",
            ),
        ),
        PushState::Fraud => (
            None,
            error(
                ErrorCode::PushMuted,
                "The request was reported as fraud. Your administrator has been told, and push requests are paused for a while. Use another method or contact your help desk.",
            ),
        ),
        PushState::WrongCode if locked => (
            None,
            error(
                ErrorCode::LockedOut,
                "Your account is locked. Contact your help desk.",
            ),
        ),
        PushState::WrongCode => {
            let left = attempts_left.unwrap_or(0);
            let noun = if left == 1 { "attempt" } else { "attempts" };
            let mut info = error(
                ErrorCode::InvalidPasscode,
                &format!("The code entered on your device did not match. {left} {noun} left."),
            );
            if let Some(info) = info.as_mut() {
                info.attempts_left = Some(left);
            }
            (None, info)
        }
        PushState::Expired => (
            None,
            error(
                ErrorCode::TransactionNotFound,
                "Nobody answered the push in time. Send another push or choose another method.",
            ),
        ),
        PushState::Cancelled => (
            None,
            error(ErrorCode::TransactionNotFound, "This push was cancelled."),
        ),
    };
    Ok(PushStatus {
        state,
        completion,
        error,
    })
}

pub async fn feedback<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let mut origin = None;
    let result = feedback_flow(edge, request, cx, &mut origin).await;
    no_content(result, origin.as_deref())
}

async fn feedback_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
    origin: &mut Option<String>,
) -> Result<(), ApiError> {
    let body: PushFeedbackRequest = web::json_body(request)?;
    let (session, _app) = prompt::open_session(edge, request, &body.session, cx, origin).await?;
    let command = PushCommand::Feedback {
        txid: body.txid,
        session_txid: session.txid.clone(),
        was_me: body.was_me,
        settings: edge.config.push,
        now: cx.now,
    };
    let account = AccountKey::new(&session.realm, &session.username);
    match edge.stores.push(&account, command).await {
        Ok(PushReply::FeedbackRecorded { fraud }) => notify(edge, fraud).await,
        Ok(PushReply::Refused(refusal)) => Err(refusal_error(refusal, &edge.config.service_name)),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("push feedback"))),
        Err(error) => Err(web::internal(&error)),
    }
}

pub async fn cancel<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let mut origin = None;
    let result = cancel_flow(edge, request, cx, &mut origin).await;
    no_content(result, origin.as_deref())
}

async fn cancel_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
    origin: &mut Option<String>,
) -> Result<(), ApiError> {
    let body: CancelRequest = web::json_body(request)?;
    let (session, _app) = prompt::open_session(edge, request, &body.session, cx, origin).await?;
    let command = PushCommand::Cancel {
        txid: body.txid,
        session_txid: session.txid.clone(),
        now: cx.now,
    };
    let account = AccountKey::new(&session.realm, &session.username);
    match edge.stores.push(&account, command).await {
        Ok(PushReply::Cancelled) => Ok(()),
        Ok(PushReply::Refused(refusal)) => Err(refusal_error(refusal, &edge.config.service_name)),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("push cancel"))),
        Err(error) => Err(web::internal(&error)),
    }
}

/// `204` (with the prompt's CORS headers) or the error.
fn no_content(result: Result<(), ApiError>, origin: Option<&str>) -> Response {
    let mut response = prompt::respond(result.map(|()| serde_json::Value::Null), origin);
    if response.status() == http::StatusCode::OK {
        *response.status_mut() = http::StatusCode::NO_CONTENT;
        response.body_mut().clear();
        response.headers_mut().remove(header::CONTENT_TYPE);
    }
    response
}

/// Puts a fraud report in the realm's notification outbox.
async fn notify<S: Stores>(edge: &Edge<'_, S>, fraud: Option<FraudReport>) -> Result<(), ApiError> {
    let Some(report) = fraud else {
        return Ok(());
    };
    web::log(&format!(
        "fraud reported by {}@{} for push {} ({})",
        report.username, report.realm, report.txid, report.via
    ));
    let realm = report.realm.clone();
    match edge
        .stores
        .outbox(&realm, OutboxCommand::Append { report })
        .await
    {
        Ok(OutboxReply::Appended) => Ok(()),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("outbox append"))),
        Err(error) => Err(web::internal(&error)),
    }
}

// ------------------------------------------------------------------ device side

pub async fn activate<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    match activate_flow(edge, request, cx).await {
        Ok(body) => web::json(200, &body),
        Err(error) => error.into_response(),
    }
}

async fn activate_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Result<ActivationResponse, ApiError> {
    let wire: ActivationRequest = web::json_body(request)?;
    let activation = Activation::try_from(wire)
        .map_err(|error| ApiError::bad_request(&format!("Invalid activation: {error}.")))?;
    let (Some(realm), Some(username)) = (activation.realm.clone(), activation.username.clone())
    else {
        return Err(ApiError::bad_request(
            "Use the whole activation link: it names the realm and the user.",
        ));
    };
    let mut secret = [0u8; 20];
    edge.entropy
        .fill(&mut secret)
        .map_err(|e| web::internal(&e))?;
    let provision = TotpProvision::new(&SecretBytes::new(secret.to_vec()), Algorithm::Sha1, 6, 30);
    let device_id = random_device_id(edge.entropy).map_err(|e| web::internal(&e))?;
    let command = PushCommand::Activate {
        lookup_key: lookup_hex(&activation.code),
        public_key: activation.public_key.to_base64url(),
        device_id,
        device_name: activation.device_name.clone(),
        platform: activation.platform.clone(),
        totp: TotpSeed {
            secret_base32: SecretString::from(provision.secret_base32.clone()),
            algorithm: "SHA1".to_owned(),
            digits: 6,
            period: 30,
        },
        now: cx.now,
    };
    let account = AccountKey::new(&realm, &username);
    match edge.stores.push(&account, command).await {
        Ok(PushReply::Activated { device_id }) => Ok(ActivationResponse {
            device_id,
            realm,
            username,
            totp: provision,
            edge_url: None,
        }),
        Ok(PushReply::Refused(refusal)) => Err(refusal_error(refusal, &edge.config.service_name)),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("activate"))),
        Err(error) => Err(web::internal(&error)),
    }
}

/// The account a signed device request names, from its `Authorization` header.
pub fn device_account(request: &Request) -> Result<(AccountKey, String), ApiError> {
    let header = web::header_str(request, header::AUTHORIZATION).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthorized,
            "A signed device request is required.",
        )
    })?;
    let signed = device_auth::parse_authorization(header).map_err(|error| {
        ApiError::new(
            ErrorCode::Unauthorized,
            &format!("The device request is malformed: {error}."),
        )
    })?;
    let claims = signed.claims();
    Ok((
        AccountKey::new(&claims.realm, &claims.username),
        header.to_owned(),
    ))
}

/// `GET /device/v1/pushes` without an upgrade: the pending pushes, as JSON.
pub async fn pushes<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let result = async {
        let (account, authorization) = device_account(request)?;
        let command = PushCommand::Pending {
            authorization,
            method: "GET".to_owned(),
            path: PUSHES_PATH.to_owned(),
            now: cx.now,
        };
        match edge.stores.push(&account, command).await {
            Ok(PushReply::Pending { pushes, .. }) => Ok(PendingPushes { pushes }),
            Ok(PushReply::Refused(refusal)) => {
                Err(refusal_error(refusal, &edge.config.service_name))
            }
            Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("pending"))),
            Err(error) => Err(web::internal(&error)),
        }
    }
    .await;
    match result {
        Ok(body) => web::json(200, &body),
        Err(error) => error.into_response(),
    }
}

/// What `POST /device/v1/approval` answers when the answer was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecorded {
    pub state: PushState,
}

pub async fn approval<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let result = async {
        let (account, authorization) = device_account(request)?;
        let approval: DeviceApproval = web::json_body(request)?;
        let command = PushCommand::Answer {
            authorization,
            path: APPROVAL_PATH.to_owned(),
            approval,
            settings: edge.config.push,
            now: cx.now,
        };
        match edge.stores.push(&account, command).await {
            Ok(PushReply::Answered {
                state: PushState::WrongCode,
                ..
            }) => Err(ApiError::new(
                ErrorCode::ApprovalRefused,
                "The code does not match the one shown in the browser. The request was refused.",
            )),
            Ok(PushReply::Answered { state, fraud }) => {
                notify(edge, fraud).await?;
                Ok(ApprovalRecorded { state })
            }
            Ok(PushReply::Refused(refusal)) => {
                Err(refusal_error(refusal, &edge.config.service_name))
            }
            Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("answer"))),
            Err(error) => Err(web::internal(&error)),
        }
    }
    .await;
    match result {
        Ok(body) => web::json(200, &body),
        Err(error) => error.into_response(),
    }
}

// ------------------------------------------------------------------ admin side

/// `POST /internal/v1/activation`: a fresh activation code for a user of a realm.
#[derive(Debug, Deserialize)]
pub struct IssueActivationRequest {
    pub realm: String,
    pub username: String,
    /// Seconds the code stays usable; the configured default when absent.
    #[serde(default)]
    pub lifetime_seconds: Option<i64>,
}

/// The code (shown once) and the link that carries it.
#[derive(Debug, Serialize, Deserialize)]
pub struct IssuedActivation {
    pub activation_code: String,
    pub activation_link: String,
    pub expires_at: i64,
}

pub async fn issue_activation<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let result = async {
        crate::admin::authorize(edge, request)?;
        let body: IssueActivationRequest = web::json_body(request)?;
        let plain = |text: &str| {
            !text.is_empty() && text.len() <= 256 && !text.chars().any(char::is_control)
        };
        if !plain(&body.realm) || !plain(&body.username) {
            return Err(ApiError::bad_request("Invalid realm or username."));
        }
        let lifetime = body
            .lifetime_seconds
            .unwrap_or(edge.config.push.activation_lifetime);
        if !(1..=30 * 24 * 3600).contains(&lifetime) {
            return Err(ApiError::bad_request(
                "lifetime_seconds must be 1 to 2592000.",
            ));
        }
        let mut random = [0u8; ACTIVATION_RANDOM_BYTES];
        edge.entropy
            .fill(&mut random)
            .map_err(|e| web::internal(&e))?;
        let code = ActivationCode::generate(&random);
        let expires_at = cx.now.saturating_add(lifetime);
        let command = PushCommand::IssueActivation {
            lookup_key: lookup_hex(&code),
            expires_at,
            now: cx.now,
        };
        let account = AccountKey::new(&body.realm, &body.username);
        match edge.stores.push(&account, command).await {
            Ok(PushReply::ActivationIssued) => {}
            Ok(_) => return Err(web::internal(&StoreError::UnexpectedReply("issue"))),
            Err(error) => return Err(web::internal(&error)),
        }
        let shown = code.to_display().expose_secret().to_owned();
        let query = serde_urlencoded::to_string([
            ("realm", body.realm.as_str()),
            ("username", body.username.as_str()),
            ("code", shown.as_str()),
        ])
        .map_err(|e| web::internal(&e))?;
        let origin = web::own_origin(request).unwrap_or_default();
        Ok(IssuedActivation {
            activation_code: shown,
            activation_link: format!("{origin}{ACTIVATE_PATH}?{query}"),
            expires_at,
        })
    }
    .await;
    match result {
        Ok(body) => web::json(200, &body),
        Err(error) => error.into_response(),
    }
}

/// `GET /internal/v1/notifications?realm=R`: the realm's fraud reports, oldest first.
pub async fn notifications<S: Stores>(edge: &Edge<'_, S>, request: &Request) -> Response {
    let result = async {
        crate::admin::authorize(edge, request)?;
        let realm = request
            .uri()
            .query()
            .and_then(web::form_pairs)
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == "realm")
                    .map(|(_, v)| v)
            })
            .filter(|realm| !realm.is_empty() && realm.len() <= 256)
            .ok_or_else(|| ApiError::bad_request("Name the realm: ?realm=NAME."))?;
        match edge.stores.outbox(&realm, OutboxCommand::List).await {
            Ok(OutboxReply::Reports { reports }) => {
                Ok(serde_json::json!({ "notifications": reports }))
            }
            Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("outbox list"))),
            Err(error) => Err(web::internal(&error)),
        }
    }
    .await;
    match result {
        Ok(body) => web::json(200, &body),
        Err(error) => error.into_response(),
    }
}

// ------------------------------------------------------------------ helpers

/// The user-facing error for a push refusal.
pub fn refusal_error(refusal: PushRefusal, service_name: &str) -> ApiError {
    match refusal {
        PushRefusal::Account(refusal) => prompt::refusal_error(refusal, service_name),
        PushRefusal::Muted { .. } => ApiError::new(
            ErrorCode::PushMuted,
            "Push requests to you are paused because one was reported as fraud. Use another method or contact your help desk.",
        ),
        PushRefusal::RateLimited { window_minutes } => ApiError::new(
            ErrorCode::RateLimited,
            &format!(
                "Too many push requests. Wait a few minutes (the limit is counted over {window_minutes} minutes) or use another method."
            ),
        ),
        PushRefusal::NoPushDevice => ApiError::new(
            ErrorCode::MethodUnavailable,
            "No activated device can receive push requests. Use another method.",
        ),
        PushRefusal::PlainNotAllowed => ApiError::new(
            ErrorCode::MethodUnavailable,
            "Plain push is not allowed here; use Verified Push.",
        ),
        PushRefusal::InvalidActivation => ApiError::new(
            ErrorCode::InvalidActivation,
            "This activation code is unknown, already used, expired or for another account.",
        ),
        PushRefusal::Unauthorized(detail) => {
            web::log(&format!("device request refused: {detail}"));
            ApiError::new(
                ErrorCode::Unauthorized,
                "The device could not be authenticated. Activate it again if this persists.",
            )
        }
        PushRefusal::TransactionNotFound => ApiError::new(
            ErrorCode::TransactionNotFound,
            "This push is no longer pending. Send another push.",
        ),
        PushRefusal::ApprovalRefused(detail) => ApiError::new(
            ErrorCode::ApprovalRefused,
            &format!("The answer was refused: {detail}."),
        ),
    }
}

/// `digits` random decimal digits, without modulo bias (bytes of 250 and above are
/// redrawn).
pub fn random_digits(entropy: &dyn Entropy, digits: u8) -> Result<String, StoreError> {
    let digits = usize::from(digits.clamp(3, 6));
    let mut out = String::with_capacity(digits);
    while out.len() < digits {
        let mut buf = [0u8; 16];
        entropy.fill(&mut buf)?;
        for byte in buf {
            if byte < 250 && out.len() < digits {
                out.push(char::from(b'0' + byte % 10));
            }
        }
    }
    Ok(out)
}

/// `DP` and 18 symbols of upper-case hex: a device id well within the approval format's
/// bound (`approval::MAX_DEVICE_ID_LEN`).
fn random_device_id(entropy: &dyn Entropy) -> Result<String, StoreError> {
    let mut bytes = [0u8; 9];
    entropy.fill(&mut bytes)?;
    let id: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    Ok(format!("DP{id}"))
}

fn lookup_hex(code: &ActivationCode) -> String {
    code.lookup_key()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::CountingEntropy;

    #[test]
    fn random_digits_have_the_length_asked() {
        let entropy = CountingEntropy::default();
        for digits in [3, 6] {
            let code = random_digits(&entropy, digits).unwrap();
            assert_eq!(code.len(), usize::from(digits));
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(random_digits(&entropy, 9).unwrap().len(), 6);
    }
}
