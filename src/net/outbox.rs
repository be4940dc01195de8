//! The relay's outbox: one slot per peer holding what waits to be sent to it, and the
//! line of peers with work. A slot coalesces (many tip changes are one announcement of
//! the newest tip, many announcements from one peer are one fetch); transactions queue
//! up to a global cap; a slot is worked on by one thread at a time, so a slow peer holds
//! at most one worker. Also [`SeenSet`], the bounded memory of what was already done.

use crate::core::block::Transaction;
use crate::core::hash::BlockHash;
use crate::net::peer_book::MAX_PEERS;
use log::debug;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Condvar, Mutex};

/// Most transactions waiting in the outbox, all peers together; more are dropped (and
/// logged): the next block brings them round.
pub const MAX_QUEUED_TRANSACTIONS: usize = 20_000;

/// Transactions posted to one peer in one go before its slot goes back in line.
const TRANSACTIONS_PER_TURN: usize = 64;

/// Entries kept in each seen-set before the oldest are forgotten.
pub const SEEN_CAPACITY: usize = 100_000;

/// What waits for one peer.
#[derive(Default)]
pub struct Slot {
    /// Announce our tip (whatever it is when the worker gets to it).
    pub announce: bool,
    /// Transactions to post, oldest first.
    pub transactions: VecDeque<Transaction>,
    /// An announced tip to fetch from this peer: its length and hash.
    pub fetch: Option<(u64, BlockHash)>,
    /// A worker is on it.
    busy: bool,
    /// It is in the ready line.
    queued: bool,
}

impl Slot {
    fn has_work(&self) -> bool {
        self.announce || self.fetch.is_some() || !self.transactions.is_empty()
    }
}

#[derive(Default)]
struct OutboxState {
    slots: HashMap<String, Slot>,
    ready: VecDeque<String>,
    transactions: usize,
}

/// Per-peer slots and the line of peers with work waiting.
#[derive(Default)]
pub struct Outbox {
    state: Mutex<OutboxState>,
    wake: Condvar,
}

/// One turn of work for one peer, taken out of its slot.
pub struct Turn {
    /// Whose slot this is.
    pub peer: String,
    /// Announce our tip.
    pub announce: bool,
    /// Fetch this announced tip (length, hash).
    pub fetch: Option<(u64, BlockHash)>,
    /// Post these transactions.
    pub transactions: Vec<Transaction>,
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes `peer`'s slot and puts it in line if it is idle; false when the outbox
    /// already holds [`MAX_PEERS`] slots and this peer has none.
    pub fn push(&self, peer: &str, change: impl FnOnce(&mut Slot)) -> bool {
        let mut state = self.lock();
        if !state.slots.contains_key(peer) && state.slots.len() >= MAX_PEERS {
            debug!("relay outbox holds {MAX_PEERS} peers; nothing queued for {peer}");
            return false;
        }
        let slot = state.slots.entry(peer.to_string()).or_default();
        change(slot);
        if !slot.busy && !slot.queued && slot.has_work() {
            slot.queued = true;
            state.ready.push_back(peer.to_string());
            self.wake.notify_one();
        }
        true
    }

    pub fn push_transaction(&self, peer: &str, tx: &Transaction) -> bool {
        {
            let mut state = self.lock();
            if state.transactions >= MAX_QUEUED_TRANSACTIONS {
                return false;
            }
            state.transactions += 1;
        }
        let pushed = self.push(peer, |slot| slot.transactions.push_back(tx.clone()));
        if !pushed {
            self.lock().transactions -= 1;
        }
        pushed
    }

    /// Waits for a peer with work and takes one turn of it.
    pub fn take(&self) -> Turn {
        let mut state = self.lock();
        loop {
            if let Some(peer) = state.ready.pop_front() {
                let Some(slot) = state.slots.get_mut(&peer) else {
                    continue;
                };
                slot.queued = false;
                slot.busy = true;
                let count = slot.transactions.len().min(TRANSACTIONS_PER_TURN);
                let turn = Turn {
                    peer,
                    announce: std::mem::take(&mut slot.announce),
                    fetch: slot.fetch.take(),
                    transactions: slot.transactions.drain(..count).collect(),
                };
                state.transactions -= turn.transactions.len();
                return turn;
            }
            state = self.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The turn is over: back in line if more work came meanwhile, else forgotten.
    pub fn done(&self, peer: &str) {
        let mut state = self.lock();
        let Some(slot) = state.slots.get_mut(peer) else {
            return;
        };
        slot.busy = false;
        if slot.has_work() {
            slot.queued = true;
            state.ready.push_back(peer.to_string());
            self.wake.notify_one();
        } else {
            state.slots.remove(peer);
        }
    }

    /// Drops what waits for `peer` (it is down): the sync brings it round later.
    pub fn drop_transactions(&self, peer: &str) {
        let mut state = self.lock();
        let dropped = state
            .slots
            .get_mut(peer)
            .map_or(0, |slot| std::mem::take(&mut slot.transactions).len());
        state.transactions -= dropped;
    }
}

/// A set that remembers at most [`SEEN_CAPACITY`] entries, forgetting the oldest.
pub struct SeenSet<T> {
    members: HashSet<T>,
    order: VecDeque<T>,
}

impl<T> Default for SeenSet<T> {
    fn default() -> Self {
        SeenSet {
            members: HashSet::new(),
            order: VecDeque::new(),
        }
    }
}

impl<T: Eq + Hash + Clone> SeenSet<T> {
    /// Adds `item`; false when it was already there.
    pub fn insert(&mut self, item: T) -> bool {
        if !self.members.insert(item.clone()) {
            return false;
        }
        self.order.push_back(item);
        if self.order.len() > SEEN_CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.members.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_coalesces_and_a_busy_peer_is_not_taken_twice() {
        let outbox = Outbox::default();
        for _ in 0..5 {
            assert!(outbox.push("http://a:1", |slot| slot.announce = true));
        }
        let tx = Transaction::new("alice", "bob", 1, 1);
        assert!(outbox.push_transaction("http://a:1", &tx));
        let turn = outbox.take();
        assert_eq!(turn.peer, "http://a:1");
        assert!(turn.announce);
        assert_eq!(turn.transactions.len(), 1);
        // More work while busy waits for `done`, in one slot.
        outbox.push("http://a:1", |slot| slot.announce = true);
        outbox.push("http://b:1", |slot| slot.announce = true);
        assert_eq!(outbox.take().peer, "http://b:1");
        outbox.done("http://b:1");
        outbox.done("http://a:1");
        let again = outbox.take();
        assert_eq!((again.peer.as_str(), again.announce), ("http://a:1", true));
    }

    #[test]
    fn seen_sets_forget_the_oldest() {
        let mut seen = SeenSet::default();
        assert!(seen.insert(1u32));
        assert!(!seen.insert(1u32));
        for n in 2..=(SEEN_CAPACITY as u32 + 1) {
            seen.insert(n);
        }
        assert!(seen.insert(1u32), "the oldest was forgotten");
    }
}
