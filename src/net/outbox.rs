//! The relay's outbox: one slot per peer holding what waits to be sent to it or fetched
//! from it, and the line of peers with work. A slot coalesces (many tip changes are one
//! announcement of the newest tip; many announcements from one peer fold into one fetch,
//! SPEC §6b); transaction ids queue up to a global cap; a slot is worked on by one thread
//! at a time, so a slow peer holds at most one worker and has at most one fetch in
//! flight. Also [`SeenSet`], the bounded memory of what was already done.

use crate::core::hash::{BlockHash, TxId};
use crate::net::peer_book::MAX_PEERS;
use crate::wire::address::PeerUrl;
use log::debug;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Condvar, Mutex};

/// Most transaction ids waiting in the outbox (to announce or to fetch), all peers
/// together; more are dropped (and logged once per episode): the sync brings them round.
pub const MAX_QUEUED_IDS: usize = 200_000;

/// Most ids in one announcement or one `/getdata` (SPEC §6b).
pub const IDS_PER_MESSAGE: usize = crate::wire::protocol::MAX_IDS_PER_MESSAGE;

/// Most ids of one kind (to announce, to ask for) waiting for one peer.
pub const MAX_IDS_PER_SLOT: usize = 4 * IDS_PER_MESSAGE;

/// Entries kept in each seen-set before the oldest are forgotten.
pub const SEEN_CAPACITY: usize = 100_000;

/// What waits for one peer.
#[derive(Default)]
pub struct Slot {
    /// Announce our tip (whatever it is when the worker gets to it).
    pub announce: bool,
    /// Transaction ids to announce to it, oldest first.
    pub ids: Vec<TxId>,
    /// Transaction ids it announced that we want: asked with `/getdata`.
    pub wanted: Vec<TxId>,
    /// An announced tip to fetch from this peer: its length and hash (the longest
    /// announced wins).
    pub fetch: Option<(u64, BlockHash)>,
    /// A worker is on it.
    busy: bool,
    /// It is in the ready line.
    queued: bool,
}

impl Slot {
    fn has_work(&self) -> bool {
        self.announce || self.fetch.is_some() || !self.ids.is_empty() || !self.wanted.is_empty()
    }

    fn queued_ids(&self) -> usize {
        self.ids.len() + self.wanted.len()
    }
}

#[derive(Default)]
struct OutboxState {
    slots: HashMap<PeerUrl, Slot>,
    ready: VecDeque<PeerUrl>,
    /// Ids in every slot together.
    ids: usize,
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
    pub peer: PeerUrl,
    /// Announce our tip.
    pub announce: bool,
    /// Fetch this announced tip (length, hash).
    pub fetch: Option<(u64, BlockHash)>,
    /// Announce these transaction ids (at most [`IDS_PER_MESSAGE`]).
    pub ids: Vec<TxId>,
    /// Ask for these transactions (at most [`IDS_PER_MESSAGE`]).
    pub wanted: Vec<TxId>,
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes `peer`'s slot and puts it in line if it is idle; false when the outbox
    /// already holds [`MAX_PEERS`] slots and this peer has none.
    pub fn push(&self, peer: &PeerUrl, change: impl FnOnce(&mut Slot)) -> bool {
        let mut state = self.lock();
        if !state.slots.contains_key(peer) && state.slots.len() >= MAX_PEERS {
            debug!("relay outbox holds {MAX_PEERS} peers; nothing queued for {peer}");
            return false;
        }
        let slot = state.slots.entry(peer.clone()).or_default();
        let before = slot.queued_ids();
        change(slot);
        let added = slot.queued_ids() as isize - before as isize;
        if !slot.busy && !slot.queued && slot.has_work() {
            slot.queued = true;
            state.ready.push_back(peer.clone());
            self.wake.notify_one();
        }
        state.ids = (state.ids as isize + added).max(0) as usize;
        true
    }

