//! Bypass codes through the real edge core (in-memory stores): arbitrary bytes as the body
//! of `POST /internal/v1/bypass_codes`, and arbitrary text typed as a passcode into a live
//! prompt of a user who holds codes. Never a panic or a 5xx; an issue answers only 9-digit
//! codes, and neither the list nor the stored rows ever hold one.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tessera_edge::account::AccountKey;
use tessera_edge::app::{ClientInfo, Config, Edge, RequestContext};
use tessera_edge::memory::{self, CountingEntropy, MemoryStores};
use tessera_edge::session::SessionKey;
use tessera_shared::rp::Client;

const CLIENT_ID: &str = "DIABCDEFGHIJKLMNOPQR";
const SECRET: &str = "abcdefghijABCDEFGHIJ0123456789abcdefghij";
const HOST: &str = "localhost:8787";
const ADMIN: &str = "admin-token";
const NOW: i64 = 1_750_000_005;

/// The memory stores answer at once: one poll finishes every request.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn send(edge: &Edge<'_, MemoryStores>, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let Ok(request) = http::Request::builder()
        .method(method)
        .uri(format!("http://{HOST}{path}"))
        .header("host", HOST)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {ADMIN}"))
        .body(body)
    else {
        return (0, Vec::new());
    };
    let context = RequestContext {
        now: NOW,
        client: ClientInfo::default(),
    };
    let response = block_on(edge.handle(request, &context));
    (response.status().as_u16(), response.into_body())
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fuzz_target!(|data: &[u8]| {
    let config = Config {
        session_key: SessionKey::new(b"fuzzing session key"),
        admin_token: Some(ADMIN.into()),
        service_name: "Tessera".into(),
        push: Default::default(),
        bypass_pepper: memory::test_bypass_pepper(),
    };
    let stores = MemoryStores::default();
    let entropy = CountingEntropy::default();
    let edge = Edge {
        config: &config,
        stores: &stores,
        entropy: &entropy,
    };
    let seed = json!({"realm": "demo",
        "applications": [{"client_id": CLIENT_ID, "client_secret": SECRET, "name": "Fuzz"}],
        "users": [{"username": "alice"}]});
    assert_eq!(send(&edge, "POST", "/internal/v1/seed", seed.to_string().into_bytes()).0, 200);
    let issue = json!({"realm": "demo", "username": "alice", "count": 3, "reuse_count": 2});
    let (status, body) = send(&edge, "POST", "/internal/v1/bypass_codes", issue.to_string().into_bytes());
    assert_eq!(status, 200);
    let mut codes: Vec<String> = serde_json::from_value(json_of(&body)["codes"].clone()).unwrap_or_default();
    assert_eq!(codes.len(), 3);

    // Arbitrary bytes as an issue request.
    let (status, body) = send(&edge, "POST", "/internal/v1/bypass_codes", data.to_vec());
    assert!((200..500).contains(&status), "{status}");
    if status == 200 {
        let issued: Vec<String> = serde_json::from_value(json_of(&body)["codes"].clone()).unwrap_or_default();
        assert!(!issued.is_empty() && issued.len() <= 10);
        assert!(issued.iter().all(|c| c.len() == 9 && c.bytes().all(|b| b.is_ascii_digit())));
        codes.extend(issued);
    }

    // Arbitrary text as a passcode in a live prompt.
    let client = Client::new(CLIENT_ID, SECRET, HOST, "http://localhost:8080/cb");
    let start = json!({"client_id": CLIENT_ID, "request": client.authorize_request("alice", "0123456789abcdef0123456789abcdef", NOW)});
    let (status, body) = send(&edge, "POST", "/prompt/v1/start", start.to_string().into_bytes());
    if status == 200 {
        let session = json_of(&body)["session"].as_str().unwrap_or_default().to_owned();
        let typed = String::from_utf8_lossy(data);
        let attempt = json!({"session": session, "passcode": typed});
        let (status, _) = send(&edge, "POST", "/prompt/v1/passcode", attempt.to_string().into_bytes());
        assert!((200..500).contains(&status), "{status}");
    }

    // Neither the list nor the stored rows hold a code.
    let (status, listed) = send(&edge, "GET", "/internal/v1/bypass_codes?realm=demo&username=alice", Vec::new());
    assert!((200..500).contains(&status), "{status}");
    let rows = serde_json::to_string(&stores.bypass_rows(&AccountKey::new("demo", "alice"))).unwrap_or_default();
    let listed = String::from_utf8_lossy(&listed);
    for code in &codes {
        assert!(!listed.contains(code.as_str()) && !rows.contains(code.as_str()));
    }
});
