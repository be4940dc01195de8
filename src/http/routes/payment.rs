//! `GET /transactions/<id>` (where a payment is) and `GET /transactions/<id>/proof` (its
//! merkle branch to the header of its block), SPEC §5b. Both read the chain's
//! transaction index: the same cost on a 10-block and a 100,000-block chain.

use super::call::Call;
use crate::core::hash::TxId;
use crate::http::reply::{ApiError, Reply, to_json};
use crate::node::ProofLookup;

/// The path's prefix before the id.
const PREFIX: &str = "/transactions/";

/// `GET /transactions/<id>`: pooled, mined (block, confirmations), or 404.
pub(super) fn status(call: &Call) -> Reply {
    let id = id_in_path(call)?;
    match call.node.transaction_status(&id) {
        Some(answer) => Ok((200, to_json(&answer))),
        None => Err(unknown(&id)),
    }
}

/// `GET /transactions/<id>/proof`: the branch of a mined payment; 409 while only pooled.
pub(super) fn proof(call: &Call) -> Reply {
    let id = id_in_path(call)?;
    match call.node.transaction_proof(&id) {
        ProofLookup::Mined(answer) => Ok((200, to_json(&answer))),
        ProofLookup::Pooled => Err(ApiError::Conflict(format!(
            "transaction {id} is in the pool, not yet in a block, so there is no proof yet; mine a block (or wait for one) and ask again"
        ))),
        ProofLookup::Unknown => Err(unknown(&id)),
    }
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

fn unknown(id: &TxId) -> ApiError {
    ApiError::NotFound(format!(
        "transaction {id} is neither in this node's chain nor in its pool; check the id, or ask the node you sent it to"
    ))
}

/// At most 80 characters of what the client sent, for the error message.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
