//! The wire types nodes exchange (SPEC §5 `/inv` and `/chain` answers; §6b compact
//! blocks and `/getdata`).
//!
//! Kept apart from [`crate::net::sync`] so that `node` can speak of inventories without
//! depending on the sync logic that depends on `node`.

use crate::core::block::{Block, Header, Transaction};
use crate::core::hash::{BlockHash, TxId};
use crate::core::header_json::{OwnFields, deserialize_with_header, once, required};
use crate::core::signed::Signature;
use crate::wire::address::NodeId;
use crate::wire::fields::{self, Object};
use serde::de::{self, Deserializer, MapAccess};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    pub node_id: NodeId,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

impl<'de> Deserialize<'de> for CompactBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CompactBlock, D::Error> {
        deserialize_with_header::<D, CompactOwn>(deserializer)
    }
}

/// A compact block's own fields, read as they come (`core::header_json`).
#[derive(Default)]
struct CompactOwn {
    hash: Option<BlockHash>,
    transaction_ids: Option<Vec<TxId>>,
    coinbase: Option<Option<Transaction>>,
}

impl<'de> OwnFields<'de> for CompactOwn {
    type Object = CompactBlock;
    const EXPECTING: &'static str = "a compact block";

    fn read<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "hash" => once(&mut self.hash, "hash", map)?,
            "transaction_ids" => once(&mut self.transaction_ids, "transaction_ids", map)?,
            "coinbase" => once(&mut self.coinbase, "coinbase", map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The coinbase may be left out (genesis).
    fn finish<E: de::Error>(self, header: Header) -> Result<CompactBlock, E> {
        Ok(CompactBlock {
            header,
            hash: required(self.hash, "hash")?,
            transaction_ids: required(self.transaction_ids, "transaction_ids")?,
            coinbase: self.coinbase.flatten(),
        })
    }
}

/// Most transaction ids one message carries: one announcement, one `/getdata` request.
pub const MAX_IDS_PER_MESSAGE: usize = 1000;

/// A payment as `POST /transactions/new` takes it (SPEC §5): from a client, which may
/// leave out what the node fills in. A whole [`Transaction`] (every field, as the wallet
/// CLI signs it or a node relays it) is one of these too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Object")]
pub struct NewTransaction {
    /// Must match the fields when given (requires `timestamp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<TxId>,
    /// Who pays; left out, the node's wallet pays (and signs: an owner action, §5a).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Who is paid.
    pub recipient: String,
    /// Coins moved.
    pub amount: u64,
    /// Set by a client that wants safe retries (it fixes the id); left out, the node
    /// picks a fresh one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// The sender key's LMS signature over `genesis hash ‖ id`: required exactly when the
    /// sender is a key address (SPEC §3a).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
}

impl TryFrom<Object> for NewTransaction {
    type Error = String;

    fn try_from(mut body: Object) -> Result<NewTransaction, String> {
        let fields = [
            "sender",
            "recipient",
            "amount",
            "timestamp",
            "id",
            "signature",
        ];
        fields::only(
            &body,
            &fields,
            "a transaction has sender, recipient and amount (and timestamp and id when relayed, and signature when the sender is a key address)",
        )?;
        let sender = match body.get("sender") {
            None => None,
            Some(Value::String(text)) if text.is_empty() => {
                return Err(
                    "sender must not be empty; leave it out to pay from the node's wallet".into(),
                );
            }
            Some(_) => Some(fields::payment_string(&mut body, "sender")?),
        };
        let recipient = fields::payment_string(&mut body, "recipient")?;
        let amount = fields::amount(&mut body)?;
        let timestamp = fields::optional(&mut body, "timestamp", true, |value| {
            value.as_u64().is_none().then(|| {
                format!("timestamp must be whole milliseconds since the Unix epoch, got {value}")
            })
        })?;
        let id = fields::optional(&mut body, "id", true, |value| match value {
            Value::String(_) => None,
            other => Some(format!(
                "id must be a string of 64 hex characters, got {other}"
            )),
        })?;
        let signature = fields::optional(&mut body, "signature", false, |_| None)?;
        Ok(NewTransaction {
            id,
            sender,
            recipient,
            amount,
            timestamp,
            signature,
        })
    }
}

/// `POST /getdata` (SPEC §6b): the ids of announced transactions a node lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Object")]
pub struct GetdataRequest {
    /// At most [`MAX_IDS_PER_MESSAGE`] ids.
    pub transactions: Vec<TxId>,
}

impl TryFrom<Object> for GetdataRequest {
    type Error = String;

    fn try_from(mut body: Object) -> Result<GetdataRequest, String> {
        let example = r#"send {"transactions": ["<64 hex id>", ...]}"#;
        fields::only(&body, &["transactions"], example)?;
        let Some(Value::Array(list)) = body.remove("transactions") else {
            return Err(format!(
                "\"transactions\" must be a list of transaction ids; {example}"
            ));
        };
        if list.len() > MAX_IDS_PER_MESSAGE {
            return Err(format!(
                "{} ids asked; ask for at most {MAX_IDS_PER_MESSAGE} at once",
                list.len()
            ));
        }
        let transactions = list
            .iter()
            .map(|item| match item {
                Value::String(text) => text
                    .parse::<TxId>()
                    .map_err(|error| format!("transactions: {error}")),
                other => Err(format!(
                    "every entry of \"transactions\" must be a 64-hex id string, got {other}"
                )),
            })
            .collect::<Result<Vec<TxId>, String>>()?;
        Ok(GetdataRequest { transactions })
    }
}

/// `POST /nodes/register` and `DELETE /nodes/register`: the addresses to add or forget,
/// as typed (each is normalised, or refused, by the node).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Object")]
pub struct NodeList {
    /// At least one address.
    pub nodes: Vec<String>,
}

impl TryFrom<Object> for NodeList {
    type Error = String;

