//! The state a chain implies: every address's balance and every transaction id seen, kept
//! at the tip so that checking a block costs O(its transactions), never O(chain).
//!
//! [`Changes`] is a pending difference on top of a [`Ledger`] — blocks rolled back,
//! transactions tried — used to validate a branch or the pool without touching the real
//! ledger until everything checks out.

use crate::core::block::{Block, Transaction};
use crate::core::hash::TxId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// Balances and transaction ids at a chain's tip.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// Coins held, by address; only non-zero entries are kept.
    balances: HashMap<String, u64>,
    /// Every transaction id in the chain, with the index of the block holding it.
    tx_blocks: HashMap<TxId, u64>,
    /// Leaves each key address has signed with, and the transaction each signed (SPEC
    /// §3a: a leaf signs once per chain).
    leaves: HashMap<String, BTreeMap<u32, TxId>>,
}

/// Why a transaction does not fit a ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerError {
    /// The id is already in the chain (or earlier in the same pool or block).
    DuplicateId { id: TxId },
    /// The sender does not own enough coins.
    Overspend {
        sender: String,
        balance: u64,
        amount: u64,
    },
    /// The recipient's balance would exceed what a u64 holds.
    Overflow { recipient: String },
    /// The sender's key already signed another transaction with this leaf.
    LeafReused { leaf: u32, earlier: TxId },
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::DuplicateId { id } => write!(f, "transaction {id} is already known"),
            LedgerError::Overspend {
                sender,
                balance,
                amount,
            } => write!(f, "{sender:?} has {balance} coins and cannot send {amount}"),
            LedgerError::Overflow { recipient } => {
                write!(f, "the balance of {recipient:?} would overflow")
            }
            LedgerError::LeafReused { leaf, earlier } => write!(
                f,
                "leaf {leaf} of this key already signed transaction {earlier}; a leaf signs once"
            ),
        }
    }
}

impl std::error::Error for LedgerError {}

impl Ledger {
    /// Coins `address` holds.
    pub fn balance(&self, address: &str) -> u64 {
        self.balances.get(address).copied().unwrap_or(0)
    }

    /// Every address with a non-zero balance, sorted (`"0"` is not an address).
    pub fn balances(&self) -> BTreeMap<String, u64> {
        self.balances
            .iter()
            .filter(|(address, _)| address.as_str() != crate::core::block::COINBASE_SENDER)
            .map(|(address, amount)| (address.clone(), *amount))
            .collect()
    }

    /// The index of the block holding `id`, if the chain holds it.
    pub fn block_of(&self, id: &TxId) -> Option<u64> {
        self.tx_blocks.get(id).copied()
    }

    /// The transaction that used `leaf` of key address `sender` in the chain, if any.
    pub fn leaf_user(&self, sender: &str, leaf: u32) -> Option<TxId> {
        self.leaves.get(sender)?.get(&leaf).copied()
    }

    /// The highest leaf key address `address` has used in the chain.
    pub fn last_leaf(&self, address: &str) -> Option<u32> {
        self.leaves.get(address)?.keys().next_back().copied()
    }

    /// Applies a block already validated against this ledger.
    pub fn apply_block(&mut self, block: &Block) {
        for tx in &block.transactions {
            if !tx.is_coinbase() {
                self.add(&tx.sender, -(tx.amount as i128));
            }
            self.add(&tx.recipient, tx.amount as i128);
            self.tx_blocks.insert(tx.id, block.header.index);
            if let Some(leaf) = tx.leaf() {
                self.leaves
                    .entry(tx.sender.clone())
                    .or_default()
                    .insert(leaf, tx.id);
            }
        }
    }

    /// Undoes `block`, which must be the last block applied.
    pub fn revert_block(&mut self, block: &Block) {
        for tx in block.transactions.iter().rev() {
            self.add(&tx.recipient, -(tx.amount as i128));
            if !tx.is_coinbase() {
                self.add(&tx.sender, tx.amount as i128);
            }
            self.tx_blocks.remove(&tx.id);
            if let Some(leaf) = tx.leaf()
                && let Some(used) = self.leaves.get_mut(&tx.sender)
            {
                used.remove(&leaf);
                if used.is_empty() {
                    self.leaves.remove(&tx.sender);
                }
            }
        }
    }

