//! The [`Node`] handle: the chain, pool and peers behind one mutex, the store that makes
//! every change durable before it is acknowledged, and the operations the routes call.
//!
//! Locking rule: the mutex is taken only to read or to commit. It is never held while
//! searching for a nonce or calling a peer; those work on a snapshot and re-check the tip
//! when they commit. Nor is it held while an admitted transaction is written: that is the
//! group commit of `ingest` (lock order: chain, then the pool log, then its queue).

mod ingest;

use crate::core::block::{Block, Header, Transaction, merkle_root_of};
use crate::core::chain::{BlockError, Chain};
use crate::core::hash::{BlockHash, TxId};
use crate::core::pool::{Pool, PoolError};
use crate::core::pow::{self, Found};
use crate::core::signed::Signature;
use crate::net::address::{MAX_PEERS, is_own_address, normalize_peer};
use crate::net::peers::PeerClient;
use crate::net::protocol::InvItem;
use crate::store::{Loaded, Store, StoreError};
use crate::wallet::node_wallet::{NodeWallet, WalletError};
use log::{debug, info, warn};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Handle to a node's state; cloning only bumps an Arc.
#[derive(Clone)]
pub struct Node {
    shared: Arc<Shared>,
}

/// Fixed facts about a running node.
#[derive(Clone, Debug)]
pub struct Identity {
    /// How this node calls itself, e.g. `http://127.0.0.1:5000`.
    pub url: String,
    /// The host it is bound to, to recognise its own address among peers.
    pub bound_host: String,
    /// The port it listens on.
    pub port: u16,
    /// Made once per data directory; lets a node recognise itself behind another name.
    pub node_id: String,
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
    /// How peers are called during sync.
    client: PeerClient,
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
pub trait Listener: std::any::Any + Send + Sync {
    /// The tip moved: a block was mined or a branch adopted.
    fn tip_changed(&self, node: &Node);
    /// Transactions entered the pool: admitted from a client or a peer (`from`: that
    /// peer's node id), or returned to the pool by a chain switch.
    fn pooled(&self, node: &Node, transactions: &[Transaction], from: Option<&str>);
}

/// Everything that changes, with the store that keeps it.
struct State {
    chain: Chain,
    pool: Pool,
    peers: Vec<String>,
    store: Store,
    /// Raised (and replaced by a fresh flag) whenever the tip moves: the cancel flag of
    /// every nonce search running on the old tip.
    tip_moved: Arc<AtomicBool>,
}

/// Why an operation was refused or failed; `api` maps each kind to a status code.
#[derive(Debug)]
pub enum NodeError {
    /// The request is wrong; nothing changed (400).
    BadRequest(String),
    /// The transaction is already known: a safe retry (409).
    Duplicate(String),
    /// The thing to remove does not exist (404).
    NotFound(String),
    /// The disk refused a write; nothing was acknowledged (500).
    Storage(StoreError),
    /// The block built from the pool breaks a rule, so it was not appended (500).
    Unmineable(String),
    /// The node's wallet could not sign or save (500); no signature left the node.
    Wallet(String),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::BadRequest(reason)
            | NodeError::Duplicate(reason)
            | NodeError::NotFound(reason)
            | NodeError::Unmineable(reason)
            | NodeError::Wallet(reason) => f.write_str(reason),
            NodeError::Storage(error) => write!(f, "could not save the change: {error}"),
        }
    }
}

impl std::error::Error for NodeError {}

impl From<StoreError> for NodeError {
    fn from(error: StoreError) -> NodeError {
        NodeError::Storage(error)
    }
}

