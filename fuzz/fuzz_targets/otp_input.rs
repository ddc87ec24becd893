//! Arbitrary passcode input and clock values: verification must never panic, and only the
//! code of a step within the window may pass.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::otp::{Algorithm, OtpKey, Totp};

fuzz_target!(|data: &[u8]| {
    let Some((clock, rest)) = data.split_first_chunk::<8>() else { return };
    let Ok(candidate) = std::str::from_utf8(rest) else { return };
    let now = i64::from_le_bytes(*clock);
    let Ok(key) = OtpKey::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Algorithm::Sha1, 6) else { return };
    let totp = Totp::new(key, 30);
    if let Ok(step) = totp.verify(candidate, now, 1, None) {
        assert_eq!(totp.key().hotp(step), candidate);
        assert!(step.abs_diff(totp.step_at(now)) <= 1);
    }
    let _ = OtpKey::from_base32(candidate, Algorithm::Sha256, 8);
});
