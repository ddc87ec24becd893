//! The device state file: a versioned JSON document listing the accounts this device
//! answers for, each with its TOTP secret. It is the only place the secret is written, so
//! the file is created with mode 0600 and replaced atomically (temporary file + rename).

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize, Serializer};
use tessera_shared::SecretString;
use tessera_shared::approval::DeviceSigningKey;
use tessera_shared::otp::{OtpError, OtpKey, Totp};
use tessera_shared::v1::device::TotpProvision;
use thiserror::Error;
use zeroize::Zeroize;

/// The format version this library reads and writes.
pub const STATE_VERSION: u32 = 1;

/// Everything the device keeps on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceState {
    pub version: u32,
    pub accounts: Vec<Account>,
}

/// One (realm, user) this device authenticates, on one edge.
#[derive(Clone, Serialize, Deserialize)]
pub struct Account {
    pub realm: String,
    pub username: String,
    pub edge_url: String,
    pub device_id: String,
    pub device_name: String,
    pub totp: TotpSettings,
    /// base64url of the 32-byte Ed25519 seed this device signs with, for accounts added
    /// by activation (push); `None` for TOTP-only accounts.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_optional_secret"
    )]
    pub signing_seed: Option<SecretString>,
}

/// A TOTP key as provisioned (the fields of an `otpauth://` URI).
#[derive(Clone, Serialize, Deserialize)]
pub struct TotpSettings {
    /// The one field that leaves memory unredacted, and only towards the 0600 state file.
    #[serde(serialize_with = "expose_secret")]
    pub secret_base32: SecretString,
    #[serde(default = "default_algorithm")]
    pub algorithm: OtpAlgorithm,
    #[serde(default = "default_digits")]
    pub digits: u8,
    #[serde(default = "default_period")]
    pub period: u64,
}

/// The hash of a TOTP key, spelled as in `otpauth://` URIs: the wire type of
/// `/device/v1` provisioning, so the state file and the edge agree by construction.
pub use tessera_shared::v1::device::TotpAlgorithm as OtpAlgorithm;

impl TryFrom<&TotpProvision> for TotpSettings {
    type Error = AccountError;

    /// The settings an activation provisioned, checked to make a usable key.
    fn try_from(provision: &TotpProvision) -> Result<Self, Self::Error> {
        Totp::try_from(provision).map_err(|_| AccountError::BadSecret)?;
        Ok(Self {
            secret_base32: SecretString::new(provision.secret_base32.clone()),
            algorithm: provision.algorithm,
            digits: provision.digits,
            period: u64::from(provision.period),
        })
    }
}

/// Why the state file could not be read or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StateError {
    #[error(
        "No Tessera device state at {}. Run `cargo xtask demo` or activate a device first.",
        path.display()
    )]
    Missing { path: PathBuf },
    #[error("The Tessera device state at {} is corrupt: {detail}", path.display())]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "The Tessera device state at {} has version {found}; this tessera-device reads version {STATE_VERSION}.",
        path.display()
    )]
    UnsupportedVersion { path: PathBuf, found: u64 },
    #[error("Cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("Cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Why no single account could be chosen.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelectError {
    #[error("The device state has no accounts. Run `cargo xtask demo` or activate a device first.")]
    NoAccounts,
    #[error("Several accounts are set up; choose one with --account: {}.", choices.join(", "))]
    AccountRequired { choices: Vec<String> },
    #[error("No account {wanted} on this device. Accounts: {}.", choices.join(", "))]
    Unknown {
        wanted: String,
        choices: Vec<String>,
    },
    #[error("Several accounts match {wanted}; name it as USER@REALM.")]
    Ambiguous { wanted: String },
}

/// Why an account's fields were refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountError {
    #[error("The {0} must not be empty or contain control characters.")]
    BadField(&'static str),
    #[error("The edge URL must start with http:// or https://.")]
    BadEdgeUrl,
    #[error("The TOTP secret is not a usable base32 key (at least 16 base32 characters).")]
    BadSecret,
}

/// What [`DeviceState::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    Added,
    Replaced,
}

impl Default for DeviceState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            accounts: Vec::new(),
        }
    }
}

