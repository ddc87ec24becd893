//! Device approvals for push and Verified Push: the canonical bytes a device signs with its
//! Ed25519 key, the device's key types, and the edge's check of an answer.
//!
//! An approval binds the transaction id, the decision, the Verified Push code as typed on
//! the device, the device's clock and the device id. The signed bytes are unambiguous: a
//! fixed domain-separation prefix ([`DOMAIN`]) so no other Tessera signature can be
//! replayed as an approval, then each field in a fixed order, strings length-prefixed
//! (u32 big-endian), the decision as one tag byte, the code behind a presence byte and the
//! time as i64 big-endian (see [`Approval::canonical_bytes`]).
//!
//! [`verify_approval`] checks the signature, the transaction, freshness in both directions
//! and the code (in constant time). It cannot know whether the transaction was already
//! answered: it returns the transaction id and time so the edge records the transaction as
//! answered, atomically, and refuses a second answer (single use is the caller's job).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;
use thiserror::Error;
use zeroize::ZeroizeOnDrop;

use crate::ed25519;
use crate::v1::{ApprovalDecision, DeviceApproval};

/// The domain-separation prefix of every signed approval (version 1 of the format).
pub const DOMAIN: &[u8] = b"tessera-approval-v1\0";
/// Bounds on the fields, checked by [`Approval::new`] and so by the wire parser.
pub const MAX_TXID_LEN: usize = 128;
pub const MAX_DEVICE_ID_LEN: usize = 128;
pub const MAX_CODE_LEN: usize = 16;
/// How far ahead of the edge's clock a device's clock may run.
pub const CLOCK_SKEW_SECONDS: i64 = 30;

/// Why a device key was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    #[error("the seed is all zeros")]
    ZeroSeed,
    #[error("the public key is not base64url of 32 bytes")]
    Malformed,
    #[error("the public key is not a usable Ed25519 point")]
    WeakOrInvalid,
}

/// Why an approval is not well formed (building one, or parsing the wire form).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalFormatError {
    #[error("the transaction id is empty, too long or not printable ASCII")]
    InvalidTxid,
    #[error("the device id is empty, too long or not printable ASCII")]
    InvalidDeviceId,
    #[error("the verification code is empty, too long or not digits")]
    InvalidCode,
    #[error("the signature is not base64url of 64 bytes")]
    InvalidSignature,
}

/// Why a well-formed approval was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovalError {
    #[error("the signature does not verify with the device's key")]
    BadSignature,
    #[error("the approval is for another transaction")]
    WrongTransaction,
    #[error("the approval is older than allowed")]
    Stale,
    #[error("the approval is dated in the future")]
    FromTheFuture,
    #[error("the approval carries no verification code")]
    MissingCode,
    #[error("the verification code does not match")]
    WrongCode,
    #[error("the approval carries a verification code the transaction did not ask for")]
    UnexpectedCode,
}

/// A device's signing key: Ed25519 from a 32-byte seed the caller draws from its random
/// source. Redacted from `Debug`, wiped on drop, never serialized.
pub struct DeviceSigningKey(ed25519::KeyPair);

impl DeviceSigningKey {
    /// The key for `seed` (32 random bytes, to be stored by the device as its secret).
    pub fn from_seed(seed: [u8; 32]) -> Result<Self, KeyError> {
        ed25519::KeyPair::from_seed(seed)
            .map(Self)
            .ok_or(KeyError::ZeroSeed)
    }

    pub fn public_key(&self) -> DevicePublicKey {
        DevicePublicKey(self.0.public_key())
    }

    /// Signs `message` (for the other formats bound to the device key, each with its own
    /// domain prefix: `device_auth`).
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message)
    }
}

impl fmt::Debug for DeviceSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceSigningKey([REDACTED])")
    }
}

// The secret half wipes itself on drop (see `ed25519::KeyPair`).
impl ZeroizeOnDrop for DeviceSigningKey {}

/// A device's public key, registered at activation: 32 bytes, base64url on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DevicePublicKey([u8; 32]);

impl DevicePublicKey {
    /// Accepts only a canonical point of large order, so a key that could never verify is
    /// refused at activation.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        if ed25519::is_valid_public_key(&bytes) {
            Ok(Self(bytes))
        } else {
            Err(KeyError::WeakOrInvalid)
        }
    }

    /// Parses base64url without padding, as the device sends it.
    pub fn from_base64url(text: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| KeyError::Malformed)?;
        Self::from_bytes(bytes.try_into().map_err(|_| KeyError::Malformed)?)
    }

    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// What a device signs when the user answers a push. Built only through [`Approval::new`],
/// so every field is within its bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    txid: String,
    decision: ApprovalDecision,
    code: Option<String>,
    time: i64,
    device_id: String,
}

