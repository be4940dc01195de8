//! The registered peers (SPEC §6c): the owner registers and forgets them, all or
//! nothing; strangers and peer exchange add learned peers within their limits; expiry
//! drops learned peers only. Every change is persisted before it is answered.

use super::peer_table::{LearnRefused, Learned, PeerKind};
use super::{Node, NodeError};
use crate::wire::address::{PeerUrl, is_own_address, normalize_peer};
use crate::wire::error::NetError;
use log::info;

impl Node {
    /// Registered peers, in registration order.
    pub fn peers(&self) -> Vec<PeerUrl> {
        self.lock().peers.urls()
    }

    /// Registered peers with who put each there.
    pub fn peer_entries(&self) -> Vec<(PeerUrl, PeerKind)> {
        self.lock().peers.entries().to_vec()
    }

    /// Whether the owner forgot `url` (SPEC §6c: forget means forget).
    pub fn is_forgotten(&self, url: &PeerUrl) -> bool {
        self.lock().peers.is_forgotten(url)
    }

    /// How many listed peers `source` put there.
    pub fn peers_from(&self, source: &str) -> usize {
        self.lock().peers.count_from(source)
    }

    /// The owner registers peers, all or nothing: they become the owner's (never
    /// displaced or expired) and are no longer forgotten. Returns the whole list.
    pub fn register_peers(&self, peers: &[PeerUrl]) -> Result<Vec<PeerUrl>, NodeError> {
        self.refuse_own(peers)?;
        let mut state = self.lock();
        let mut table = state.peers.clone();
        let joined = table.add_owners(peers)?;
        if table != state.peers {
            state.store.save_peers(&table.to_stored())?;
            if !joined.is_empty() {
                info!(
                    "{} joined: {}; {} now",
                    plural(joined.len(), "peer"),
                    list(&joined),
                    plural(table.entries().len(), "peer")
                );
            }
            state.peers = table;
        }
        Ok(state.peers.urls())
    }

    /// Adds a learned peer told of by `source` (at most `limit` from it), displacing the
    /// learned peer `worst` picks when the list is full (SPEC §6c).
    pub fn learn_peer(
        &self,
        url: &PeerUrl,
        source: &str,
        limit: usize,
        worst: impl FnOnce(&[PeerUrl]) -> Option<PeerUrl>,
    ) -> Result<Learned, LearnRefused> {
        let mut state = self.lock();
        let mut table = state.peers.clone();
        let learned = table.learn(url, source, limit, worst)?;
        if let Learned::Added { displaced } = &learned {
            if let Err(error) = state.store.save_peers(&table.to_stored()) {
                log::warn!("could not save learned peer {url}: {error}");
                return Err(LearnRefused::Full);
            }
            match displaced {
                Some(old) => info!("peer joined: {url} (from {source}), replacing {old}"),
                None => info!("peer joined: {url} (from {source})"),
            }
            state.peers = table;
        }
        Ok(learned)
    }

    /// The owner forgets peers, all or nothing: an address that is not registered is a
    /// 404. Forgotten addresses are remembered (persisted) so that neither peer exchange
    /// nor a stranger brings them back.
    pub fn unregister_peers(&self, addresses: &[String]) -> Result<Vec<PeerUrl>, NodeError> {
        let normalised = addresses
            .iter()
            .map(|address| normalize_peer(address).map_err(NetError::Address))
            .collect::<Result<Vec<PeerUrl>, NetError>>()?;
        let mut state = self.lock();
        let mut table = state.peers.clone();
        table.forget(&normalised)?;
        state.store.save_peers(&table.to_stored())?;
        info!(
            "{} left: {}; {} now",
            plural(normalised.len(), "peer"),
            list(&normalised),
            plural(table.entries().len(), "peer")
        );
        state.peers = table;
        Ok(state.peers.urls())
    }

    /// Drops a learned peer that stayed unreachable; the owner's peers stay (retried with
    /// backoff). Returns whether it was dropped.
    pub fn drop_learned_peer(&self, url: &PeerUrl) -> Result<bool, NodeError> {
        let mut state = self.lock();
        let mut table = state.peers.clone();
        if !table.drop_learned(url) {
            return Ok(false);
        }
        state.store.save_peers(&table.to_stored())?;
        state.peers = table;
        Ok(true)
    }

    /// Refuses the list if it names this node itself.
    fn refuse_own(&self, peers: &[PeerUrl]) -> Result<(), NetError> {
        let identity = self.identity();
        match peers.iter().find(|peer| {
            is_own_address(peer, &identity.bound_host, identity.port) || **peer == identity.url
        }) {
            Some(own) => Err(NetError::OwnAddress {
                address: own.to_string(),
                url: identity.url.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// `http://a:1, http://b:2`.
fn list(peers: &[PeerUrl]) -> String {
    let texts: Vec<&str> = peers.iter().map(PeerUrl::as_str).collect();
    texts.join(", ")
}

/// `1 peer`, `2 peers`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