    fn try_from(mut body: Object) -> Result<NodeList, String> {
        let example = r#"send {"nodes": ["http://127.0.0.1:5001"]}"#;
        let list = match body.remove("nodes") {
            None => return Err(format!("missing field \"nodes\"; {example}")),
            Some(Value::Array(list)) if list.is_empty() => {
                return Err(format!("\"nodes\" is empty; {example}"));
            }
            Some(Value::Array(list)) => list,
            Some(_) => return Err(format!("\"nodes\" must be a list of addresses; {example}")),
        };
        let nodes = list
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                other => Err(format!(
                    "every entry of \"nodes\" must be a string, got {other}"
                )),
            })
            .collect::<Result<Vec<String>, String>>()?;
        Ok(NodeList { nodes })
    }
}

/// The body of `POST /inv` (SPEC §6a, §6b): who announces, and its tip (`length`, `tip`,
/// `genesis` together), new transaction ids, or both.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// The announcer's own URL, as it wrote it (normalised by the receiver, whose
    /// refusal then names the field).
    pub node: String,
    /// The announcer's node id.
    pub node_id: NodeId,
    /// Its chain length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Its tip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip: Option<BlockHash>,
    /// Its genesis: another one means another network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis: Option<BlockHash>,
    /// Ids of transactions it newly pooled (at most [`MAX_IDS_PER_MESSAGE`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transactions: Vec<TxId>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payment(body: Value) -> Result<NewTransaction, String> {
        serde_json::from_value(body).map_err(|error| error.to_string())
    }

    #[test]
    fn a_payment_request_refuses_in_words_that_say_what_to_send() {
        for (body, refusal) in [
            (
                json!({"recipient": "bob", "amount": 1, "fee": 1}),
                "unknown field \"fee\"; a transaction has sender, recipient and amount",
            ),
            (
                json!({"sender": "", "recipient": "bob", "amount": 1}),
                "sender must not be empty; leave it out to pay from the node's wallet",
            ),
            (
                json!({"amount": 1}),
                "missing field \"recipient\"; send sender, recipient and amount",
            ),
            (
                json!({"recipient": 7, "amount": 1}),
                "recipient must be a string, got a number",
            ),
            (
                json!({"recipient": "bob", "amount": "1"}),
                "amount must be an integer from 1 to 9007199254740991 (a JSON number, not a string), got \"1\"",
            ),
            (
                json!({"recipient": "bob", "amount": 1, "timestamp": -1}),
                "timestamp must be whole milliseconds since the Unix epoch, got -1",
            ),
            (
                json!({"recipient": "bob", "amount": 1, "id": 5}),
                "id must be a string of 64 hex characters, got 5",
            ),
            (
                json!({"recipient": "bob", "amount": 1, "signature": "xyz"}),
                "signature: signature must be hex",
            ),
        ] {
            let error = payment(body.clone()).unwrap_err();
            assert!(error.starts_with(refusal), "{body}: {error}");
        }
    }

    #[test]
    fn a_whole_transaction_is_a_payment_request_and_reads_back() {
        let tx = Transaction::new("alice", "bob", 5, 1);
        let request = payment(serde_json::to_value(&tx).unwrap()).unwrap();
        assert_eq!(request.id, Some(tx.id));
        assert_eq!(request.sender.as_deref(), Some("alice"));
        assert_eq!(request.timestamp, Some(1));
        let again = payment(serde_json::to_value(&request).unwrap()).unwrap();
        assert_eq!(again, request);
        let minimal = payment(json!({"recipient": "bob", "amount": 2, "timestamp": null}));
        assert_eq!(minimal.unwrap().sender, None, "left out: the wallet pays");
    }

    #[test]
    fn a_compact_block_reads_what_it_writes_and_refuses_unknown_fields() {
        let mut block = crate::core::block::genesis(8);
        block.transactions = vec![Transaction::coinbase("miner", 50, 1)];
        let compact = CompactBlock::of(&block);
        let text = serde_json::to_string(&compact).unwrap();
        assert!(
            text.starts_with(r#"{"index":1,"timestamp":0,"previous_hash":"#),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<CompactBlock>(&text).unwrap(),
            compact
        );
        let mut value = serde_json::to_value(&compact).unwrap();
        value.as_object_mut().unwrap().remove("coinbase");
        let genesis_like = serde_json::from_value::<CompactBlock>(value.clone()).unwrap();
        assert_eq!(genesis_like.coinbase, None, "no coinbase: none (genesis)");
        value["extra"] = 1.into();
        let error = serde_json::from_value::<CompactBlock>(value).unwrap_err();
        assert!(
            error.to_string().starts_with("unknown field `extra`"),
            "{error}"
        );
    }

    #[test]
    fn a_getdata_request_is_capped_and_reads_ids() {
        let id = Transaction::new("alice", "bob", 5, 1).id;
        let request = GetdataRequest {
            transactions: vec![id],
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(text, format!(r#"{{"transactions":["{id}"]}}"#));
        assert_eq!(
            serde_json::from_str::<GetdataRequest>(&text).unwrap(),
            request
        );
        let many = json!({ "transactions": vec![id.to_string(); MAX_IDS_PER_MESSAGE + 1] });
        let error = serde_json::from_value::<GetdataRequest>(many).unwrap_err();
        assert!(
            error.to_string().contains("ask for at most 1000"),
            "{error}"
        );
        let wrong = serde_json::from_value::<GetdataRequest>(json!({"ids": []})).unwrap_err();
        assert!(
            wrong.to_string().starts_with("unknown field \"ids\""),
            "{wrong}"
        );
    }
}
