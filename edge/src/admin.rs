//! Internal administration until the Admin API exists: `POST /internal/v1/seed`, an
//! idempotent upsert of a realm's global policy, applications (with branding and policy)
//! and users (with status), used by `cargo xtask` to prepare the demo and tests; and
//! `GET /internal/v1/audit?realm=&username=`, one user's newest audit rows; and
//! `/internal/v1/bypass_codes`, issuing (`POST`) and listing (`GET`) a user's bypass
//! codes. Guarded by `Authorization: Bearer <TESSERA_ADMIN_TOKEN>`.

use http::header;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_shared::SecretString;
use tessera_shared::bypass::{self, BypassCode, StoredBypassCode};
use tessera_shared::duo;
use tessera_shared::policy::Policy;
use tessera_shared::v1::admin::{
    BypassCodeInfo, BypassCodeOrder, BypassCodeSource, CreateBypassCodesParams, IssuedBypassCodes,
    Param,
};
use tessera_shared::v1::{ErrorCode, PolicyConfig};

use crate::account::{
    AccountCommand, AccountKey, AccountReply, AuditEvent, BypassCodeRecord, UserSeed, UserStatus,
    secret_string,
};
use crate::app::{Edge, RequestContext};
use crate::directory::{
    AppRecord, AppSettings, Branding, DirectoryCommand, DirectoryReply, IdTokenFormat,
};
use crate::store::{StoreError, Stores};
use crate::web::{self, ApiError, Request, Response};

pub const SEED_PATH: &str = "/internal/v1/seed";
pub const AUDIT_PATH: &str = "/internal/v1/audit";
pub const BYPASS_CODES_PATH: &str = "/internal/v1/bypass_codes";
/// Audit rows returned by one read.
const AUDIT_LIMIT: u32 = 200;
const MAX_URL_LEN: usize = 2048;
const MAX_NAME_LEN: usize = 256;

#[derive(Debug, Deserialize)]
pub struct SeedRequest {
    pub realm: String,
    /// The realm's global policy; absent leaves the stored one as it is.
    #[serde(default)]
    pub policy: Option<PolicyConfig>,
    #[serde(default)]
    pub applications: Vec<ApplicationSeed>,
    #[serde(default)]
    pub users: Vec<UserSeed>,
}

#[derive(Deserialize)]
pub struct ApplicationSeed {
    pub client_id: String,
    #[serde(with = "secret_string")]
    pub client_secret: SecretString,
    pub name: String,
    #[serde(default)]
    pub origins: Vec<String>,
    /// Replaced as a whole with every seed of the application (absent: none).
    #[serde(default)]
    pub branding: Branding,
    /// The application's policy level, replaced as a whole (absent: nothing set).
    #[serde(default)]
    pub policy: PolicyConfig,
    /// `"hs512"` (Duo's, the default) or `"eddsa"`.
    #[serde(default)]
    pub id_token_format: IdTokenFormat,
}

impl std::fmt::Debug for ApplicationSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationSeed")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("origins", &self.origins)
            .field("id_token_format", &self.id_token_format)
            .finish_non_exhaustive()
    }
}

pub async fn seed<S: Stores>(edge: &Edge<'_, S>, request: &Request) -> Response {
    match seed_flow(edge, request).await {
        Ok(()) => web::json(200, &serde_json::json!({"status": "ok"})),
        Err(error) => error.into_response(),
    }
}

async fn seed_flow<S: Stores>(edge: &Edge<'_, S>, request: &Request) -> Result<(), ApiError> {
    authorize(edge, request)?;
    let body: SeedRequest = web::json_body(request)?;
    validate(&body)?;
    if let Some(policy) = body.policy {
        let command = DirectoryCommand::PutRealmPolicy {
            realm: body.realm.clone(),
            policy,
        };
        stored(edge, command, "put_realm_policy").await?;
    }
    for app in body.applications {
        let settings = DirectoryCommand::PutAppSettings {
            realm: body.realm.clone(),
            client_id: app.client_id.clone(),
            settings: AppSettings {
                branding: app.branding,
                policy: app.policy,
            },
        };
        let record = AppRecord {
            client_id: app.client_id,
            realm: body.realm.clone(),
            client_secret: app.client_secret,
            name: app.name,
            origins: app.origins,
            id_token_format: app.id_token_format,
        };
        match edge
            .stores
            .directory(DirectoryCommand::PutApplication { app: record })
            .await
        {
            Ok(DirectoryReply::Stored) => {}
            Ok(_) => {
                return Err(web::internal(&StoreError::UnexpectedReply(
                    "put_application",
                )));
            }
            Err(error) => return Err(web::internal(&error)),
        }
        stored(edge, settings, "put_app_settings").await?;
    }
    for user in body.users {
        let key = AccountKey::new(&body.realm, &user.username);
        match edge
            .stores
            .account(&key, AccountCommand::Seed { user })
            .await
        {
            Ok(AccountReply::Seeded) => {}
            Ok(_) => return Err(web::internal(&StoreError::UnexpectedReply("seed"))),
            Err(error) => return Err(web::internal(&error)),
        }
    }
    Ok(())
}

