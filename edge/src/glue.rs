//! Cloudflare Workers glue: the fetch event, the `Account` and `Directory` Durable
//! Objects over SQLite, the `ASSETS` binding and the environment. Everything here is
//! translation; decisions live in the core. No binding is ever unwrapped: every failure
//! becomes the core's JSON error.
//!
//! TOTP secrets and client secrets are sealed (`sealing`) under `TESSERA_STORAGE_KEY`
//! before they reach SQLite; without that secret the objects refuse to work.
//!
//! Storage layout (see `docs/api.md`):
//! - `Account` object, named `["realm","username"]`: tables `account` (one row), `device`,
//!   `audit`, `auth_code` (its user's unredeemed authorization codes, by hash),
//!   `bypass_code` (salt and peppered hash only).
//! - `Directory` objects (one class, the same tables in each): `global`, the registry,
//!   uses `application`; `["realm","<realm>"]`, one per realm, uses `app_settings` and
//!   `realm_policy`; the registry also keeps `application_token`.
//! - `Issuer` object, named `global`: tables `signing_key` (seeds sealed), `seen_jti`.
//! - Push (`glue/push.rs`): the account object's `push_book` row, its devices' hibernating
//!   WebSockets and its long polls; outbox objects (`{"outbox":"realm"}`) with table
//!   `notification`.

mod push;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tessera_shared::SecretString;
use tessera_shared::policy::LockoutState;
use tessera_shared::v1::PolicyConfig;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys;
use worker::worker_sys::{DurableObject as ObjectStub, DurableObjectNamespace as ObjectNamespace};
use worker::{
    Context, DurableObject, Env, ResponseBuilder, SqlStorage, SqlStorageValue, State,
    durable_object, event, js_sys,
};

use crate::account::{
    self, AccountCommand, AccountKey, AccountRecord, AccountReply, AccountStorage, AuditEvent,
    BypassCodeRecord, DeviceRecord, TotpSeed, UserStatus,
};
use crate::app::{ClientInfo, Config, Edge, RequestContext};
use crate::cache::{Cached, DirectoryCache};
use crate::code::Grant;
use crate::directory::{
    self, AppRecord, AppSettings, DirectoryCommand, DirectoryReply, DirectoryStorage,
};
use crate::issuer::{self, IssuerCommand, IssuerReply, IssuerStorage, StoredKey};
use crate::sealing::StorageKey;
use crate::session::SessionKey;
use crate::store::{Entropy, StoreError, Stores};
use crate::web::{self, ApiError, MAX_BODY_BYTES};

const ACCOUNTS_BINDING: &str = "ACCOUNTS";
const DIRECTORY_BINDING: &str = "DIRECTORY";
const ASSETS_BINDING: &str = "ASSETS";
const ISSUER_BINDING: &str = "ISSUER";
/// The service name when `TESSERA_SERVICE_NAME` is not set (and where objects, which do
/// not read it, word a refusal).
const DEFAULT_SERVICE_NAME: &str = "Tessera";
/// One issuer for the deployment: its keys sign for every realm.
const ISSUER_NAME: &str = "global";

thread_local! {
    /// This isolate's cache of application registrations and policies (`cache`).
    static DIRECTORY_CACHE: Rc<DirectoryCache> = Rc::new(DirectoryCache::default());
    /// The configuration, read from the environment once per isolate: variables and
    /// secrets only change with a new deployment, which starts new isolates.
    static CONFIG: std::cell::OnceCell<Rc<Config>> = const { std::cell::OnceCell::new() };
}

/// The Worker's entry point, on the platform's own `Request` and `Response`: worker-rs's
/// wrappers would parse the URL, wrap `cf` and copy headers one call at a time on the way
/// in, and copy them again on the way out (see [`core_request`], [`platform_response`]).
#[event(fetch)]
async fn fetch(
    request: web_sys::Request,
    env: Env,
    _ctx: Context,
) -> worker::Result<web_sys::Response> {
    if request.headers().has("upgrade").unwrap_or(false) {
        let upgrade = worker::Request::from(Clone::clone(&request));
        if push::is_device_upgrade(&upgrade) {
            return push::forward_upgrade(upgrade, &env).await.map(Into::into);
        }
    }
    let response = match core_request(request).await {
        Ok((request, client)) => {
            let config = CONFIG.with(|cell| Rc::clone(cell.get_or_init(|| Rc::new(config(&env)))));
            let context = RequestContext { now: now(), client };
            let cache = DIRECTORY_CACHE.with(Rc::clone);
            let stores = Cached {
                inner: &WorkerStores { env: &env },
                cache: &cache,
                now: context.now,
            };
            let edge = Edge {
                config: config.as_ref(),
                stores: &stores,
                entropy: &CryptoEntropy,
            };
            edge.handle(request, &context).await
        }
        Err(error) => error.into_response(),
    };
    platform_response(response)
}

fn config(env: &Env) -> Config {
    let read = |name: &str| env.var(name).ok().map(|value| value.to_string());
    Config {
        session_key: read("TESSERA_SESSION_KEY").and_then(|key| SessionKey::new(key.as_bytes())),
        admin_token: read("TESSERA_ADMIN_TOKEN").map(SecretString::from),
        service_name: read("TESSERA_SERVICE_NAME")
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned()),
        push: crate::push_object::PushSettings::from_vars(read),
        bypass_pepper: storage_key(env).map(|key| key.bypass_pepper().clone()),
    }
}

fn now() -> i64 {
    i64::try_from(worker::Date::now().as_millis() / 1000).unwrap_or(i64::MAX)
}

