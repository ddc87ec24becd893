//! The account object: one per (realm, username). It owns the user's status, devices
//! (with each TOTP secret and the last accepted time step), the lockout state and the
//! per-user audit trail, and it decides every passcode inside itself so that concurrent
//! attempts are serialized: no lost failure count, no code accepted twice.
//!
//! `AccountCommand`/`AccountReply` are the internal messages between the Worker and the
//! object (JSON over the Durable Object's `fetch`); they never reach a client.

use std::fmt;

use serde::{Deserialize, Serialize};
use tessera_shared::SecretString;
use tessera_shared::otp::{Algorithm, OtpError, OtpKey, Totp};
use tessera_shared::policy::{LockoutPolicy, LockoutState};
use tessera_shared::v1::{Method, MethodOption};

use crate::store::StoreError;

/// TOTP codes are accepted one step either side of now.
pub const TOTP_SKEW_STEPS: u64 = 1;

/// Which account object to talk to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountKey {
    pub realm: String,
    pub username: String,
}

impl AccountKey {
    pub fn new(realm: &str, username: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            username: username.to_owned(),
        }
    }

    /// The object's name: a JSON array, so no realm or username can collide with another.
    pub fn object_name(&self) -> String {
        serde_json::Value::from(vec![self.realm.as_str(), self.username.as_str()]).to_string()
    }
}

/// Who is asking, for the audit trail. IP and country come from the platform only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditContext {
    pub client_id: String,
    pub application: String,
    pub txid: String,
    pub ip: Option<String>,
    pub country: Option<String>,
}

/// One decision, as the audit table stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: i64,
    pub realm: String,
    pub username: String,
    pub client_id: String,
    pub application: String,
    pub txid: String,
    pub factor: Option<String>,
    /// `allow` or `deny`.
    pub result: String,
    /// Admin API auth-log vocabulary: `valid_passcode`, `invalid_passcode`, `locked_out`…
    pub reason: String,
    pub ip: Option<String>,
    pub country: Option<String>,
}

/// A passcode on its way into the object. Redacted from `Debug`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Passcode(#[serde(with = "secret_string")] pub SecretString);

impl fmt::Debug for Passcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passcode([REDACTED])")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AccountCommand {
    /// The prompt is starting: which methods can the user use, or why not.
    Begin { audit: AuditContext, now: i64 },
    /// Check a passcode against the user's devices, refusing replays and counting failures.
    VerifyPasscode {
        passcode: Passcode,
        audit: AuditContext,
        now: i64,
    },
    /// Create or update the user and devices without resetting counters or steps.
    Seed { user: UserSeed },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountReply {
    Ready {
        methods: Vec<MethodOption>,
    },
    Accepted {
        factor: String,
        reason: String,
        device_id: String,
    },
    Refused(Refusal),
    Seeded,
}

/// Why the account said no. Every refusal is also an audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    EnrollmentRequired,
    Disabled,
    LockedOut,
    /// Not a well-formed passcode; not counted as a failure.
    Malformed,
    InvalidPasscode {
        attempts_left: u32,
    },
    PasscodeReused,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Self::EnrollmentRequired => "deny_unenrolled_user",
            Self::Disabled => "user_disabled",
            Self::LockedOut => "locked_out",
            Self::Malformed | Self::InvalidPasscode { .. } => "invalid_passcode",
            Self::PasscodeReused => "passcode_reused",
        }
    }
}

/// A user as `/internal/v1/seed` describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserSeed {
    pub username: String,
    #[serde(default)]
    pub devices: Vec<DeviceSeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceSeed {
    pub id: String,
    pub name: String,
    pub totp: TotpSeed,
}

/// A TOTP configuration. The secret is a `SecretString`: redacted from `Debug` and only
/// written out explicitly (to the object that stores it).
#[derive(Clone, Serialize, Deserialize)]
pub struct TotpSeed {
    #[serde(with = "secret_string")]
    pub secret_base32: SecretString,
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    #[serde(default = "default_digits")]
    pub digits: u8,
    #[serde(default = "default_period")]
    pub period: u64,
}

impl fmt::Debug for TotpSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpSeed")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

