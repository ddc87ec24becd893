//! Arbitrary bodies for the prompt API's request types.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::v1::{PasscodeRequest, StartRequest};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<StartRequest>(data);
    let _ = serde_json::from_slice::<PasscodeRequest>(data);
});
