//! Duo Web SDK v4 token rules, verifier side: the `request` JWT of `/oauth/v1/authorize`,
//! the `client_assertion` JWTs of `/oauth/v1/health_check` and `/oauth/v1/token`, and the
//! `id_token` the edge mints.
//!
//! Every official client must pass unmodified, so these functions accept the union of
//! their quirks (`PROTOCOL-DUO.md` §1): `exp` as integer, float or numeric string; `iss`
//! and `aud` absent from the request (Java); `aud` as `https://{host}` or the full
//! endpoint URL, as a string or an array; every spelling of `use_duo_code_attribute`.
//! The algorithm is pinned to HS512 by `jws`. What we emit is strict: integers only,
//! `aud` as a plain string, the exact key set.

use serde::Serialize;
use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::jws::{self, Hs512Key, JwsError};

/// Clock leeway for `exp`, as every official client allows on its side.
pub const LEEWAY_SECONDS: i64 = 60;
/// Duo's client ids are 20 characters and secrets 40; every SDK checks both lengths.
pub const CLIENT_ID_LEN: usize = 20;
pub const CLIENT_SECRET_LEN: usize = 40;
pub const STATE_MIN_LEN: usize = 16;
pub const STATE_MAX_LEN: usize = 1024;
pub const MAX_USERNAME_LEN: usize = 256;

/// Why a client's token was refused. The edge maps every variant to Duo's wire errors;
/// the detail is for logs.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    #[error(transparent)]
    Jws(#[from] JwsError),
    #[error("claim `{0}` is missing")]
    MissingClaim(&'static str),
    #[error("claim `{0}` has an invalid value")]
    InvalidClaim(&'static str),
    #[error("the token has expired")]
    Expired,
}

/// The verified content of an authorize `request` JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub username: String,
    /// From the JWT; the query's `nonce` (Python) is merged in by the caller.
    pub nonce: Option<String>,
    pub use_duo_code_attribute: bool,
    /// `jti`, when the client sent one (C#), so the verifier can refuse a replay.
    pub jti: Option<String>,
    /// `exp` as read (Unix seconds): how long a `jti` must be remembered.
    pub expires_at: i64,
}

/// Verifies the `request` parameter of `/oauth/v1/authorize` for the application whose
/// secret signed it. `host` is the API host as the client addressed it (the `Host` header).
pub fn verify_authorize_request(
    key: &Hs512Key,
    token: &str,
    client_id: &str,
    host: &str,
    now: i64,
) -> Result<AuthorizeRequest, TokenError> {
    let claims = jws::verify(key, token)?;
    let expires_at = check_exp(&claims, now)?;
    if required_str(&claims, "client_id")? != client_id {
        return Err(TokenError::InvalidClaim("client_id"));
    }
    if required_str(&claims, "response_type")? != "code" {
        return Err(TokenError::InvalidClaim("response_type"));
    }
    if let Some(aud) = claims.get("aud") {
        let accepted = [host_url(host, ""), host_url(host, "/oauth/v1/authorize")];
        if !audience_matches(aud, &accepted) {
            return Err(TokenError::InvalidClaim("aud"));
        }
    }
    if claims
        .get("iss")
        .is_some_and(|iss| iss.as_str() != Some(client_id))
    {
        return Err(TokenError::InvalidClaim("iss"));
    }
    let username = required_str(&claims, "duo_uname")?;
    if username.is_empty()
        || username.len() > MAX_USERNAME_LEN
        || username.chars().any(char::is_control)
    {
        return Err(TokenError::InvalidClaim("duo_uname"));
    }
    let state = required_str(&claims, "state")?;
    if !(STATE_MIN_LEN..=STATE_MAX_LEN).contains(&state.len()) {
        return Err(TokenError::InvalidClaim("state"));
    }
    let redirect_uri = required_str(&claims, "redirect_uri")?;
    if !(redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://")) {
        return Err(TokenError::InvalidClaim("redirect_uri"));
    }
    let nonce = match claims.get("nonce") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err(TokenError::InvalidClaim("nonce")),
    };
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state: state.to_owned(),
        username: username.to_owned(),
        nonce,
        use_duo_code_attribute: truthy(claims.get("use_duo_code_attribute")),
        jti: claims.get("jti").and_then(Value::as_str).map(str::to_owned),
        expires_at,
    })
}

/// The client id a client assertion claims to come from (`iss`, else `sub`), read
/// without verification so the caller can find the secret. Java sends no `client_id`
/// field to `/oauth/v1/token`.
pub fn assertion_client_id(token: &str) -> Option<String> {
    let claims = jws::peek_claims_unverified(token).ok()?;
    ["iss", "sub"]
        .iter()
        .find_map(|name| claims.get(*name).and_then(Value::as_str).map(str::to_owned))
}

/// The verified content of a client assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAssertion {
    pub client_id: String,
    pub jti: Option<String>,
    pub exp: i64,
}

