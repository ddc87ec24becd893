//! The account object: one per (realm, username). It owns the user's status, devices
//! (with each TOTP secret and the last accepted time step), the lockout state and the
//! per-user audit trail. It takes every decision about its user inside itself — the
//! policy verdict at the start of a prompt (with the policy the Worker resolved for the
//! application) and every passcode — so concurrent attempts are serialized: no lost
//! failure count, no code accepted twice, and every decision is one audit row.
//!
//! `AccountCommand`/`AccountReply` are the internal messages between the Worker and the
//! object (JSON over the Durable Object's `fetch`); they never reach a client.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use tessera_shared::SecretString;
use tessera_shared::bypass::{BypassCode, BypassError, BypassPepper, Redemption, StoredBypassCode};
use tessera_shared::otp::{Algorithm, OtpError, OtpKey, Totp};
use tessera_shared::policy::{
    Access, AllowReason, DenyReason, EffectivePolicy, Location, LocationDecision, LockoutPolicy,
    LockoutState, Policy,
};
use tessera_shared::v1::admin::BypassCodeInfo;
use tessera_shared::v1::{Method, MethodOption, PolicyConfig};

use crate::code::{Grant, IssuedCode};
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
    /// `request.cf.regionCode` (ISO 3166-2 subdivision without the country prefix).
    #[serde(default)]
    pub region: Option<String>,
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
    /// The prompt is starting: the policy's verdict for this user, from where the
    /// platform says the request comes (`audit`), with the policy in force for the
    /// application (`policy`, global < application merged by the Worker).
    Begin {
        audit: AuditContext,
        now: i64,
        #[serde(default)]
        policy: PolicyConfig,
        /// The browser showed a remembered-device token that is valid for this user and
        /// application under `policy` (checked by the Worker, which holds the key).
        #[serde(default)]
        remembered: bool,
        /// The grant of the authorization code to issue if the verdict is a final allow.
        #[serde(default)]
        code: Option<Grant>,
    },
    /// Check a passcode against the user's devices, refusing replays and counting failures
    /// against the policy's lockout settings.
    VerifyPasscode {
        passcode: Passcode,
        audit: AuditContext,
        now: i64,
        #[serde(default)]
        policy: PolicyConfig,
        /// The grant of the authorization code to issue if the passcode is accepted.
        #[serde(default)]
        code: Option<Grant>,
    },
    /// Issue the authorization code of a sign-in another command already allowed (a push
    /// answered in this object).
    IssueCode {
        code: Grant,
        factor: String,
        reason: String,
    },
    /// Create or update the user and devices without resetting counters or steps.
    Seed { user: UserSeed },
    /// The newest audit rows, newest first.
    Audit { limit: u32 },
    /// Store new bypass codes (hashed by the Worker, never in clear), replacing the
    /// user's live ones unless `preserve_existing`; refused past
    /// [`MAX_LIVE_BYPASS_CODES`] and for a user who does not exist.
    IssueBypassCodes {
        codes: Vec<BypassCodeRecord>,
        #[serde(default)]
        preserve_existing: bool,
        now: i64,
    },
    /// The user's live bypass codes (never the codes themselves).
    BypassCodes { now: i64 },
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
        /// The authorization code issued, when the command carried its grant.
        #[serde(default)]
        code: Option<IssuedCode>,
    },
    Refused(Refusal),
    Seeded,
    CodeIssued(IssuedCode),
    /// A final allow without a second factor: bypass status, policy skip, a trusted
    /// network, an unenrolled user let through, a remembered device.
    Allowed {
        factor: String,
        reason: String,
        /// The authorization code issued, when the command carried its grant.
        #[serde(default)]
        code: Option<IssuedCode>,
    },
    Audit(Vec<AuditEvent>),
    /// The bypass codes just stored, or the live ones listed, in issue order.
    BypassCodes(Vec<BypassCodeInfo>),
    /// Storing the codes would leave more than `limit` live codes; nothing changed.
    BypassCodeLimit {
        limit: usize,
    },
    /// There is no such user (bypass codes are issued to existing users only).
    UnknownUser,
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
    /// The policy denies the sign-in.
    Denied(Denial),
}

