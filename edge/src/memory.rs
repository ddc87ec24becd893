//! In-memory stores for native tests and tools. Every command and reply makes the same
//! JSON round trip it makes to a Durable Object, and runs through the same `execute`
//! functions, so the tests exercise the objects' real logic and wire format.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::account::{
    self, AccountCommand, AccountKey, AccountRecord, AccountReply, AccountStorage, AuditEvent,
    BypassCodeRecord,
};
use crate::sealing::StorageKey;
use tessera_shared::bypass::BypassPepper;
use tessera_shared::v1::PolicyConfig;

use crate::code::Grant;
use crate::directory::{
    self, AppRecord, AppSettings, DirectoryCommand, DirectoryReply, DirectoryStorage,
};
use crate::issuer::{self, IssuerCommand, IssuerReply, IssuerStorage, StoredKey};
use crate::push_object::{
    self, Effects, FraudReport, OutboxCommand, OutboxReply, OutboxStorage, PushBook, PushCommand,
    PushReply, PushStorage,
};
use crate::store::{Entropy, StoreError, Stores};

#[derive(Debug, Default)]
pub struct MemoryAccount {
    record: RefCell<Option<AccountRecord>>,
    audit: RefCell<Vec<AuditEvent>>,
    push: RefCell<PushBook>,
    codes: RefCell<HashMap<String, Grant>>,
    bypass_codes: RefCell<Vec<BypassCodeRecord>>,
    /// The route of the codes this object issues: its name in unpadded base64url.
    route: String,
    entropy: CountingEntropy,
}

impl MemoryAccount {
    /// The object named `name` (`AccountKey::object_name`).
    fn named(name: &str) -> Self {
        Self {
            route: URL_SAFE_NO_PAD.encode(name),
            ..Self::default()
        }
    }
}

/// The `TESSERA_STORAGE_KEY` the in-memory objects stand for (32 bytes of base64): its
/// bypass-code pepper is the one [`test_bypass_pepper`] gives the Worker's config.
pub const TEST_STORAGE_KEY: &str = "dGVzc2VyYSBpbi1tZW1vcnkgc3RvcmFnZSBrZXkgLi4=";

/// The bypass-code pepper derived from [`TEST_STORAGE_KEY`], as the Worker derives it.
pub fn test_bypass_pepper() -> Option<BypassPepper> {
    StorageKey::from_base64(TEST_STORAGE_KEY).map(|key| key.bypass_pepper().clone())
}

impl PushStorage for MemoryAccount {
    fn load_push(&self) -> Result<PushBook, StoreError> {
        Ok(self.push.borrow().clone())
    }

    fn save_push(&self, book: &PushBook) -> Result<(), StoreError> {
        *self.push.borrow_mut() = book.clone();
        Ok(())
    }
}

/// A realm's notification outbox in memory.
#[derive(Debug, Default)]
pub struct MemoryOutbox(RefCell<Vec<FraudReport>>);

impl OutboxStorage for MemoryOutbox {
    fn append_report(&self, report: &FraudReport) -> Result<(), StoreError> {
        self.0.borrow_mut().push(report.clone());
        Ok(())
    }

    fn reports(&self) -> Result<Vec<FraudReport>, StoreError> {
        Ok(self.0.borrow().clone())
    }
}

impl AccountStorage for MemoryAccount {
    fn load(&self) -> Result<Option<AccountRecord>, StoreError> {
        Ok(self.record.borrow().clone())
    }

    fn save(&self, record: &AccountRecord) -> Result<(), StoreError> {
        *self.record.borrow_mut() = Some(record.clone());
        Ok(())
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.audit.borrow_mut().push(event.clone());
        Ok(())
    }

    fn draw_code(&self) -> Result<String, StoreError> {
        crate::code::draw(&self.entropy, &self.route)
    }

    fn insert_code(&self, code_hash: &str, grant: &Grant) -> Result<(), StoreError> {
        self.codes
            .borrow_mut()
            .insert(code_hash.to_owned(), grant.clone());
        Ok(())
    }

    fn take_code(&self, code_hash: &str, now: i64) -> Result<Option<Grant>, StoreError> {
        let mut codes = self.codes.borrow_mut();
        let grant = codes.remove(code_hash);
        codes.retain(|_, grant| grant.expires_at >= now);
        Ok(grant)
    }