/// Verifies a `client_assertion` for `path` (`/oauth/v1/token` or `/oauth/v1/health_check`):
/// `iss == sub == client_id` and `aud` naming this endpoint on `host`.
pub fn verify_client_assertion(
    key: &Hs512Key,
    token: &str,
    client_id: &str,
    host: &str,
    path: &str,
    now: i64,
) -> Result<ClientAssertion, TokenError> {
    let claims = jws::verify(key, token)?;
    let exp = check_exp(&claims, now)?;
    if required_str(&claims, "iss")? != client_id {
        return Err(TokenError::InvalidClaim("iss"));
    }
    if required_str(&claims, "sub")? != client_id {
        return Err(TokenError::InvalidClaim("sub"));
    }
    let aud = claims.get("aud").ok_or(TokenError::MissingClaim("aud"))?;
    if !audience_matches(aud, &[host_url(host, path)]) {
        return Err(TokenError::InvalidClaim("aud"));
    }
    let jti = claims.get("jti").and_then(Value::as_str).map(str::to_owned);
    Ok(ClientAssertion {
        client_id: client_id.to_owned(),
        jti,
        exp,
    })
}

/// What the edge knows about a completed authentication when it mints the `id_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenContent {
    pub client_id: String,
    pub application_name: String,
    pub username: String,
    pub nonce: Option<String>,
    pub factor: String,
    pub reason: String,
    pub auth_time: i64,
    pub txid: String,
    pub ip: Option<String>,
    pub country: Option<String>,
}

/// Lifetime of minted `id_token`s.
pub const ID_TOKEN_LIFETIME: i64 = 300;

/// Mints the HS512 `id_token` that Duo's clients expect (`PROTOCOL-DUO.md` §1.5).
pub fn mint_id_token(key: &Hs512Key, host: &str, content: &IdTokenContent, now: i64) -> String {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(host_url(host, "/oauth/v1/token")));
    claims.insert("aud".into(), json!(content.client_id));
    claims.insert("sub".into(), json!(content.username));
    claims.insert("exp".into(), json!(now + ID_TOKEN_LIFETIME));
    claims.insert("iat".into(), json!(now));
    claims.insert("auth_time".into(), json!(content.auth_time));
    claims.insert("preferred_username".into(), json!(content.username));
    if let Some(nonce) = &content.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    claims.insert(
        "auth_result".into(),
        json!({"result": "allow", "status": "allow", "status_msg": "Login Successful"}),
    );
    claims.insert("auth_context".into(), auth_context(content));
    jws::sign(key, &claims)
}

fn auth_context(c: &IdTokenContent) -> Value {
    let location =
        json!({"city": "", "country": c.country.clone().unwrap_or_default(), "state": ""});
    json!({
        "access_device": {
            "browser": null, "browser_version": null, "flash_version": "uninstalled",
            "hostname": null, "ip": c.ip, "is_encryption_enabled": "unknown",
            "is_firewall_enabled": "unknown", "is_password_set": "unknown",
            "java_version": "uninstalled", "location": location, "os": null,
            "os_version": null, "epkey": null
        },
        "alias": "",
        "application": {"key": c.client_id, "name": c.application_name},
        "auth_device": {"ip": null, "key": null, "location": {"city": "", "country": "", "state": ""}, "name": null},
        "email": "",
        "event_type": "authentication",
        "factor": c.factor,
        "isotimestamp": null,
        "ood_software": null,
        "reason": c.reason,
        "result": "success",
        "timestamp": c.auth_time,
        "trusted_endpoint_status": "unknown",
        "txid": c.txid,
        "user": {"groups": [], "key": null, "name": c.username}
    })
}

/// Duo's success body for `/oauth/v1/token`: exactly these four keys (Java's mapper
/// refuses unknown ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: String,
    pub token_type: String,
}

/// `https://{host}{path}`, the form every SDK builds (no scheme parsing, port kept).
pub fn host_url(host: &str, path: &str) -> String {
    format!("https://{host}{path}")
}

/// Reads `exp` as an integer, a float or a numeric string and refuses it when it is
/// more than the leeway in the past. No upper bound: Java asks for an hour.
fn check_exp(claims: &Map<String, Value>, now: i64) -> Result<i64, TokenError> {
    let exp = match claims.get("exp") {
        None => return Err(TokenError::MissingClaim("exp")),
        Some(value) => numeric_date(value).ok_or(TokenError::InvalidClaim("exp"))?,
    };
    if exp.saturating_add(LEEWAY_SECONDS) < now {
        return Err(TokenError::Expired);
    }
    Ok(exp)
}

fn numeric_date(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(float_seconds)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(float_seconds))
        }
        _ => None,
    }
}

#[allow(clippy::cast_possible_truncation)] // Range-checked just before the cast.
fn float_seconds(f: f64) -> Option<i64> {
    (f.is_finite() && (0.0..1e12).contains(&f)).then(|| f.floor() as i64)
}

fn required_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, TokenError> {
    match claims.get(name) {
        None | Some(Value::Null) => Err(TokenError::MissingClaim(name)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(TokenError::InvalidClaim(name)),
    }
}

/// `aud` as a string or an array of strings, compared against each accepted URL, also in
/// its explicit `:443` spelling (clients drop `:443` from `Host` but may keep it in `aud`).
fn audience_matches(aud: &Value, accepted: &[String]) -> bool {
    let matches_one = |candidate: &str| {
        accepted
            .iter()
            .any(|url| candidate == url || candidate.replacen(":443", "", 1) == *url)
    };
    match aud {
        Value::String(s) => matches_one(s),
        Value::Array(items) => items.iter().filter_map(Value::as_str).any(matches_one),
        _ => false,
    }
}

/// `true`, `"true"` and `"True"` are true; anything else, or absence, is false.
fn truthy(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(true)))
        || matches!(value.and_then(Value::as_str), Some("true" | "True"))
}

#[cfg(test)]
mod tests;