    fn add(&mut self, address: &str, delta: i128) {
        let next = self.balance(address) as i128 + delta;
        let next = u64::try_from(next).expect("a validated block keeps every balance in range");
        if next == 0 {
            self.balances.remove(address);
        } else {
            self.balances.insert(address.to_string(), next);
        }
    }
}

/// A difference on top of a [`Ledger`]: what balances and ids would be after rolling
/// some blocks back and applying some transactions. Never changes the ledger itself.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// Balance differences by address.
    deltas: HashMap<String, i128>,
    /// Ids added by the applied transactions.
    added: HashSet<TxId>,
    /// Ids of the ledger that rolled-back blocks removed.
    removed: HashSet<TxId>,
    /// Leaves used by the applied transactions, per key address.
    leaves_added: HashMap<String, BTreeMap<u32, TxId>>,
    /// Leaves of the ledger that rolled-back blocks freed.
    leaves_removed: HashSet<(String, u32)>,
}

impl Changes {
    /// Coins `address` would hold.
    pub fn balance(&self, ledger: &Ledger, address: &str) -> i128 {
        ledger.balance(address) as i128 + self.deltas.get(address).copied().unwrap_or(0)
    }

    /// Whether `id` would be known (in the chain or among the applied transactions).
    pub fn knows(&self, ledger: &Ledger, id: &TxId) -> bool {
        self.added.contains(id) || (ledger.block_of(id).is_some() && !self.removed.contains(id))
    }

    /// The transaction that would hold `leaf` of key address `sender`, if any.
    pub fn leaf_user(&self, ledger: &Ledger, sender: &str, leaf: u32) -> Option<TxId> {
        if let Some(id) = self
            .leaves_added
            .get(sender)
            .and_then(|used| used.get(&leaf))
        {
            return Some(*id);
        }
        ledger
            .leaf_user(sender, leaf)
            .filter(|_| !self.leaves_removed.contains(&(sender.to_string(), leaf)))
    }

    /// The highest leaf key address `address` would have used. Exact when nothing was
    /// rolled back (the pool); after a rollback it may name a freed leaf, which only makes
    /// a wallet skip ahead.
    pub fn last_leaf(&self, ledger: &Ledger, address: &str) -> Option<u32> {
        let added = self
            .leaves_added
            .get(address)
            .and_then(|used| used.keys().next_back().copied());
        added.max(ledger.last_leaf(address))
    }

    /// Rolls back `block`; blocks must be rolled back from the tip downwards.
    pub fn revert_block(&mut self, block: &Block) {
        for tx in block.transactions.iter().rev() {
            *self.deltas.entry(tx.recipient.clone()).or_default() -= tx.amount as i128;
            if !tx.is_coinbase() {
                *self.deltas.entry(tx.sender.clone()).or_default() += tx.amount as i128;
            }
            if !self.added.remove(&tx.id) {
                self.removed.insert(tx.id);
            }
            if let Some(leaf) = tx.leaf() {
                let was_added = self
                    .leaves_added
                    .get_mut(&tx.sender)
                    .and_then(|used| used.remove(&leaf))
                    .is_some();
                if !was_added {
                    self.leaves_removed.insert((tx.sender.clone(), leaf));
                }
            }
        }
    }

