//! The signature rule of SPEC §3a applied to one transaction: the leaf hash a block
//! commits to, the leaf a signature uses, and whether the signature verifies. Its own
//! file so that `core::block` (the transaction) and `core::signed` (keys, signatures)
//! never import each other.
//!
//! **Invariant:** no I/O.

use crate::core::block::Transaction;
use crate::core::hash::{BlockHash, sha256};
use crate::core::signed::{
    AddressError, AddressKind, Signature, SignatureError, parse_address, signing_message,
};
use crate::crypto::VerifyError;

impl Transaction {
    /// The value the merkle tree commits to: the id, or `SHA-256(id ‖ signature bytes)` for
    /// a signed transaction, so a block commits to its signatures (SPEC §3).
    pub fn leaf_hash(&self) -> [u8; 32] {
        match &self.signature {
            None => self.id.0,
            Some(signature) => {
                let mut bytes = Vec::with_capacity(32 + signature.0.len());
                bytes.extend_from_slice(self.id.as_bytes());
                bytes.extend_from_slice(signature.as_bytes());
                sha256(&bytes)
            }
        }
    }

    /// The leaf this transaction's signature uses, if it is signed.
    pub fn leaf(&self) -> Option<u32> {
        self.signature.as_ref().and_then(Signature::leaf)
    }

    /// Checks the signature rule of SPEC §3a on network `genesis`: a key-address sender's
    /// transaction carries a signature that verifies (RFC 8554 Algorithm 6), a name
    /// sender's carries none. The sender must already have passed `check` (address form).
    pub fn check_signature(&self, genesis: &BlockHash) -> Result<(), SignatureError> {
        let kind = parse_address(&self.sender).map_err(|error| match error {
            AddressError::NotAKey(error) => SignatureError::Invalid(error),
            AddressError::Uppercase => SignatureError::Invalid(VerifyError::WrongRoot),
        })?;
        match (kind, &self.signature) {
            (AddressKind::Name, None) => Ok(()),
            (AddressKind::Name, Some(_)) => Err(SignatureError::OnName),
            (AddressKind::Key(_), None) => Err(SignatureError::Missing),
            (AddressKind::Key(key), Some(signature)) => key
                .verify(&signing_message(genesis, &self.id), signature.as_bytes())
                .map_err(SignatureError::Invalid),
        }
    }
}
