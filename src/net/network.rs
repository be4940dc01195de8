//! The [`Network`] a node carries beside its state (SPEC §6a, §6b): peer health, the
//! outbox, the relay peers, what it told whom, the single-flight runs; and how it hears
//! the node's news (its [`Listener`]): it only ever queues work, never calls a peer on
//! the caller's thread. The threads that do the work are in `net::relay`.

use crate::core::block::Transaction;
use crate::core::hash::{BlockHash, TxId};
use crate::net::flight::SingleFlight;
use crate::net::outbox::{Outbox, SeenSet};
use crate::net::peer_book::PeerBook;
use crate::net::relay_peers::RelayPeers;
use crate::net::self_name::SelfName;
use crate::net::sync::{self, PeerInventory, ResolveReport};
use crate::node::{Listener, Node, Source, now_ms};
use crate::wire::address::PeerUrl;
use crate::wire::client::PeerClient;
use crate::wire::error::NetError;
use log::{debug, warn};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Refused relayed transactions kept for one more try.
pub const MAX_ORPHANS: usize = 1000;

/// Other announcers remembered for an id being fetched, asked in turn if the first one
/// does not deliver it (so one slow or lying announcer cannot keep a payment from us).
pub const MAX_OTHER_ANNOUNCERS: usize = 4;

/// How a node takes part in the network; from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Announcements, transaction relay, background sync and peer exchange.
    pub relay: bool,
    /// How often the background sync runs.
    pub sync_interval: Duration,
    /// A peer unreachable this long is dropped.
    pub peer_expiry: Duration,
    /// How many peers announcements go to (SPEC §6b); 0: every peer.
    pub relay_peers: usize,
    /// How long new transaction ids are gathered before they are announced.
    pub relay_batch: Duration,
}

/// Everything a node keeps about the network besides its peer list: peer health, the
/// outbox, which peers it relays to, what it told whom, and the single-flight runs.
pub struct Network {
    /// From the command line.
    pub settings: Settings,
    /// How peers are called: every call this node makes to another goes through it,
    /// with `--peer-timeout-ms` and the size caps.
    pub client: PeerClient,
    /// Each peer's health, for `GET /nodes`, backoff and expiry.
    pub book: PeerBook,
    /// The peers announcements go to, and the one other peer each sync asks in turn.
    pub relay_peers: RelayPeers,
    /// The name this node gives each peer for itself (SPEC §6c).
    pub names: SelfName,
    /// Concurrent `/nodes/resolve` calls share one run.
    resolving: SingleFlight<ResolveReport>,
    /// Concurrent `/getblocks` calls share one run.
    asking: SingleFlight<Vec<PeerInventory>>,
    pub(crate) outbox: Outbox,
    /// Newly pooled transaction ids waiting for the next batch, with the peer (URL) that
    /// sent each, if any.
    pub(crate) pending: Mutex<Vec<(TxId, Option<PeerUrl>)>>,
    pub(crate) pending_wake: Condvar,
    /// (peer, id) pairs that peer already knows: it announced the id, or we did to it.
    pub(crate) told: Mutex<SeenSet<(PeerUrl, TxId)>>,
    /// Ids being asked of some announcer now (each is asked once while in flight), with
    /// up to [`MAX_OTHER_ANNOUNCERS`] other peers that announced it, asked in turn if
    /// the first does not deliver it.
    pub(crate) requested: Mutex<HashMap<TxId, Vec<PeerUrl>>>,
    /// Announced tips already fetched from a peer, so an announcer repeating a tip it
    /// cannot serve costs one fetch, not one per announcement.
    fetched: Mutex<SeenSet<(PeerUrl, BlockHash)>>,
    /// Tips being fetched right now: a tip announced by two peers is fetched once.
    fetching: Mutex<HashSet<BlockHash>>,
    /// Relayed transactions refused, with the peer that sent them, tried once more after
    /// the next fetch (at most [`MAX_ORPHANS`]).
    orphans: Mutex<VecDeque<(Transaction, PeerUrl)>>,
    /// Ids dropped because the outbox was full, in the current episode (logged once).
    dropped: AtomicUsize,
}

impl Network {
    /// A network with nothing queued; `net::relay::start` attaches it and starts its threads.
    pub fn new(settings: Settings, client: PeerClient) -> Network {
        Network {
            settings,
            client,
            book: PeerBook::default(),
            relay_peers: RelayPeers::default(),
            names: SelfName::default(),
            resolving: SingleFlight::default(),
            asking: SingleFlight::default(),
            outbox: Outbox::default(),
            pending: Mutex::new(Vec::new()),
            pending_wake: Condvar::new(),
            told: Mutex::new(SeenSet::default()),
            requested: Mutex::new(HashMap::new()),
            fetched: Mutex::new(SeenSet::default()),
            fetching: Mutex::new(HashSet::new()),
            orphans: Mutex::new(VecDeque::new()),
            dropped: AtomicUsize::new(0),
        }
    }

