//! The chain and its rules (SPEC §4): validate and append blocks, find a fork point from a
//! locator, check a peer's branch on top of our block at the fork, and switch to it.
//!
//! **Invariant:** no I/O — no HTTP, no disk, no clock. Callers pass `now`.

use crate::core::block::{Block, COINBASE_SENDER, TxError, genesis, merkle_root_of};
use crate::core::hash::{BlockHash, MerkleRoot};
use crate::core::index::Indexes;
use crate::core::ledger::{Changes, Ledger, LedgerError};
use crate::core::pow::{leading_zero_bits, meets_difficulty};
use crate::core::signed::SignatureError;
use std::collections::HashMap;
use std::fmt;

/// Most transactions in one block, its coinbase included (SPEC §4): it bounds what one
/// block costs every node to fetch, check and store, as Bitcoin's block weight limit does.
pub const MAX_BLOCK_TRANSACTIONS: usize = 2000;

/// How far ahead of the validating node's clock a block's timestamp may be: 2 hours.
pub const MAX_FUTURE_MS: u64 = 2 * 60 * 60 * 1000;

/// A valid chain from our genesis, with the ledger at its tip and a hash → index map.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The network's difficulty: every block, genesis included, carries it.
    difficulty: u32,
    /// Coins each coinbase must pay.
    reward: u64,
    /// `blocks[i]` has index `i + 1`; never empty (genesis first).
    blocks: Vec<Block>,
    /// Index of every block by hash, for locators and `/inv`.
    by_hash: HashMap<BlockHash, u64>,
    /// Balances and transaction ids at the tip.
    ledger: Ledger,
    /// Where each transaction is and each address's payments (SPEC §5b), kept by the
    /// same append, switch and reset as the blocks, so they never disagree.
    indexes: Indexes,
}

/// Which rule a block breaks, and where: shown to users as `block 7: <rule>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockError {
    /// The index the offending block claims (or should have).
    pub index: u64,
    /// The broken rule.
    pub rule: Rule,
}

