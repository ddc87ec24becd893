//! Push inside the account object: activation codes, the user's push devices and their
//! Ed25519 keys, push transactions, mute and rate limit. Like `account::execute`, every
//! command runs to completion between one load and one save, so an answer, a cancel and a
//! status check of one transaction never race: a transaction leaves `pending` once.
//!
//! `execute` returns, beside the reply, [`Effects`]: the WebSocket messages to send to
//! devices and whether a transaction changed (which wakes long polls). The Worker glue
//! acts on them; the in-memory stores record them.

use serde::{Deserialize, Serialize};
use tessera_shared::approval::{ApprovalError, DevicePublicKey, SignedApproval, verify_approval};
use tessera_shared::device_auth::{self, DeviceClaims};
use tessera_shared::policy::{LockoutPolicy, PushRateLimit};
use tessera_shared::v1::device::{PushLocation, PushRequest, PushWithdrawn};
use tessera_shared::v1::{ApprovalDecision, DeviceApproval, Method, PushState};

use crate::account::{
    self, AccountKey, AccountRecord, AccountStorage, AuditContext, DeviceRecord, Refusal, TotpSeed,
    UserSeed, UserStatus, event,
};
use crate::store::StoreError;

/// How long a transaction is kept after it expired (for late status checks and audit).
const KEEP_AFTER_EXPIRY: i64 = 600;
/// At most this many transactions are kept per user; the oldest go first.
const MAX_TRANSACTIONS: usize = 64;

/// The push settings in force (see `app::Config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSettings {
    /// Seconds a push can be answered.
    pub lifetime: i64,
    /// Seconds pushes to a user stay muted after a fraud report.
    pub mute_seconds: i64,
    /// Whether plain Push (no code) may be asked for: the application's policy, set per
    /// request by `push::start` (never from the environment).
    pub allow_plain: bool,
    /// Digits of the Verified Push code (3 to 6).
    pub code_digits: u8,
    pub rate_max: u32,
    pub rate_window_minutes: u32,
    /// Seconds an activation code stays usable.
    pub activation_lifetime: i64,
}

impl Default for PushSettings {
    fn default() -> Self {
        let rate = PushRateLimit::default();
        Self {
            lifetime: 60,
            mute_seconds: 3600,
            allow_plain: false,
            code_digits: 3,
            rate_max: rate.max_requests.get(),
            rate_window_minutes: rate.window_minutes.get(),
            activation_lifetime: 7 * 24 * 3600,
        }
    }
}

impl PushSettings {
    fn rate_limit(&self) -> PushRateLimit {
        let fallback = PushRateLimit::default();
        PushRateLimit {
            max_requests: std::num::NonZeroU32::new(self.rate_max).unwrap_or(fallback.max_requests),
            window_minutes: std::num::NonZeroU32::new(self.rate_window_minutes)
                .unwrap_or(fallback.window_minutes),
        }
    }
}

/// Everything push-related one account object stores (one JSON row).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PushBook {
    #[serde(default)]
    pub devices: Vec<PushDevice>,
    #[serde(default)]
    pub activations: Vec<PendingActivation>,
    #[serde(default)]
    pub transactions: Vec<PushTransaction>,
    /// Unix seconds of each push sent within the rate-limit window.
    #[serde(default)]
    pub sent: Vec<i64>,
    #[serde(default)]
    pub muted_until: Option<i64>,
}

/// An activated device: the key it signs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushDevice {
    pub id: String,
    pub name: String,
    pub platform: Option<String>,
    /// base64url Ed25519 public key.
    pub public_key: String,
    pub activated_at: i64,
}

/// An issued, unused activation code, by its lookup key (hex SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingActivation {
    pub lookup_key: String,
    pub expires_at: i64,
}

/// The policy's lockout settings, carried by a push so that a wrong Verified Push code
/// counts towards lockout exactly as a wrong passcode does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutSettings {
    pub threshold: u32,
    pub auto_unlock_after: Option<i64>,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        LockoutPolicy::default().into()
    }
}

impl From<LockoutPolicy> for LockoutSettings {
    fn from(policy: LockoutPolicy) -> Self {
        Self {
            threshold: policy.threshold,
            auto_unlock_after: policy.auto_unlock_after,
        }
    }
}

