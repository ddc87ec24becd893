//! The directory objects. One global registry maps each client id to its registration
//! (realm, sealed secret, name, allowed embed origins): the only thing a request must
//! look up before it knows its realm. Every realm then has a directory of its own for the
//! rest: its global policy, each application's branding and policy, and the single-use
//! authorization codes. `DirectoryCommand::object` says which object runs a command, so
//! realms never share a lock or a table.
//!
//! Codes are stored under the SHA-256 of the code, so the lookup never compares the code
//! itself, and a code is deleted in the same step that reads it: two exchanges of one
//! code cannot both succeed. `DirectoryCommand`/`DirectoryReply` are internal messages
//! between the Worker and the object.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tessera_shared::SecretString;
use tessera_shared::v1::PolicyConfig;

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

/// Branding and links an application shows in the prompt (`v1::Application`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_devices_url: Option<String>,
}

/// An application's settings beside its registration: branding and its policy level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSettings {
    #[serde(default)]
    pub branding: Branding,
    #[serde(default)]
    pub policy: PolicyConfig,
}

/// The policy levels that apply to one application's sign-ins (the group level is not
/// stored yet: users have no groups).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policies {
    /// The realm's global policy.
    pub global: PolicyConfig,
    pub application: AppSettings,
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
    /// Runs in the grant's realm's directory.
    IssueCode {
        code_hash: String,
        grant: Grant,
        now: i64,
    },
    /// Deletes the code and returns its grant if it had not expired. Runs in `realm`'s
    /// directory (the authenticated client's realm), or in the registry without one.
    RedeemCode {
        code_hash: String,
        now: i64,
        #[serde(default)]
        realm: Option<String>,
    },
    /// Replaces a realm's global policy.
    PutRealmPolicy {
        realm: String,
        policy: PolicyConfig,
    },
    /// Replaces an application's branding and policy.
    PutAppSettings {
        realm: String,
        client_id: String,
        settings: AppSettings,
    },
    /// The realm's global policy and the application's settings (defaults when unset).
    GetPolicies {
        realm: String,
        client_id: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DirectoryReply {
    Application(Option<AppRecord>),
    Stored,
    Grant(Option<Grant>),
    Policies(Policies),
}

/// Which directory object runs a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryObject<'a> {
    /// The global registry of client ids.
    Registry,
    Realm(&'a str),
}

impl DirectoryObject<'_> {
    /// The object's name: `global`, or a JSON array for a realm, so no realm name can
    /// collide with the registry or another realm.
    pub fn name(&self) -> String {
        match self {
            Self::Registry => "global".to_owned(),
            Self::Realm(realm) => serde_json::Value::from(vec!["realm", realm]).to_string(),
        }
    }
}

impl DirectoryCommand {
    /// Where the command runs.
    pub fn object(&self) -> DirectoryObject<'_> {
        match self {
            Self::GetApplication { .. } | Self::PutApplication { .. } => DirectoryObject::Registry,
            Self::RedeemCode { realm, .. } => realm
                .as_deref()
                .map_or(DirectoryObject::Registry, DirectoryObject::Realm),
            Self::IssueCode { grant, .. } => DirectoryObject::Realm(&grant.realm),
            Self::PutRealmPolicy { realm, .. }
            | Self::PutAppSettings { realm, .. }
            | Self::GetPolicies { realm, .. } => DirectoryObject::Realm(realm),
        }
    }
}

/// The object's storage, synchronous like Durable Object SQLite.
pub trait DirectoryStorage {
    fn application(&self, client_id: &str) -> Result<Option<AppRecord>, StoreError>;
    fn put_application(&self, app: &AppRecord) -> Result<(), StoreError>;
    fn insert_code(&self, code_hash: &str, grant: &Grant) -> Result<(), StoreError>;
    /// Reads and deletes in one step.
    fn take_code(&self, code_hash: &str) -> Result<Option<Grant>, StoreError>;
    fn purge_codes(&self, now: i64) -> Result<(), StoreError>;
    fn realm_policy(&self, realm: &str) -> Result<Option<PolicyConfig>, StoreError>;
    fn put_realm_policy(&self, realm: &str, policy: &PolicyConfig) -> Result<(), StoreError>;
    fn app_settings(&self, client_id: &str) -> Result<Option<AppSettings>, StoreError>;
    fn put_app_settings(&self, client_id: &str, settings: &AppSettings) -> Result<(), StoreError>;
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
        DirectoryCommand::RedeemCode { code_hash, now, .. } => {
            let grant = storage.take_code(&code_hash)?;
            Ok(DirectoryReply::Grant(
                grant.filter(|grant| grant.expires_at >= now),
            ))
        }
        DirectoryCommand::PutRealmPolicy { realm, policy } => {
            storage.put_realm_policy(&realm, &policy)?;
            Ok(DirectoryReply::Stored)
        }
        DirectoryCommand::PutAppSettings {
            client_id,
            settings,
            ..
        } => {
            storage.put_app_settings(&client_id, &settings)?;
            Ok(DirectoryReply::Stored)
        }
        DirectoryCommand::GetPolicies { realm, client_id } => {
            Ok(DirectoryReply::Policies(Policies {
                global: storage.realm_policy(&realm)?.unwrap_or_default(),
                application: storage.app_settings(&client_id)?.unwrap_or_default(),
            }))
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
