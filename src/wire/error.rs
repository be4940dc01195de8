//! Why something between nodes was refused or failed ([`NetError`]): a peer's address,
//! an announcement, a registration, a fetch. Below `node` so that `node::NodeError` can
//! carry it; `net` builds it; only `http::reply` turns it into a status code.

use crate::core::error_from;
use crate::core::hash::{BlockHash, TxId};
use crate::wire::address::{AddressError, PeerUrl};
use crate::wire::client::PeerError;
use crate::wire::protocol::MAX_IDS_PER_MESSAGE;
use std::fmt;
use std::net::IpAddr;

/// Why a peer is on another network than ours (its `/inv` says so).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetworkMismatch {
    /// Another difficulty.
    Difficulty { theirs: u32, ours: u32 },
    /// Another genesis block.
    Genesis { theirs: BlockHash, ours: BlockHash },
    /// Another coinbase reward.
    Reward { theirs: u64, ours: u64 },
}

impl fmt::Display for NetworkMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMismatch::Difficulty { theirs, ours } => {
                write!(f, "its difficulty is {theirs}, ours {ours}")
            }
            NetworkMismatch::Genesis { theirs, ours } => {
                write!(f, "its genesis {theirs} differs from ours {ours}")
            }
            NetworkMismatch::Reward { theirs, ours } => {
                write!(f, "its reward is {theirs} coins a block, ours {ours}")
            }
        }
    }
}

/// Why an announcement (`POST /inv`) is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnnouncementError {
    /// `length` 0: a chain holds at least its genesis block.
    ZeroLength,
    /// Some of `length`, `tip`, `genesis` without the others.
    PartialTip,
    /// More ids than one message carries.
    TooManyIds { count: usize },
    /// Neither a tip nor ids.
    Empty,
    /// The announcer's `node` is not a peer address.
    Node(AddressError),
}

impl fmt::Display for AnnouncementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnnouncementError::ZeroLength => f.write_str(
                "length: a chain holds at least its genesis block, so length is 1 or more",
            ),
            AnnouncementError::PartialTip => f.write_str(
                "length, tip and genesis announce a tip together: send all three or none",
            ),
            AnnouncementError::TooManyIds { count } => write!(
                f,
                "an announcement carries at most {MAX_IDS_PER_MESSAGE} transaction ids, got {count}"
            ),
            AnnouncementError::Empty => f.write_str(
                "announce a tip (length, tip, genesis) or transaction ids (\"transactions\")",
            ),
            AnnouncementError::Node(error) => write!(f, "node: {error}"),
        }
    }
}

/// Why something between nodes was refused or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    /// A call to a peer gave nothing usable.
    Call(PeerError),
    /// An address that is not a peer address.
    Address(AddressError),
    /// An address that is this node itself.
    OwnAddress { address: String, url: PeerUrl },
    /// A peer that answers with this node's id: this node under another name.
    AnswersAsUs { peer: PeerUrl },
    /// A peer on another network.
    OtherNetwork {
        peer: PeerUrl,
        mismatch: NetworkMismatch,
    },
    /// An announcement that cannot be read.
    Announcement(AnnouncementError),
    /// A web page (a loopback stranger) registering peers without the owner's token.
    PageRegisters,
    /// A stranger naming an address other than its own.
    NotItself { peer: PeerUrl, client: IpAddr },
    /// A stranger registering more of its ports than allowed.
    TooManyPorts {
        client: IpAddr,
        after: usize,
        limit: usize,
    },
    /// A peer's compact block names a transaction it did not send.
    MissingTransaction { id: TxId, block: u64 },
    /// That tip was already fetched from that peer.
    AlreadyFetched,
    /// The relay's queue for that peer is full.
    QueueFull,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Call(error) => error.fmt(f),
            NetError::Address(error) => error.fmt(f),
            NetError::OwnAddress { address, url } => write!(
                f,
                "peer address {address:?} is this node itself ({url}); register other nodes"
            ),
            NetError::AnswersAsUs { peer } => write!(
                f,
                "{peer} is this node itself (it answers with our node_id); register other nodes"
            ),
            NetError::OtherNetwork { peer, mismatch } => write!(
                f,
                "{peer} is on another network: {mismatch}; start it with the same --difficulty (and chain) as this node"
            ),
            NetError::Announcement(error) => error.fmt(f),
            NetError::PageRegisters => f.write_str(
                "registering peers from a web page is the owner's to allow: send the owner token (Authorization: Bearer)",
            ),
            NetError::NotItself { peer, client } => write!(
                f,
                "a node may register only itself: {peer} is not {client}, the address this node sees you at; only the owner registers other peers"
            ),
            NetError::TooManyPorts {
                client,
                after,
                limit,
            } => write!(
                f,
                "a node registers itself here with at most {limit} ports per address; {client} would have {after}"
            ),
            NetError::MissingTransaction { id, block } => {
                write!(f, "it did not send transaction {id} of block {block}")
            }
            NetError::AlreadyFetched => f.write_str("that block was already fetched from it"),
            NetError::QueueFull => f.write_str("the relay queue is full"),
        }
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NetError::Call(error) => Some(error),
            NetError::Address(error) => Some(error),
            _ => None,
        }
    }
}

error_from!(NetError {
    Call(PeerError),
    Address(AddressError),
    Announcement(AnnouncementError),
});
