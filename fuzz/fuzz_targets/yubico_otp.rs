//! Arbitrary text as a Yubico OTP, after 3 bytes of "last accepted" counters: ModHex
//! decoding round-trips, parsing, decryption and verification never panic, and an
//! accepted OTP names the enrolled public id and moves the counters strictly forward.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_shared::yubico::{
    self, AesKey, Counters, MAX_PUBLIC_ID_CHARS, PrivateId, UntrustedOtp,
};

// yubico-c's test vector, so the seed dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh verifies.
const KEY: [u8; 16] = [
    0xec, 0xde, 0x18, 0xdb, 0xe7, 0x6f, 0xbd, 0x0c, 0x33, 0x33, 0x0f, 0x1c, 0x35, 0x48, 0x71, 0xdb,
];
const PRIVATE_ID: [u8; 6] = [0x87, 0x92, 0xeb, 0xfe, 0x26, 0xcc];
const PUBLIC_ID: &str = "dteffuje";

fuzz_target!(|data: &[u8]| {
    let Some((&[c0, c1, session_use], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let Ok(otp) = std::str::from_utf8(rest) else {
        return;
    };
    let last = Counters {
        session_counter: u16::from_le_bytes([c0, c1]),
        session_use,
    };

    if let Some(bytes) = yubico::modhex_decode(otp) {
        assert_eq!(yubico::modhex_encode(&bytes), otp.to_ascii_lowercase());
    }

    let key = AesKey::new(KEY);
    if let Ok(untrusted) = UntrustedOtp::parse(otp) {
        assert!(untrusted.public_id().len() <= MAX_PUBLIC_ID_CHARS);
        if let Ok(decrypted) = untrusted.decrypt(&key) {
            assert!(decrypted.counters().session_counter <= 0x7fff);
        }
    }

    let private_id = PrivateId::new(PRIVATE_ID);
    for last in [None, Some(last)] {
        if let Ok(counters) = yubico::verify(otp, PUBLIC_ID, &private_id, &key, last) {
            assert!(last.is_none_or(|last| counters > last));
            let parsed = UntrustedOtp::parse(otp).map(|u| u.public_id().to_owned());
            assert_eq!(parsed.as_deref(), Ok(PUBLIC_ID));
        }
    }
});
