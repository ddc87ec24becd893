//! A short-lived, per-isolate cache of the directory's two hot reads: an application's
//! registration (`GetApplication`) and its merged policy levels (`GetPolicies`).
//!
//! Every prompt request needs both before it reaches the user's account object; read from
//! the directory objects each time, they are two of the three object round trips a
//! passcode costs. Cached for [`CACHE_SECONDS`], they are read about once per isolate per
//! application every few seconds instead. The price: a change to an application or a
//! policy made through another isolate applies within [`CACHE_SECONDS`] (this isolate's own
//! writes clear its cache at once). Nothing else is cached: codes, `jti`s and accounts are
//! decided inside their objects, always.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::account::{AccountCommand, AccountKey, AccountReply};
use crate::code::Grant;
use crate::directory::{DirectoryCommand, DirectoryReply};
use crate::issuer::{IssuerCommand, IssuerReply};
use crate::push_object::{OutboxCommand, OutboxReply, PushCommand, PushReply};
use crate::store::{StoreError, Stores};

/// How long a cached registration or policy is served without asking the directory.
pub const CACHE_SECONDS: i64 = 10;
/// At most this many entries; a full cache is emptied rather than grown.
const MAX_ENTRIES: usize = 1024;

/// The cached replies, keyed by the command that produced them, with their time.
#[derive(Debug, Default)]
pub struct DirectoryCache {
    entries: RefCell<HashMap<String, (i64, DirectoryReply)>>,
}

impl DirectoryCache {
    fn get(&self, key: &str, now: i64) -> Option<DirectoryReply> {
        let entries = self.entries.borrow();
        let (at, reply) = entries.get(key)?;
        (now >= *at && now < at.saturating_add(CACHE_SECONDS)).then(|| reply.clone())
    }

    fn put(&self, key: String, reply: DirectoryReply, now: i64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (now, reply));
    }

    fn clear(&self) {
        self.entries.borrow_mut().clear();
    }
}

/// `inner` with the directory's hot reads served from `cache` (see the module docs).
#[derive(Debug)]
pub struct Cached<'a, S> {
    pub inner: &'a S,
    pub cache: &'a DirectoryCache,
    /// Unix seconds of the request being handled.
    pub now: i64,
}

/// The cache key of a cacheable command; `None` for every other command.
fn cache_key(command: &DirectoryCommand) -> Option<String> {
    match command {
        DirectoryCommand::GetApplication { .. } | DirectoryCommand::GetPolicies { .. } => {
            serde_json::to_string(command).ok()
        }
        _ => None,
    }
}

/// Whether `command` changes what a cached read could have returned.
fn invalidates(command: &DirectoryCommand) -> bool {
    matches!(
        command,
        DirectoryCommand::PutApplication { .. }
            | DirectoryCommand::PutRealmPolicy { .. }
            | DirectoryCommand::PutAppSettings { .. }
    )
}

impl<S: Stores> Stores for Cached<'_, S> {
    async fn account(
        &self,
        key: &AccountKey,
        command: AccountCommand,
    ) -> Result<AccountReply, StoreError> {
        self.inner.account(key, command).await
    }

    async fn redeem_code(
        &self,
        route: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<Grant>, StoreError> {
        self.inner.redeem_code(route, code_hash, now).await
    }

    async fn push(&self, key: &AccountKey, command: PushCommand) -> Result<PushReply, StoreError> {
        self.inner.push(key, command).await
    }

    async fn outbox(&self, realm: &str, command: OutboxCommand) -> Result<OutboxReply, StoreError> {
        self.inner.outbox(realm, command).await
    }

    async fn directory(&self, command: DirectoryCommand) -> Result<DirectoryReply, StoreError> {
        if invalidates(&command) {
            self.cache.clear();
            return self.inner.directory(command).await;
        }
        let Some(key) = cache_key(&command) else {
            return self.inner.directory(command).await;
        };
        if let Some(reply) = self.cache.get(&key, self.now) {
            return Ok(reply);
        }
        let reply = self.inner.directory(command).await?;
        self.cache.put(key, reply.clone(), self.now);
        Ok(reply)
    }

    async fn issuer(&self, command: IssuerCommand) -> Result<IssuerReply, StoreError> {
        self.inner.issuer(command).await
    }

    async fn asset(&self, path: &str) -> Result<Option<http::Response<Vec<u8>>>, StoreError> {
        self.inner.asset(path).await
    }
}
