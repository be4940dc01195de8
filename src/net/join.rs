//! Meeting peers: `POST /nodes/register` that first asks each new peer's `/inv` (another
//! network is refused, the same node under a second name is kept once, a peer that is
//! down may still be registered, SPEC §9), peer exchange's registration of discovered
//! peers, and the `--peer` self-registration that retries while the peer starts.
//! No lock is held during any of these calls.

use crate::net::flight::{MAX_PARALLEL, map_bounded};
use crate::net::network::Network;
use crate::net::self_name::host_of;
use crate::net::self_name::is_loopback_url;
use crate::node::peer_table::{
    LearnRefused, Learned, MAX_PER_SOURCE, MAX_PORTS_PER_CLIENT, PeerKind, PeersError,
};
use crate::node::{Node, NodeError, now_ms};
use crate::wire::address::{NodeId, PeerUrl, is_own_address, normalize_peer};
use crate::wire::client::{PeerError, cut_words};
use crate::wire::error::{NetError, NetworkMismatch};
use crate::wire::protocol::InvAnswer;
use log::{debug, info, warn};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How long `--peer` self-registration keeps retrying a peer that does not answer.
pub const JOIN_RETRY_FOR: Duration = Duration::from_secs(120);

/// What a new peer's `/inv` said.
#[derive(Debug)]
pub enum Probe {
    /// On our network.
    Same(InvAnswer),
    /// On another network, and why.
    Other(NetworkMismatch),
    /// It is this node under another name.
    Myself,
    /// No usable answer (down).
    NoAnswer(PeerError),
    /// Not asked: its turn came after the time for asking had run out.
    NotAsked,
}

/// Asks `peer`'s `/inv` (no blocks) who it is and which network it is on.
pub fn probe(node: &Node, network: &Network, peer: &PeerUrl) -> Probe {
    let inv: InvAnswer = match network.client.get(&format!("{peer}/inv?limit=0")) {
        Ok(inv) => inv,
        Err(error) => return Probe::NoAnswer(error),
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
    pub peers: Vec<PeerUrl>,
    /// Addresses not added because they name a peer already listed.
    pub merged: Vec<String>,
}

/// The header a node sends when it registers itself with a peer it found by peer
/// exchange: it asks to be a learned peer there, even from the peer's own machine.
pub const LEARNED_HEADER: &str = "X-Minichain-Learned";

/// Who asks to register peers (SPEC §6c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The owner (§5a): registers anything; those peers are the owner's.
    Owner,
    /// A node on the owner's machine registering itself after finding this node by peer
    /// exchange ([`LEARNED_HEADER`]): the owner's authority, but a learned peer, so it
    /// expires like one and never turns a learned peer into the owner's.
    OwnerLearned,
    /// Anyone else, from this address as the socket sees it: registers only itself.
    Stranger(IpAddr),
}

