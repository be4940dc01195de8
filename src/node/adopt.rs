//! Replacing the chain: switching to a peer's longer branch ([`Adoption`]), and the
//! restart to genesis.

use super::{Node, NodeError, State, now_ms};
use crate::core::block::{Block, Transaction};
use crate::core::chain::BlockError;
use crate::core::hash::BlockHash;
use crate::core::pool::{Pool, PoolError};
use log::info;

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

impl Node {
    /// Switches to a peer's branch after our block at `fork_index` (which must still be
    /// `fork_hash`) if it is valid and longer than our chain is now. Persists the new chain
    /// and pool before returning; transactions of the blocks cut away go back to the pool
    /// where still valid. `from` (the peer it came from) is for the log, which names each
    /// cut block this node mined.
    pub fn adopt_branch(
        &self,
        fork_index: u64,
        fork_hash: BlockHash,
        branch: Vec<Block>,
        from: &str,
    ) -> Result<Adoption, NodeError> {
        // The wallet before the chain (lock order), to know which cut blocks were ours.
        let ours = self.coinbase_addresses();
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
        super::orphans::log_switch(from, fork_index, adopted, &cut, chain, &new_pool, &ours);
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
}
