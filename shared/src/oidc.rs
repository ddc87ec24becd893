//! OpenID Connect for standard clients: EdDSA (Ed25519) `id_token`s, the JSON Web Key Set
//! that publishes their keys, and the discovery document.
//!
//! Duo-compatible applications keep HS512 `id_token`s signed with their client secret
//! (`duo`); a standard OIDC client instead verifies an EdDSA token with a public key from
//! `/.well-known/jwks.json`. Keys carry a `kid`; the set lists the current key and the
//! previous one while tokens signed with it may still be in flight, so keys rotate without
//! a flag day.
//!
//! The verifier pins the algorithm to `EdDSA`: a token naming any other (`none`, `HS512`
//! with a public key as the secret, …) is refused before a key is looked at. It shares
//! `jws`'s splitting (length cap, three non-empty parts) and refuses `crit`. [`Jwks`],
//! [`Jwk`] and [`DiscoveryDocument`] are the standards' fixed shapes (RFC 7517, RFC 8037,
//! OpenID Connect Discovery 1.0) and so derive `Serialize`, like Duo's shapes in `duo`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq as _;
use thiserror::Error;
use zeroize::ZeroizeOnDrop;

use crate::ed25519;
use crate::jws::{self, JwsError};

/// Where the discovery document and the key set are served.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// How long a minted `id_token` is valid.
pub const ID_TOKEN_LIFETIME_SECONDS: i64 = 300;
/// Clock leeway for `exp` and `iat` when verifying.
pub const LEEWAY_SECONDS: i64 = 60;
/// `kid`s are 1 to this many printable ASCII characters.
pub const MAX_KID_LEN: usize = 64;

/// Why a key (ours, or one from a key set) was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OidcKeyError {
    #[error("the seed is all zeros")]
    ZeroSeed,
    #[error("the key id is empty, too long or not printable ASCII")]
    InvalidKid,
    #[error("the key is not an Ed25519 signing key for EdDSA")]
    NotEd25519,
    #[error("the key's `x` is not base64url of 32 bytes")]
    Malformed,
    #[error("the key is not a usable Ed25519 point")]
    WeakOrInvalid,
}

/// Why an EdDSA `id_token` was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OidcTokenError {
    /// Not a compact JWS of three base64url JSON parts, or too long.
    #[error(transparent)]
    Jws(#[from] JwsError),
    #[error("the token's algorithm is not EdDSA")]
    WrongAlgorithm,
    #[error("the token's header has unsupported critical extensions")]
    UnsupportedCritical,
    #[error("the token's `typ` is not JWT")]
    WrongType,
    #[error("the token's header names no key id")]
    MissingKeyId,
    #[error("no EdDSA key in the key set has the token's key id")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("claim `{0}` is missing or has the wrong type")]
    MissingClaim(&'static str),
    #[error("claim `{0}` does not match")]
    Mismatch(&'static str),
    #[error("the token has expired")]
    Expired,
    #[error("the token is issued in the future")]
    IssuedInTheFuture,
}

/// The issuer's Ed25519 signing key with its key id. Redacted from `Debug`, wiped on drop,
/// never serialized.
pub struct EdDsaSigningKey {
    kid: String,
    pair: ed25519::KeyPair,
}

impl EdDsaSigningKey {
    /// The key for `seed` (32 random bytes from the caller's random source).
    pub fn from_seed(kid: &str, seed: [u8; 32]) -> Result<Self, OidcKeyError> {
        check_kid(kid)?;
        let pair = ed25519::KeyPair::from_seed(seed).ok_or(OidcKeyError::ZeroSeed)?;
        Ok(Self {
            kid: kid.to_owned(),
            pair,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_key(&self) -> EdDsaPublicKey {
        EdDsaPublicKey {
            kid: self.kid.clone(),
            key: self.pair.public_key(),
        }
    }
}

impl fmt::Debug for EdDsaSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdDsaSigningKey")
            .field("kid", &self.kid)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

// The secret half wipes itself on drop (see `ed25519::KeyPair`).
impl ZeroizeOnDrop for EdDsaSigningKey {}

/// A public verification key and its key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdDsaPublicKey {
    kid: String,
    key: [u8; 32],
}

impl EdDsaPublicKey {
    /// Accepts only a canonical point of large order.
    pub fn new(kid: &str, key: [u8; 32]) -> Result<Self, OidcKeyError> {
        check_kid(kid)?;
        if !ed25519::is_valid_public_key(&key) {
            return Err(OidcKeyError::WeakOrInvalid);
        }
        Ok(Self {
            kid: kid.to_owned(),
            key,
        })
    }

    /// Reads an `OKP`/`Ed25519` JWK. `use` and `alg`, when present, must be `sig` and
    /// `EdDSA`, so a key published for something else is never used to verify tokens.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, OidcKeyError> {
        let is_ed25519 = jwk.kty == "OKP"
            && jwk.crv.as_deref() == Some("Ed25519")
            && jwk.use_.as_deref().is_none_or(|u| u == "sig")
            && jwk.alg.as_deref().is_none_or(|a| a == "EdDSA");
        if !is_ed25519 {
            return Err(OidcKeyError::NotEd25519);
        }
        let kid = jwk.kid.as_deref().ok_or(OidcKeyError::InvalidKid)?;
        let x = jwk.x.as_deref().ok_or(OidcKeyError::Malformed)?;
        let key = URL_SAFE_NO_PAD
            .decode(x)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or(OidcKeyError::Malformed)?;
        Self::new(kid, key)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            x: Some(URL_SAFE_NO_PAD.encode(self.key)),
            kid: Some(self.kid.clone()),
            use_: Some("sig".into()),
            alg: Some("EdDSA".into()),
        }
    }
}

/// A JSON Web Key Set (RFC 7517 §5), as served at [`JWKS_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The set for `keys`, current key first, then the previous ones still in overlap.
    pub fn new(keys: &[EdDsaPublicKey]) -> Self {
        Self {
            keys: keys.iter().map(EdDsaPublicKey::to_jwk).collect(),
        }
    }

    /// The usable EdDSA key with `kid`, if any. Keys of other types are skipped, so a set
    /// that also lists RSA or EC keys still parses.
    pub fn find(&self, kid: &str) -> Option<EdDsaPublicKey> {
        self.keys
            .iter()
            .filter(|jwk| jwk.kid.as_deref() == Some(kid))
            .find_map(|jwk| EdDsaPublicKey::from_jwk(jwk).ok())
    }
}

/// One JSON Web Key. Only `OKP`/`Ed25519` keys (RFC 8037) are used; the other members are
/// optional so a set with other key types still parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// base64url of the 32-byte public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// What an `id_token` says about the sign-in, beside the issuer, audience and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// `sub`: the user's stable identifier at this issuer.
    pub subject: String,
    /// `auth_time`: Unix seconds when the user completed authentication.
    pub auth_time: i64,
    /// `nonce` from the authentication request, echoed unchanged.
    pub nonce: Option<String>,
    pub preferred_username: Option<String>,
    /// `amr` (RFC 8176 values such as `otp`, `hwk`, `mfa`); omitted when empty.
    pub amr: Vec<String>,
}

