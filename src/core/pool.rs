//! The transaction pool: the next block in waiting. A transaction is admitted when it would
//! be valid appended after everything already pooled, in arrival order (SPEC §4).
//!
//! **Invariant:** no I/O; the pool is always valid on top of the ledger it was built for.

use crate::core::block::{Transaction, TxError};
use crate::core::hash::{BlockHash, TxId};
use crate::core::ledger::{Changes, Ledger, LedgerError};
use crate::core::signed::SignatureError;
use std::collections::HashMap;
use std::fmt;

/// Default for `--pool-max`, the most transactions waiting at once: bounded by memory (an
/// admission's cost does not grow with the pool).
pub const MAX_POOL_TRANSACTIONS: usize = 100_000;

/// Pending transactions in arrival order, with their combined effect on the ledger.
#[derive(Clone, Debug, Default)]
pub struct Pool {
    /// In arrival order: the order `/mine` puts them in a block.
    transactions: Vec<Transaction>,
    /// Balances and ids after applying `transactions` to the tip's ledger.
    changes: Changes,
    /// Where each pending transaction is in `transactions`, to hand one out by id
    /// (`/getdata`, rebuilding a compact block) without a scan.
    positions: HashMap<TxId, usize>,
}

/// What admission still checks of a transaction, by where it comes from: each fact is
/// checked once, by whoever establishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    /// Received whole (a peer's, or a client's with its id): fields, id and signature.
    All,
    /// Built here from its fields, so its id is their hash: fields and signature.
    IdComputed,
    /// Made and signed by this node's wallet after its fields were checked: nothing.
    SignedHere,
}

