//! OpenID Connect for standard clients: `GET /.well-known/openid-configuration`,
//! `GET /.well-known/jwks.json`, the admin's `POST /internal/v1/rotate-keys`, and the
//! EdDSA `id_token` minted for applications that chose it. The issuer is
//! `https://{host}` with the host the client used, like Duo's endpoints. Keys and replay
//! state live in the issuer object (`issuer`).

use http::header;
use serde::Deserialize;
use tessera_shared::oidc::{self, EdDsaSigningKey, IdTokenClaims, Jwks};
use tessera_shared::v1::ErrorCode;

use crate::app::{Edge, RequestContext};
use crate::issuer::{self, IssuerCommand, IssuerReply, MAX_OVERLAP, OVERLAP_PERIOD, StoredKey};
use crate::store::{StoreError, Stores};
use crate::web::{self, ApiError, Request, Response};

pub const DISCOVERY_PATH: &str = oidc::DISCOVERY_PATH;
pub const JWKS_PATH: &str = oidc::JWKS_PATH;
pub const ROTATE_PATH: &str = "/internal/v1/rotate-keys";
/// How long clients may cache the key set and the discovery document.
const JWKS_MAX_AGE: u32 = 300;
const DISCOVERY_MAX_AGE: u32 = 3600;

/// The issuer identifier for a request's host: `https://{host}`, no trailing slash.
pub fn issuer_url(host: &str) -> String {
    format!("https://{host}")
}

/// `GET /.well-known/openid-configuration`.
pub fn discovery(request: &Request) -> Response {
    let Some(host) = web::host(request) else {
        return ApiError::bad_request("The Host header is missing.").into_response();
    };
    let document = oidc::discovery_document(&issuer_url(&host));
    public_json(&document, DISCOVERY_MAX_AGE)
}

/// `GET /.well-known/jwks.json`: the current key first, then keys still in overlap.
pub async fn jwks<S: Stores>(edge: &Edge<'_, S>, cx: &RequestContext) -> Response {
    let result = async {
        let candidate = StoredKey::generate(edge.entropy, cx.now)?;
        let command = IssuerCommand::PublishedKeys {
            candidate,
            now: cx.now,
        };
        match edge.stores.issuer(command).await? {
            IssuerReply::PublishedKeys(keys) => Ok(Jwks { keys }),
            _ => Err(StoreError::UnexpectedReply("published_keys")),
        }
    }
    .await;
    match result {
        Ok(jwks) => public_json(&jwks, JWKS_MAX_AGE),
        Err(error) => web::internal(&error).into_response(),
    }
}

fn public_json<T: serde::Serialize>(value: &T, max_age: u32) -> Response {
    let mut response = web::json(200, value);
    let headers = response.headers_mut();
    web::set_header(
        headers,
        header::CACHE_CONTROL,
        &format!("public, max-age={max_age}"),
    );
    // Browser-based relying parties fetch these cross-origin; they hold nothing secret.
    web::set_header(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    response
}

/// The body of `POST /internal/v1/rotate-keys`; empty means the standard overlap.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Seconds the replaced keys stay published: 0 to a year, default 7 days.
    #[serde(default)]
    pub overlap_seconds: Option<i64>,
}

/// `POST /internal/v1/rotate-keys` (admin token): a new current key now; the replaced
/// keys leave the set after `overlap_seconds`.
pub async fn rotate<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let result = async {
        crate::admin::authorize(edge, request)?;
        let body: RotateRequest = if request.body().is_empty() {
            RotateRequest::default()
        } else {
            web::json_body(request)?
        };
        let overlap = body.overlap_seconds.unwrap_or(OVERLAP_PERIOD);
        if !(0..=MAX_OVERLAP).contains(&overlap) {
            return Err(ApiError::bad_request(
                "overlap_seconds must be between 0 and 31536000.",
            ));
        }
        let candidate = StoredKey::generate(edge.entropy, cx.now).map_err(|e| web::internal(&e))?;
        let command = IssuerCommand::Rotate {
            candidate,
            overlap,
            now: cx.now,
        };
        match edge.stores.issuer(command).await {
            Ok(IssuerReply::Rotated { current, retiring }) => Ok(serde_json::json!({
                "current": current,
                "retiring": retiring,
                "drop_at": cx.now.saturating_add(overlap),
            })),
            Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("rotate"))),
            Err(error) => Err(web::internal(&error)),
        }
    }
    .await;
    match result {
        Ok(body) => web::json(200, &body),
        Err(error) => error.into_response(),
    }
}

