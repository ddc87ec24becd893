//! Yubico OTP: the one-time passwords a YubiKey types from its "Yubico OTP" slot, checked
//! against the token's AES key without YubiCloud.
//!
//! An OTP is `public id ‖ token` in ModHex (the alphabet `cbdefghijklnrtuv`, which types
//! the same on most keyboard layouts). The public id is normally 12 characters, making a
//! 44-character OTP; Yubico's validation server accepts 0 to 16, and so does
//! [`UntrustedOtp::parse`] (Yubico's own test vector has 8). The token is 32 characters:
//! one AES-128 block holding the 6-byte private id, the usage counter (`session_counter`,
//! u16 LE, top bit = typed with caps lock on), an 8 Hz timestamp (u24 LE), the use within
//! the session (`session_use`), 2 random bytes and a CRC-16 (ISO 13239) whose residue over
//! the block is `0xf0b8`.
//!
//! This module owns the parsing (an [`UntrustedOtp`]), the decryption and CRC check (a
//! [`DecryptedOtp`]), the constant-time private-id check and the replay rule: a YubiKey's
//! `(session_counter, session_use)` only ever increases, so [`verify`] accepts an OTP only
//! when its pair is strictly greater than the last accepted one, and returns the pair for
//! the caller to store. The AES key and the private id are secrets ([`AesKey`],
//! [`PrivateId`]): redacted `Debug`, zeroized on drop.

use std::fmt;

use aes::Aes128;
use aes::cipher::{BlockDecrypt, KeyInit};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// ModHex characters in a token (one AES block).
pub const TOKEN_CHARS: usize = 32;
/// The longest public id Yubico's validation server accepts, in ModHex characters.
pub const MAX_PUBLIC_ID_CHARS: usize = 16;

const MODHEX: &[u8; 16] = b"cbdefghijklnrtuv";
/// CRC-16 (ISO 13239) over a block that ends in its own complemented CRC.
const CRC_RESIDUE: u16 = 0xf0b8;
/// The usage counter is 15 bits; the top bit says the OTP was typed with caps lock on.
const CAPS_LOCK_FLAG: u16 = 0x8000;

/// Why a Yubico OTP was refused.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum YubicoError {
    #[error("a Yubico OTP is 32 to 48 ModHex characters")]
    Malformed,
    #[error("the OTP comes from another YubiKey")]
    WrongToken,
    #[error("the OTP does not decrypt to a valid block under this YubiKey's key")]
    BadCrc,
    #[error("the OTP's private id does not match this YubiKey")]
    PrivateIdMismatch,
    #[error("the OTP was already used")]
    Replayed,
    #[error("a Yubico AES key is 16 bytes and a private id 6, in hex")]
    BadKey,
}

/// Decodes ModHex (either case) into bytes; `None` for an odd length or a character
/// outside the alphabet.
pub fn modhex_decode(text: &str) -> Option<Vec<u8>> {
    let digits = text
        .bytes()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            MODHEX
                .iter()
                .position(|&m| m == c)
                .and_then(|i| u8::try_from(i).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    let pairs = digits.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    Some(
        pairs
            .map(|pair| pair.iter().fold(0, |acc, d| acc << 4 | d))
            .collect(),
    )
}

/// Encodes bytes as lower-case ModHex (how a YubiKey types them).
pub fn modhex_encode(bytes: &[u8]) -> String {
    let digit = |nibble: u8| {
        MODHEX
            .get(usize::from(nibble))
            .map_or('?', |&c| char::from(c))
    };
    bytes
        .iter()
        .flat_map(|b| [digit(b >> 4), digit(b & 0x0f)])
        .collect()
}

/// A YubiKey's AES-128 key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AesKey([u8; 16]);

impl AesKey {
    pub fn new(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// A key from its 32 hex digits (the form `ykpersonalize` and the YubiKey Manager
    /// print).
    pub fn from_hex(text: &str) -> Result<Self, YubicoError> {
        fixed_from_hex(text).map(Self)
    }

    pub fn expose_secret(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey([REDACTED])")
    }
}

/// A YubiKey's 6-byte private id, the proof inside the block that the right key decrypted it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PrivateId([u8; 6]);

impl PrivateId {
    pub fn new(bytes: [u8; 6]) -> Self {
        Self(bytes)
    }

    /// A private id from its 12 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, YubicoError> {
        fixed_from_hex(text).map(Self)
    }

    pub fn expose_secret(&self) -> &[u8; 6] {
        &self.0
    }
}

impl fmt::Debug for PrivateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateId([REDACTED])")
    }
}

fn fixed_from_hex<const N: usize>(text: &str) -> Result<[u8; N], YubicoError> {
    let bytes = Zeroizing::new(
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .map_err(|_| YubicoError::BadKey)?,
    );
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| YubicoError::BadKey)
}

/// The replay state of a YubiKey, ordered as the key increments it: `session_counter`
/// (the 15-bit usage counter, bumped at power-up and when `session_use` wraps) first,
/// then `session_use`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counters {
    pub session_counter: u16,
    pub session_use: u8,
}

