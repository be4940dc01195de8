//! What this node knows of each peer's health (SPEC §6a, `GET /nodes`): its node id,
//! length and tip as last heard, when it last answered, how often it failed since, and
//! when to try it again. Kept apart from the chain mutex: it is only ever locked for a
//! few map operations, never during a peer call.

use crate::core::hash::BlockHash;
use crate::net::sync::{Outcome, PeerOutcome};
use crate::node::peer_table::PeerKind;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub use crate::wire::address::{MAX_PEERS, NodeId, PeerUrl};

/// Longest wait between two tries of a peer that keeps failing.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A peer's health as `GET /nodes` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PeerStatus {
    /// It answered the last call.
    Up,
    /// The last call got no answer (or an unusable one).
    Down,
    /// It answered with another genesis or difficulty.
    OtherNetwork,
    /// Not asked yet.
    #[default]
    Unknown,
}

impl PeerStatus {
    /// The word SPEC §6a uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerStatus::Up => "up",
            PeerStatus::Down => "down",
            PeerStatus::OtherNetwork => "other network",
            PeerStatus::Unknown => "unknown",
        }
    }
}

/// One peer's entry.
#[derive(Clone, Debug, Default)]
struct Health {
    node_id: Option<NodeId>,
    length: Option<u64>,
    tip: Option<BlockHash>,
    last_seen_ms: Option<u64>,
    failures: u64,
    status: PeerStatus,
    /// When the current run of failures began (for expiry).
    down_since_ms: Option<u64>,
    /// Not tried by the background sync before this time (backoff).
    next_try_ms: u64,
    /// The last thing that went wrong with it.
    reason: Option<String>,
}

/// One line of `GET /nodes`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PeerView {
    /// The peer's address.
    pub node: PeerUrl,
    /// Its node id, once it answered.
    pub node_id: Option<NodeId>,
    /// Its chain length, as last heard.
    pub length: Option<u64>,
    /// Its tip, as last heard.
    pub tip: Option<BlockHash>,
    /// When it last answered (milliseconds since the Unix epoch).
    pub last_seen_ms: Option<u64>,
    /// Failed calls and refused offers since it last answered well.
    pub failures: u64,
    /// `up`, `down`, `other network` or `unknown`.
    pub status: &'static str,
    /// `owner` (`--peer`, or registered by the owner) or `learned` (SPEC §6c).
    pub kind: &'static str,
    /// The last thing that went wrong with it, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Every peer's health, behind its own small lock.
#[derive(Default)]
pub struct PeerBook {
    entries: Mutex<HashMap<PeerUrl, Health>>,
}

impl PeerBook {
    fn with<R>(&self, peer: &PeerUrl, change: impl FnOnce(&mut Health) -> R) -> R {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 4 * MAX_PEERS && !entries.contains_key(peer) {
            // Announcers that are not peers can fill the map; start over rather than grow.
            entries.clear();
        }
        change(entries.entry(peer.clone()).or_default())
    }

    /// The peer answered: its node id (if it said), length and tip.
    pub fn seen(
        &self,
        peer: &PeerUrl,
        node_id: Option<&NodeId>,
        length: Option<u64>,
        tip: Option<BlockHash>,
        now: u64,
    ) {
        self.with(peer, |health| {
            if let Some(node_id) = node_id {
                health.node_id = Some(node_id.clone());
            }
            if length.is_some() {
                health.length = length;
                health.tip = tip;
            }
            health.last_seen_ms = Some(now);
            health.failures = 0;
            health.status = PeerStatus::Up;
            health.down_since_ms = None;
            health.next_try_ms = 0;
            health.reason = None;
        });
    }

    /// We told the peer about `tip` (or learnt it has it): no need to tell it again.
    pub fn has_tip(&self, peer: &PeerUrl, length: u64, tip: BlockHash) {
        self.with(peer, |health| {
            health.length = Some(length);
            health.tip = Some(tip);
        });
    }

    /// Whether the peer is known to hold `tip` as its tip.
    pub fn knows_tip(&self, peer: &PeerUrl, tip: &BlockHash) -> bool {
        self.with(peer, |health| health.tip.as_ref() == Some(tip))
    }

