//! Internal administration: `POST /internal/v1/seed`, an idempotent upsert of a realm's
//! applications and users, used by `cargo xtask` to prepare the demo and tests. Guarded by
//! `Authorization: Bearer <TESSERA_ADMIN_TOKEN>`.

use http::header;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tessera_shared::SecretString;
use tessera_shared::duo;
use tessera_shared::v1::ErrorCode;

use crate::account::{AccountCommand, AccountKey, AccountReply, UserSeed, secret_string};
use crate::app::Edge;
use crate::directory::{AppRecord, DirectoryCommand, DirectoryReply};
use crate::store::{StoreError, Stores};
use crate::web::{self, ApiError, Request, Response};

pub const SEED_PATH: &str = "/internal/v1/seed";
const MAX_NAME_LEN: usize = 256;

#[derive(Debug, Deserialize)]
pub struct SeedRequest {
    pub realm: String,
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
}

impl std::fmt::Debug for ApplicationSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationSeed")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("origins", &self.origins)
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
    for app in body.applications {
        let record = AppRecord {
            client_id: app.client_id,
            realm: body.realm.clone(),
            client_secret: app.client_secret,
            name: app.name,
            origins: app.origins,
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
    }
    for user in &body.users {
        if !plain(&user.username) || user.username.len() > duo::MAX_USERNAME_LEN {
            return Err(bad("username"));
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