/// The platform's request as the core's `http::Request<Vec<u8>>`, with the client's IP
/// (`CF-Connecting-IP`, set by the platform) and country and region (`request.cf`).
async fn core_request(request: web_sys::Request) -> Result<(web::Request, ClientInfo), ApiError> {
    let method = http::Method::from_bytes(request.method().as_bytes())
        .map_err(|_| ApiError::bad_request("Unknown method."))?;
    let reads_body = method != http::Method::GET && method != http::Method::HEAD;
    let mut builder = http::Request::builder().method(method).uri(request.url());
    for (name, value) in header_pairs(&request.headers()).map_err(|e| web::internal(&e))? {
        builder = builder.header(name, value);
    }
    // The head first, so the declared length is checked before any of the body is read.
    let mut core = builder.body(Vec::new()).map_err(|e| web::internal(&e))?;
    let declared_length = web::header_str(&core, http::header::CONTENT_LENGTH)
        .and_then(|value| value.parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(ApiError::new(
            tessera_shared::v1::ErrorCode::PayloadTooLarge,
            "The request body is too large.",
        ));
    }
    let client = ClientInfo {
        ip: web::header_str(&core, http::HeaderName::from_static("cf-connecting-ip"))
            .map(str::to_owned),
        country: cf_string(&request, "country"),
        region: cf_string(&request, "regionCode"),
    };
    if reads_body {
        let buffer = request.array_buffer().map_err(js_backend);
        let buffer = JsFuture::from(buffer.map_err(|e| web::internal(&e))?)
            .await
            .map_err(|e| web::internal(&js_backend(e)))?;
        *core.body_mut() = js_sys::Uint8Array::new(&buffer).to_vec();
    }
    Ok((core, client))
}

/// Every header of `headers` as (name, value) pairs, in one call into JavaScript: the
/// `Headers` as a JSON array of pairs.
fn header_pairs(headers: &web_sys::Headers) -> Result<Vec<(String, String)>, StoreError> {
    let pairs = js_sys::Array::from(headers.as_ref());
    let json = js_sys::JSON::stringify(&pairs)
        .map_err(js_backend)?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&json).map_err(backend)
}

/// Reads `request.cf[name]` without the panicking accessors.
fn cf_string(request: &web_sys::Request, name: &str) -> Option<String> {
    let cf = js_sys::Reflect::get(request.as_ref(), &JsValue::from_str("cf")).ok()?;
    if cf.is_undefined() || cf.is_null() {
        return None;
    }
    js_sys::Reflect::get(&cf, &JsValue::from_str(name))
        .ok()?
        .as_string()
}

/// The core's response as the platform's, its headers set in one call (a JSON array of
/// pairs, parsed by JavaScript) rather than one call per header.
fn platform_response(response: web::Response) -> worker::Result<web_sys::Response> {
    let (parts, mut body) = response.into_parts();
    let pairs: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    if let Ok(json) = serde_json::to_string(&pairs)
        && let Ok(headers) = js_sys::JSON::parse(&json)
    {
        init.set_headers(&headers);
    }
    let built = if body.is_empty() {
        web_sys::Response::new_with_opt_str_and_init(None, &init)
    } else {
        web_sys::Response::new_with_opt_u8_array_and_init(Some(&mut body), &init)
    };
    built.map_err(|error| worker::Error::RustError(js_backend(error).to_string()))
}

/// [`platform_response`] as worker-rs's `Response`, for the handlers written on it.
fn worker_response(response: web::Response) -> worker::Result<worker::Response> {
    platform_response(response).map(worker::Response::from)
}

/// `crypto.getRandomValues`, reached through `globalThis` without panicking paths.
struct CryptoEntropy;

impl Entropy for CryptoEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), StoreError> {
        let fail = |what: &str| StoreError::Backend(format!("crypto.getRandomValues: {what}"));
        let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
            .map_err(|_| fail("no crypto"))?;
        let function: js_sys::Function =
            js_sys::Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))
                .map_err(|_| fail("no function"))?
                .dyn_into()
                .map_err(|_| fail("not a function"))?;
        for chunk in buf.chunks_mut(65_536) {
            let length = u32::try_from(chunk.len()).map_err(|_| fail("length"))?;
            let array = js_sys::Uint8Array::new_with_length(length);
            function.call1(&crypto, &array).map_err(|_| fail("call"))?;
            array.copy_to(chunk);
        }
        Ok(())
    }
}

/// Reaches the Durable Objects and the assets through the environment's bindings.
struct WorkerStores<'a> {
    env: &'a Env,
}

fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Where an account object redeems its authorization codes.
const REDEEM_PATH: &str = "/redeem";
const REDEEM_URL: &str = "https://object.internal/redeem";

/// A code redemption, sent to the object the code's route names.
#[derive(Serialize, Deserialize)]
struct Redeem {
    code_hash: String,
    now: i64,
}

/// The message an account object receives: which account, and what to do.
#[derive(Serialize, Deserialize)]
struct AccountEnvelope {
    key: AccountKey,
    command: AccountCommand,
}

impl WorkerStores<'_> {
    fn namespace(&self, binding: &str) -> Result<ObjectNamespace, StoreError> {
        let namespace = self.env.durable_object(binding).map_err(backend)?;
        Ok(namespace.as_ref().clone().unchecked_into())
    }

    fn stub(&self, binding: &str, name: &str) -> Result<ObjectStub, StoreError> {
        let namespace = self.namespace(binding)?;
        let id = namespace.id_from_name(name).map_err(js_backend)?;
        namespace.get(&id).map_err(js_backend)
    }
}

/// One JSON request to an object; a non-200 answer carries the object's error text.
async fn call<T: Serialize, R: DeserializeOwned>(
    stub: &ObjectStub,
    message: &T,
) -> Result<R, StoreError> {
    call_at(stub, "https://object.internal/", message).await
}

