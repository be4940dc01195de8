//! Mining the pool into a new block (`/mine`): [`Mined`] and `Node::mine`.

use super::commit::{Change, CommitError, Committed};
use super::{Node, NodeError, now_ms};
use crate::core::block::{Block, Header, Transaction};
use crate::core::chain::MAX_BLOCK_TRANSACTIONS;
use crate::core::pow::{self, Found};
use log::{debug, info};
use std::sync::Arc;
use std::time::Duration;

/// A block `/mine` made, with the search figures.
#[derive(Clone, Debug)]
pub struct Mined {
    /// The appended block.
    pub block: Block,
    /// Nonces tried, time taken.
    pub search: Found,
}

impl Node {
    /// Mines the pool into a new block: coinbase first, then the pool in arrival order, at
    /// most [`MAX_BLOCK_TRANSACTIONS`] in all (the rest wait for the next block).
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
                    // The first in arrival order, as many as fit beside the coinbase.
                    state.pool.transactions()[..state.pool.len().min(MAX_BLOCK_TRANSACTIONS - 1)]
                        .to_vec(),
                    state.chain.difficulty(),
                    state.chain.reward(),
                    Arc::clone(&state.tip_moved),
                )
            };
            let timestamp = now_ms().max(parent.header.timestamp + 1);
            let mut block_transactions = Vec::with_capacity(transactions.len() + 1);
            block_transactions.push(Transaction::coinbase(&miner, reward, timestamp));
            block_transactions.extend(transactions.iter().cloned());
            let mut header = Header::child_of(&parent, timestamp, &block_transactions, difficulty);
            debug!(
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

            let index = block.header.index;
            let transactions_in_block = block.transactions.len();
            let hash = block.hash;
            match self.commit(Change::Append {
                block: block.clone(),
                taken: transactions,
            }) {
                Ok(Committed::Done { .. }) => {}
                Ok(Committed::Stale(_)) => {
                    debug!(
                        "the tip or pool changed while mining block {index}; mining again on the new tip"
                    );
                    continue;
                }
                // Only in corner cases (a balance past u64, the clock stepped back behind a
                // tip stamped in the future); then nothing is appended.
                Err(CommitError::Invalid(error)) => return Err(NodeError::Unmineable(error)),
                Err(CommitError::Store(error)) => return Err(error.into()),
            }
            info!(
                "mined block {index} ({hash}) with {transactions_in_block} transaction{}: {} attempts in {} ms",
                if transactions_in_block == 1 { "" } else { "s" },
                found.attempts,
                found.elapsed.as_millis()
            );
            return Ok(Mined {
                block,
                search: found,
            });
        }
    }
}
