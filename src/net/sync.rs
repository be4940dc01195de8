//! Consensus between nodes (SPEC §6): Bitcoin's getblocks/inv exchange over HTTP.
//!
//! We send a peer our locator; its `/inv` tells where our chains part and how long its
//! chain is; we fetch only the blocks after the fork, page by page, and hand them to
//! [`Node::adopt_branch`], which validates them in full on top of our block at the fork.
//! Peers are asked several at once (bounded), with no lock held during any call; one
//! peer's failure is reported in its status and never stops the others.

use crate::core::block::Block;
use crate::core::hash::{BlockHash, TxId};
use crate::net::flight::{MAX_PARALLEL, map_bounded_until};
use crate::node::{Adoption, Node, NodeError};
use crate::wire::client::PeerError;
use crate::wire::protocol::{ChainPage, InvAnswer, short_page};
use log::{debug, info, warn};
use serde::Serialize;
use std::fmt;
use std::time::Instant;

/// Blocks asked for per `/chain` page (the server's maximum).
pub const PAGE_SIZE: u64 = 500;

/// Block hashes asked for per `/inv` in `/getblocks` (the server's maximum).
pub const INV_LIMIT: u64 = 2000;

/// Most blocks fetched from one peer in one resolve (about 100 MB of blocks in memory):
/// a peer claiming more is refused rather than trusted with our memory.
pub const MAX_BRANCH_BLOCKS: u64 = 200_000;

/// Most bytes of `/chain` pages read from one peer in one resolve.
pub const MAX_BRANCH_BYTES: u64 = 256 * 1024 * 1024;

/// How many times a resolve starts over with one peer when our own chain moved meanwhile.
const MAX_FORK_RETRIES: usize = 3;

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
    pub node: String,
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
    pub node_id: Option<String>,
    /// The peer's tip, when it answered `/inv` (for the peer book, not the answer).
    #[serde(skip)]
    pub tip: Option<BlockHash>,
    /// False when the peer was not called at all (time ran out first): then the outcome
    /// says nothing about the peer and the peer book leaves it as it was.
    #[serde(skip)]
    pub asked: bool,
}

impl PeerOutcome {
    /// A peer not called because the time ran out (reported as `unreachable`).
    fn unasked(peer: &str) -> PeerOutcome {
        PeerOutcome {
            node: peer.to_string(),
            status: Outcome::Unreachable,
            length: None,
            reason: None,
            node_id: None,
            tip: None,
            asked: false,
        }
    }

