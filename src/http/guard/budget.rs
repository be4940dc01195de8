//! The memory request bodies may hold while they are read (SPEC §6c,
//! `--max-body-buffer-mb`): one shared budget, from which each body reserves its bytes
//! before it is buffered, so many stalled uploads cannot exhaust the node's memory.

use super::client::Refusal;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `Retry-After` of a body refused for want of budget: other uploads end within a
/// request timeout, most of them at once.
const RETRY_AFTER_SECS: u32 = 1;

/// Bytes that request bodies being read (and handed to the routes) may hold in all.
#[derive(Debug)]
pub struct BodyBudget {
    limit: usize,
    held: AtomicUsize,
}

impl BodyBudget {
    /// A budget of `limit` bytes, none of them reserved.
    pub fn new(limit: usize) -> BodyBudget {
        BodyBudget {
            limit,
            held: AtomicUsize::new(0),
        }
    }

    /// An empty reservation, grown as a body's size becomes known.
    pub fn reservation(&self) -> Reservation<'_> {
        Reservation {
            budget: self,
            bytes: 0,
        }
    }

    /// Bytes reserved now (for tests and figures).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// Takes `bytes` from the budget if they fit; all or nothing.
    fn take(&self, bytes: usize) -> bool {
        self.held
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
                held.checked_add(bytes).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    /// Gives `bytes` back.
    fn give(&self, bytes: usize) {
        self.held.fetch_sub(bytes, Ordering::SeqCst);
    }

    /// The 503 a body gets when its bytes do not fit.
    pub fn busy(&self) -> Refusal {
        Refusal::new(
            503,
            format!(
                "the node is busy reading other uploads ({} MiB of request bodies at once, \
                 its --max-body-buffer-mb); try again in a moment",
                self.limit / (1024 * 1024)
            ),
        )
        .retry_after(RETRY_AFTER_SECS)
    }
}

/// The bytes one body holds of the budget; given back when it is dropped (the body was
/// handed on and answered, refused, or its client left), whichever way that happens.
#[derive(Debug)]
pub struct Reservation<'a> {
    budget: &'a BodyBudget,
    bytes: usize,
}

impl Reservation<'_> {
    /// Reserves `more` bytes; `false` (and nothing more reserved) when they do not fit.
    pub fn grow(&mut self, more: usize) -> bool {
        if !self.budget.take(more) {
            return false;
        }
        self.bytes += more;
        true
    }

    /// Bytes reserved so far: what the body may hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The 503 of its budget, for a body that could not grow.
    pub fn busy(&self) -> Refusal {
        self.budget.busy()
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.give(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_reserve_until_the_budget_is_spent_and_give_back_when_dropped() {
        let budget = BodyBudget::new(3 * 1024 * 1024);
        let mut first = budget.reservation();
        assert!(first.grow(2 * 1024 * 1024));
        let mut second = budget.reservation();
        assert!(!second.grow(2 * 1024 * 1024), "over the budget");
        assert_eq!(second.bytes(), 0);
        assert!(second.grow(1024 * 1024), "what is left fits");
        assert!(!second.grow(1));
        assert_eq!(budget.held(), 3 * 1024 * 1024);
        drop(first);
        assert_eq!(budget.held(), 1024 * 1024);
        assert!(second.grow(1));
        drop(second);
        assert_eq!(budget.held(), 0);
        assert!(!budget.reservation().grow(usize::MAX), "no overflow");
    }

    #[test]
    fn the_busy_answer_says_why_and_when_to_come_back() {
        let refusal = BodyBudget::new(256 * 1024 * 1024).busy();
        assert_eq!(refusal.status, 503);
        assert!(refusal.message.contains("busy reading other uploads"));
        assert!(refusal.message.contains("256 MiB"));
        assert!(refusal.answer().contains("\r\nRetry-After: 1\r\n"));
    }
}