fn default_algorithm() -> String {
    "SHA1".to_owned()
}
fn default_digits() -> u8 {
    6
}
fn default_period() -> u64 {
    Totp::DEFAULT_PERIOD
}

impl TotpSeed {
    /// The TOTP generator this configuration describes, or why it is unusable.
    pub fn totp(&self) -> Result<Totp, OtpError> {
        let algorithm = match self.algorithm.to_ascii_uppercase().as_str() {
            "SHA1" => Algorithm::Sha1,
            "SHA256" => Algorithm::Sha256,
            "SHA512" => Algorithm::Sha512,
            _ => return Err(OtpError::BadKey),
        };
        if self.period == 0 {
            return Err(OtpError::BadKey);
        }
        let key = OtpKey::from_base32(self.secret_base32.expose_secret(), algorithm, self.digits)?;
        Ok(Totp::new(key, self.period))
    }
}

/// Serializes a `SecretString` on purpose: only for the internal hop to the object that
/// stores it.
pub(crate) mod secret_string {
    use serde::{Deserialize, Deserializer, Serializer};
    use tessera_shared::SecretString;

    pub fn serialize<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose_secret())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        SecretString::deserialize(d)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// Everything the object stores about its user, except the audit trail.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub realm: String,
    pub username: String,
    pub status: UserStatus,
    pub lockout: LockoutState,
    pub devices: Vec<DeviceRecord>,
}

#[derive(Debug, Clone)]
pub struct DeviceRecord {
    pub id: String,
    pub name: String,
    pub totp: TotpSeed,
    /// The last TOTP step accepted from this device; codes at or before it are replays.
    pub last_step: Option<u64>,
}

/// The object's storage, synchronous as Durable Object SQLite is: nothing else runs
/// between a `load` and the `save` that follows it.
pub trait AccountStorage {
    fn load(&self) -> Result<Option<AccountRecord>, StoreError>;
    fn save(&self, record: &AccountRecord) -> Result<(), StoreError>;
    fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
}

/// Runs one command inside the account object.
pub fn execute(
    storage: &impl AccountStorage,
    key: &AccountKey,
    command: AccountCommand,
) -> Result<AccountReply, StoreError> {
    let policy = LockoutPolicy::default();
    match command {
        AccountCommand::Begin { audit, now } => {
            let record = storage.load()?;
            match usable(record.as_ref(), &policy, now) {
                Ok(record) => Ok(AccountReply::Ready {
                    methods: record
                        .devices
                        .iter()
                        .map(|device| MethodOption {
                            method: Method::Passcode,
                            device_name: Some(device.name.clone()),
                            device_id: Some(device.id.clone()),
                        })
                        .collect(),
                }),
                Err(refusal) => refuse(storage, key, &audit, now, refusal),
            }
        }
        AccountCommand::VerifyPasscode {
            passcode,
            audit,
            now,
        } => verify_passcode(storage, key, &policy, &passcode.0, &audit, now),
        AccountCommand::Seed { user } => {
            let merged = merge_seed(storage.load()?, key, user);
            storage.save(&merged)?;
            Ok(AccountReply::Seeded)
        }
    }
}

/// The record when the user may try to authenticate, or the refusal.
fn usable<'a>(
    record: Option<&'a AccountRecord>,
    policy: &LockoutPolicy,
    now: i64,
) -> Result<&'a AccountRecord, Refusal> {
    let record = record.ok_or(Refusal::EnrollmentRequired)?;
    if record.status == UserStatus::Disabled {
        return Err(Refusal::Disabled);
    }
    if record.lockout.is_locked(policy, now) {
        return Err(Refusal::LockedOut);
    }
    if record.devices.is_empty() {
        return Err(Refusal::EnrollmentRequired);
    }
    Ok(record)
}

