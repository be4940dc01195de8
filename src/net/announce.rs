//! Announcements (SPEC §6a, §6b, `POST /inv`): what a node sends to a relay peer when
//! its tip changes or it pooled new transactions, what it does with one it receives, and
//! how it fetches an announced tip.
//!
//! Receiving answers at once (202) and only queues work for the announcer's slot; the
//! fetches run on a relay thread. An announcement leads to a fetch only from a peer in
//! this node's list, at the URL it registered, and never marks that peer (SPEC §5a). A
//! tip one to [`DIRECT_FETCH`] blocks ahead of ours is fetched as compact blocks from
//! `/chain` when its first block builds on our tip, rebuilt from our pool (asking
//! `/getdata` for what it lacks); anything else goes through the full getblocks/inv
//! resolve with that peer alone (§6 steps 2-5).

use crate::core::block::{Block, Transaction};
use crate::core::hash::{BlockHash, TxId};
use crate::net::network::Network;
use crate::net::outbox::IDS_PER_MESSAGE;
use crate::net::sync::{self, Outcome};
use crate::net::txrelay;
use crate::node::{Adoption, Node, NodeError, now_ms};
use crate::wire::address::{PeerUrl, is_own_address, normalize_peer};
use crate::wire::client::cut_words;
use crate::wire::error::{AnnouncementError, NetError};
use crate::wire::protocol::{
    Announcement, ChainPage, CompactBlock, CompactPage, GetdataAnswer, GetdataRequest,
};
use log::{Level, debug, log, warn};
use std::collections::HashMap;

/// Most blocks fetched straight from `/chain` for an announcement; a longer gap (or a
/// fork) goes through the locator.
pub const DIRECT_FETCH: u64 = 16;

/// Handles `POST /inv`: checks the announcement and queues, for a registered peer, a
/// fetch of a tip new to us and longer and a `/getdata` of the ids we lack; returns the
/// 202 message saying what will happen. Never calls a peer.
pub fn receive(
    node: &Node,
    network: &Network,
    announcement: Announcement,
) -> Result<String, NetError> {
    let tip = match (announcement.length, announcement.tip, announcement.genesis) {
        (Some(0), _, _) => return Err(AnnouncementError::ZeroLength.into()),
        (Some(length), Some(tip), Some(genesis)) => Some((length, tip, genesis)),
        (None, None, None) => None,
        _ => return Err(AnnouncementError::PartialTip.into()),
    };
    let count = announcement.transactions.len();
    if count > IDS_PER_MESSAGE {
        return Err(AnnouncementError::TooManyIds { count }.into());
    }
    if tip.is_none() && count == 0 {
        return Err(AnnouncementError::Empty.into());
    }
    let url = normalize_peer(&announcement.node).map_err(AnnouncementError::Node)?;
    if !network.settings.relay {
        return Ok("relay is off on this node (--no-relay); announcement ignored".into());
    }
    let identity = node.identity();
    if announcement.node_id == identity.node_id
        || is_own_address(&url, &identity.bound_host, identity.port)
    {
        return Ok("that is this node itself; announcement ignored".into());
    }
    let peers = node.peers();
    // Fetch only through the address we registered it under (a proxy, another name).
    let Some(peer) = network
        .book
        .peer_with_node_id(&peers, &announcement.node_id)
        .or_else(|| peers.contains(&url).then(|| url.clone()))
    else {
        return Ok(format!(
            "{url} is not a registered peer of this node; nothing fetched (the sync hears from peers)"
        ));
    };
    let mut said = Vec::new();
    if let Some((length, tip, genesis)) = tip {
        said.push(tip_part(node, network, &peer, length, tip, genesis));
    }
    if !announcement.transactions.is_empty() {
        let asked = txrelay::receive(node, network, &peer, &announcement.transactions);
        said.push(format!(
            "will ask {peer} for {asked} of {} transactions",
            announcement.transactions.len()
        ));
    }
    Ok(said.join("; "))
}

