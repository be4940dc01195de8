//! `GET /wallet`, `POST /wallet/rotate` and `GET /balances`: who holds what.

use super::call::Call;
use crate::core::block::Transaction;
use crate::http::reply::Reply;
use serde::Serialize;
use serde_json::json;

/// `POST /wallet/rotate`: a fresh key, and the old one's balance swept to it.
pub(super) fn rotate(call: &Call) -> Reply {
    let node = call.node;
    /// The new `/wallet` answer, then the sweep (SPEC §5).
    #[derive(Serialize)]
    struct Rotated {
        #[serde(flatten)]
        wallet: crate::node::WalletInfo,
        sweep: Option<Transaction>,
    }
    let sweep = node.rotate_wallet()?;
    Ok((
        200,
        call.json(&Rotated {
            wallet: node.wallet_info(),
            sweep,
        }),
    ))
}

/// `GET /balances`: every non-zero balance, or one address's with its last leaf.
pub(super) fn balances(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    match request.get_param("address") {
        Some(address) => {
            let balance = node.balance(&address);
            let last_leaf = node.last_leaf(&address);
            Ok((
                200,
                call.json(
                    &json!({ "address": address, "balance": balance, "balances": { address.clone(): balance }, "last_leaf": last_leaf }),
                ),
            ))
        }
        None => Ok((200, call.json(&json!({ "balances": node.balances() })))),
    }
}

/// `GET /wallet`: this node's key, its balance, the leaves used and left.
pub(super) fn wallet(call: &Call) -> Reply {
    Ok((200, call.json(&call.node.wallet_info())))
}