    fn audit(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self
            .audit
            .borrow()
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect())
    }

    fn bypass_codes(&self) -> Result<Vec<BypassCodeRecord>, StoreError> {
        Ok(self.bypass_codes.borrow().clone())
    }

    fn put_bypass_code(&self, code: &BypassCodeRecord) -> Result<(), StoreError> {
        let mut codes = self.bypass_codes.borrow_mut();
        match codes.iter_mut().find(|stored| stored.id == code.id) {
            Some(stored) => *stored = code.clone(),
            None => codes.push(code.clone()),
        }
        Ok(())
    }

    fn delete_bypass_code(&self, id: &str) -> Result<(), StoreError> {
        self.bypass_codes.borrow_mut().retain(|code| code.id != id);
        Ok(())
    }

    fn bypass_pepper(&self) -> Result<BypassPepper, StoreError> {
        test_bypass_pepper().ok_or_else(|| StoreError::Backend("no test pepper".to_owned()))
    }
}

#[derive(Debug, Default)]
pub struct MemoryDirectory {
    applications: RefCell<HashMap<String, AppRecord>>,
    realm_policies: RefCell<HashMap<String, PolicyConfig>>,
    settings: RefCell<HashMap<String, AppSettings>>,
}

impl DirectoryStorage for MemoryDirectory {
    fn application(&self, client_id: &str) -> Result<Option<AppRecord>, StoreError> {
        Ok(self.applications.borrow().get(client_id).cloned())
    }

    fn put_application(&self, app: &AppRecord) -> Result<(), StoreError> {
        self.applications
            .borrow_mut()
            .insert(app.client_id.clone(), app.clone());
        Ok(())
    }

    fn realm_policy(&self, realm: &str) -> Result<Option<PolicyConfig>, StoreError> {
        Ok(self.realm_policies.borrow().get(realm).cloned())
    }

    fn put_realm_policy(&self, realm: &str, policy: &PolicyConfig) -> Result<(), StoreError> {
        self.realm_policies
            .borrow_mut()
            .insert(realm.to_owned(), policy.clone());
        Ok(())
    }

    fn app_settings(&self, client_id: &str) -> Result<Option<AppSettings>, StoreError> {
        Ok(self.settings.borrow().get(client_id).cloned())
    }

    fn put_app_settings(&self, client_id: &str, settings: &AppSettings) -> Result<(), StoreError> {
        self.settings
            .borrow_mut()
            .insert(client_id.to_owned(), settings.clone());
        Ok(())
    }
}

/// The issuer object's keys and seen `jti`s (with their expiry).
#[derive(Debug, Default)]
pub struct MemoryIssuer {
    keys: RefCell<HashMap<String, StoredKey>>,
    jtis: RefCell<HashMap<(String, String), i64>>,
}

impl IssuerStorage for MemoryIssuer {
    fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self.keys.borrow().values().cloned().collect())
    }

    fn put_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        self.keys.borrow_mut().insert(key.kid.clone(), key.clone());
        Ok(())
    }

    fn delete_key(&self, kid: &str) -> Result<(), StoreError> {
        self.keys.borrow_mut().remove(kid);
        Ok(())
    }

    fn jti_seen(&self, scope: &str, jti: &str, now: i64) -> Result<bool, StoreError> {
        Ok(self
            .jtis
            .borrow()
            .get(&(scope.to_owned(), jti.to_owned()))
            .is_some_and(|expires_at| *expires_at >= now))
    }

    fn insert_jti(&self, scope: &str, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        self.jtis
            .borrow_mut()
            .insert((scope.to_owned(), jti.to_owned()), expires_at);
        Ok(())
    }

    fn purge_jtis(&self, now: i64) -> Result<(), StoreError> {
        self.jtis
            .borrow_mut()
            .retain(|_, expires_at| *expires_at >= now);
        Ok(())
    }
}

impl MemoryIssuer {
    /// Number of `jti`s held (expired ones are purged on the next record).
    pub fn jti_count(&self) -> usize {
        self.jtis.borrow().len()
    }

    /// The stored keys' ids.
    pub fn kids(&self) -> Vec<String> {
        self.keys.borrow().keys().cloned().collect()
    }
}

/// All state in memory, plus static assets keyed by path. Directory objects are kept
/// apart by name (the registry and one per realm), as in production.
#[derive(Debug, Default)]
pub struct MemoryStores {
    accounts: RefCell<HashMap<String, std::rc::Rc<MemoryAccount>>>,
    directories: RefCell<HashMap<String, std::rc::Rc<MemoryDirectory>>>,
    pub issuer: MemoryIssuer,
    pub assets: RefCell<HashMap<String, (String, Vec<u8>)>>,
    outboxes: RefCell<HashMap<String, std::rc::Rc<MemoryOutbox>>>,
    /// What the push commands asked the platform to do, in order (no WebSockets here).
    pub push_effects: RefCell<Vec<Effects>>,
}

