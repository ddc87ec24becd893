//! Ed25519 (RFC 8032, pure Ed25519) for the two places Tessera signs with it: device
//! approvals (`approval`) and EdDSA `id_token`s (`oidc`). Both wrap these crate-private
//! types so each keeps its own key type and errors.
//!
//! The arithmetic is `ed25519-compact` with its default features off: no randomness source
//! and no dependencies of its own, so it builds unchanged for wasm32. Signing is
//! deterministic (RFC 8032, no added noise), so a signature is reproducible from the seed
//! and the message, as the RFC's vectors require. Verification refuses non-canonical `S`,
//! non-canonical or small-order `R` and public keys of small order.

use zeroize::Zeroizing;

/// The length of a seed (RFC 8032's "secret key"), a public key and a signature.
pub(crate) const SEED_LEN: usize = 32;
pub(crate) const PUBLIC_KEY_LEN: usize = 32;
pub(crate) const SIGNATURE_LEN: usize = 64;

/// A key pair. The secret half is wiped when dropped (`ed25519_compact::SecretKey`
/// overwrites itself with volatile writes). No `Debug`, no `Clone`: the wrappers add a
/// redacted `Debug`.
pub(crate) struct KeyPair(ed25519_compact::KeyPair);

impl KeyPair {
    /// The key pair for a 32-byte seed. `None` for the all-zero seed, which only a broken
    /// random source produces.
    pub(crate) fn from_seed(seed: [u8; SEED_LEN]) -> Option<Self> {
        let seed = Zeroizing::new(seed);
        let mut copy = ed25519_compact::Seed::new(*seed);
        let pair = ed25519_compact::KeyPair::try_from_seed(copy).ok().map(Self);
        copy.wipe_mut();
        pair
    }

    pub(crate) fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        *self.0.pk
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        *self.0.sk.sign(message, None)
    }
}

/// Whether `public_key` is a canonical encoding of a point that is not of small order: the
/// check for a key arriving from outside (enrolment, a JWKS), so a key that could never
/// verify anything is refused where it enters.
pub(crate) fn is_valid_public_key(public_key: &[u8; PUBLIC_KEY_LEN]) -> bool {
    ed25519_compact::PublicKey::new(*public_key)
        .validate()
        .is_ok()
}

/// Verifies `signature` over `message` with `public_key`. A signature of the wrong length
/// is refused, not padded.
pub(crate) fn verify(public_key: &[u8; PUBLIC_KEY_LEN], message: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = ed25519_compact::Signature::from_slice(signature) else {
        return false;
    };
    ed25519_compact::PublicKey::new(*public_key)
        .verify(message, &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::test_data::{self, Record};

    fn check(record: &Record) {
        let name = &record.name;
        let seed: [u8; SEED_LEN] = record.bytes("secret").try_into().unwrap();
        let public: [u8; PUBLIC_KEY_LEN] = record.bytes("public").try_into().unwrap();
        let message = record.bytes("message");
        let expected = record.bytes("signature");
        let pair = KeyPair::from_seed(seed).unwrap();
        assert_eq!(pair.public_key(), public, "{name}");
        assert!(is_valid_public_key(&public), "{name}");
        let signature = pair.sign(&message);
        assert_eq!(signature.as_slice(), expected.as_slice(), "{name}");
        assert!(verify(&public, &message, &expected), "{name}");
        // Every single flipped bit, in the signature, the message or the key, is refused.
        for bit in 0..SIGNATURE_LEN * 8 {
            let mut flipped = signature;
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                !verify(&public, &message, &flipped),
                "{name} signature bit {bit}"
            );
        }
        for bit in (0..message.len() * 8).step_by(7) {
            let mut flipped = message.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                !verify(&public, &flipped, &signature),
                "{name} message bit {bit}"
            );
        }
        let mut other_key = public;
        other_key[0] ^= 1;
        assert!(!verify(&other_key, &message, &signature), "{name} key");
        assert!(!verify(&public, &message, &signature[..63]), "{name} short");
    }

    /// RFC 8032 section 7.1, stored as data: TEST 1, 2, 3, 1024 and SHA(abc).
    #[test]
    fn rfc8032_section_7_1() {
        let records = test_data::records(include_str!("../tests/data/rfc8032-ed25519.txt"));
        for record in &records {
            check(record);
        }
        assert_eq!(records.len(), 5);
    }

    #[test]
    fn weak_keys_and_zero_seeds_are_refused() {
        assert!(KeyPair::from_seed([0; SEED_LEN]).is_none());
        // The identity point and a non-canonical encoding of it.
        let mut identity = [0; PUBLIC_KEY_LEN];
        identity[0] = 1;
        assert!(!is_valid_public_key(&identity));
        assert!(!is_valid_public_key(&[0xff; PUBLIC_KEY_LEN]));
        assert!(!verify(&identity, b"", &[0; SIGNATURE_LEN]));
    }
}