    /// The peers this node pushes announcements to now (SPEC §6b).
    pub fn relay_set(&self, node: &Node) -> Vec<PeerUrl> {
        self.relay_peers
            .choose(&node.peers(), self.settings.relay_peers, &self.book)
    }

    /// Queues a fetch of `tip` (length `length`) from registered `peer`, which announced
    /// it; announcements arriving before the fetch runs fold into it (the longest wins).
    /// Refused when that peer's tip was already fetched once.
    pub fn queue_fetch(&self, peer: &PeerUrl, length: u64, tip: BlockHash) -> Result<(), NetError> {
        let fresh = self
            .fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((peer.clone(), tip));
        if !fresh {
            return Err(NetError::AlreadyFetched);
        }
        let queued = self.outbox.push(peer, |slot| {
            if slot.fetch.is_none_or(|(queued, _)| queued < length) {
                slot.fetch = Some((length, tip));
            }
        });
        if queued {
            Ok(())
        } else {
            Err(NetError::QueueFull)
        }
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

    /// `dropped` ids did not fit in the outbox: the first drop of an episode is logged
    /// (once), and the count when the outbox has room again.
    pub(crate) fn note_dropped(&self, dropped: usize) {
        if dropped == 0 {
            let total = self.dropped.swap(0, Ordering::SeqCst);
            if total > 0 {
                warn!(
                    "the relay outbox has room again; {total} transaction ids were not relayed while it was full (the next sync brings them round)"
                );
            }
            return;
        }
        if self.dropped.fetch_add(dropped, Ordering::SeqCst) == 0 {
            warn!(
                "the relay outbox is full ({} ids waiting); new transaction ids are not relayed until it drains",
                crate::net::outbox::MAX_QUEUED_IDS
            );
        }
    }

    /// Tries the held transactions again (on a relay thread, after a fetch); those still
    /// refused are dropped.
    pub(crate) fn retry_orphans(&self, node: &Node) {
        let orphans: Vec<(Transaction, PeerUrl)> = self
            .orphans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for (tx, from) in orphans {
            match node.add_transaction(tx, Source::Retry(&from)) {
                Ok((tx, _)) => debug!("pooled transaction {} after fetching its block", tx.id),
                Err(error) => debug!("dropped a relayed transaction: {error}"),
            }
        }
    }
}

impl Network {
    /// `/nodes/resolve`: concurrent callers share one run; each outcome updates the book.
    pub fn resolve(&self, node: &Node) -> ResolveReport {
        self.resolving.run(|| {
            let report = sync::resolve(node, self);
            let now = now_ms();
            for outcome in &report.peers {
                self.book.record(outcome, now, self.backoff_base());
            }
            report
        })
    }

    /// `/getblocks`: concurrent callers share one run (SPEC §6b).
    pub fn getblocks(&self, node: &Node) -> Vec<PeerInventory> {
        self.asking.run(|| sync::getblocks(node, self))
    }
}

impl Listener for Network {
    fn tip_changed(&self, node: &Node) {
        if !self.settings.relay {
            return;
        }
        let now = now_ms();
        for peer in self.relay_set(node) {
            // A peer backing off after failures hears at its next sync instead.
            if !self.book.is_other_network(&peer) && self.book.due(&peer, now) {
                self.outbox.push(&peer, |slot| slot.announce = true);
            }
        }
    }

    fn pooled(&self, _node: &Node, transactions: &[Transaction], from: Option<&PeerUrl>) {
        if !self.settings.relay {
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.extend(transactions.iter().map(|tx| (tx.id, from.cloned())));
        self.pending_wake.notify_one();
    }

    /// Held for one more try after the next block fetched from a peer (at most
    /// [`MAX_ORPHANS`]); logged, never counted against the peer.
    fn refused(&self, _node: &Node, tx: Transaction, from: &PeerUrl, reason: &str) {
        debug!("a transaction relayed by {from} was refused: {reason}");
        let mut orphans = self.orphans.lock().unwrap_or_else(|p| p.into_inner());
        if orphans.len() >= MAX_ORPHANS {
            orphans.pop_front();
        }
        orphans.push_back((tx, from.clone()));
    }
}