impl Approval {
    /// `txid` and `device_id`: 1 to 128 printable ASCII characters; `code`: 1 to 16 ASCII
    /// digits when present; `time`: Unix seconds on the device's clock.
    pub fn new(
        txid: &str,
        decision: ApprovalDecision,
        code: Option<&str>,
        time: i64,
        device_id: &str,
    ) -> Result<Self, ApprovalFormatError> {
        if !is_identifier(txid, MAX_TXID_LEN) {
            return Err(ApprovalFormatError::InvalidTxid);
        }
        if !is_identifier(device_id, MAX_DEVICE_ID_LEN) {
            return Err(ApprovalFormatError::InvalidDeviceId);
        }
        if let Some(code) = code
            && (code.is_empty()
                || code.len() > MAX_CODE_LEN
                || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ApprovalFormatError::InvalidCode);
        }
        Ok(Self {
            txid: txid.to_owned(),
            decision,
            code: code.map(str::to_owned),
            time,
            device_id: device_id.to_owned(),
        })
    }

    pub fn txid(&self) -> &str {
        &self.txid
    }

    pub fn decision(&self) -> ApprovalDecision {
        self.decision
    }

    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    pub fn time(&self) -> i64 {
        self.time
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The bytes the device signs:
    ///
    /// ```text
    /// "tessera-approval-v1\0"
    /// u32be(len(txid)) txid
    /// u8 decision            1 approve, 2 deny, 3 deny_fraud
    /// u8 0                   no code, or
    /// u8 1 u32be(len(code)) code
    /// i64be time
    /// u32be(len(device_id)) device_id
    /// ```
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(DOMAIN.len() + 32 + self.txid.len() + self.device_id.len());
        out.extend_from_slice(DOMAIN);
        put_str(&mut out, &self.txid);
        out.push(match self.decision {
            ApprovalDecision::Approve => 1,
            ApprovalDecision::Deny => 2,
            ApprovalDecision::DenyFraud => 3,
        });
        match &self.code {
            None => out.push(0),
            Some(code) => {
                out.push(1);
                put_str(&mut out, code);
            }
        }
        out.extend_from_slice(&self.time.to_be_bytes());
        put_str(&mut out, &self.device_id);
        out
    }
}

/// An approval with the device's signature, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedApproval {
    approval: Approval,
    signature: [u8; 64],
}

impl SignedApproval {
    /// The fields as the device claims them: use `device_id` only to find the key to
    /// verify with, never to trust a value.
    pub fn approval(&self) -> &Approval {
        &self.approval
    }

    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The wire form the device sends.
    pub fn to_wire(&self) -> DeviceApproval {
        let a = &self.approval;
        DeviceApproval {
            txid: a.txid.clone(),
            decision: a.decision,
            code: a.code.clone(),
            time: a.time,
            device_id: a.device_id.clone(),
            signature: URL_SAFE_NO_PAD.encode(self.signature),
        }
    }
}

impl TryFrom<DeviceApproval> for SignedApproval {
    type Error = ApprovalFormatError;

    fn try_from(wire: DeviceApproval) -> Result<Self, Self::Error> {
        let approval = Approval::new(
            &wire.txid,
            wire.decision,
            wire.code.as_deref(),
            wire.time,
            &wire.device_id,
        )?;
        let signature = URL_SAFE_NO_PAD
            .decode(&wire.signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .ok_or(ApprovalFormatError::InvalidSignature)?;
        Ok(Self {
            approval,
            signature,
        })
    }
}

/// A verified answer. Before acting on it the edge records `txid` as answered (at `time`)
/// in the same atomic step that reads the pending transaction, and refuses a second
/// answer for it: `verify_approval` cannot see replays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct VerifiedApproval {
    pub txid: String,
    pub decision: ApprovalDecision,
    /// The device's time of the answer, Unix seconds.
    pub time: i64,
    pub device_id: String,
}

/// Signs an approval on the device.
pub fn sign_approval(key: &DeviceSigningKey, approval: &Approval) -> SignedApproval {
    SignedApproval {
        approval: approval.clone(),
        signature: key.0.sign(&approval.canonical_bytes()),
    }
}

/// Checks a device's answer to the transaction `expected_txid`, at `now` (Unix seconds):
///
/// - the signature, with the public key registered for the device that the transaction
///   was sent to;
/// - the transaction id;
/// - freshness: not older than `max_age` seconds, not more than [`CLOCK_SKEW_SECONDS`]
///   ahead of `now`;
/// - the Verified Push code, in constant time: an approval must carry exactly
///   `expected_code` when one was shown, and none for a plain push. A denial needs no code
///   (the user may deny without typing it) and one it carries is not compared.
///
/// Single use is the caller's: see [`VerifiedApproval`].
pub fn verify_approval(
    key: &DevicePublicKey,
    signed: &SignedApproval,
    expected_txid: &str,
    expected_code: Option<&str>,
    now: i64,
    max_age: i64,
) -> Result<VerifiedApproval, ApprovalError> {
    let approval = &signed.approval;
    if !ed25519::verify(&key.0, &approval.canonical_bytes(), &signed.signature) {
        return Err(ApprovalError::BadSignature);
    }
    if !bool::from(approval.txid.as_bytes().ct_eq(expected_txid.as_bytes())) {
        return Err(ApprovalError::WrongTransaction);
    }
    if now.saturating_sub(approval.time) > max_age {
        return Err(ApprovalError::Stale);
    }
    if approval.time.saturating_sub(now) > CLOCK_SKEW_SECONDS {
        return Err(ApprovalError::FromTheFuture);
    }
    if approval.decision == ApprovalDecision::Approve {
        match (expected_code, approval.code.as_deref()) {
            (None, None) => {}
            (None, Some(_)) => return Err(ApprovalError::UnexpectedCode),
            (Some(_), None) => return Err(ApprovalError::MissingCode),
            (Some(expected), Some(code)) => {
                if !bool::from(code.as_bytes().ct_eq(expected.as_bytes())) {
                    return Err(ApprovalError::WrongCode);
                }
            }
        }
    }
    Ok(VerifiedApproval {
        txid: approval.txid.clone(),
        decision: approval.decision,
        time: approval.time,
        device_id: approval.device_id.clone(),
    })
}

fn is_identifier(value: &str, max_len: usize) -> bool {
    !value.is_empty() && value.len() <= max_len && value.bytes().all(|b| b.is_ascii_graphic())
}

/// Appends a length-prefixed string. Every field is bounded by `Approval::new`, far below
/// `u32::MAX`.
fn put_str(out: &mut Vec<u8>, value: &str) {
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value.as_bytes());
}

#[cfg(test)]
mod tests;