/// A policy denial on the internal wire (`DenyReason` is a domain type and does not
/// serialize).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    SanctionedRegion,
    LocationDenied,
    AnonymousNetwork,
    UnknownLocation,
    NetworkNotAuthorized,
    PolicyDenied,
    DenyUnenrolledUser,
    NoUsableMethod,
}

impl Denial {
    pub fn reason(self) -> DenyReason {
        match self {
            Self::SanctionedRegion => DenyReason::SanctionedRegion,
            Self::LocationDenied => DenyReason::LocationDenied,
            Self::AnonymousNetwork => DenyReason::AnonymousNetwork,
            Self::UnknownLocation => DenyReason::UnknownLocation,
            Self::NetworkNotAuthorized => DenyReason::NetworkNotAuthorized,
            Self::PolicyDenied => DenyReason::PolicyDenied,
            Self::DenyUnenrolledUser => DenyReason::DenyUnenrolledUser,
            Self::NoUsableMethod => DenyReason::NoUsableMethod,
        }
    }

    /// A reason this build does not know denies as `policy_denied`: it fails closed.
    pub fn from_reason(reason: DenyReason) -> Self {
        match reason {
            DenyReason::SanctionedRegion => Self::SanctionedRegion,
            DenyReason::LocationDenied => Self::LocationDenied,
            DenyReason::AnonymousNetwork => Self::AnonymousNetwork,
            DenyReason::UnknownLocation => Self::UnknownLocation,
            DenyReason::NetworkNotAuthorized => Self::NetworkNotAuthorized,
            DenyReason::DenyUnenrolledUser => Self::DenyUnenrolledUser,
            DenyReason::NoUsableMethod => Self::NoUsableMethod,
            _ => Self::PolicyDenied,
        }
    }
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Denied(denial) => denial.reason().as_str(),
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
    /// `active` (also lifts a lockout, as Duo's "unlock = set active"), `bypass` or
    /// `disabled`; absent leaves the status as it is (`active` for a new user).
    #[serde(default)]
    pub status: Option<String>,
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
    /// Signs in without a second factor (Duo's "bypass"); location rules still apply.
    Bypass,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Bypass => "bypass",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "bypass" => Some(Self::Bypass),
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

/// The most live bypass codes one user may hold (Duo's limit).
pub const MAX_LIVE_BYPASS_CODES: usize = 100;

/// A bypass code as the account stores it: the salt and HMAC-SHA256(pepper, salt ‖ code)
/// (both base64url), never the code. `remaining_uses: None` is unlimited; `expires_at` is
/// the first Unix second at which it no longer works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BypassCodeRecord {
    pub id: String,
    pub salt: String,
    pub hash: String,
    pub remaining_uses: Option<u32>,
    pub expires_at: Option<i64>,
    pub created: i64,
}

impl BypassCodeRecord {
    /// The stored form of a freshly hashed code.
    pub fn new(id: String, stored: &StoredBypassCode, created: i64) -> Self {
        use base64::Engine as _;
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self {
            id,
            salt: encode(&stored.salt),
            hash: encode(&stored.hash),
            remaining_uses: stored.remaining_uses,
            expires_at: stored.expires_at,
            created,
        }
    }

    /// The shared crate's form, for redemption.
    fn stored(&self) -> Result<StoredBypassCode, StoreError> {
        use base64::Engine as _;
        let corrupt = || StoreError::Corrupt(format!("bypass code {}", self.id));
        let decode = |text: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| corrupt())
        };
        Ok(StoredBypassCode {
            salt: decode(&self.salt)?.try_into().map_err(|_| corrupt())?,
            hash: decode(&self.hash)?.try_into().map_err(|_| corrupt())?,
            remaining_uses: self.remaining_uses,
            expires_at: self.expires_at,
        })
    }

    fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at) && self.remaining_uses != Some(0)
    }

    /// What lists show: everything but the salt and hash.
    pub fn info(&self) -> BypassCodeInfo {
        BypassCodeInfo {
            bypass_code_id: self.id.clone(),
            created: self.created,
            expiration: self.expires_at,
            reuse_count: self.remaining_uses.unwrap_or(0),
            admin_email: None,
        }
    }
}

