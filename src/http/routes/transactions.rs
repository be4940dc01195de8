//! `POST /transactions/new` (a payment, from a client or relayed) and `GET /pool`.

use super::call::Call;
use super::input::read_body;
use crate::core::block::Transaction;
use crate::http::reply::Reply;
use crate::wire::protocol::NewTransaction;
use serde::Serialize;

/// `POST /transactions/new`: a payment from a client (or a whole transaction, as the
/// wallet CLI signs it); asking the node's wallet to sign is the owner's (SPEC §5a).
pub(super) fn new(call: &Call) -> Reply {
    let request: NewTransaction = read_body(call.request)?;
    let owner_allows = || {
        call.owner.require(
            call.request,
            "POST /transactions/new from this node's wallet (no sender, no signature)",
        )
    };
    // Whole transactions posted here come from clients (or older nodes): relayed on.
    let (transaction, index) = call.node.new_transaction(request, owner_allows)?;
    crate::http::payment_log::admitted(call.request.remote_addr(), &transaction);
    #[derive(Serialize)]
    struct Answer {
        message: String,
        transaction: Transaction,
        index: u64,
    }
    Ok((
        201,
        call.json(&Answer {
            message: format!("Transaction will be added to Block {index}"),
            transaction,
            index,
        }),
    ))
}

/// `GET /pool`: pending transactions, oldest first.
pub(super) fn pool(call: &Call) -> Reply {
    let node = call.node;
    let pool = node.pool();
    Ok((
        200,
        call.json(&PoolAnswer {
            pool_length: pool.len(),
            pool,
        }),
    ))
}

/// `/pool`: pending transactions, oldest first.
#[derive(Serialize)]
struct PoolAnswer {
    pool: Vec<Transaction>,
    pool_length: usize,
}
