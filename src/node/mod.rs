//! The [`Node`] handle: the chain, pool and peers behind one mutex, the store that makes
//! every change durable before it is acknowledged, and the operations the routes call.
//!
//! Locking rule: the mutex is taken only to read or to commit. It is never held while
//! searching for a nonce or calling a peer; those work on a snapshot and re-check the tip
//! when they commit. Nor is it held while an admitted transaction is written: that is the
//! group commit of `ingest` (lock order: chain, then the pool log, then its queue).

mod adopt;
mod commit;
mod error;
mod ingest;
mod lookups;
mod mining;
mod orphans;
mod owner_wallet;
pub mod peer_table;
mod peers;
mod reads;
mod stamps;
mod transactions;

pub use adopt::Adoption;
pub use error::{EntryError, NodeError, StartError};
pub use lookups::LookupError;
pub use mining::Mined;
pub use owner_wallet::WalletInfo;
pub use transactions::{PaymentError, Source};

use crate::core::block::Transaction;
use crate::core::chain::Chain;
use crate::core::hash::TxId;
use crate::core::pool::{Pool, PoolError};
use crate::store::{Loaded, Store, StoreError};
use crate::wallet::node_wallet::NodeWallet;
use crate::wire::address::{NodeId, PeerUrl};
use log::info;
use peer_table::PeerTable;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Handle to a node's state; cloning only bumps an Arc.
#[derive(Clone)]
pub struct Node {
    shared: Arc<Shared>,
}

/// Fixed facts about a running node.
#[derive(Clone, Debug)]
pub struct Identity {
    /// How this node calls itself, e.g. `http://127.0.0.1:5000`.
    pub url: PeerUrl,
    /// The host it is bound to, to recognise its own address among peers.
    pub bound_host: String,
    /// `--advertise`: the URL it gives every peer for itself; `None`: the address each
    /// peer sees (`net::self_name`).
    pub advertise: Option<String>,
    /// The port it listens on.
    pub port: u16,
    /// Made once per data directory; lets a node recognise itself behind another name.
    pub node_id: NodeId,
    /// Who this node's coinbases pay (`--miner`); `None`: the wallet's active key.
    pub miner: Option<String>,
    /// Tree height of the keys a new wallet makes (`--wallet-height`: 5, 10 or 15).
    pub wallet_height: u32,
    /// Nonce-search threads.
    pub threads: usize,
    /// Most transactions the pool holds (`--pool-max`); beyond it a payment is refused.
    pub pool_max: usize,
}

struct Shared {
    identity: Identity,
    /// Locked only to read or to commit; never held while mining or calling a peer.
    state: Mutex<State>,
    /// Told of changes other nodes should hear about (the relay, `net::relay`); set once
    /// at start, called after the lock is released.
    listener: OnceLock<Arc<dyn Listener>>,
    /// Group commit of admitted transactions to the pool's files.
    ingest: ingest::Ingest,
    /// The node's own key (`wallet.db`). Lock order: the wallet before the chain, never
    /// the other way; held while a leaf is written and a payment signed.
    wallet: Mutex<NodeWallet>,
}

/// Hears of the changes other nodes should learn about (SPEC §6a): a trait so that
/// `node` does not depend on the relay that implements it. Called without the lock; an
/// implementation must only queue work, never call a peer on the caller's thread.
pub trait Listener: Send + Sync {
    /// The tip moved: a block was mined or a branch adopted.
    fn tip_changed(&self, node: &Node);
    /// Transactions entered the pool: admitted from a client or a peer (`from`: that
    /// peer's registered URL), or returned to the pool by a chain switch.
    fn pooled(&self, node: &Node, transactions: &[Transaction], from: Option<&PeerUrl>);
    /// A transaction relayed by a peer (`from`: its registered URL) was refused for
    /// `reason`; it may spend coins of a block not fetched yet. Never a mark against that
    /// peer: the claim is the request's, not something this node saw (SPEC §5a).
    fn refused(&self, node: &Node, tx: Transaction, from: &PeerUrl, reason: &str);
}

/// Everything that changes, with the store that keeps it.
struct State {
    chain: Chain,
    pool: Pool,
    peers: PeerTable,
    store: Store,
    /// Raised (and replaced by a fresh flag) whenever the tip moves: the cancel flag of
    /// every nonce search running on the old tip.
    tip_moved: Arc<AtomicBool>,
    /// Where the next identical payment's timestamp starts (SPEC §9: a fresh stamp costs
    /// the same however many identical payments came before).
    stamps: stamps::FreshStamps,
}

