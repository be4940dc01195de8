//! The wire types nodes exchange during sync (SPEC §5 `/inv` and `/chain` answers).
//!
//! Kept apart from [`crate::net::sync`] so that `node` can speak of inventories without
//! depending on the sync logic that depends on `node`.

use crate::core::block::Block;
use crate::core::hash::{BlockHash, TxId};
use serde::{Deserialize, Serialize};

/// A peer's `/inv` answer, as SPEC §5 defines it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvAnswer {
    /// The peer's node id (lets us recognise ourselves).
    pub node_id: String,
    /// The peer's chain length.
    pub length: u64,
    /// The peer's tip hash.
    pub tip: BlockHash,
    /// The peer's genesis hash: another one means another network.
    pub genesis: BlockHash,
    /// The peer's difficulty.
    pub difficulty: u32,
    /// Index of the first of our locator hashes on the peer's chain; 0 if none.
    pub fork_index: u64,
    /// Block hashes after the fork, then pooled transaction ids.
    pub values: Vec<InvItem>,
}

/// One entry of an inventory.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum InvItem {
    /// A block hash.
    Block(BlockHash),
    /// A pooled transaction id.
    Transaction(TxId),
}

/// A `/chain` page.
#[derive(Clone, Debug, Deserialize)]
pub struct ChainPage {
    /// Blocks of the page.
    pub chain: Vec<Block>,
    /// The peer's full length.
    pub length: u64,
}