/// The validity rules of SPEC §4, one variant per way a block can fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The index does not follow its parent's.
    WrongIndex { expected: u64, got: u64 },
    /// `previous_hash` is not the parent's hash.
    WrongParent { expected: BlockHash, got: BlockHash },
    /// The block's difficulty is not the network's.
    WrongDifficulty { expected: u32, got: u32 },
    /// The `hash` field is not the header's hash.
    WrongHash {
        claimed: BlockHash,
        computed: BlockHash,
    },
    /// The hash has too few leading zero bits.
    InsufficientWork { difficulty: u32, zero_bits: u32 },
    /// `merkle_root` does not match the transactions.
    WrongMerkleRoot {
        claimed: MerkleRoot,
        computed: MerkleRoot,
    },
    /// The timestamp is not later than the parent's.
    TimestampNotAfterParent { parent: u64, got: u64 },
    /// The timestamp is more than [`MAX_FUTURE_MS`] ahead of our clock.
    TimestampInFuture { now: u64, got: u64 },
    /// The block has no transactions, or the first is not from `"0"`.
    MissingCoinbase,
    /// More than [`MAX_BLOCK_TRANSACTIONS`] transactions.
    TooManyTransactions { count: usize },
    /// The coinbase pays another amount than the network's reward.
    WrongReward { expected: u64, got: u64 },
    /// The coinbase's timestamp is not the block's.
    CoinbaseTimestamp { expected: u64, got: u64 },
    /// A transaction after the first has sender `"0"`.
    ExtraCoinbase { position: usize },
    /// A transaction is malformed on its own.
    BadTransaction { position: usize, error: TxError },
    /// A transaction's signature is missing, misplaced or does not verify (SPEC §3a).
    BadSignature {
        position: usize,
        error: SignatureError,
    },
    /// A transaction does not fit the ledger (duplicate id, overspend, a reused leaf).
    Ledger { position: usize, error: LedgerError },
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {}: {}", self.index, self.rule)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::WrongIndex { expected, got } => {
                write!(f, "index is {got}, expected {expected}")
            }
            Rule::WrongParent { expected, got } => write!(
                f,
                "previous_hash {got} is not the hash of the block before ({expected})"
            ),
            Rule::WrongDifficulty { expected, got } => write!(
                f,
                "difficulty is {got}, but this network's difficulty is {expected}"
            ),
            Rule::WrongHash { claimed, computed } => {
                write!(f, "hash {claimed} is not the header's hash ({computed})")
            }
            Rule::InsufficientWork {
                difficulty,
                zero_bits,
            } => write!(
                f,
                "proof of work does not meet difficulty {difficulty} (the hash has {zero_bits} leading zero bits)"
            ),
            Rule::WrongMerkleRoot { claimed, computed } => write!(
                f,
                "merkle_root {claimed} does not match its transactions ({computed})"
            ),
            Rule::TimestampNotAfterParent { parent, got } => write!(
                f,
                "timestamp {got} is not later than the previous block's {parent}"
            ),
            Rule::TimestampInFuture { now, got } => write!(
                f,
                "timestamp {got} is more than 2 hours ahead of this node's clock ({now})"
            ),
            Rule::MissingCoinbase => write!(
                f,
                "the first transaction must be the coinbase (sender \"0\") paying the miner"
            ),
            Rule::TooManyTransactions { count } => write!(
                f,
                "it holds {count} transactions; a block holds at most {MAX_BLOCK_TRANSACTIONS}, its coinbase included"
            ),
            Rule::WrongReward { expected, got } => {
                write!(f, "coinbase pays {got}, but the reward is {expected}")
            }
            Rule::CoinbaseTimestamp { expected, got } => write!(
                f,
                "coinbase timestamp {got} differs from the block's timestamp {expected}"
            ),
            Rule::ExtraCoinbase { position } => write!(
                f,
                "transaction {position} has sender \"0\", but only the first transaction may be a coinbase"
            ),
            Rule::BadTransaction { position, error } => {
                write!(f, "transaction {position}: {error}")
            }
            Rule::BadSignature { position, error } => {
                write!(f, "transaction {position}: {error}")
            }
            Rule::Ledger { position, error } => write!(f, "transaction {position}: {error}"),
        }
    }
}

impl std::error::Error for BlockError {}

impl Chain {
    /// A chain holding only the genesis block of `difficulty`.
    pub fn new(difficulty: u32, reward: u64) -> Chain {
        let first = genesis(difficulty);
        let mut by_hash = HashMap::new();
        by_hash.insert(first.hash, first.header.index);
        Chain {
            difficulty,
            reward,
            blocks: vec![first],
            by_hash,
            ledger: Ledger::default(),
            indexes: Indexes::default(),
        }
    }

    /// The network's difficulty.
    pub fn difficulty(&self) -> u32 {
        self.difficulty
    }

    /// Coins per coinbase.
    pub fn reward(&self) -> u64 {
        self.reward
    }

    /// Number of blocks, genesis included; also the tip's index.
    pub fn len(&self) -> u64 {
        self.blocks.len() as u64
    }

    /// Never true: a chain always holds its genesis. Present for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The last block.
    pub fn tip(&self) -> &Block {
        self.blocks
            .last()
            .expect("a chain always holds its genesis")
    }

    /// The first block.
    pub fn genesis(&self) -> &Block {
        &self.blocks[0]
    }

    /// The block at `index` (1-based), if any.
    pub fn block(&self, index: u64) -> Option<&Block> {
        let position = usize::try_from(index.checked_sub(1)?).ok()?;
        self.blocks.get(position)
    }

    /// All blocks, genesis first.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Blocks with index ≥ `from`, at most `limit` of them.
    pub fn page(&self, from: u64, limit: usize) -> &[Block] {
        let start = usize::try_from(from.max(1) - 1)
            .unwrap_or(usize::MAX)
            .min(self.blocks.len());
        let end = start.saturating_add(limit).min(self.blocks.len());
        &self.blocks[start..end]
    }

