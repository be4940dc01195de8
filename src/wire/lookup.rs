//! The answers of SPEC §5b ("Is my payment final?"): a payment's status, its merkle
//! proof, block headers and an address's history. One serde type each, serialised by the
//! routes and read back by the light client (`crate::light`), so both sides speak the
//! same fields.

use crate::core::block::{Block, Header, Transaction};
use crate::core::hash::{BlockHash, MerkleNode, MerkleRoot, TxId};
use crate::core::merkle::Step;
use serde::{Deserialize, Serialize};

/// Largest `/headers` page (SPEC §5b), and the default.
pub const MAX_HEADERS: u64 = 2000;
/// `/headers` page size when `limit` is left out.
pub const DEFAULT_HEADERS: u64 = 500;
/// Largest `/history` page (SPEC §5b).
pub const MAX_HISTORY: u64 = 500;
/// `/history` page size when `limit` is left out.
pub const DEFAULT_HISTORY: u64 = 100;

/// A block without its transactions: the 92 bytes its hash commits to, and the hash as
/// claimed (a light client recomputes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderJson {
    /// Height, genesis = 1.
    pub index: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Hash of the block before.
    pub previous_hash: BlockHash,
    /// Merkle root over the block's leaf hashes.
    pub merkle_root: MerkleRoot,
    /// The network's difficulty.
    pub difficulty: u32,
    /// The nonce.
    pub proof: u64,
    /// The header's hash, as claimed.
    pub hash: BlockHash,
}

impl HeaderJson {
    /// The header of `block`.
    pub fn of(block: &Block) -> HeaderJson {
        HeaderJson {
            index: block.header.index,
            timestamp: block.header.timestamp,
            previous_hash: block.header.previous_hash,
            merkle_root: block.header.merkle_root,
            difficulty: block.header.difficulty,
            proof: block.header.proof,
            hash: block.hash,
        }
    }

    /// The fields the hash commits to (the claimed `hash` left out: recompute it).
    pub fn header(&self) -> Header {
        Header {
            index: self.index,
            timestamp: self.timestamp,
            previous_hash: self.previous_hash,
            merkle_root: self.merkle_root,
            difficulty: self.difficulty,
            proof: self.proof,
        }
    }
}

/// `GET /headers`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HeadersAnswer {
    /// Headers in chain order.
    pub headers: Vec<HeaderJson>,
    /// The node's chain length.
    pub length: u64,
}

/// Where a payment is: pending, or mined in a block of the node's chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// In the pool, waiting for a block.
    Pooled,
    /// In a block of the node's chain.
    Mined,
}

/// A block named by index and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Its index.
    pub index: u64,
    /// Its hash.
    pub hash: BlockHash,
}

/// `GET /transactions/<id>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransactionAnswer {
    /// The transaction itself.
    pub transaction: Transaction,
    /// Pooled or mined.
    pub status: TxStatus,
    /// The block holding it, or null while pooled.
    pub block: Option<BlockRef>,
    /// Chain length − block index + 1; 0 while pooled.
    pub confirmations: u64,
}

/// `GET /transactions/<id>/proof`: the branch from the payment's leaf hash to the merkle
/// root of the header it is in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProofAnswer {
    /// The transaction.
    pub transaction: Transaction,
    /// Its leaf hash (SPEC §3): the id, or `SHA-256(id ‖ signature)` when signed.
    pub leaf: MerkleNode,
    /// The siblings from the leaf up; empty for a one-transaction block.
    pub branch: Vec<Step>,
    /// The header of the block holding it.
    pub header: HeaderJson,
    /// Chain length − block index + 1.
    pub confirmations: u64,
}

/// One payment of an address in `GET /history`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HistoryItem {
    /// The transaction's id.
    pub id: TxId,
    /// The block index holding it, or null while pooled.
    pub block: Option<u64>,
    /// Coins received (positive) or sent (negative).
    pub amount: i64,
    /// The other side: the recipient of a payment sent, the sender of one received
    /// (`"0"` for a coinbase).
    pub counterparty: String,
    /// The address's balance right after it (counting the pool before it, when pooled).
    pub balance_after: u64,
}

/// `GET /history?address=A`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HistoryAnswer {
    /// The address asked about.
    pub address: String,
    /// Its balance on the chain (as `/balances?address=` answers).
    pub balance: u64,
    /// Its payments, newest first: pooled ones (first page only), then mined ones.
    pub history: Vec<HistoryItem>,
    /// The `before` of the next (older) page, or null when this is the last.
    pub next: Option<u64>,
}