/// Why the node could not start from its data directory.
#[derive(Debug)]
pub enum StartError {
    /// The store could not be opened or read.
    Store(StoreError),
    /// A stored block breaks a rule; names the file.
    InvalidBlock { file: String, error: BlockError },
    /// A pooled transaction or peer is not valid; names the file.
    InvalidEntry { file: String, reason: String },
    /// The node's wallet cannot be opened or made.
    Wallet(WalletError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Store(error) => error.fmt(f),
            StartError::InvalidBlock { file, error } => write!(
                f,
                "{file}: damaged data file: {error} (the file was left unchanged)"
            ),
            StartError::InvalidEntry { file, reason } => write!(
                f,
                "{file}: damaged data file: {reason} (the file was left unchanged)"
            ),
            StartError::Wallet(error) => write!(f, "the node's wallet: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<StoreError> for StartError {
    fn from(error: StoreError) -> StartError {
        StartError::Store(error)
    }
}

/// A transaction as a client sends it to `/transactions/new`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTransaction {
    /// Who pays.
    pub sender: String,
    /// Who is paid.
    pub recipient: String,
    /// Coins moved.
    pub amount: u64,
    /// Set by a relaying node or a client that wants safe retries.
    pub timestamp: Option<u64>,
    /// Optional; must match the fields when given (requires `timestamp`).
    pub id: Option<TxId>,
    /// The sender key's LMS signature over `genesis hash ‖ id`: required exactly when the
    /// sender is a key address (SPEC §3a).
    pub signature: Option<Signature>,
}

/// The `GET /wallet` answer (SPEC §5), in its field order.
#[derive(Clone, Debug, Serialize)]
pub struct WalletInfo {
    /// The active key address: the default `--miner`, the sender of node-signed payments.
    pub address: String,
    /// Its balance on the chain.
    pub balance: u64,
    /// Leaves of the active key already used.
    pub leaves_used: u64,
    /// Payments it can still sign (its last leaf is kept for rotation).
    pub leaves_left: u64,
    /// Its tree height.
    pub height: u32,
    /// Earlier key addresses, oldest first.
    pub retired: Vec<String>,
    /// Present when few leaves are left: rotate soon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A block `/mine` made, with the search figures.
#[derive(Clone, Debug)]
pub struct Mined {
    /// The appended block.
    pub block: Block,
    /// Nonces tried, time taken.
    pub search: Found,
}

/// A consistent copy of what `/inv` reports.
#[derive(Clone, Debug)]
pub struct Inventory {
    /// Chain length.
    pub length: u64,
    /// Tip hash.
    pub tip: BlockHash,
    /// Genesis hash.
    pub genesis: BlockHash,
    /// Network difficulty.
    pub difficulty: u32,
    /// Index of the first locator hash found on our chain, 0 if none.
    pub fork_index: u64,
    /// Block hashes after the fork (or from genesis).
    pub blocks: Vec<BlockHash>,
    /// Ids of every pooled transaction.
    pub transactions: Vec<TxId>,
}

/// What a chain switch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Adoption {
    /// The branch was valid and longer; we switched.
    Adopted { blocks: usize, length: u64 },
    /// By the time the branch arrived, our chain was as long or longer.
    NotLonger { ours: u64, theirs: u64 },
    /// Our block at the fork changed meanwhile; ask again.
    ForkMoved,
    /// The branch breaks a rule.
    Invalid(BlockError),
}

/// Milliseconds since the Unix epoch, the unit of every timestamp.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

impl Node {
    /// Opens (and locks) the data directory, checks everything in it, and builds the node.
    /// `miner` defaults to the node's URL; `new_node_id` is used for a new directory only.
    pub fn start(
        store_dir: &std::path::Path,
        difficulty: u32,
        reward: u64,
        identity: impl FnOnce(String) -> Identity,
        client: PeerClient,
    ) -> Result<Node, StartError> {
        let (store, loaded) = Store::open(store_dir, difficulty, reward, new_node_id)?;
        let Loaded {
            node_id,
            blocks,
            pool,
            mut pool_log,
            peers,
        } = loaded;
        let identity = identity(node_id);

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
            return Err(StartError::InvalidEntry {
                file: store
                    .dir()
                    .join(crate::store::pool_log::BASE_FILE)
                    .display()
                    .to_string(),
                reason: format!("pending transaction {}: {error}", tx.id),
            });
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
                return Err(StartError::InvalidEntry {
                    file: store
                        .dir()
                        .join(crate::store::pool_log::BASE_FILE)
                        .display()
                        .to_string(),
                    reason: error.to_string(),
                });
            }
        }
        if rebuilt.len() != stored_pool_len || pool_log.needs_compaction() {
            pool_log.compact(rebuilt.transactions())?;
        }