    /// Applies one transaction if its id is new and its sender can pay (a coinbase mints).
    pub fn apply(&mut self, ledger: &Ledger, tx: &Transaction) -> Result<(), LedgerError> {
        if self.knows(ledger, &tx.id) {
            return Err(LedgerError::DuplicateId { id: tx.id });
        }
        if let Some(leaf) = tx.leaf()
            && let Some(earlier) = self.leaf_user(ledger, &tx.sender, leaf)
        {
            return Err(LedgerError::LeafReused { leaf, earlier });
        }
        if !tx.is_coinbase() {
            let balance = self.balance(ledger, &tx.sender);
            if balance < tx.amount as i128 {
                return Err(LedgerError::Overspend {
                    sender: tx.sender.clone(),
                    balance: balance.max(0) as u64,
                    amount: tx.amount,
                });
            }
        }
        if self.balance(ledger, &tx.recipient) + tx.amount as i128 > u64::MAX as i128 {
            return Err(LedgerError::Overflow {
                recipient: tx.recipient.clone(),
            });
        }
        if !tx.is_coinbase() {
            *self.deltas.entry(tx.sender.clone()).or_default() -= tx.amount as i128;
        }
        *self.deltas.entry(tx.recipient.clone()).or_default() += tx.amount as i128;
        self.added.insert(tx.id);
        if let Some(leaf) = tx.leaf() {
            self.leaves_added
                .entry(tx.sender.clone())
                .or_default()
                .insert(leaf, tx.id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::{Transaction, genesis};

    fn block_with(index: u64, transactions: Vec<Transaction>) -> Block {
        let mut block = genesis(8);
        block.header.index = index;
        block.transactions = transactions;
        block
    }

    #[test]
    fn applies_and_reverts_blocks() {
        let mut ledger = Ledger::default();
        let first = block_with(
            2,
            vec![
                Transaction::coinbase("miner", 50, 10),
                Transaction::new("miner", "bob", 20, 11),
            ],
        );
        ledger.apply_block(&first);
        assert_eq!(ledger.balance("miner"), 30);
        assert_eq!(ledger.balance("bob"), 20);
        assert_eq!(ledger.block_of(&first.transactions[1].id), Some(2));
        ledger.revert_block(&first);
        assert_eq!(ledger.balance("miner"), 0);
        assert!(ledger.balances().is_empty());
        assert_eq!(ledger.block_of(&first.transactions[1].id), None);
    }

    #[test]
    fn changes_refuse_overspend_and_duplicates() {
        let mut ledger = Ledger::default();
        ledger.apply_block(&block_with(2, vec![Transaction::coinbase("miner", 50, 10)]));
        let mut changes = Changes::default();
        let pay = Transaction::new("miner", "bob", 30, 1);
        changes.apply(&ledger, &pay).unwrap();
        assert_eq!(
            changes.apply(&ledger, &pay),
            Err(LedgerError::DuplicateId { id: pay.id })
        );
        let too_much = Transaction::new("miner", "bob", 21, 2);
        assert!(matches!(
            changes.apply(&ledger, &too_much),
            Err(LedgerError::Overspend { balance: 20, .. })
        ));
        // Coins received through changes can be spent on.
        changes
            .apply(&ledger, &Transaction::new("bob", "carol", 30, 3))
            .unwrap();
        assert_eq!(
            ledger.balance("miner"),
            50,
            "the ledger itself is untouched"
        );
    }

    #[test]
    fn changes_roll_back_from_the_tip() {
        let mut ledger = Ledger::default();
        let first = block_with(2, vec![Transaction::coinbase("miner", 50, 10)]);
        let second = block_with(
            3,
            vec![
                Transaction::coinbase("miner", 50, 20),
                Transaction::new("miner", "bob", 100, 21),
            ],
        );
        ledger.apply_block(&first);
        ledger.apply_block(&second);
        let mut changes = Changes::default();
        changes.revert_block(&second);
        assert_eq!(changes.balance(&ledger, "miner"), 50);
        assert_eq!(changes.balance(&ledger, "bob"), 0);
        assert!(!changes.knows(&ledger, &second.transactions[1].id));
        // The rolled-back payment may appear again on the new branch.
        changes
            .apply(&ledger, &Transaction::new("miner", "bob", 50, 21))
            .unwrap();
        changes.apply(&ledger, &second.transactions[1]).unwrap_err();
    }
}
