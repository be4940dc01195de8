//! `POST /getdata` (SPEC §6b): the bodies of announced transaction ids. A peer that saw
//! ids in an announcement asks for the ones it lacks; each comes back in its relayed form
//! (every stored field), from the pool or the chain, and the ones this node does not hold
//! are listed as missing.

use super::call::Call;
use super::capped::{Capped, MAX_PAGE_JSON_BYTES, Written};
use super::input::read_body;
use crate::core::block::Transaction;
use crate::core::hash::TxId;
use crate::http::reply::Reply;
use crate::wire::protocol::{GetdataAnswer, GetdataRequest};

/// `POST /getdata`: `{"transactions": [ids]}` → `{"transactions": [...], "missing": [...]}`.
pub(super) fn getdata(call: &Call) -> Reply {
    let GetdataRequest { transactions: ids } = read_body(call.request)?;
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
