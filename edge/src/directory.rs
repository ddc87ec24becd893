//! The directory objects. One global registry maps each client id to its registration
//! (realm, sealed secret, name, allowed embed origins): the only thing a request must
//! look up before it knows its realm. Every realm then has a directory of its own for the
//! rest: its global policy and each application's branding and policy.
//! `DirectoryCommand::object` says which object runs a command, so realms never share a
//! lock or a table. (Authorization codes live in the account objects: `code`.)
//! `DirectoryCommand`/`DirectoryReply` are internal messages between the Worker and the
//! object.

use std::fmt;

use serde::{Deserialize, Serialize};
use tessera_shared::SecretString;
use tessera_shared::v1::PolicyConfig;

use crate::account::secret_string;
use crate::store::StoreError;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DirectoryCommand {
    GetApplication {
        client_id: String,
    },
    PutApplication {
        app: AppRecord,
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
    Policies(Box<Policies>),
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
            Ok(DirectoryReply::Policies(Box::new(Policies {
                global: storage.realm_policy(&realm)?.unwrap_or_default(),
                application: storage.app_settings(&client_id)?.unwrap_or_default(),
            })))
        }
    }
}
