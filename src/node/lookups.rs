//! The look-ups of SPEC §5b, each one consistent look under the lock, none scanning the
//! chain: a payment's status and merkle proof (the chain's transaction index), headers,
//! and an address's history (the chain's address index, plus the pool).

use super::Node;
use crate::core::block::Transaction;
use crate::core::chain::Chain;
use crate::core::hash::{BlockHash, MerkleNode, TxId};
use crate::core::merkle;
use crate::wire::lookup::{
    BlockRef, HeaderJson, HeadersAnswer, HistoryAnswer, HistoryItem, ProofAnswer,
    TransactionAnswer, TxStatus,
};

/// Why a payment's status or proof cannot be given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// Neither in the chain nor in the pool (404).
    Unknown(TxId),
    /// Only in the pool: no block, so no proof yet (409).
    OnlyPooled(TxId),
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupError::Unknown(id) => write!(
                f,
                "transaction {id} is neither in this node's chain nor in its pool; check the id, or ask the node you sent it to"
            ),
            LookupError::OnlyPooled(id) => write!(
                f,
                "transaction {id} is in the pool, not yet in a block, so there is no proof yet; mine a block (or wait for one) and ask again"
            ),
        }
    }
}

impl std::error::Error for LookupError {}

impl Node {
    /// Where payment `id` is: mined (with its block and confirmations) or pooled.
    pub fn transaction_status(&self, id: &TxId) -> Result<TransactionAnswer, LookupError> {
        let state = self.lock();
        let chain = &state.chain;
        if let Some(place) = chain.indexes().place_of(id) {
            let block = chain
                .block(place.block)
                .expect("the index names blocks of its chain");
            return Ok(TransactionAnswer {
                transaction: block.transactions[place.position].clone(),
                status: TxStatus::Mined,
                block: Some(BlockRef {
                    index: block.header.index,
                    hash: block.hash,
                }),
                confirmations: chain.len() - block.header.index + 1,
            });
        }
        state
            .pool
            .get(id)
            .map(|tx| TransactionAnswer {
                transaction: tx.clone(),
                status: TxStatus::Pooled,
                block: None,
                confirmations: 0,
            })
            .ok_or(LookupError::Unknown(*id))
    }

    /// The merkle branch of payment `id` to the header of the block holding it.
    pub fn transaction_proof(&self, id: &TxId) -> Result<ProofAnswer, LookupError> {
        let (transactions, position, header, confirmations) = {
            let state = self.lock();
            let chain = &state.chain;
            let Some(place) = chain.indexes().place_of(id) else {
                return Err(if state.pool.get(id).is_some() {
                    LookupError::OnlyPooled(*id)
                } else {
                    LookupError::Unknown(*id)
                });
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
                chain.len() - block.header.index + 1,
            )
        };
        let leaves: Vec<[u8; 32]> = transactions.iter().map(Transaction::leaf_hash).collect();
        let branch = merkle::branch(&leaves, position).expect("the position is in its block");
        let transaction = transactions[position].clone();
        Ok(ProofAnswer {
            leaf: MerkleNode(leaves[position]),
            transaction,
            branch,
            header,
            confirmations,
        })
    }

    /// Headers of the blocks with index ≥ `from`, at most `limit`, and the length.
    pub fn headers(&self, from: u64, limit: usize) -> HeadersAnswer {
        let state = self.lock();
        headers_page(&state.chain, from, limit)
    }

    /// Headers after the first locator hash on our chain (from genesis when none is),
    /// at most `limit`: what a light client that holds some headers lacks.
    pub fn headers_after(&self, locator: &[BlockHash], limit: usize) -> HeadersAnswer {
        let state = self.lock();
        let from = state.chain.fork_point(locator).map_or(1, |fork| fork + 1);
        headers_page(&state.chain, from, limit)
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
                    Some(block.header.index),
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

/// Headers of `chain`'s blocks with index ≥ `from`, at most `limit`, and its length: the
/// answer of `/headers` however its first index was found.
fn headers_page(chain: &Chain, from: u64, limit: usize) -> HeadersAnswer {
    HeadersAnswer {
        headers: chain.page(from, limit).iter().map(HeaderJson::of).collect(),
        length: chain.len(),
    }
}