/// [`call`] to a given address inside the object (the Account object serves several).
///
/// Straight on the platform's `fetch`, `Request` and `Response`: worker-rs's wrappers copy
/// every header into Rust and read a body chunk by chunk through a stream reader, which
/// cost more of a passcode's CPU time than the passcode check itself.
async fn call_at<T: Serialize, R: DeserializeOwned>(
    stub: &ObjectStub,
    url: &str,
    message: &T,
) -> Result<R, StoreError> {
    let body = serde_json::to_string(message).map_err(backend)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(js_backend)?;
    let fetched = stub.fetch_with_request(&request).map_err(js_backend)?;
    let response: web_sys::Response = JsFuture::from(fetched)
        .await
        .map_err(js_backend)?
        .dyn_into()
        .map_err(js_backend)?;
    let text = JsFuture::from(response.text().map_err(js_backend)?)
        .await
        .map_err(js_backend)?
        .as_string()
        .unwrap_or_default();
    if response.status() != 200 {
        return Err(StoreError::Backend(text));
    }
    serde_json::from_str(&text).map_err(backend)
}

/// A JavaScript exception as a storage failure.
fn js_backend(error: JsValue) -> StoreError {
    StoreError::Backend(
        error
            .as_string()
            .or_else(|| {
                error
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
            })
            .unwrap_or_else(|| format!("{error:?}")),
    )
}

impl Stores for WorkerStores<'_> {
    async fn account(
        &self,
        key: &AccountKey,
        command: AccountCommand,
    ) -> Result<AccountReply, StoreError> {
        let stub = self.stub(ACCOUNTS_BINDING, &key.object_name())?;
        let envelope = AccountEnvelope {
            key: key.clone(),
            command,
        };
        call(&stub, &envelope).await
    }

    async fn redeem_code(
        &self,
        route: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<Grant>, StoreError> {
        let namespace = self.namespace(ACCOUNTS_BINDING)?;
        // A route that is not one of this namespace's ids names no account.
        let Ok(id) = namespace.id_from_string(route) else {
            return Ok(None);
        };
        let stub = namespace.get(&id).map_err(js_backend)?;
        let redeem = Redeem {
            code_hash: code_hash.to_owned(),
            now,
        };
        call_at(&stub, REDEEM_URL, &redeem).await
    }

    async fn directory(&self, command: DirectoryCommand) -> Result<DirectoryReply, StoreError> {
        let stub = self.stub(DIRECTORY_BINDING, &command.object().name())?;
        call(&stub, &command).await
    }

    async fn issuer(&self, command: IssuerCommand) -> Result<IssuerReply, StoreError> {
        let stub = self.stub(ISSUER_BINDING, ISSUER_NAME)?;
        call(&stub, &command).await
    }

    async fn push(
        &self,
        key: &AccountKey,
        command: crate::push_object::PushCommand,
    ) -> Result<crate::push_object::PushReply, StoreError> {
        let stub = self.stub(ACCOUNTS_BINDING, &key.object_name())?;
        push::call_push(&stub, key, command).await
    }

    async fn outbox(
        &self,
        realm: &str,
        command: crate::push_object::OutboxCommand,
    ) -> Result<crate::push_object::OutboxReply, StoreError> {
        let name = crate::push_object::outbox_object_name(realm);
        let stub = self.stub(ACCOUNTS_BINDING, &name)?;
        call_at(&stub, push::OUTBOX_URL, &command).await
    }

    async fn asset(&self, path: &str) -> Result<Option<web::Response>, StoreError> {
        let assets = self.env.assets(ASSETS_BINDING).map_err(backend)?;
        let fetched = assets
            .fetch(format!("https://assets.internal{path}"), None)
            .await
            .map_err(backend)?;
        let mut response = worker::Response::try_from(fetched).map_err(backend)?;
        let status = response.status_code();
        if status == 404 {
            return Ok(None);
        }
        let body = response.bytes().await.map_err(backend)?;
        let mut core = web::Response::new(body);
        *core.status_mut() = web::status(status);
        for (name, value) in response.headers().entries() {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                core.headers_mut().append(name, value);
            }
        }
        Ok(Some(core))
    }
}

/// Answers an object's `fetch`: the reply as JSON, or the error text with status 500.
fn object_response<R: Serialize>(
    result: Result<R, StoreError>,
) -> worker::Result<worker::Response> {
    match result.and_then(|reply| serde_json::to_string(&reply).map_err(backend)) {
        Ok(json) => Ok(ResponseBuilder::new()
            .with_status(200)
            .fixed(json.into_bytes())),
        Err(error) => {
            web::log(&format!("object error: {error}"));
            Ok(ResponseBuilder::new()
                .with_status(500)
                .fixed(error.to_string().into_bytes()))
        }
    }
}

fn exec(
    sql: &SqlStorage,
    query: &str,
    bindings: Vec<SqlStorageValue>,
) -> Result<worker::SqlCursor, StoreError> {
    sql.exec(query, bindings).map_err(backend)
}

fn rows<T: DeserializeOwned>(
    sql: &SqlStorage,
    query: &str,
    bindings: Vec<SqlStorageValue>,
) -> Result<Vec<T>, StoreError> {
    exec(sql, query, bindings)?.to_array().map_err(backend)
}

fn integer(value: u64) -> Result<SqlStorageValue, StoreError> {
    i64::try_from(value)
        .map_err(backend)
        .and_then(|v| SqlStorageValue::try_from_i64(v).map_err(backend))
}

// ---------------------------------------------------------------- Account object

