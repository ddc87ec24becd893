//! Arbitrary JSON as the claims of correctly signed Duo tokens: the claim rules (request,
//! client assertion) must refuse or accept without panicking, and an accepted request must
//! satisfy the invariants the edge relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_shared::duo;
use tessera_shared::jws::{self, Hs512Key};

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(data) else { return };
    let key = Hs512Key::from_secret_str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN");
    let token = jws::sign(&key, &claims);
    let now = 1_700_000_000;
    if let Ok(request) = duo::verify_authorize_request(&key, &token, "DIABCDEFGHIJKLMNOPQR", "localhost:8443", now) {
        assert!(!request.username.is_empty());
        assert!((duo::STATE_MIN_LEN..=duo::STATE_MAX_LEN).contains(&request.state.len()));
        assert_eq!(request.client_id, "DIABCDEFGHIJKLMNOPQR");
    }
    let _ = duo::verify_client_assertion(&key, &token, "DIABCDEFGHIJKLMNOPQR", "localhost:8443", "/oauth/v1/token", now);
    let _ = duo::assertion_client_id(&token);
});
