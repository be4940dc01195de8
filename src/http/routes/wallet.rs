//! `GET /wallet`, `POST /wallet/rotate` and `GET /balances`: who holds what.

use crate::core::block::Transaction;
use crate::http::reply::{Reply, to_json};
use crate::node::Node;
use rouille::Request;
use serde::Serialize;
use serde_json::json;

pub(super) fn rotate_wallet(node: &Node) -> Reply {
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
        to_json(&Rotated {
            wallet: node.wallet_info(),
            sweep,
        }),
    ))
}

pub(super) fn balances(request: &Request, node: &Node) -> Reply {
    match request.get_param("address") {
        Some(address) => {
            let balance = node.balance(&address);
            let last_leaf = node.last_leaf(&address);
            Ok((
                200,
                to_json(
                    &json!({ "address": address, "balance": balance, "balances": { address.clone(): balance }, "last_leaf": last_leaf }),
                ),
            ))
        }
        None => Ok((200, to_json(&json!({ "balances": node.balances() })))),
    }
}
