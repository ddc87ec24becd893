//! Bypass codes: 9-digit codes an administrator issues to a user who lost their device,
//! valid once (the default), N times or without limit, and optionally until a time.
//!
//! This module owns drawing a code from caller-supplied random bytes (rejection sampling,
//! so every code in `000000000..=999999999` is equally likely), the stored form, and the
//! pure redemption rule. At rest a code is `HMAC-SHA256(pepper, salt ‖ code)` with a
//! per-code random salt and a server-side pepper ([`BypassPepper`], a Worker secret that
//! never sits beside the table): 10^9 codes are few enough to enumerate, so a salted hash
//! alone would fall to a stolen table, while without the pepper there is nothing to
//! enumerate against. Candidates are compared in constant time (`Mac::verify_slice`).
//!
//! [`StoredBypassCode::redeem`] never mutates: it returns what to store next (one use
//! fewer) or that the code is used up and should be deleted.

use std::num::NonZeroU32;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::{SecretBytes, SecretString};

/// Digits in a bypass code.
pub const DIGITS: usize = 9;
/// Random bytes [`generate`] takes: 8 draws of 30 bits, each accepted with probability
/// 10^9 / 2^30 ≈ 0.93, so all 8 fail with probability below 10^-9.
pub const RANDOM_BYTES: usize = 32;
/// Bytes of per-code salt.
pub const SALT_BYTES: usize = 16;
/// The shortest pepper accepted (128 bits).
pub const MIN_PEPPER_BYTES: usize = 16;

const CODES: u32 = 1_000_000_000;
const DRAW_MASK: u32 = (1 << 30) - 1;

/// Why a bypass code could not be issued or redeemed.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BypassError {
    #[error("a bypass code is {DIGITS} digits")]
    Malformed,
    #[error("the bypass code does not match")]
    Mismatch,
    #[error("the bypass code has expired")]
    Expired,
    #[error("the bypass code has no uses left")]
    UsedUp,
    #[error("every random draw was rejected; call again with fresh random bytes")]
    RandomnessExhausted,
    #[error("the bypass-code pepper must be at least {MIN_PEPPER_BYTES} bytes")]
    WeakPepper,
}

/// The server-side HMAC key of every stored bypass code (a Worker secret).
#[derive(Clone, Debug)]
pub struct BypassPepper(SecretBytes);

impl BypassPepper {
    pub fn new(secret: SecretBytes) -> Result<Self, BypassError> {
        if secret.expose_secret().len() < MIN_PEPPER_BYTES {
            return Err(BypassError::WeakPepper);
        }
        Ok(Self(secret))
    }

    /// HMAC-SHA256(pepper, salt ‖ code), not yet finalized.
    fn hash(&self, salt: &[u8; SALT_BYTES], code: &str) -> Result<Hmac<Sha256>, BypassError> {
        // HMAC takes keys of any length; the error cannot happen.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret())
            .map_err(|_| BypassError::WeakPepper)?;
        mac.update(salt);
        mac.update(code.as_bytes());
        Ok(mac)
    }
}

/// A bypass code in clear: shown once to whoever issues it, then only its hash is kept.
#[derive(Clone, Debug)]
pub struct BypassCode(SecretString);

impl BypassCode {
    /// A code as typed: 9 digits, with spaces or hyphens between groups allowed.
    pub fn parse(text: &str) -> Result<Self, BypassError> {
        let digits: String = text.chars().filter(|&c| c != ' ' && c != '-').collect();
        let digits = SecretString::new(digits);
        let code = digits.expose_secret();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BypassError::Malformed);
        }
        Ok(Self(digits))
    }

    /// The 9 digits, without separators.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Draws a uniformly random code from `random` (bytes from a CSPRNG): each 4-byte chunk
/// gives 30 bits, kept if below 10^9. Fails only if all 8 draws are rejected.
pub fn generate(random: &[u8; RANDOM_BYTES]) -> Result<BypassCode, BypassError> {
    random
        .chunks_exact(4)
        .filter_map(|chunk| <[u8; 4]>::try_from(chunk).ok())
        .map(|chunk| u32::from_le_bytes(chunk) & DRAW_MASK)
        .find(|&draw| draw < CODES)
        .map(|draw| BypassCode(SecretString::new(format!("{draw:0DIGITS$}"))))
        .ok_or(BypassError::RandomnessExhausted)
}

/// How many times a code may be redeemed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Uses {
    #[default]
    Single,
    Limited(NonZeroU32),
    Unlimited,
}

impl Uses {
    fn remaining(self) -> Option<u32> {
        match self {
            Self::Single => Some(1),
            Self::Limited(n) => Some(n.get()),
            Self::Unlimited => None,
        }
    }
}

/// A bypass code as the server keeps it. `remaining_uses: None` is unlimited;
/// `expires_at` is the first Unix second at which the code no longer works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBypassCode {
    pub salt: [u8; SALT_BYTES],
    pub hash: [u8; 32],
    pub remaining_uses: Option<u32>,
    pub expires_at: Option<i64>,
}

/// What a successful redemption leaves behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redemption {
    /// Store this in place of the redeemed code.
    Remaining(StoredBypassCode),
    /// That was the last use: delete the code.
    UsedUp,
}

impl StoredBypassCode {
    /// The stored form of `code`, with a fresh random `salt`.
    pub fn new(
        code: &BypassCode,
        salt: [u8; SALT_BYTES],
        pepper: &BypassPepper,
        uses: Uses,
        expires_at: Option<i64>,
    ) -> Result<Self, BypassError> {
        let hash = pepper.hash(&salt, code.expose_secret())?.finalize();
        Ok(Self {
            salt,
            hash: hash.into_bytes().into(),
            remaining_uses: uses.remaining(),
            expires_at,
        })
    }

    /// Issues a new code: `(what the user is shown, what the server stores)`.
    pub fn issue(
        random: &[u8; RANDOM_BYTES],
        salt: [u8; SALT_BYTES],
        pepper: &BypassPepper,
        uses: Uses,
        expires_at: Option<i64>,
    ) -> Result<(BypassCode, Self), BypassError> {
        let code = generate(random)?;
        let stored = Self::new(&code, salt, pepper, uses, expires_at)?;
        Ok((code, stored))
    }

    /// Redeems `candidate` at `now` (Unix seconds). The code is checked first, so only
    /// someone who knows it learns that it expired or is used up.
    pub fn redeem(
        &self,
        candidate: &str,
        pepper: &BypassPepper,
        now: i64,
    ) -> Result<Redemption, BypassError> {
        let candidate = BypassCode::parse(candidate)?;
        pepper
            .hash(&self.salt, candidate.expose_secret())?
            .verify_slice(&self.hash)
            .map_err(|_| BypassError::Mismatch)?;
        if self.expires_at.is_some_and(|expires_at| now >= expires_at) {
            return Err(BypassError::Expired);
        }
        match self.remaining_uses {
            None => Ok(Redemption::Remaining(self.clone())),
            Some(0) => Err(BypassError::UsedUp),
            Some(1) => Ok(Redemption::UsedUp),
            Some(n) => Ok(Redemption::Remaining(Self {
                remaining_uses: Some(n - 1),
                ..self.clone()
            })),
        }
    }
}

#[cfg(test)]
mod tests;