    /// The peer answered on another network.
    pub fn other_network(&self, peer: &PeerUrl, node_id: Option<&NodeId>, reason: &str, now: u64) {
        self.with(peer, |health| {
            if let Some(node_id) = node_id {
                health.node_id = Some(node_id.clone());
            }
            health.last_seen_ms = Some(now);
            health.status = PeerStatus::OtherNetwork;
            health.down_since_ms = None;
            health.reason = Some(reason.to_string());
        });
    }

    /// A call to the peer got no usable answer: counts a failure and backs off
    /// (`base` doubled per failure, at most [`MAX_BACKOFF`]).
    pub fn failed(&self, peer: &PeerUrl, reason: &str, now: u64, base: Duration) {
        self.with(peer, |health| {
            health.failures += 1;
            health.status = PeerStatus::Down;
            health.down_since_ms.get_or_insert(now);
            let doublings = health.failures.saturating_sub(1).min(16) as u32;
            let wait = base.saturating_mul(1 << doublings).min(MAX_BACKOFF);
            health.next_try_ms = now + wait.as_millis() as u64;
            health.reason = Some(reason.to_string());
        });
    }

    /// The peer answered, but offered something refused (an invalid chain, a tip it
    /// cannot serve): counted and shown, without marking it down.
    pub fn misbehaved(&self, peer: &PeerUrl, reason: &str) {
        self.with(peer, |health| {
            health.failures += 1;
            health.reason = Some(reason.to_string());
        });
    }

    /// Records a resolve outcome.
    pub fn record(&self, outcome: &PeerOutcome, now: u64, base: Duration) {
        if !outcome.asked {
            return;
        }
        let reason = outcome.reason.as_deref().unwrap_or("");
        match outcome.status {
            Outcome::Unreachable => self.failed(&outcome.node, reason, now, base),
            Outcome::OtherNetwork => {
                self.other_network(&outcome.node, outcome.node_id.as_ref(), reason, now)
            }
            _ if outcome.node_id.is_none() => self.misbehaved(&outcome.node, reason),
            status => {
                self.seen(
                    &outcome.node,
                    outcome.node_id.as_ref(),
                    outcome.length,
                    outcome.tip,
                    now,
                );
                if status == Outcome::Invalid {
                    self.misbehaved(&outcome.node, reason);
                }
            }
        }
    }

    /// Whether the background sync should try the peer now (not backing off).
    pub fn due(&self, peer: &PeerUrl, now: u64) -> bool {
        self.with(peer, |health| health.next_try_ms <= now)
    }

    /// Whether the peer answered on another network when last asked.
    pub fn is_other_network(&self, peer: &PeerUrl) -> bool {
        self.with(peer, |health| health.status == PeerStatus::OtherNetwork)
    }

    /// How promising the peer is to ask first (lower first): up, unknown, other network,
    /// down; so peers that hang are asked last.
    pub fn rank(&self, peer: &PeerUrl) -> u8 {
        self.with(peer, |health| match health.status {
            PeerStatus::Up => 0,
            PeerStatus::Unknown => 1,
            PeerStatus::OtherNetwork => 2,
            PeerStatus::Down => 3,
        })
    }

    /// Whether the last call to the peer got no (usable) answer.
    pub fn is_down(&self, peer: &PeerUrl) -> bool {
        self.with(peer, |health| health.status == PeerStatus::Down)
    }

    /// Whether the peer answered when last asked.
    pub fn is_up(&self, peer: &PeerUrl) -> bool {
        self.with(peer, |health| health.status == PeerStatus::Up)
    }