impl LockoutSettings {
    pub fn policy(self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.threshold,
            auto_unlock_after: self.auto_unlock_after,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTransaction {
    pub txid: String,
    /// The prompt session's transaction: only that session may see or end this push.
    pub session_txid: String,
    pub device_id: String,
    pub client_id: String,
    pub application: String,
    pub ip: Option<String>,
    pub country: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// The lockout settings in force when the push was sent.
    #[serde(default)]
    pub lockout: LockoutSettings,
    /// Verified Push: the digits shown in the prompt.
    pub code: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: PushState,
    /// Whether an approval was already turned into an authorization code.
    pub claimed: bool,
}

impl PushTransaction {
    fn method(&self) -> Method {
        if self.code.is_some() {
            Method::VerifiedPush
        } else {
            Method::Push
        }
    }

    fn to_wire(&self, username: &str) -> PushRequest {
        PushRequest {
            txid: self.txid.clone(),
            application: self.application.clone(),
            username: username.to_owned(),
            ip: self.ip.clone(),
            location: PushLocation {
                city: None,
                country: self.country.clone(),
            },
            time: self.created_at,
            expires_at: self.expires_at,
            verified: self.code.is_some(),
            code_length: self
                .code
                .as_ref()
                .and_then(|code| u8::try_from(code.len()).ok()),
        }
    }
}

/// The object's push storage, synchronous like `AccountStorage`.
pub trait PushStorage {
    fn load_push(&self) -> Result<PushBook, StoreError>;
    fn save_push(&self, book: &PushBook) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum PushCommand {
    /// Stores an activation code for this user (creating the user if needed).
    IssueActivation {
        lookup_key: String,
        expires_at: i64,
        now: i64,
    },
    /// Consumes an activation code and registers the device.
    Activate {
        lookup_key: String,
        public_key: String,
        device_id: String,
        device_name: String,
        platform: Option<String>,
        totp: TotpSeed,
        now: i64,
    },
    /// Authenticates a signed device request; answers with the device's pending pushes.
    Pending {
        authorization: String,
        method: String,
        path: String,
        now: i64,
    },
    Start {
        session_txid: String,
        txid: String,
        device_id: Option<String>,
        method: Option<Method>,
        /// Random digits drawn by the caller, `settings.code_digits` long.
        code: String,
        settings: PushSettings,
        #[serde(default)]
        lockout: LockoutSettings,
        audit: AuditContext,
        now: i64,
    },
    Status {
        txid: String,
        session_txid: String,
        now: i64,
        /// How long the caller would wait for a change (the glue waits; `execute` answers
        /// at once).
        #[serde(default)]
        wait_ms: u32,
    },
    Answer {
        authorization: String,
        path: String,
        approval: DeviceApproval,
        settings: PushSettings,
        now: i64,
    },
    Feedback {
        txid: String,
        session_txid: String,
        was_me: bool,
        settings: PushSettings,
        now: i64,
    },
    Cancel {
        txid: String,
        session_txid: String,
        now: i64,
    },
    /// The push-capable devices, for the prompt's method list.
    Devices,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushReply {
    ActivationIssued,
    Activated {
        device_id: String,
    },
    Pending {
        device_id: String,
        pushes: Vec<PushRequest>,
    },
    Started {
        push: PushRequest,
        verification_code: Option<String>,
        device_name: String,
    },
    Status {
        state: PushState,
        expires_at: i64,
        /// On the first status that sees `approved`: the factor and reason to grant.
        grant: Option<(String, String)>,
        attempts_left: Option<u32>,
        locked: bool,
    },
    /// The device's answer was recorded (or, for a wrong code, counted).
    Answered {
        state: PushState,
        fraud: Option<FraudReport>,
    },
    FeedbackRecorded {
        fraud: Option<FraudReport>,
    },
    Cancelled,
    Devices {
        devices: Vec<(String, String)>,
    },
    Refused(PushRefusal),
}

/// What the administrators are told when a push is reported as fraud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudReport {
    pub at: i64,
    pub realm: String,
    pub username: String,
    pub txid: String,
    pub application: String,
    pub ip: Option<String>,
    pub country: Option<String>,
    /// `device` (deny --fraud) or `prompt` ("No, report it").
    pub via: String,
    pub muted_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushRefusal {
    Account(Refusal),
    Muted {
        until: i64,
    },
    RateLimited {
        window_minutes: u32,
    },
    NoPushDevice,
    PlainNotAllowed,
    InvalidActivation,
    /// The signed device request was refused; the detail is for logs.
    Unauthorized(String),
    TransactionNotFound,
    ApprovalRefused(String),
}

/// What the glue does after a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// (device id, JSON text message) for the device's WebSockets.
    pub deliveries: Vec<(String, String)>,
    /// A transaction changed: wake the long polls.
    pub changed: bool,
}

/// Runs one push command inside the account object.
pub fn execute<S: AccountStorage + PushStorage>(
    storage: &S,
    key: &AccountKey,
    command: PushCommand,
) -> Result<(PushReply, Effects), StoreError> {
    let mut effects = Effects::default();
    let reply = match command {
        PushCommand::IssueActivation {
            lookup_key,
            expires_at,
            now,
        } => {
            if storage.load()?.is_none() {
                let user = UserSeed {
                    username: key.username.clone(),
                    devices: Vec::new(),
                    status: None,
                };
                storage.save(&account::merge_seed(None, key, user)?)?;
            }
            let mut book = storage.load_push()?;
            book.activations.retain(|a| a.expires_at > now);
            book.activations.push(PendingActivation {
                lookup_key,
                expires_at,
            });
            storage.save_push(&book)?;
            PushReply::ActivationIssued
        }
        PushCommand::Activate {
            lookup_key,
            public_key,
            device_id,
            device_name,
            platform,
            totp,
            now,
        } => activate(
            storage,
            lookup_key,
            PushDevice {
                id: device_id,
                name: device_name,
                platform,
                public_key,
                activated_at: now,
            },
            totp,
            now,
        )?,
        PushCommand::Pending {
            authorization,
            method,
            path,
            now,
        } => {
            let book = storage.load_push()?;
            match authenticate(&book, key, &authorization, &method, &path, now) {
                Ok((device, _)) => PushReply::Pending {
                    pushes: book
                        .transactions
                        .iter()
                        .filter(|tx| {
                            tx.device_id == device.id
                                && tx.state == PushState::Pending
                                && tx.expires_at > now
                        })
                        .map(|tx| tx.to_wire(&key.username))
                        .collect(),
                    device_id: device.id.clone(),
                },
                Err(refusal) => PushReply::Refused(refusal),
            }
        }
        PushCommand::Start {
            session_txid,
            txid,
            device_id,
            method,
            code,
            settings,
            lockout,
            audit,
            now,
        } => start(
            storage,
            key,
            StartArgs {
                session_txid,
                txid,
                device_id,
                method,
                code,
                settings,
                lockout,
                audit,
                now,
            },
            &mut effects,
        )?,
        PushCommand::Status {
            txid,
            session_txid,
            now,
            ..
        } => status(storage, key, &txid, &session_txid, now, &mut effects)?,
        PushCommand::Answer {
            authorization,
            path,
            approval,
            settings,
            now,
        } => answer(
            storage,
            key,
            &authorization,
            &path,
            approval,
            &settings,
            now,
            &mut effects,
        )?,
        PushCommand::Feedback {
            txid,
            session_txid,
            was_me,
            settings,
            now,
        } => feedback(
            storage,
            key,
            &txid,
            &session_txid,
            was_me,
            &settings,
            now,
            &mut effects,
        )?,
        PushCommand::Cancel {
            txid,
            session_txid,
            now,
        } => {
            let mut book = storage.load_push()?;
            match find_session_tx(&mut book, &txid, &session_txid) {
                Some(tx) if tx.state == PushState::Pending && tx.expires_at > now => {
                    tx.state = PushState::Cancelled;
                    let device_id = tx.device_id.clone();
                    withdraw(&mut effects, &device_id, &txid);
                    storage.save_push(&book)?;
                    PushReply::Cancelled
                }
                // Already over: cancelling is idempotent.
                Some(_) => PushReply::Cancelled,
                None => PushReply::Refused(PushRefusal::TransactionNotFound),
            }
        }
        PushCommand::Devices => {
            let book = storage.load_push()?;
            PushReply::Devices {
                devices: book
                    .devices
                    .iter()
                    .map(|d| (d.id.clone(), d.name.clone()))
                    .collect(),
            }
        }
    };
    Ok((reply, effects))
}

fn activate<S: AccountStorage + PushStorage>(
    storage: &S,
    lookup_key: String,
    device: PushDevice,
    totp: TotpSeed,
    now: i64,
) -> Result<PushReply, StoreError> {
    let mut book = storage.load_push()?;
    let before = book.activations.len();
    book.activations.retain(|a| a.expires_at > now);
    let found = book
        .activations
        .iter()
        .position(|a| a.lookup_key == lookup_key);
    let Some(index) = found else {
        if book.activations.len() != before {
            storage.save_push(&book)?;
        }
        return Ok(PushReply::Refused(PushRefusal::InvalidActivation));
    };
    book.activations.remove(index);
    let Some(mut record) = storage.load()? else {
        storage.save_push(&book)?;
        return Ok(PushReply::Refused(PushRefusal::InvalidActivation));
    };
    record.devices.push(DeviceRecord {
        id: device.id.clone(),
        name: device.name.clone(),
        totp,
        last_step: None,
    });
    storage.save(&record)?;
    let device_id = device.id.clone();
    book.devices.push(device);
    storage.save_push(&book)?;
    Ok(PushReply::Activated { device_id })
}

/// Checks a signed device request against this account's devices.
fn authenticate<'a>(
    book: &'a PushBook,
    key: &AccountKey,
    authorization: &str,
    method: &str,
    path: &str,
    now: i64,
) -> Result<(&'a PushDevice, DevicePublicKey), PushRefusal> {
    let unauthorized =
        |detail: &dyn std::fmt::Display| PushRefusal::Unauthorized(detail.to_string());
    let signed = device_auth::parse_authorization(authorization).map_err(|e| unauthorized(&e))?;
    let DeviceClaims {
        realm,
        username,
        device_id,
        ..
    } = signed.claims();
    if *realm != key.realm || *username != key.username {
        return Err(unauthorized(&"claims name another account"));
    }
    let device = book
        .devices
        .iter()
        .find(|d| d.id == *device_id)
        .ok_or_else(|| unauthorized(&"unknown device"))?;
    let public_key =
        DevicePublicKey::from_base64url(&device.public_key).map_err(|e| unauthorized(&e))?;
    device_auth::verify_request(&public_key, &signed, method, path, now)
        .map_err(|e| unauthorized(&e))?;
    Ok((device, public_key))
}

struct StartArgs {
    session_txid: String,
    txid: String,
    device_id: Option<String>,
    method: Option<Method>,
    code: String,
    settings: PushSettings,
    lockout: LockoutSettings,
    audit: AuditContext,
    now: i64,
}

fn start<S: AccountStorage + PushStorage>(
    storage: &S,
    key: &AccountKey,
    args: StartArgs,
    effects: &mut Effects,
) -> Result<PushReply, StoreError> {
    let StartArgs {
        session_txid,
        txid,
        device_id,
        method,
        code,
        settings,
        lockout,
        audit,
        now,
    } = args;
    let record = storage.load()?;
    if let Err(refusal) = usable(record.as_ref(), &lockout.policy(), now) {
        return Ok(PushReply::Refused(PushRefusal::Account(refusal)));
    }
    let mut book = storage.load_push()?;
    if let Some(until) = book.muted_until.filter(|&until| until > now) {
        return Ok(PushReply::Refused(PushRefusal::Muted { until }));
    }
    let plain = match method {
        None | Some(Method::VerifiedPush) => false,
        Some(Method::Push) if settings.allow_plain => true,
        Some(_) => return Ok(PushReply::Refused(PushRefusal::PlainNotAllowed)),
    };
    let device = match &device_id {
        Some(id) => book.devices.iter().find(|d| d.id == *id),
        None => book.devices.first(),
    };
    let Some(device) = device.cloned() else {
        return Ok(PushReply::Refused(PushRefusal::NoPushDevice));
    };
    let limit = settings.rate_limit();
    let window = i64::from(limit.window_minutes.get()).saturating_mul(60);
    book.sent.retain(|&t| t > now.saturating_sub(window));
    if !limit.allows(&book.sent, now) {
        let refusal = PushRefusal::RateLimited {
            window_minutes: limit.window_minutes.get(),
        };
        storage.save_push(&book)?;
        let reason = "push_rate_limited";
        storage.append_audit(&event(key, &audit, now, None, "deny", reason))?;
        return Ok(PushReply::Refused(refusal));
    }
    book.sent.push(now);
    book.transactions
        .retain(|tx| tx.expires_at.saturating_add(KEEP_AFTER_EXPIRY) > now);
    // Only the newest push of a session stays answerable.
    for tx in &mut book.transactions {
        if tx.session_txid == session_txid && tx.state == PushState::Pending {
            tx.state = PushState::Cancelled;
            withdraw(effects, &tx.device_id, &tx.txid);
        }
    }
    let tx = PushTransaction {
        txid,
        session_txid,
        device_id: device.id.clone(),
        client_id: audit.client_id.clone(),
        application: audit.application.clone(),
        ip: audit.ip.clone(),
        country: audit.country.clone(),
        region: audit.region.clone(),
        lockout,
        code: (!plain).then_some(code),
        created_at: now,
        expires_at: now.saturating_add(settings.lifetime),
        state: PushState::Pending,
        claimed: false,
    };
    let push = tx.to_wire(&key.username);
    let verification_code = tx.code.clone();
    book.transactions.push(tx);
    let excess = book.transactions.len().saturating_sub(MAX_TRANSACTIONS);
    book.transactions.drain(..excess);
    storage.save_push(&book)?;
    if let Ok(message) = serde_json::to_string(&push) {
        effects.deliveries.push((device.id.clone(), message));
    }
    effects.changed = true;
    Ok(PushReply::Started {
        push,
        verification_code,
        device_name: device.name,
    })
}

/// The user may authenticate (active, not locked out, enrolled).
fn usable(
    record: Option<&AccountRecord>,
    lockout: &LockoutPolicy,
    now: i64,
) -> Result<(), Refusal> {
    let record = record.ok_or(Refusal::EnrollmentRequired)?;
    if record.status == UserStatus::Disabled {
        return Err(Refusal::Disabled);
    }
    if record.lockout.is_locked(lockout, now) {
        return Err(Refusal::LockedOut);
    }
    Ok(())
}

fn find_session_tx<'a>(
    book: &'a mut PushBook,
    txid: &str,
    session_txid: &str,
) -> Option<&'a mut PushTransaction> {
    book.transactions
        .iter_mut()
        .find(|tx| tx.txid == txid && tx.session_txid == session_txid)
}

