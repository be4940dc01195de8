//! Consensus between nodes (SPEC §6): Bitcoin's getblocks/inv exchange over HTTP.
//!
//! We send a peer our locator; its `/inv` tells where our chains part and how long its
//! chain is; we fetch only the blocks after the fork, page by page, and hand them to
//! [`Node::adopt_branch`], which validates them in full on top of our block at the fork.
//! Peers are asked several at once (bounded), with no lock held during any call; one
//! peer's failure is reported in its status and never stops the others.

use crate::core::hash::BlockHash;
use crate::net::fetch::{extend, fetch_branch};
use crate::net::flight::{MAX_PARALLEL, map_bounded_until};
use crate::net::network::Network;
use crate::node::{Adoption, Node, NodeError};
use crate::wire::address::PeerUrl;
use crate::wire::protocol::InvAnswer;
use log::{debug, info, warn};
use std::time::Instant;

pub use crate::net::fetch::{MAX_BRANCH_BYTES, PAGE_SIZE};
use crate::net::outcome::status_of;
pub use crate::net::outcome::{Outcome, PeerInventory, PeerOutcome, ResolveReport};

/// Block hashes asked for per `/inv` in `/getblocks` (the server's maximum).
pub const INV_LIMIT: u64 = 2000;

/// Most blocks fetched from one peer in one resolve (about 100 MB of blocks in memory):
/// a peer claiming more is refused rather than trusted with our memory.
pub const MAX_BRANCH_BLOCKS: u64 = 200_000;

/// How many times a resolve starts over with one peer when our own chain moved meanwhile.
const MAX_FORK_RETRIES: usize = 3;

/// Runs consensus with every registered peer, several at once (at most
/// [`MAX_PARALLEL`] threads), each peer's outcome independent of the others; the report
/// keeps the order the peers were registered in; the best-known peers (the network's
/// peer book) are asked first.
pub fn resolve(node: &Node, network: &Network) -> ResolveReport {
    let rank = &|peer: &PeerUrl| network.book.rank(peer);
    let mut outcomes = Vec::new();
    let mut replaced = false;
    let peers = node.peers();
    let results = ask_all(
        network,
        &peers,
        rank,
        |peer| resolve_with(node, network, peer),
        |peer| {
            let mut outcome = PeerOutcome::unasked(peer);
            outcome.reason = Some(not_asked_reason(network));
            outcome
        },
    );
    for (peer, outcome) in peers.iter().zip(results) {
        replaced |= outcome.status == Outcome::Adopted;
        info!("resolve with {peer}: {}", outcome.summary());
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

/// Asks each peer's `/inv` with our locator and reports what we lack; changes nothing.
/// Peers are asked like resolve asks them (SPEC §6b): several at once, best-known
/// first, none started after half a `--peer-timeout-ms`.
pub fn getblocks(node: &Node, network: &Network) -> Vec<PeerInventory> {
    let rank = &|peer: &PeerUrl| network.book.rank(peer);
    let locator = locator_query(&node.locator());
    let peers = node.peers();
    ask_all(
        network,
        &peers,
        rank,
        |peer| inventory_of(node, network, peer, &locator),
        |peer| PeerInventory::Failed {
            node: peer.clone(),
            error: not_asked_reason(network),
        },
    )
}

/// One peer's entry of `/getblocks`.
fn inventory_of(node: &Node, network: &Network, peer: &PeerUrl, locator: &str) -> PeerInventory {
    let failed = |error: String| PeerInventory::Failed {
        node: peer.clone(),
        error,
    };
    let url = format!("{peer}/inv?locator={locator}&limit={INV_LIMIT}");
    let answer = match network.client.get::<InvAnswer>(&url) {
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
        node: peer.clone(),
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
    network: &Network,
    peers: &[PeerUrl],
    rank: &(dyn Fn(&PeerUrl) -> u8 + Sync),
    ask: impl Fn(&PeerUrl) -> R + Sync,
    late: impl Fn(&PeerUrl) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..peers.len()).collect();
    order.sort_by_key(|&i| rank(&peers[i]));
    let deadline = Instant::now() + network.client.timeout / 2;
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
fn not_asked_reason(network: &Network) -> String {
    format!(
        "not asked: other peers kept every connection busy for {} ms (half --peer-timeout-ms); asked again next time",
        (network.client.timeout / 2).as_millis()
    )
}

/// Consensus with one peer: inv, then the missing blocks, then adopt if valid and longer.
/// Also what the relay uses to act on one peer's announcement (SPEC §6a).
pub fn resolve_with(node: &Node, network: &Network, peer: &PeerUrl) -> PeerOutcome {
    let outcome = |status: Outcome, length: Option<u64>, reason: String| PeerOutcome {
        node: peer.clone(),
        status,
        length,
        reason: Some(reason),
        node_id: None,
        tip: None,
        asked: true,
        pooled: Vec::new(),
    };
    for _ in 0..MAX_FORK_RETRIES {
        let (our_length, _) = node.tip();
        let locator = node.locator();
        let url = format!("{peer}/inv?locator={}&limit=1", locator_query(&locator));
        let inv = match network.client.get::<InvAnswer>(&url) {
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
            return outcome(Outcome::OtherNetwork, length, reason.to_string()).with_inv(&inv);
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
            return extend(node, network, peer, &inv, *fork_hash).with_inv(&inv);
        }
        let branch = match fetch_branch(network, peer, inv.fork_index, inv.length) {
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
                    node: peer.clone(),
                    status: Outcome::Adopted,
                    length: Some(length),
                    reason: Some(format!(
                        "replaced our blocks after {} with {blocks} of its blocks",
                        inv.fork_index
                    )),
                    node_id: None,
                    tip: None,
                    asked: true,
                    pooled: Vec::new(),
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
            Err(NodeError::Store(error)) => {
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

fn locator_query(locator: &[BlockHash]) -> String {
    locator
        .iter()
        .map(BlockHash::to_hex)
        .collect::<Vec<_>>()
        .join(",")
}
