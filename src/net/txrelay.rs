//! Transactions by id (SPEC §6b): a newly pooled transaction is announced to the relay
//! peers as its id, gathered for `--relay-batch-ms`; a node that hears of ids it lacks
//! asks the announcer's `POST /getdata` for them, each id once while that fetch is in
//! flight, and admits what comes back as relayed transactions (which it then announces
//! in turn). One transaction body crosses to each node about once, however many peers
//! announce its id.

use crate::core::hash::TxId;
use crate::net::network::MAX_OTHER_ANNOUNCERS;
use crate::net::network::Network;
use crate::net::outbox::IDS_PER_MESSAGE;
use crate::node::{Node, Source, now_ms};
use crate::wire::address::PeerUrl;
use crate::wire::protocol::{GetdataAnswer, GetdataRequest};
use log::debug;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// The batcher thread: waits for newly pooled ids, lets `--relay-batch-ms` gather more,
/// then queues each relay peer the ids it has not been told and did not send.
pub fn batch(node: &Node, network: &Network) {
    loop {
        {
            let mut pending = network.pending.lock().unwrap_or_else(|p| p.into_inner());
            while pending.is_empty() {
                pending = network
                    .pending_wake
                    .wait(pending)
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
        std::thread::sleep(network.settings.relay_batch);
        let batch: Vec<(TxId, Option<PeerUrl>)> =
            std::mem::take(&mut *network.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let now = now_ms();
        let mut dropped = 0;
        for peer in network.relay_set(node) {
            if network.book.is_other_network(&peer) || !network.book.due(&peer, now) {
                continue;
            }
            let ids: Vec<TxId> = {
                let mut told = network.told.lock().unwrap_or_else(|p| p.into_inner());
                batch
                    .iter()
                    .filter(|(id, from)| {
                        from.as_deref() != Some(peer.as_str()) && told.insert((peer.clone(), *id))
                    })
                    .map(|(id, _)| *id)
                    .collect()
            };
            if !ids.is_empty() {
                dropped += network.outbox.push_ids(&peer, ids, false);
            }
        }
        network.note_dropped(dropped);
    }
}

/// Registered `peer` announced `ids`: remembers that it knows them, and queues a
/// `/getdata` for those this node neither holds nor is already asking someone for.
/// Returns how many will be asked for.
pub fn receive(node: &Node, network: &Network, peer: &PeerUrl, ids: &[TxId]) -> usize {
    {
        let mut told = network.told.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            told.insert((peer.clone(), *id));
        }
    }
    let wanted: Vec<TxId> = ids
        .iter()
        .zip(node.holds_transactions(ids))
        .filter(|(_, held)| !held)
        .map(|(id, _)| *id)
        .collect();
    let wanted: Vec<TxId> = {
        let mut requested = network.requested.lock().unwrap_or_else(|p| p.into_inner());
        wanted
            .into_iter()
            .filter(|id| match requested.entry(*id) {
                Entry::Vacant(entry) => {
                    entry.insert(Vec::new());
                    true
                }
                Entry::Occupied(mut entry) => {
                    let others = entry.get_mut();
                    if others.len() < MAX_OTHER_ANNOUNCERS && !others.iter().any(|p| p == peer) {
                        others.push(peer.clone());
                    }
                    false
                }
            })
            .collect()
    };
    let count = wanted.len();
    if count > 0 {
        let dropped = network.outbox.push_ids(peer, wanted.clone(), true);
        if dropped > 0 {
            release(network, &wanted[count - dropped..]);
        }
        network.note_dropped(dropped);
        return count - dropped;
    }
    count
}

/// Asks `peer` for the bodies of `wanted` (on a relay thread) and admits them. A peer
/// that answers with an id not asked for, or leaves out one it announced, is counted as
/// failing (it is this node's own call); an unreachable one is marked down and the
/// ids it was to be asked for are released for other announcers.
pub fn fetch(node: &Node, network: &Network, peer: &PeerUrl, wanted: &[TxId]) {
    let url = format!("{peer}/getdata");
    let request = GetdataRequest {
        transactions: wanted.to_vec(),
    };
    let answer: Result<GetdataAnswer, _> = network.client.post(&url, &request);
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            debug!(
                "could not ask {peer} for {} transactions: {error}",
                wanted.len()
            );
            network
                .book
                .failed(peer, &error.to_string(), now_ms(), network.backoff_base());
            ask_elsewhere(network, wanted);
            ask_elsewhere(network, &network.outbox.drop_ids(peer));
            return;
        }
    };
    let asked: HashSet<TxId> = wanted.iter().copied().collect();
    let mut received = HashSet::new();
    for tx in answer.transactions.into_iter().take(IDS_PER_MESSAGE) {
        if !asked.contains(&tx.id) || !received.insert(tx.id) {
            network.book.misbehaved(
                peer,
                &format!(
                    "its /getdata answer held transaction {}, which was not asked for",
                    tx.id
                ),
            );
            continue;
        }
        let id = tx.id;
        match node.add_transaction(tx, Source::Peer(peer)) {
            Ok(_) => debug!("pooled transaction {id} from {peer}"),
            Err(error) => debug!("transaction {id} from {peer} refused: {error}"),
        }
    }
    // An id the peer says it does not hold is no fault of its own: the announcement may
    // have been made in its name (SPEC §5a). One it neither sent nor listed is.
    let missing: HashSet<TxId> = answer.missing.iter().copied().collect();
    let absent = wanted
        .iter()
        .filter(|id| !received.contains(id) && !missing.contains(id))
        .count();
    if absent > 0 {
        network.book.misbehaved(
            peer,
            &format!(
                "its /getdata answer left out {absent} transactions without listing them as missing"
            ),
        );
    }
    let (delivered, not_delivered): (Vec<TxId>, Vec<TxId>) =
        wanted.iter().partition(|id| received.contains(id));
    release(network, &delivered);
    ask_elsewhere(network, &not_delivered);
}

/// Ids one announcer did not deliver: each is asked of the next peer that announced it
/// too, if any; the others are released (a later announcement asks again).
fn ask_elsewhere(network: &Network, ids: &[TxId]) {
    let mut next: HashMap<PeerUrl, Vec<TxId>> = HashMap::new();
    {
        let mut requested = network.requested.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            match requested.get_mut(id).and_then(|others| others.pop()) {
                Some(peer) => next.entry(peer).or_default().push(*id),
                None => {
                    requested.remove(id);
                }
            }
        }
    }
    for (peer, ids) in next {
        debug!(
            "asking {peer} for {} transactions another announcer did not deliver",
            ids.len()
        );
        let count = ids.len();
        let dropped = network.outbox.push_ids(&peer, ids.clone(), true);
        if dropped > 0 {
            release(network, &ids[count - dropped..]);
        }
    }
}

/// The fetch of these ids is over, whatever came of it.
pub(crate) fn release(network: &Network, ids: &[TxId]) {
    let mut requested = network.requested.lock().unwrap_or_else(|p| p.into_inner());
    for id in ids {
        requested.remove(id);
    }
}