async fn stored<S: Stores>(
    edge: &Edge<'_, S>,
    command: DirectoryCommand,
    what: &'static str,
) -> Result<(), ApiError> {
    match edge.stores.directory(command).await {
        Ok(DirectoryReply::Stored) => Ok(()),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply(what))),
        Err(error) => Err(web::internal(&error)),
    }
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    realm: String,
    username: String,
}

/// `GET /internal/v1/audit?realm=&username=`: `{"events": [...]}`, newest first.
pub async fn audit<S: Stores>(edge: &Edge<'_, S>, request: &Request) -> Response {
    match audit_flow(edge, request).await {
        Ok(events) => web::json(200, &serde_json::json!({ "events": events })),
        Err(error) => error.into_response(),
    }
}

async fn audit_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
) -> Result<Vec<AuditEvent>, ApiError> {
    authorize(edge, request)?;
    let query: AuditQuery = serde_urlencoded::from_str(request.uri().query().unwrap_or_default())
        .map_err(|_| ApiError::bad_request("Give realm and username."))?;
    let key = AccountKey::new(&query.realm, &query.username);
    let command = AccountCommand::Audit { limit: AUDIT_LIMIT };
    match edge.stores.account(&key, command).await {
        Ok(AccountReply::Audit(events)) => Ok(events),
        Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("audit"))),
        Err(error) => Err(web::internal(&error)),
    }
}

/// `POST /internal/v1/bypass_codes`: a user and Duo's parameters
/// (`CreateBypassCodesParams`: strings, numbers or booleans, as Duo's Admin API takes them).
#[derive(Deserialize)]
struct IssueBypassCodesRequest {
    realm: String,
    username: String,
    #[serde(default)]
    count: Option<Param>,
    #[serde(default)]
    codes: Option<Param>,
    #[serde(default)]
    reuse_count: Option<Param>,
    #[serde(default)]
    valid_secs: Option<Param>,
    #[serde(default)]
    preserve_existing: Option<Param>,
}

/// What an issue answers: the new codes in clear (shown this once) and their list entries,
/// in the same order.
#[derive(Debug, serde::Serialize)]
struct IssuedCodes {
    codes: IssuedBypassCodes,
    bypass_codes: Vec<BypassCodeInfo>,
}

/// `POST /internal/v1/bypass_codes`: draws (or takes the given) codes, hashes them here
/// with the pepper and a fresh salt each, and sends only the hashes to the user's account
/// object. Answers `{"codes": [...], "bypass_codes": [...]}`.
pub async fn issue_bypass_codes<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    match issue_bypass_codes_flow(edge, request, cx).await {
        Ok(issued) => web::json(200, &issued),
        Err(error) => error.into_response(),
    }
}