impl MemoryStores {
    /// The audit rows of one account, oldest first.
    pub fn audit(&self, key: &AccountKey) -> Vec<AuditEvent> {
        self.accounts
            .borrow()
            .get(&key.object_name())
            .map(|account| account.audit.borrow().clone())
            .unwrap_or_default()
    }

    /// The stored record of one account.
    pub fn record(&self, key: &AccountKey) -> Option<AccountRecord> {
        self.accounts
            .borrow()
            .get(&key.object_name())
            .and_then(|account| account.record.borrow().clone())
    }

    /// The stored bypass-code rows of one account, as they are at rest.
    pub fn bypass_rows(&self, key: &AccountKey) -> Vec<BypassCodeRecord> {
        self.accounts
            .borrow()
            .get(&key.object_name())
            .map(|account| account.bypass_codes.borrow().clone())
            .unwrap_or_default()
    }

    /// Number of unredeemed codes held, in every account (expired ones are purged when
    /// the account redeems a code).
    pub fn code_count(&self) -> usize {
        self.accounts
            .borrow()
            .values()
            .map(|account| account.codes.borrow().len())
            .sum()
    }

    /// The names of the directory objects that hold something.
    pub fn directory_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.directories.borrow().keys().cloned().collect();
        names.sort();
        names
    }

    fn account_object(&self, key: &AccountKey) -> std::rc::Rc<MemoryAccount> {
        let name = key.object_name();
        let mut accounts = self.accounts.borrow_mut();
        let object = accounts
            .entry(name)
            .or_insert_with_key(|name| std::rc::Rc::new(MemoryAccount::named(name)));
        std::rc::Rc::clone(object)
    }
}

/// Sends a value through JSON, as the Durable Object transport does.
fn wire<T: Serialize + DeserializeOwned>(value: &T) -> Result<T, StoreError> {
    let text = serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Backend(e.to_string()))
}

impl Stores for MemoryStores {
    async fn account(
        &self,
        key: &AccountKey,
        command: AccountCommand,
    ) -> Result<AccountReply, StoreError> {
        let object = self.account_object(key);
        let reply = account::execute(object.as_ref(), key, wire(&command)?)?;
        wire(&reply)
    }

    async fn redeem_code(
        &self,
        route: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<Grant>, StoreError> {
        let name = URL_SAFE_NO_PAD
            .decode(route)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some(object) = name.and_then(|name| self.accounts.borrow().get(&name).cloned()) else {
            return Ok(None);
        };
        let grant = account::redeem_code(object.as_ref(), code_hash, now)?;
        wire(&grant)
    }

    async fn push(&self, key: &AccountKey, command: PushCommand) -> Result<PushReply, StoreError> {
        let object = self.account_object(key);
        let (reply, effects) = push_object::execute(object.as_ref(), key, wire(&command)?)?;
        self.push_effects.borrow_mut().push(effects);
        wire(&reply)
    }

    async fn outbox(&self, realm: &str, command: OutboxCommand) -> Result<OutboxReply, StoreError> {
        let outbox = self
            .outboxes
            .borrow_mut()
            .entry(realm.to_owned())
            .or_default()
            .clone();
        let reply = push_object::execute_outbox(outbox.as_ref(), wire(&command)?)?;
        wire(&reply)
    }

    async fn directory(&self, command: DirectoryCommand) -> Result<DirectoryReply, StoreError> {
        let command = wire(&command)?;
        let object = self
            .directories
            .borrow_mut()
            .entry(command.object().name())
            .or_default()
            .clone();
        let reply = directory::execute(object.as_ref(), command)?;
        wire(&reply)
    }

    async fn issuer(&self, command: IssuerCommand) -> Result<IssuerReply, StoreError> {
        let reply = issuer::execute(&self.issuer, wire(&command)?)?;
        wire(&reply)
    }

    async fn asset(&self, path: &str) -> Result<Option<http::Response<Vec<u8>>>, StoreError> {
        Ok(self.assets.borrow().get(path).map(|(content_type, body)| {
            let mut response = http::Response::new(body.clone());
            crate::web::set_header(
                response.headers_mut(),
                http::header::CONTENT_TYPE,
                content_type,
            );
            response
        }))
    }
}

/// Deterministic "randomness" for tests: a counter stretched with SHA-256.
#[derive(Debug, Default)]
pub struct CountingEntropy(Cell<u64>);

impl Entropy for CountingEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), StoreError> {
        use sha2::{Digest, Sha256};
        for chunk in buf.chunks_mut(32) {
            let n = self.0.get().wrapping_add(1);
            self.0.set(n);
            let digest = Sha256::digest(n.to_be_bytes());
            for (out, byte) in chunk.iter_mut().zip(digest.iter()) {
                *out = *byte;
            }
        }
        Ok(())
    }
}