    /// Of `peers`, those unreachable for at least `expiry`.
    pub fn expired(&self, peers: &[PeerUrl], now: u64, expiry: Duration) -> Vec<PeerUrl> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        peers
            .iter()
            .filter(|peer| {
                entries.get(*peer).is_some_and(|health| {
                    health.status == PeerStatus::Down
                        && health.down_since_ms.is_some_and(|since| {
                            now.saturating_sub(since) >= expiry.as_millis() as u64
                        })
                })
            })
            .cloned()
            .collect()
    }

    /// Of `peers`, the one whose node id is `node_id`.
    pub fn peer_with_node_id(&self, peers: &[PeerUrl], node_id: &NodeId) -> Option<PeerUrl> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        peers
            .iter()
            .find(|peer| {
                entries
                    .get(*peer)
                    .is_some_and(|health| health.node_id.as_ref() == Some(node_id))
            })
            .cloned()
    }

    /// Forgets a peer that was dropped.
    pub fn forget(&self, peer: &PeerUrl) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(peer);
    }

    /// The peer's status word and its last problem, if any.
    pub fn status(&self, peer: &PeerUrl) -> (&'static str, Option<String>) {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(peer).map_or(("unknown", None), |health| {
            (health.status.as_str(), health.reason.clone())
        })
    }

    /// Whether the peer answered `/inv` as a node of this network (and has not since
    /// answered as another): only then may its own `error` words be repeated (SPEC §6c).
    pub fn is_proven(&self, peer: &PeerUrl) -> bool {
        self.with(peer, |health| {
            health.node_id.is_some() && health.status != PeerStatus::OtherNetwork
        })
    }

    /// Of `peers`, the one with the worst record, to make room (SPEC §6c): down the
    /// longest, never seen up first; then never answered; then another network; then
    /// the one heard from least recently.
    pub fn worst(&self, peers: &[PeerUrl]) -> Option<PeerUrl> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        peers
            .iter()
            .min_by_key(|peer| {
                let health = entries.get(*peer).cloned().unwrap_or_default();
                let rank = match health.status {
                    PeerStatus::Down => 0,
                    PeerStatus::Unknown => 1,
                    PeerStatus::OtherNetwork => 2,
                    PeerStatus::Up => 3,
                };
                let since = match health.status {
                    PeerStatus::Down => health.down_since_ms.unwrap_or(0),
                    _ => health.last_seen_ms.unwrap_or(0),
                };
                (rank, health.last_seen_ms.is_some(), since)
            })
            .cloned()
    }

    /// `GET /nodes`: one line per peer, in the order given.
    pub fn view(&self, peers: &[(PeerUrl, PeerKind)]) -> Vec<PeerView> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        peers
            .iter()
            .map(|(peer, kind)| {
                let health = entries.get(peer).cloned().unwrap_or_default();
                PeerView {
                    kind: kind.as_str(),
                    node: peer.clone(),
                    node_id: health.node_id,
                    length: health.length,
                    tip: health.tip,
                    last_seen_ms: health.last_seen_ms,
                    failures: health.failures,
                    status: health.status.as_str(),
                    reason: health.reason,
                }
            })
            .collect()
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
    fn failures_back_off_and_expire() {
        let book = PeerBook::default();
        let peers = vec![url("http://a:1")];
        let a = &peers[0];
        let base = Duration::from_millis(100);
        assert!(book.due(a, 0));
        book.failed(a, "refused", 1000, base);
        assert!(!book.due(a, 1050));
        assert!(book.due(a, 1100));
        book.failed(a, "refused", 1100, base);
        assert!(!book.due(a, 1250), "the wait doubles");
        assert!(
            book.expired(&peers, 1500, Duration::from_millis(600))
                .is_empty()
        );
        assert_eq!(
            book.expired(&peers, 1600, Duration::from_millis(600)),
            peers
        );
        book.seen(a, Some(&NodeId::new("id")), Some(3), None, 1700);
        assert!(
            book.expired(&peers, 9999, Duration::from_millis(600))
                .is_empty()
        );
        let view = book.view(&[(peers[0].clone(), PeerKind::Owner)]);
        assert_eq!(view[0].status, "up");
        assert_eq!(view[0].failures, 0);
        assert_eq!(view[0].kind, "owner");
        assert!(book.is_proven(a));
        assert_eq!(
            book.peer_with_node_id(&peers, &NodeId::new("id")).as_ref(),
            Some(a)
        );
    }
}
