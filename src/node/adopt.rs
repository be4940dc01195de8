//! Replacing the chain: switching to a peer's longer branch ([`Adoption`]), and the
//! restart to genesis.

use super::commit::{Change, CommitError, Committed, Stale};
use super::{Node, NodeError};
use crate::core::block::Block;
use crate::core::chain::BlockError;
use crate::core::hash::BlockHash;

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
        let adopted = branch.len();
        let change = Change::Switch {
            fork_index,
            fork_hash,
            branch,
            from: from.to_string(),
        };
        match self.commit(change) {
            Ok(Committed::Done { length }) => Ok(Adoption::Adopted {
                blocks: adopted,
                length,
            }),
            Ok(Committed::Stale(Stale::NotLonger { ours, theirs })) => {
                Ok(Adoption::NotLonger { ours, theirs })
            }
            Ok(Committed::Stale(_)) => Ok(Adoption::ForkMoved),
            Err(CommitError::Invalid(error)) => Ok(Adoption::Invalid(error)),
            Err(CommitError::Store(error)) => Err(error.into()),
        }
    }

    /// Resets the chain to genesis and empties the pool; peers stay.
    pub fn restart(&self) -> Result<u64, NodeError> {
        match self.commit(Change::Reset) {
            Ok(Committed::Done { length }) => Ok(length),
            Ok(Committed::Stale(_)) => unreachable!("a restart always applies"),
            Err(CommitError::Store(error)) => Err(error.into()),
            Err(CommitError::Invalid(error)) => unreachable!("genesis breaks no rule: {error}"),
        }
    }
}