pub use crate::clock::now_ms;
impl Node {
    /// Opens (and locks) the data directory, checks everything in it, and builds the node.
    /// `miner` defaults to the node's URL; `new_node_id` is used for a new directory only.
    pub fn start(
        store_dir: &std::path::Path,
        difficulty: u32,
        reward: u64,
        identity: impl FnOnce(NodeId) -> Identity,
    ) -> Result<Node, StartError> {
        let (store, loaded) = Store::open(store_dir, difficulty, reward, new_node_id)?;
        let Loaded {
            node_id,
            blocks,
            pool,
            mut pool_log,
            peers,
        } = loaded;
        let identity = identity(NodeId::new(node_id));

        let mut chain = Chain::new(difficulty, reward);
        for (file, block) in blocks {
            chain
                .append(block, u64::MAX)
                .map_err(|error| StartError::InvalidBlock {
                    file: file.display().to_string(),
                    error,
                })?;
        }

        let genesis = chain.genesis().hash;
        if let Some((tx, error)) = pool
            .iter()
            .find_map(|tx| tx.check_signature(&genesis).err().map(|error| (tx, error)))
        {
            return Err(invalid_pool_entry(
                &store,
                EntryError::Signature { id: tx.id, error },
            ));
        }
        let wallet = NodeWallet::open_or_create(store.dir(), identity.wallet_height)
            .map_err(StartError::Wallet)?;
        let stored_pool_len = pool.len();
        let (rebuilt, dropped) = Pool::rebuild(chain.ledger(), pool);
        for (_, error) in dropped {
            // Mined just before a crash, before the pool file was rewritten: expected.
            // Anything else means the file was changed behind the node's back.
            if !matches!(
                error,
                PoolError::Duplicate {
                    in_block: Some(_),
                    ..
                }
            ) {
                return Err(invalid_pool_entry(&store, EntryError::Pool(error)));
            }
        }
        if rebuilt.len() != stored_pool_len || pool_log.needs_compaction() {
            pool_log.compact(rebuilt.transactions())?;
        }

        let peers = PeerTable::from_stored(peers).map_err(|error| StartError::InvalidEntry {
            file: store.dir().join("peers.db").display().to_string(),
            reason: EntryError::PeerAddress(error),
        })?;

        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        info!(
            "loaded {}, {} and {} from {}",
            plural(chain.len() as usize, "block"),
            plural(rebuilt.len(), "pending transaction"),
            plural(peers.urls().len(), "peer"),
            store.dir().display()
        );
        let dir = store.dir().to_path_buf();
        let node = Node {
            shared: Arc::new(Shared {
                identity,
                listener: OnceLock::new(),
                state: Mutex::new(State {
                    chain,
                    pool: rebuilt,
                    peers,
                    store,
                    tip_moved: Arc::default(),
                    stamps: stamps::FreshStamps::default(),
                }),
                ingest: ingest::Ingest::new(pool_log),
                wallet: Mutex::new(wallet),
            }),
        };
        let committer = node.clone();
        std::thread::Builder::new()
            .name("pool-commit".into())
            .spawn(move || ingest::run_commits(committer))
            .map_err(|source| StoreError::Io { path: dir, source })?;
        Ok(node)
    }

    /// Fixed facts: URL, node id, miner.
    pub fn identity(&self) -> &Identity {
        &self.shared.identity
    }

    /// Sets the listener told of new tips and pooled transactions (once, at start).
    pub fn attach_listener(&self, listener: Arc<dyn Listener>) {
        let _ = self.shared.listener.set(listener);
    }

    /// The attached listener, if any.
    fn listener(&self) -> Option<&Arc<dyn Listener>> {
        self.shared.listener.get()
    }

    fn notify_tip_changed(&self) {
        if let Some(listener) = self.listener() {
            listener.tip_changed(self);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while locked cannot leave half a change: every commit validates first.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Cancels the searches running on the old tip.
    fn tip_changed(&mut self) {
        std::mem::take(&mut self.tip_moved).store(true, Ordering::Relaxed);
    }

    fn knows_transaction(&self, id: &TxId) -> bool {
        self.chain.ledger().block_of(id).is_some() || self.pool.contains(self.chain.ledger(), id)
    }
}

/// A pending transaction of the pool file that cannot be loaded: the error names the file.
fn invalid_pool_entry(store: &Store, reason: EntryError) -> StartError {
    StartError::InvalidEntry {
        file: store
            .dir()
            .join(crate::store::pool_log::BASE_FILE)
            .display()
            .to_string(),
        reason,
    }
}

/// A fresh random-enough node id without a random-number crate: the hash of the time,
/// the process id and an address in memory.
fn new_node_id() -> String {
    let marker = 0u8;
    let seed = format!(
        "{:?} {} {:p}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
        std::process::id(),
        &marker
    );
    crate::core::hash::to_hex(&crate::core::hash::sha256(seed.as_bytes())[..16])
}