/// Mints an `id_token` for `audience` (the client id), valid from `now` for
/// [`ID_TOKEN_LIFETIME_SECONDS`], as `{"alg":"EdDSA","typ":"JWT","kid":…}` compact JWS.
pub fn mint_eddsa_id_token(
    key: &EdDsaSigningKey,
    issuer: &str,
    audience: &str,
    claims: &IdTokenClaims,
    now: i64,
) -> String {
    // `json!` of an object literal is always an object.
    let mut map = match json!({
        "iss": issuer,
        "sub": claims.subject,
        "aud": audience,
        "exp": now.saturating_add(ID_TOKEN_LIFETIME_SECONDS),
        "iat": now,
        "auth_time": claims.auth_time,
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(nonce) = &claims.nonce {
        map.insert("nonce".into(), nonce.clone().into());
    }
    if let Some(name) = &claims.preferred_username {
        map.insert("preferred_username".into(), name.clone().into());
    }
    if !claims.amr.is_empty() {
        map.insert("amr".into(), claims.amr.clone().into());
    }
    sign_eddsa(key, &map)
}

/// Signs `claims` as `{"alg":"EdDSA","typ":"JWT","kid":…}` compact JWS, as they are: the
/// EdDSA counterpart of `jws::sign`.
pub fn sign_eddsa(key: &EdDsaSigningKey, claims: &Map<String, Value>) -> String {
    let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": key.kid});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
    );
    let signature = key.pair.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The verified content of an EdDSA `id_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedOidcIdToken {
    pub subject: String,
    /// The key that verified it.
    pub kid: String,
    pub auth_time: Option<i64>,
    pub nonce: Option<String>,
    pub preferred_username: Option<String>,
    pub amr: Vec<String>,
    pub expires_at: i64,
    pub claims: Map<String, Value>,
}

/// Verifies an EdDSA `id_token` as an OpenID Connect client must (Core §3.1.3.7): the
/// algorithm pinned to `EdDSA`, `typ` absent or `JWT`, the key chosen by `kid` from
/// `jwks`, then `iss`, `aud` (with `azp` when there are several audiences), `exp` and `iat`
/// with [`LEEWAY_SECONDS`], and `nonce` in constant time when the request sent one.
pub fn verify_eddsa_id_token(
    jwks: &Jwks,
    token: &str,
    issuer: &str,
    audience: &str,
    nonce: Option<&str>,
    now: i64,
) -> Result<VerifiedOidcIdToken, OidcTokenError> {
    let parts = jws::split(token)?;
    let header = jws::decode_object(parts.header)?;
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") {
        return Err(OidcTokenError::WrongAlgorithm);
    }
    if header.contains_key("crit") {
        return Err(OidcTokenError::UnsupportedCritical);
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
        Some(_) => return Err(OidcTokenError::WrongType),
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(OidcTokenError::MissingKeyId)?;
    let key = jwks.find(kid).ok_or(OidcTokenError::UnknownKey)?;
    let signature = URL_SAFE_NO_PAD
        .decode(parts.signature)
        .map_err(|_| JwsError::Malformed)?;
    if !ed25519::verify(&key.key, parts.signing_input.as_bytes(), &signature) {
        return Err(OidcTokenError::BadSignature);
    }
    let claims = jws::decode_object(parts.payload)?;

    if required_str(&claims, "iss")? != issuer {
        return Err(OidcTokenError::Mismatch("iss"));
    }
    check_audience(&claims, audience)?;
    let expires_at = required_int(&claims, "exp")?;
    if now > expires_at.saturating_add(LEEWAY_SECONDS) {
        return Err(OidcTokenError::Expired);
    }
    if required_int(&claims, "iat")? > now.saturating_add(LEEWAY_SECONDS) {
        return Err(OidcTokenError::IssuedInTheFuture);
    }
    let token_nonce = optional_str(&claims, "nonce")?;
    if let Some(expected) = nonce {
        let got = token_nonce.ok_or(OidcTokenError::MissingClaim("nonce"))?;
        if !bool::from(got.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(OidcTokenError::Mismatch("nonce"));
        }
    }
    let subject = required_str(&claims, "sub")?;
    if subject.is_empty() {
        return Err(OidcTokenError::MissingClaim("sub"));
    }
    let auth_time = match claims.get("auth_time") {
        None => None,
        Some(value) => Some(
            value
                .as_i64()
                .ok_or(OidcTokenError::MissingClaim("auth_time"))?,
        ),
    };
    let amr = match claims.get("amr") {
        None => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(OidcTokenError::MissingClaim("amr"))?,
        Some(_) => return Err(OidcTokenError::MissingClaim("amr")),
    };
    Ok(VerifiedOidcIdToken {
        subject: subject.to_owned(),
        kid: key.kid,
        auth_time,
        nonce: token_nonce.map(str::to_owned),
        preferred_username: optional_str(&claims, "preferred_username")?.map(str::to_owned),
        amr,
        expires_at,
        claims,
    })
}

/// The OpenID Provider Metadata served at [`DISCOVERY_PATH`] (OpenID Connect Discovery
/// 1.0 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryDocument {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// The authorize endpoint takes a signed `request` object (HS512), as Duo's does.
    pub request_parameter_supported: bool,
    pub request_object_signing_alg_values_supported: Vec<String>,
}

/// The discovery document for `issuer` (`https://host`, no trailing slash: `iss` in
/// tokens is exactly this string).
pub fn discovery_document(issuer: &str) -> DiscoveryDocument {
    let base = issuer.trim_end_matches('/');
    let list = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
    DiscoveryDocument {
        issuer: issuer.to_owned(),
        authorization_endpoint: format!("{base}/oauth/v1/authorize"),
        token_endpoint: format!("{base}/oauth/v1/token"),
        jwks_uri: format!("{base}{JWKS_PATH}"),
        response_types_supported: list(&["code"]),
        response_modes_supported: list(&["query"]),
        grant_types_supported: list(&["authorization_code"]),
        subject_types_supported: list(&["public"]),
        id_token_signing_alg_values_supported: list(&["EdDSA", "HS512"]),
        scopes_supported: list(&["openid"]),
        claims_supported: list(&[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "preferred_username",
            "amr",
        ]),
        token_endpoint_auth_methods_supported: list(&["client_secret_jwt"]),
        token_endpoint_auth_signing_alg_values_supported: list(&["HS512"]),
        request_parameter_supported: true,
        request_object_signing_alg_values_supported: list(&["HS512"]),
    }
}

fn check_kid(kid: &str) -> Result<(), OidcKeyError> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(OidcKeyError::InvalidKid);
    }
    Ok(())
}

fn check_audience(claims: &Map<String, Value>, audience: &str) -> Result<(), OidcTokenError> {
    match claims.get("aud") {
        Some(Value::String(aud)) if aud == audience => Ok(()),
        Some(Value::Array(auds)) if auds.iter().any(|a| a.as_str() == Some(audience)) => {
            // Several audiences: the token must say it was issued to this client (`azp`).
            if auds.len() > 1 && optional_str(claims, "azp")? != Some(audience) {
                return Err(OidcTokenError::Mismatch("azp"));
            }
            Ok(())
        }
        Some(Value::String(_) | Value::Array(_)) => Err(OidcTokenError::Mismatch("aud")),
        _ => Err(OidcTokenError::MissingClaim("aud")),
    }
}

fn required_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, OidcTokenError> {
    optional_str(claims, name)?.ok_or(OidcTokenError::MissingClaim(name))
}

fn optional_str<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, OidcTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(OidcTokenError::MissingClaim(name)),
    }
}

fn required_int(claims: &Map<String, Value>, name: &'static str) -> Result<i64, OidcTokenError> {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .ok_or(OidcTokenError::MissingClaim(name))
}

#[cfg(test)]
mod tests;