fn withdraw(effects: &mut Effects, device_id: &str, txid: &str) {
    let message = PushWithdrawn {
        withdrawn: txid.to_owned(),
    };
    if let Ok(text) = serde_json::to_string(&message) {
        effects.deliveries.push((device_id.to_owned(), text));
    }
}

fn status<S: AccountStorage + PushStorage>(
    storage: &S,
    key: &AccountKey,
    txid: &str,
    session_txid: &str,
    now: i64,
    effects: &mut Effects,
) -> Result<PushReply, StoreError> {
    let mut book = storage.load_push()?;
    let Some(tx) = find_session_tx(&mut book, txid, session_txid) else {
        return Ok(PushReply::Refused(PushRefusal::TransactionNotFound));
    };
    let mut grant = None;
    let mut save = false;
    if tx.state == PushState::Pending && tx.expires_at <= now {
        tx.state = PushState::Expired;
        withdraw(effects, &tx.device_id, &tx.txid);
        let audit = tx_audit(tx);
        let factor = Some(tx.method().factor());
        storage.append_audit(&event(key, &audit, now, factor, "deny", "no_response"))?;
        save = true;
    }
    if tx.state == PushState::Approved {
        if tx.claimed {
            return Ok(PushReply::Refused(PushRefusal::TransactionNotFound));
        }
        tx.claimed = true;
        grant = Some((tx.method().factor().to_owned(), "user_approved".to_owned()));
        save = true;
    }
    let (state, expires_at, lockout) = (tx.state, tx.expires_at, tx.lockout);
    if save {
        storage.save_push(&book)?;
    }
    let (attempts_left, locked) = if state == PushState::WrongCode {
        let policy = lockout.policy();
        let lockout = storage.load()?.map(|r| r.lockout).unwrap_or_default();
        (
            Some(lockout.attempts_left(&policy)),
            lockout.is_locked(&policy, now),
        )
    } else {
        (None, false)
    };
    Ok(PushReply::Status {
        state,
        expires_at,
        grant,
        attempts_left,
        locked,
    })
}

