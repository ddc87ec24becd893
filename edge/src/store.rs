//! The edge's view of its state: one message to one object at a time.
//!
//! Each account lives in its own object (a Durable Object in production) and so does the
//! directory. A call sends one command and gets one reply; the object runs the command to
//! completion before it takes the next, which is what makes the passcode check, the
//! replay refusal and the failure count race-free. The commands and the code that runs
//! them inside an object are in `account` and `directory`; this module only says how to
//! reach them.

use thiserror::Error;

use crate::account::{AccountCommand, AccountKey, AccountReply};
use crate::code::Grant;
use crate::directory::{DirectoryCommand, DirectoryReply};
use crate::issuer::{IssuerCommand, IssuerReply};
use crate::push_object::{OutboxCommand, OutboxReply, PushCommand, PushReply};

/// A storage or transport failure. Clients only ever see `internal`; the detail is for
/// logs.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    #[error("storage failed: {0}")]
    Backend(String),
    #[error("a stored record is invalid: {0}")]
    Corrupt(String),
    #[error("the object answered `{0}` with an unexpected reply")]
    UnexpectedReply(&'static str),
}

/// How the core reaches accounts, the directory and the static prompt assets.
///
/// No `Send` bound: Workers futures are not `Send`, and nothing here runs on threads.
#[allow(async_fn_in_trait)]
pub trait Stores {
    /// Runs `command` inside the account object for `key`.
    async fn account(
        &self,
        key: &AccountKey,
        command: AccountCommand,
    ) -> Result<AccountReply, StoreError>;

    /// Redeems the code stored under `code_hash` in the account object `route` names
    /// (`account::redeem_code`): its grant, or `None` when the route names no account
    /// object or the object holds no such unexpired code.
    async fn redeem_code(
        &self,
        route: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<Grant>, StoreError>;

    /// Runs a push command inside the account object for `key` (`push_object`).
    async fn push(&self, key: &AccountKey, command: PushCommand) -> Result<PushReply, StoreError>;

    /// Runs `command` on the notification outbox of `realm`.
    async fn outbox(&self, realm: &str, command: OutboxCommand) -> Result<OutboxReply, StoreError>;

    /// Runs `command` inside the directory object.
    async fn directory(&self, command: DirectoryCommand) -> Result<DirectoryReply, StoreError>;

    /// Runs `command` inside the issuer object (signing keys, seen `jti`s).
    async fn issuer(&self, command: IssuerCommand) -> Result<IssuerReply, StoreError>;

    /// A built prompt file such as `/prompt/v1/embed.js`, or `None` when there is none.
    async fn asset(&self, path: &str) -> Result<Option<http::Response<Vec<u8>>>, StoreError>;
}

/// A source of cryptographically secure random bytes.
pub trait Entropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), StoreError>;
}

/// `bytes` random bytes as unpadded base64url: authorization codes and access tokens.
pub fn random_token(entropy: &dyn Entropy, bytes: usize) -> Result<String, StoreError> {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    entropy.fill(&mut buf)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// A random transaction id in UUID v4 form, as Duo's `txid`.
pub fn random_txid(entropy: &dyn Entropy) -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    entropy.fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default().to_owned();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    ))
}
