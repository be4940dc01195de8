//! Why an operation was refused or failed ([`NodeError`]), and why the node could not
//! start from its data directory ([`StartError`]).

use crate::core::chain::BlockError;
use crate::store::StoreError;
use crate::wallet::node_wallet::WalletError;
use std::fmt;

/// Why an operation was refused or failed; `api` maps each kind to a status code.
#[derive(Debug)]
pub enum NodeError {
    /// The request is wrong; nothing changed (400).
    BadRequest(String),
    /// The transaction is already known: a safe retry (409).
    Duplicate(String),
    /// The thing to remove does not exist (404).
    NotFound(String),
    /// Not this caller's to ask: a stranger registering another address (403, SPEC §6c).
    Forbidden(String),
    /// The disk refused a write; nothing was acknowledged (500).
    Storage(StoreError),
    /// The block built from the pool breaks a rule, so it was not appended (500).
    Unmineable(String),
    /// The node's wallet could not sign or save (500); no signature left the node.
    Wallet(String),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::BadRequest(reason)
            | NodeError::Duplicate(reason)
            | NodeError::NotFound(reason)
            | NodeError::Forbidden(reason)
            | NodeError::Unmineable(reason)
            | NodeError::Wallet(reason) => f.write_str(reason),
            NodeError::Storage(error) => write!(f, "could not save the change: {error}"),
        }
    }
}

impl std::error::Error for NodeError {}

impl From<StoreError> for NodeError {
    fn from(error: StoreError) -> NodeError {
        NodeError::Storage(error)
    }
}

/// Why the node could not start from its data directory.
#[derive(Debug)]
pub enum StartError {
    /// The store could not be opened or read.
    Store(StoreError),
    /// A stored block breaks a rule; names the file.
    InvalidBlock { file: String, error: BlockError },
    /// A pooled transaction or peer is not valid; names the file.
    InvalidEntry { file: String, reason: String },
    /// The node's wallet cannot be opened or made.
    Wallet(WalletError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Store(error) => error.fmt(f),
            StartError::InvalidBlock { file, error } => write!(
                f,
                "{file}: damaged data file: {error} (the file was left unchanged)"
            ),
            StartError::InvalidEntry { file, reason } => write!(
                f,
                "{file}: damaged data file: {reason} (the file was left unchanged)"
            ),
            StartError::Wallet(error) => write!(f, "the node's wallet: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<StoreError> for StartError {
    fn from(error: StoreError) -> StartError {
        StartError::Store(error)
    }
}