const ACCOUNT_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        realm TEXT NOT NULL,
        username TEXT NOT NULL,
        status TEXT NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_since INTEGER
    )",
    "CREATE TABLE IF NOT EXISTS device (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        totp_secret TEXT NOT NULL,
        totp_algorithm TEXT NOT NULL,
        totp_digits INTEGER NOT NULL,
        totp_period INTEGER NOT NULL,
        last_step INTEGER
    )",
    "CREATE TABLE IF NOT EXISTS auth_code (
        code_hash TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        realm TEXT NOT NULL,
        username TEXT NOT NULL,
        nonce TEXT,
        factor TEXT NOT NULL,
        reason TEXT NOT NULL,
        auth_time INTEGER NOT NULL,
        txid TEXT NOT NULL,
        ip TEXT,
        country TEXT,
        expires_at INTEGER NOT NULL
    )",
    // Bypass codes: HMAC-SHA256(pepper, salt ‖ code), never the code; the pepper is
    // derived from TESSERA_STORAGE_KEY and never stored.
    "CREATE TABLE IF NOT EXISTS bypass_code (
        id TEXT PRIMARY KEY,
        salt TEXT NOT NULL,
        hash TEXT NOT NULL,
        remaining_uses INTEGER,
        expires_at INTEGER,
        created INTEGER NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS push_book (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        book TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        realm TEXT NOT NULL,
        username TEXT NOT NULL,
        client_id TEXT NOT NULL,
        application TEXT NOT NULL,
        txid TEXT NOT NULL,
        factor TEXT,
        result TEXT NOT NULL,
        reason TEXT NOT NULL,
        ip TEXT,
        country TEXT
    )",
];

/// One user's state. Commands arrive as JSON from the Worker; each runs without an
/// `await` between its reads and writes, so the object serializes them.
#[durable_object]
pub struct Account {
    state: State,
    schema_ready: Cell<bool>,
    storage_key: Option<StorageKey>,
    /// Long polls waiting for a push transaction to change.
    waiters: RefCell<Vec<futures_channel::oneshot::Sender<()>>>,
    /// The account's rows as this instance last read or wrote them.
    rows: RefCell<AccountRows>,
    /// This object's id: the route of the authorization codes it issues (`code`).
    route: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").finish_non_exhaustive()
    }
}

/// `TESSERA_STORAGE_KEY`, when set and well-formed.
fn storage_key(env: &Env) -> Option<StorageKey> {
    let key = env
        .secret("TESSERA_STORAGE_KEY")
        .ok()
        .map(|value| value.to_string())
        .or_else(|| env.var("TESSERA_STORAGE_KEY").ok().map(|v| v.to_string()))
        .and_then(|text| StorageKey::from_base64(&text));
    if key.is_none() {
        web::log("TESSERA_STORAGE_KEY is missing or not 32 bytes of base64");
    }
    key
}

fn require_key(key: &Option<StorageKey>) -> Result<&StorageKey, StoreError> {
    key.as_ref()
        .ok_or_else(|| StoreError::Backend("TESSERA_STORAGE_KEY is not set".to_owned()))
}

impl DurableObject for Account {
    fn new(state: State, env: Env) -> Self {
        Self {
            schema_ready: Cell::new(false),
            storage_key: storage_key(&env),
            waiters: RefCell::new(Vec::new()),
            rows: RefCell::new(AccountRows::default()),
            route: state.id().to_string(),
            state,
        }
    }

    async fn fetch(&self, mut request: worker::Request) -> worker::Result<worker::Response> {
        if push::is_device_upgrade(&request) {
            return push::accept_device(self, &request);
        }
        let path = request.path();
        let text = request.text().await?;
        if path == push::PUSH_PATH {
            return push::run_push(self, &text).await;
        }
        if path == push::OUTBOX_PATH {
            return push::run_outbox(self, &text);
        }
        if path == REDEEM_PATH {
            return run_command(
                &self.state,
                &self.schema_ready,
                ACCOUNT_SCHEMA,
                &text,
                |sql, redeem: Redeem| {
                    let key = require_key(&self.storage_key)?;
                    let storage = SqlAccount::new(sql, key, self);
                    with_account_rows(&self.rows, || {
                        account::redeem_code(&storage, &redeem.code_hash, redeem.now)
                    })
                },
            );
        }
        run_command(
            &self.state,
            &self.schema_ready,
            ACCOUNT_SCHEMA,
            &text,
            |sql, envelope: AccountEnvelope| {
                let key = require_key(&self.storage_key)?;
                let storage = SqlAccount::new(sql, key, self);
                with_account_rows(&self.rows, || {
                    account::execute(&storage, &envelope.key, envelope.command)
                })
            },
        )
    }

    async fn websocket_message(
        &self,
        _ws: worker::WebSocket,
        _message: worker::WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        // Devices only listen; anything they send (keep-alives) needs no answer.
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: worker::WebSocket,
        _code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> worker::Result<()> {
        if ws.close(Some(1000), Some("closed")).is_err() {
            web::log("websocket close after the device's close failed");
        }
        Ok(())
    }

    async fn websocket_error(
        &self,
        _ws: worker::WebSocket,
        error: worker::Error,
    ) -> worker::Result<()> {
        web::log(&format!("device websocket error: {error}"));
        Ok(())
    }
}

/// Runs one JSON command inside a Durable Object: parse it, create the tables on first
/// use, execute it against the object's SQLite, and answer with the JSON reply (or a 500
/// whose detail goes to the log).
fn run_command<C: serde::de::DeserializeOwned, R: Serialize>(
    state: &State,
    schema_ready: &Cell<bool>,
    schema: &[&str],
    text: &str,
    execute: impl FnOnce(SqlStorage, C) -> Result<R, StoreError>,
) -> worker::Result<worker::Response> {
    let result = serde_json::from_str::<C>(text)
        .map_err(backend)
        .and_then(|command| {
            let sql = state.storage().sql();
            ensure_schema(&sql, schema_ready, schema)?;
            execute(sql, command)
        });
    object_response(result)
}

fn ensure_schema(sql: &SqlStorage, ready: &Cell<bool>, schema: &[&str]) -> Result<(), StoreError> {
    if !ready.get() {
        for statement in schema {
            exec(sql, statement, Vec::new())?;
        }
        ready.set(true);
    }
    Ok(())
}

struct SqlAccount<'a> {
    sql: SqlStorage,
    key: &'a StorageKey,
    rows: &'a RefCell<AccountRows>,
    route: &'a str,
}

