//! Read-only views of the chain and pool, each one consistent look under the lock
//! (`/chain`, `/pool`, `/balances`, `/inv`).

use super::Node;
use crate::core::block::{Block, Transaction};
use crate::core::hash::{BlockHash, TxId};
use crate::wire::error::NetworkMismatch;
use crate::wire::protocol::{InvAnswer, InvItem};
use std::collections::BTreeMap;

impl Node {
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

    /// The transactions with these ids, each from the pool or the chain (`None` where this
    /// node holds none): what `/getdata` hands out and what rebuilds a compact block.
    pub fn transactions_by_id(&self, ids: &[TxId]) -> Vec<Option<Transaction>> {
        let state = self.lock();
        ids.iter()
            .map(|id| {
                if let Some(tx) = state.pool.get(id) {
                    return Some(tx.clone());
                }
                let block = state.chain.block(state.chain.ledger().block_of(id)?)?;
                block.transactions.iter().find(|tx| tx.id == *id).cloned()
            })
            .collect()
    }

    /// Which of these ids this node holds, in its pool or its chain (one look under the
    /// lock for a whole announcement).
    pub fn holds_transactions(&self, ids: &[TxId]) -> Vec<bool> {
        let state = self.lock();
        ids.iter()
            .map(|id| state.pool.get(id).is_some() || state.chain.ledger().block_of(id).is_some())
            .collect()
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

    /// Why a peer whose `/inv` answered `inv` is on another network (another genesis,
    /// difficulty or reward), if it is.
    pub fn other_network(&self, inv: &InvAnswer) -> Option<NetworkMismatch> {
        let (genesis, difficulty, reward) = {
            let state = self.lock();
            let chain = &state.chain;
            (chain.genesis().hash, chain.difficulty(), chain.reward())
        };
        if inv.difficulty != difficulty {
            return Some(NetworkMismatch::Difficulty {
                theirs: inv.difficulty,
                ours: difficulty,
            });
        }
        if inv.genesis != genesis {
            return Some(NetworkMismatch::Genesis {
                theirs: inv.genesis,
                ours: genesis,
            });
        }
        match inv.reward {
            Some(theirs) if theirs != reward => Some(NetworkMismatch::Reward {
                theirs,
                ours: reward,
            }),
            _ => None,
        }
    }

    /// Our `/inv` answer: the blocks after the first locator hash on our chain (or from
    /// genesis, at most `limit`), then every pooled id, in one consistent look.
    pub fn inventory(&self, locator: &[BlockHash], limit: usize) -> InvAnswer {
        let state = self.lock();
        let chain = &state.chain;
        let fork_index = chain.fork_point(locator).unwrap_or(0);
        let from = if fork_index == 0 { 1 } else { fork_index + 1 };
        let blocks = chain
            .page(from, limit)
            .iter()
            .map(|b| InvItem::Block(b.hash));
        let pooled = state.pool.transactions().iter();
        InvAnswer {
            node_id: self.identity().node_id.clone(),
            length: chain.len(),
            tip: chain.tip().hash,
            genesis: chain.genesis().hash,
            difficulty: chain.difficulty(),
            reward: Some(chain.reward()),
            fork_index,
            values: blocks
                .chain(pooled.map(|tx| InvItem::Transaction(tx.id)))
                .collect(),
        }
    }
}