    /// Queues ids for `peer`, to announce (`wanted` false) or to fetch; returns how many
    /// did not fit: past [`MAX_QUEUED_IDS`] in all, or [`MAX_IDS_PER_SLOT`] of one kind
    /// for this peer (so one peer, or one announcer, cannot fill the outbox for all).
    pub fn push_ids(&self, peer: &PeerUrl, ids: Vec<TxId>, wanted: bool) -> usize {
        let offered = ids.len();
        let mut state = self.lock();
        if !state.slots.contains_key(peer) && state.slots.len() >= MAX_PEERS {
            debug!("relay outbox holds {MAX_PEERS} peers; nothing queued for {peer}");
            return offered;
        }
        let global_room = MAX_QUEUED_IDS.saturating_sub(state.ids);
        let slot = state.slots.entry(peer.clone()).or_default();
        let list = if wanted {
            &mut slot.wanted
        } else {
            &mut slot.ids
        };
        let room = global_room.min(MAX_IDS_PER_SLOT.saturating_sub(list.len()));
        let taken = offered.min(room);
        list.extend(ids.into_iter().take(taken));
        if !slot.busy && !slot.queued && slot.has_work() {
            slot.queued = true;
            state.ready.push_back(peer.clone());
            self.wake.notify_one();
        }
        state.ids += taken;
        offered - taken
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
                let ids_count = slot.ids.len().min(IDS_PER_MESSAGE);
                let wanted_count = slot.wanted.len().min(IDS_PER_MESSAGE);
                let turn = Turn {
                    peer,
                    announce: std::mem::take(&mut slot.announce),
                    fetch: slot.fetch.take(),
                    ids: slot.ids.drain(..ids_count).collect(),
                    wanted: slot.wanted.drain(..wanted_count).collect(),
                };
                state.ids -= turn.ids.len() + turn.wanted.len();
                return turn;
            }
            state = self.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The turn is over: back in line if more work came meanwhile, else forgotten.
    pub fn done(&self, peer: &PeerUrl) {
        let mut state = self.lock();
        let Some(slot) = state.slots.get_mut(peer) else {
            return;
        };
        slot.busy = false;
        if slot.has_work() {
            slot.queued = true;
            state.ready.push_back(peer.clone());
            self.wake.notify_one();
        } else {
            state.slots.remove(peer);
        }
    }

    /// Drops the ids waiting for `peer` (it is down) and returns those it was to be asked
    /// for, so they can be asked of another announcer: the sync brings the rest round.
    pub fn drop_ids(&self, peer: &PeerUrl) -> Vec<TxId> {
        let mut state = self.lock();
        let (ids, wanted) = state.slots.get_mut(peer).map_or((0, Vec::new()), |slot| {
            (
                std::mem::take(&mut slot.ids).len(),
                std::mem::take(&mut slot.wanted),
            )
        });
        state.ids -= ids + wanted.len();
        wanted
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
    use crate::wire::address::normalize_peer;

    fn url(text: &str) -> PeerUrl {
        normalize_peer(text).expect("a peer address")
    }

    #[test]
    fn a_slot_coalesces_and_a_busy_peer_is_not_taken_twice() {
        let outbox = Outbox::default();
        for _ in 0..5 {
            assert!(outbox.push(&url("http://a:1"), |slot| slot.announce = true));
        }
        let id = crate::core::block::Transaction::new("alice", "bob", 1, 1).id;
        assert_eq!(outbox.push_ids(&url("http://a:1"), vec![id], false), 0);
        let turn = outbox.take();
        assert_eq!(turn.peer, url("http://a:1"));
        assert!(turn.announce);
        assert_eq!(turn.ids, vec![id]);
        // More work while busy waits for `done`, in one slot.
        outbox.push(&url("http://a:1"), |slot| slot.announce = true);
        outbox.push(&url("http://b:1"), |slot| slot.announce = true);
        assert_eq!(outbox.take().peer, url("http://b:1"));
        outbox.done(&url("http://b:1"));
        outbox.done(&url("http://a:1"));
        let again = outbox.take();
        assert_eq!((again.peer.as_str(), again.announce), ("http://a:1", true));
    }

    #[test]
    fn one_peer_cannot_fill_the_outbox_for_all() {
        let outbox = Outbox::default();
        let ids: Vec<TxId> = (0..(MAX_IDS_PER_SLOT as u64 + 10))
            .map(|n| crate::core::block::Transaction::new("a", "b", 1, n).id)
            .collect();
        assert_eq!(outbox.push_ids(&url("http://a:1"), ids.clone(), true), 10);
        assert_eq!(
            outbox.push_ids(&url("http://a:1"), ids[..5].to_vec(), true),
            5
        );
        assert_eq!(
            outbox.push_ids(&url("http://b:1"), ids[..5].to_vec(), true),
            0
        );
    }

    #[test]
    fn ids_go_out_a_message_at_a_time_under_a_global_cap() {
        let outbox = Outbox::default();
        let ids: Vec<TxId> = (0..2500u64)
            .map(|n| crate::core::block::Transaction::new("a", "b", 1, n).id)
            .collect();
        assert_eq!(outbox.push_ids(&url("http://a:1"), ids.clone(), true), 0);
        let turn = outbox.take();
        assert_eq!(turn.wanted.len(), IDS_PER_MESSAGE);
        assert_eq!(outbox.drop_ids(&url("http://a:1")).len(), 1500);
        outbox.done(&url("http://a:1"));
        assert_eq!(outbox.lock().ids, 0);
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
