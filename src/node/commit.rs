//! The one way the chain changes ([`Node::commit`]): mining appends a block, adoption
//! switches to a peer's branch, `/restart` goes back to genesis. Each goes through the
//! same steps, in the same order:
//!
//! 1. take the lock, and flush the admitted transactions (`ingest`), so the pool on disk
//!    is the pool in memory;
//! 2. check that the change still applies (the tip, the fork, the pool did not move
//!    while the caller worked unlocked) and that it is valid — nothing changed yet;
//! 3. make it durable and apply it, rebuilding the pool on the new tip: a block is
//!    written before it is appended; a switch is applied first (the pool it leaves
//!    depends on the new tip, and goes into the same journal), and undone if the disk
//!    refuses — an undo that cannot fail, so nothing here panics with the lock held and
//!    memory never disagrees with the disk;
//! 4. cancel the nonce searches on the old tip, release the lock, tell the listener.

use super::{Node, State, now_ms, orphans};
use crate::core::block::{Block, Transaction};
use crate::core::chain::{BlockError, Chain};
use crate::core::hash::BlockHash;
use crate::core::pool::{Pool, PoolError};
use crate::store::StoreError;
use log::{info, warn};

/// A change to the chain, as the caller prepared it without the lock.
pub(super) enum Change {
    /// A mined block on our tip, holding (after its coinbase) `taken`, the pool's first
    /// transactions when the search started.
    Append {
        block: Block,
        taken: Vec<Transaction>,
    },
    /// A peer's branch after our block `fork_index`, which must still be `fork_hash`;
    /// taken only if longer than our chain is then. `from` names the peer for the log.
    Switch {
        fork_index: u64,
        fork_hash: BlockHash,
        branch: Vec<Block>,
        from: String,
    },
    /// Back to genesis with an empty pool (`/restart`).
    Reset,
}

/// What a commit did.
pub(super) enum Committed {
    /// The change is durable and applied; the chain is now this long.
    Done { length: u64 },
    /// The chain moved while the caller prepared the change; nothing was done.
    Stale(Stale),
}

/// Why a prepared change no longer applies.
pub(super) enum Stale {
    /// A mined block's parent is no longer the tip, or the pool's first transactions
    /// changed: mine again on the new tip.
    TipOrPoolMoved,
    /// Our block at the fork changed: ask the peer again.
    ForkMoved,
    /// The branch is not longer than our chain is now.
    NotLonger { ours: u64, theirs: u64 },
}

/// Why a change was refused.
#[derive(Debug)]
pub(super) enum CommitError {
    /// It breaks a rule of SPEC §4; nothing changed.
    Invalid(BlockError),
    /// The disk refused it; nothing changed (and nothing was acknowledged).
    Store(StoreError),
}

impl From<StoreError> for CommitError {
    fn from(error: StoreError) -> CommitError {
        CommitError::Store(error)
    }
}

impl Change {
    /// Why the change no longer applies to `state`, if it does not.
    fn stale(&self, chain: &Chain, pool: &Pool) -> Option<Stale> {
        match self {
            Change::Append { block, taken } => {
                let pool_unchanged = pool
                    .transactions()
                    .get(..taken.len())
                    .is_some_and(|prefix| prefix == taken.as_slice());
                (chain.tip().hash != block.header.previous_hash || !pool_unchanged)
                    .then_some(Stale::TipOrPoolMoved)
            }
            Change::Switch {
                fork_index,
                fork_hash,
                branch,
                ..
            } => {
                if chain.block(*fork_index).map(|block| block.hash) != Some(*fork_hash) {
                    return Some(Stale::ForkMoved);
                }
                let theirs = fork_index + branch.len() as u64;
                (theirs <= chain.len()).then_some(Stale::NotLonger {
                    ours: chain.len(),
                    theirs,
                })
            }
            Change::Reset => None,
        }
    }

    /// Whether peers should hear of the new tip (a restart's genesis is news to nobody).
    fn announced(&self) -> bool {
        !matches!(self, Change::Reset)
    }
}

impl Node {
    /// Commits `change` (see the module's steps). On `Done`, the change is durable, the
    /// pool rebuilt on the new tip, and the listener told of the tip and of transactions
    /// a switch returned to the pool.
    pub(super) fn commit(&self, change: Change) -> Result<Committed, CommitError> {
        // The wallet before the chain (lock order): which cut blocks were ours, for the log.
        let ours = match change {
            Change::Switch { .. } => self.coinbase_addresses(),
            _ => Vec::new(),
        };
        let announced = change.announced();
        let mut state = self.lock();
        let mut log = self.shared.ingest.flush(&mut state);
        let State {
            chain, pool, store, ..
        } = &mut *state;
        if let Some(stale) = change.stale(chain, pool) {
            return Ok(Committed::Stale(stale));
        }
        let now = now_ms();
        let returned = match change {
            Change::Append { block, taken } => {
                chain
                    .check_next(&block, now)
                    .map_err(CommitError::Invalid)?;
                store.append_block(&block)?;
                chain.push_checked(block);
                let remaining = pool.transactions()[taken.len()..].to_vec();
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
                Vec::new()
            }
            Change::Switch {
                fork_index,
                branch,
                from,
                ..
            } => {
                chain
                    .check_branch(fork_index, &branch, now)
                    .map_err(CommitError::Invalid)?;
                let adopted = branch.len();
                let cut = chain.switch_checked(fork_index, branch);
                let candidates: Vec<Transaction> =
                    payments(&cut).chain(pool.transactions()).cloned().collect();
                let (new_pool, dropped) = Pool::rebuild(chain.ledger(), candidates);
                let written = store.replace_chain(
                    fork_index + 1,
                    &chain.blocks()[fork_index as usize..],
                    new_pool.transactions(),
                );
                if let Err(error) = written {
                    chain.switch_checked(fork_index, cut);
                    return Err(error.into());
                }
                log.log.logs_folded_into_base();
                orphans::log_switch(&from, fork_index, adopted, &cut, chain, &new_pool, &ours);
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
                let returned: Vec<Transaction> = payments(&cut)
                    .filter(|tx| new_pool.contains(chain.ledger(), &tx.id))
                    .cloned()
                    .collect();
                *pool = new_pool;
                returned
            }
            Change::Reset => {
                store.replace_chain(2, &[], &[])?;
                log.log.logs_folded_into_base();
                chain.reset();
                *pool = Pool::default();
                info!("restarted: chain reset to genesis, pool emptied");
                Vec::new()
            }
        };
        let length = chain.len();
        state.tip_changed();
        // Both guards go before the listener runs: it may take the chain lock.
        drop(log);
        drop(state);
        if announced {
            self.notify_tip_changed();
        }
        if let Some(listener) = self.listener().filter(|_| !returned.is_empty()) {
            listener.pooled(self, &returned, None);
        }
        Ok(Committed::Done { length })
    }
}

/// The payments (every transaction but the coinbase) of `blocks`, in order.
fn payments(blocks: &[Block]) -> impl Iterator<Item = &Transaction> {
    blocks
        .iter()
        .flat_map(|block| block.transactions.iter().skip(1))
}