#[allow(clippy::too_many_arguments)]
fn answer<S: AccountStorage + PushStorage>(
    storage: &S,
    key: &AccountKey,
    authorization: &str,
    path: &str,
    approval: DeviceApproval,
    settings: &PushSettings,
    now: i64,
    effects: &mut Effects,
) -> Result<PushReply, StoreError> {
    let mut book = storage.load_push()?;
    let (device_id, public_key) = match authenticate(&book, key, authorization, "POST", path, now) {
        Ok((device, public_key)) => (device.id.clone(), public_key),
        Err(refusal) => return Ok(PushReply::Refused(refusal)),
    };
    let refused = |detail: &str| {
        Ok(PushReply::Refused(PushRefusal::ApprovalRefused(
            detail.to_owned(),
        )))
    };
    let Ok(signed) = SignedApproval::try_from(approval) else {
        return refused("the approval is malformed");
    };
    if signed.approval().device_id() != device_id {
        return refused("the approval names another device than the request");
    }
    let Some(tx) = book
        .transactions
        .iter_mut()
        .find(|tx| tx.txid == signed.approval().txid())
    else {
        return refused("no such push");
    };
    if tx.device_id != device_id {
        return refused("this push was not sent to this device");
    }
    if tx.state != PushState::Pending {
        return refused("this push was already answered or withdrawn");
    }
    if tx.expires_at <= now {
        return refused("this push has expired");
    }
    let audit = tx_audit(tx);
    let factor = tx.method().factor();
    let verified = match verify_approval(
        &public_key,
        &signed,
        &tx.txid,
        tx.code.as_deref(),
        now,
        settings.lifetime,
    ) {
        Ok(verified) => verified,
        Err(ApprovalError::WrongCode | ApprovalError::MissingCode) => {
            tx.state = PushState::WrongCode;
            let policy = tx.lockout.policy();
            storage.save_push(&book)?;
            if let Some(mut record) = storage.load()? {
                record.lockout = record.lockout.record_failure(&policy, now);
                storage.save(&record)?;
            }
            storage.append_audit(&event(
                key,
                &audit,
                now,
                Some(factor),
                "deny",
                "verification_code_incorrect",
            ))?;
            effects.changed = true;
            return Ok(PushReply::Answered {
                state: PushState::WrongCode,
                fraud: None,
            });
        }
        Err(error) => return refused(&error.to_string()),
    };
    // A user locked out or disabled since the push was sent cannot approve it.
    if verified.decision == ApprovalDecision::Approve
        && let Err(refusal) = usable(storage.load()?.as_ref(), &tx.lockout.policy(), now)
    {
        storage.append_audit(&event(
            key,
            &audit,
            now,
            Some(factor),
            "deny",
            refusal.reason(),
        ))?;
        return refused("the account cannot sign in now (locked out or disabled)");
    }
    let (state, result, reason) = match verified.decision {
        ApprovalDecision::Approve => (PushState::Approved, "allow", "user_approved"),
        ApprovalDecision::Deny => (PushState::Denied, "deny", "user_cancelled"),
        ApprovalDecision::DenyFraud => (PushState::Fraud, "deny", "user_marked_fraud"),
    };
    tx.state = state;
    let mut fraud = None;
    if state == PushState::Fraud {
        let until = now.saturating_add(settings.mute_seconds);
        book.muted_until = Some(until);
        fraud = Some(fraud_report(key, &audit, now, "device", until));
    }
    storage.save_push(&book)?;
    if state == PushState::Approved
        && let Some(mut record) = storage.load()?
    {
        record.lockout = record.lockout.record_success();
        storage.save(&record)?;
    }
    storage.append_audit(&event(key, &audit, now, Some(factor), result, reason))?;
    effects.changed = true;
    Ok(PushReply::Answered { state, fraud })
}

