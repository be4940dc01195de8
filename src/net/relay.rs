//! The live network (SPEC §6a): the [`Network`] a node carries beside its state, and the
//! fixed, small set of background threads that push its news to peers.
//!
//! Work for a peer (announce our tip, post transactions, fetch an announced tip) waits
//! in that peer's slot of the [`Outbox`], which coalesces and is bounded; the HTTP
//! threads only ever add to it: they never wait for a peer. No lock is held during a
//! peer call.

use crate::core::block::Transaction;
use crate::core::hash::{BlockHash, TxId};
use crate::net::announce;
use crate::net::flight::SingleFlight;
use crate::net::outbox::{MAX_QUEUED_TRANSACTIONS, Outbox, SeenSet};
use crate::net::peer_book::PeerBook;
use crate::net::sync::{self, ResolveReport};
use crate::node::{Listener, NewTransaction, Node, Source, now_ms};
use log::{debug, warn};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Background threads that talk to peers for the outbox.
pub const RELAY_WORKERS: usize = 4;

/// Fetches announced by nodes that are not registered peers, waiting or running at once.
pub const MAX_STRANGER_FETCHES: usize = 4;

/// Refused relayed transactions kept for one more try.
pub const MAX_ORPHANS: usize = 1000;

/// The header a relayed transaction carries: the sender's node id, so the receiver
/// does not send it back.
pub const FROM_HEADER: &str = "X-Minichain-Node-Id";

/// How a node takes part in the network; from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Announcements, transaction relay, background sync and peer exchange.
    pub relay: bool,
    /// How often the background sync runs.
    pub sync_interval: Duration,
    /// A peer unreachable this long is dropped.
    pub peer_expiry: Duration,
}

/// Everything a node keeps about the network besides its peer list: peer health, the
/// outbox, what it already relayed, and the one `/nodes/resolve` run in flight.
pub struct Network {
    /// From the command line.
    pub settings: Settings,
    /// Each peer's health, for `GET /nodes`, backoff and expiry.
    pub book: PeerBook,
    /// Concurrent `/nodes/resolve` calls share one run.
    resolving: SingleFlight<ResolveReport>,
    outbox: Outbox,
    /// Transactions already relayed: each is relayed at most once by this node.
    relayed: Mutex<SeenSet<TxId>>,
    /// Announced tips already fetched from a peer, so an announcer repeating a tip it
    /// cannot serve costs one fetch, not one per announcement.
    fetched: Mutex<SeenSet<(String, BlockHash)>>,
    /// Tips being fetched right now: a tip announced by two peers is fetched once.
    fetching: Mutex<HashSet<BlockHash>>,
    /// Announcers that are not registered peers with a fetch waiting or running.
    strangers: Mutex<HashSet<String>>,
    /// Relayed transactions refused, with the sender's node id, tried once more after
    /// the next fetch (at most [`MAX_ORPHANS`]).
    orphans: Mutex<VecDeque<(NewTransaction, String)>>,
}

impl Network {
    /// A network with nothing queued; [`start`] attaches it and starts its threads.
    pub fn new(settings: Settings) -> Network {
        Network {
            settings,
            book: PeerBook::default(),
            resolving: SingleFlight::default(),
            outbox: Outbox::default(),
            relayed: Mutex::new(SeenSet::default()),
            fetched: Mutex::new(SeenSet::default()),
            fetching: Mutex::new(HashSet::new()),
            strangers: Mutex::new(HashSet::new()),
            orphans: Mutex::new(VecDeque::new()),
        }
    }

    /// The network attached to `node` (always, once the server started it).
    pub fn of(node: &Node) -> Option<&Network> {
        let listener: &dyn std::any::Any = node.listener()?.as_ref();
        listener.downcast_ref::<Network>()
    }

    /// Queues a fetch of `tip` (length `length`) from `peer`, which announced it.
    /// Refused when that peer's tip was already fetched once, or when `peer` is not
    /// registered here and [`MAX_STRANGER_FETCHES`] such fetches are already waiting:
    /// anyone can announce, but strangers cannot take over the relay threads.
    pub fn queue_fetch(
        &self,
        peer: &str,
        registered: bool,
        length: u64,
        tip: BlockHash,
    ) -> Result<(), &'static str> {
        if !registered {
            let mut strangers = self.strangers.lock().unwrap_or_else(|p| p.into_inner());
            if !strangers.contains(peer) && strangers.len() >= MAX_STRANGER_FETCHES {
                return Err(
                    "too many announcements from unregistered nodes at once; register it, or wait for the sync",
                );
            }
            strangers.insert(peer.to_string());
        }
        let fresh = self
            .fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((peer.to_string(), tip));
        if !fresh {
            self.stranger_done(peer);
            return Err("that block was already fetched from it");
        }
        if !self
            .outbox
            .push(peer, |slot| slot.fetch = Some((length, tip)))
        {
            self.stranger_done(peer);
            return Err("the relay queue is full");
        }
        Ok(())
    }

    /// A fetch from a node that is not a peer is over (or was never queued).
    fn stranger_done(&self, peer: &str) {
        self.strangers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(peer);
    }

    /// Claims `tip` for fetching; false when another thread is fetching it.
    pub fn start_fetch(&self, tip: BlockHash) -> bool {
        self.fetching
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tip)
    }

    /// The fetch of `tip` is over.
    pub fn end_fetch(&self, tip: &BlockHash) {
        self.fetching
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(tip);
    }

    /// Background sync: the interval, to space retries of failing peers.
    pub fn backoff_base(&self) -> Duration {
        self.settings.sync_interval
    }
}