async fn issue_bypass_codes_flow<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Result<IssuedCodes, ApiError> {
    authorize(edge, request)?;
    let body: IssueBypassCodesRequest = web::json_body(request)?;
    let key = user_key(&body.realm, &body.username)?;
    let params = CreateBypassCodesParams {
        count: body.count,
        codes: body.codes,
        reuse_count: body.reuse_count,
        valid_secs: body.valid_secs,
        preserve_existing: body.preserve_existing,
    };
    let order = BypassCodeOrder::try_from(&params)
        .map_err(|error| ApiError::bad_request(&format!("Invalid bypass codes: {error}.")))?;
    let pepper =
        edge.config.bypass_pepper.as_ref().ok_or_else(|| {
            web::internal(&"TESSERA_STORAGE_KEY is not set: no bypass-code pepper")
        })?;
    let expires_at = order.expires_at(cx.now);
    let codes = match order.source {
        BypassCodeSource::Generate(count) => (0..count)
            .map(|_| draw_code(edge))
            .collect::<Result<Vec<_>, _>>()?,
        BypassCodeSource::Given(codes) => codes,
    };
    let mut records = Vec::with_capacity(codes.len());
    for code in &codes {
        let mut salt = [0u8; bypass::SALT_BYTES];
        edge.entropy
            .fill(&mut salt)
            .map_err(|e| web::internal(&e))?;
        let stored = StoredBypassCode::new(code, salt, pepper, order.uses, expires_at)
            .map_err(|e| web::internal(&e))?;
        let id = random_code_id(edge)?;
        records.push(BypassCodeRecord::new(id, &stored, cx.now));
    }
    let command = AccountCommand::IssueBypassCodes {
        codes: records,
        preserve_existing: order.preserve_existing,
        now: cx.now,
    };
    let infos = match edge.stores.account(&key, command).await {
        Ok(AccountReply::BypassCodes(infos)) => infos,
        Ok(AccountReply::BypassCodeLimit { limit }) => {
            return Err(ApiError::bad_request(&format!(
                "A user holds at most {limit} live bypass codes: issue fewer, or replace the existing ones (preserve_existing false)."
            )));
        }
        Ok(AccountReply::UnknownUser) => return Err(unknown_user()),
        Ok(_) => return Err(web::internal(&StoreError::UnexpectedReply("issue_bypass"))),
        Err(error) => return Err(web::internal(&error)),
    };
    Ok(IssuedCodes {
        codes: IssuedBypassCodes(
            codes
                .iter()
                .map(|code| code.expose_secret().to_owned())
                .collect(),
        ),
        bypass_codes: infos,
    })
}

/// One uniformly drawn code (a rejected draw, likelier than not never, is drawn again).
fn draw_code<S>(edge: &Edge<'_, S>) -> Result<BypassCode, ApiError> {
    let mut random = [0u8; bypass::RANDOM_BYTES];
    for _ in 0..4 {
        edge.entropy
            .fill(&mut random)
            .map_err(|e| web::internal(&e))?;
        if let Ok(code) = bypass::generate(&random) {
            return Ok(code);
        }
    }
    Err(web::internal(&"bypass-code draws kept failing"))
}

/// `DB` and 18 random hex digits, shaped like Duo's ids.
fn random_code_id<S>(edge: &Edge<'_, S>) -> Result<String, ApiError> {
    let mut bytes = [0u8; 9];
    edge.entropy
        .fill(&mut bytes)
        .map_err(|e| web::internal(&e))?;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02X}")).collect();
    Ok(format!("DB{hex}"))
}

/// `GET /internal/v1/bypass_codes?realm=&username=`: `{"bypass_codes": [...]}`, the live
/// codes in issue order, without the codes.
pub async fn bypass_codes<S: Stores>(
    edge: &Edge<'_, S>,
    request: &Request,
    cx: &RequestContext,
) -> Response {
    let result = async {
        authorize(edge, request)?;
        let query: AuditQuery =
            serde_urlencoded::from_str(request.uri().query().unwrap_or_default())
                .map_err(|_| ApiError::bad_request("Give realm and username."))?;
        let key = user_key(&query.realm, &query.username)?;
        let command = AccountCommand::BypassCodes { now: cx.now };
        match edge.stores.account(&key, command).await {
            Ok(AccountReply::BypassCodes(infos)) => Ok(infos),
            Ok(AccountReply::UnknownUser) => Err(unknown_user()),
            Ok(_) => Err(web::internal(&StoreError::UnexpectedReply("bypass_codes"))),
            Err(error) => Err(web::internal(&error)),
        }
    }
    .await;
    match result {
        Ok(infos) => web::json(200, &serde_json::json!({ "bypass_codes": infos })),
        Err(error) => error.into_response(),
    }
}

/// The account of a realm and username as an admin request names them.
fn user_key(realm: &str, username: &str) -> Result<AccountKey, ApiError> {
    let plain = |text: &str| {
        !text.is_empty() && text.len() <= MAX_NAME_LEN && !text.chars().any(char::is_control)
    };
    if !plain(realm) || !plain(username) || username.len() > duo::MAX_USERNAME_LEN {
        return Err(ApiError::bad_request("Invalid realm or username."));
    }
    Ok(AccountKey::new(realm, username))
}