impl DeviceState {
    /// Picks the account `wanted` names (`USER` or `USER@REALM`), or the only account when
    /// `wanted` is `None`. A username may itself contain `@`, so `USER@REALM` is tried
    /// first (split at the last `@`) and the whole text as a username second.
    pub fn select(&self, wanted: Option<&str>) -> Result<&Account, SelectError> {
        let Some(wanted) = wanted else {
            return match self.accounts.as_slice() {
                [] => Err(SelectError::NoAccounts),
                [only] => Ok(only),
                _ => Err(SelectError::AccountRequired {
                    choices: self.labels(),
                }),
            };
        };
        if self.accounts.is_empty() {
            return Err(SelectError::NoAccounts);
        }
        let by_realm: Vec<&Account> = match wanted.rsplit_once('@') {
            Some((user, realm)) => self
                .accounts
                .iter()
                .filter(|a| a.username == user && a.realm == realm)
                .collect(),
            None => Vec::new(),
        };
        let matches = if by_realm.is_empty() {
            self.accounts
                .iter()
                .filter(|a| a.username == wanted)
                .collect()
        } else {
            by_realm
        };
        match matches.as_slice() {
            [] => Err(SelectError::Unknown {
                wanted: wanted.to_owned(),
                choices: self.labels(),
            }),
            [one] => Ok(one),
            _ => Err(SelectError::Ambiguous {
                wanted: wanted.to_owned(),
            }),
        }
    }

    /// Adds `account`, replacing the one with the same realm, username and edge URL.
    pub fn upsert(&mut self, account: Account) -> Upsert {
        let existing = self.accounts.iter_mut().find(|a| {
            a.realm == account.realm
                && a.username == account.username
                && a.edge_url == account.edge_url
        });
        match existing {
            Some(slot) => {
                *slot = account;
                Upsert::Replaced
            }
            None => {
                self.accounts.push(account);
                Upsert::Added
            }
        }
    }

    /// The existing account for (realm, username, edge URL), if any.
    pub fn find(&self, realm: &str, username: &str, edge_url: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.realm == realm && a.username == username && a.edge_url == edge_url)
    }

    fn labels(&self) -> Vec<String> {
        self.accounts.iter().map(Account::label).collect()
    }
}

impl Account {
    /// A TOTP account with checked fields: names without control characters, an
    /// `http(s)://` edge URL and a secret that makes a usable key.
    pub fn new_totp(
        realm: &str,
        username: &str,
        edge_url: &str,
        device_id: &str,
        device_name: &str,
        secret_base32: SecretString,
    ) -> Result<Self, AccountError> {
        for (name, value) in [
            ("realm", realm),
            ("username", username),
            ("device id", device_id),
            ("device name", device_name),
        ] {
            if value.trim().is_empty() || value.chars().any(char::is_control) {
                return Err(AccountError::BadField(name));
            }
        }
        if !(edge_url.starts_with("http://") || edge_url.starts_with("https://")) {
            return Err(AccountError::BadEdgeUrl);
        }
        let account = Self {
            realm: realm.to_owned(),
            username: username.to_owned(),
            edge_url: edge_url.trim_end_matches('/').to_owned(),
            device_id: device_id.to_owned(),
            device_name: device_name.to_owned(),
            totp: TotpSettings {
                secret_base32,
                algorithm: OtpAlgorithm::Sha1,
                digits: default_digits(),
                period: default_period(),
            },
            signing_seed: None,
        };
        account.totp().map_err(|_| AccountError::BadSecret)?;
        Ok(account)
    }

    /// `username@realm`, as `--account` accepts it.
    pub fn label(&self) -> String {
        format!("{}@{}", self.username, self.realm)
    }

    /// The TOTP generator for this account's key.
    pub fn totp(&self) -> Result<Totp, OtpError> {
        let settings = &self.totp;
        let key = OtpKey::from_base32(
            settings.secret_base32.expose_secret(),
            settings.algorithm.into(),
            settings.digits,
        )?;
        Ok(Totp::new(key, settings.period))
    }
}

/// The passcode `account` shows at `now` (Unix seconds).
pub fn current_code(account: &Account, now: i64) -> Result<String, OtpError> {
    Ok(account.totp()?.code_at(now))
}