    /// The index of the block with `hash`, if it is on this chain.
    pub fn index_of(&self, hash: &BlockHash) -> Option<u64> {
        self.by_hash.get(hash).copied()
    }

    /// Balances and transaction ids at the tip.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The transaction and address indexes (SPEC §5b): look-ups without a scan.
    pub fn indexes(&self) -> &Indexes {
        &self.indexes
    }

    /// Hashes that let a peer find where our chains part (SPEC §6): the tip, the 9 blocks
    /// before it, then steps of 2, 4, 8, … back, always ending with genesis.
    pub fn locator(&self) -> Vec<BlockHash> {
        locator_indexes(self.len())
            .into_iter()
            .map(|index| self.blocks[(index - 1) as usize].hash)
            .collect()
    }

    /// The index of the first locator hash on this chain: where a peer's chain and ours
    /// still agree. `None` when none is ours (another network).
    pub fn fork_point(&self, locator: &[BlockHash]) -> Option<u64> {
        locator.iter().find_map(|hash| self.index_of(hash))
    }

    /// Validates `block` as the child of our tip and appends it.
    pub fn append(&mut self, block: Block, now: u64) -> Result<(), BlockError> {
        self.check_next(&block, now)?;
        self.push_checked(block);
        Ok(())
    }

    /// Checks `block` as the child of our tip without appending it, so a caller can make
    /// it durable first and then [`Chain::push_checked`] it.
    pub fn check_next(&self, block: &Block, now: u64) -> Result<(), BlockError> {
        self.check_block(self.tip(), block, &mut Changes::default(), now)
    }

    /// Appends a block that [`Chain::check_next`] accepted, with no change in between.
    pub fn push_checked(&mut self, block: Block) {
        debug_assert_eq!(block.header.previous_hash, self.tip().hash);
        self.ledger.apply_block(&block);
        self.indexes.apply_block(&block);
        self.by_hash.insert(block.hash, block.header.index);
        self.blocks.push(block);
    }

    /// Checks a peer's `branch`, meant to follow our block at `fork_index`, in full: each
    /// block against the one before, with balances rolled back from our tip to the fork.
    pub fn check_branch(
        &self,
        fork_index: u64,
        branch: &[Block],
        now: u64,
    ) -> Result<(), BlockError> {
        let fork = self.block(fork_index).ok_or_else(|| BlockError {
            index: fork_index.saturating_add(1),
            rule: Rule::WrongIndex {
                expected: self.len() + 1,
                got: fork_index.saturating_add(1),
            },
        })?;
        let mut changes = Changes::default();
        for ours in self.blocks[fork_index as usize..].iter().rev() {
            changes.revert_block(ours);
        }
        let mut parent = fork;
        for block in branch {
            self.check_block(parent, block, &mut changes, now)?;
            parent = block;
        }
        Ok(())
    }

    /// Replaces everything after `fork_index` by `branch` if the branch is valid (checked
    /// in full first, so a bad branch changes nothing). Returns the blocks cut away.
    pub fn switch_to_branch(
        &mut self,
        fork_index: u64,
        branch: Vec<Block>,
        now: u64,
    ) -> Result<Vec<Block>, BlockError> {
        self.check_branch(fork_index, &branch, now)?;
        Ok(self.switch_checked(fork_index, branch))
    }

    /// Replaces everything after `fork_index` by a `branch` that [`Chain::check_branch`]
    /// accepted, with no change in between; returns the blocks cut away. Cannot fail, so
    /// switching back to the returned blocks undoes it (a commit whose write failed).
    pub fn switch_checked(&mut self, fork_index: u64, branch: Vec<Block>) -> Vec<Block> {
        debug_assert!(fork_index >= 1 && fork_index <= self.len());
        let cut = self.blocks.split_off(fork_index as usize);
        for block in cut.iter().rev() {
            self.ledger.revert_block(block);
            self.indexes.revert_block(block);
            self.by_hash.remove(&block.hash);
        }
        for block in branch {
            self.push_checked(block);
        }
        cut
    }

    /// Back to genesis alone (`/restart`).
    pub fn reset(&mut self) {
        *self = Chain::new(self.difficulty, self.reward);
    }

