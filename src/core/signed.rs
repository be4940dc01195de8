//! Who may spend (SPEC §3a): key addresses, the `signature` a key-address sender's
//! transaction carries, the message it signs and the leaf hash that commits a block to it.
//!
//! **Invariant:** no I/O. Which leaves a key has used is the ledger's business
//! (`ledger::Ledger`, `ledger::Changes`); this file checks one transaction on its own.

use crate::core::hash::{BlockHash, TxId, to_hex};
use crate::crypto::{self, PublicKey, VerifyError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;
use std::fmt;

/// Characters in a key address: the 56-byte LMS public key in hex.
pub const KEY_ADDRESS_LEN: usize = 2 * PublicKey::SIZE;

/// The bytes of an LMS signature, travelling as lowercase hex in a transaction's `signature`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Signature(pub Vec<u8>);

impl Signature {
    /// The raw bytes, as they are verified and hashed into the leaf hash.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The leaf `q` the signature claims (its first 4 bytes), if it is long enough to say.
    pub fn leaf(&self) -> Option<u32> {
        crypto::signature_leaf(&self.0)
    }

    /// Lowercase hex, the wire form.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signature({} bytes, leaf {:?})",
            self.0.len(),
            self.leaf()
        )
    }
}

/// How a signature is written in its short form (see [`with_short_signatures`]).
pub type ShortForm = fn(&Signature) -> String;

thread_local! {
    /// How this thread writes signatures while an answer is serialised: whole (`None`), or
    /// in a short form for a person (`?brief=1`, set by [`with_short_signatures`]).
    static SHORT_FORM: Cell<Option<ShortForm>> = const { Cell::new(None) };
}

/// Runs `write` with every signature it serialises on this thread written as `short`
/// gives it: a way of writing an answer, never used around a write to disk. Restores the
/// whole form afterwards, even if `write` panics.
pub fn with_short_signatures<R>(short: ShortForm, write: impl FnOnce() -> R) -> R {
    /// Puts back the form that was in place before.
    struct Restore(Option<ShortForm>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SHORT_FORM.with(|form| form.set(self.0));
        }
    }
    let _restore = Restore(SHORT_FORM.with(|form| form.replace(Some(short))));
    write()
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match SHORT_FORM.with(Cell::get) {
            Some(short) => serializer.serialize_str(&short(self)),
            None => serializer.serialize_str(&self.to_hex()),
        }
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        crypto::from_hex(&text).map(Signature).ok_or_else(|| {
            serde::de::Error::custom(
                "signature must be hex: an LMS signature (RFC 8554) of 2 hex digits per byte",
            )
        })
    }
}

/// What an address is: an open account (a name) or an LMS public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// Any string that is not 112 hex characters: spendable by anyone who asks.
    Name,
    /// A key address: spendable only with a signature by this key.
    Key(PublicKey),
}

/// Why a 112-hex-character string is refused as an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// Key addresses are written in lowercase only, so one key has one spelling.
    Uppercase,
    /// The hex does not decode to a supported LMS public key.
    NotAKey(VerifyError),
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Uppercase => write!(
                f,
                "is 112 hex characters, so it must be a key address, and key addresses are lowercase"
            ),
            AddressError::NotAKey(error) => write!(
                f,
                "is 112 hex characters but not a key address (an LMS public key with LMS type 5-9 and LM-OTS type 1-4): {error}"
            ),
        }
    }
}

impl std::error::Error for AddressError {}

/// Classifies an address: 112 hex characters must be a valid key address, anything else
/// is a name.
pub fn parse_address(address: &str) -> Result<AddressKind, AddressError> {
    if address.len() != KEY_ADDRESS_LEN || !address.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(AddressKind::Name);
    }
    if address.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(AddressError::Uppercase);
    }
    let bytes = crypto::from_hex(address).expect("checked: 112 hex digits");
    PublicKey::from_bytes(&bytes)
        .map(AddressKind::Key)
        .map_err(AddressError::NotAKey)
}

/// The key address of a public key: its 56 bytes in lowercase hex.
pub fn key_address(key: &PublicKey) -> String {
    to_hex(&key.to_bytes())
}

/// What a key signs for a transaction: `genesis hash ‖ id`, 64 raw bytes. The genesis hash
/// ties the signature to one network.
pub fn signing_message(genesis: &BlockHash, id: &TxId) -> [u8; 64] {
    let mut message = [0u8; 64];
    message[..32].copy_from_slice(genesis.as_bytes());
    message[32..].copy_from_slice(id.as_bytes());
    message
}

/// Why a transaction's signature (or its absence) is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// The sender is a key address and the transaction carries no signature.
    Missing,
    /// The sender is a name (an open account) and the transaction carries a signature.
    OnName,
    /// The signature is malformed or does not verify with the sender's key.
    Invalid(VerifyError),
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Missing => write!(
                f,
                "the sender is a key address, so the transaction needs a \"signature\" by that key over genesis hash ‖ id (use `minichain wallet send`)"
            ),
            SignatureError::OnName => write!(
                f,
                "the sender is a name (an open account), so the transaction must not carry a \"signature\""
            ),
            SignatureError::Invalid(VerifyError::WrongRoot) => write!(
                f,
                "signature does not verify: not made by the sender's key over this network's genesis hash ‖ this id"
            ),
            SignatureError::Invalid(error) => write!(f, "bad signature: {error}"),
        }
    }
}

impl std::error::Error for SignatureError {}

#[cfg(test)]
#[path = "signed_tests.rs"]
mod tests;
