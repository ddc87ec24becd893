//! Remembered-device tokens come back from browsers: arbitrary text through `open` never
//! panics, and nothing but a token sealed under the key opens; a sealed grant opens to
//! itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_edge::remember::{self, Remembered};
use tessera_edge::session::SessionKey;

fuzz_target!(|data: &[u8]| {
    let Some(key) = SessionKey::new(b"fuzzing key") else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    if let Some(grant) = remember::open(&key, &text) {
        // Only a MAC'd token opens: sealing what it says gives a token that opens the same.
        assert_eq!(remember::open(&key, &remember::seal(&key, &grant)), Some(grant));
    }
    let grant = Remembered {
        realm: text.chars().take(16).collect(),
        username: text.chars().skip(16).take(16).collect(),
        client_id: (data.len() % 2 == 0).then(|| "DIABCDEFGHIJKLMNOPQR".to_owned()),
        granted_at: i64::from(data.first().copied().unwrap_or_default()),
        expires_at: i64::MAX,
    };
    let token = remember::seal(&key, &grant);
    assert_eq!(remember::open(&key, &token), Some(grant));
});
