//! One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238).
//!
//! Verification returns the step that matched, so the caller stores it and refuses any
//! code whose step is not newer: each code is accepted once. Candidate codes are compared
//! in constant time.

use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::SecretBytes;

/// The HMAC hash behind an OTP key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// Why a candidate passcode was refused.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtpError {
    #[error("a passcode is {expected} digits")]
    Malformed { expected: u8 },
    #[error("the passcode does not match")]
    Mismatch,
    #[error("the passcode was already used")]
    Replayed,
    #[error("the OTP key is unusable")]
    BadKey,
}

/// An OTP key with its parameters. Holds the secret, so it derives neither `Debug` nor
/// `PartialEq`.
#[derive(Clone)]
pub struct OtpKey {
    secret: SecretBytes,
    algorithm: Algorithm,
    digits: u8,
}

impl std::fmt::Debug for OtpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtpKey")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl OtpKey {
    /// A key producing `digits` (6 to 8) digit codes. Keys shorter than 10 bytes are
    /// refused (RFC 4226 asks for at least 128 bits; 80 is the floor some tokens use).
    pub fn new(secret: SecretBytes, algorithm: Algorithm, digits: u8) -> Result<Self, OtpError> {
        if !(6..=8).contains(&digits) || secret.expose_secret().len() < 10 {
            return Err(OtpError::BadKey);
        }
        Ok(Self {
            secret,
            algorithm,
            digits,
        })
    }

    /// A key from its RFC 4648 base32 form (as in `otpauth://` URIs), padding optional,
    /// spaces and case ignored.
    pub fn from_base32(text: &str, algorithm: Algorithm, digits: u8) -> Result<Self, OtpError> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| OtpError::BadKey)?;
        Self::new(SecretBytes::new(bytes), algorithm, digits)
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The HOTP value for `counter` (RFC 4226 section 5.3), zero-padded.
    pub fn hotp(&self, counter: u64) -> String {
        let message = counter.to_be_bytes();
        let digest = match self.algorithm {
            Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(self.secret.expose_secret(), &message),
            Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(self.secret.expose_secret(), &message),
            Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(self.secret.expose_secret(), &message),
        };
        let value = dynamic_truncation(&digest) % 10u32.pow(u32::from(self.digits));
        format!("{value:0width$}", width = usize::from(self.digits))
    }

    fn check_format(&self, candidate: &str) -> Result<(), OtpError> {
        let well_formed = candidate.len() == usize::from(self.digits)
            && candidate.bytes().all(|b| b.is_ascii_digit());
        if well_formed {
            Ok(())
        } else {
            Err(OtpError::Malformed {
                expected: self.digits,
            })
        }
    }
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match <M as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(message);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn dynamic_truncation(digest: &[u8]) -> u32 {
    let offset = digest.last().map_or(0, |b| usize::from(b & 0x0f));
    let mut word = [0u8; 4];
    if let Some(bytes) = digest.get(offset..offset + 4) {
        word.copy_from_slice(bytes);
    }
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// A TOTP generator/verifier: RFC 6238 with T0 = 0.
#[derive(Clone, Debug)]
pub struct Totp {
    key: OtpKey,
    period: u64,
}

impl Totp {
    pub const DEFAULT_PERIOD: u64 = 30;

    pub fn new(key: OtpKey, period: u64) -> Self {
        Self {
            key,
            period: period.max(1),
        }
    }

    pub fn key(&self) -> &OtpKey {
        &self.key
    }

    /// The time step that `unix_seconds` falls into.
    pub fn step_at(&self, unix_seconds: i64) -> u64 {
        u64::try_from(unix_seconds).unwrap_or(0) / self.period
    }

    pub fn code_at(&self, unix_seconds: i64) -> String {
        self.key.hotp(self.step_at(unix_seconds))
    }

    /// Seconds until the code shown at `unix_seconds` changes.
    pub fn seconds_left(&self, unix_seconds: i64) -> u64 {
        self.period - u64::try_from(unix_seconds).unwrap_or(0) % self.period
    }

    /// Checks `candidate` against the steps within `skew` of now. A match at a step at or
    /// below `last_used_step` is a replay. Returns the matched step, which the caller must
    /// store as the new `last_used_step`.
    pub fn verify(
        &self,
        candidate: &str,
        unix_seconds: i64,
        skew: u64,
        last_used_step: Option<u64>,
    ) -> Result<u64, OtpError> {
        self.key.check_format(candidate)?;
        let now = self.step_at(unix_seconds);
        let first = now.saturating_sub(skew);
        let matched = (first..=now.saturating_add(skew))
            .find(|&step| bool::from(self.key.hotp(step).as_bytes().ct_eq(candidate.as_bytes())));
        match matched {
            None => Err(OtpError::Mismatch),
            Some(step) if last_used_step.is_some_and(|last| step <= last) => {
                Err(OtpError::Replayed)
            }
            Some(step) => Ok(step),
        }
    }
}

#[cfg(test)]
mod tests;