/// What an account object knows of its own rows between commands. The object is the only
/// writer of its storage and runs one command at a time, so once it has loaded or saved
/// its account, the copy in memory is what is on disk: a warm object answers `load`
/// without SQL or unsealing, and `save` writes only what changed and never re-seals an
/// unchanged secret. The copy is dropped whenever a command fails, and a new instance
/// (after eviction) starts empty.
#[derive(Default)]
pub struct AccountRows {
    /// The account as last loaded or saved.
    record: Option<AccountRecord>,
    /// The device rows as on disk (with their sealed secrets).
    devices: HashMap<String, StoredDevice>,
    /// The account row as on disk: status and lockout.
    account: Option<(UserStatus, LockoutState)>,
}

/// A device row as it is on disk.
struct StoredDevice {
    position: usize,
    device: DeviceRecord,
    sealed: String,
}

impl<'a> SqlAccount<'a> {
    fn new(sql: SqlStorage, key: &'a StorageKey, account: &'a Account) -> Self {
        Self {
            sql,
            key,
            rows: &account.rows,
            route: &account.route,
        }
    }
}

/// Runs `command` on an account object's storage; a failure forgets what the object
/// remembered of its rows, so the next command reads them again.
fn with_account_rows<R>(
    rows: &RefCell<AccountRows>,
    command: impl FnOnce() -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let result = command();
    if result.is_err() {
        *rows.borrow_mut() = AccountRows::default();
    }
    result
}

/// Whether two TOTP configurations are the same (our own stored data, not a secret check).
fn same_totp(a: &TotpSeed, b: &TotpSeed) -> bool {
    a.secret_base32.expose_secret() == b.secret_base32.expose_secret()
        && a.algorithm == b.algorithm
        && a.digits == b.digits
        && a.period == b.period
}

/// Where a TOTP secret is stored: the associated data it is sealed with.
fn totp_context(realm: &str, username: &str, device_id: &str) -> String {
    format!(
        "totp {} {device_id}",
        AccountKey::new(realm, username).object_name()
    )
}

#[derive(Deserialize)]
struct AccountRow {
    realm: String,
    username: String,
    status: String,
    failures: u32,
    locked_since: Option<i64>,
}

#[derive(Deserialize)]
struct DeviceRow {
    id: String,
    name: String,
    totp_secret: String,
    totp_algorithm: String,
    totp_digits: u8,
    totp_period: u64,
    last_step: Option<u64>,
}

