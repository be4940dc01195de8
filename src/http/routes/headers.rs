//! `GET /headers` (SPEC §5b): block headers without transactions, for light clients
//! (`minichain wallet verify`, the explorer page's proof check): `?from=I&limit=N`, or
//! `?locator=...` as `/inv` takes it (headers after the first hash found on the chain).

use super::call::Call;
use super::input::{query_limit, query_locator, query_number};
use crate::http::reply::{ApiError, Reply};
use crate::wire::lookup::{DEFAULT_HEADERS, MAX_HEADERS};

/// `GET /headers`: a page of headers and the chain length.
pub(super) fn headers(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let from = query_number(request, "from")?;
    let limit = query_limit(request, DEFAULT_HEADERS, MAX_HEADERS)? as usize;
    let locator = query_locator(request)?;
    let answer = match (from, locator.is_empty()) {
        (Some(_), false) => {
            return Err(ApiError::BadRequest(
                "give either from (an index) or locator (hashes), not both".into(),
            ));
        }
        (Some(0), true) => {
            return Err(ApiError::BadRequest(
                "query parameter from is a block index: 1 (genesis) or more".into(),
            ));
        }
        (_, false) => node.headers_after(&locator, limit),
        (from, true) => node.headers(from.unwrap_or(1), limit),
    };
    Ok((200, call.json(&answer)))
}