#[allow(clippy::too_many_arguments)]
fn feedback<S: AccountStorage + PushStorage>(
    storage: &S,
    key: &AccountKey,
    txid: &str,
    session_txid: &str,
    was_me: bool,
    settings: &PushSettings,
    now: i64,
    effects: &mut Effects,
) -> Result<PushReply, StoreError> {
    let mut book = storage.load_push()?;
    let Some(tx) = find_session_tx(&mut book, txid, session_txid) else {
        return Ok(PushReply::Refused(PushRefusal::TransactionNotFound));
    };
    if was_me || tx.state != PushState::Denied {
        // Feedback matters only after a denial; anything else changes nothing.
        return Ok(PushReply::FeedbackRecorded { fraud: None });
    }
    tx.state = PushState::Fraud;
    let audit = tx_audit(tx);
    let factor = tx.method().factor();
    let until = now.saturating_add(settings.mute_seconds);
    book.muted_until = Some(until);
    storage.save_push(&book)?;
    storage.append_audit(&event(
        key,
        &audit,
        now,
        Some(factor),
        "deny",
        "user_marked_fraud",
    ))?;
    effects.changed = true;
    Ok(PushReply::FeedbackRecorded {
        fraud: Some(fraud_report(key, &audit, now, "prompt", until)),
    })
}