/// `POST /nodes/register`: all or nothing. Asks each new address's `/inv` (several at
/// once); refuses one on another network or that is this node; keeps a node reached
/// under a second name once; registers one that does not answer. A stranger may name
/// only its own address, at most [`MAX_PORTS_PER_CLIENT`] ports of it, and never one the
/// owner forgot (403); what it registers is a learned peer.
pub fn register(
    node: &Node,
    network: &Network,
    addresses: &[String],
    caller: Caller,
) -> Result<Registered, NodeError> {
    let identity = node.identity();
    let registered = node.peers();
    let mut candidates: Vec<PeerUrl> = Vec::new();
    let mut upgrades: Vec<PeerUrl> = Vec::new();
    for address in addresses {
        let peer = normalize_peer(address).map_err(NetError::Address)?;
        if is_own_address(&peer, &identity.bound_host, identity.port)
            || peer == identity.url
            || network.names.known_as_me(&peer)
        {
            return Err(NetError::OwnAddress {
                address: address.clone(),
                url: identity.url.clone(),
            }
            .into());
        }
        if let Caller::Stranger(client) = caller {
            stranger_may_name(node, client, &peer)?;
        }
        if registered.contains(&peer) {
            if caller == Caller::Owner && !upgrades.contains(&peer) {
                upgrades.push(peer);
            }
        } else if !candidates.contains(&peer) {
            candidates.push(peer);
        }
    }
    if let Caller::Stranger(client) = caller {
        let source = PeerKind::client(client);
        let PeerKind::Learned { source } = source else {
            unreachable!("a client is a learned source")
        };
        let after = node.peers_from(&source) + candidates.len();
        if after > MAX_PORTS_PER_CLIENT {
            return Err(NetError::TooManyPorts {
                client,
                after,
                limit: MAX_PORTS_PER_CLIENT,
            }
            .into());
        }
    }
    let probes = probe_all(node, network, &candidates);
    let mut kept: Vec<PeerUrl> = Vec::new();
    let mut merged = Vec::new();
    let mut kept_ids: Vec<NodeId> = Vec::new();
    for (peer, probe) in candidates.iter().zip(&probes) {
        match probe {
            Probe::Other(mismatch) => {
                let (peer, mismatch) = (peer.clone(), mismatch.clone());
                return Err(NetError::OtherNetwork { peer, mismatch }.into());
            }
            Probe::Myself => {
                network.names.is_me(peer);
                return Err(NetError::AnswersAsUs { peer: peer.clone() }.into());
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
            Probe::NoAnswer(error) => {
                debug!("registering {peer}, which does not answer now ({error})");
                kept.push(peer.clone());
            }
            Probe::NotAsked => {
                debug!("registering {peer}, not asked: too many addresses at once");
                kept.push(peer.clone());
            }
        }
    }
    record_probes(network, &candidates, &probes);
    let peers = match caller {
        Caller::Owner if kept.is_empty() && upgrades.is_empty() => registered,
        Caller::Owner => {
            kept.extend(upgrades);
            node.register_peers(&kept)?
        }
        Caller::OwnerLearned => {
            for peer in &kept {
                node.learn_peer(peer, "this machine", usize::MAX, |learned| {
                    network.book.worst(learned)
                })
                .map_err(PeersError::Learn)?;
            }
            node.peers()
        }
        Caller::Stranger(client) => {
            let PeerKind::Learned { source } = PeerKind::client(client) else {
                unreachable!("a client is a learned source")
            };
            for peer in &kept {
                node.learn_peer(peer, &source, MAX_PORTS_PER_CLIENT, |learned| {
                    network.book.worst(learned)
                })
                .map_err(PeersError::Learn)?;
            }
            node.peers()
        }
    };
    Ok(Registered { peers, merged })
}

/// Whether a stranger at `client` may name `peer`: only its own address, as this node's
/// socket sees it, and not one the owner forgot. A loopback stranger is a web page in
/// the owner's browser (the owner check refused it), never a node: refused.
fn stranger_may_name(node: &Node, client: IpAddr, peer: &PeerUrl) -> Result<(), NodeError> {
    let client = canonical(client);
    if client.is_loopback() {
        return Err(NetError::PageRegisters.into());
    }
    let named = host_of(peer).and_then(|host| host.parse::<IpAddr>().ok());
    if named.map(canonical) != Some(client) {
        return Err(NetError::NotItself {
            peer: peer.clone(),
            client,
        }
        .into());
    }
    if node.is_forgotten(peer) {
        return Err(PeersError::Learn(LearnRefused::Forgotten).into());
    }
    Ok(())
}

/// An address as one machine: an IPv4-mapped IPv6 address is its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Peer exchange: registers, as learned peers from `source` (the peer that listed them),
/// those of `candidates` that answer on our network and are not already known under
/// another name; then registers this node with each, so the link works both ways.
pub fn discover(node: &Node, network: &Network, source: &str, candidates: &[PeerUrl]) {
    let probes = probe_all(node, network, candidates);
    record_probes(network, candidates, &probes);
    for (peer, probe) in candidates.iter().zip(&probes) {
        let inv = match probe {
            Probe::Same(inv) => inv,
            Probe::Myself => {
                network.names.is_me(peer);
                continue;
            }
            _ => continue,
        };
        let peers = node.peers();
        if peers.contains(peer)
            || network
                .book
                .peer_with_node_id(&peers, &inv.node_id)
                .is_some()
        {
            continue;
        }
        match node.learn_peer(peer, source, MAX_PER_SOURCE, |learned| {
            network.book.worst(learned)
        }) {
            Ok(Learned::Added { .. }) => {
                debug!("peer exchange: registered {peer} (listed by {source})");
                if let Err(error) = register_with(node, network, peer, true) {
                    debug!("peer exchange: could not register with {peer}: {error}");
                }
            }
            Ok(Learned::Known) => {}
            Err(refused) => debug!("peer exchange: {peer} not registered: {refused}"),
        }
    }
}

/// Asks every address at once (bounded); addresses still waiting when twice the peer
/// timeout has passed are not asked, so one request's cost stays bounded.
fn probe_all(node: &Node, network: &Network, peers: &[PeerUrl]) -> Vec<Probe> {
    let deadline = Instant::now() + network.client.timeout * 2;
    map_bounded(peers, MAX_PARALLEL, |peer| {
        if Instant::now() > deadline {
            Probe::NotAsked
        } else {
            probe(node, network, peer)
        }
    })
}

/// Puts what the probes learnt into the peer book.
fn record_probes(network: &Network, peers: &[PeerUrl], probes: &[Probe]) {
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
            Probe::Other(mismatch) => {
                network
                    .book
                    .other_network(peer, None, &mismatch.to_string(), now)
            }
            Probe::Myself | Probe::NoAnswer(_) | Probe::NotAsked => {}
        }
    }
}

