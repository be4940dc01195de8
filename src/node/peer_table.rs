//! The peer list with who put each peer there (SPEC §6c): the owner's peers (`--peer`,
//! registered by the owner), never displaced, expired or refused for room; and learned
//! peers (registered by a stranger for itself, or listed by a peer in peer exchange), at
//! most [`MAX_LEARNED`] in all and [`MAX_PER_SOURCE`] from any one source, the worst
//! replaced when full. Addresses the owner forgot stay forgotten until the owner registers
//! them again. Pure bookkeeping: no I/O, no clock; `node::peers` locks and persists it.

use crate::core::error_from;
use crate::store::StoredPeers;
use crate::wire::address::{AddressError, PeerUrl, normalize_peer};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Most learned peers a node keeps (SPEC §6c).
pub const MAX_LEARNED: usize = 1000;
/// Most learned peers from one source: one client address, or one peer's list.
pub const MAX_PER_SOURCE: usize = 8;
/// Most ports one client address may register for itself.
pub const MAX_PORTS_PER_CLIENT: usize = 4;
/// Most of the owner's own peers (the owner decides; this only bounds a mistake).
pub const MAX_OWNER_PEERS: usize = 1000;
/// Most forgotten addresses remembered (the oldest is let go first).
pub const MAX_FORGOTTEN: usize = 10_000;

/// Who put a peer in the list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PeerKind {
    /// `--peer`, or registered by the owner: kept until the owner forgets it.
    Owner,
    /// Learned from `source`: a stranger's client address (`client 10.0.0.7`) or the peer
    /// whose list named it.
    Learned {
        /// Who told us.
        source: String,
    },
}

impl PeerKind {
    /// The word `GET /nodes` shows: `owner` or `learned`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PeerKind::Owner => "owner",
            PeerKind::Learned { .. } => "learned",
        }
    }

    /// The source a stranger's own registration is counted under.
    pub fn client(ip: std::net::IpAddr) -> PeerKind {
        PeerKind::Learned {
            source: format!("client {ip}"),
        }
    }
}

/// Why a learned peer was not added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LearnRefused {
    /// The owner forgot this address.
    Forgotten,
    /// Its source already has [`MAX_PER_SOURCE`] (or, for a client, [`MAX_PORTS_PER_CLIENT`]).
    SourceFull {
        /// The limit that applies.
        limit: usize,
    },
    /// Full of learned peers and none could be displaced.
    Full,
}

impl fmt::Display for LearnRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LearnRefused::Forgotten => f.write_str(
                "this node's owner forgot that address (DELETE /nodes/register); only the owner can register it again",
            ),
            LearnRefused::SourceFull { limit } => write!(
                f,
                "at most {limit} peers come from one address; forget one of them first"
            ),
            LearnRefused::Full => write!(f, "this node keeps at most {MAX_LEARNED} learned peers"),
        }
    }
}

/// Why the owner's change to the peer list was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeersError {
    /// The owner's peers would pass [`MAX_OWNER_PEERS`] (`owners` after the change).
    TooManyOwnerPeers { owners: usize },
    /// A peer to forget that is not registered.
    NotRegistered { peer: PeerUrl },
    /// A learned peer this node will not add.
    Learn(LearnRefused),
}

impl fmt::Display for PeersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeersError::TooManyOwnerPeers { owners } => write!(
                f,
                "a node keeps at most {MAX_OWNER_PEERS} of its owner's peers; this would make {owners}; forget some first (DELETE /nodes/register)"
            ),
            PeersError::NotRegistered { peer } => write!(
                f,
                "{peer} is not a registered peer; GET /nodes/register lists them"
            ),
            PeersError::Learn(refused) => refused.fmt(f),
        }
    }
}

impl std::error::Error for PeersError {}

error_from!(PeersError { Learn(LearnRefused) });

/// What adding a learned peer did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Learned {
    /// Already in the list (of either kind): nothing changed.
    Known,
    /// Added; `displaced` is the learned peer it replaced, if the list was full.
    Added {
        /// The learned peer dropped to make room.
        displaced: Option<PeerUrl>,
    },
}

/// The peer list: every peer in registration order with its kind, and the forgotten.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerTable {
    peers: Vec<(PeerUrl, PeerKind)>,
    forgotten: Vec<PeerUrl>,
}

impl PeerTable {
    /// The table a data directory held (a file from before kinds: every peer the owner's);
    /// refused if an address in it is not in its normal form (the file was edited).
    pub fn from_stored(stored: StoredPeers) -> Result<PeerTable, AddressError> {
        let peers = stored
            .peers
            .iter()
            .map(|text| {
                let kind = match stored.learned.get(text) {
                    Some(source) => PeerKind::Learned {
                        source: source.clone(),
                    },
                    None => PeerKind::Owner,
                };
                Ok((stored_url(text)?, kind))
            })
            .collect::<Result<_, AddressError>>()?;
        let forgotten = stored
            .forgotten
            .iter()
            .map(|text| stored_url(text))
            .collect::<Result<_, AddressError>>()?;
        Ok(PeerTable { peers, forgotten })
    }

