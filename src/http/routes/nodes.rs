//! The peer list: `/nodes/register` (list, add, forget), `GET /nodes` (their health) and
//! `/nodes/resolve` (consensus with every peer).

use super::call::Call;
use super::input::read_body;
use crate::http::reply::Reply;
use crate::net::join::{self, Caller};
use crate::net::self_name::reachable_urls;
use crate::wire::protocol::NodeList;
use serde::Serialize;
use serde_json::json;

/// `POST /nodes/register`: add peers (asking each its `/inv`), all or nothing. The owner
/// registers anything; anyone else only its own address (SPEC §6c).
pub(super) fn register(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let NodeList { nodes: addresses } = read_body(request)?;
    let caller = match call.owner.check(request) {
        Ok(()) if request.header(join::LEARNED_HEADER).is_some() => Caller::OwnerLearned,
        Ok(()) => Caller::Owner,
        Err(_) => Caller::Stranger(request.remote_addr().ip()),
    };
    let registered = join::register(node, call.network, &addresses, caller)?;
    let message = if registered.merged.is_empty() {
        "New nodes have been added".to_string()
    } else {
        format!(
            "New nodes have been added; kept once: {}",
            registered.merged.join("; ")
        )
    };
    Ok((
        201,
        call.json(&json!({ "message": message, "total_nodes": registered.peers })),
    ))
}

/// `DELETE /nodes/register`: forget these peers.
pub(super) fn unregister(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let NodeList { nodes: addresses } = read_body(request)?;
    let peers = node.unregister_peers(&addresses)?;
    Ok((
        200,
        call.json(&json!({ "message": "Nodes have been removed", "total_nodes": peers })),
    ))
}

/// `GET /nodes`: each peer with what this node knows of it (SPEC §6a).
pub(super) fn nodes(call: &Call) -> Reply {
    let node = call.node;
    let view = call.network.book.view(&node.peer_entries());
    #[derive(Serialize)]
    struct Answer {
        nodes: Vec<crate::net::peer_book::PeerView>,
        /// Where other machines reach this node (SPEC §6c): what to tell classmates.
        reachable_at: Vec<String>,
    }
    let reachable_at = reachable_urls(node.identity());
    Ok((
        200,
        call.json(&Answer {
            nodes: view,
            reachable_at,
        }),
    ))
}

/// `/nodes/resolve`: consensus with every peer (SPEC §6).
pub(super) fn resolve(call: &Call) -> Reply {
    Ok((200, call.json(&call.network.resolve(call.node))))
}

/// `GET /nodes/register`: the peer list.
pub(super) fn list(call: &Call) -> Reply {
    Ok((200, call.json(&json!({ "total_nodes": call.node.peers() }))))
}