/// Attaches a [`Network`] to the node and, unless relay is off, starts the outbox
/// threads and the background sync. With `--no-relay` the network still keeps peer
/// health and the single `/nodes/resolve` run, and sends nothing by itself.
pub fn start(node: &Node, settings: Settings) {
    node.attach_listener(Arc::new(Network::new(settings)));
    if !settings.relay {
        return;
    }
    for number in 0..RELAY_WORKERS {
        let node = node.clone();
        std::thread::Builder::new()
            .name(format!("relay-{number}"))
            .spawn(move || work(&node))
            .expect("can start a relay thread");
    }
    let node = node.clone();
    std::thread::Builder::new()
        .name("sync".into())
        .spawn(move || crate::net::heal::run(&node))
        .expect("can start the sync thread");
}

/// `/nodes/resolve`: concurrent callers share one run; each outcome updates the book.
pub fn resolve(node: &Node) -> ResolveReport {
    let Some(network) = Network::of(node) else {
        return sync::resolve(node);
    };
    network.resolving.run(|| {
        let report = sync::resolve(node);
        let now = now_ms();
        for outcome in &report.peers {
            network.book.record(outcome, now, network.backoff_base());
        }
        report
    })
}

impl Network {
    /// Tries the held transactions again (on a relay thread, after a fetch); those still
    /// refused are dropped.
    fn retry_orphans(&self, node: &Node) {
        let orphans: Vec<(NewTransaction, String)> = self
            .orphans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for (request, from) in orphans {
            match node.add_transaction(request, Source::Retry(&from)) {
                Ok((tx, _)) => debug!("pooled transaction {} after fetching its block", tx.id),
                Err(error) => debug!("dropped a relayed transaction: {error}"),
            }
        }
    }
}

impl Listener for Network {
    fn tip_changed(&self, node: &Node) {
        if !self.settings.relay {
            return;
        }
        let now = now_ms();
        for peer in node.peers() {
            // A peer backing off after failures hears at its next sync instead.
            if !self.book.is_other_network(&peer) && self.book.due(&peer, now) {
                self.outbox.push(&peer, |slot| slot.announce = true);
            }
        }
    }

    /// Held for one more try after the next block fetched from a peer (at most
    /// [`MAX_ORPHANS`]); logged, never counted against the peer the request names.
    fn refused(&self, _node: &Node, request: NewTransaction, from: &str, reason: &str) {
        debug!("a relayed transaction (from node id {from}) was refused: {reason}");
        let mut orphans = self.orphans.lock().unwrap_or_else(|p| p.into_inner());
        if orphans.len() >= MAX_ORPHANS {
            orphans.pop_front();
        }
        orphans.push_back((request, from.to_string()));
    }

    fn pooled(&self, node: &Node, transactions: &[Transaction], from: Option<&str>) {
        if !self.settings.relay {
            return;
        }
        let peers = node.peers();
        let source = from.and_then(|node_id| self.book.peer_with_node_id(&peers, node_id));
        let now = now_ms();
        for tx in transactions {
            let fresh = self
                .relayed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(tx.id);
            // A transaction returned to the pool by a chain switch spreads again.
            if !fresh && from.is_some() {
                continue;
            }
            for peer in &peers {
                if Some(peer) == source.as_ref()
                    || self.book.is_other_network(peer)
                    || !self.book.due(peer, now)
                {
                    continue;
                }
                if !self.outbox.push_transaction(peer, tx) {
                    warn!(
                        "relay outbox is full ({MAX_QUEUED_TRANSACTIONS} transactions); transaction {} is not relayed to {peer}",
                        tx.id
                    );
                }
            }
        }
    }
}

/// A relay thread: takes turns from the outbox for ever.
fn work(node: &Node) {
    let Some(network) = Network::of(node) else {
        return;
    };
    loop {
        let turn = network.outbox.take();
        if let Some((length, tip)) = turn.fetch {
            if network.start_fetch(tip) {
                announce::fetch_announced(node, network, &turn.peer, length, tip);
                network.end_fetch(&tip);
                network.retry_orphans(node);
            }
            network.stranger_done(&turn.peer);
        }
        if turn.announce {
            announce::send(node, network, &turn.peer);
        }
        if !turn.transactions.is_empty() {
            post_transactions(node, network, &turn.peer, &turn.transactions);
        }
        network.outbox.done(&turn.peer);
    }
}

/// Posts transactions in their relayed form (every stored field) to one peer.
fn post_transactions(node: &Node, network: &Network, peer: &str, transactions: &[Transaction]) {
    let url = format!("{peer}/transactions/new");
    let from = [(FROM_HEADER, node.identity().node_id.as_str())];
    for tx in transactions {
        match node.client().post_status(&url, tx, &from) {
            Ok((201, _)) => debug!("relayed transaction {} to {peer}", tx.id),
            Ok((409, _)) => debug!("{peer} already has transaction {}", tx.id),
            Ok((status, reason)) => debug!(
                "{peer} refused relayed transaction {} ({status}: {})",
                tx.id,
                reason.unwrap_or_default()
            ),
            Err(error) => {
                debug!("could not relay transaction {} to {peer}: {error}", tx.id);
                network
                    .book
                    .failed(peer, &error.to_string(), now_ms(), network.backoff_base());
                network.outbox.drop_transactions(peer);
                return;
            }
        }
    }
}
