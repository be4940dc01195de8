//! Meeting peers: `POST /nodes/register` that first asks each new peer's `/inv` (another
//! network is refused, the same node under a second name is kept once, a peer that is
//! down may still be registered, SPEC §9), peer exchange's registration of discovered
//! peers, and the `--peer` self-registration that retries while the peer starts.
//! No lock is held during any of these calls.

use crate::net::flight::{MAX_PARALLEL, map_bounded};
use crate::net::network::Network;
use crate::net::peer_book::MAX_PEERS;
use crate::node::{Node, NodeError, now_ms};
use crate::wire::address::{is_own_address, normalize_peer};
use crate::wire::protocol::InvAnswer;
use log::{debug, info, warn};
use std::time::{Duration, Instant};

/// How long `--peer` self-registration keeps retrying a peer that does not answer.
pub const JOIN_RETRY_FOR: Duration = Duration::from_secs(120);

/// What a new peer's `/inv` said.
#[derive(Debug)]
pub enum Probe {
    /// On our network.
    Same(InvAnswer),
    /// On another network, and why.
    Other(String),
    /// It is this node under another name.
    Myself,
    /// No usable answer (down, or not asked in time).
    NoAnswer(String),
}

/// Asks `peer`'s `/inv` (no blocks) who it is and which network it is on.
pub fn probe(node: &Node, peer: &str) -> Probe {
    let inv: InvAnswer = match node.client().get(&format!("{peer}/inv?limit=0")) {
        Ok(inv) => inv,
        Err(error) => return Probe::NoAnswer(error.to_string()),
    };
    if inv.node_id == node.identity().node_id {
        return Probe::Myself;
    }
    match node.other_network(&inv) {
        Some(reason) => Probe::Other(reason),
        None => Probe::Same(inv),
    }
}

/// What `POST /nodes/register` did.
#[derive(Debug)]
pub struct Registered {
    /// Every peer now registered.
    pub peers: Vec<String>,
    /// Addresses not added because they name a peer already listed.
    pub merged: Vec<String>,
}

/// `POST /nodes/register`: all or nothing. Asks each new address's `/inv` (several at
/// once); refuses one on another network or that is this node; keeps a node reached
/// under a second name once; registers one that does not answer.
pub fn register(
    node: &Node,
    network: &Network,
    addresses: &[String],
) -> Result<Registered, NodeError> {
    let identity = node.identity();
    let registered = node.peers();
    let mut candidates: Vec<String> = Vec::new();
    for address in addresses {
        let peer =
            normalize_peer(address).map_err(|error| NodeError::BadRequest(error.to_string()))?;
        if is_own_address(&peer, &identity.bound_host, identity.port) || peer == identity.url {
            return Err(NodeError::BadRequest(format!(
                "peer address {address:?} is this node itself ({}); register other nodes",
                identity.url
            )));
        }
        if !registered.contains(&peer) && !candidates.contains(&peer) {
            candidates.push(peer);
        }
    }
    if registered.len() + candidates.len() > MAX_PEERS {
        return Err(NodeError::BadRequest(format!(
            "a node keeps at most {MAX_PEERS} peers; {} are registered and {} are new; forget some first (DELETE /nodes/register)",
            registered.len(),
            candidates.len()
        )));
    }
    let probes = probe_all(node, &candidates);
    let mut kept: Vec<String> = Vec::new();
    let mut merged = Vec::new();
    let mut kept_ids: Vec<String> = Vec::new();
    for (peer, probe) in candidates.iter().zip(&probes) {
        match probe {
            Probe::Other(reason) => {
                return Err(NodeError::BadRequest(format!(
                    "{peer} is on another network: {reason}; start it with the same --difficulty (and chain) as this node"
                )));
            }
            Probe::Myself => {
                return Err(NodeError::BadRequest(format!(
                    "{peer} is this node itself (it answers with our node_id); register other nodes"
                )));
            }
            Probe::Same(inv) => {
                let known = network.book.peer_with_node_id(&registered, &inv.node_id);
                if let Some(known) = known {
                    merged.push(format!("{peer} is {known} (same node_id)"));
                } else if kept_ids.contains(&inv.node_id) {
                    merged.push(format!("{peer} is a second name of a node in this list"));
                } else {
                    kept_ids.push(inv.node_id.clone());
                    kept.push(peer.clone());
                }
            }
            Probe::NoAnswer(reason) => {
                debug!("registering {peer}, which does not answer now ({reason})");
                kept.push(peer.clone());
            }
        }
    }
    let peers = if kept.is_empty() {
        registered
    } else {
        node.register_peers(&kept)?
    };
    record_probes(network, &candidates, &probes);
    Ok(Registered { peers, merged })
}

