//! Push in the Worker: the device's WebSocket (forwarded by the Worker to the user's
//! Account object, which accepts it with the hibernation API and tags it with the device
//! id), delivery of `push_object::Effects`, long polls held by the object, the object's
//! `push_book` row and the realm outboxes.

use futures_util::future::{Either, select};
use serde::{Deserialize, Serialize};
use tessera_shared::device_auth;
use tessera_shared::v1::device::DEVICE_PUSHES;
use tessera_shared::v1::{ErrorCode, PushState};
use worker::{Env, Method, SqlStorage, WebSocketPair};

use super::{
    ACCOUNT_SCHEMA, ACCOUNTS_BINDING, Account, ObjectStub, SqlAccount, backend, call_at,
    ensure_schema, exec, object_response, rows, worker_response,
};
use crate::account::AccountKey;
use crate::push_object::{
    self, Effects, FraudReport, OutboxCommand, OutboxStorage, PushBook, PushCommand, PushReply,
    PushStorage,
};
use crate::store::StoreError;
use crate::web::{self, ApiError};

pub const PUSH_PATH: &str = "/push";
pub const OUTBOX_PATH: &str = "/outbox";
pub const PUSH_URL: &str = "https://object.internal/push";
pub const OUTBOX_URL: &str = "https://object.internal/outbox";

const OUTBOX_SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS notification (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        report TEXT NOT NULL
    )"];

/// The message a push command travels in.
#[derive(Serialize, Deserialize)]
struct PushEnvelope {
    key: AccountKey,
    command: PushCommand,
}

/// `GET /device/v1/pushes` with `Upgrade: websocket`.
pub fn is_device_upgrade(request: &worker::Request) -> bool {
    request.method() == Method::Get
        && request.path() == DEVICE_PUSHES
        && request
            .headers()
            .get("upgrade")
            .ok()
            .flatten()
            .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// In the Worker: hands the upgrade to the account object the signed request names.
pub async fn forward_upgrade(
    request: worker::Request,
    env: &Env,
) -> worker::Result<worker::Response> {
    let unauthorized = |message: &str| {
        worker_response(ApiError::new(ErrorCode::Unauthorized, message).into_response())
    };
    let Some(header) = request.headers().get("authorization").ok().flatten() else {
        return unauthorized("A signed device request is required.");
    };
    let Ok(signed) = device_auth::parse_authorization(&header) else {
        return unauthorized("The device request is malformed.");
    };
    let claims = signed.claims();
    let key = AccountKey::new(&claims.realm, &claims.username);
    let stub = match env
        .durable_object(ACCOUNTS_BINDING)
        .and_then(|namespace| namespace.get_by_name(&key.object_name()))
    {
        Ok(stub) => stub,
        Err(error) => return worker_response(web::internal(&error).into_response()),
    };
    stub.fetch_with_request(request).await
}

/// In the object: authenticates the device, accepts its WebSocket (hibernating, tagged
/// with the device id) and sends the pushes already waiting for it.
pub fn accept_device(
    account: &Account,
    request: &worker::Request,
) -> worker::Result<worker::Response> {
    let header = request
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let key = match device_auth::parse_authorization(&header) {
        Ok(signed) => AccountKey::new(&signed.claims().realm, &signed.claims().username),
        Err(_) => {
            return worker_response(
                ApiError::new(ErrorCode::Unauthorized, "The device request is malformed.")
                    .into_response(),
            );
        }
    };
    let command = PushCommand::Pending {
        authorization: header,
        method: "GET".to_owned(),
        path: DEVICE_PUSHES.to_owned(),
        now: super::now(),
    };
    let (device_id, pushes) = match execute(account, &key, command) {
        Ok((PushReply::Pending { device_id, pushes }, _)) => (device_id, pushes),
        Ok((PushReply::Refused(refusal), _)) => {
            return worker_response(
                crate::push::refusal_error(refusal, super::DEFAULT_SERVICE_NAME).into_response(),
            );
        }
        Ok(_) => {
            return worker_response(
                web::internal(&StoreError::UnexpectedReply("pending")).into_response(),
            );
        }
        Err(error) => return worker_response(web::internal(&error).into_response()),
    };
    let pair = WebSocketPair::new()?;
    account
        .state
        .accept_websocket_with_tags(&pair.server, &[device_id.as_str()]);
    for push in pushes {
        if let Ok(text) = serde_json::to_string(&push)
            && pair.server.send_with_str(text).is_err()
        {
            web::log("sending a waiting push failed");
        }
    }
    worker::Response::from_websocket(pair.client)
}

/// Runs one push command against the object's SQLite (synchronously: no other event
/// runs in between), then delivers its effects.
fn execute(
    account: &Account,
    key: &AccountKey,
    command: PushCommand,
) -> Result<(PushReply, Effects), StoreError> {
    let sql = account.state.storage().sql();
    ensure_schema(&sql, &account.schema_ready, ACCOUNT_SCHEMA)?;
    let storage_key = super::require_key(&account.storage_key)?;
    let storage = SqlAccount::new(sql, storage_key, account);
    let (reply, effects) = super::with_account_rows(&account.rows, || {
        push_object::execute(&storage, key, command)
    })?;
    deliver(account, &effects);
    Ok((reply, effects))
}

fn deliver(account: &Account, effects: &Effects) {
    for (device_id, message) in &effects.deliveries {
        for socket in account.state.get_websockets_with_tag(device_id) {
            if socket.send_with_str(message).is_err() {
                web::log("a device websocket refused a message");
            }
        }
    }
    if effects.changed {
        for waiter in account.waiters.borrow_mut().drain(..) {
            // A waiter that gave up (timer won) has dropped its receiver: nothing to do.
            let _ = waiter.send(());
        }
    }
}

fn now_ms() -> i64 {
    i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX)
}

