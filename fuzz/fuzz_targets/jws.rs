//! Arbitrary text as a compact JWS: parsing and verification must never panic, and
//! nothing unsigned may verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::jws::{self, Hs512Key};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let key = Hs512Key::from_secret_str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN");
    let _ = jws::peek_claims_unverified(token);
    assert!(jws::verify(&key, token).is_err(), "a token nobody signed verified");
});
