//! `/mine`: a block from the pool, its proof of work, and the search's figures.

use super::call::Call;
use crate::core::block::Transaction;
use crate::core::hash::{BlockHash, MerkleRoot};
use crate::http::reply::Reply;
use crate::node::Mined;
use serde::Serialize;

/// `/mine`: coinbase and pool into a block, proof of work, append, persist.
pub(super) fn mine(call: &Call) -> Reply {
    let node = call.node;
    let Mined { block, search } = node.mine()?;
    #[derive(Serialize)]
    struct Answer {
        message: &'static str,
        index: u64,
        transactions: Vec<Transaction>,
        proof: u64,
        merkle_root: MerkleRoot,
        previous_hash: BlockHash,
        timestamp: u64,
        hash: BlockHash,
        difficulty: u32,
        attempts: u64,
        elapsed_ms: u64,
        hash_rate: u64,
    }
    Ok((
        200,
        call.json(&Answer {
            message: "New Block Forged",
            index: block.header.index,
            transactions: block.transactions,
            proof: block.header.proof,
            merkle_root: block.header.merkle_root,
            previous_hash: block.header.previous_hash,
            timestamp: block.header.timestamp,
            hash: block.hash,
            difficulty: block.header.difficulty,
            attempts: search.attempts,
            elapsed_ms: search.elapsed.as_millis() as u64,
            hash_rate: search.hash_rate().round() as u64,
        }),
    ))
}