fn verify_passcode(
    storage: &impl AccountStorage,
    key: &AccountKey,
    policy: &LockoutPolicy,
    passcode: &SecretString,
    audit: &AuditContext,
    now: i64,
) -> Result<AccountReply, StoreError> {
    let loaded = storage.load()?;
    let record = match usable(loaded.as_ref(), policy, now) {
        Ok(record) => record,
        Err(refusal) => return refuse(storage, key, audit, now, refusal),
    };
    let candidate = passcode.expose_secret();
    let mut replayed = false;
    let mut malformed = false;
    let mut accepted = None;
    for (index, device) in record.devices.iter().enumerate() {
        // A device whose stored key is unusable cannot match; the others still can.
        let Ok(totp) = device.totp.totp() else {
            continue;
        };
        match totp.verify(candidate, now, TOTP_SKEW_STEPS, device.last_step) {
            Ok(step) => {
                accepted = Some((index, step));
                break;
            }
            Err(OtpError::Replayed) => replayed = true,
            Err(OtpError::Malformed { .. }) => malformed = true,
            Err(_) => {}
        }
    }
    let mut updated = record.clone();
    if let Some((index, step)) = accepted {
        let mut device_id = String::new();
        if let Some(device) = updated.devices.get_mut(index) {
            device.last_step = Some(step);
            device_id.clone_from(&device.id);
        }
        updated.lockout = updated.lockout.record_success();
        storage.save(&updated)?;
        let factor = Method::Passcode.factor();
        let reason = "valid_passcode";
        storage.append_audit(&event(key, audit, now, Some(factor), "allow", reason))?;
        return Ok(AccountReply::Accepted {
            factor: factor.to_owned(),
            reason: reason.to_owned(),
            device_id,
        });
    }
    if replayed {
        return refuse(storage, key, audit, now, Refusal::PasscodeReused);
    }
    if malformed {
        return refuse(storage, key, audit, now, Refusal::Malformed);
    }
    updated.lockout = updated.lockout.record_failure(policy, now);
    storage.save(&updated)?;
    let refusal = if updated.lockout.is_locked(policy, now) {
        Refusal::LockedOut
    } else {
        Refusal::InvalidPasscode {
            attempts_left: updated.lockout.attempts_left(policy),
        }
    };
    // The row says `invalid_passcode` even when this failure is the one that locks.
    let reason = Refusal::InvalidPasscode { attempts_left: 0 }.reason();
    let factor = Some(Method::Passcode.factor());
    storage.append_audit(&event(key, audit, now, factor, "deny", reason))?;
    Ok(AccountReply::Refused(refusal))
}

fn refuse(
    storage: &impl AccountStorage,
    key: &AccountKey,
    audit: &AuditContext,
    now: i64,
    refusal: Refusal,
) -> Result<AccountReply, StoreError> {
    storage.append_audit(&event(key, audit, now, None, "deny", refusal.reason()))?;
    Ok(AccountReply::Refused(refusal))
}

fn event(
    key: &AccountKey,
    audit: &AuditContext,
    now: i64,
    factor: Option<&str>,
    result: &str,
    reason: &str,
) -> AuditEvent {
    AuditEvent {
        at: now,
        realm: key.realm.clone(),
        username: key.username.clone(),
        client_id: audit.client_id.clone(),
        application: audit.application.clone(),
        txid: audit.txid.clone(),
        factor: factor.map(str::to_owned),
        result: result.to_owned(),
        reason: reason.to_owned(),
        ip: audit.ip.clone(),
        country: audit.country.clone(),
    }
}

/// Upserts a seeded user: new devices are added, known ones get the seeded name and key
/// but keep their last accepted step; status and lockout state are never reset.
pub fn merge_seed(
    existing: Option<AccountRecord>,
    key: &AccountKey,
    seed: UserSeed,
) -> AccountRecord {
    let mut record = existing.unwrap_or_else(|| AccountRecord {
        realm: key.realm.clone(),
        username: key.username.clone(),
        status: UserStatus::Active,
        lockout: LockoutState::default(),
        devices: Vec::new(),
    });
    for seed_device in seed.devices {
        match record.devices.iter_mut().find(|d| d.id == seed_device.id) {
            Some(device) => {
                device.name = seed_device.name;
                device.totp = seed_device.totp;
            }
            None => record.devices.push(DeviceRecord {
                id: seed_device.id,
                name: seed_device.name,
                totp: seed_device.totp,
                last_step: None,
            }),
        }
    }
    record
}