    /// Checks every rule of SPEC §4 for `block` as the child of `parent`, applying its
    /// transactions to `changes` (balances, ids) as it goes.
    pub fn check_block(
        &self,
        parent: &Block,
        block: &Block,
        changes: &mut Changes,
        now: u64,
    ) -> Result<(), BlockError> {
        let fail = |rule| {
            Err(BlockError {
                index: block.header.index,
                rule,
            })
        };
        if block.header.index != parent.header.index + 1 {
            return fail(Rule::WrongIndex {
                expected: parent.header.index + 1,
                got: block.header.index,
            });
        }
        if block.header.previous_hash != parent.hash {
            return fail(Rule::WrongParent {
                expected: parent.hash,
                got: block.header.previous_hash,
            });
        }
        if block.header.difficulty != self.difficulty {
            return fail(Rule::WrongDifficulty {
                expected: self.difficulty,
                got: block.header.difficulty,
            });
        }
        let computed = block.header.block_hash();
        if computed != block.hash {
            return fail(Rule::WrongHash {
                claimed: block.hash,
                computed,
            });
        }
        if !meets_difficulty(&computed, self.difficulty) {
            return fail(Rule::InsufficientWork {
                difficulty: self.difficulty,
                zero_bits: leading_zero_bits(&computed),
            });
        }
        if block.transactions.len() > MAX_BLOCK_TRANSACTIONS {
            return fail(Rule::TooManyTransactions {
                count: block.transactions.len(),
            });
        }
        let merkle = merkle_root_of(&block.transactions);
        if merkle != block.header.merkle_root {
            return fail(Rule::WrongMerkleRoot {
                claimed: block.header.merkle_root,
                computed: merkle,
            });
        }
        if block.header.timestamp <= parent.header.timestamp {
            return fail(Rule::TimestampNotAfterParent {
                parent: parent.header.timestamp,
                got: block.header.timestamp,
            });
        }
        if block.header.timestamp > now.saturating_add(MAX_FUTURE_MS) {
            return fail(Rule::TimestampInFuture {
                now,
                got: block.header.timestamp,
            });
        }
        let Some(coinbase) = block.transactions.first() else {
            return fail(Rule::MissingCoinbase);
        };
        if coinbase.sender != COINBASE_SENDER {
            return fail(Rule::MissingCoinbase);
        }
        if coinbase.amount != self.reward {
            return fail(Rule::WrongReward {
                expected: self.reward,
                got: coinbase.amount,
            });
        }
        if coinbase.timestamp != block.header.timestamp {
            return fail(Rule::CoinbaseTimestamp {
                expected: block.header.timestamp,
                got: coinbase.timestamp,
            });
        }
        for (position, tx) in block.transactions.iter().enumerate() {
            let is_coinbase = position == 0;
            if !is_coinbase && tx.sender == COINBASE_SENDER {
                return fail(Rule::ExtraCoinbase { position });
            }
            if let Err(error) = tx.check(is_coinbase) {
                return fail(Rule::BadTransaction { position, error });
            }
            // The leaf is checked before the costlier signature, so a reused leaf is named
            // as such even when its signature is valid.
            if let Some(leaf) = tx.leaf()
                && let Some(earlier) = changes.leaf_user(&self.ledger, &tx.sender, leaf)
            {
                return fail(Rule::Ledger {
                    position,
                    error: LedgerError::LeafReused { leaf, earlier },
                });
            }
            if let Err(error) = tx.check_signature(&self.genesis().hash) {
                return fail(Rule::BadSignature { position, error });
            }
            if let Err(error) = changes.apply(&self.ledger, tx) {
                return fail(Rule::Ledger { position, error });
            }
        }
        Ok(())
    }
}

