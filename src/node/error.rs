//! Why an operation was refused or failed ([`NodeError`]), and why the node could not
//! start from its data directory ([`StartError`]).

use super::lookups::LookupError;
use super::peer_table::PeersError;
use super::transactions::PaymentError;
use crate::core::block::TxError;
use crate::core::chain::BlockError;
use crate::core::error_from;
use crate::core::hash::TxId;
use crate::core::pool::PoolError;
use crate::core::signed::SignatureError;
use crate::store::StoreError;
use crate::wallet::node_wallet::WalletError;
use crate::wire::address::AddressError;
use crate::wire::error::NetError;
use std::fmt;

/// Why an operation was refused or failed; `http::reply` maps each kind to a status code.
#[derive(Debug)]
pub enum NodeError {
    /// A client's payment request cannot become a transaction.
    Payment(PaymentError),
    /// A transaction breaks a rule on its own.
    Transaction(TxError),
    /// The pool refused a transaction (a known one among the reasons: a safe retry).
    Pool(PoolError),
    /// The node's wallet could not sign or save; no signature left the node.
    Wallet(WalletError),
    /// The disk refused a write; nothing was acknowledged.
    Store(StoreError),
    /// The owner's change to the peer list was refused.
    Peers(PeersError),
    /// Something between nodes was refused or failed: an address, an announcement, a
    /// registration, a fetch.
    Net(NetError),
    /// The block built from the pool breaks a rule, so it was not appended.
    Unmineable(BlockError),
    /// A payment looked up (SPEC §5b) is unknown, or has no proof yet.
    Lookup(LookupError),
}

impl NodeError {
    /// Whether a relayed transaction refused with this may be admitted once more blocks
    /// are known (it may spend coins of a block not fetched yet): held for one more try.
    pub fn may_pass_later(&self) -> bool {
        match self {
            NodeError::Pool(PoolError::Duplicate { .. }) => false,
            NodeError::Pool(_) | NodeError::Transaction(_) | NodeError::Payment(_) => true,
            _ => false,
        }
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Wallet(WalletError::Store(error)) | NodeError::Store(error) => {
                write!(f, "could not save the change: {error}")
            }
            NodeError::Unmineable(error) => write!(f, "the mined block is not valid: {error}"),
            // The rest say it all in their own words.
            NodeError::Payment(error) => error.fmt(f),
            NodeError::Transaction(error) => error.fmt(f),
            NodeError::Pool(error) => error.fmt(f),
            NodeError::Wallet(error) => error.fmt(f),
            NodeError::Peers(error) => error.fmt(f),
            NodeError::Net(error) => error.fmt(f),
            NodeError::Lookup(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for NodeError {
    /// The cause, where the message adds context to it (the rest are their cause's words).
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NodeError::Wallet(WalletError::Store(error)) | NodeError::Store(error) => Some(error),
            NodeError::Unmineable(error) => Some(error),
            _ => None,
        }
    }
}

// What `?` converts; a transaction's, a wallet's and a block's errors are wrapped where
// they arise, so that each says which step failed.
error_from!(NodeError {
    Payment(PaymentError),
    Pool(PoolError),
    Store(StoreError),
    Peers(PeersError),
    Net(NetError),
    Lookup(LookupError),
});

/// Why the node could not start from its data directory.
#[derive(Debug)]
pub enum StartError {
    /// The store could not be opened or read.
    Store(StoreError),
    /// A stored block breaks a rule; names the file.
    InvalidBlock { file: String, error: BlockError },
    /// A pooled transaction or peer is not valid; names the file.
    InvalidEntry { file: String, reason: EntryError },
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

error_from!(StartError { Store(StoreError) });

/// Why an entry of the pool file or the peer file cannot be loaded.
#[derive(Debug)]
pub enum EntryError {
    /// A pending transaction's signature does not check against this chain's genesis.
    Signature {
        /// The transaction.
        id: TxId,
        /// Why its signature fails.
        error: SignatureError,
    },
    /// A pending transaction the rebuilt pool refuses (other than one mined just before a
    /// crash).
    Pool(PoolError),
    /// A stored peer that is not a peer address.
    PeerAddress(AddressError),
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::Signature { id, error } => write!(f, "pending transaction {id}: {error}"),
            EntryError::Pool(error) => error.fmt(f),
            EntryError::PeerAddress(error) => {
                write!(f, "{:?} is not a peer address", error.input)
            }
        }
    }
}

impl std::error::Error for EntryError {}
