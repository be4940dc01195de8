//! The registered peers: listing, registering and forgetting them (all or nothing).

use super::{Node, NodeError};
use crate::wire::address::{MAX_PEERS, is_own_address, normalize_peer};
use log::info;

impl Node {
    /// Registered peers.
    pub fn peers(&self) -> Vec<String> {
        self.lock().peers.clone()
    }

    /// Registers peers, all or nothing; returns the whole list.
    pub fn register_peers(&self, addresses: &[String]) -> Result<Vec<String>, NodeError> {
        let normalised = self.normalise_all(addresses)?;
        let mut state = self.lock();
        let mut peers = state.peers.clone();
        for peer in normalised {
            if !peers.contains(&peer) {
                peers.push(peer);
            }
        }
        if peers.len() > MAX_PEERS {
            return Err(NodeError::BadRequest(format!(
                "a node keeps at most {MAX_PEERS} peers; {} are registered, this would make {}; forget some first (DELETE /nodes/register)",
                state.peers.len(),
                peers.len()
            )));
        }
        if peers != state.peers {
            state.store.save_peers(&peers)?;
            let joined = &peers[state.peers.len()..];
            info!(
                "peer{} joined: {}; {} peers now",
                if joined.len() == 1 { "" } else { "s" },
                joined.join(", "),
                peers.len()
            );
            state.peers = peers;
        }
        Ok(state.peers.clone())
    }

    /// Forgets peers, all or nothing: an address that is not registered is a 404.
    pub fn unregister_peers(&self, addresses: &[String]) -> Result<Vec<String>, NodeError> {
        let mut normalised = Vec::new();
        for address in addresses {
            normalised.push(
                normalize_peer(address)
                    .map_err(|error| NodeError::BadRequest(error.to_string()))?,
            );
        }
        let mut state = self.lock();
        if let Some(missing) = normalised.iter().find(|peer| !state.peers.contains(peer)) {
            return Err(NodeError::NotFound(format!(
                "{missing} is not a registered peer; GET /nodes/register lists them"
            )));
        }
        let peers: Vec<String> = state
            .peers
            .iter()
            .filter(|peer| !normalised.contains(peer))
            .cloned()
            .collect();
        state.store.save_peers(&peers)?;
        info!(
            "peer{} left: {}; {} peers now",
            if normalised.len() == 1 { "" } else { "s" },
            normalised.join(", "),
            peers.len()
        );
        state.peers = peers;
        Ok(state.peers.clone())
    }

    /// Normalises addresses, refusing our own and any malformed one (all or nothing).
    fn normalise_all(&self, addresses: &[String]) -> Result<Vec<String>, NodeError> {
        let identity = self.identity();
        let mut normalised = Vec::new();
        for address in addresses {
            let peer = normalize_peer(address)
                .map_err(|error| NodeError::BadRequest(error.to_string()))?;
            if is_own_address(&peer, &identity.bound_host, identity.port) || peer == identity.url {
                return Err(NodeError::BadRequest(format!(
                    "peer address {address:?} is this node itself ({}); register other nodes",
                    identity.url
                )));
            }
            normalised.push(peer);
        }
        Ok(normalised)
    }
}