/// Peer exchange: registers those of `candidates` (addresses a peer listed) that answer
/// on our network and are not already known under another name, up to the peer cap.
pub fn discover(node: &Node, network: &Network, candidates: &[String]) {
    let probes = probe_all(node, candidates);
    record_probes(network, candidates, &probes);
    for (peer, probe) in candidates.iter().zip(&probes) {
        let Probe::Same(inv) = probe else { continue };
        let peers = node.peers();
        if peers.len() >= MAX_PEERS {
            return;
        }
        if peers.contains(peer)
            || network
                .book
                .peer_with_node_id(&peers, &inv.node_id)
                .is_some()
        {
            continue;
        }
        match node.register_peers(std::slice::from_ref(peer)) {
            Ok(_) => info!("peer exchange: registered {peer}"),
            Err(error) => debug!("peer exchange: could not register {peer}: {error}"),
        }
    }
}

/// Asks every address at once (bounded); addresses still waiting when twice the peer
/// timeout has passed are not asked, so one request's cost stays bounded.
fn probe_all(node: &Node, peers: &[String]) -> Vec<Probe> {
    let deadline = Instant::now() + node.client().timeout * 2;
    map_bounded(peers, MAX_PARALLEL, |peer| {
        if Instant::now() > deadline {
            Probe::NoAnswer("not asked: too many addresses at once".into())
        } else {
            probe(node, peer)
        }
    })
}

/// Puts what the probes learnt into the peer book.
fn record_probes(network: &Network, peers: &[String], probes: &[Probe]) {
    let now = now_ms();
    for (peer, probe) in peers.iter().zip(probes) {
        match probe {
            Probe::Same(inv) => network.book.seen(
                peer,
                Some(&inv.node_id),
                Some(inv.length),
                Some(inv.tip),
                now,
            ),
            Probe::Other(reason) => network.book.other_network(peer, None, reason, now),
            Probe::Myself | Probe::NoAnswer(_) => {}
        }
    }
}

/// Registers this node with each `--peer` so joining is mutual, retrying with backoff
/// (for [`JOIN_RETRY_FOR`]) while a peer does not answer: nodes started together find
/// each other. A peer that refuses (another network) is not asked again.
pub fn register_with_peers(node: &Node, peers: &[String]) {
    let body = serde_json::json!({ "nodes": [node.identity().url] });
    let started = Instant::now();
    let mut waiting: Vec<String> = peers.to_vec();
    let mut delay = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        waiting.retain(|peer| {
            let url = format!("{peer}/nodes/register");
            match node.client().post_status(&url, &body, &[]) {
                Ok((201, _)) => {
                    info!("registered with {peer} (attempt {attempt})");
                    false
                }
                Ok((status, reason)) => {
                    warn!(
                        "{peer} refused our registration ({status}: {}); not asking again",
                        reason.unwrap_or_default()
                    );
                    false
                }
                Err(error) => {
                    debug!("could not register with {peer} yet (attempt {attempt}): {error}");
                    true
                }
            }
        });
        if waiting.is_empty() {
            return;
        }
        if started.elapsed() >= JOIN_RETRY_FOR {
            for peer in &waiting {
                warn!(
                    "could not register with {peer} for {} s; giving up (it can register us, or resolve finds it)",
                    JOIN_RETRY_FOR.as_secs()
                );
            }
            return;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(5));
        attempt += 1;
    }
}