impl AccountStorage for SqlAccount<'_> {
    fn load(&self) -> Result<Option<AccountRecord>, StoreError> {
        if let Some(record) = &self.rows.borrow().record {
            return Ok(Some(record.clone()));
        }
        let accounts: Vec<AccountRow> = rows(
            &self.sql,
            "SELECT realm, username, status, failures, locked_since FROM account WHERE id = 1",
            Vec::new(),
        )?;
        let Some(row) = accounts.into_iter().next() else {
            return Ok(None);
        };
        let devices: Vec<DeviceRow> = rows(
            &self.sql,
            "SELECT id, name, totp_secret, totp_algorithm, totp_digits, totp_period, last_step
             FROM device ORDER BY position, id",
            Vec::new(),
        )?;
        let status = UserStatus::parse(&row.status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {}", row.status)))?;
        let lockout = LockoutState {
            failures: row.failures,
            locked_since: row.locked_since,
        };
        let mut cached = self.rows.borrow_mut();
        cached.account = Some((status, lockout));
        let stored = &mut cached.devices;
        stored.clear();
        let devices = devices
            .into_iter()
            .enumerate()
            .map(|(position, device)| {
                let context = totp_context(&row.realm, &row.username, &device.id);
                let record = DeviceRecord {
                    totp: TotpSeed {
                        secret_base32: self.key.open(&device.totp_secret, &context)?,
                        algorithm: device.totp_algorithm,
                        digits: device.totp_digits,
                        period: device.totp_period,
                    },
                    id: device.id,
                    name: device.name,
                    last_step: device.last_step,
                };
                stored.insert(
                    record.id.clone(),
                    StoredDevice {
                        position,
                        device: record.clone(),
                        sealed: device.totp_secret,
                    },
                );
                Ok(record)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let record = AccountRecord {
            realm: row.realm,
            username: row.username,
            status,
            lockout,
            devices,
        };
        cached.record = Some(record.clone());
        Ok(Some(record))
    }

    fn save(&self, record: &AccountRecord) -> Result<(), StoreError> {
        let account_unchanged =
            self.rows
                .borrow()
                .account
                .as_ref()
                .is_some_and(|(status, lockout)| {
                    *status == record.status && *lockout == record.lockout
                });
        if !account_unchanged {
            self.write_account(record)?;
            self.rows.borrow_mut().account = Some((record.status, record.lockout));
        }
        self.write_devices(record)?;
        self.rows.borrow_mut().record = Some(record.clone());
        Ok(())
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        exec(
            &self.sql,
            "INSERT INTO audit (at, realm, username, client_id, application, txid, factor, result,
               reason, ip, country)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                event.at.into(),
                event.realm.as_str().into(),
                event.username.as_str().into(),
                event.client_id.as_str().into(),
                event.application.as_str().into(),
                event.txid.as_str().into(),
                event.factor.clone().into(),
                event.result.as_str().into(),
                event.reason.as_str().into(),
                event.ip.clone().into(),
                event.country.clone().into(),
            ],
        )?;
        Ok(())
    }

    fn audit(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        rows(
            &self.sql,
            "SELECT at, realm, username, client_id, application, txid, factor, result, reason,
               ip, country
             FROM audit ORDER BY seq DESC LIMIT ?",
            vec![i64::from(limit).into()],
        )
    }

    fn draw_code(&self) -> Result<String, StoreError> {
        crate::code::draw(&CryptoEntropy, self.route)
    }

    fn insert_code(&self, code_hash: &str, grant: &Grant) -> Result<(), StoreError> {
        exec(
            &self.sql,
            &format!(
                "INSERT INTO auth_code (code_hash, {GRANT_COLUMNS})
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            vec![
                code_hash.into(),
                grant.client_id.as_str().into(),
                grant.redirect_uri.as_str().into(),
                grant.realm.as_str().into(),
                grant.username.as_str().into(),
                grant.nonce.clone().into(),
                grant.factor.as_str().into(),
                grant.reason.as_str().into(),
                grant.auth_time.into(),
                grant.txid.as_str().into(),
                grant.ip.clone().into(),
                grant.country.clone().into(),
                grant.expires_at.into(),
            ],
        )?;
        Ok(())
    }

    fn bypass_codes(&self) -> Result<Vec<BypassCodeRecord>, StoreError> {
        rows(
            &self.sql,
            "SELECT id, salt, hash, remaining_uses, expires_at, created FROM bypass_code
             ORDER BY rowid",
            Vec::new(),
        )
    }

    fn put_bypass_code(&self, code: &BypassCodeRecord) -> Result<(), StoreError> {
        exec(
            &self.sql,
            "INSERT INTO bypass_code (id, salt, hash, remaining_uses, expires_at, created)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET remaining_uses = excluded.remaining_uses,
               expires_at = excluded.expires_at",
            vec![
                code.id.as_str().into(),
                code.salt.as_str().into(),
                code.hash.as_str().into(),
                code.remaining_uses.map(i64::from).into(),
                code.expires_at.into(),
                code.created.into(),
            ],
        )?;
        Ok(())
    }

    fn take_code(&self, code_hash: &str, now: i64) -> Result<Option<Grant>, StoreError> {
        let found: Vec<Grant> = rows(
            &self.sql,
            &format!("DELETE FROM auth_code WHERE code_hash = ? RETURNING {GRANT_COLUMNS}"),
            vec![code_hash.into()],
        )?;
        exec(
            &self.sql,
            "DELETE FROM auth_code WHERE expires_at < ?",
            vec![now.into()],
        )?;
        Ok(found.into_iter().next())
    }

    fn delete_bypass_code(&self, id: &str) -> Result<(), StoreError> {
        exec(
            &self.sql,
            "DELETE FROM bypass_code WHERE id = ?",
            vec![id.into()],
        )?;
        Ok(())
    }

    fn bypass_pepper(&self) -> Result<tessera_shared::bypass::BypassPepper, StoreError> {
        Ok(self.key.bypass_pepper().clone())
    }
}

const GRANT_COLUMNS: &str = "client_id, redirect_uri, realm, username, nonce, factor, reason, \
                             auth_time, txid, ip, country, expires_at";

impl SqlAccount<'_> {
    fn write_account(&self, record: &AccountRecord) -> Result<(), StoreError> {
        exec(
            &self.sql,
            "INSERT INTO account (id, realm, username, status, failures, locked_since)
             VALUES (1, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET realm = excluded.realm, username = excluded.username,
               status = excluded.status, failures = excluded.failures,
               locked_since = excluded.locked_since",
            vec![
                record.realm.as_str().into(),
                record.username.as_str().into(),
                record.status.as_str().into(),
                i64::from(record.lockout.failures).into(),
                record.lockout.locked_since.into(),
            ],
        )?;
        Ok(())
    }

    fn write_devices(&self, record: &AccountRecord) -> Result<(), StoreError> {
        let mut rows = self.rows.borrow_mut();
        let stored = &mut rows.devices;
        for (position, device) in record.devices.iter().enumerate() {
            let last_step = match device.last_step {
                Some(step) => integer(step)?,
                None => SqlStorageValue::Null,
            };
            // An unchanged row is not written; a changed one keeps its sealed secret when
            // the secret itself did not change.
            let known = stored
                .get(&device.id)
                .filter(|known| same_totp(&known.device.totp, &device.totp));
            if let Some(known) = known {
                let unchanged = known.position == position
                    && known.device.name == device.name
                    && known.device.last_step == device.last_step;
                if !unchanged {
                    exec(
                        &self.sql,
                        "UPDATE device SET position = ?, name = ?, last_step = ? WHERE id = ?",
                        vec![
                            integer(u64::try_from(position).map_err(backend)?)?,
                            device.name.as_str().into(),
                            last_step,
                            device.id.as_str().into(),
                        ],
                    )?;
                }
                let sealed = known.sealed.clone();
                stored.insert(
                    device.id.clone(),
                    StoredDevice {
                        position,
                        device: device.clone(),
                        sealed,
                    },
                );
                continue;
            }
            let context = totp_context(&record.realm, &record.username, &device.id);
            let sealed = self
                .key
                .seal(&CryptoEntropy, &device.totp.secret_base32, &context)?;
            stored.insert(
                device.id.clone(),
                StoredDevice {
                    position,
                    device: device.clone(),
                    sealed: sealed.clone(),
                },
            );
            exec(
                &self.sql,
                "INSERT INTO device (id, position, name, totp_secret, totp_algorithm, totp_digits,
                   totp_period, last_step)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET position = excluded.position, name = excluded.name,
                   totp_secret = excluded.totp_secret, totp_algorithm = excluded.totp_algorithm,
                   totp_digits = excluded.totp_digits, totp_period = excluded.totp_period,
                   last_step = excluded.last_step",
                vec![
                    device.id.as_str().into(),
                    integer(u64::try_from(position).map_err(backend)?)?,
                    device.name.as_str().into(),
                    sealed.into(),
                    device.totp.algorithm.as_str().into(),
                    i64::from(device.totp.digits).into(),
                    integer(device.totp.period)?,
                    last_step,
                ],
            )?;
        }
        Ok(())
    }
}