fn tx_audit(tx: &PushTransaction) -> AuditContext {
    AuditContext {
        client_id: tx.client_id.clone(),
        application: tx.application.clone(),
        txid: tx.txid.clone(),
        ip: tx.ip.clone(),
        country: tx.country.clone(),
        region: tx.region.clone(),
    }
}

fn fraud_report(
    key: &AccountKey,
    audit: &AuditContext,
    now: i64,
    via: &str,
    muted_until: i64,
) -> FraudReport {
    FraudReport {
        at: now,
        realm: key.realm.clone(),
        username: key.username.clone(),
        txid: audit.txid.clone(),
        application: audit.application.clone(),
        ip: audit.ip.clone(),
        country: audit.country.clone(),
        via: via.to_owned(),
        muted_until,
    }
}

/// The administrators' notification outbox of one realm: fraud reports, newest last.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OutboxCommand {
    Append { report: FraudReport },
    List,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxReply {
    Appended,
    Reports { reports: Vec<FraudReport> },
}

/// The outbox object's storage.
pub trait OutboxStorage {
    fn append_report(&self, report: &FraudReport) -> Result<(), StoreError>;
    fn reports(&self) -> Result<Vec<FraudReport>, StoreError>;
}

pub fn execute_outbox(
    storage: &impl OutboxStorage,
    command: OutboxCommand,
) -> Result<OutboxReply, StoreError> {
    match command {
        OutboxCommand::Append { report } => {
            storage.append_report(&report)?;
            Ok(OutboxReply::Appended)
        }
        OutboxCommand::List => Ok(OutboxReply::Reports {
            reports: storage.reports()?,
        }),
    }
}

