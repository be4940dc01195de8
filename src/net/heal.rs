//! The background sync (SPEC §6a "start and heal", "peer exchange"; §6b): once at start
//! and then every `--sync-interval-ms`, resolve with the relay peers and one other peer
//! in turn (those not backing off),
//! drop peers unreachable for `--peer-expiry-ms`, and register the peers our peers know.
//! Runs on its own thread; no lock is held during any peer call.

use crate::net::flight::{MAX_PARALLEL, map_bounded};
use crate::net::join;
use crate::net::network::Network;
use crate::net::peer_book::PeerView;
use crate::net::sync::{self, Outcome, PeerOutcome};
use crate::node::{Node, now_ms};
use crate::wire::address::normalize_peer;
use crate::wire::client::PeerClient;
use log::{debug, info, warn};
use serde::Deserialize;

/// Addresses learnt from peers and asked about in one round, all peers together.
pub const EXCHANGE_PER_ROUND: usize = 64;

/// Largest `GET /nodes/register` answer read from a peer.
const PEER_LIST_BYTES: u64 = 1024 * 1024;

/// Runs the sync for ever: a round at once, then one every interval.
pub fn run(node: &Node, network: &Network) {
    loop {
        round(node, network);
        std::thread::sleep(network.settings.sync_interval);
    }
}

/// One round: resolve, expire, exchange.
pub fn round(node: &Node, network: &Network) {
    let now = now_ms();
    // The relay peers and one other in turn (SPEC §6b); `/nodes/resolve` asks them all.
    let due: Vec<String> = network
        .relay_peers
        .sync_targets(&node.peers(), network.settings.relay_peers, &network.book)
        .into_iter()
        .filter(|peer| network.book.due(peer, now))
        .collect();
    let outcomes = map_bounded(&due, MAX_PARALLEL, |peer| sync::resolve_with(node, peer));
    for outcome in &outcomes {
        let before = network.book.view(std::slice::from_ref(&outcome.node)).pop();
        network
            .book
            .record(outcome, now_ms(), network.backoff_base());
        say(outcome, before.as_ref());
    }
    expire(node, network);
    let up: Vec<String> = node
        .peers()
        .into_iter()
        .filter(|peer| network.book.is_up(peer))
        .collect();
    exchange(node, network, &up);
}

/// Logs one peer's sync outcome at info only when something changed: the peer stopped
/// answering, answers again, or has a new problem. A round that changes nothing (every
/// 10 s by default) is debug; an adoption was logged by the chain switch itself.
fn say(outcome: &PeerOutcome, before: Option<&PeerView>) {
    let peer = &outcome.node;
    let reason = outcome.reason.as_deref().unwrap_or("");
    let was = before.map_or("unknown", |view| view.status);
    let new_reason = before.and_then(|view| view.reason.as_deref()) != outcome.reason.as_deref();
    match outcome.status {
        Outcome::Unreachable if was != "down" => {
            info!("peer {peer} does not answer ({reason}); retrying with backoff")
        }
        Outcome::Invalid | Outcome::OtherNetwork if new_reason => {
            warn!("sync with {peer}: {} ({reason})", outcome.status)
        }
        Outcome::Adopted | Outcome::NotLonger if was == "down" => {
            info!("peer {peer} answers again")
        }
        status => debug!("sync with {peer}: {status} ({reason})"),
    }
}

/// Drops peers unreachable for the expiry time.
fn expire(node: &Node, network: &Network) {
    let expiry = network.settings.peer_expiry;
    for peer in network.book.expired(&node.peers(), now_ms(), expiry) {
        match node.unregister_peers(std::slice::from_ref(&peer)) {
            Ok(_) => {
                info!(
                    "dropped peer {peer}: unreachable for more than {} ms",
                    expiry.as_millis()
                );
                network.book.forget(&peer);
            }
            Err(error) => warn!("could not drop peer {peer}: {error}"),
        }
    }
}

/// `GET /nodes/register` answer.
#[derive(Deserialize)]
struct PeerList {
    total_nodes: Vec<String>,
}

/// Asks each peer for its peers and registers the new ones on our network.
fn exchange(node: &Node, network: &Network, up: &[String]) {
    let client = PeerClient {
        timeout: node.client().timeout,
        max_answer_bytes: PEER_LIST_BYTES,
    };
    let lists = map_bounded(up, MAX_PARALLEL, |peer| {
        client
            .get::<PeerList>(&format!("{peer}/nodes/register"))
            .map_err(|error| debug!("peer exchange with {peer}: {error}"))
            .map(|list| list.total_nodes)
            .unwrap_or_default()
    });
    let known = node.peers();
    let identity = node.identity();
    let mut candidates: Vec<String> = Vec::new();
    for address in lists.into_iter().flatten() {
        let Ok(peer) = normalize_peer(&address) else {
            continue;
        };
        if peer == identity.url
            || crate::wire::address::is_own_address(&peer, &identity.bound_host, identity.port)
            || known.contains(&peer)
            || candidates.contains(&peer)
        {
            continue;
        }
        candidates.push(peer);
        if candidates.len() >= EXCHANGE_PER_ROUND {
            break;
        }
    }
    if !candidates.is_empty() {
        debug!("peer exchange: asking {} new addresses", candidates.len());
        join::discover(node, network, &candidates);
    }
}
