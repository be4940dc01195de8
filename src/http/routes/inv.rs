//! The getblocks/inv exchange: `GET /inv` (our inventory), `POST /inv` (a peer's
//! announcement) and `GET /getblocks` (what each peer has that we lack).

use super::call::Call;
use super::input::{query_locator, query_number, read_bytes};
use crate::http::json::{BodyError, from_slice};
use crate::http::reply::{ApiError, Reply};
use crate::net::{announce, sync};
use crate::wire::protocol::Announcement;
use serde::Serialize;
use serde_json::json;

/// Default and largest `/inv` block count.
pub const DEFAULT_INV_LIMIT: u64 = 500;
/// Largest `/inv` block count.
pub const MAX_INV_LIMIT: u64 = 2000;

/// `GET /inv`: our inventory after the first locator hash we hold.
pub(super) fn inv(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let limit = query_number(request, "limit")?
        .unwrap_or(DEFAULT_INV_LIMIT)
        .min(MAX_INV_LIMIT);
    let locator = query_locator(request)?;
    Ok((200, call.json(&node.inventory(&locator, limit as usize))))
}

/// `POST /inv`: a peer announces its tip (SPEC §6a); answered at once.
pub(super) fn announced(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let announcement = match from_slice::<Announcement>(&read_bytes(request)?) {
        Err(BodyError::Fields(error)) => {
            return Err(ApiError::BadRequest(format!(
                "an announcement is {{\"node\", \"node_id\"}} with {{\"length\", \"tip\", \"genesis\"}} and/or \"transactions\": [ids]: {error}"
            )));
        }
        other => other?,
    };
    let message = announce::receive(node, call.network, announcement)?;
    Ok((202, call.json(&json!({ "message": message }))))
}

/// `GET /getblocks`: each peer's inventory beyond ours; changes nothing.
pub(super) fn getblocks(call: &Call) -> Reply {
    let node = call.node;
    Ok((
        200,
        call.json(&GetblocksAnswer {
            information: call.network.getblocks(node),
        }),
    ))
}

/// `/getblocks`: one entry per peer.
#[derive(Serialize)]
struct GetblocksAnswer {
    information: Vec<sync::PeerInventory>,
}