    /// What the store keeps.
    pub fn to_stored(&self) -> StoredPeers {
        StoredPeers {
            peers: self.urls().iter().map(PeerUrl::to_string).collect(),
            learned: self
                .peers
                .iter()
                .filter_map(|(url, kind)| match kind {
                    PeerKind::Learned { source } => Some((url.to_string(), source.clone())),
                    PeerKind::Owner => None,
                })
                .collect::<BTreeMap<_, _>>(),
            forgotten: self.forgotten.iter().map(PeerUrl::to_string).collect(),
        }
    }

    /// Every peer's address, in registration order.
    pub fn urls(&self) -> Vec<PeerUrl> {
        self.peers.iter().map(|(url, _)| url.clone()).collect()
    }

    /// Every peer with its kind, in registration order.
    pub fn entries(&self) -> &[(PeerUrl, PeerKind)] {
        &self.peers
    }

    /// The kind of a listed peer.
    pub fn kind_of(&self, url: &PeerUrl) -> Option<&PeerKind> {
        self.peers
            .iter()
            .find(|(listed, _)| listed == url)
            .map(|(_, kind)| kind)
    }

    /// Whether the owner forgot `url`.
    pub fn is_forgotten(&self, url: &PeerUrl) -> bool {
        self.forgotten.iter().any(|forgotten| forgotten == url)
    }

    /// How many listed peers a source put there.
    pub fn count_from(&self, source: &str) -> usize {
        self.peers
            .iter()
            .filter(|(_, kind)| matches!(kind, PeerKind::Learned { source: s } if s == source))
            .count()
    }

    /// The owner registers `urls`: added (or made the owner's, if learned), no longer
    /// forgotten. Returns those new to the list; `Err` (the owner's count) past
    /// [`MAX_OWNER_PEERS`], changing nothing.
    pub fn add_owners(&mut self, urls: &[PeerUrl]) -> Result<Vec<PeerUrl>, PeersError> {
        let mut next = self.clone();
        let mut joined = Vec::new();
        for url in urls {
            match next.peers.iter_mut().find(|(listed, _)| listed == url) {
                Some((_, kind)) => *kind = PeerKind::Owner,
                None => {
                    next.peers.push((url.clone(), PeerKind::Owner));
                    joined.push(url.clone());
                }
            }
            next.forgotten.retain(|forgotten| forgotten != url);
        }
        let owners = next
            .peers
            .iter()
            .filter(|(_, kind)| *kind == PeerKind::Owner)
            .count();
        if owners > MAX_OWNER_PEERS {
            return Err(PeersError::TooManyOwnerPeers { owners });
        }
        *self = next;
        Ok(joined)
    }

    /// Adds a learned peer from `source` (`limit` per source), displacing the learned
    /// peer `worst` picks among the learned ones when full.
    pub fn learn(
        &mut self,
        url: &PeerUrl,
        source: &str,
        limit: usize,
        worst: impl FnOnce(&[PeerUrl]) -> Option<PeerUrl>,
    ) -> Result<Learned, LearnRefused> {
        if self.kind_of(url).is_some() {
            return Ok(Learned::Known);
        }
        if self.is_forgotten(url) {
            return Err(LearnRefused::Forgotten);
        }
        if self.count_from(source) >= limit {
            return Err(LearnRefused::SourceFull { limit });
        }
        let learned: Vec<PeerUrl> = self
            .peers
            .iter()
            .filter(|(_, kind)| *kind != PeerKind::Owner)
            .map(|(url, _)| url.clone())
            .collect();
        let mut displaced = None;
        if learned.len() >= MAX_LEARNED {
            let victim = worst(&learned)
                .filter(|victim| learned.contains(victim))
                .ok_or(LearnRefused::Full)?;
            self.peers.retain(|(listed, _)| *listed != victim);
            displaced = Some(victim);
        }
        self.peers.push((
            url.clone(),
            PeerKind::Learned {
                source: source.to_string(),
            },
        ));
        Ok(Learned::Added { displaced })
    }

    /// The owner forgets `urls` (all listed, else `Err` with the first that is not):
    /// removed and remembered as forgotten.
    pub fn forget(&mut self, urls: &[PeerUrl]) -> Result<(), PeersError> {
        if let Some(missing) = urls.iter().find(|url| self.kind_of(url).is_none()) {
            return Err(PeersError::NotRegistered {
                peer: missing.clone(),
            });
        }
        self.peers.retain(|(listed, _)| !urls.contains(listed));
        for url in urls {
            if !self.is_forgotten(url) {
                self.forgotten.push(url.clone());
            }
        }
        let excess = self.forgotten.len().saturating_sub(MAX_FORGOTTEN);
        self.forgotten.drain(..excess);
        Ok(())
    }