// -------------------------------------------------------------- Directory object

const DIRECTORY_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS application (
        client_id TEXT PRIMARY KEY,
        realm TEXT NOT NULL,
        client_secret TEXT NOT NULL,
        name TEXT NOT NULL,
        origins TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS app_settings (
        client_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS realm_policy (
        realm TEXT PRIMARY KEY,
        policy TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS application_token (
        client_id TEXT PRIMARY KEY,
        id_token_format TEXT NOT NULL
    )",
    // Authorization codes moved to the account objects (`code`).
    "DROP TABLE IF EXISTS auth_code",
];

/// Applications and authorization codes.
#[durable_object]
pub struct Directory {
    state: State,
    schema_ready: Cell<bool>,
    storage_key: Option<StorageKey>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").finish_non_exhaustive()
    }
}

impl DurableObject for Directory {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            schema_ready: Cell::new(false),
            storage_key: storage_key(&env),
        }
    }

    async fn fetch(&self, mut request: worker::Request) -> worker::Result<worker::Response> {
        let text = request.text().await?;
        run_command(
            &self.state,
            &self.schema_ready,
            DIRECTORY_SCHEMA,
            &text,
            |sql, command: DirectoryCommand| {
                let key = require_key(&self.storage_key)?;
                directory::execute(&SqlDirectory { sql, key }, command)
            },
        )
    }
}

struct SqlDirectory<'a> {
    sql: SqlStorage,
    key: &'a StorageKey,
}

/// Where a client secret is stored: the associated data it is sealed with.
fn client_secret_context(client_id: &str) -> String {
    format!("client_secret {client_id}")
}

#[derive(Deserialize)]
struct ApplicationRow {
    client_id: String,
    realm: String,
    client_secret: String,
    name: String,
    origins: String,
}

#[derive(Deserialize)]
struct TokenFormatRow {
    id_token_format: String,
}

impl DirectoryStorage for SqlDirectory<'_> {
    fn application(&self, client_id: &str) -> Result<Option<AppRecord>, StoreError> {
        let found: Vec<ApplicationRow> = rows(
            &self.sql,
            "SELECT client_id, realm, client_secret, name, origins FROM application
             WHERE client_id = ?",
            vec![client_id.into()],
        )?;
        let Some(row) = found.into_iter().next() else {
            return Ok(None);
        };
        let origins: Vec<String> = serde_json::from_str(&row.origins)
            .map_err(|e| StoreError::Corrupt(format!("origins of {}: {e}", row.client_id)))?;
        let client_secret = self
            .key
            .open(&row.client_secret, &client_secret_context(&row.client_id))?;
        let formats: Vec<TokenFormatRow> = rows(
            &self.sql,
            "SELECT id_token_format FROM application_token WHERE client_id = ?",
            vec![client_id.into()],
        )?;
        let id_token_format = match formats.into_iter().next() {
            Some(row) => directory::IdTokenFormat::parse(&row.id_token_format)
                .ok_or_else(|| StoreError::Corrupt(format!("id_token_format of {client_id}")))?,
            None => directory::IdTokenFormat::default(),
        };
        Ok(Some(AppRecord {
            client_id: row.client_id,
            realm: row.realm,
            client_secret,
            name: row.name,
            origins,
            id_token_format,
        }))
    }

    fn put_application(&self, app: &AppRecord) -> Result<(), StoreError> {
        let origins = serde_json::to_string(&app.origins).map_err(backend)?;
        let sealed = self.key.seal(
            &CryptoEntropy,
            &app.client_secret,
            &client_secret_context(&app.client_id),
        )?;
        exec(
            &self.sql,
            "INSERT INTO application (client_id, realm, client_secret, name, origins)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (client_id) DO UPDATE SET realm = excluded.realm,
               client_secret = excluded.client_secret, name = excluded.name,
               origins = excluded.origins",
            vec![
                app.client_id.as_str().into(),
                app.realm.as_str().into(),
                sealed.into(),
                app.name.as_str().into(),
                origins.into(),
            ],
        )?;
        exec(
            &self.sql,
            "INSERT INTO application_token (client_id, id_token_format) VALUES (?, ?)
             ON CONFLICT (client_id) DO UPDATE SET id_token_format = excluded.id_token_format",
            vec![
                app.client_id.as_str().into(),
                app.id_token_format.as_str().into(),
            ],
        )?;
        Ok(())
    }

    fn realm_policy(&self, realm: &str) -> Result<Option<PolicyConfig>, StoreError> {
        json_column(
            &self.sql,
            "SELECT policy AS json FROM realm_policy WHERE realm = ?",
            realm,
        )
    }

    fn put_realm_policy(&self, realm: &str, policy: &PolicyConfig) -> Result<(), StoreError> {
        let json = serde_json::to_string(policy).map_err(backend)?;
        exec(
            &self.sql,
            "INSERT INTO realm_policy (realm, policy) VALUES (?, ?)
             ON CONFLICT (realm) DO UPDATE SET policy = excluded.policy",
            vec![realm.into(), json.into()],
        )?;
        Ok(())
    }

    fn app_settings(&self, client_id: &str) -> Result<Option<AppSettings>, StoreError> {
        json_column(
            &self.sql,
            "SELECT settings AS json FROM app_settings WHERE client_id = ?",
            client_id,
        )
    }

    fn put_app_settings(&self, client_id: &str, settings: &AppSettings) -> Result<(), StoreError> {
        let json = serde_json::to_string(settings).map_err(backend)?;
        exec(
            &self.sql,
            "INSERT INTO app_settings (client_id, settings) VALUES (?, ?)
             ON CONFLICT (client_id) DO UPDATE SET settings = excluded.settings",
            vec![client_id.into(), json.into()],
        )?;
        Ok(())
    }
}

