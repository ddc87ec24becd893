//! The directory object: registered applications (client id → realm, secret, name,
//! allowed embed origins) and the single-use authorization codes.
//!
//! Codes are stored under the SHA-256 of the code, so the lookup never compares the code
//! itself, and a code is deleted in the same step that reads it: two exchanges of one
//! code cannot both succeed. `DirectoryCommand`/`DirectoryReply` are internal messages
//! between the Worker and the object.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tessera_shared::SecretString;

use crate::account::secret_string;
use crate::store::StoreError;

/// Authorization codes live for 60 seconds.
pub const CODE_LIFETIME: i64 = 60;

/// A registered application.
#[derive(Clone, Serialize, Deserialize)]
pub struct AppRecord {
    pub client_id: String,
    pub realm: String,
    #[serde(with = "secret_string")]
    pub client_secret: SecretString,
    pub name: String,
    /// Origins allowed to embed the prompt (`https://app.example`), compared exactly.
    pub origins: Vec<String>,
    /// How the application's `id_token`s are signed.
    #[serde(default)]
    pub id_token_format: IdTokenFormat,
}

/// An application's `id_token` signature: HS512 with its client secret (Duo's clients)
/// or EdDSA with the edge's published key (standard OpenID Connect clients).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdTokenFormat {
    #[default]
    Hs512,
    EdDsa,
}

impl IdTokenFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs512 => "hs512",
            Self::EdDsa => "eddsa",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hs512" => Some(Self::Hs512),
            "eddsa" => Some(Self::EdDsa),
            _ => None,
        }
    }
}

impl fmt::Debug for AppRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppRecord")
            .field("client_id", &self.client_id)
            .field("realm", &self.realm)
            .field("name", &self.name)
            .field("origins", &self.origins)
            .field("id_token_format", &self.id_token_format)
            .finish_non_exhaustive()
    }
}

/// What an authorization code stands for; everything the token endpoint needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub realm: String,
    pub username: String,
    pub nonce: Option<String>,
    pub factor: String,
    pub reason: String,
    pub auth_time: i64,
    pub txid: String,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DirectoryCommand {
    GetApplication {
        client_id: String,
    },
    PutApplication {
        app: AppRecord,
    },
    IssueCode {
        code_hash: String,
        grant: Grant,
        now: i64,
    },
    /// Deletes the code and returns its grant if it had not expired.
    RedeemCode {
        code_hash: String,
        now: i64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DirectoryReply {
    Application(Option<AppRecord>),
    Stored,
    Grant(Option<Grant>),
}

/// The object's storage, synchronous like Durable Object SQLite.
pub trait DirectoryStorage {
    fn application(&self, client_id: &str) -> Result<Option<AppRecord>, StoreError>;
    fn put_application(&self, app: &AppRecord) -> Result<(), StoreError>;
    fn insert_code(&self, code_hash: &str, grant: &Grant) -> Result<(), StoreError>;
    /// Reads and deletes in one step.
    fn take_code(&self, code_hash: &str) -> Result<Option<Grant>, StoreError>;
    fn purge_codes(&self, now: i64) -> Result<(), StoreError>;
}

/// Runs one command inside the directory object.
pub fn execute(
    storage: &impl DirectoryStorage,
    command: DirectoryCommand,
) -> Result<DirectoryReply, StoreError> {
    match command {
        DirectoryCommand::GetApplication { client_id } => Ok(DirectoryReply::Application(
            storage.application(&client_id)?,
        )),
        DirectoryCommand::PutApplication { app } => {
            storage.put_application(&app)?;
            Ok(DirectoryReply::Stored)
        }
        DirectoryCommand::IssueCode {
            code_hash,
            grant,
            now,
        } => {
            storage.purge_codes(now)?;
            storage.insert_code(&code_hash, &grant)?;
            Ok(DirectoryReply::Stored)
        }
        DirectoryCommand::RedeemCode { code_hash, now } => {
            let grant = storage.take_code(&code_hash)?;
            Ok(DirectoryReply::Grant(
                grant.filter(|grant| grant.expires_at >= now),
            ))
        }
    }
}

/// The storage key of an authorization code: lowercase hex SHA-256.
pub fn code_hash(code: &str) -> String {
    Sha256::digest(code.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