/// The current signing key, rotating first if it is due.
pub async fn signing_key<S: Stores>(
    edge: &Edge<'_, S>,
    now: i64,
) -> Result<EdDsaSigningKey, StoreError> {
    let candidate = StoredKey::generate(edge.entropy, now)?;
    match edge
        .stores
        .issuer(IssuerCommand::SigningKey { candidate, now })
        .await?
    {
        IssuerReply::SigningKey(key) => key.signing_key(),
        _ => Err(StoreError::UnexpectedReply("signing_key")),
    }
}

/// What went into an EdDSA `id_token`.
#[derive(Debug, Clone)]
pub struct EdDsaGrant<'a> {
    pub host: &'a str,
    pub client_id: &'a str,
    pub username: &'a str,
    pub nonce: Option<&'a str>,
    pub factor: &'a str,
    pub auth_time: i64,
}

/// Mints an EdDSA `id_token` with the current key: `iss` `https://{host}`, `aud` the
/// client id, `sub` and `preferred_username` the username, `nonce` echoed, `amr` from
/// the factor (RFC 8176).
pub async fn mint_id_token<S: Stores>(
    edge: &Edge<'_, S>,
    grant: &EdDsaGrant<'_>,
    now: i64,
) -> Result<String, StoreError> {
    let key = signing_key(edge, now).await?;
    let claims = IdTokenClaims {
        subject: grant.username.to_owned(),
        auth_time: grant.auth_time,
        nonce: grant.nonce.map(str::to_owned),
        preferred_username: Some(grant.username.to_owned()),
        amr: amr(grant.factor),
    };
    Ok(oidc::mint_eddsa_id_token(
        &key,
        &issuer_url(grant.host),
        grant.client_id,
        &claims,
        now,
    ))
}

/// RFC 8176 methods for a Duo factor name: always `mfa` (the edge is the second factor),
/// plus how it was done.
pub fn amr(factor: &str) -> Vec<String> {
    let how = match factor {
        "duo_mobile_passcode" | "hardware_token" | "yubikey_code" | "bypass_code" => Some("otp"),
        "sms_passcode" => Some("sms"),
        "phone_call" => Some("tel"),
        "webauthn_credential" => Some("hwk"),
        "duo_push" | "verified_duo_push" => Some("swk"),
        _ => None,
    };
    std::iter::once("mfa")
        .chain(how)
        .map(str::to_owned)
        .collect()
}

/// Records a `jti` in `scope` until `expires_at` (plus leeway). `Ok(false)` when it was
/// already recorded: a replay.
pub async fn record_jti<S: Stores>(
    stores: &S,
    scope: String,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let command = IssuerCommand::RecordJti {
        scope,
        jti: jti.to_owned(),
        expires_at: expires_at.saturating_add(issuer::JTI_LEEWAY),
        now,
    };
    match stores.issuer(command).await? {
        IssuerReply::Jti { fresh } => Ok(fresh),
        _ => Err(StoreError::UnexpectedReply("record_jti")),
    }
}

/// Whether a `jti` is already recorded in `scope`, without recording it.
pub async fn jti_seen<S: Stores>(
    stores: &S,
    scope: String,
    jti: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let command = IssuerCommand::JtiSeen {
        scope,
        jti: jti.to_owned(),
        now,
    };
    match stores.issuer(command).await? {
        IssuerReply::Jti { fresh } => Ok(!fresh),
        _ => Err(StoreError::UnexpectedReply("jti_seen")),
    }
}

/// The error for a request JWT whose `jti` was already used.
pub fn request_replayed() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidRequest,
        "This sign-in request was already used. Go back to the application and try again.",
    )
}

/// The longest `jti` stored; longer ones are refused as malformed.
pub const MAX_JTI_LEN: usize = 256;