/// An OTP that is well formed but not yet decrypted: its public id says which YubiKey's
/// key to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UntrustedOtp {
    public_id: String,
    token: [u8; 16],
}

impl UntrustedOtp {
    /// Splits an OTP into public id and token. Upper case (caps lock) is accepted, as
    /// Yubico's server does; surrounding whitespace is not.
    pub fn parse(otp: &str) -> Result<Self, YubicoError> {
        let max = MAX_PUBLIC_ID_CHARS + TOKEN_CHARS;
        if !(TOKEN_CHARS..=max).contains(&otp.len()) || !otp.is_ascii() {
            return Err(YubicoError::Malformed);
        }
        let otp = otp.to_ascii_lowercase();
        let (public_id, token) = otp.split_at(otp.len() - TOKEN_CHARS);
        if !public_id.bytes().all(|c| MODHEX.contains(&c)) {
            return Err(YubicoError::Malformed);
        }
        let token = modhex_decode(token)
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .ok_or(YubicoError::Malformed)?;
        Ok(Self {
            public_id: public_id.to_owned(),
            token,
        })
    }

    /// The public id, in lower-case ModHex (empty if the YubiKey sends none).
    pub fn public_id(&self) -> &str {
        &self.public_id
    }

    /// Decrypts the token with `key` and checks its CRC. A wrong key fails here with
    /// near certainty; the private-id check catches the rest.
    pub fn decrypt(&self, key: &AesKey) -> Result<DecryptedOtp, YubicoError> {
        let cipher = Aes128::new(key.expose_secret().into());
        // Decrypted in place in a buffer that is wiped on return: it holds the private id.
        let mut plain = Zeroizing::new(self.token);
        cipher.decrypt_block((&mut *plain).into());
        if crc16(plain.as_slice()) != CRC_RESIDUE {
            return Err(YubicoError::BadCrc);
        }
        let [
            u0,
            u1,
            u2,
            u3,
            u4,
            u5,
            c0,
            c1,
            t0,
            t1,
            t2,
            session_use,
            r0,
            r1,
            _,
            _,
        ] = *plain;
        let counter = u16::from_le_bytes([c0, c1]);
        Ok(DecryptedOtp {
            private_id: PrivateId([u0, u1, u2, u3, u4, u5]),
            counters: Counters {
                session_counter: counter & !CAPS_LOCK_FLAG,
                session_use,
            },
            caps_lock: counter & CAPS_LOCK_FLAG != 0,
            timestamp: u32::from_le_bytes([t0, t1, t2, 0]),
            random: u16::from_le_bytes([r0, r1]),
        })
    }
}

/// The fields of a block whose CRC checked out. Holds the private id, so its `Debug`
/// shows only the counters.
pub struct DecryptedOtp {
    private_id: PrivateId,
    counters: Counters,
    caps_lock: bool,
    timestamp: u32,
    random: u16,
}

impl fmt::Debug for DecryptedOtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedOtp")
            .field("counters", &self.counters)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl DecryptedOtp {
    /// Whether the block carries `expected` as its private id, compared in constant time.
    pub fn private_id_matches(&self, expected: &PrivateId) -> bool {
        self.private_id
            .expose_secret()
            .ct_eq(expected.expose_secret())
            .into()
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Whether the YubiKey typed this OTP with caps lock on (the counter's top bit, which
    /// [`Counters`] leaves out).
    pub fn caps_lock(&self) -> bool {
        self.caps_lock
    }

    /// The YubiKey's 24-bit timestamp: 8 Hz ticks since power-up, random at power-up.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    pub fn random(&self) -> u16 {
        self.random
    }
}

/// Checks `otp` against one enrolled YubiKey: its public id, its AES key and private id,
/// and the counters of the last OTP accepted from it (`None` if none was). Returns the new
/// counters, which the caller must store as the last accepted.
pub fn verify(
    otp: &str,
    public_id: &str,
    private_id: &PrivateId,
    key: &AesKey,
    last: Option<Counters>,
) -> Result<Counters, YubicoError> {
    let untrusted = UntrustedOtp::parse(otp)?;
    if !untrusted.public_id().eq_ignore_ascii_case(public_id) {
        return Err(YubicoError::WrongToken);
    }
    let decrypted = untrusted.decrypt(key)?;
    if !decrypted.private_id_matches(private_id) {
        return Err(YubicoError::PrivateIdMismatch);
    }
    let counters = decrypted.counters();
    if last.is_some_and(|last| counters <= last) {
        return Err(YubicoError::Replayed);
    }
    Ok(counters)
}

/// CRC-16 as ISO 13239 (X.25) defines it, without the final complement: reflected
/// polynomial 0x8408, initial value 0xffff. Ten lines, so no crate for it.
fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0xffff, |crc, &byte| {
        (0..8).fold(crc ^ u16::from(byte), |crc, _| {
            if crc & 1 == 1 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            }
        })
    })
}

#[cfg(test)]
mod tests;