/// `/push` inside the object. A status check of a pending push with `wait_ms` waits for
/// the first change of any of the account's transactions (then checks again), the end
/// of the wait, or the push's expiry, whichever comes first.
pub async fn run_push(account: &Account, text: &str) -> worker::Result<worker::Response> {
    let envelope: PushEnvelope = match serde_json::from_str(text) {
        Ok(envelope) => envelope,
        Err(error) => return object_response::<PushReply>(Err(backend(error))),
    };
    let PushEnvelope { key, mut command } = envelope;
    let wait_ms = match &command {
        PushCommand::Status { wait_ms, .. } => i64::from(*wait_ms),
        _ => 0,
    };
    let deadline = now_ms().saturating_add(wait_ms);
    loop {
        let result = execute(account, &key, command.clone()).map(|(reply, _)| reply);
        let Ok(PushReply::Status {
            state: PushState::Pending,
            expires_at,
            ..
        }) = &result
        else {
            return object_response(result);
        };
        let now = now_ms();
        let until = deadline.min(expires_at.saturating_mul(1000).saturating_add(20));
        if now >= deadline || until <= now {
            return object_response(result);
        }
        let (sender, receiver) = futures_channel::oneshot::channel();
        account.waiters.borrow_mut().push(sender);
        let millis = u64::try_from(until.saturating_sub(now)).unwrap_or(0);
        let timer = worker::Delay::from(std::time::Duration::from_millis(millis));
        match select(receiver, timer).await {
            Either::Left(_) | Either::Right(_) => {}
        }
        if let PushCommand::Status { now, .. } = &mut command {
            *now = super::now();
        }
    }
}

/// `/outbox` inside an outbox object.
pub fn run_outbox(account: &Account, text: &str) -> worker::Result<worker::Response> {
    let result = serde_json::from_str::<OutboxCommand>(text)
        .map_err(backend)
        .and_then(|command| {
            let sql = account.state.storage().sql();
            for statement in OUTBOX_SCHEMA {
                exec(&sql, statement, Vec::new())?;
            }
            push_object::execute_outbox(&SqlOutbox { sql }, command)
        });
    object_response(result)
}

/// Sends a push command to an account object.
pub async fn call_push(
    stub: &ObjectStub,
    key: &AccountKey,
    command: PushCommand,
) -> Result<PushReply, StoreError> {
    let envelope = PushEnvelope {
        key: key.clone(),
        command,
    };
    call_at(stub, PUSH_URL, &envelope).await
}

#[derive(Deserialize)]
struct BookRow {
    book: String,
}

impl PushStorage for SqlAccount<'_> {
    fn load_push(&self) -> Result<PushBook, StoreError> {
        let found: Vec<BookRow> = rows(
            &self.sql,
            "SELECT book FROM push_book WHERE id = 1",
            Vec::new(),
        )?;
        match found.into_iter().next() {
            Some(row) => serde_json::from_str(&row.book)
                .map_err(|e| StoreError::Corrupt(format!("push_book: {e}"))),
            None => Ok(PushBook::default()),
        }
    }

    fn save_push(&self, book: &PushBook) -> Result<(), StoreError> {
        let text = serde_json::to_string(book).map_err(backend)?;
        exec(
            &self.sql,
            "INSERT INTO push_book (id, book) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET book = excluded.book",
            vec![text.into()],
        )?;
        Ok(())
    }
}

struct SqlOutbox {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct ReportRow {
    report: String,
}

impl OutboxStorage for SqlOutbox {
    fn append_report(&self, report: &FraudReport) -> Result<(), StoreError> {
        let text = serde_json::to_string(report).map_err(backend)?;
        exec(
            &self.sql,
            "INSERT INTO notification (report) VALUES (?)",
            vec![text.into()],
        )?;
        Ok(())
    }

    fn reports(&self) -> Result<Vec<FraudReport>, StoreError> {
        let found: Vec<ReportRow> = rows(
            &self.sql,
            "SELECT report FROM notification ORDER BY seq",
            Vec::new(),
        )?;
        found
            .into_iter()
            .map(|row| {
                serde_json::from_str(&row.report)
                    .map_err(|e| StoreError::Corrupt(format!("notification: {e}")))
            })
            .collect()
    }
}
