//! `GET /transactions/<id>` (where a payment is) and `GET /transactions/<id>/proof` (its
//! merkle branch to the header of its block), SPEC §5b. Both read the chain's
//! transaction index: the same cost on a 10-block and a 100,000-block chain.

use super::call::Call;
use crate::core::hash::TxId;
use crate::http::reply::{ApiError, Reply};
use crate::node::NodeError;

/// The path's prefix before the id.
const PREFIX: &str = "/transactions/";

/// `GET /transactions/<id>`: pooled, mined (block, confirmations), or 404.
pub(super) fn status(call: &Call) -> Reply {
    let id = id_in_path(call)?;
    let answer = call.node.transaction_status(&id).map_err(NodeError::from)?;
    Ok((200, call.json(&answer)))
}

/// `GET /transactions/<id>/proof`: the branch of a mined payment; 409 while only pooled.
pub(super) fn proof(call: &Call) -> Reply {
    let id = id_in_path(call)?;
    let answer = call.node.transaction_proof(&id).map_err(NodeError::from)?;
    Ok((200, call.json(&answer)))
}

/// The id between `/transactions/` and the end or `/proof`.
fn id_in_path(call: &Call) -> Result<TxId, ApiError> {
    let path = super::clean_path(call.request);
    let rest = path.strip_prefix(PREFIX).unwrap_or(&path);
    let text = rest.strip_suffix("/proof").unwrap_or(rest);
    text.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "{:?} is not a transaction id: send the 64 hex characters of the \"id\" that POST /transactions/new answered",
            shortened(text)
        ))
    })
}

/// At most 80 characters of what the client sent, for the error message.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
