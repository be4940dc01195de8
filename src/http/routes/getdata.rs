//! `POST /getdata` (SPEC §6b): the bodies of announced transaction ids. A peer that saw
//! ids in an announcement asks for the ones it lacks; each comes back in its relayed form
//! (every stored field), from the pool or the chain, and the ones this node does not hold
//! are listed as missing.

use super::call::Call;
use super::capped::{Capped, MAX_PAGE_JSON_BYTES, Written};
use super::input::read_json_object;
use crate::core::block::Transaction;
use crate::core::hash::TxId;
use crate::http::reply::{ApiError, Reply};
use crate::wire::protocol::GetdataAnswer;
use serde_json::Value;

/// Most ids one `/getdata` may ask for (as many as one announcement carries).
pub const MAX_GETDATA_IDS: usize = 1000;

/// `POST /getdata`: `{"transactions": [ids]}` → `{"transactions": [...], "missing": [...]}`.
pub(super) fn getdata(call: &Call) -> Reply {
    let body = read_json_object(call.request)?;
    let example = r#"send {"transactions": ["<64 hex id>", ...]}"#;
    if let Some(unknown) = body.keys().find(|key| *key != "transactions") {
        return Err(ApiError::BadRequest(format!(
            "unknown field {unknown:?}; {example}"
        )));
    }
    let Some(Value::Array(list)) = body.get("transactions") else {
        return Err(ApiError::BadRequest(format!(
            "\"transactions\" must be a list of transaction ids; {example}"
        )));
    };
    if list.len() > MAX_GETDATA_IDS {
        return Err(ApiError::BadRequest(format!(
            "{} ids asked; ask for at most {MAX_GETDATA_IDS} at once",
            list.len()
        )));
    }
    let ids = list
        .iter()
        .map(|item| match item {
            Value::String(text) => text
                .parse::<TxId>()
                .map_err(|error| ApiError::BadRequest(format!("transactions: {error}"))),
            other => Err(ApiError::BadRequest(format!(
                "every entry of \"transactions\" must be a 64-hex id string, got {other}"
            ))),
        })
        .collect::<Result<Vec<TxId>, ApiError>>()?;
    let found = call.node.transactions_by_id(&ids);
    let missing: Vec<TxId> = ids
        .iter()
        .zip(&found)
        .filter(|(_, tx)| tx.is_none())
        .map(|(id, _)| *id)
        .collect();
    let found: Vec<Transaction> = found.into_iter().flatten().collect();
    let written = Written::default();
    Ok((
        200,
        call.json_capped(
            &written,
            &GetdataAnswer {
                transactions: Capped::new(&found, &written, MAX_PAGE_JSON_BYTES),
                missing,
            },
        ),
    ))
}
