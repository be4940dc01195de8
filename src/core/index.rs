//! The look-ups of SPEC §5b kept beside the chain, so that finding a payment or an
//! address's payments never scans the chain: a transaction index (id → block and
//! position) and an address index (address → its payments in chain order, each with the
//! balance after it). [`crate::core::chain::Chain`] keeps them through its own append,
//! branch switch and reset, so they are rebuilt whenever the chain is (at start, after
//! `/restart`) and can never disagree with it.
//!
//! **Invariant:** no I/O; updated only by the chain, a block at a time, from the tip.

use crate::core::block::Block;
use crate::core::hash::TxId;
use std::collections::HashMap;

/// Where a transaction sits in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxPlace {
    /// The index of the block holding it.
    pub block: u64,
    /// Its position in the block's transactions (0: the coinbase).
    pub position: usize,
}

/// One payment of an address: where it is, what it did to the address's balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressEntry {
    /// Where the payment is.
    pub place: TxPlace,
    /// Coins received (positive) or sent (negative).
    pub amount: i64,
    /// The address's balance on the chain right after this payment.
    pub balance_after: u64,
}

/// The transaction and address indexes of one chain.
#[derive(Clone, Debug, Default)]
pub struct Indexes {
    /// Every transaction id in the chain and where it is.
    transactions: HashMap<TxId, TxPlace>,
    /// Every address that sent or received, with its payments, oldest first.
    addresses: HashMap<String, Vec<AddressEntry>>,
}

impl Indexes {
    /// Adds a block appended at the tip.
    pub fn apply_block(&mut self, block: &Block) {
        for (position, tx) in block.transactions.iter().enumerate() {
            let place = TxPlace {
                block: block.header.index,
                position,
            };
            self.transactions.insert(tx.id, place);
            let amount = tx.amount as i64;
            if !tx.is_coinbase() {
                self.record(&tx.sender, place, -amount);
            }
            self.record(&tx.recipient, place, amount);
        }
    }

    /// Removes `block`, which must be the last block applied (a branch switch cuts blocks
    /// from the tip down).
    pub fn revert_block(&mut self, block: &Block) {
        for tx in block.transactions.iter().rev() {
            self.transactions.remove(&tx.id);
            self.unrecord(&tx.recipient, block.header.index);
            if !tx.is_coinbase() {
                self.unrecord(&tx.sender, block.header.index);
            }
        }
    }

    /// Where transaction `id` is in the chain, if it is.
    pub fn place_of(&self, id: &TxId) -> Option<TxPlace> {
        self.transactions.get(id).copied()
    }

    /// Every payment of `address` on the chain, oldest first (empty when unknown).
    pub fn history(&self, address: &str) -> &[AddressEntry] {
        self.addresses.get(address).map_or(&[], Vec::as_slice)
    }

    /// A page of `address`'s payments, newest first, in blocks before `before`: whole
    /// blocks only, stopping before the block that would take it past `limit` entries
    /// (but always at least one block, so a page never comes back empty while older
    /// payments exist). Also the `before` of the next page, if anything older is left.
    pub fn history_page(
        &self,
        address: &str,
        before: u64,
        limit: usize,
    ) -> (Vec<AddressEntry>, Option<u64>) {
        let all = self.history(address);
        let mut end = all.partition_point(|entry| entry.place.block < before);
        let mut page = Vec::new();
        while end > 0 {
            let block = all[end - 1].place.block;
            let start = all[..end].partition_point(|entry| entry.place.block < block);
            if !page.is_empty() && page.len() + (end - start) > limit {
                return (page, Some(block + 1));
            }
            page.extend(all[start..end].iter().rev());
            end = start;
            if page.len() >= limit {
                break;
            }
        }
        let next = (end > 0).then(|| page.last().map_or(before, |entry| entry.place.block));
        (page, next)
    }

    fn record(&mut self, address: &str, place: TxPlace, amount: i64) {
        let entries = self.addresses.entry(address.to_string()).or_default();
        let before = entries.last().map_or(0, |entry| entry.balance_after);
        let balance_after = before
            .checked_add_signed(amount)
            .expect("a validated block keeps every balance in range");
        entries.push(AddressEntry {
            place,
            amount,
            balance_after,
        });
    }

    fn unrecord(&mut self, address: &str, block: u64) {
        if let Some(entries) = self.addresses.get_mut(address) {
            if entries
                .last()
                .is_some_and(|entry| entry.place.block == block)
            {
                entries.pop();
            }
            if entries.is_empty() {
                self.addresses.remove(address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::{Header, Transaction, genesis};

    fn block(parent: &Block, transactions: Vec<Transaction>) -> Block {
        let header = Header::child_of(parent, parent.header.timestamp + 1, &transactions, 1);
        Block::from_header(header, transactions)
    }

    #[test]
    fn finds_payments_and_forgets_a_reverted_block() {
        let first = genesis(1);
        let coinbase = Transaction::coinbase("alice", 50, 1);
        let two = block(&first, vec![coinbase.clone()]);
        let pay = Transaction::new("alice", "bob", 20, 5);
        let three = block(
            &two,
            vec![Transaction::coinbase("carol", 50, 2), pay.clone()],
        );
        let mut indexes = Indexes::default();
        indexes.apply_block(&two);
        indexes.apply_block(&three);
        assert_eq!(
            indexes.place_of(&pay.id),
            Some(TxPlace {
                block: 3,
                position: 1
            })
        );
        let alice: Vec<(i64, u64)> = indexes
            .history("alice")
            .iter()
            .map(|entry| (entry.amount, entry.balance_after))
            .collect();
        assert_eq!(alice, [(50, 50), (-20, 30)]);
        indexes.revert_block(&three);
        assert_eq!(indexes.place_of(&pay.id), None);
        assert_eq!(indexes.history("alice").len(), 1);
        assert!(indexes.history("bob").is_empty());
        assert!(indexes.history("carol").is_empty());
    }

    #[test]
    fn pages_hold_whole_blocks_newest_first() {
        let mut parent = genesis(1);
        let mut indexes = Indexes::default();
        // Blocks 2..=6, each paying "m" once; block 7 pays "m" three times.
        for n in 0..5u64 {
            let next = block(&parent, vec![Transaction::coinbase("m", 1, n + 1)]);
            indexes.apply_block(&next);
            parent = next;
        }
        let last = block(
            &parent,
            vec![
                Transaction::coinbase("m", 1, 10),
                Transaction::new("m", "y", 1, 11),
                Transaction::new("m", "y", 1, 12),
            ],
        );
        indexes.apply_block(&last);
        let blocks = |page: &[AddressEntry]| -> Vec<u64> {
            page.iter().map(|entry| entry.place.block).collect()
        };
        let (page, next) = indexes.history_page("m", u64::MAX, 4);
        assert_eq!(blocks(&page), [7, 7, 7, 6]);
        assert_eq!(next, Some(6));
        let (page, next) = indexes.history_page("m", 6, 2);
        assert_eq!(blocks(&page), [5, 4]);
        assert_eq!(next, Some(4));
        let (page, next) = indexes.history_page("m", 4, 500);
        assert_eq!(blocks(&page), [3, 2]);
        assert_eq!(next, None);
        // A block larger than the limit comes whole; a page never cuts a block.
        let (page, next) = indexes.history_page("m", u64::MAX, 2);
        assert_eq!(blocks(&page), [7, 7, 7]);
        assert_eq!(next, Some(7));
        let (page, _) = indexes.history_page("m", 8, 3);
        assert_eq!(page[0].place.position, 2, "newest first within a block");
    }
}
