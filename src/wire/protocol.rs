//! The wire types nodes exchange (SPEC §5 `/inv` and `/chain` answers; §6b compact
//! blocks and `/getdata`).
//!
//! Kept apart from [`crate::net::sync`] so that `node` can speak of inventories without
//! depending on the sync logic that depends on `node`.

use crate::core::block::{Block, Header, Transaction};
use crate::core::hash::{BlockHash, TxId};
use serde::{Deserialize, Serialize};

/// Where a `/chain` page or a `/getdata` answer stops (SPEC §6b): after the item that
/// takes its JSON past 16 MiB. A page shorter than asked for is honest only past this.
pub const MAX_PAGE_JSON_BYTES: usize = 16 * 1024 * 1024;

/// Why a `/chain` page of `got` blocks (`bytes` long) asked from block `from` for `asked`
/// of a claimed `claimed` is unusable: empty, or short without being full (SPEC §6b).
pub fn short_page(got: usize, asked: u64, bytes: usize, from: u64, claimed: u64) -> Option<String> {
    if got == 0 {
        return Some(format!(
            "it claimed {claimed} blocks, but its /chain page from block {from} was empty"
        ));
    }
    if (got as u64) < asked && bytes < MAX_PAGE_JSON_BYTES {
        return Some(format!(
            "it claimed {claimed} blocks, but its /chain page from block {from} held {got} of the {asked} asked for in {bytes} bytes (a page stops early only past 16 MiB)"
        ));
    }
    None
}

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
    /// Coins each of the peer's coinbases pays (SPEC §6b); absent from nodes older than
    /// that rule, which are then judged by genesis and difficulty alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<u64>,
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

/// A `/chain` page (SPEC §5, §6b): the blocks asked for and the full length. `L` is the
/// list: `Vec<Block>` or `Vec<CompactBlock>` when read; the server writes a list that
/// stops past [`MAX_PAGE_JSON_BYTES`] (`http::routes::capped`) through the same type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChainPage<L = Vec<Block>> {
    /// Blocks of the page, oldest first.
    pub chain: L,
    /// The peer's full length.
    pub length: u64,
}

/// A `/chain?compact=1` page.
pub type CompactPage = ChainPage<Vec<CompactBlock>>;

/// A block as `GET /chain?compact=1` sends it (SPEC §6b, after BIP 152): the header
/// fields, every transaction id in block order and the whole coinbase, in place of the
/// transactions, which the receiver mostly holds already in its pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompactBlock {
    /// The block's header, its fields first as in a whole block.
    #[serde(flatten)]
    pub header: Header,
    /// The header's hash, as claimed (checked once the block is rebuilt).
    pub hash: BlockHash,
    /// Every transaction's id, coinbase first.
    pub transaction_ids: Vec<TxId>,
    /// The coinbase, which no pool holds (none for genesis).
    pub coinbase: Option<Transaction>,
}

impl CompactBlock {
    /// The compact form of `block`.
    pub fn of(block: &Block) -> CompactBlock {
        CompactBlock {
            header: block.header,
            hash: block.hash,
            transaction_ids: block.transactions.iter().map(|tx| tx.id).collect(),
            coinbase: block.transactions.first().cloned(),
        }
    }

    /// The ids a receiver must find elsewhere: every one but the coinbase's.
    pub fn payment_ids(&self) -> &[TxId] {
        self.transaction_ids.get(1..).unwrap_or(&[])
    }

    /// The whole block again, given the payments for [`CompactBlock::payment_ids`] in
    /// order. Whatever the sender claimed is validated later like any block (SPEC §4):
    /// the merkle root covers every id and signature, so a rebuilt block is the block.
    pub fn rebuild(self, payments: Vec<Transaction>) -> Block {
        let transactions = self.coinbase.into_iter().chain(payments).collect();
        Block {
            header: self.header,
            hash: self.hash,
            transactions,
        }
    }
}

/// `POST /getdata`'s answer (SPEC §6b). `L` is the list of transactions, as for
/// [`ChainPage`]: a `Vec` when read, a capped list when the server writes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetdataAnswer<L = Vec<Transaction>> {
    /// The transactions found, in their relayed form.
    pub transactions: L,
    /// The ids the peer does not hold.
    pub missing: Vec<TxId>,
}