/// What to do about an announced tip: fetch it from `peer`, or why not.
fn tip_part(
    node: &Node,
    network: &Network,
    peer: &PeerUrl,
    length: u64,
    tip: BlockHash,
    genesis: BlockHash,
) -> String {
    let (ours, _) = node.network();
    if genesis != ours {
        // Only a claim: the peer is judged by this node's own calls (SPEC §5a).
        debug!("announcement in {peer}'s name from another network (genesis {genesis})");
        return format!(
            "other network (its genesis {genesis} differs from ours {ours}); tip ignored"
        );
    }
    debug!("announcement from {peer}: length {length}, tip {tip}");
    if node.index_of(&tip).is_some() {
        return "this node already has that block".into();
    }
    let (our_length, _) = node.tip();
    if length <= our_length {
        return format!("not longer than our chain ({our_length} blocks); nothing to fetch");
    }
    match network.queue_fetch(peer, length, tip) {
        Ok(()) => format!("will fetch block {tip} from {peer}"),
        Err(reason) => {
            debug!("announcement from {peer} not fetched: {reason}");
            format!("not fetched: {reason}")
        }
    }
}

/// Sends `peer` one announcement: our tip unless it is known to hold it, and `ids`.
pub fn send(node: &Node, network: &Network, peer: &PeerUrl, ids: &[TxId]) {
    let (length, tip) = node.tip();
    let tip_is_new = !network.book.knows_tip(peer, &tip);
    if !tip_is_new && ids.is_empty() {
        return;
    }
    let (genesis, _) = node.network();
    let body = Announcement {
        node: network.names.url_for(node.identity(), peer),
        node_id: node.identity().node_id.clone(),
        length: tip_is_new.then_some(length),
        tip: tip_is_new.then_some(tip),
        genesis: tip_is_new.then_some(genesis),
        transactions: ids.to_vec(),
    };
    let answer = network
        .client
        .post_status(&format!("{peer}/inv"), &body, &[])
        .map(|(status, words)| {
            // Its own words only from a peer proven to be a node of ours (SPEC §6c).
            let words = words
                .filter(|_| network.book.is_proven(peer))
                .map(|words| cut_words(&words));
            (status, words)
        });
    match answer {
        Ok((202, message)) => {
            debug!(
                "announced {}{} transaction ids to {peer}: {}",
                if tip_is_new {
                    format!("tip {tip} (length {length}) and ")
                } else {
                    String::new()
                },
                ids.len(),
                message.unwrap_or_default()
            );
            if tip_is_new {
                network.book.has_tip(peer, length, tip);
            }
        }
        Ok((status, message)) => debug!(
            "{peer} answered {status} to our announcement: {}",
            message.unwrap_or_default()
        ),
        Err(error) => {
            debug!("could not announce to {peer}: {error}");
            network
                .book
                .failed(peer, &error.to_string(), now_ms(), network.backoff_base());
        }
    }
}

/// Fetches the tip `peer` announced (on a relay thread), then the node's listener
/// announces our new tip in turn.
pub fn fetch_announced(
    node: &Node,
    network: &Network,
    peer: &PeerUrl,
    length: u64,
    tip: BlockHash,
) {
    if node.index_of(&tip).is_some() {
        return;
    }
    let (our_length, our_tip) = node.tip();
    if length <= our_length {
        return;
    }
    if length - our_length <= DIRECT_FETCH {
        match fetch_direct(node, network, peer, our_length, our_tip, length) {
            Ok(Some(Adoption::Adopted {
                blocks,
                length: now,
            })) => {
                // `adopt_branch` logged the switch.
                debug!("adopted {blocks} announced blocks from {peer}; our length is now {now}");
                network
                    .book
                    .seen(peer, None, Some(length), Some(tip), now_ms());
                return;
            }
            Ok(Some(Adoption::Invalid(error))) => {
                let reason = format!("announced an invalid block: {error}");
                warn!("{peer} {reason}");
                network.book.misbehaved(peer, &reason);
                return;
            }
            Ok(_) => {} // a fork, or our chain moved: ask with the locator
            Err(reason) => {
                debug!("direct fetch from {peer} failed ({reason}); resolving with it");
            }
        }
    }
    let outcome = sync::resolve_with(node, network, peer);
    // An adoption was logged by the switch itself; a peer that cannot back its
    // announcement is worth a warning; anything else changed nothing.
    let level = match outcome.status {
        Outcome::Invalid | Outcome::OtherNetwork => Level::Warn,
        _ => Level::Debug,
    };
    log!(
        level,
        "resolve with {peer} after its announcement: {}",
        outcome.summary()
    );
    network
        .book
        .record(&outcome, now_ms(), network.backoff_base());
    if outcome.status == Outcome::NotLonger && outcome.length.is_some_and(|theirs| theirs < length)
    {
        // The announcement may not have been the peer's (anyone can name it, SPEC §5a):
        // its own answer was honest, so nothing is held against it.
        debug!(
            "an announcement in {peer}'s name claimed length {length}; its inv says {}",
            outcome.length.unwrap_or(0)
        );
    }
}

