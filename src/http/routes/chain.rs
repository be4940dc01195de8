//! `GET /chain` (whole, or a page) and `/restart` (back to genesis).

use super::call::Call;
use super::capped::{Capped, MAX_PAGE_JSON_BYTES, Written};
use super::input::query_number;
use crate::http::reply::{ApiError, Reply};
use crate::wire::protocol::{ChainPage, CompactBlock};
use serde_json::json;

/// Largest `/chain` page.
pub const MAX_CHAIN_PAGE: u64 = 500;

/// `GET /chain`: the whole chain, or a page of it (`from`, `limit`; a page stops after
/// the block that takes it past 16 MiB of JSON), and the full length; `compact=1` sends
/// compact blocks (SPEC §6b).
pub(super) fn chain(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let from = query_number(request, "from")?;
    let limit = query_number(request, "limit")?;
    let compact = match request.get_param("compact").as_deref() {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "query parameter compact must be 1 or 0, got {other:?}"
            )));
        }
    };
    let whole = from.is_none() && limit.is_none();
    let (blocks, length) = if whole {
        node.chain()
    } else {
        let limit = limit.unwrap_or(MAX_CHAIN_PAGE).min(MAX_CHAIN_PAGE);
        node.chain_page(from.unwrap_or(1), limit as usize)
    };
    let cap = if whole {
        usize::MAX
    } else {
        MAX_PAGE_JSON_BYTES
    };
    let written = Written::default();
    let body = if compact {
        let compact: Vec<CompactBlock> = blocks.iter().map(CompactBlock::of).collect();
        let chain = Capped::new(&compact, &written, cap);
        call.json_capped(&written, &ChainPage { chain, length })
    } else {
        let chain = Capped::new(&blocks, &written, cap);
        call.json_capped(&written, &ChainPage { chain, length })
    };
    Ok((200, body))
}

/// `/restart`: back to genesis with an empty pool; peers and the wallet stay.
pub(super) fn restart(call: &Call) -> Reply {
    let node = call.node;
    let length = node.restart()?;
    Ok((
        200,
        call.json(
            &json!({ "message": "Chain reset to genesis and pool emptied; peers kept", "length": length }),
        ),
    ))
}