    /// Drops a learned peer that stayed unreachable (not forgotten: it may come back).
    /// The owner's peers are never dropped this way; returns whether it was dropped.
    pub fn drop_learned(&mut self, url: &PeerUrl) -> bool {
        let before = self.peers.len();
        self.peers
            .retain(|(listed, kind)| listed != url || *kind == PeerKind::Owner);
        self.peers.len() != before
    }

    /// How many peers of each kind (owner, learned).
    pub fn counts(&self) -> (usize, usize) {
        let owners = self
            .peers
            .iter()
            .filter(|(_, kind)| *kind == PeerKind::Owner)
            .count();
        (owners, self.peers.len() - owners)
    }
}

/// A stored address, which must already be in its normal form.
fn stored_url(text: &str) -> Result<PeerUrl, AddressError> {
    match normalize_peer(text) {
        Ok(url) if url == text => Ok(url),
        Ok(_) => Err(AddressError {
            input: text.to_string(),
            reason: "not in its normal form".into(),
        }),
        Err(error) => Err(error),
    }
}

/// Sources of the listed learned peers, counted (for tests and logs).
pub fn per_source(table: &PeerTable) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for (_, kind) in table.entries() {
        if let PeerKind::Learned { source } = kind {
            *counts.entry(source.clone()).or_default() += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(n: usize) -> PeerUrl {
        peer(&format!("http://10.0.{}.{}:5000", n / 250, n % 250 + 1))
    }

    fn peer(text: &str) -> PeerUrl {
        normalize_peer(text).unwrap()
    }

    #[test]
    fn a_source_adds_at_most_its_limit() {
        let mut table = PeerTable::default();
        for n in 0..MAX_PER_SOURCE {
            assert!(matches!(
                table.learn(&url(n), "peer x", MAX_PER_SOURCE, |_| None),
                Ok(Learned::Added { displaced: None })
            ));
        }
        assert_eq!(
            table.learn(&url(99), "peer x", MAX_PER_SOURCE, |_| None),
            Err(LearnRefused::SourceFull {
                limit: MAX_PER_SOURCE
            })
        );
        assert!(
            table
                .learn(&url(99), "peer y", MAX_PER_SOURCE, |_| None)
                .is_ok()
        );
        assert_eq!(per_source(&table)["peer x"], MAX_PER_SOURCE);
    }

    #[test]
    fn when_full_the_worst_learned_peer_goes_never_an_owners() {
        let mut table = PeerTable::default();
        table.add_owners(&[peer("http://owner:1")]).unwrap();
        for n in 0..MAX_LEARNED {
            table
                .learn(&url(n), &format!("s{}", n / 8), MAX_PER_SOURCE, |_| None)
                .unwrap();
        }
        assert_eq!(table.counts(), (1, MAX_LEARNED));
        let added = table.learn(&peer("http://new:1"), "fresh", MAX_PER_SOURCE, |learned| {
            assert!(!learned.contains(&peer("http://owner:1")));
            Some(url(7))
        });
        assert_eq!(
            added,
            Ok(Learned::Added {
                displaced: Some(url(7))
            })
        );
        assert_eq!(table.counts(), (1, MAX_LEARNED));
        // A victim that is not learned (the owner's) is refused.
        assert_eq!(
            table.learn(&peer("http://new:2"), "fresh", MAX_PER_SOURCE, |_| Some(
                peer("http://owner:1")
            )),
            Err(LearnRefused::Full)
        );
        // The owner is never refused for room.
        assert!(table.add_owners(&[peer("http://owner:2")]).is_ok());
    }

    #[test]
    fn forgotten_stays_forgotten_until_the_owner_registers_it() {
        let mut table = PeerTable::default();
        table.learn(&url(1), "s", MAX_PER_SOURCE, |_| None).unwrap();
        table.forget(&[url(1)]).unwrap();
        assert_eq!(
            table.learn(&url(1), "s", MAX_PER_SOURCE, |_| None),
            Err(LearnRefused::Forgotten)
        );
        let stored = table.to_stored();
        let mut back = PeerTable::from_stored(stored).unwrap();
        assert!(back.is_forgotten(&url(1)));
        assert_eq!(back.add_owners(&[url(1)]), Ok(vec![url(1)]));
        assert!(!back.is_forgotten(&url(1)));
        assert_eq!(back.kind_of(&url(1)), Some(&PeerKind::Owner));
        assert_eq!(
            back.forget(&[url(2)]),
            Err(PeersError::NotRegistered { peer: url(2) })
        );
    }

    #[test]
    fn expiry_drops_only_learned_peers() {
        let mut table = PeerTable::default();
        table.add_owners(&[url(1)]).unwrap();
        table.learn(&url(2), "s", MAX_PER_SOURCE, |_| None).unwrap();
        assert!(!table.drop_learned(&url(1)));
        assert!(table.drop_learned(&url(2)));
        assert_eq!(table.urls(), vec![url(1)]);
        assert!(!table.is_forgotten(&url(2)));
    }
}