/// The indexes a locator names for a chain of `length` blocks (SPEC §6 step 1): the tip,
/// the 9 before it, then steps of 2, 4, 8, … back, always ending with genesis (index 1).
/// Full nodes and the light client name their hashes at these indexes.
pub fn locator_indexes(length: u64) -> Vec<u64> {
    let mut indexes = Vec::new();
    let mut index = length.max(1);
    let mut step = 1;
    loop {
        indexes.push(index);
        if index == 1 {
            break;
        }
        if indexes.len() >= 10 {
            step *= 2;
        }
        index = index.saturating_sub(step).max(1);
    }
    indexes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::{Header, Transaction};
    use crate::core::pow::search;
    use std::sync::atomic::AtomicBool;

    const DIFFICULTY: u32 = 8;
    const REWARD: u64 = 50;
    const NOW: u64 = 1_732_500_000_000;

    /// Mines a valid block on `parent` paying `miner`, with `payments` after the coinbase.
    fn mine(parent: &Block, miner: &str, payments: Vec<Transaction>) -> Block {
        let timestamp = parent.header.timestamp.max(NOW) + 1000;
        let mut transactions = vec![Transaction::coinbase(miner, REWARD, timestamp)];
        transactions.extend(payments);
        seal(parent, timestamp, transactions, DIFFICULTY)
    }

    fn seal(parent: &Block, timestamp: u64, txs: Vec<Transaction>, difficulty: u32) -> Block {
        let header = Header::child_of(parent, timestamp, &txs, difficulty);
        reseal(Block::from_header(header, txs))
    }

    /// Recomputes merkle root, proof and hash after a test edits a block.
    fn reseal(mut block: Block) -> Block {
        block.header.merkle_root = merkle_root_of(&block.transactions);
        let mut header = block.header;
        let found = search(&header, 1, &AtomicBool::new(false)).unwrap();
        header.proof = found.proof;
        Block::from_header(header, block.transactions)
    }

    fn chain_with_coins() -> Chain {
        let mut chain = Chain::new(DIFFICULTY, REWARD);
        let block = mine(chain.tip(), "alice", vec![]);
        chain.append(block, NOW).unwrap();
        chain
    }

    fn rule_of(result: Result<(), BlockError>) -> Rule {
        result.unwrap_err().rule
    }

    #[test]
    fn accepts_the_known_four_block_chain() {
        // shared/vectors.json: chain_difficulty_8_reward_50, built by an independent implementation.
        let json = include_str!("../../tests/data/chain_difficulty_8_reward_50.json");
        let blocks: Vec<Block> = serde_json::from_str(json).unwrap();
        let mut chain = Chain::new(8, 50);
        assert_eq!(blocks[0], *chain.genesis());
        for block in blocks.into_iter().skip(1) {
            chain.append(block, NOW).unwrap();
        }
        let balances = chain.ledger().balances();
        assert_eq!(balances["http://127.0.0.1:5000"], 120);
        assert_eq!(balances["bob"], 20);
        assert_eq!(balances["carol"], 10);
        assert_eq!(balances.len(), 3);
    }

    #[test]
    fn appends_a_mined_block_and_credits_the_miner() {
        let chain = chain_with_coins();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain.ledger().balance("alice"), REWARD);
        assert_eq!(chain.index_of(&chain.tip().hash), Some(2));
    }

    #[test]
    fn rejects_block_with_wrong_index() {
        let chain = chain_with_coins();
        let mut block = mine(chain.tip(), "alice", vec![]);
        block.header.index = 5;
        let block = reseal(block);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::WrongIndex {
                expected: 3,
                got: 5
            }
        ));
    }

    #[test]
    fn rejects_block_with_wrong_parent() {
        let chain = chain_with_coins();
        let block = mine(chain.genesis(), "alice", vec![]);
        let mut block = block;
        block.header.index = 3;
        let block = reseal(block);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::WrongParent { .. }
        ));
    }

    #[test]
    fn rejects_block_with_another_difficulty() {
        let chain = chain_with_coins();
        let timestamp = NOW + 5000;
        let txs = vec![Transaction::coinbase("alice", REWARD, timestamp)];
        let block = seal(chain.tip(), timestamp, txs, 9);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::WrongDifficulty {
                expected: 8,
                got: 9
            }
        ));
    }

    #[test]
    fn rejects_block_whose_hash_field_is_not_its_hash() {
        let chain = chain_with_coins();
        let mut block = mine(chain.tip(), "alice", vec![]);
        block.hash = BlockHash([0; 32]);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::WrongHash { .. }
        ));
    }

    #[test]
    fn rejects_block_with_insufficient_proof_of_work() {
        let chain = chain_with_coins();
        let mut block = mine(chain.tip(), "alice", vec![]);
        let mut header = block.header;
        // Find a nonce whose hash fails the difficulty, and claim it honestly.
        header.proof = (0..)
            .find(|&p| {
                header.proof = p;
                !meets_difficulty(&header.block_hash(), DIFFICULTY)
            })
            .unwrap();
        block = Block::from_header(header, block.transactions);
        let error = chain.clone().append(block, NOW).unwrap_err();
        assert!(matches!(
            error.rule,
            Rule::InsufficientWork { difficulty: 8, .. }
        ));
        assert!(
            error
                .to_string()
                .starts_with("block 3: proof of work does not meet difficulty 8")
        );
    }

    #[test]
    fn rejects_block_with_wrong_merkle_root() {
        let chain = chain_with_coins();
        let block = mine(chain.tip(), "alice", vec![]);
        let mut header = block.header;
        header.merkle_root = MerkleRoot([7; 32]);
        header.proof = search(&header, 1, &AtomicBool::new(false)).unwrap().proof;
        let block = Block::from_header(header, block.transactions);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::WrongMerkleRoot { .. }
        ));
    }

    #[test]
    fn rejects_tampered_transaction() {
        let chain = chain_with_coins();
        let mut block = mine(
            chain.tip(),
            "alice",
            vec![Transaction::new("alice", "bob", 10, 1)],
        );
        block.transactions[1].amount = 40;
        let block = reseal(block);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::BadTransaction {
                position: 1,
                error: TxError::WrongId { .. }
            }
        ));
    }

    #[test]
    fn rejects_timestamp_not_after_parent() {
        let chain = chain_with_coins();
        let timestamp = chain.tip().header.timestamp;
        let txs = vec![Transaction::coinbase("alice", REWARD, timestamp)];
        let block = seal(chain.tip(), timestamp, txs, DIFFICULTY);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::TimestampNotAfterParent { .. }
        ));
    }

    #[test]
    fn rejects_timestamp_more_than_two_hours_ahead() {
        let chain = chain_with_coins();
        let timestamp = NOW + MAX_FUTURE_MS + 1;
        let txs = vec![Transaction::coinbase("alice", REWARD, timestamp)];
        let block = seal(chain.tip(), timestamp, txs, DIFFICULTY);
        assert!(matches!(
            rule_of(chain.clone().append(block.clone(), NOW)),
            Rule::TimestampInFuture { .. }
        ));
        assert!(chain.clone().append(block, NOW + 1).is_ok());
    }

    #[test]
    fn rejects_block_without_coinbase() {
        let chain = chain_with_coins();
        let empty = seal(chain.tip(), NOW + 5000, vec![], DIFFICULTY);
        assert_eq!(
            rule_of(chain.clone().append(empty, NOW)),
            Rule::MissingCoinbase
        );
        let payment_first = seal(
            chain.tip(),
            NOW + 5000,
            vec![Transaction::new("alice", "bob", 1, 1)],
            DIFFICULTY,
        );
        assert_eq!(
            rule_of(chain.clone().append(payment_first, NOW)),
            Rule::MissingCoinbase
        );
    }

    #[test]
    fn rejects_wrong_reward() {
        let chain = chain_with_coins();
        let timestamp = NOW + 5000;
        let txs = vec![Transaction::coinbase("alice", REWARD + 1, timestamp)];
        let block = seal(chain.tip(), timestamp, txs, DIFFICULTY);
        assert_eq!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::WrongReward {
                expected: 50,
                got: 51
            }
        );
    }

    #[test]
    fn rejects_coinbase_with_another_timestamp() {
        let chain = chain_with_coins();
        let timestamp = NOW + 5000;
        let txs = vec![Transaction::coinbase("alice", REWARD, timestamp - 1)];
        let block = seal(chain.tip(), timestamp, txs, DIFFICULTY);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::CoinbaseTimestamp { .. }
        ));
    }

    #[test]
    fn rejects_a_second_coinbase() {
        let chain = chain_with_coins();
        let block = mine(
            chain.tip(),
            "alice",
            vec![Transaction::coinbase("mallory", REWARD, 1)],
        );
        assert_eq!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::ExtraCoinbase { position: 1 }
        );
    }

    #[test]
    fn rejects_overspend() {
        let chain = chain_with_coins();
        let block = mine(
            chain.tip(),
            "bob",
            vec![Transaction::new("alice", "bob", REWARD + 1, 1)],
        );
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::Ledger {
                position: 1,
                error: LedgerError::Overspend { .. }
            }
        ));
    }

    #[test]
    fn rejects_transaction_id_already_in_the_chain() {
        let mut chain = chain_with_coins();
        let pay = Transaction::new("alice", "bob", 1, 1);
        let first = mine(chain.tip(), "alice", vec![pay.clone()]);
        chain.append(first, NOW).unwrap();
        let again = mine(chain.tip(), "alice", vec![pay]);
        assert!(matches!(
            rule_of(chain.clone().append(again, NOW)),
            Rule::Ledger {
                position: 1,
                error: LedgerError::DuplicateId { .. }
            }
        ));
    }

    #[test]
    fn rejects_transaction_id_twice_in_one_block() {
        let chain = chain_with_coins();
        let pay = Transaction::new("alice", "bob", 1, 1);
        let block = mine(chain.tip(), "alice", vec![pay.clone(), pay]);
        assert!(matches!(
            rule_of(chain.clone().append(block, NOW)),
            Rule::Ledger {
                position: 2,
                error: LedgerError::DuplicateId { .. }
            }
        ));
    }

    #[test]
    fn rejects_a_coinbase_that_would_overflow_the_miners_balance() {
        // With the largest reward, 2048 coinbases fill a u64; the next cannot be paid.
        let reward = crate::core::block::MAX_AMOUNT;
        let mut chain = Chain::new(1, reward);
        let block_paying = |parent: &Block| {
            let timestamp = parent.header.timestamp + 1;
            seal(
                parent,
                timestamp,
                vec![Transaction::coinbase("miner", reward, timestamp)],
                1,
            )
        };
        for _ in 0..2048 {
            let block = block_paying(chain.tip());
            chain.append(block, NOW).unwrap();
        }
        let block = block_paying(chain.tip());
        assert!(matches!(
            rule_of(chain.check_next(&block, NOW)),
            Rule::Ledger {
                position: 0,
                error: LedgerError::Overflow { .. }
            }
        ));
    }

    #[test]
    fn spends_coins_received_earlier_in_the_same_block() {
        let mut chain = chain_with_coins();
        let block = mine(
            chain.tip(),
            "alice",
            vec![
                Transaction::new("alice", "bob", 30, 1),
                Transaction::new("bob", "carol", 30, 2),
            ],
        );
        chain.append(block, NOW).unwrap();
        assert_eq!(chain.ledger().balance("carol"), 30);
        assert_eq!(chain.ledger().balance("bob"), 0);
    }

    #[test]
    fn locator_has_ten_recent_hashes_then_doubling_steps_and_genesis() {
        let mut chain = Chain::new(DIFFICULTY, REWARD);
        for _ in 0..40 {
            let block = mine(chain.tip(), "alice", vec![]);
            chain.append(block, NOW).unwrap();
        }
        let indexes: Vec<u64> = chain
            .locator()
            .iter()
            .map(|hash| chain.index_of(hash).unwrap())
            .collect();
        assert_eq!(
            indexes,
            [41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 30, 26, 18, 2, 1]
        );
        assert_eq!(Chain::new(8, 50).locator(), vec![genesis(8).hash]);
    }

    #[test]
    fn switches_to_a_longer_branch_and_returns_the_cut_blocks() {
        let mut ours = chain_with_coins();
        let mut theirs = ours.clone();
        let pay = Transaction::new("alice", "bob", 10, 1);
        let our_block = mine(ours.tip(), "alice", vec![pay.clone()]);
        ours.append(our_block.clone(), NOW).unwrap();
        for _ in 0..2 {
            let block = mine(theirs.tip(), "carol", vec![]);
            theirs.append(block, NOW).unwrap();
        }
        let fork = ours.fork_point(&theirs.locator()).unwrap();
        assert_eq!(fork, 2);
        let branch = theirs.page(fork + 1, 500).to_vec();
        let cut = ours.switch_to_branch(fork, branch, NOW).unwrap();
        assert_eq!(cut, vec![our_block]);
        assert_eq!(ours.tip().hash, theirs.tip().hash);
        assert_eq!(ours.ledger().balance("bob"), 0);
        assert_eq!(ours.ledger().balance("carol"), 2 * REWARD);
        assert_eq!(ours.ledger().block_of(&pay.id), None);
    }

    #[test]
    fn a_bad_branch_changes_nothing() {
        let mut ours = chain_with_coins();
        let mut theirs = ours.clone();
        for _ in 0..3 {
            let block = mine(theirs.tip(), "carol", vec![]);
            theirs.append(block, NOW).unwrap();
        }
        let mut branch = theirs.page(3, 500).to_vec();
        branch[2].transactions[0].amount = 1000; // the last block pays itself too much
        let before = ours.tip().hash;
        let error = ours.switch_to_branch(2, branch, NOW).unwrap_err();
        assert_eq!(error.index, 5);
        assert_eq!(ours.tip().hash, before);
        assert_eq!(ours.len(), 2);
    }

    #[test]
    fn a_branch_may_repeat_payments_of_the_blocks_it_replaces() {
        let mut ours = chain_with_coins();
        let base = ours.clone();
        let pay = Transaction::new("alice", "bob", 10, 1);
        ours.append(mine(ours.tip(), "alice", vec![pay.clone()]), NOW)
            .unwrap();
        let mut theirs = base;
        theirs
            .append(mine(theirs.tip(), "carol", vec![]), NOW)
            .unwrap();
        theirs
            .append(mine(theirs.tip(), "carol", vec![pay.clone()]), NOW)
            .unwrap();
        ours.switch_to_branch(2, theirs.page(3, 500).to_vec(), NOW)
            .unwrap();
        assert_eq!(ours.ledger().block_of(&pay.id), Some(4));
    }

    #[test]
    fn indexes_follow_a_branch_switch_and_a_reset() {
        let mut ours = chain_with_coins();
        let base = ours.clone();
        let pay = Transaction::new("alice", "bob", 10, 1);
        ours.append(mine(ours.tip(), "alice", vec![pay.clone()]), NOW)
            .unwrap();
        assert_eq!(ours.indexes().place_of(&pay.id).unwrap().block, 3);
        let mut theirs = base;
        for _ in 0..2 {
            theirs
                .append(mine(theirs.tip(), "carol", vec![]), NOW)
                .unwrap();
        }
        theirs
            .append(mine(theirs.tip(), "carol", vec![pay.clone()]), NOW)
            .unwrap();
        ours.switch_to_branch(2, theirs.page(3, 500).to_vec(), NOW)
            .unwrap();
        let place = ours.indexes().place_of(&pay.id).unwrap();
        assert_eq!((place.block, place.position), (5, 1));
        let bob: Vec<u64> = ours
            .indexes()
            .history("bob")
            .iter()
            .map(|entry| entry.place.block)
            .collect();
        assert_eq!(bob, [5]);
        assert_eq!(ours.indexes().history("carol").len(), 3);
        let alice = ours.indexes().history("alice");
        assert_eq!(alice.last().unwrap().balance_after, REWARD - 10);
        ours.reset();
        assert_eq!(ours.indexes().place_of(&pay.id), None);
        assert!(ours.indexes().history("alice").is_empty());
    }
}
