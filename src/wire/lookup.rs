//! The answers of SPEC §5b ("Is my payment final?"): a payment's status, its merkle
//! proof, block headers and an address's history. One serde type each, serialised by the
//! routes and read back by the light client (`crate::light`), so both sides speak the
//! same fields.

use crate::core::block::{Block, Header, Transaction};
use crate::core::hash::{BlockHash, MerkleNode, TxId};
use crate::core::header_json::{OwnFields, deserialize_with_header, once, required};
use crate::core::merkle::Step;
use serde::de::{self, Deserializer, MapAccess};
use serde::{Deserialize, Serialize};

/// Largest `/headers` page (SPEC §5b), and the default.
pub const MAX_HEADERS: u64 = 2000;
/// `/headers` page size when `limit` is left out.
pub const DEFAULT_HEADERS: u64 = 500;
/// Largest `/history` page (SPEC §5b).
pub const MAX_HISTORY: u64 = 500;
/// `/history` page size when `limit` is left out.
pub const DEFAULT_HISTORY: u64 = 100;

/// A block without its transactions: the 92 bytes its hash commits to (a core [`Header`],
/// its fields written first and flattened, as in a block) and the hash as claimed (a light
/// client recomputes it). Read by `core::header_json` like a block: unknown, repeated
/// and missing fields are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HeaderJson {
    /// The fields the hash commits to.
    #[serde(flatten)]
    pub header: Header,
    /// The header's hash, as claimed.
    pub hash: BlockHash,
}

impl HeaderJson {
    /// The header of `block`.
    pub fn of(block: &Block) -> HeaderJson {
        HeaderJson {
            header: block.header,
            hash: block.hash,
        }
    }
}

/// A header's own field besides the header: its claimed hash.
#[derive(Default)]
struct HeaderJsonOwn {
    hash: Option<BlockHash>,
}

impl<'de> OwnFields<'de> for HeaderJsonOwn {
    type Object = HeaderJson;
    const EXPECTING: &'static str = "a block header";

    fn read<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "hash" {
            return Ok(false);
        }
        once(&mut self.hash, "hash", map)?;
        Ok(true)
    }

    fn finish<E: de::Error>(self, header: Header) -> Result<HeaderJson, E> {
        Ok(HeaderJson {
            header,
            hash: required(self.hash, "hash")?,
        })
    }
}

impl<'de> Deserialize<'de> for HeaderJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<HeaderJson, D::Error> {
        deserialize_with_header::<D, HeaderJsonOwn>(deserializer)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::genesis;

    #[test]
    fn a_header_is_written_in_field_order_and_read_strictly() {
        let block = genesis(8);
        let json = HeaderJson::of(&block);
        let text = serde_json::to_string(&json).unwrap();
        let zero = "0".repeat(64);
        assert_eq!(
            text,
            format!(
                r#"{{"index":1,"timestamp":{},"previous_hash":"{zero}","merkle_root":"{}","difficulty":8,"proof":{},"hash":"{}"}}"#,
                block.header.timestamp, block.header.merkle_root, block.header.proof, block.hash
            )
        );
        assert_eq!(serde_json::from_str::<HeaderJson>(&text).unwrap(), json);
        for bad in [
            text.replace(r#","hash""#, r#","extra":1,"hash""#),
            text.replace(r#","hash""#, r#","hash":"x","hash""#),
            text.replace(r#","proof""#, r#","proof":1,"proof""#),
            text.replace(&format!(r#","hash":"{}""#, block.hash), ""),
            text.replace(r#""difficulty":8,"#, ""),
        ] {
            assert!(serde_json::from_str::<HeaderJson>(&bad).is_err(), "{bad}");
        }
    }
}