    /// Records what the peer's `/inv` said about it.
    fn with_inv(mut self, inv: &InvAnswer) -> PeerOutcome {
        self.node_id = Some(inv.node_id.clone());
        self.tip = Some(inv.tip);
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

/// Runs consensus with every registered peer, several at once (at most
/// [`MAX_PARALLEL`] threads), each peer's outcome independent of the others; the report
/// keeps the order the peers were registered in.
pub fn resolve(node: &Node, rank: &(dyn Fn(&str) -> u8 + Sync)) -> ResolveReport {
    let mut outcomes = Vec::new();
    let mut replaced = false;
    let peers = node.peers();
    let results = ask_all(
        node,
        &peers,
        rank,
        |peer| resolve_with(node, peer),
        |peer| {
            let mut outcome = PeerOutcome::unasked(peer);
            outcome.reason = Some(not_asked_reason(node));
            outcome
        },
    );
    for (peer, outcome) in peers.iter().zip(results) {
        replaced |= outcome.status == Outcome::Adopted;
        info!(
            "resolve with {peer}: {}{}",
            outcome.status,
            outcome
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        outcomes.push(outcome);
    }
    let (length, tip) = node.tip();
    let message = if replaced {
        "Our chain was replaced by a longer valid chain".to_string()
    } else if outcomes.is_empty() {
        "No peers are registered; POST /nodes/register first".to_string()
    } else if outcomes
        .iter()
        .any(|outcome| outcome.status == Outcome::NotLonger)
    {
        "Our chain is authoritative: no peer that answered has a longer valid chain".to_string()
    } else if outcomes
        .iter()
        .all(|outcome| outcome.status == Outcome::Unreachable)
    {
        "Our chain was kept, but no peer answered (see each peer's reason)".to_string()
    } else {
        "Our chain was kept: no peer offered a longer valid chain (see each peer's status and reason)"
            .to_string()
    };
    ResolveReport {
        message,
        replaced,
        length,
        tip,
        peers: outcomes,
    }
}

/// One peer's entry in the `/getblocks` answer.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum PeerInventory {
    /// What the peer has that we lack.
    Known {
        /// The peer's address.
        node: String,
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
        node: String,
        /// What went wrong.
        error: String,
    },
}

/// Asks each peer's `/inv` with our locator and reports what we lack; changes nothing.
/// Peers are asked like resolve asks them (SPEC §6b): several at once, best-known
/// first, none started after half a `--peer-timeout-ms`.
pub fn getblocks(node: &Node, rank: &(dyn Fn(&str) -> u8 + Sync)) -> Vec<PeerInventory> {
    let locator = locator_query(&node.locator());
    let peers = node.peers();
    ask_all(
        node,
        &peers,
        rank,
        |peer| inventory_of(node, peer, &locator),
        |peer| PeerInventory::Failed {
            node: peer.clone(),
            error: not_asked_reason(node),
        },
    )
}

/// One peer's entry of `/getblocks`.
fn inventory_of(node: &Node, peer: &str, locator: &str) -> PeerInventory {
    let failed = |error: String| PeerInventory::Failed {
        node: peer.to_string(),
        error,
    };
    let url = format!("{peer}/inv?locator={locator}&limit={INV_LIMIT}");
    let answer = match node.client().get::<InvAnswer>(&url) {
        Ok(answer) => answer,
        Err(error) => return failed(error.to_string()),
    };
    if answer.node_id == node.identity().node_id {
        return failed("this address is this node itself (same node_id); skipped".into());
    }
    if let Some(reason) = node.other_network(&answer) {
        return failed(format!("other network: {reason}"));
    }
    let (blocks, transactions) = node.lacking(&answer.values);
    PeerInventory::Known {
        node: peer.to_string(),
        length: answer.length,
        tip: answer.tip,
        blocks,
        transactions,
    }
}

/// Runs `ask` for every peer, at most [`MAX_PARALLEL`] at once, the best-ranked first
/// (`rank`: lower is better, e.g. peers that answered last time), none started after
/// half a peer timeout (those get `late`); the answers come back in `peers`' order.
fn ask_all<R: Send>(
    node: &Node,
    peers: &[String],
    rank: &(dyn Fn(&str) -> u8 + Sync),
    ask: impl Fn(&String) -> R + Sync,
    late: impl Fn(&String) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..peers.len()).collect();
    order.sort_by_key(|&i| rank(&peers[i]));
    let deadline = Instant::now() + node.client().timeout / 2;
    let answers = map_bounded_until(
        &order,
        MAX_PARALLEL,
        Some(deadline),
        |&i| ask(&peers[i]),
        |&i| late(&peers[i]),
    );
    let mut slots: Vec<Option<R>> = peers.iter().map(|_| None).collect();
    for (i, answer) in order.into_iter().zip(answers) {
        slots[i] = Some(answer);
    }
    slots
        .into_iter()
        .map(|answer| answer.expect("every peer was answered or skipped"))
        .collect()
}

/// Why a peer was not asked: the others kept every thread busy past the time limit.
fn not_asked_reason(node: &Node) -> String {
    format!(
        "not asked: other peers kept every connection busy for {} ms (half --peer-timeout-ms); asked again next time",
        (node.client().timeout / 2).as_millis()
    )
}

/// Consensus with one peer: inv, then the missing blocks, then adopt if valid and longer.
/// Also what the relay uses to act on one peer's announcement (SPEC §6a).
pub fn resolve_with(node: &Node, peer: &str) -> PeerOutcome {
    let outcome = |status: Outcome, length: Option<u64>, reason: String| PeerOutcome {
        node: peer.to_string(),
        status,
        length,
        reason: Some(reason),
        node_id: None,
        tip: None,
        asked: true,
    };
    for _ in 0..MAX_FORK_RETRIES {
        let (our_length, _) = node.tip();
        let locator = node.locator();
        let url = format!("{peer}/inv?locator={}&limit=1", locator_query(&locator));
        let inv = match node.client().get::<InvAnswer>(&url) {
            Ok(inv) => inv,
            Err(error) => return outcome(status_of(&error), None, error.to_string()),
        };
        let length = Some(inv.length);
        if inv.node_id == node.identity().node_id {
            return outcome(
                Outcome::NotLonger,
                length,
                "this address is this node itself (same node_id); skipped".into(),
            )
            .with_inv(&inv);
        }
        if let Some(reason) = node.other_network(&inv) {
            return outcome(Outcome::OtherNetwork, length, reason).with_inv(&inv);
        }
        if inv.length <= our_length {
            return outcome(
                Outcome::NotLonger,
                length,
                format!("its chain has {} blocks, ours {our_length}", inv.length),
            )
            .with_inv(&inv);
        }
        let Some(fork_hash) = locator
            .iter()
            .find(|hash| node.index_of(hash) == Some(inv.fork_index))
        else {
            return outcome(
                Outcome::Invalid,
                length,
                format!(
                    "its inv names fork_index {}, which is none of our locator's blocks",
                    inv.fork_index
                ),
            )
            .with_inv(&inv);
        };
        if inv.length - inv.fork_index > MAX_BRANCH_BLOCKS {
            return outcome(
                Outcome::Invalid,
                length,
                format!(
                    "it claims {} blocks after block {}; this node fetches at most {MAX_BRANCH_BLOCKS} in one resolve",
                    inv.length - inv.fork_index,
                    inv.fork_index
                ),
            ).with_inv(&inv);
        }
        if inv.fork_index == our_length {
            // It extends our chain: adopt page by page, so memory holds one page at a
            // time however long the chain it serves (SPEC §6b).
            return extend(node, peer, &inv).with_inv(&inv);
        }
        let branch = match fetch_branch(node, peer, inv.fork_index, inv.length) {
            Ok(branch) => branch,
            Err(error) => {
                return outcome(status_of(&error), length, error.to_string()).with_inv(&inv);
            }
        };
        debug!(
            "fetched {} blocks from {peer} after block {}",
            branch.len(),
            inv.fork_index
        );
        match node.adopt_branch(inv.fork_index, *fork_hash, branch, peer) {
            Ok(Adoption::Adopted { blocks, length }) => {
                // `adopt_branch` logged the switch and any block of ours it cut away.
                debug!("sync with {peer}: adopted {blocks} blocks");
                return PeerOutcome {
                    node: peer.to_string(),
                    status: Outcome::Adopted,
                    length: Some(length),
                    reason: Some(format!(
                        "replaced our blocks after {} with {blocks} of its blocks",
                        inv.fork_index
                    )),
                    node_id: None,
                    tip: None,
                    asked: true,
                }
                .with_inv(&inv);
            }
            Ok(Adoption::NotLonger { ours, theirs }) => {
                return outcome(
                    Outcome::NotLonger,
                    Some(theirs),
                    format!("its chain has {theirs} blocks, ours {ours}"),
                )
                .with_inv(&inv);
            }
            Ok(Adoption::Invalid(error)) => {
                warn!("{peer} offered an invalid chain: {error}");
                return outcome(Outcome::Invalid, length, error.to_string()).with_inv(&inv);
            }
            Ok(Adoption::ForkMoved) => {
                debug!("our chain moved while syncing with {peer}; asking again");
                continue;
            }
            Err(NodeError::Storage(error)) => {
                return outcome(
                    Outcome::Invalid,
                    length,
                    format!("could not save its chain: {error}"),
                )
                .with_inv(&inv);
            }
            Err(error) => {
                return outcome(Outcome::Invalid, length, error.to_string()).with_inv(&inv);
            }
        }
    }
    outcome(
        Outcome::NotLonger,
        None,
        "our own chain kept changing during the sync; resolve again".into(),
    )
}

/// Appends `peer`'s blocks after our tip a page at a time, each page validated and
/// adopted (durably) before the next is asked for, up to its claimed length.
fn extend(node: &Node, peer: &str, inv: &InvAnswer) -> PeerOutcome {
    let outcome = |status: Outcome, reason: String| PeerOutcome {
        node: peer.to_string(),
        status,
        length: Some(inv.length),
        reason: Some(reason),
        node_id: None,
        tip: None,
        asked: true,
    };
    let (start, _) = node.tip();
    let mut page_size = PAGE_SIZE;
    // Blocks this run appended (another peer's resolve may grow the chain meanwhile).
    let mut added = 0u64;
    loop {
        let (our_length, our_tip) = node.tip();
        if our_length >= inv.length {
            if added == 0 {
                return outcome(
                    Outcome::NotLonger,
                    format!("its chain has {} blocks, ours {our_length}", inv.length),
                );
            }
            // Each page's switch was logged by `adopt_branch`.
            debug!(
                "adopted {added} blocks from {peer}, page by page; our length is now {our_length}"
            );
            return PeerOutcome {
                length: Some(our_length),
                ..outcome(
                    Outcome::Adopted,
                    format!("appended {added} of its blocks after block {start}"),
                )
            };
        }
        let from = our_length + 1;
        let (page, bytes, wanted) = loop {
            let wanted = page_size.min(inv.length - our_length);
            let url = format!("{peer}/chain?from={from}&limit={wanted}");
            match node.client().get_sized::<ChainPage>(&url) {
                Ok((page, bytes)) => break (page, bytes, wanted),
                Err(PeerError::TooLarge(_)) if page_size > 1 => page_size /= 2,
                Err(error) => return outcome(status_of(&error), error.to_string()),
            }
        };
        if let Some(reason) = short_page(page.chain.len(), wanted, bytes, from, inv.length) {
            return outcome(Outcome::Invalid, reason);
        }
        let blocks: Vec<Block> = page.chain.into_iter().take(wanted as usize).collect();
        if let Some((offset, block)) = blocks
            .iter()
            .enumerate()
            .find(|(offset, block)| block.index != from + *offset as u64)
        {
            return outcome(
                Outcome::Invalid,
                format!(
                    "block {}: its /chain page sent block {} in its place",
                    from + offset as u64,
                    block.index
                ),
            );
        }
        match node.adopt_branch(our_length, our_tip, blocks, peer) {
            Ok(Adoption::Adopted { blocks, .. }) => added += blocks as u64,
            Ok(Adoption::NotLonger { ours, theirs }) => {
                return outcome(
                    Outcome::NotLonger,
                    format!("its chain has {theirs} blocks, ours {ours}"),
                );
            }
            Ok(Adoption::ForkMoved) => {
                return outcome(
                    Outcome::NotLonger,
                    "our own chain changed during the sync; resolve again".into(),
                );
            }
            Ok(Adoption::Invalid(error)) => {
                warn!("{peer} offered an invalid chain: {error}");
                return outcome(Outcome::Invalid, error.to_string());
            }
            Err(error) => return outcome(Outcome::Invalid, error.to_string()),
        }
    }
}

/// Fetches the peer's blocks after `fork_index`, page by page, up to its claimed length.
/// Each page must hold every block asked for that exists; a page over the size cap is
/// asked again at half the size; all pages together may not exceed
/// [`MAX_BRANCH_BYTES`].
fn fetch_branch(
    node: &Node,
    peer: &str,
    fork_index: u64,
    claimed_length: u64,
) -> Result<Vec<Block>, PeerError> {
    let mut branch: Vec<Block> = Vec::new();
    let wanted = claimed_length - fork_index;
    let mut page_size = PAGE_SIZE;
    let mut total_bytes = 0u64;
    while (branch.len() as u64) < wanted {
        let from = fork_index + 1 + branch.len() as u64;
        let url = format!("{peer}/chain?from={from}&limit={page_size}");
        let (page, bytes) = match node.client().get_sized::<ChainPage>(&url) {
            Ok(answer) => answer,
            Err(PeerError::TooLarge(_)) if page_size > 1 => {
                page_size /= 2;
                debug!("{peer}: /chain page too large; asking for {page_size} blocks");
                continue;
            }
            Err(error) => return Err(error),
        };
        total_bytes += bytes as u64;
        if total_bytes > MAX_BRANCH_BYTES {
            return Err(PeerError::TooLarge(format!(
                "its blocks after block {fork_index} exceed {} MiB",
                MAX_BRANCH_BYTES / (1024 * 1024)
            )));
        }
        let expected_count = page_size.min(wanted - branch.len() as u64);
        // A page may stop early past 16 MiB of JSON (SPEC §6b): go on from there.
        if let Some(reason) = short_page(
            page.chain.len(),
            expected_count,
            bytes,
            from,
            claimed_length,
        ) {
            return Err(PeerError::Invalid(reason));
        }
        for (offset, block) in page
            .chain
            .into_iter()
            .take(expected_count as usize)
            .enumerate()
        {
            let expected = from + offset as u64;
            if block.index != expected {
                return Err(PeerError::Invalid(format!(
                    "block {expected}: its /chain page sent block {} in its place",
                    block.index
                )));
            }
            branch.push(block);
        }
    }
    Ok(branch)
}

fn locator_query(locator: &[BlockHash]) -> String {
    locator
        .iter()
        .map(BlockHash::to_hex)
        .collect::<Vec<_>>()
        .join(",")
}

fn status_of(error: &PeerError) -> Outcome {
    match error {
        PeerError::Unreachable(_) => Outcome::Unreachable,
        PeerError::Invalid(_) | PeerError::TooLarge(_) => Outcome::Invalid,
    }
}
