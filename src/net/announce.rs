//! Tip announcements (SPEC §6a, `POST /inv`): what a node sends when its tip changes,
//! what it does with one it receives, and how it fetches an announced tip.
//!
//! Receiving answers at once (202) and only queues a fetch; the fetch runs on a relay
//! thread. A tip one to [`DIRECT_FETCH`] blocks ahead of ours is fetched straight from
//! `/chain` when its first block builds on our tip (no locator needed); anything else
//! goes through the full getblocks/inv resolve with that peer alone (§6 steps 2-5).

use crate::core::block::Block;
use crate::core::hash::BlockHash;
use crate::net::address::{is_own_address, normalize_peer};
use crate::net::protocol::ChainPage;
use crate::net::relay::Network;
use crate::net::sync;
use crate::node::{Adoption, Node, NodeError, now_ms};
use log::{debug, info, warn};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most blocks fetched straight from `/chain` for an announcement; a longer gap (or a
/// fork) goes through the locator.
pub const DIRECT_FETCH: u64 = 16;

/// The body of `POST /inv`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// The announcer's own URL.
    pub node: String,
    /// The announcer's node id.
    pub node_id: String,
    /// Its chain length.
    pub length: u64,
    /// Its tip.
    pub tip: BlockHash,
    /// Its genesis: another one means another network.
    pub genesis: BlockHash,
}

/// Handles `POST /inv`: checks the announcement and queues a fetch when the tip is new
/// to us and longer; returns the 202 message saying what will happen. Never calls a peer.
pub fn receive(node: &Node, body: Value) -> Result<String, NodeError> {
    let announcement: Announcement = serde_json::from_value(body).map_err(|error| {
        NodeError::BadRequest(format!(
            "an announcement is {{\"node\", \"node_id\", \"length\", \"tip\", \"genesis\"}}: {error}"
        ))
    })?;
    if announcement.length == 0 {
        return Err(NodeError::BadRequest(
            "length: a chain holds at least its genesis block, so length is 1 or more".into(),
        ));
    }
    let url = normalize_peer(&announcement.node)
        .map_err(|error| NodeError::BadRequest(format!("node: {error}")))?;
    let Some(network) = Network::of(node).filter(|network| network.settings.relay) else {
        return Ok("relay is off on this node (--no-relay); announcement ignored".into());
    };
    let identity = node.identity();
    if announcement.node_id == identity.node_id
        || is_own_address(&url, &identity.bound_host, identity.port)
    {
        return Ok("that is this node itself; announcement ignored".into());
    }
    let peers = node.peers();
    // Fetch through the address we registered it under (a proxy, another name), if any.
    let peer = network
        .book
        .peer_with_node_id(&peers, &announcement.node_id)
        .or_else(|| peers.contains(&url).then(|| url.clone()));
    let (genesis, _) = node.network();
    if announcement.genesis != genesis {
        let reason = format!(
            "its genesis {} differs from ours {genesis}",
            announcement.genesis
        );
        // Only a claim: the peer it names is judged by this node's own calls (SPEC §5a).
        debug!("announcement from {url} on another network: {reason}");
        return Ok(format!("other network ({reason}); announcement ignored"));
    }
    debug!(
        "announcement from {url}: length {}, tip {}",
        announcement.length, announcement.tip
    );
    if node.index_of(&announcement.tip).is_some() {
        return Ok("this node already has that block".into());
    }
    let (our_length, _) = node.tip();
    if announcement.length <= our_length {
        return Ok(format!(
            "not longer than our chain ({our_length} blocks); nothing to fetch"
        ));
    }
    let registered = peer.is_some();
    let source = peer.unwrap_or(url);
    match network.queue_fetch(&source, registered, announcement.length, announcement.tip) {
        Ok(()) => Ok(format!(
            "will fetch block {} from {source}",
            announcement.tip
        )),
        Err(reason) => {
            debug!("announcement from {source} ignored: {reason}");
            Ok(format!("not fetched: {reason}"))
        }
    }
}

/// Announces our tip to `peer`, unless it is known to hold it already.
pub fn send(node: &Node, network: &Network, peer: &str) {
    let (length, tip) = node.tip();
    if network.book.knows_tip(peer, &tip) {
        return;
    }
    let (genesis, _) = node.network();
    let body = Announcement {
        node: node.identity().url.clone(),
        node_id: node.identity().node_id.clone(),
        length,
        tip,
        genesis,
    };
    match node
        .client()
        .post_status(&format!("{peer}/inv"), &body, &[])
    {
        Ok((202, message)) => {
            debug!(
                "announced tip {tip} (length {length}) to {peer}: {}",
                message.unwrap_or_default()
            );
            network.book.has_tip(peer, length, tip);
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
pub fn fetch_announced(node: &Node, network: &Network, peer: &str, length: u64, tip: BlockHash) {
    if node.index_of(&tip).is_some() {
        return;
    }
    let (our_length, our_tip) = node.tip();
    if length <= our_length {
        return;
    }
    if length - our_length <= DIRECT_FETCH {
        match fetch_direct(node, peer, our_length, our_tip, length) {
            Ok(Some(Adoption::Adopted {
                blocks,
                length: now,
            })) => {
                info!("adopted {blocks} announced blocks from {peer}; our length is now {now}");
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
    let outcome = sync::resolve_with(node, peer);
    info!(
        "resolve with {peer} after its announcement: {}{}",
        outcome.status,
        outcome
            .reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    network
        .book
        .record(&outcome, now_ms(), network.backoff_base());
    if outcome.status == "not longer" && outcome.length.is_some_and(|theirs| theirs < length) {
        let reason = format!(
            "announced length {length} but its inv says {}",
            outcome.length.unwrap_or(0)
        );
        warn!("{peer} {reason}");
        network.book.misbehaved(peer, &reason);
    }
}

/// The blocks after our tip straight from `/chain`; `None` when they do not build on our
/// tip (then the caller resolves with the locator).
fn fetch_direct(
    node: &Node,
    peer: &str,
    our_length: u64,
    our_tip: BlockHash,
    length: u64,
) -> Result<Option<Adoption>, String> {
    let wanted = length - our_length;
    let url = format!("{peer}/chain?from={}&limit={wanted}", our_length + 1);
    let page: ChainPage = node.client().get(&url).map_err(|e| e.to_string())?;
    let blocks: Vec<Block> = page.chain.into_iter().take(wanted as usize).collect();
    let links = blocks.first().is_some_and(|b| b.previous_hash == our_tip)
        && blocks.len() as u64 == wanted
        && blocks
            .iter()
            .enumerate()
            .all(|(offset, b)| b.index == our_length + 1 + offset as u64);
    if !links {
        return Ok(None);
    }
    node.adopt_branch(our_length, our_tip, blocks)
        .map(Some)
        .map_err(|e| e.to_string())
}