        let peers_file = store.dir().join("peers.db").display().to_string();
        for peer in &peers {
            match normalize_peer(peer) {
                Ok(normal) if &normal == peer => {}
                _ => {
                    return Err(StartError::InvalidEntry {
                        file: peers_file,
                        reason: format!("{peer:?} is not a peer address"),
                    });
                }
            }
        }

        info!(
            "loaded {} blocks, {} pending transactions and {} peers from {}",
            chain.len(),
            rebuilt.len(),
            peers.len(),
            store.dir().display()
        );
        let dir = store.dir().to_path_buf();
        let node = Node {
            shared: Arc::new(Shared {
                identity,
                client,
                listener: OnceLock::new(),
                state: Mutex::new(State {
                    chain,
                    pool: rebuilt,
                    peers,
                    store,
                    tip_moved: Arc::default(),
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

    /// Who this node's next coinbase pays: `--miner`, else the wallet's active key.
    pub fn miner(&self) -> String {
        match &self.identity().miner {
            Some(miner) => miner.clone(),
            None => self.wallet().address().to_string(),
        }
    }

    fn wallet(&self) -> MutexGuard<'_, NodeWallet> {
        self.shared
            .wallet
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `GET /wallet`: the node's key, its balance and what it has left.
    pub fn wallet_info(&self) -> WalletInfo {
        let wallet = self.wallet();
        let address = wallet.address().to_string();
        let balance = self.balance(&address);
        WalletInfo {
            address,
            balance,
            leaves_used: wallet.leaves_used(),
            leaves_left: wallet.leaves_left(),
            height: wallet.height(),
            retired: wallet.retired(),
            warning: wallet.warning(),
        }
    }

    /// `POST /wallet/rotate`: a fresh key becomes active; the old key's reserved last leaf
    /// moves everything it can spend (chain and pool) to it. Returns the sweep, if any.
    pub fn rotate_wallet(&self) -> Result<Option<Transaction>, NodeError> {
        let sweep = {
            let mut wallet = self.wallet();
            let address = wallet.address().to_string();
            let (genesis, spendable) = {
                let state = self.lock();
                let spendable = state.pool.balance(state.chain.ledger(), &address);
                (state.chain.genesis().hash, spendable.max(0) as u64)
            };
            let sweep =
                wallet
                    .rotate(&genesis, spendable, now_ms())
                    .map_err(|error| match error {
                        WalletError::Store(error) => NodeError::Storage(error),
                        other => NodeError::Wallet(other.to_string()),
                    })?;
            info!(
                "wallet rotated: new key {}…, old key {}… retired",
                &wallet.address()[..16],
                &address[..16]
            );
            sweep
        };
        if let Some(tx) = &sweep {
            self.add_transaction(NewTransaction {
                sender: tx.sender.clone(),
                recipient: tx.recipient.clone(),
                amount: tx.amount,
                timestamp: Some(tx.timestamp),
                id: Some(tx.id),
                signature: tx.signature.clone(),
            })?;
        }
        Ok(sweep)
    }

    /// Signs `request` with the node's key when it names no sender (or the node's own
    /// key address) and carries no signature; otherwise returns it as it is. Refuses
    /// before using a leaf what would be refused anyway (malformed, overspend).
    fn signed_by_wallet(&self, request: NewTransaction) -> Result<NewTransaction, NodeError> {
        if request.signature.is_some() {
            return Ok(request);
        }
        let mut wallet = self.wallet();
        if !request.sender.is_empty() && request.sender != wallet.address() {
            return Ok(request);
        }
        let address = wallet.address().to_string();
        let draft = Transaction::new(&address, &request.recipient, request.amount, 0);
        draft
            .check(false)
            .map_err(|error| NodeError::BadRequest(error.to_string()))?;
        let genesis = {
            let state = self.lock();
            let spendable = state.pool.balance(state.chain.ledger(), &address);
            if spendable < i128::from(request.amount) {
                return Err(NodeError::BadRequest(format!(
                    "the node's wallet ({address}) has {} coins (counting pending transactions) and cannot send {}; mine a block to earn some",
                    spendable.max(0),
                    request.amount
                )));
            }
            state.chain.genesis().hash
        };
        let now = request.timestamp.unwrap_or_else(now_ms);
        let tx = wallet
            .sign_payment(&genesis, &request.recipient, request.amount, now)
            .map_err(|error| match error {
                WalletError::Exhausted { .. } => NodeError::BadRequest(error.to_string()),
                WalletError::Store(error) => NodeError::Storage(error),
                other => NodeError::Wallet(other.to_string()),
            })?;
        if let Some(warning) = wallet.warning() {
            warn!("{warning}");
        }
        Ok(NewTransaction {
            sender: tx.sender,
            recipient: tx.recipient,
            amount: tx.amount,
            timestamp: Some(tx.timestamp),
            id: Some(tx.id),
            signature: tx.signature,
        })
    }

    /// How this node calls peers.
    pub fn client(&self) -> PeerClient {
        self.shared.client
    }

    /// Sets the listener told of new tips and pooled transactions (once, at start).
    pub fn attach_listener(&self, listener: Arc<dyn Listener>) {
        let _ = self.shared.listener.set(listener);
    }

    /// The attached listener, if any.
    pub fn listener(&self) -> Option<&Arc<dyn Listener>> {
        self.shared.listener.get()
    }

    /// Tells the listener that `transaction` entered the pool, sent by peer `from`.
    pub fn notify_pooled(&self, transaction: &Transaction, from: Option<&str>) {
        if let Some(listener) = self.listener() {
            listener.pooled(self, std::slice::from_ref(transaction), from);
        }
    }

    fn notify_tip_changed(&self) {
        if let Some(listener) = self.listener() {
            listener.tip_changed(self);
        }
    }

    /// Resets the chain to genesis and empties the pool; peers stay.
    pub fn restart(&self) -> Result<u64, NodeError> {
        let mut state = self.lock();
        let mut log = self.shared.ingest.flush(&mut state);
        state.store.replace_chain(2, &[], &[])?;
        log.log.logs_folded_into_base();
        state.chain.reset();
        state.pool = Pool::default();
        state.tip_changed();
        info!("restarted: chain reset to genesis, pool emptied");
        Ok(state.chain.len())
    }

    /// Admits a transaction to the pool and stores it; returns it with the index of the
    /// block it should land in.
    pub fn add_transaction(
        &self,
        request: NewTransaction,
    ) -> Result<(Transaction, u64), NodeError> {
        if request.id.is_some() && request.timestamp.is_none() {
            return Err(NodeError::BadRequest(
                "an id needs its timestamp: send both, or neither".into(),
            ));
        }
        let request = self.signed_by_wallet(request)?;
        let mut state = self.lock();
        let timestamp = match request.timestamp {
            Some(timestamp) => timestamp,
            None => {
                // Move forward a millisecond at a time until the id is new.
                let mut timestamp = now_ms();
                while state.knows_transaction(&Transaction::compute_id(
                    &request.sender,
                    &request.recipient,
                    request.amount,
                    timestamp,
                )) {
                    timestamp += 1;
                }
                timestamp
            }
        };
        let mut tx = Transaction::new(
            &request.sender,
            &request.recipient,
            request.amount,
            timestamp,
        );
        tx.signature = request.signature.clone();
        if let Some(claimed) = request.id
            && claimed != tx.id
        {
            return Err(NodeError::BadRequest(format!(
                "id {claimed} does not match the transaction's fields (their hash is {}); leave id out to have it computed",
                tx.id
            )));
        }
        let State { chain, pool, .. } = &mut *state;
        let genesis = chain.genesis().hash;
        pool.admit_within(
            chain.ledger(),
            tx.clone(),
            self.identity().pool_max,
            &genesis,
        )
        .map_err(|error| match error {
            PoolError::Duplicate { .. } => NodeError::Duplicate(error.to_string()),
            other => NodeError::BadRequest(other.to_string()),
        })?;
        let index = chain.len() + 1;
        // Durable (or rolled back) by the group commit, without the chain mutex.
        let ticket = self.shared.ingest.enqueue(tx.clone());
        drop(state);
        ticket.wait()?;
        debug!("pooled transaction {}", tx.id);
        Ok((tx, index))
    }

    /// Mines the pool into a new block: coinbase first, then the pool in arrival order.
    /// The search runs without the lock; if the tip moves meanwhile it is cancelled at once
    /// (and if the pool changed, noticed at commit), and it starts over on the new tip. The
    /// figures returned cover every search made.
    pub fn mine(&self) -> Result<Mined, NodeError> {
        let miner = self.miner();
        let mut attempts = 0u64;
        let mut elapsed = Duration::ZERO;
        loop {
            let (parent, transactions, difficulty, reward, tip_moved) = {
                let state = self.lock();
                (
                    state.chain.tip().clone(),
                    state.pool.transactions().to_vec(),
                    state.chain.difficulty(),
                    state.chain.reward(),
                    Arc::clone(&state.tip_moved),
                )
            };
            let timestamp = now_ms().max(parent.timestamp + 1);
            let mut block_transactions = Vec::with_capacity(transactions.len() + 1);
            block_transactions.push(Transaction::coinbase(&miner, reward, timestamp));
            block_transactions.extend(transactions.iter().cloned());
            let mut header = Header {
                index: parent.index + 1,
                timestamp,
                previous_hash: parent.hash,
                merkle_root: merkle_root_of(&block_transactions),
                difficulty,
                proof: 0,
            };
            info!(
                "searching for a proof for block {} at difficulty {difficulty}",
                header.index
            );
            let searched = pow::search_counted(&header, self.identity().threads, &tip_moved);
            attempts += searched.attempts;
            elapsed += searched.elapsed;
            let Some(found) = searched.found else {
                info!(
                    "the tip moved while mining block {}; search stopped, mining again on the new tip",
                    header.index
                );
                continue;
            };
            let found = Found {
                attempts,
                elapsed,
                ..found
            };
            header.proof = found.proof;
            let block = Block::from_header(header, block_transactions);

            let mut state = self.lock();
            // Every pooled transaction durable and answered before the block is written
            // (see `ingest`): a failed batch may take some out of the pool here.
            let mut log = self.shared.ingest.flush(&mut state);
            let pool_unchanged = state
                .pool
                .transactions()
                .get(..transactions.len())
                .is_some_and(|prefix| prefix == transactions.as_slice());
            if state.chain.tip().hash != parent.hash || !pool_unchanged {
                info!(
                    "the tip or pool changed while mining block {}; mining again on the new tip",
                    block.index
                );
                continue;
            }
            let State {
                chain, pool, store, ..
            } = &mut *state;
            // Can only fail in corner cases (a balance past u64, the clock stepped back
            // behind a tip stamped in the future); then nothing is appended.
            chain.check_next(&block, now_ms()).map_err(|error| {
                NodeError::Unmineable(format!("the mined block is not valid: {error}"))
            })?;
            store.append_block(&block)?;
            chain.push_checked(block.clone());
            let remaining = pool.transactions()[transactions.len()..].to_vec();
            let (rebuilt, dropped) = Pool::rebuild(chain.ledger(), remaining);
            for (tx, reason) in dropped {
                warn!(
                    "dropped pending transaction {} after mining: {reason}",
                    tx.id
                );
            }
            *pool = rebuilt;
            if let Err(error) = log.log.compact(pool.transactions()) {
                // The block is durable; on restart the pool files' mined entries are dropped.
                warn!("could not rewrite the pool after mining: {error}");
            }
            state.tip_changed();
            info!(
                "mined block {} ({}) with {} transactions: {} attempts in {} ms",
                block.index,
                block.hash,
                block.transactions.len(),
                found.attempts,
                found.elapsed.as_millis()
            );
            // Both guards go before the listener runs: it may take the chain lock.
            drop(log);
            drop(state);
            self.notify_tip_changed();
            return Ok(Mined {
                block,
                search: found,
            });
        }
    }

    /// The whole chain, and its length.
    pub fn chain(&self) -> (Vec<Block>, u64) {
        let state = self.lock();
        (state.chain.blocks().to_vec(), state.chain.len())
    }

    /// Blocks with index ≥ `from`, at most `limit`, and the full length.
    pub fn chain_page(&self, from: u64, limit: usize) -> (Vec<Block>, u64) {
        let state = self.lock();
        (state.chain.page(from, limit).to_vec(), state.chain.len())
    }

    /// Pending transactions, oldest first.
    pub fn pool(&self) -> Vec<Transaction> {
        self.lock().pool.transactions().to_vec()
    }

    /// Every address's non-zero balance on the chain.
    pub fn balances(&self) -> BTreeMap<String, u64> {
        self.lock().chain.ledger().balances()
    }

    /// One address's balance on the chain (0 when unknown).
    pub fn balance(&self, address: &str) -> u64 {
        self.lock().chain.ledger().balance(address)
    }

    /// The highest leaf key address `address` has used in the chain or the pool (what a
    /// wallet must sign above), if any.
    pub fn last_leaf(&self, address: &str) -> Option<u32> {
        let state = self.lock();
        state.pool.last_leaf(state.chain.ledger(), address)
    }

    /// Chain length and tip hash.
    pub fn tip(&self) -> (u64, BlockHash) {
        let state = self.lock();
        (state.chain.len(), state.chain.tip().hash)
    }

    /// Our locator (SPEC §6), for asking a peer where our chains part.
    pub fn locator(&self) -> Vec<BlockHash> {
        self.lock().chain.locator()
    }

    /// Of a peer's inventory, the block hashes not on our chain and the transaction ids
    /// neither in our pool nor in our chain (one consistent look, one lock).
    pub fn lacking(&self, inventory: &[InvItem]) -> (Vec<BlockHash>, Vec<TxId>) {
        let state = self.lock();
        let mut blocks = Vec::new();
        let mut transactions = Vec::new();
        for item in inventory {
            match item {
                InvItem::Block(hash) if state.chain.index_of(hash).is_none() => blocks.push(*hash),
                InvItem::Transaction(id) if !state.knows_transaction(id) => transactions.push(*id),
                _ => {}
            }
        }
        (blocks, transactions)
    }

    /// The index of a block on our chain.
    pub fn index_of(&self, hash: &BlockHash) -> Option<u64> {
        self.lock().chain.index_of(hash)
    }

    /// Our genesis hash and difficulty: what defines our network.
    pub fn network(&self) -> (BlockHash, u32) {
        let state = self.lock();
        (state.chain.genesis().hash, state.chain.difficulty())
    }

    /// Our inventory after the first locator hash on our chain (or from genesis).
    pub fn inventory(&self, locator: &[BlockHash], limit: usize) -> Inventory {
        let state = self.lock();
        let chain = &state.chain;
        let fork_index = chain.fork_point(locator).unwrap_or(0);
        let from = if fork_index == 0 { 1 } else { fork_index + 1 };
        Inventory {
            length: chain.len(),
            tip: chain.tip().hash,
            genesis: chain.genesis().hash,
            difficulty: chain.difficulty(),
            fork_index,
            blocks: chain.page(from, limit).iter().map(|b| b.hash).collect(),
            transactions: state.pool.transactions().iter().map(|tx| tx.id).collect(),
        }
    }

    /// Registered peers.
    pub fn peers(&self) -> Vec<String> {
        self.lock().peers.clone()
    }

    /// Registers peers, all or nothing; returns the whole list.
    pub fn register_peers(&self, addresses: &[String]) -> Result<Vec<String>, NodeError> {
        let normalised = self.normalise_all(addresses)?;
        let mut state = self.lock();
        let mut peers = state.peers.clone();
        for peer in normalised {
            if !peers.contains(&peer) {
                peers.push(peer);
            }
        }
        if peers.len() > MAX_PEERS {
            return Err(NodeError::BadRequest(format!(
                "a node keeps at most {MAX_PEERS} peers; {} are registered, this would make {}; forget some first (DELETE /nodes/register)",
                state.peers.len(),
                peers.len()
            )));
        }
        if peers != state.peers {
            state.store.save_peers(&peers)?;
            info!("peers are now {peers:?}");
            state.peers = peers;
        }
        Ok(state.peers.clone())
    }

    /// Forgets peers, all or nothing: an address that is not registered is a 404.
    pub fn unregister_peers(&self, addresses: &[String]) -> Result<Vec<String>, NodeError> {
        let mut normalised = Vec::new();
        for address in addresses {
            normalised.push(
                normalize_peer(address)
                    .map_err(|error| NodeError::BadRequest(error.to_string()))?,
            );
        }
        let mut state = self.lock();
        if let Some(missing) = normalised.iter().find(|peer| !state.peers.contains(peer)) {
            return Err(NodeError::NotFound(format!(
                "{missing} is not a registered peer; GET /nodes/register lists them"
            )));
        }
        let peers: Vec<String> = state
            .peers
            .iter()
            .filter(|peer| !normalised.contains(peer))
            .cloned()
            .collect();
        state.store.save_peers(&peers)?;
        info!("peers are now {peers:?}");
        state.peers = peers;
        Ok(state.peers.clone())
    }

    /// Switches to a peer's branch after our block at `fork_index` (which must still be
    /// `fork_hash`) if it is valid and longer than our chain is now. Persists the new chain
    /// and pool before returning; transactions of the blocks cut away go back to the pool
    /// where still valid.
    pub fn adopt_branch(
        &self,
        fork_index: u64,
        fork_hash: BlockHash,
        branch: Vec<Block>,
    ) -> Result<Adoption, NodeError> {
        let mut state = self.lock();
        let mut log = self.shared.ingest.flush(&mut state);
        let State {
            chain, pool, store, ..
        } = &mut *state;
        if chain.block(fork_index).map(|b| b.hash) != Some(fork_hash) {
            return Ok(Adoption::ForkMoved);
        }
        let theirs = fork_index + branch.len() as u64;
        if theirs <= chain.len() {
            return Ok(Adoption::NotLonger {
                ours: chain.len(),
                theirs,
            });
        }
        let adopted = branch.len();
        let cut = match chain.switch_to_branch(fork_index, branch, now_ms()) {
            Ok(cut) => cut,
            Err(error) => return Ok(Adoption::Invalid(error)),
        };
        let candidates: Vec<Transaction> = cut
            .iter()
            .flat_map(|block| block.transactions.iter().skip(1).cloned())
            .chain(pool.transactions().iter().cloned())
            .collect();
        let (new_pool, dropped) = Pool::rebuild(chain.ledger(), candidates);
        let branch = &chain.blocks()[fork_index as usize..];
        if let Err(error) = store.replace_chain(fork_index + 1, branch, new_pool.transactions()) {
            chain
                .switch_to_branch(fork_index, cut, u64::MAX)
                .expect("our previous blocks were valid");
            return Err(error.into());
        }
        log.log.logs_folded_into_base();
        for (tx, reason) in dropped {
            if !matches!(
                reason,
                PoolError::Duplicate {
                    in_block: Some(_),
                    ..
                }
            ) {
                info!(
                    "dropped pending transaction {} after the chain switch: {reason}",
                    tx.id
                );
            }
        }
        let returned: Vec<Transaction> = cut
            .iter()
            .flat_map(|block| block.transactions.iter().skip(1))
            .filter(|tx| new_pool.contains(chain.ledger(), &tx.id))
            .cloned()
            .collect();
        *pool = new_pool;
        let length = chain.len();
        state.tip_changed();
        // Both guards go before the listener runs: it may take the chain lock.
        drop(log);
        drop(state);
        self.notify_tip_changed();
        if let Some(listener) = self.listener().filter(|_| !returned.is_empty()) {
            listener.pooled(self, &returned, None);
        }
        Ok(Adoption::Adopted {
            blocks: adopted,
            length,
        })
    }

    /// Normalises addresses, refusing our own and any malformed one (all or nothing).
    fn normalise_all(&self, addresses: &[String]) -> Result<Vec<String>, NodeError> {
        let identity = self.identity();
        let mut normalised = Vec::new();
        for address in addresses {
            let peer = normalize_peer(address)
                .map_err(|error| NodeError::BadRequest(error.to_string()))?;
            if is_own_address(&peer, &identity.bound_host, identity.port) || peer == identity.url {
                return Err(NodeError::BadRequest(format!(
                    "peer address {address:?} is this node itself ({}); register other nodes",
                    identity.url
                )));
            }
            normalised.push(peer);
        }
        Ok(normalised)
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
