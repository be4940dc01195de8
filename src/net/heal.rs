//! The background sync (SPEC §6a "start and heal", "peer exchange"; §6b; §6c): once at
//! start and then every `--sync-interval-ms`, resolve with the relay peers and one other
//! peer in turn (those not backing off), fetch the pooled payments they hold that we
//! lack, drop learned peers unreachable for `--peer-expiry-ms`, and read one peer's list
//! for peers we do not know. What a round costs the network does not grow with its size.
//! Runs on its own thread; no lock is held during any peer call.

use crate::net::flight::{MAX_PARALLEL, map_bounded};
use crate::net::join;
use crate::net::network::Network;
use crate::net::self_name::{host_of, is_loopback_url};
use crate::net::sync::{self, Outcome, PeerOutcome};
use crate::net::txrelay;
use crate::node::{Node, now_ms};
use crate::wire::address::{PeerUrl, is_own_address, normalize_peer};
use crate::wire::client::PeerClient;
use log::{debug, info, warn};
use serde::Deserialize;
use std::net::IpAddr;

/// New addresses learnt from a peer's list and probed in one round (SPEC §6c: a
/// network at rest is quiet).
pub const EXCHANGE_PER_ROUND: usize = 8;

/// Most pooled ids fetched from one peer in one round (SPEC §6c: pools catch up too).
pub const CATCH_UP_PER_PEER: usize = 1000;

/// Largest `GET /nodes/register` answer read from a peer.
const PEER_LIST_BYTES: u64 = 1024 * 1024;

/// Runs the sync for ever: a round at once (then this node's pool is announced to its
/// relay peers, SPEC §6c), then one every interval.
pub fn run(node: &Node, network: &Network) {
    round(node, network);
    announce_pool(node, network);
    loop {
        std::thread::sleep(network.settings.sync_interval);
        round(node, network);
    }
}

/// One round: resolve with the relay peers and one other, fetch the pooled payments they
/// hold that we lack, expire learned peers long unreachable, and read one peer's list.
pub fn round(node: &Node, network: &Network) {
    let now = now_ms();
    // The relay peers and one other in turn (SPEC §6b); `/nodes/resolve` asks them all.
    let due: Vec<PeerUrl> = network
        .relay_peers
        .sync_targets(&node.peers(), network.settings.relay_peers, &network.book)
        .into_iter()
        .filter(|peer| network.book.due(peer, now))
        .collect();
    let outcomes = map_bounded(&due, MAX_PARALLEL, |peer| {
        sync::resolve_with(node, network, peer)
    });
    for outcome in &outcomes {
        let before = network.book.status(&outcome.node);
        network
            .book
            .record(outcome, now_ms(), network.backoff_base());
        say(outcome, before);
        catch_up(node, network, outcome);
    }
    expire(node, network);
    exchange(node, network);
}

/// Queues a `/getdata` for the pooled ids a peer's `/inv` listed that this node holds
/// in neither pool nor chain (at most [`CATCH_UP_PER_PEER`]): a payment accepted while
/// this node was away still reaches it.
fn catch_up(node: &Node, network: &Network, outcome: &PeerOutcome) {
    let same_network = matches!(outcome.status, Outcome::Adopted | Outcome::NotLonger)
        && outcome.node_id.as_ref() != Some(&node.identity().node_id);
    if !same_network || outcome.pooled.is_empty() {
        return;
    }
    let lacking: Vec<_> = outcome
        .pooled
        .iter()
        .zip(node.holds_transactions(&outcome.pooled))
        .filter(|(_, held)| !held)
        .map(|(id, _)| *id)
        .take(CATCH_UP_PER_PEER)
        .collect();
    if !lacking.is_empty() {
        let asked = txrelay::receive(node, network, &outcome.node, &lacking);
        debug!(
            "sync with {}: its pool holds {} payments we lack; asking for {asked}",
            outcome.node,
            lacking.len()
        );
    }
}

/// At start: this node's pool goes to its relay peers as ids, so payments it accepted
/// while they could not hear it reach them.
fn announce_pool(node: &Node, network: &Network) {
    let pool = node.pool();
    if pool.is_empty() {
        return;
    }
    debug!(
        "announcing {} pooled payments to the relay peers",
        pool.len()
    );
    crate::node::Listener::pooled(network, node, &pool, None);
}

