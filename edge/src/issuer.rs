//! The issuer object: the Ed25519 keys that sign EdDSA `id_token`s, and the JWT ids
//! (`jti`) already seen, so a client assertion or a request JWT cannot be replayed.
//!
//! Keys. The edge keeps one current signing key and, for an overlap period after each
//! rotation, the keys it replaced: they stay in `/.well-known/jwks.json` so tokens signed
//! just before a rotation still verify. Rotation is time-based (a key signs for
//! [`ROTATION_PERIOD`], then stays published for [`OVERLAP_PERIOD`]) and can be forced
//! through `POST /internal/v1/rotate-keys` with a chosen overlap (`0` drops the old keys
//! at once, for a suspected compromise). The object draws no randomness itself: every
//! command that may need a new key carries a fresh seed from the Worker, used only then.
//! Key ids are RFC 7638 JWK thumbprints.
//!
//! Replays. `jti`s are kept per scope (`assertion:<client_id>`, `request:<client_id>`)
//! until the token that carried them has expired, and recording one that is already there
//! fails. The object runs one command at a time, so two requests with one `jti` cannot
//! both pass.
//!
//! `IssuerCommand`/`IssuerReply` are internal messages between the Worker and the object.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tessera_shared::oidc::{EdDsaPublicKey, EdDsaSigningKey, ID_TOKEN_LIFETIME_SECONDS, Jwk};
use tessera_shared::{SecretString, duo};

use crate::account::secret_string;
use crate::store::{Entropy, StoreError};

/// A signing key is current for 30 days…
pub const ROTATION_PERIOD: i64 = 30 * 24 * 3600;
/// …and stays in the key set for 7 days after it is replaced.
pub const OVERLAP_PERIOD: i64 = 7 * 24 * 3600;
/// The longest overlap `rotate-keys` accepts (a year).
pub const MAX_OVERLAP: i64 = 365 * 24 * 3600;
/// A `jti` is remembered until its token's `exp` plus the verifier's leeway.
pub const JTI_LEEWAY: i64 = duo::LEEWAY_SECONDS;

/// A signing key as the object stores it. The seed is the secret; the key id and the
/// public key are derived from it.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    /// base64url of the 32-byte Ed25519 seed.
    #[serde(with = "secret_string")]
    pub seed: SecretString,
    pub created_at: i64,
    /// When it stopped signing; `None` for the current key.
    pub retired_at: Option<i64>,
    /// When it leaves the key set; `None` for the current key.
    pub drop_at: Option<i64>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("drop_at", &self.drop_at)
            .finish_non_exhaustive()
    }
}

impl StoredKey {
    /// A new current key from 32 random bytes.
    pub fn generate(entropy: &dyn Entropy, now: i64) -> Result<Self, StoreError> {
        let mut seed = [0u8; 32];
        entropy.fill(&mut seed)?;
        let encoded = URL_SAFE_NO_PAD.encode(seed);
        seed.fill(0);
        let mut key = Self {
            kid: String::new(),
            seed: SecretString::from(encoded),
            created_at: now,
            retired_at: None,
            drop_at: None,
        };
        key.kid = thumbprint(&key.signing_key_with_kid("pending")?.public_key());
        Ok(key)
    }

    /// The signing key this record stands for.
    pub fn signing_key(&self) -> Result<EdDsaSigningKey, StoreError> {
        self.signing_key_with_kid(&self.kid)
    }

    fn signing_key_with_kid(&self, kid: &str) -> Result<EdDsaSigningKey, StoreError> {
        let corrupt = || StoreError::Corrupt(format!("signing key {kid}"));
        let mut bytes = URL_SAFE_NO_PAD
            .decode(self.seed.expose_secret())
            .map_err(|_| corrupt())?;
        let seed = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| corrupt());
        bytes.fill(0);
        EdDsaSigningKey::from_seed(kid, seed?).map_err(|_| corrupt())
    }

    pub fn public_key(&self) -> Result<EdDsaPublicKey, StoreError> {
        Ok(self.signing_key()?.public_key())
    }
}

