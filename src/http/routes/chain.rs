//! `GET /chain` (whole, or a page) and `/restart` (back to genesis).

use super::input::query_number;
use super::table::Call;
use crate::core::block::Block;
use crate::http::reply::{Reply, to_json};
use serde::Serialize;
use serde_json::json;

/// Largest `/chain` page.
pub const MAX_CHAIN_PAGE: u64 = 500;

/// `GET /chain`: the whole chain, or a page of it (`from`, `limit`), and the full length.
pub(super) fn chain(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let from = query_number(request, "from")?;
    let limit = query_number(request, "limit")?;
    let (blocks, length) = if from.is_none() && limit.is_none() {
        node.chain()
    } else {
        let limit = limit.unwrap_or(MAX_CHAIN_PAGE).min(MAX_CHAIN_PAGE);
        node.chain_page(from.unwrap_or(1), limit as usize)
    };
    Ok((
        200,
        to_json(&ChainAnswer {
            chain: blocks,
            length,
        }),
    ))
}

/// `/restart`: back to genesis with an empty pool; peers and the wallet stay.
pub(super) fn restart(call: &Call) -> Reply {
    let node = call.node;
    let length = node.restart()?;
    Ok((
        200,
        to_json(
            &json!({ "message": "Chain reset to genesis and pool emptied; peers kept", "length": length }),
        ),
    ))
}

/// `/chain`: a page or the whole chain, and the full length.
#[derive(Serialize)]
struct ChainAnswer {
    chain: Vec<Block>,
    length: u64,
}
