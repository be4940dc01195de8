//! `POST /transactions/new` (a payment, from a client or relayed) and `GET /pool`.

use super::call::Call;
use super::input::{amount_field, read_json_object, string_field};
use crate::core::block::Transaction;
use crate::http::reply::{ApiError, Reply};
use crate::node::{NewTransaction, Source};
use serde::Serialize;
use serde_json::Value;

/// `POST /transactions/new`: a payment from a client, or relayed with its id.
pub(super) fn new(call: &Call) -> Reply {
    let (request, node) = (call.request, call.node);
    let http_request = request;
    let body = read_json_object(request)?;
    let allowed = [
        "sender",
        "recipient",
        "amount",
        "timestamp",
        "id",
        "signature",
    ];
    if let Some(unknown) = body.keys().find(|key| !allowed.contains(&key.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "unknown field {unknown:?}; a transaction has sender, recipient and amount (and timestamp and id when relayed, and signature when the sender is a key address)"
        )));
    }
    let request = NewTransaction {
        // Left out: the node's wallet pays (and signs).
        sender: match body.get("sender") {
            None => String::new(),
            Some(Value::String(text)) if text.is_empty() => {
                return Err(ApiError::BadRequest(
                    "sender must not be empty; leave it out to pay from the node's wallet".into(),
                ));
            }
            Some(_) => string_field(&body, "sender")?,
        },
        recipient: string_field(&body, "recipient")?,
        amount: amount_field(&body)?,
        timestamp: match body.get("timestamp") {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "timestamp must be whole milliseconds since the Unix epoch, got {value}"
                ))
            })?),
        },
        id: match body.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(
                text.parse()
                    .map_err(|error| ApiError::BadRequest(format!("id: {error}")))?,
            ),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "id must be a string of 64 hex characters, got {other}"
                )));
            }
        },
        signature: match body.get("signature") {
            None => None,
            Some(value) => Some(
                serde_json::from_value(value.clone())
                    .map_err(|error| ApiError::BadRequest(format!("signature: {error}")))?,
            ),
        },
    };
    if node.asks_wallet_to_sign(&request) {
        call.owner.require(
            http_request,
            "POST /transactions/new asking this node's wallet to sign (no sender, or the wallet's own address, and no signature)",
        )?;
    }
    // Whole transactions posted here come from clients (or older nodes): relayed on.
    let (transaction, index) = node.add_transaction(request, Source::Client)?;
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