/// RFC 7638 thumbprint of an Ed25519 key: base64url SHA-256 of `{"crv","kty","x"}`.
pub fn thumbprint(key: &EdDsaPublicKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum IssuerCommand {
    /// The current signing key, after any rotation that is due; `candidate` becomes the
    /// current key if one is needed.
    SigningKey { candidate: StoredKey, now: i64 },
    /// The published keys (current first), after any rotation that is due.
    PublishedKeys { candidate: StoredKey, now: i64 },
    /// Makes `candidate` current at once; every older key leaves the set within
    /// `overlap` seconds.
    Rotate {
        candidate: StoredKey,
        overlap: i64,
        now: i64,
    },
    /// Records `jti` in `scope` until `expires_at`; refused if it is already there.
    RecordJti {
        scope: String,
        jti: String,
        expires_at: i64,
        now: i64,
    },
    /// Whether `jti` is recorded in `scope` (without recording it).
    JtiSeen {
        scope: String,
        jti: String,
        now: i64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum IssuerReply {
    SigningKey(StoredKey),
    /// Public keys as JWKs, current first.
    PublishedKeys(Vec<Jwk>),
    Rotated {
        current: String,
        retiring: Vec<String>,
    },
    /// `true` when the `jti` was new (and is now recorded) or is not seen.
    Jti {
        fresh: bool,
    },
}

/// The object's storage, synchronous like Durable Object SQLite.
pub trait IssuerStorage {
    /// Every stored key, in no particular order.
    fn keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Inserts or replaces the key with this `kid`.
    fn put_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    fn delete_key(&self, kid: &str) -> Result<(), StoreError>;
    fn jti_seen(&self, scope: &str, jti: &str, now: i64) -> Result<bool, StoreError>;
    fn insert_jti(&self, scope: &str, jti: &str, expires_at: i64) -> Result<(), StoreError>;
    fn purge_jtis(&self, now: i64) -> Result<(), StoreError>;
}

/// Runs one command inside the issuer object.
pub fn execute(
    storage: &impl IssuerStorage,
    command: IssuerCommand,
) -> Result<IssuerReply, StoreError> {
    match command {
        IssuerCommand::SigningKey { candidate, now } => {
            let keys = maintain(storage, candidate, now)?;
            let current = keys
                .into_iter()
                .next()
                .ok_or(StoreError::UnexpectedReply("signing_key"))?;
            Ok(IssuerReply::SigningKey(current))
        }
        IssuerCommand::PublishedKeys { candidate, now } => {
            let keys = maintain(storage, candidate, now)?;
            let jwks = keys
                .iter()
                .map(|key| key.public_key().map(|public| public.to_jwk()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(IssuerReply::PublishedKeys(jwks))
        }
        IssuerCommand::Rotate {
            candidate,
            overlap,
            now,
        } => {
            let overlap = overlap.clamp(0, MAX_OVERLAP);
            let drop_at = now.saturating_add(overlap);
            let mut retiring = Vec::new();
            for mut key in storage.keys()? {
                key.retired_at = key.retired_at.or(Some(now));
                key.drop_at = Some(key.drop_at.map_or(drop_at, |at| at.min(drop_at)));
                if key.drop_at.is_some_and(|at| at <= now) {
                    storage.delete_key(&key.kid)?;
                } else {
                    storage.put_key(&key)?;
                    retiring.push(key.kid.clone());
                }
            }
            let current = install(storage, candidate, now)?;
            Ok(IssuerReply::Rotated {
                current: current.kid,
                retiring,
            })
        }
        IssuerCommand::RecordJti {
            scope,
            jti,
            expires_at,
            now,
        } => {
            storage.purge_jtis(now)?;
            if storage.jti_seen(&scope, &jti, now)? {
                return Ok(IssuerReply::Jti { fresh: false });
            }
            storage.insert_jti(&scope, &jti, expires_at.max(now))?;
            Ok(IssuerReply::Jti { fresh: true })
        }
        IssuerCommand::JtiSeen { scope, jti, now } => Ok(IssuerReply::Jti {
            fresh: !storage.jti_seen(&scope, &jti, now)?,
        }),
    }
}

/// Drops keys past their overlap, rotates the current key when it is due (or installs the
/// first one), and returns the published keys, current first, then by retirement, newest
/// first.
fn maintain(
    storage: &impl IssuerStorage,
    candidate: StoredKey,
    now: i64,
) -> Result<Vec<StoredKey>, StoreError> {
    let mut current = None;
    let mut retired = Vec::new();
    for mut key in storage.keys()? {
        if key.drop_at.is_some_and(|at| at <= now) {
            storage.delete_key(&key.kid)?;
        } else if key.retired_at.is_some() {
            retired.push(key);
        } else if key.created_at.saturating_add(ROTATION_PERIOD) <= now || current.is_some() {
            // Due for rotation (or a second current key, which never happens by design):
            // retire it with the standard overlap.
            key.retired_at = Some(now);
            key.drop_at = Some(now.saturating_add(OVERLAP_PERIOD));
            storage.put_key(&key)?;
            retired.push(key);
        } else {
            current = Some(key);
        }
    }
    let current = match current {
        Some(key) => key,
        None => install(storage, candidate, now)?,
    };
    retired.sort_by_key(|key| std::cmp::Reverse(key.retired_at));
    let mut keys = vec![current];
    keys.extend(retired);
    Ok(keys)
}

fn install(
    storage: &impl IssuerStorage,
    mut candidate: StoredKey,
    now: i64,
) -> Result<StoredKey, StoreError> {
    candidate.created_at = now;
    candidate.retired_at = None;
    candidate.drop_at = None;
    storage.put_key(&candidate)?;
    Ok(candidate)
}

/// The overlap must outlast every token signed with the old key (plus leeway), else a
/// token minted just before a rotation would fail to verify; the admin may still choose
/// less (even `0`) to drop a compromised key at once.
pub const MIN_SAFE_OVERLAP: i64 = ID_TOKEN_LIFETIME_SECONDS + tessera_shared::oidc::LEEWAY_SECONDS;

/// The scope of a client assertion's `jti`.
pub fn assertion_scope(client_id: &str) -> String {
    format!("assertion:{client_id}")
}

/// The scope of an authorize request JWT's `jti`.
pub fn request_scope(client_id: &str) -> String {
    format!("request:{client_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 §A.3: the thumbprint of the Appendix A.2 public key.
    #[test]
    fn thumbprint_matches_rfc_8037() {
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = EdDsaPublicKey::new("k", x.try_into().unwrap()).unwrap();
        assert_eq!(
            thumbprint(&key),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn generated_keys_are_distinct_and_redacted() {
        let entropy = crate::memory::CountingEntropy::default();
        let a = StoredKey::generate(&entropy, 5).unwrap();
        let b = StoredKey::generate(&entropy, 5).unwrap();
        assert_ne!(a.kid, b.kid);
        assert_eq!(a.kid, thumbprint(&a.public_key().unwrap()));
        assert!(!format!("{a:?}").contains(a.seed.expose_secret()));
    }
}
