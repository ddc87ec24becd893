//! Secrets at rest: TOTP seeds in the account objects and client secrets in the directory
//! are stored sealed with AES-256-GCM under `TESSERA_STORAGE_KEY` (a Worker secret, 32
//! bytes in standard base64). Each value gets a fresh 96-bit nonce, and the place it is
//! stored in (object and row) is bound as associated data, so a sealed value copied to
//! another row or another user does not open.
//!
//! Format: `"v1." base64url(nonce ‖ ciphertext ‖ tag)`. A value without the prefix is a
//! row written before encryption existed: it is read as plain text and sealed on its next
//! write.
//!
//! The same secret also yields the bypass-code pepper (`BypassPepper`, the HMAC key of
//! every stored bypass code): HMAC-SHA256(storage key, [`BYPASS_PEPPER_LABEL`]). A label of
//! its own keeps the two uses apart, and deriving it means no second secret to configure;
//! like the storage key, the pepper lives only in the Worker's memory, never in SQLite.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tessera_shared::bypass::BypassPepper;
use tessera_shared::{SecretBytes, SecretString};

use crate::store::{Entropy, StoreError};

const PREFIX: &str = "v1.";
const NONCE_BYTES: usize = 12;
const KEY_BYTES: usize = 32;
/// The domain label the bypass-code pepper is derived under. Changing it invalidates every
/// stored bypass code.
pub const BYPASS_PEPPER_LABEL: &str = "tessera bypass-code pepper v1";

/// The storage key, and the bypass-code pepper derived from it. Its `Debug` shows
/// nothing; the cipher zeroizes its key on drop, the pepper is a `SecretBytes`.
#[derive(Clone)]
pub struct StorageKey {
    cipher: Aes256Gcm,
    pepper: BypassPepper,
}

impl std::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageKey([REDACTED])")
    }
}

impl StorageKey {
    /// Reads 32 bytes in standard base64; anything else is refused.
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = zeroize::Zeroizing::new(STANDARD.decode(text.trim()).ok()?);
        if bytes.len() != KEY_BYTES {
            return None;
        }
        Some(Self {
            cipher: Aes256Gcm::new_from_slice(&bytes).ok()?,
            pepper: derive_pepper(&bytes)?,
        })
    }

    /// The bypass-code pepper: HMAC-SHA256(storage key, [`BYPASS_PEPPER_LABEL`]).
    pub fn bypass_pepper(&self) -> &BypassPepper {
        &self.pepper
    }

    /// Seals `secret` for the place named by `context`.
    pub fn seal(
        &self,
        entropy: &dyn Entropy,
        secret: &SecretString,
        context: &str,
    ) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_BYTES];
        entropy.fill(&mut nonce)?;
        let payload = Payload {
            msg: secret.expose_secret().as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| StoreError::Backend("sealing failed".to_owned()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Opens a value sealed for `context` (or passes a pre-encryption plain value).
    pub fn open(&self, stored: &str, context: &str) -> Result<SecretString, StoreError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(SecretString::from(stored.to_owned()));
        };
        let corrupt = || StoreError::Corrupt(format!("sealed value for {context}"));
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| corrupt())?;
        let (nonce, sealed) = bytes.split_at_checked(NONCE_BYTES).ok_or_else(corrupt)?;
        let payload = Payload {
            msg: sealed,
            aad: context.as_bytes(),
        };
        let plain = zeroize::Zeroizing::new(
            self.cipher
                .decrypt(Nonce::from_slice(nonce), payload)
                .map_err(|_| corrupt())?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| corrupt())?;
        Ok(SecretString::from(text.to_owned()))
    }
}

/// HMAC-SHA256(`key`, [`BYPASS_PEPPER_LABEL`]): 32 bytes, so always a usable pepper.
fn derive_pepper(key: &[u8]) -> Option<BypassPepper> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(BYPASS_PEPPER_LABEL.as_bytes());
    let derived = SecretBytes::new(mac.finalize().into_bytes().to_vec());
    BypassPepper::new(derived).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::CountingEntropy;

    #[test]
    fn seal_open_and_refusals() {
        let key = StorageKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let other = StorageKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        let entropy = CountingEntropy::default();
        let secret = SecretString::from("JBSWY3DPEHPK3PXP".to_owned());
        let sealed = key.seal(&entropy, &secret, "totp:a:1").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open(&sealed, "totp:a:1").unwrap().expose_secret(),
            "JBSWY3DPEHPK3PXP"
        );
        // Fresh nonce every time.
        assert_ne!(key.seal(&entropy, &secret, "totp:a:1").unwrap(), sealed);
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for (value, context, with) in [
            (sealed.as_str(), "totp:a:2", &key),
            (sealed.as_str(), "totp:a:1", &other),
            (flipped.as_str(), "totp:a:1", &key),
            ("v1.", "totp:a:1", &key),
            ("v1.!!", "totp:a:1", &key),
        ] {
            assert!(with.open(value, context).is_err(), "{value} {context}");
        }
        // Rows written before encryption read as plain text.
        assert_eq!(key.open("PLAIN", "x").unwrap().expose_secret(), "PLAIN");
        for bad in ["", "c2hvcnQ=", "not base64!", &STANDARD.encode([1u8; 31])] {
            assert!(StorageKey::from_base64(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn bypass_pepper_is_derived_per_key() {
        use tessera_shared::bypass::{BypassCode, StoredBypassCode, Uses};
        let key = StorageKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let same = StorageKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let other = StorageKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        let code = BypassCode::parse("123456789").unwrap();
        let stored = |key: &StorageKey| {
            StoredBypassCode::new(&code, [1; 16], key.bypass_pepper(), Uses::Single, None).unwrap()
        };
        // Deterministic for one key (codes survive a restart), different for another.
        assert_eq!(stored(&key), stored(&same));
        assert_ne!(stored(&key).hash, stored(&other).hash);
        assert!(
            stored(&key)
                .redeem("123456789", same.bypass_pepper(), 0)
                .is_ok()
        );
        assert!(
            stored(&key)
                .redeem("123456789", other.bypass_pepper(), 0)
                .is_err()
        );
        // The pepper is not the storage key itself.
        let raw = BypassPepper::new(SecretBytes::new(vec![7u8; 32])).unwrap();
        assert!(stored(&key).redeem("123456789", &raw, 0).is_err());
    }
}