/// The object's storage, synchronous as Durable Object SQLite is: nothing else runs
/// between a `load` and the `save` that follows it.
pub trait AccountStorage {
    fn load(&self) -> Result<Option<AccountRecord>, StoreError>;
    fn save(&self, record: &AccountRecord) -> Result<(), StoreError>;
    fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// The newest `limit` audit rows, newest first.
    fn audit(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError>;
    /// A new authorization code routed to this object: random bytes and the object's own
    /// route (`code::draw`), not yet stored.
    fn draw_code(&self) -> Result<String, StoreError>;
    fn insert_code(&self, code_hash: &str, grant: &Grant) -> Result<(), StoreError>;
    /// Reads and deletes a code in one step, and deletes the codes expired before `now`
    /// (here rather than on insert, so a sign-in pays for no purge).
    fn take_code(&self, code_hash: &str, now: i64) -> Result<Option<Grant>, StoreError>;
    /// Every stored bypass code, in issue order.
    fn bypass_codes(&self) -> Result<Vec<BypassCodeRecord>, StoreError>;
    /// Inserts a bypass code, or replaces the one with the same id.
    fn put_bypass_code(&self, code: &BypassCodeRecord) -> Result<(), StoreError>;
    fn delete_bypass_code(&self, id: &str) -> Result<(), StoreError>;
    /// The pepper stored codes are hashed under: a Worker secret, never stored.
    fn bypass_pepper(&self) -> Result<BypassPepper, StoreError>;
}

/// The factor recorded for an allow without a second factor (Admin API vocabulary).
const NO_FACTOR: &str = "not_available";

/// Runs one command inside the account object.
pub fn execute(
    storage: &impl AccountStorage,
    key: &AccountKey,
    command: AccountCommand,
) -> Result<AccountReply, StoreError> {
    match command {
        AccountCommand::Begin {
            audit,
            now,
            policy,
            remembered,
            code,
        } => {
            let policy = resolve(policy)?;
            let reply = begin(storage, key, &policy, remembered, &audit, now)?;
            issue_code_if_allowed(storage, code, reply)
        }
        AccountCommand::VerifyPasscode {
            passcode,
            audit,
            now,
            policy,
            code,
        } => {
            let policy = resolve(policy)?;
            let reply = verify_passcode(storage, key, &policy, &passcode.0, &audit, now)?;
            issue_code_if_allowed(storage, code, reply)
        }
        AccountCommand::IssueCode {
            code,
            factor,
            reason,
        } => Ok(AccountReply::CodeIssued(issue_code(
            storage,
            code.decided(&factor, &reason),
        )?)),
        AccountCommand::Seed { user } => {
            let merged = merge_seed(storage.load()?, key, user)?;
            storage.save(&merged)?;
            Ok(AccountReply::Seeded)
        }
        AccountCommand::Audit { limit } => Ok(AccountReply::Audit(storage.audit(limit)?)),
        AccountCommand::IssueBypassCodes {
            codes,
            preserve_existing,
            now,
        } => issue_bypass_codes(storage, codes, preserve_existing, now),
        AccountCommand::BypassCodes { now } => {
            if storage.load()?.is_none() {
                return Ok(AccountReply::UnknownUser);
            }
            let live = live_bypass_codes(storage, now)?;
            Ok(AccountReply::BypassCodes(
                live.iter().map(BypassCodeRecord::info).collect(),
            ))
        }
    }
}

/// Issues the code for `grant` when `reply` allows the sign-in, in the same step as the
/// decision and after its audit row, and puts it in the reply; any other reply issues
/// nothing.
fn issue_code_if_allowed(
    storage: &impl AccountStorage,
    grant: Option<Grant>,
    mut reply: AccountReply,
) -> Result<AccountReply, StoreError> {
    if let (
        Some(grant),
        AccountReply::Accepted {
            factor,
            reason,
            code,
            ..
        }
        | AccountReply::Allowed {
            factor,
            reason,
            code,
        },
    ) = (grant, &mut reply)
    {
        *code = Some(issue_code(storage, grant.decided(factor, reason))?);
    }
    Ok(reply)
}

/// Draws a code routed to this object and stores `grant` under its hash.
fn issue_code(storage: &impl AccountStorage, grant: Grant) -> Result<IssuedCode, StoreError> {
    let code = storage.draw_code()?;
    storage.insert_code(&crate::code::code_hash(&code), &grant)?;
    Ok(IssuedCode(code))
}

/// Redeems an authorization code held by this object: deletes it and returns its grant
/// if it had not expired (`/oauth/v1/token`).
pub fn redeem_code(
    storage: &impl AccountStorage,
    code_hash: &str,
    now: i64,
) -> Result<Option<Grant>, StoreError> {
    Ok(storage
        .take_code(code_hash, now)?
        .filter(|grant| grant.expires_at >= now))
}

/// The user's live bypass codes; expired and used-up ones are deleted on the way.
fn live_bypass_codes(
    storage: &impl AccountStorage,
    now: i64,
) -> Result<Vec<BypassCodeRecord>, StoreError> {
    let (live, dead): (Vec<_>, Vec<_>) = storage
        .bypass_codes()?
        .into_iter()
        .partition(|code| code.is_live(now));
    for code in dead {
        storage.delete_bypass_code(&code.id)?;
    }
    Ok(live)
}

/// Stores codes the Worker generated and hashed. By default they replace the user's
/// codes; with `preserve_existing` they join them, up to [`MAX_LIVE_BYPASS_CODES`].
fn issue_bypass_codes(
    storage: &impl AccountStorage,
    codes: Vec<BypassCodeRecord>,
    preserve_existing: bool,
    now: i64,
) -> Result<AccountReply, StoreError> {
    if storage.load()?.is_none() {
        return Ok(AccountReply::UnknownUser);
    }
    let live = live_bypass_codes(storage, now)?;
    let kept = if preserve_existing { live.len() } else { 0 };
    if kept.saturating_add(codes.len()) > MAX_LIVE_BYPASS_CODES {
        return Ok(AccountReply::BypassCodeLimit {
            limit: MAX_LIVE_BYPASS_CODES,
        });
    }
    if !preserve_existing {
        for code in &live {
            storage.delete_bypass_code(&code.id)?;
        }
    }
    for code in &codes {
        storage.put_bypass_code(code)?;
    }
    Ok(AccountReply::BypassCodes(
        codes.iter().map(BypassCodeRecord::info).collect(),
    ))
}

/// The checked policy, or a corrupt-record error: the Worker only sends policies it
/// resolved from checked configuration.
fn resolve(config: PolicyConfig) -> Result<EffectivePolicy, StoreError> {
    Policy::try_from(config)
        .map(|policy| policy.resolve())
        .map_err(|error| StoreError::Corrupt(format!("policy: {error}")))
}

/// The methods each device offers. Devices hold TOTP secrets: passcodes.
fn enrolled_methods(record: &AccountRecord) -> Vec<(Method, &DeviceRecord)> {
    record
        .devices
        .iter()
        .map(|device| (Method::Passcode, device))
        .collect()
}

/// The policy verdict at the start of a prompt. Order: sanctioned regions (always, even
/// for bypass users), disabled, locked out, bypass status (still subject to the location
/// rule), then the policy's own verdict; a remembered device stands in for a required
/// second factor.
fn begin(
    storage: &impl AccountStorage,
    key: &AccountKey,
    policy: &EffectivePolicy,
    remembered: bool,
    audit: &AuditContext,
    now: i64,
) -> Result<AccountReply, StoreError> {
    let record = storage.load()?;
    let location = Location::from_platform(audit.country.as_deref(), audit.region.as_deref());
    if location.is_sanctioned() {
        let refusal = Refusal::Denied(Denial::SanctionedRegion);
        return refuse(storage, key, audit, now, refusal);
    }
    if let Some(record) = &record {
        if record.status == UserStatus::Disabled {
            return refuse(storage, key, audit, now, Refusal::Disabled);
        }
        if record.lockout.is_locked(&policy.lockout, now) {
            return refuse(storage, key, audit, now, Refusal::LockedOut);
        }
        if record.status == UserStatus::Bypass {
            if let LocationDecision::Deny { reason } = policy.location.decide(&location) {
                let refusal = Refusal::Denied(Denial::from_reason(reason));
                return refuse(storage, key, audit, now, refusal);
            }
            return allow(storage, key, audit, now, NO_FACTOR, "bypass_user");
        }
    }
    let devices = record.as_ref().map(enrolled_methods).unwrap_or_default();
    let mut enrolled: Vec<Method> = devices.iter().map(|(method, _)| *method).collect();
    // Live bypass codes count as an enrolled method: a user who lost every device and
    // holds codes from the help desk can still sign in.
    if record.is_some() && !live_bypass_codes(storage, now)?.is_empty() {
        enrolled.push(Method::BypassCode);
    }
    let client = audit
        .ip
        .as_deref()
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    match policy.evaluate(&location, client, &enrolled) {
        Access::Deny(reason) => {
            let refusal = Refusal::Denied(Denial::from_reason(reason));
            refuse(storage, key, audit, now, refusal)
        }
        Access::Allow(reason) => {
            let factor = match reason {
                AllowReason::TrustedNetwork => "trusted_network",
                _ => NO_FACTOR,
            };
            allow(storage, key, audit, now, factor, reason.as_str())
        }
        Access::Enroll => refuse(storage, key, audit, now, Refusal::EnrollmentRequired),
        Access::SecondFactor(_) if remembered => {
            let reason = "remembered_device";
            allow(storage, key, audit, now, reason, reason)
        }
        Access::SecondFactor(methods) => {
            let mut options = code_options(&devices, &methods);
            // One option, never naming a code; last, as the policy ranks it.
            if methods.contains(&Method::BypassCode) {
                options.push(MethodOption {
                    method: Method::BypassCode,
                    device_name: None,
                    device_id: None,
                });
            }
            Ok(AccountReply::Ready { methods: options })
        }
    }
}

/// One option per code method the policy allows, not one per device: a passcode is
/// checked against every device of its kind, so the user picks the method, not the device.
/// The device is named only when it is the only one of its kind.
fn code_options(devices: &[(Method, &DeviceRecord)], allowed: &[Method]) -> Vec<MethodOption> {
    let mut options: Vec<MethodOption> = Vec::new();
    for (method, device) in devices
        .iter()
        .filter(|(method, _)| allowed.contains(method))
    {
        match options.iter_mut().find(|option| option.method == *method) {
            Some(option) => {
                option.device_name = None;
                option.device_id = None;
            }
            None => options.push(MethodOption {
                method: *method,
                device_name: Some(device.name.clone()),
                device_id: Some(device.id.clone()),
            }),
        }
    }
    options
}

fn allow(
    storage: &impl AccountStorage,
    key: &AccountKey,
    audit: &AuditContext,
    now: i64,
    factor: &str,
    reason: &str,
) -> Result<AccountReply, StoreError> {
    storage.append_audit(&event(key, audit, now, Some(factor), "allow", reason))?;
    Ok(AccountReply::Allowed {
        factor: factor.to_owned(),
        reason: reason.to_owned(),
        code: None,
    })
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
    effective: &EffectivePolicy,
    passcode: &SecretString,
    audit: &AuditContext,
    now: i64,
) -> Result<AccountReply, StoreError> {
    let policy = &effective.lockout;
    let loaded = storage.load()?;
    // Nine digits (with Duo's separators) is a bypass code, never a TOTP code.
    if BypassCode::parse(passcode.expose_secret()).is_ok() {
        return redeem_bypass_code(storage, key, effective, loaded, passcode, audit, now);
    }
    let record = match usable(loaded.as_ref(), policy, now) {
        Ok(record) => record,
        Err(refusal) => return refuse(storage, key, audit, now, refusal),
    };
    if !effective.allowed_methods.contains(&Method::Passcode) {
        let refusal = Refusal::Denied(Denial::NoUsableMethod);
        return refuse(storage, key, audit, now, refusal);
    }
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
            code: None,
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

/// A bypass code typed as a passcode. The user must exist, be neither disabled nor locked
/// out, and the policy must allow bypass codes; devices are not needed. A match consumes
/// one use (the code is deleted at zero); a mismatch, an expired or a used-up code is a
/// failed attempt toward lockout, exactly like a wrong passcode.
fn redeem_bypass_code(
    storage: &impl AccountStorage,
    key: &AccountKey,
    effective: &EffectivePolicy,
    loaded: Option<AccountRecord>,
    candidate: &SecretString,
    audit: &AuditContext,
    now: i64,
) -> Result<AccountReply, StoreError> {
    let policy = &effective.lockout;
    let Some(mut record) = loaded else {
        return refuse(storage, key, audit, now, Refusal::EnrollmentRequired);
    };
    if record.status == UserStatus::Disabled {
        return refuse(storage, key, audit, now, Refusal::Disabled);
    }
    if record.lockout.is_locked(policy, now) {
        return refuse(storage, key, audit, now, Refusal::LockedOut);
    }
    if !effective.allowed_methods.contains(&Method::BypassCode) {
        let refusal = Refusal::Denied(Denial::NoUsableMethod);
        return refuse(storage, key, audit, now, refusal);
    }
    let pepper = storage.bypass_pepper()?;
    let factor = Method::BypassCode.factor();
    // Every stored code is tried, expired ones included: knowing the code is what tells
    // an expired code from a wrong one, and both are failures.
    let mut matched = None;
    for code in storage.bypass_codes()? {
        match code
            .stored()?
            .redeem(candidate.expose_secret(), &pepper, now)
        {
            Ok(redemption) => {
                matched = Some((code, redemption));
                break;
            }
            // Known but no longer usable: delete it, and count the attempt as a failure.
            Err(BypassError::Expired | BypassError::UsedUp) => {
                storage.delete_bypass_code(&code.id)?;
            }
            Err(_) => {}
        }
    }
    if let Some((code, redemption)) = matched {
        match redemption {
            Redemption::UsedUp => storage.delete_bypass_code(&code.id)?,
            Redemption::Remaining(left) if left.remaining_uses != code.remaining_uses => {
                storage.put_bypass_code(&BypassCodeRecord {
                    remaining_uses: left.remaining_uses,
                    ..code.clone()
                })?;
            }
            Redemption::Remaining(_) => {}
        }
        record.lockout = record.lockout.record_success();
        storage.save(&record)?;
        let reason = "valid_passcode";
        storage.append_audit(&event(key, audit, now, Some(factor), "allow", reason))?;
        return Ok(AccountReply::Accepted {
            factor: factor.to_owned(),
            reason: reason.to_owned(),
            device_id: code.id,
            code: None,
        });
    }
    record.lockout = record.lockout.record_failure(policy, now);
    storage.save(&record)?;
    let refusal = if record.lockout.is_locked(policy, now) {
        Refusal::LockedOut
    } else {
        Refusal::InvalidPasscode {
            attempts_left: record.lockout.attempts_left(policy),
        }
    };
    let reason = Refusal::InvalidPasscode { attempts_left: 0 }.reason();
    storage.append_audit(&event(key, audit, now, Some(factor), "deny", reason))?;
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

/// The audit row for a decision about the account `key` (also used by `push_object`).
pub(crate) fn event(
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
) -> Result<AccountRecord, StoreError> {
    let mut record = existing.unwrap_or_else(|| AccountRecord {
        realm: key.realm.clone(),
        username: key.username.clone(),
        status: UserStatus::Active,
        lockout: LockoutState::default(),
        devices: Vec::new(),
    });
    if let Some(status) = &seed.status {
        record.status = UserStatus::parse(status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?;
        if record.status == UserStatus::Active {
            record.lockout = LockoutState::default();
        }
    }
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
    Ok(record)
}
