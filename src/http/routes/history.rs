//! `GET /history?address=A` (SPEC §5b): an address's payments, newest first, mined and
//! pooled, read from the chain's address index (no scan of the chain); `&limit=N` (at
//! most 500) and `&before=I` page back from block index I, following `next`.

use super::call::Call;
use super::input::{query_limit, query_number};
use crate::http::reply::{ApiError, Reply};
use crate::wire::lookup::{DEFAULT_HISTORY, MAX_HISTORY};

/// `GET /history`: one page of the address's payments and the `before` of the next.
pub(super) fn history(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    // Any non-empty string is an address to look up; one no payment names has no history.
    let address = match request.get_param("address") {
        Some(address) if !address.is_empty() => address,
        _ => {
            return Err(ApiError::BadRequest(
                "query parameter address is required: /history?address=alice".into(),
            ));
        }
    };
    let limit = query_limit(request, DEFAULT_HISTORY, MAX_HISTORY)? as usize;
    let before = query_number(request, "before")?;
    let answer = node.history(&address, before, limit);
    Ok((200, call.json(&answer)))
}
