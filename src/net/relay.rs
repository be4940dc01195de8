//! The live network's threads (SPEC §6a, §6b): a fixed, small set that pushes the node's
//! news to a few relay peers, fetches what peers announced, batches transaction ids and
//! runs the background sync.
//!
//! Work for a peer (announce our tip and new transaction ids, ask it for the bodies of the
//! ids it announced, fetch a tip it announced) waits in that peer's slot of the outbox
//! (`net::outbox`), which coalesces and is bounded; the HTTP threads only ever add to it:
//! they never wait for a peer. No lock is held during a peer call.

use crate::net::network::{Network, Settings};
use crate::net::outbox::Turn;
use crate::net::{announce, heal, txrelay};
use crate::node::{Listener, Node};
use crate::wire::client::PeerClient;
use log::error;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// Background threads that talk to peers for the outbox.
pub const RELAY_WORKERS: usize = 4;

/// Makes the node's [`Network`], attaches it as the node's listener and, unless relay is
/// off, starts the outbox threads, the batcher of transaction ids and the background
/// sync; returns it for the routes. With `--no-relay` the network still keeps peer
/// health and the single `/nodes/resolve` run, and sends nothing by itself.
pub fn start(node: &Node, settings: Settings, client: PeerClient) -> Arc<Network> {
    let network = Arc::new(Network::new(settings, client));
    node.attach_listener(Arc::clone(&network) as Arc<dyn Listener>);
    if !settings.relay {
        return network;
    }
    let spawn = |name: String, job: fn(&Node, &Network)| {
        let (node, network) = (node.clone(), Arc::clone(&network));
        std::thread::Builder::new()
            .name(name)
            .spawn(move || job(&node, &network))
            .expect("can start a network thread");
    };
    for number in 0..RELAY_WORKERS {
        spawn(format!("relay-{number}"), work);
    }
    spawn("relay-batch".into(), txrelay::batch);
    spawn("sync".into(), heal::run);
    network
}

/// A relay thread: takes turns from the outbox for ever.
fn work(node: &Node, network: &Network) {
    loop {
        let turn = network.outbox.take();
        let peer = turn.peer.clone();
        let (fetch, wanted) = (turn.fetch, turn.wanted.clone());
        // A bug in one turn must not wedge this peer's slot or strand its ids.
        if catch_unwind(AssertUnwindSafe(|| take_turn(node, network, turn))).is_err() {
            error!("a relay thread failed on work for {peer} (a bug); that work is dropped");
            if let Some((_, tip)) = fetch {
                network.end_fetch(&tip);
            }
            txrelay::release(network, &wanted);
        }
        network.outbox.done(&peer);
    }
}

/// One turn of work for one peer: fetch what it announced, ask it for the transactions
/// we want, announce ours.
fn take_turn(node: &Node, network: &Network, turn: Turn) {
    if let Some((length, tip)) = turn.fetch
        && network.start_fetch(tip)
    {
        announce::fetch_announced(node, network, &turn.peer, length, tip);
        network.end_fetch(&tip);
        network.retry_orphans(node);
    }
    if !turn.wanted.is_empty() {
        txrelay::fetch(node, network, &turn.peer, &turn.wanted);
    }
    if turn.announce || !turn.ids.is_empty() {
        announce::send(node, network, &turn.peer, &turn.ids);
    }
}
