//! The look-ups of SPEC §5b, each one consistent look under the lock, none scanning the
//! chain: a payment's status and merkle proof (the chain's transaction index), headers,
//! and an address's history (the chain's address index, plus the pool).

use super::Node;
use crate::core::block::Transaction;
use crate::core::hash::{BlockHash, MerkleNode, TxId};
use crate::core::merkle;
use crate::wire::lookup::{
    BlockRef, HeaderJson, HeadersAnswer, HistoryAnswer, HistoryItem, ProofAnswer,
    TransactionAnswer, TxStatus,
};

/// What asking for a payment's proof finds.
#[derive(Clone, Debug)]
pub enum ProofLookup {
    /// Mined: the proof.
    Mined(Box<ProofAnswer>),
    /// Only in the pool: no block, no proof yet.
    Pooled,
    /// Neither in the chain nor in the pool.
    Unknown,
}

impl Node {
    /// Where payment `id` is: mined (with its block and confirmations), pooled, or
    /// `None` when this node holds it nowhere.
    pub fn transaction_status(&self, id: &TxId) -> Option<TransactionAnswer> {
        let state = self.lock();
        let chain = &state.chain;
        if let Some(place) = chain.indexes().place_of(id) {
            let block = chain
                .block(place.block)
                .expect("the index names blocks of its chain");
            return Some(TransactionAnswer {
                transaction: block.transactions[place.position].clone(),
                status: TxStatus::Mined,
                block: Some(BlockRef {
                    index: block.index,
                    hash: block.hash,
                }),
                confirmations: chain.len() - block.index + 1,
            });
        }
        state.pool.get(id).map(|tx| TransactionAnswer {
            transaction: tx.clone(),
            status: TxStatus::Pooled,
            block: None,
            confirmations: 0,
        })
    }

    /// The merkle branch of payment `id` to the header of the block holding it.
    pub fn transaction_proof(&self, id: &TxId) -> ProofLookup {
        let (transactions, position, header, confirmations) = {
            let state = self.lock();
            let chain = &state.chain;
            let Some(place) = chain.indexes().place_of(id) else {
                return if state.pool.get(id).is_some() {
                    ProofLookup::Pooled
                } else {
                    ProofLookup::Unknown
                };
            };
            let block = chain
                .block(place.block)
                .expect("the index names blocks of its chain");
            // Copied under the lock (a memory copy); the leaves and the tree are hashed
            // after it, so a block of 2,000 signed payments never holds the chain up.
            (
                block.transactions.clone(),
                place.position,
                HeaderJson::of(block),
                chain.len() - block.index + 1,
            )
        };
        let leaves: Vec<[u8; 32]> = transactions.iter().map(Transaction::leaf_hash).collect();
        let branch = merkle::branch(&leaves, position).expect("the position is in its block");
        let transaction = transactions[position].clone();
        ProofLookup::Mined(Box::new(ProofAnswer {
            leaf: MerkleNode(leaves[position]),
            transaction,
            branch,
            header,
            confirmations,
        }))
    }

    /// Headers of the blocks with index ≥ `from`, at most `limit`, and the length.
    pub fn headers(&self, from: u64, limit: usize) -> HeadersAnswer {
        let state = self.lock();
        HeadersAnswer {
            headers: state
                .chain
                .page(from, limit)
                .iter()
                .map(HeaderJson::of)
                .collect(),
            length: state.chain.len(),
        }
    }

    /// Headers after the first locator hash on our chain (from genesis when none is),
    /// at most `limit`: what a light client that holds some headers lacks.
    pub fn headers_after(&self, locator: &[BlockHash], limit: usize) -> HeadersAnswer {
        let state = self.lock();
        let from = state.chain.fork_point(locator).map_or(1, |fork| fork + 1);
        HeadersAnswer {
            headers: state
                .chain
                .page(from, limit)
                .iter()
                .map(HeaderJson::of)
                .collect(),
            length: state.chain.len(),
        }
    }

    /// A page of `address`'s payments, newest first. Without `before`: its pooled
    /// payments (newest first, at most `limit`), then mined ones in the room left; with
    /// `before`: mined payments in blocks before that index only. Pages hold whole blocks.
    pub fn history(&self, address: &str, before: Option<u64>, limit: usize) -> HistoryAnswer {
        let state = self.lock();
        let chain = &state.chain;
        let balance = chain.ledger().balance(address);
        let mut history = Vec::new();
        if before.is_none() {
            let mut running = balance;
            let mut pooled: Vec<HistoryItem> = state
                .pool
                .transactions()
                .iter()
                .filter_map(|tx| {
                    let amount = signed_amount(tx, address)?;
                    running = running.saturating_add_signed(amount);
                    Some(item(tx, None, amount, address, running))
                })
                .collect();
            pooled.reverse();
            pooled.truncate(limit);
            history = pooled;
        }
        let room = limit - history.len();
        let indexes = chain.indexes();
        let before = before.unwrap_or(u64::MAX);
        let next = if room == 0 {
            let older = indexes
                .history(address)
                .first()
                .is_some_and(|entry| entry.place.block < before);
            older.then_some(chain.len() + 1)
        } else {
            let (entries, next) = indexes.history_page(address, before, room);
            for entry in entries {
                let block = chain
                    .block(entry.place.block)
                    .expect("the index names blocks of its chain");
                let tx = &block.transactions[entry.place.position];
                history.push(item(
                    tx,
                    Some(block.index),
                    entry.amount,
                    address,
                    entry.balance_after,
                ));
            }
            next
        };
        HistoryAnswer {
            address: address.to_string(),
            balance,
            history,
            next,
        }
    }
}

/// What `tx` does to `address`'s balance, if it touches it.
fn signed_amount(tx: &Transaction, address: &str) -> Option<i64> {
    if tx.recipient == address {
        Some(tx.amount as i64)
    } else if tx.sender == address {
        Some(-(tx.amount as i64))
    } else {
        None
    }
}

fn item(
    tx: &Transaction,
    block: Option<u64>,
    amount: i64,
    address: &str,
    balance_after: u64,
) -> HistoryItem {
    let counterparty = if tx.recipient == address {
        &tx.sender
    } else {
        &tx.recipient
    };
    HistoryItem {
        id: tx.id,
        block,
        amount,
        counterparty: counterparty.clone(),
        balance_after,
    }
}