/// A fresh Duo-shaped device id: `DP` and 18 base32 characters.
pub fn new_device_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes)?;
    let text = data_encoding::BASE32_NOPAD.encode(&bytes);
    Ok(format!("DP{}", text.chars().take(18).collect::<String>()))
}

impl Account {
    /// The Ed25519 key of an activated account (`None` for a TOTP-only one or an
    /// unreadable seed).
    pub fn signing_key(&self) -> Option<DeviceSigningKey> {
        signing_key_from_seed(self.signing_seed.as_ref()?)
    }

    /// Whether this account can receive and answer pushes.
    pub fn has_push(&self) -> bool {
        self.signing_key().is_some()
    }
}

/// The key of a stored seed (base64url of 32 bytes).
pub fn signing_key_from_seed(seed: &SecretString) -> Option<DeviceSigningKey> {
    let mut bytes = URL_SAFE_NO_PAD.decode(seed.expose_secret()).ok()?;
    let array: Option<[u8; 32]> = bytes.as_slice().try_into().ok();
    bytes.zeroize();
    DeviceSigningKey::from_seed(array?).ok()
}

/// A fresh 32-byte signing seed, base64url, from the operating system's CSPRNG.
pub fn new_signing_seed() -> Result<SecretString, getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    let text = URL_SAFE_NO_PAD.encode(seed);
    seed.zeroize();
    Ok(SecretString::new(text))
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("realm", &self.realm)
            .field("username", &self.username)
            .field("edge_url", &self.edge_url)
            .field("device_id", &self.device_id)
            .field("device_name", &self.device_name)
            .field("totp", &self.totp)
            .field(
                "signing_seed",
                &self.signing_seed.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl fmt::Debug for TotpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpSettings")
            .field("secret_base32", &"[REDACTED]")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish()
    }
}

fn expose_secret<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

fn expose_optional_secret<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

fn default_algorithm() -> OtpAlgorithm {
    OtpAlgorithm::Sha1
}

fn default_digits() -> u8 {
    6
}

fn default_period() -> u64 {
    Totp::DEFAULT_PERIOD
}

/// Reads the state at `path`. A missing file is [`StateError::Missing`]; a file of another
/// version is refused before its content is interpreted.
pub fn load(path: &Path) -> Result<DeviceState, StateError> {
    let mut text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StateError::Missing {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let parsed = parse(path, &text);
    text.zeroize();
    parsed
}

/// Like [`load`], but a missing file is an empty state (for commands that add accounts).
pub fn load_or_empty(path: &Path) -> Result<DeviceState, StateError> {
    match load(path) {
        Err(StateError::Missing { .. }) => Ok(DeviceState::default()),
        other => other,
    }
}

fn parse(path: &Path, text: &str) -> Result<DeviceState, StateError> {
    let corrupt = |detail: String| StateError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    #[derive(Deserialize)]
    struct Probe {
        version: serde_json::Value,
    }
    let probe: Probe = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    match probe.version.as_u64() {
        Some(v) if v == u64::from(STATE_VERSION) => {}
        Some(found) => {
            return Err(StateError::UnsupportedVersion {
                path: path.to_owned(),
                found,
            });
        }
        None => return Err(corrupt("`version` is not a number".to_owned())),
    }
    serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))
}

/// Writes `state` to `path` atomically with mode 0600, creating missing parent folders
/// (mode 0700). Readers see the old file or the new one, never a partial write.
pub fn save(path: &Path, state: &DeviceState) -> Result<(), StateError> {
    let write_error = |source: io::Error| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir).map_err(write_error)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "device.json".to_owned());
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut json = serde_json::to_vec_pretty(state)
        .map_err(|e| write_error(io::Error::other(e.to_string())))?;
    json.push(b'\n');
    let written = write_private(&temp, &json).and_then(|()| fs::rename(&temp, path));
    json.zeroize();
    if written.is_err() {
        // Best effort: the temporary file may hold the secret.
        let _ = fs::remove_file(&temp);
    }
    written.map_err(write_error)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // The mode above applies only when the file is created; a stale temporary file from
    // a crashed run keeps its mode, so set it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}