#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

/// The JSON document in the `json` column of the row `query` finds for `key`, if any.
fn json_column<T: DeserializeOwned>(
    sql: &SqlStorage,
    query: &str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let found: Vec<JsonRow> = rows(sql, query, vec![key.into()])?;
    found
        .into_iter()
        .next()
        .map(|row| {
            serde_json::from_str(&row.json).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))
        })
        .transpose()
}

// ---------------------------------------------------------------- Issuer object

const ISSUER_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS signing_key (
        kid TEXT PRIMARY KEY,
        seed TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER,
        drop_at INTEGER
    )",
    "CREATE TABLE IF NOT EXISTS seen_jti (
        scope TEXT NOT NULL,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (scope, jti)
    )",
    "CREATE INDEX IF NOT EXISTS seen_jti_expiry ON seen_jti (expires_at)",
];

/// Signing keys and seen JWT ids.
#[durable_object]
pub struct Issuer {
    state: State,
    schema_ready: Cell<bool>,
    storage_key: Option<StorageKey>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").finish_non_exhaustive()
    }
}

impl DurableObject for Issuer {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            schema_ready: Cell::new(false),
            storage_key: storage_key(&env),
        }
    }

    async fn fetch(&self, mut request: worker::Request) -> worker::Result<worker::Response> {
        let text = request.text().await?;
        run_command(
            &self.state,
            &self.schema_ready,
            ISSUER_SCHEMA,
            &text,
            |sql, command: IssuerCommand| {
                let key = require_key(&self.storage_key)?;
                issuer::execute(&SqlIssuer { sql, key }, command)
            },
        )
    }
}

struct SqlIssuer<'a> {
    sql: SqlStorage,
    key: &'a StorageKey,
}

/// Where a signing seed is stored: the associated data it is sealed with.
fn signing_seed_context(kid: &str) -> String {
    format!("signing_key {kid}")
}

#[derive(Deserialize)]
struct KeyRow {
    kid: String,
    seed: String,
    created_at: i64,
    retired_at: Option<i64>,
    drop_at: Option<i64>,
}

#[derive(Deserialize)]
struct CountRow {
    n: i64,
}

impl IssuerStorage for SqlIssuer<'_> {
    fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let found: Vec<KeyRow> = rows(
            &self.sql,
            "SELECT kid, seed, created_at, retired_at, drop_at FROM signing_key",
            Vec::new(),
        )?;
        found
            .into_iter()
            .map(|row| {
                let seed = self.key.open(&row.seed, &signing_seed_context(&row.kid))?;
                Ok(StoredKey {
                    kid: row.kid,
                    seed,
                    created_at: row.created_at,
                    retired_at: row.retired_at,
                    drop_at: row.drop_at,
                })
            })
            .collect()
    }

    fn put_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        let sealed = self
            .key
            .seal(&CryptoEntropy, &key.seed, &signing_seed_context(&key.kid))?;
        exec(
            &self.sql,
            "INSERT INTO signing_key (kid, seed, created_at, retired_at, drop_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (kid) DO UPDATE SET seed = excluded.seed,
               created_at = excluded.created_at, retired_at = excluded.retired_at,
               drop_at = excluded.drop_at",
            vec![
                key.kid.as_str().into(),
                sealed.into(),
                key.created_at.into(),
                key.retired_at.into(),
                key.drop_at.into(),
            ],
        )?;
        Ok(())
    }

    fn delete_key(&self, kid: &str) -> Result<(), StoreError> {
        exec(
            &self.sql,
            "DELETE FROM signing_key WHERE kid = ?",
            vec![kid.into()],
        )?;
        Ok(())
    }

    fn jti_seen(&self, scope: &str, jti: &str, now: i64) -> Result<bool, StoreError> {
        let found: Vec<CountRow> = rows(
            &self.sql,
            "SELECT COUNT(*) AS n FROM seen_jti WHERE scope = ? AND jti = ? AND expires_at >= ?",
            vec![scope.into(), jti.into(), now.into()],
        )?;
        Ok(found.first().is_some_and(|row| row.n > 0))
    }

    fn insert_jti(&self, scope: &str, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        exec(
            &self.sql,
            "INSERT INTO seen_jti (scope, jti, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (scope, jti) DO UPDATE SET expires_at = excluded.expires_at",
            vec![scope.into(), jti.into(), expires_at.into()],
        )?;
        Ok(())
    }

    fn purge_jtis(&self, now: i64) -> Result<(), StoreError> {
        exec(
            &self.sql,
            "DELETE FROM seen_jti WHERE expires_at < ?",
            vec![now.into()],
        )?;
        Ok(())
    }
}