/// The outbox object's name for `realm`: a JSON object, so it never collides with an
/// account's (a JSON array).
pub fn outbox_object_name(realm: &str) -> String {
    serde_json::json!({ "outbox": realm }).to_string()
}

impl PushSettings {
    /// The settings from the environment (`TESSERA_PUSH_LIFETIME_SECONDS`,
    /// `TESSERA_PUSH_MUTE_SECONDS`, `TESSERA_PUSH_CODE_DIGITS`,
    /// `TESSERA_PUSH_RATE_LIMIT` as `MAX/WINDOW_MINUTES`,
    /// `TESSERA_ACTIVATION_LIFETIME_SECONDS`); unset or unusable values keep the default,
    /// with a line in the log.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let mut settings = Self::default();
        let number = |name: &str, min: i64, max: i64| -> Option<i64> {
            let text = var(name)?;
            match text.trim().parse::<i64>() {
                Ok(value) if (min..=max).contains(&value) => Some(value),
                _ => {
                    crate::web::log(&format!("{name}={text} ignored: not {min} to {max}"));
                    None
                }
            }
        };
        if let Some(value) = number("TESSERA_PUSH_LIFETIME_SECONDS", 1, 600) {
            settings.lifetime = value;
        }
        if let Some(value) = number("TESSERA_PUSH_MUTE_SECONDS", 0, 30 * 24 * 3600) {
            settings.mute_seconds = value;
        }
        if let Some(value) = number("TESSERA_ACTIVATION_LIFETIME_SECONDS", 1, 30 * 24 * 3600) {
            settings.activation_lifetime = value;
        }
        if let Some(value) =
            number("TESSERA_PUSH_CODE_DIGITS", 3, 6).and_then(|value| u8::try_from(value).ok())
        {
            settings.code_digits = value;
        }
        if let Some(text) = var("TESSERA_PUSH_RATE_LIMIT") {
            let parsed = text.split_once('/').and_then(|(max, window)| {
                let max = max.trim().parse::<u32>().ok().filter(|&m| m >= 1)?;
                let window = window
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|w| (1..=1440).contains(w))?;
                Some((max, window))
            });
            match parsed {
                Some((max, window)) => {
                    settings.rate_max = max;
                    settings.rate_window_minutes = window;
                }
                None => crate::web::log(&format!(
                    "TESSERA_PUSH_RATE_LIMIT={text} ignored: not MAX/WINDOW_MINUTES"
                )),
            }
        }
        settings
    }
}