/// Registers this node with each `--peer` so joining is mutual, retrying with backoff
/// (for [`JOIN_RETRY_FOR`]) while a peer does not answer: nodes started together find
/// each other. Each peer is given the name it can reach this node by (SPEC §6c). A peer
/// that refuses (another network, a rule) is not asked again.
pub fn register_with_peers(node: &Node, network: &Network, peers: &[PeerUrl]) {
    let started = Instant::now();
    let mut waiting: Vec<PeerUrl> = peers.to_vec();
    let mut delay = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        waiting.retain(|peer| match register_with(node, network, peer, false) {
            Ok((201, _)) => {
                info!("registered with {peer} (attempt {attempt})");
                false
            }
            Ok((status, reason)) => {
                warn!(
                    "{peer} refused our registration ({status}{}); not asking again",
                    reason.map(|r| format!(": {r}")).unwrap_or_default()
                );
                false
            }
            Err(error) => {
                debug!("could not register with {peer} yet (attempt {attempt}): {error}");
                true
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

/// Asks `peer` to register this node under the name it can reach us by; returns its
/// status and, when the peer has shown it is a node of our network, its `error` text
/// (cut at [`crate::wire::client::PEER_WORDS`] characters; SPEC §6c: a peer's words stay its own).
pub fn register_with(
    node: &Node,
    network: &Network,
    peer: &PeerUrl,
    learned: bool,
) -> Result<(u16, Option<String>), PeerError> {
    let name = network.names.url_for(node.identity(), peer);
    if !is_loopback_url(peer) && is_loopback_url(&name) {
        warn!(
            "{peer} is on another machine but this node is bound to {}: it cannot reach us; start with --host 0.0.0.0",
            node.identity().bound_host
        );
    }
    let body = serde_json::json!({ "nodes": [name] });
    let url = format!("{peer}/nodes/register");
    let headers: &[(&'static str, &str)] = if learned {
        &[(LEARNED_HEADER, "1")]
    } else {
        &[]
    };
    let (status, words) = network.client.post_status(&url, &body, headers)?;
    let words = match words {
        Some(words) if status != 201 && matches!(probe(node, network, peer), Probe::Same(_)) => {
            Some(cut_words(&words))
        }
        _ => None,
    };
    Ok((status, words))
}
