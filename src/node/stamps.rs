//! Fresh timestamps for payments that name none (SPEC §3, §9): the node stamps them with
//! its clock, moved forward until the id is new, and [`FreshStamps`] remembers where the
//! last identical payment stopped, so the thousandth identical payment costs what the
//! first did instead of walking past the 999 before it.
//!
//! Why the cost stays flat: a payment's stamp starts at `max(now, next free)`, and each
//! step of the walk passes a known transaction stamped at or after that start (one stamped
//! by a peer, or by a client that chose its own); the next free stamp then moves past it,
//! so no transaction costs a step twice. Ids stay unique against the chain and the pool
//! because the walk still asks them; the map only says where to start, so it needs no
//! reset when the chain is switched or restarted.

use std::collections::HashMap;

/// The fewest entries at which the map is pruned; pruning then waits until the map has
/// doubled, so its cost per payment stays constant.
const MIN_PRUNE_AT: usize = 1024;

/// Most triples kept after pruning; beyond it the map starts over (the next identical
/// payment of each triple then walks once from the clock, and is remembered again).
pub const MAX_TRIPLES: usize = 65_536;

/// What makes payments identical: sender, recipient, amount.
pub type Triple = (String, String, u64);

/// The next free timestamp of each recently stamped (sender, recipient, amount). Entries
/// whose next free stamp is already in the past say nothing the clock does not, and are
/// pruned.
#[derive(Debug)]
pub struct FreshStamps {
    next_free: HashMap<Triple, u64>,
    prune_at: usize,
}

impl Default for FreshStamps {
    fn default() -> Self {
        FreshStamps {
            next_free: HashMap::new(),
            prune_at: MIN_PRUNE_AT,
        }
    }
}

impl FreshStamps {
    /// The stamp for a payment of `triple` at clock `now`: the first at or after both `now`
    /// and the triple's next free stamp for which `taken` (is that id in the chain or the
    /// pool?) says no.
    pub fn pick(&self, triple: &Triple, now: u64, mut taken: impl FnMut(u64) -> bool) -> u64 {
        let mut stamp = self
            .next_free
            .get(triple)
            .map_or(now, |&free| free.max(now));
        while taken(stamp) {
            stamp += 1;
        }
        stamp
    }

    /// Records that a payment of `triple` was admitted with `stamp` (a refused payment
    /// moves nothing forward), and prunes now and then.
    pub fn used(&mut self, triple: Triple, stamp: u64, now: u64) {
        if self.next_free.len() >= self.prune_at {
            self.next_free.retain(|_, free| *free > now);
            if self.next_free.len() >= MAX_TRIPLES {
                self.next_free.clear();
            }
            self.prune_at = (2 * self.next_free.len()).max(MIN_PRUNE_AT);
        }
        self.next_free.insert(triple, stamp.saturating_add(1));
    }

    /// Triples remembered (pruned ones gone).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.next_free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn triple(recipient: &str) -> Triple {
        ("m".to_string(), recipient.to_string(), 1)
    }

    #[test]
    fn identical_payments_in_one_millisecond_get_distinct_stamps_at_one_check_each() {
        let mut stamps = FreshStamps::default();
        let mut known = HashSet::new();
        let mut checks = 0u64;
        let now = 1_000_000;
        for n in 0..20_000u64 {
            let stamp = stamps.pick(&triple("bob"), now, |t| {
                checks += 1;
                known.contains(&t)
            });
            assert_eq!(stamp, now + n, "each payment takes the next millisecond");
            assert!(known.insert(stamp));
            stamps.used(triple("bob"), stamp, now);
        }
        assert_eq!(
            checks, 20_000,
            "one id check per payment, however many came before"
        );
        assert_eq!(stamps.len(), 1);
    }

    #[test]
    fn stamps_chosen_elsewhere_cost_one_step_each_and_only_once() {
        let mut stamps = FreshStamps::default();
        let now = 5_000;
        // Payments stamped by a peer (or a client) for the same triple, ahead of the clock.
        let mut known: HashSet<u64> = (now..now + 100).step_by(2).collect();
        let foreign = known.len() as u64;
        let mut checks = 0u64;
        for _ in 0..1_000 {
            let stamp = stamps.pick(&triple("bob"), now, |t| {
                checks += 1;
                known.contains(&t)
            });
            assert!(known.insert(stamp), "stamp {stamp} is new");
            stamps.used(triple("bob"), stamp, now);
        }
        assert_eq!(checks, 1_000 + foreign);
    }

    #[test]
    fn the_clock_overtaking_the_next_free_stamp_wins_and_old_triples_are_pruned() {
        let mut stamps = FreshStamps::default();
        stamps.used(triple("bob"), 10, 10);
        assert_eq!(stamps.pick(&triple("bob"), 10, |_| false), 11);
        assert_eq!(stamps.pick(&triple("bob"), 500, |_| false), 500);
        // Distinct payments, ten per millisecond for 100 s: only the last few
        // milliseconds' triples stay.
        let mut largest = 0;
        for n in 0..1_000_000u64 {
            let now = 1_000 + n / 10;
            let recipient = format!("r{n}");
            let stamp = stamps.pick(&triple(&recipient), now, |_| false);
            stamps.used(triple(&recipient), stamp, now);
            largest = largest.max(stamps.len());
        }
        assert!(largest <= 2 * MIN_PRUNE_AT, "the map grew to {largest}");
    }

    #[test]
    fn past_the_cap_the_map_starts_over() {
        let mut stamps = FreshStamps::default();
        // Every triple far ahead of the clock: nothing can be pruned.
        for n in 0..(MAX_TRIPLES as u64 + 10) {
            stamps.used(triple(&format!("r{n}")), u64::MAX / 2, 0);
        }
        assert!(stamps.len() <= MAX_TRIPLES, "{}", stamps.len());
    }
}
