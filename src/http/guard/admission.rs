//! Who gets a connection (SPEC §6c): at most `--max-connections` at once, at most a
//! quarter of them from any one client address, and a reserve beyond the cap for this
//! machine's own clients, so that no stranger can lock the owner out.
//!
//! Loopback clients (127.0.0.0/8, `::1`) are held to the cap plus [`LOOPBACK_RESERVE`],
//! and **not** to the per-address quarter: the owner is on loopback, and so are the
//! tests and the demos that run many nodes on one machine, all from 127.0.0.1. A stranger
//! reaches a node from another address, and loopback cannot be forged from the network.

use super::client::Refusal;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Connections loopback clients may open beyond `--max-connections`.
pub const LOOPBACK_RESERVE: usize = 64;
/// `Retry-After` of a connection refused for room: stalled connections end within a
/// request timeout, idle ones sooner.
const RETRY_AFTER_SECS: u32 = 2;

/// The connections open now, in all and per client address.
#[derive(Debug)]
pub struct Admission {
    max_connections: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    /// Open connections of each non-loopback address (absent: none).
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection's place; given back when dropped, however the connection
/// ended (answered, refused, the client gone, a thread that could not start).
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    /// The address counted against the per-address quarter; `None` for loopback.
    address: Option<IpAddr>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self.address);
    }
}

impl Admission {
    /// Counts for a front of at most `max_connections` connections.
    pub fn new(max_connections: usize) -> Arc<Admission> {
        Arc::new(Admission {
            max_connections,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Most connections one non-loopback address may hold: a quarter of the cap (at
    /// least one, for a cap under 4).
    pub fn per_address(&self) -> usize {
        (self.max_connections / 4).max(1)
    }

    /// Admits a connection from `address`, or says why not (503, `Retry-After`).
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Ticket, Refusal> {
        let address = address.to_canonical();
        let loopback = address.is_loopback();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let cap = if loopback {
            self.max_connections + LOOPBACK_RESERVE
        } else {
            self.max_connections
        };
        if counts.open >= cap {
            return Err(self.full(loopback));
        }
        if !loopback {
            let held = counts.by_address.entry(address).or_insert(0);
            if *held >= self.per_address() {
                let held = *held;
                return Err(self.address_full(address, held));
            }
            *held += 1;
        }
        counts.open += 1;
        Ok(Ticket {
            admission: Arc::clone(self),
            address: (!loopback).then_some(address),
        })
    }

    /// Connections open now (for tests and figures).
    #[cfg(test)]
    fn open(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).open
    }

    fn release(&self, address: Option<IpAddr>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.open -= 1;
        if let Some(address) = address
            && let Some(held) = counts.by_address.get_mut(&address)
        {
            *held -= 1;
            if *held == 0 {
                counts.by_address.remove(&address);
            }
        }
    }

    fn full(&self, loopback: bool) -> Refusal {
        let message = if loopback {
            format!(
                "the node has {} connections open, its limit ({} and {LOOPBACK_RESERVE} kept \
                 for this machine); try again shortly",
                self.max_connections + LOOPBACK_RESERVE,
                self.max_connections
            )
        } else {
            format!(
                "the node has {} connections open, its limit; try again shortly",
                self.max_connections
            )
        };
        Refusal::new(503, message).retry_after(RETRY_AFTER_SECS)
    }

    fn address_full(&self, address: IpAddr, held: usize) -> Refusal {
        Refusal::new(
            503,
            format!(
                "{address} already has {held} connections open to this node, the limit for \
                 one address (a quarter of its {}); close some and try again",
                self.max_connections
            ),
        )
        .retry_after(RETRY_AFTER_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_address_holds_a_quarter_and_gets_its_places_back() {
        let admission = Admission::new(40);
        let held: Vec<Ticket> = (0..10)
            .map(|_| admission.admit(ip("192.0.2.7")).unwrap())
            .collect();
        let refused = admission.admit(ip("192.0.2.7")).unwrap_err();
        assert_eq!(refused.status, 503);
        assert!(refused.message.contains("192.0.2.7 already has 10"));
        assert_eq!(refused.retry_after, Some(RETRY_AFTER_SECS));
        // The same address as IPv4-mapped IPv6 is the same client.
        assert!(admission.admit(ip("::ffff:192.0.2.7")).is_err());
        // Another address is not held back by it.
        let other = admission.admit(ip("192.0.2.8")).unwrap();
        assert_eq!(admission.open(), 11);
        drop(held);
        drop(other);
        assert_eq!(admission.open(), 0);
        assert!(admission.counts.lock().unwrap().by_address.is_empty());
        assert!(admission.admit(ip("::ffff:192.0.2.7")).is_ok());
    }

    #[test]
    fn loopback_keeps_a_reserve_past_the_cap_and_no_quarter() {
        let admission = Admission::new(8);
        let mut held: Vec<Ticket> = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]
            .iter()
            .flat_map(|address| [admission.admit(ip(address)), admission.admit(ip(address))])
            .map(Result::unwrap)
            .collect();
        let refused = admission.admit(ip("192.0.2.5")).unwrap_err();
        assert!(refused.message.contains("its limit"), "{}", refused.message);
        for address in ["127.0.0.1", "::1", "127.3.2.1", "::ffff:127.0.0.1"] {
            for _ in 0..LOOPBACK_RESERVE / 4 {
                held.push(admission.admit(ip(address)).unwrap());
            }
        }
        assert_eq!(admission.open(), 8 + LOOPBACK_RESERVE);
        let refused = admission.admit(ip("127.0.0.1")).unwrap_err();
        assert!(refused.message.contains("kept for this machine"));
        held.truncate(7);
        assert!(admission.admit(ip("192.0.2.5")).is_ok());
    }
}