/// Why a transaction is not admitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolError {
    /// Malformed on its own.
    Invalid(TxError),
    /// `max` transactions (`--pool-max`) are already waiting.
    Full { max: usize },
    /// Already pending or already in the chain: a safe retry (409).
    Duplicate { id: TxId, in_block: Option<u64> },
    /// The sender cannot pay, counting what is already pooled; or its leaf is used.
    Ledger(LedgerError),
    /// The signature is missing, misplaced or does not verify (SPEC §3a).
    Signature(SignatureError),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Invalid(error) => error.fmt(f),
            PoolError::Full { max } => write!(
                f,
                "the pool is full ({max} pending transactions); mine a block, then send again"
            ),
            PoolError::Duplicate {
                id,
                in_block: Some(index),
            } => write!(f, "transaction {id} is already in block {index}"),
            PoolError::Duplicate { id, in_block: None } => {
                write!(f, "transaction {id} is already in the pool")
            }
            PoolError::Ledger(LedgerError::Overspend {
                sender,
                balance,
                amount,
            }) => write!(
                f,
                "{sender:?} has {balance} coins (counting pending transactions) and cannot send {amount}; mine a block paying {sender:?} or send less"
            ),
            PoolError::Ledger(error) => error.fmt(f),
            PoolError::Signature(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for PoolError {}

impl Pool {
    /// Pending transactions, oldest first.
    pub fn transactions(&self) -> &[Transaction] {
        &self.transactions
    }

    /// The pending transaction with this id, if any.
    pub fn get(&self, id: &TxId) -> Option<&Transaction> {
        self.positions.get(id).map(|&at| &self.transactions[at])
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.transactions.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty()
    }

    /// Whether `id` is pending.
    pub fn contains(&self, ledger: &Ledger, id: &TxId) -> bool {
        self.changes.knows(ledger, id) && ledger.block_of(id).is_none()
    }

    /// Coins `address` would hold after everything pooled (may be below the chain
    /// balance: what it spends in the pool is already counted).
    pub fn balance(&self, ledger: &Ledger, address: &str) -> i128 {
        self.changes.balance(ledger, address)
    }

    /// The highest leaf key address `address` has used in the chain or the pool.
    pub fn last_leaf(&self, ledger: &Ledger, address: &str) -> Option<u32> {
        self.changes.last_leaf(ledger, address)
    }

    /// Admits a new `tx` like [`Pool::admit`] while fewer than `max` are waiting, after
    /// the `checks` its origin still needs, the signature on network `genesis` (SPEC §3a)
    /// among them. A signature is a property of the transaction alone, so
    /// [`Pool::rebuild`] does not check it again.
    pub fn admit_within(
        &mut self,
        ledger: &Ledger,
        tx: Transaction,
        max: usize,
        genesis: &BlockHash,
        checks: Checks,
    ) -> Result<(), PoolError> {
        let known = self.changes.knows(ledger, &tx.id);
        if self.transactions.len() >= max && !known {
            return Err(PoolError::Full { max });
        }
        match checks {
            Checks::All => tx.check(false),
            Checks::IdComputed => tx.check_fields(false),
            Checks::SignedHere => Ok(()),
        }
        .map_err(PoolError::Invalid)?;
        if let Some(leaf) = tx.leaf()
            && let Some(earlier) = self.changes.leaf_user(ledger, &tx.sender, leaf)
            && earlier != tx.id
        {
            return Err(PoolError::Ledger(LedgerError::LeafReused { leaf, earlier }));
        }
        if !known && checks != Checks::SignedHere {
            tx.check_signature(genesis).map_err(PoolError::Signature)?;
        }
        self.append(ledger, tx)
    }

    /// Admits `tx` if it is well-formed, new, and payable after everything pooled. No cap:
    /// a rebuild keeps what was already admitted (and what a chain switch returns).
    pub fn admit(&mut self, ledger: &Ledger, tx: Transaction) -> Result<(), PoolError> {
        tx.check(false).map_err(PoolError::Invalid)?;
        self.append(ledger, tx)
    }

    /// Appends a checked `tx` if it is new and payable after everything pooled.
    fn append(&mut self, ledger: &Ledger, tx: Transaction) -> Result<(), PoolError> {
        match self.changes.apply(ledger, &tx) {
            Ok(()) => {
                self.positions.insert(tx.id, self.transactions.len());
                self.transactions.push(tx);
                Ok(())
            }
            Err(LedgerError::DuplicateId { id }) => Err(PoolError::Duplicate {
                id,
                in_block: ledger.block_of(&id),
            }),
            Err(error) => Err(PoolError::Ledger(error)),
        }
    }

    /// Builds a pool on `ledger` from `candidates` in order, keeping those that still fit.
    /// Returns the pool and the candidates dropped, with the reason.
    pub fn rebuild(
        ledger: &Ledger,
        candidates: impl IntoIterator<Item = Transaction>,
    ) -> (Pool, Vec<(Transaction, PoolError)>) {
        let mut pool = Pool::default();
        let mut dropped = Vec::new();
        for tx in candidates {
            if let Err(error) = pool.admit(ledger, tx.clone()) {
                dropped.push((tx, error));
            }
        }
        (pool, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::genesis;

    fn ledger_where_alice_has(coins: u64) -> Ledger {
        let mut ledger = Ledger::default();
        let mut block = genesis(8);
        block.header.index = 2;
        block.transactions = vec![Transaction::coinbase("alice", coins, 1)];
        ledger.apply_block(&block);
        ledger
    }

    #[test]
    fn admits_in_order_and_spends_pooled_coins() {
        let ledger = ledger_where_alice_has(50);
        let mut pool = Pool::default();
        pool.admit(&ledger, Transaction::new("alice", "bob", 50, 1))
            .unwrap();
        pool.admit(&ledger, Transaction::new("bob", "carol", 20, 2))
            .unwrap();
        assert_eq!(pool.len(), 2);
        let error = pool
            .admit(&ledger, Transaction::new("alice", "dave", 1, 3))
            .unwrap_err();
        assert!(matches!(
            error,
            PoolError::Ledger(LedgerError::Overspend { .. })
        ));
    }

    #[test]
    fn hands_out_pending_transactions_by_id() {
        let ledger = ledger_where_alice_has(50);
        let mut pool = Pool::default();
        let first = Transaction::new("alice", "bob", 5, 1);
        let second = Transaction::new("bob", "carol", 2, 2);
        pool.admit(&ledger, first.clone()).unwrap();
        pool.admit(&ledger, second.clone()).unwrap();
        assert_eq!(pool.get(&second.id), Some(&second));
        assert_eq!(pool.get(&first.id), Some(&first));
        let (rebuilt, _) = Pool::rebuild(&ledger, vec![first.clone()]);
        assert_eq!(rebuilt.get(&first.id), Some(&first));
        assert_eq!(rebuilt.get(&second.id), None);
    }

    #[test]
    fn refuses_duplicates_with_a_distinct_error() {
        let ledger = ledger_where_alice_has(50);
        let mut pool = Pool::default();
        let tx = Transaction::new("alice", "bob", 5, 1);
        pool.admit(&ledger, tx.clone()).unwrap();
        assert!(matches!(
            pool.admit(&ledger, tx.clone()),
            Err(PoolError::Duplicate { in_block: None, .. })
        ));
        assert!(pool.contains(&ledger, &tx.id));
    }

    #[test]
    fn a_full_pool_refuses_new_transactions_but_names_duplicates() {
        let ledger = ledger_where_alice_has(50);
        let mut pool = Pool::default();
        let tx = Transaction::new("alice", "bob", 5, 1);
        pool.admit_within(&ledger, tx.clone(), 1, &genesis(8).hash, Checks::All)
            .unwrap();
        assert_eq!(
            pool.admit_within(
                &ledger,
                Transaction::new("alice", "bob", 5, 2),
                1,
                &genesis(8).hash,
                Checks::All
            ),
            Err(PoolError::Full { max: 1 })
        );
        assert!(matches!(
            pool.admit_within(&ledger, tx, 1, &genesis(8).hash, Checks::All),
            Err(PoolError::Duplicate { .. })
        ));
    }

    #[test]
    fn refuses_coinbase_sender() {
        let ledger = ledger_where_alice_has(50);
        let error = Pool::default()
            .admit(&ledger, Transaction::new("0", "bob", 5, 1))
            .unwrap_err();
        assert_eq!(error, PoolError::Invalid(TxError::CoinbaseSender));
    }

    #[test]
    fn rebuild_drops_what_no_longer_fits() {
        let ledger = ledger_where_alice_has(10);
        let fits = Transaction::new("alice", "bob", 10, 1);
        let too_much = Transaction::new("alice", "bob", 1, 2);
        let (pool, dropped) = Pool::rebuild(&ledger, vec![fits.clone(), too_much.clone()]);
        assert_eq!(pool.transactions(), &[fits]);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].0, too_much);
    }
}