/// The blocks after our tip straight from `/chain`, as compact blocks rebuilt from our
/// pool and chain (the few transactions we lack asked of the same peer with `/getdata`);
/// whole blocks when that peer cannot fill the gaps. `None` when they do not build on
/// our tip (then the caller resolves with the locator).
fn fetch_direct(
    node: &Node,
    network: &Network,
    peer: &PeerUrl,
    our_length: u64,
    our_tip: BlockHash,
    length: u64,
) -> Result<Option<Adoption>, NodeError> {
    let wanted = length - our_length;
    let from = our_length + 1;
    let url = format!("{peer}/chain?from={from}&limit={wanted}&compact=1");
    let page: CompactPage = network.client.get(&url).map_err(NetError::Call)?;
    let compact: Vec<CompactBlock> = page.chain.into_iter().take(wanted as usize).collect();
    let links = compact
        .first()
        .is_some_and(|b| b.header.previous_hash == our_tip)
        && compact.len() as u64 == wanted
        && compact
            .iter()
            .enumerate()
            .all(|(offset, b)| b.header.index == from + offset as u64);
    if !links {
        return Ok(None);
    }
    let whole = || -> Result<Vec<Block>, NetError> {
        let url = format!("{peer}/chain?from={from}&limit={wanted}");
        let page: ChainPage = network.client.get(&url)?;
        Ok(page.chain.into_iter().take(wanted as usize).collect())
    };
    let blocks = match rebuild(node, network, peer, compact) {
        Ok(blocks) => blocks,
        Err(reason) => {
            debug!("could not rebuild {peer}'s compact blocks ({reason}); fetching them whole");
            return node
                .adopt_branch(our_length, our_tip, whole()?, peer)
                .map(Some);
        }
    };
    match node.adopt_branch(our_length, our_tip, blocks, peer) {
        // One id can stand for two versions of a payment signed with different leaves:
        // a block rebuilt with our version fails its merkle root. Only the blocks as the
        // peer has them can say whether the peer is at fault.
        Ok(Adoption::Invalid(error)) => {
            debug!(
                "{peer}'s blocks rebuilt from our pool are invalid ({error}); fetching them whole"
            );
            node.adopt_branch(our_length, our_tip, whole()?, peer)
                .map(Some)
        }
        other => other.map(Some),
    }
}

/// Compact blocks made whole: each payment from our pool or chain, the rest asked of
/// `peer` with `/getdata` (at most [`IDS_PER_MESSAGE`] ids per call).
fn rebuild(
    node: &Node,
    network: &Network,
    peer: &PeerUrl,
    compact: Vec<CompactBlock>,
) -> Result<Vec<Block>, NetError> {
    let ids: Vec<TxId> = compact
        .iter()
        .flat_map(|block| block.payment_ids().iter().copied())
        .collect();
    let mut known: HashMap<TxId, Transaction> = ids
        .iter()
        .zip(node.transactions_by_id(&ids))
        .filter_map(|(id, tx)| tx.map(|tx| (*id, tx)))
        .collect();
    let lacking: Vec<TxId> = ids
        .iter()
        .filter(|id| !known.contains_key(id))
        .copied()
        .collect();
    for chunk in lacking.chunks(IDS_PER_MESSAGE) {
        let answer: GetdataAnswer = network.client.post(
            &format!("{peer}/getdata"),
            &GetdataRequest {
                transactions: chunk.to_vec(),
            },
        )?;
        for tx in answer.transactions {
            known.insert(tx.id, tx);
        }
    }
    debug!(
        "rebuilt {} compact blocks from {peer}: {} of {} transactions from our pool",
        compact.len(),
        ids.len() - lacking.len(),
        ids.len()
    );
    compact
        .into_iter()
        .map(|block| {
            let payments = block
                .payment_ids()
                .iter()
                .map(|id| {
                    known.get(id).cloned().ok_or(NetError::MissingTransaction {
                        id: *id,
                        block: block.header.index,
                    })
                })
                .collect::<Result<Vec<Transaction>, NetError>>()?;
            Ok(block.rebuild(payments))
        })
        .collect()
}
