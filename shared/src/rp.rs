//! The relying-party side of the Duo Web SDK v4 protocol, for Rust backends: build the
//! authorize `request`, sign client assertions, and verify the `id_token` returned by
//! `/oauth/v1/token`. It does what the official SDKs do, so the edge's tests against it
//! and against them agree.

use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::duo::{self, LEEWAY_SECONDS, host_url};
use crate::jws::{self, Hs512Key, JwsError};

/// A relying application's Duo-style credentials and the API host it talks to.
#[derive(Clone, Debug)]
pub struct Client {
    pub client_id: String,
    key: Hs512Key,
    /// As the SDKs take it: `name`, `name:port` or `ip:port`, never a scheme.
    pub api_host: String,
    pub redirect_uri: String,
}

/// Why an `id_token` was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenError {
    #[error(transparent)]
    Jws(#[from] JwsError),
    #[error("claim `{0}` is missing or has the wrong type")]
    MissingClaim(&'static str),
    #[error("claim `{0}` does not match")]
    Mismatch(&'static str),
    #[error("the token has expired")]
    Expired,
    #[error("the authentication result is not allow")]
    NotAllowed,
}

/// The parts of a verified `id_token` an application acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdToken {
    pub username: String,
    pub factor: String,
    pub auth_time: i64,
    pub txid: String,
    pub claims: Map<String, Value>,
}

impl Client {
    pub fn new(client_id: &str, client_secret: &str, api_host: &str, redirect_uri: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            key: Hs512Key::from_secret_str(client_secret),
            api_host: api_host.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        }
    }

    /// The `request` JWT for `/oauth/v1/authorize`, shaped as Python and Node make it.
    pub fn authorize_request(&self, username: &str, state: &str, now: i64) -> String {
        let claims = json!({
            "scope": "openid",
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "iss": self.client_id,
            "aud": host_url(&self.api_host, ""),
            "exp": now + 300,
            "state": state,
            "response_type": "code",
            "duo_uname": username,
            "use_duo_code_attribute": true,
        });
        jws::sign(&self.key, &as_object(claims))
    }

    /// The full authorize URL for hosted (redirect) mode.
    pub fn authorize_url(&self, request: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("request", request),
        ])
        .unwrap_or_default();
        format!(
            "{}?{query}",
            host_url(&self.api_host, "/oauth/v1/authorize")
        )
    }

    /// A `client_assertion` for `path` with a caller-chosen unique `jti`.
    pub fn client_assertion(&self, path: &str, jti: &str, now: i64) -> String {
        let claims = json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": host_url(&self.api_host, path),
            "exp": now + 300,
            "jti": jti,
            "iat": now,
        });
        jws::sign(&self.key, &as_object(claims))
    }

    /// The form fields of the code exchange at `/oauth/v1/token`.
    pub fn token_form(&self, code: &str, jti: &str, now: i64) -> Vec<(&'static str, String)> {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("client_id", self.client_id.clone()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            (
                "client_assertion",
                self.client_assertion("/oauth/v1/token", jti, now),
            ),
        ]
    }

    /// Verifies an `id_token` as the official SDKs do: HS512 only, 60 s leeway, exact
    /// `iss`, `aud` equal to our client id, `exp` and `iat` present, `preferred_username`
    /// equal to the user we sent, and the nonce when we sent one. Unlike the SDKs it also
    /// requires `auth_result.result == "allow"`.
    pub fn verify_id_token(
        &self,
        token: &str,
        username: &str,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<VerifiedIdToken, IdTokenError> {
        let claims = jws::verify(&self.key, token)?;
        let document = Value::Object(claims);
        let claims = match &document {
            Value::Object(map) => map,
            _ => return Err(IdTokenError::MissingClaim("claims")),
        };
        let int = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_i64)
                .ok_or(IdTokenError::MissingClaim(name))
        };
        let string = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .ok_or(IdTokenError::MissingClaim(name))
        };
        if int("exp")?.saturating_add(LEEWAY_SECONDS) < now {
            return Err(IdTokenError::Expired);
        }
        if int("iat")? > now.saturating_add(LEEWAY_SECONDS) {
            return Err(IdTokenError::Mismatch("iat"));
        }
        if string("iss")? != host_url(&self.api_host, "/oauth/v1/token") {
            return Err(IdTokenError::Mismatch("iss"));
        }
        if string("aud")? != self.client_id {
            return Err(IdTokenError::Mismatch("aud"));
        }
        if string("preferred_username")? != username {
            return Err(IdTokenError::Mismatch("preferred_username"));
        }
        if let Some(expected) = nonce
            && string("nonce")? != expected
        {
            return Err(IdTokenError::Mismatch("nonce"));
        }
        let result = document
            .pointer("/auth_result/result")
            .and_then(Value::as_str);
        if result != Some("allow") {
            return Err(IdTokenError::NotAllowed);
        }
        let context = |pointer: &str| {
            document
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(VerifiedIdToken {
            username: username.to_owned(),
            factor: context("/auth_context/factor")
                .ok_or(IdTokenError::MissingClaim("auth_context"))?,
            txid: context("/auth_context/txid").unwrap_or_default(),
            auth_time: int("auth_time")?,
            claims: claims.clone(),
        })
    }
}

fn as_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Re-exported so a relying backend needs only this module.
pub use duo::TokenResponse;
