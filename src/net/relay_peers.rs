//! Which peers a node pushes its announcements to (SPEC §6b "Relay peers"): at most
//! `--relay-peers` of its peers that are not known to be down, chosen at random and kept
//! until one goes down or is removed, then replaced; and, for the background sync, one
//! other peer in turn each round. Like Bitcoin's few outbound peers, this keeps what one
//! item costs the network near one copy per node, however many peers each node knows.

use crate::net::peer_book::PeerBook;
use crate::wire::address::PeerUrl;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The chosen relay peers and what picks the next ones.
pub struct RelayPeers {
    state: Mutex<State>,
}

struct State {
    chosen: Vec<PeerUrl>,
    /// xorshift64 state: a spread of choices, not secrecy.
    random: u64,
    /// Which other peer the next sync round asks besides the relay peers.
    turn: usize,
    /// Whose peer list the next round of peer exchange reads.
    exchange_turn: usize,
}

impl Default for RelayPeers {
    fn default() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            ^ (u64::from(std::process::id()) << 32);
        RelayPeers {
            state: Mutex::new(State {
                chosen: Vec::new(),
                random: seed | 1,
                turn: 0,
                exchange_turn: 0,
            }),
        }
    }
}

impl RelayPeers {
    /// The relay peers among `peers` (`wanted` of them; 0: every peer): the chosen ones
    /// still registered and not down or on another network, topped up at random.
    pub fn choose(&self, peers: &[PeerUrl], wanted: usize, book: &PeerBook) -> Vec<PeerUrl> {
        let usable = |peer: &PeerUrl| !book.is_down(peer) && !book.is_other_network(peer);
        if wanted == 0 {
            return peers.iter().filter(|peer| usable(peer)).cloned().collect();
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .chosen
            .retain(|peer| peers.contains(peer) && usable(peer));
        let mut candidates: Vec<&PeerUrl> = peers
            .iter()
            .filter(|peer| usable(peer) && !state.chosen.contains(peer))
            .collect();
        while state.chosen.len() < wanted && !candidates.is_empty() {
            let pick = (state.next_random() % candidates.len() as u64) as usize;
            let peer = candidates.swap_remove(pick).clone();
            state.chosen.push(peer);
        }
        state.chosen.clone()
    }

    /// Who the background sync asks this round: the relay peers and one other peer in
    /// turn (every peer when `wanted` is 0), so each peer is heard from now and then.
    pub fn sync_targets(&self, peers: &[PeerUrl], wanted: usize, book: &PeerBook) -> Vec<PeerUrl> {
        if wanted == 0 {
            return peers.to_vec();
        }
        let mut targets = self.choose(peers, wanted, book);
        let others: Vec<&PeerUrl> = peers.iter().filter(|p| !targets.contains(p)).collect();
        if !others.is_empty() {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let other = others[state.turn % others.len()].clone();
            state.turn = state.turn.wrapping_add(1);
            targets.push(other);
        }
        targets
    }
}

impl RelayPeers {
    /// Whose peer list this round's exchange reads: one of `up`, a different one each
    /// round (SPEC §6a), so a round reads one list whatever the size of the network.
    pub fn next_exchange(&self, up: &[PeerUrl]) -> Option<PeerUrl> {
        if up.is_empty() {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let pick = up[state.exchange_turn % up.len()].clone();
        state.exchange_turn = state.exchange_turn.wrapping_add(1);
        Some(pick)
    }
}

impl State {
    fn next_random(&mut self) -> u64 {
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::address::normalize_peer;
    use std::time::Duration;

    fn peers(count: usize) -> Vec<PeerUrl> {
        (0..count)
            .map(|n| normalize_peer(&format!("http://127.0.0.1:{}", 1000 + n)).unwrap())
            .collect()
    }

    #[test]
    fn keeps_its_choice_and_replaces_a_peer_that_goes_down() {
        let (relay, book, all) = (RelayPeers::default(), PeerBook::default(), peers(20));
        let first = relay.choose(&all, 3, &book);
        assert_eq!(first.len(), 3);
        assert_eq!(
            relay.choose(&all, 3, &book),
            first,
            "kept while they are fine"
        );
        book.failed(&first[0], "refused", 1, Duration::from_millis(10));
        let second = relay.choose(&all, 3, &book);
        assert_eq!(second.len(), 3);
        assert!(!second.contains(&first[0]));
        assert!(second.contains(&first[1]) && second.contains(&first[2]));
        let fewer: Vec<PeerUrl> = all.iter().filter(|p| **p != second[1]).cloned().collect();
        assert!(
            !relay.choose(&fewer, 3, &book).contains(&second[1]),
            "a removed peer goes"
        );
    }

    #[test]
    fn zero_means_every_usable_peer_and_few_peers_mean_all_of_them() {
        let (relay, book, all) = (RelayPeers::default(), PeerBook::default(), peers(5));
        assert_eq!(relay.choose(&all, 0, &book), all);
        let mut chosen = relay.choose(&all, 8, &book);
        chosen.sort();
        assert_eq!(chosen, all);
    }

    #[test]
    fn each_sync_adds_one_other_peer_in_turn() {
        let (relay, book, all) = (RelayPeers::default(), PeerBook::default(), peers(6));
        let relays = relay.choose(&all, 2, &book);
        let mut others = std::collections::HashSet::new();
        for _ in 0..4 {
            let targets = relay.sync_targets(&all, 2, &book);
            assert_eq!(targets.len(), 3);
            assert_eq!(&targets[..2], relays.as_slice());
            others.insert(targets[2].clone());
        }
        assert_eq!(others.len(), 4, "the fourth peer is a new one each round");
    }
}
