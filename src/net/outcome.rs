//! What asking peers gives (SPEC §5): one peer's [`Outcome`] and [`PeerOutcome`], the
//! `/nodes/resolve` report and the `/getblocks` entries. Types only, so that the sync and
//! the fetches below it share them without importing each other.

use crate::core::hash::{BlockHash, TxId};
use crate::wire::address::{NodeId, PeerUrl};
use crate::wire::client::PeerError;
use crate::wire::protocol::{InvAnswer, InvItem};
use serde::Serialize;
use std::fmt;

/// What came of asking one peer (SPEC §5 `/nodes/resolve` statuses), spelt as SPEC
/// spells them on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// We switched to its longer valid chain.
    #[serde(rename = "adopted")]
    Adopted,
    /// Its chain is not longer than ours (or it is this node itself).
    #[serde(rename = "not longer")]
    NotLonger,
    /// No answer: refused, reset, timed out (or not asked in time).
    #[serde(rename = "unreachable")]
    Unreachable,
    /// An answer that cannot be used, or a chain that breaks a rule.
    #[serde(rename = "invalid")]
    Invalid,
    /// Another genesis, difficulty or reward.
    #[serde(rename = "other network")]
    OtherNetwork,
}

impl Outcome {
    /// The word SPEC uses, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Adopted => "adopted",
            Outcome::NotLonger => "not longer",
            Outcome::Unreachable => "unreachable",
            Outcome::Invalid => "invalid",
            Outcome::OtherNetwork => "other network",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened with one peer during `/nodes/resolve`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PeerOutcome {
    /// The peer's address.
    pub node: PeerUrl,
    /// What came of it.
    pub status: Outcome,
    /// The peer's chain length, when it told us.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Why, in words a person can act on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The peer's node id, when it answered `/inv` (for the peer book, not the answer).
    #[serde(skip)]
    pub node_id: Option<NodeId>,
    /// The peer's tip, when it answered `/inv` (for the peer book, not the answer).
    #[serde(skip)]
    pub tip: Option<BlockHash>,
    /// False when the peer was not called at all (time ran out first): then the outcome
    /// says nothing about the peer and the peer book leaves it as it was.
    #[serde(skip)]
    pub asked: bool,
    /// Transaction ids the peer's `/inv` listed from its pool (at most
    /// [`POOLED_IDS_KEPT`]), so the background sync can fetch those we lack (SPEC §6c:
    /// pools catch up too). Not part of the answer.
    #[serde(skip)]
    pub pooled: Vec<TxId>,
}

/// Most pooled ids kept from one peer's `/inv` for the pool catch-up.
pub const POOLED_IDS_KEPT: usize = 4000;

impl PeerOutcome {
    /// `adopted`, or `invalid (its block 7 …)`: the status and its reason, for a log line.
    pub fn summary(&self) -> String {
        match &self.reason {
            Some(reason) => format!("{} ({reason})", self.status),
            None => self.status.to_string(),
        }
    }

    /// A peer not called because the time ran out (reported as `unreachable`).
    pub(crate) fn unasked(peer: &PeerUrl) -> PeerOutcome {
        PeerOutcome {
            node: peer.clone(),
            status: Outcome::Unreachable,
            length: None,
            reason: None,
            node_id: None,
            tip: None,
            asked: false,
            pooled: Vec::new(),
        }
    }

    /// Records what the peer's `/inv` said about it.
    pub(crate) fn with_inv(mut self, inv: &InvAnswer) -> PeerOutcome {
        self.node_id = Some(inv.node_id.clone());
        self.tip = Some(inv.tip);
        self.pooled = inv
            .values
            .iter()
            .filter_map(|item| match item {
                InvItem::Transaction(id) => Some(*id),
                InvItem::Block(_) => None,
            })
            .take(POOLED_IDS_KEPT)
            .collect();
        self
    }
}

/// The `/nodes/resolve` answer.
#[derive(Clone, Debug, Serialize)]
pub struct ResolveReport {
    /// A one-line summary.
    pub message: String,
    /// Whether our chain changed.
    pub replaced: bool,
    /// Our length afterwards.
    pub length: u64,
    /// Our tip afterwards.
    pub tip: BlockHash,
    /// One outcome per peer, in the order asked.
    pub peers: Vec<PeerOutcome>,
}

/// One peer's entry in the `/getblocks` answer.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum PeerInventory {
    /// What the peer has that we lack.
    Known {
        /// The peer's address.
        node: PeerUrl,
        /// The peer's chain length.
        length: u64,
        /// The peer's tip.
        tip: BlockHash,
        /// Block hashes the peer has after our common point, which we lack.
        blocks: Vec<BlockHash>,
        /// Ids in the peer's pool that are neither in our pool nor our chain.
        transactions: Vec<TxId>,
    },
    /// Why the peer could not be asked.
    Failed {
        /// The peer's address.
        node: PeerUrl,
        /// What went wrong.
        error: String,
    },
}

/// The status a failed call to a peer gives: no answer is `unreachable`, an unusable
/// answer `invalid` (SPEC §9).
pub(crate) fn status_of(error: &PeerError) -> Outcome {
    match error {
        PeerError::Unreachable(_) => Outcome::Unreachable,
        PeerError::Invalid(_) | PeerError::TooLarge(_) => Outcome::Invalid,
    }
}