/// Logs one peer's sync outcome at info only when something changed: the peer stopped
/// answering, answers again, or has a new problem. A round that changes nothing (every
/// 10 s by default) is debug; an adoption was logged by the chain switch itself.
fn say(outcome: &PeerOutcome, (was, before): (&str, Option<String>)) {
    let peer = &outcome.node;
    let reason = outcome.reason.as_deref().unwrap_or("");
    let new_reason = before.as_deref() != outcome.reason.as_deref();
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

/// Drops learned peers unreachable for the expiry time; the owner's peers stay, retried
/// with backoff (SPEC §6c).
fn expire(node: &Node, network: &Network) {
    let expiry = network.settings.peer_expiry;
    for peer in network.book.expired(&node.peers(), now_ms(), expiry) {
        match node.drop_learned_peer(&peer) {
            Ok(true) => {
                info!(
                    "dropped peer {peer}: unreachable for more than {} ms",
                    expiry.as_millis()
                );
                network.book.forget(&peer);
            }
            Ok(false) => {}
            Err(error) => warn!("could not drop peer {peer}: {error}"),
        }
    }
}

/// `GET /nodes/register` answer.
#[derive(Deserialize)]
struct PeerList {
    total_nodes: Vec<String>,
}

/// Peer exchange, one peer a round (a different one each time): reads its list and
/// probes at most [`EXCHANGE_PER_ROUND`] addresses new to us, dropping those that mean
/// something else on every machine (loopback, link-local, unspecified) unless the peer is
/// itself on loopback.
fn exchange(node: &Node, network: &Network) {
    let up: Vec<PeerUrl> = node
        .peers()
        .into_iter()
        .filter(|peer| network.book.is_up(peer))
        .collect();
    let Some(source) = network.relay_peers.next_exchange(&up) else {
        return;
    };
    let client = PeerClient {
        timeout: network.client.timeout,
        max_answer_bytes: PEER_LIST_BYTES,
    };
    let list = match client.get::<PeerList>(&format!("{source}/nodes/register")) {
        Ok(list) => list.total_nodes,
        Err(error) => {
            debug!("peer exchange with {source}: {error}");
            return;
        }
    };
    let known = node.peers();
    let identity = node.identity();
    let source_on_loopback = is_loopback_url(&source);
    let mut candidates: Vec<PeerUrl> = Vec::new();
    for address in list {
        let Ok(peer) = normalize_peer(&address) else {
            continue;
        };
        if peer == identity.url
            || is_own_address(&peer, &identity.bound_host, identity.port)
            || network.names.known_as_me(&peer)
            || known.contains(&peer)
            || candidates.contains(&peer)
            || node.is_forgotten(&peer)
            || (!source_on_loopback && !means_the_same_everywhere(&peer))
        {
            continue;
        }
        candidates.push(peer);
        if candidates.len() >= EXCHANGE_PER_ROUND {
            break;
        }
    }
    if !candidates.is_empty() {
        debug!(
            "peer exchange: asking {} new addresses listed by {source}",
            candidates.len()
        );
        join::discover(node, network, &source, &candidates);
    }
}

/// Whether an address names the same host from every machine: not loopback, link-local
/// (169.254.0.0/16, fe80::/10) or unspecified. Private ranges (a classroom) are kept.
pub fn means_the_same_everywhere(peer: &str) -> bool {
    let Some(host) = host_of(peer) else {
        return false;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return false;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => !(ip.is_loopback() || ip.is_link_local() || ip.is_unspecified()),
        Ok(IpAddr::V6(ip)) => {
            let link_local = (ip.segments()[0] & 0xffc0) == 0xfe80;
            let mapped = ip.to_ipv4_mapped();
            !(ip.is_loopback()
                || ip.is_unspecified()
                || link_local
                || mapped.is_some_and(|v4| v4.is_loopback() || v4.is_link_local()))
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_that_mean_the_same_everywhere_travel() {
        for local in [
            "http://127.0.0.1:1",
            "http://localhost:1",
            "http://169.254.169.254:80",
            "http://0.0.0.0:1",
            "http://[::1]:1",
            "http://[fe80::1]:1",
            "http://[::]:1",
            "http://[::ffff:127.0.0.1]:1",
        ] {
            assert!(!means_the_same_everywhere(local), "{local}");
        }
        for kept in [
            "http://10.0.0.2:5000",
            "http://192.168.1.20:5000",
            "http://teacher.lan:5000",
            "http://[2001:db8::1]:5000",
        ] {
            assert!(means_the_same_everywhere(kept), "{kept}");
        }
    }
}