fn unknown_user() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "There is no such user in this realm.")
}

/// Compares the bearer token with `TESSERA_ADMIN_TOKEN` in constant time (over SHA-256
/// digests, so the lengths do not leak either). No configured token means no access.
pub(crate) fn authorize<S>(edge: &Edge<'_, S>, request: &Request) -> Result<(), ApiError> {
    let unauthorized =
        || ApiError::new(ErrorCode::Unauthorized, "A valid admin token is required.");
    let expected = edge
        .config
        .admin_token
        .as_ref()
        .filter(|token| !token.expose_secret().is_empty())
        .ok_or_else(unauthorized)?;
    let presented = web::header_str(request, header::AUTHORIZATION)
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let expected = Sha256::digest(expected.expose_secret().as_bytes());
    let presented = Sha256::digest(presented.trim().as_bytes());
    if bool::from(expected.ct_eq(&presented)) {
        Ok(())
    } else {
        Err(unauthorized())
    }
}

fn validate(body: &SeedRequest) -> Result<(), ApiError> {
    let bad = |what: &str| ApiError::bad_request(&format!("Invalid seed: {what}."));
    let plain = |text: &str| {
        !text.is_empty() && text.len() <= MAX_NAME_LEN && !text.chars().any(char::is_control)
    };
    if !plain(&body.realm) {
        return Err(bad("realm"));
    }
    if let Some(policy) = &body.policy {
        check_policy(policy).map_err(|error| bad(&format!("realm policy: {error}")))?;
    }
    for app in &body.applications {
        let alphanumeric = |text: &str| text.bytes().all(|b| b.is_ascii_alphanumeric());
        if app.client_id.len() != duo::CLIENT_ID_LEN || !alphanumeric(&app.client_id) {
            return Err(bad("client_id must be 20 letters or digits"));
        }
        if app.client_secret.expose_secret().len() != duo::CLIENT_SECRET_LEN
            || !alphanumeric(app.client_secret.expose_secret())
        {
            return Err(bad("client_secret must be 40 letters or digits"));
        }
        if !plain(&app.name) {
            return Err(bad("application name"));
        }
        let origin_ok = |o: &String| {
            (o.starts_with("https://") || o.starts_with("http://")) && !o.ends_with('/')
        };
        if !app.origins.iter().all(origin_ok) {
            return Err(bad("origins are scheme://host[:port], without a path"));
        }
        check_policy(&app.policy)
            .map_err(|error| bad(&format!("policy of {}: {error}", app.client_id)))?;
        check_branding(&app.branding).map_err(|error| bad(&error))?;
    }
    for user in &body.users {
        if !plain(&user.username) || user.username.len() > duo::MAX_USERNAME_LEN {
            return Err(bad("username"));
        }
        if user
            .status
            .as_deref()
            .is_some_and(|status| UserStatus::parse(status).is_none())
        {
            return Err(bad("status is active, bypass or disabled"));
        }
        for device in &user.devices {
            if !plain(&device.id) || !plain(&device.name) {
                return Err(bad("device id or name"));
            }
            if device.totp.digits != 6 || device.totp.totp().is_err() {
                return Err(bad(
                    "totp must be a valid base32 secret, SHA1/SHA256/SHA512, 6 digits",
                ));
            }
        }
    }
    Ok(())
}

fn check_policy(policy: &PolicyConfig) -> Result<(), String> {
    Policy::try_from(policy.clone())
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// Links are absolute `https://` URLs (or `http://` for local development) and the accent
/// colour is `#rgb` or `#rrggbb`: the prompt puts them into attributes and styles.
fn check_branding(branding: &Branding) -> Result<(), String> {
    let urls = [
        ("logo_url", &branding.logo_url),
        ("help_url", &branding.help_url),
        ("manage_devices_url", &branding.manage_devices_url),
    ];
    for (name, url) in urls {
        if let Some(url) = url {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            let clean = url.len() <= MAX_URL_LEN
                && !url
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'));
            if !scheme_ok || !clean {
                return Err(format!("{name} must be an http(s) URL"));
            }
        }
    }
    if let Some(color) = &branding.accent_color {
        let hex = color.strip_prefix('#').unwrap_or_default();
        if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("accent_color must be #rgb or #rrggbb".to_owned());
        }
    }
    Ok(())
}
