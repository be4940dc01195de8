//! Transactions, headers and blocks: their canonical bytes, hashes, merkle root and the
//! genesis block, exactly as SPEC §3 defines them. Stateless checks only: whether a
//! transaction *fits* a ledger is `ledger`'s and `chain`'s business.

use crate::core::hash::{BlockHash, MerkleRoot, TxId, sha256};
use crate::core::signed::{Signature, parse_address};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount a transaction may carry: 2^53 − 1, the largest integer every JSON
/// client (JavaScript included) represents exactly.
pub const MAX_AMOUNT: u64 = (1 << 53) - 1;

/// Longest sender or recipient, in UTF-8 bytes.
pub const MAX_ADDRESS_BYTES: usize = 256;

/// The sender of every coinbase; no other transaction may use it.
pub const COINBASE_SENDER: &str = "0";

/// A transfer of `amount` coins from `sender` to `recipient`.
///
/// `id` is carried on the wire so clients can refer to a transaction, but it is always
/// recomputed and compared (see [`Transaction::check`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// SHA-256 of the canonical bytes (see [`Transaction::compute_id`]).
    pub id: TxId,
    /// Who pays; `"0"` only in a coinbase.
    pub sender: String,
    /// Who is paid.
    pub recipient: String,
    /// Coins moved, 1 ..= [`MAX_AMOUNT`].
    pub amount: u64,
    /// Milliseconds since the Unix epoch; part of the id, so equal payments stay distinct.
    pub timestamp: u64,
    /// An LMS signature by the sender's key over `genesis hash ‖ id`: present exactly when
    /// the sender is a key address (SPEC §3a; checked by `Transaction::check_signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
}

/// Why a transaction is malformed on its own, before any ledger is consulted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxError {
    /// The sender or recipient is empty.
    EmptyAddress { role: &'static str },
    /// The sender or recipient is longer than [`MAX_ADDRESS_BYTES`].
    AddressTooLong { role: &'static str, bytes: usize },
    /// Sender and recipient are the same address.
    SelfTransfer,
    /// The amount is 0 or above [`MAX_AMOUNT`].
    AmountOutOfRange { amount: u64 },
    /// A non-coinbase transaction uses the coinbase sender `"0"`.
    CoinbaseSender,
    /// The carried id is not the hash of the fields.
    WrongId { claimed: TxId, computed: TxId },
    /// 112 hex characters that are not a key address (SPEC §3a).
    NotAKeyAddress { role: &'static str, reason: String },
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxError::EmptyAddress { role } => write!(f, "{role} must not be empty"),
            TxError::AddressTooLong { role, bytes } => write!(
                f,
                "{role} is {bytes} bytes long; at most {MAX_ADDRESS_BYTES} bytes are allowed"
            ),
            TxError::SelfTransfer => write!(f, "sender and recipient must differ"),
            TxError::AmountOutOfRange { amount } => write!(
                f,
                "amount must be an integer from 1 to {MAX_AMOUNT}, got {amount}"
            ),
            TxError::CoinbaseSender => write!(
                f,
                "sender \"0\" is reserved for the coinbase that pays a miner; use a real address"
            ),
            TxError::WrongId { claimed, computed } => write!(
                f,
                "transaction id {claimed} does not match its fields (their hash is {computed})"
            ),
            TxError::NotAKeyAddress { role, reason } => write!(f, "{role} {reason}"),
        }
    }
}

impl std::error::Error for TxError {}

impl Transaction {
    /// Builds a transaction and computes its id.
    pub fn new(sender: &str, recipient: &str, amount: u64, timestamp: u64) -> Transaction {
        Transaction {
            id: Self::compute_id(sender, recipient, amount, timestamp),
            sender: sender.to_string(),
            recipient: recipient.to_string(),
            amount,
            timestamp,
            signature: None,
        }
    }

    /// The coinbase of a block: `reward` new coins to `miner`, stamped with the block's time.
    pub fn coinbase(miner: &str, reward: u64, block_timestamp: u64) -> Transaction {
        Transaction::new(COINBASE_SENDER, miner, reward, block_timestamp)
    }

    /// SHA-256 of `len(sender) u32 LE ‖ sender ‖ len(recipient) u32 LE ‖ recipient ‖
    /// amount u64 LE ‖ timestamp u64 LE` (SPEC §3).
    pub fn compute_id(sender: &str, recipient: &str, amount: u64, timestamp: u64) -> TxId {
        TxId(sha256(&Self::id_preimage(
            sender, recipient, amount, timestamp,
        )))
    }

    /// The exact bytes hashed into an id; public so tests can compare with known answers.
    pub fn id_preimage(sender: &str, recipient: &str, amount: u64, timestamp: u64) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(4 + sender.len() + 4 + recipient.len() + 16);
        bytes.extend_from_slice(&(sender.len() as u32).to_le_bytes());
        bytes.extend_from_slice(sender.as_bytes());
        bytes.extend_from_slice(&(recipient.len() as u32).to_le_bytes());
        bytes.extend_from_slice(recipient.as_bytes());
        bytes.extend_from_slice(&amount.to_le_bytes());
        bytes.extend_from_slice(&timestamp.to_le_bytes());
        bytes
    }

    /// True for the block reward, recognised by its reserved sender.
    pub fn is_coinbase(&self) -> bool {
        self.sender == COINBASE_SENDER
    }

    /// Checks the rules a transaction obeys wherever it appears: addresses, amount, id.
    /// `as_coinbase` allows (and requires) the sender `"0"`.
    pub fn check(&self, as_coinbase: bool) -> Result<(), TxError> {
        self.check_fields(as_coinbase)?;
        let computed = Self::compute_id(&self.sender, &self.recipient, self.amount, self.timestamp);
        if computed != self.id {
            return Err(TxError::WrongId {
                claimed: self.id,
                computed,
            });
        }
        Ok(())
    }

    /// [`Transaction::check`] without the id: for a transaction whose id was computed
    /// from its fields here, not received.
    pub fn check_fields(&self, as_coinbase: bool) -> Result<(), TxError> {
        if as_coinbase {
            check_address("recipient", &self.recipient)?;
        } else {
            check_payment(&self.sender, &self.recipient, self.amount)?;
        }
        if self.sender == self.recipient {
            return Err(TxError::SelfTransfer);
        }
        check_amount(self.amount)
    }
}

/// Checks a payment's fields before it exists (a wallet refuses before it signs):
/// addresses, sender not `"0"`, sender and recipient apart, amount in range.
pub fn check_payment(sender: &str, recipient: &str, amount: u64) -> Result<(), TxError> {
    check_address("sender", sender)?;
    check_address("recipient", recipient)?;
    if sender == COINBASE_SENDER {
        return Err(TxError::CoinbaseSender);
    }
    if sender == recipient {
        return Err(TxError::SelfTransfer);
    }
    check_amount(amount)
}

/// 1 ..= [`MAX_AMOUNT`].
fn check_amount(amount: u64) -> Result<(), TxError> {
    if amount == 0 || amount > MAX_AMOUNT {
        return Err(TxError::AmountOutOfRange { amount });
    }
    Ok(())
}

/// Checks one address: non-empty, at most [`MAX_ADDRESS_BYTES`] bytes, and a valid key
/// address if it has a key address's form (112 hex characters).
pub fn check_address(role: &'static str, address: &str) -> Result<(), TxError> {
    if address.is_empty() {
        return Err(TxError::EmptyAddress { role });
    }
    if address.len() > MAX_ADDRESS_BYTES {
        return Err(TxError::AddressTooLong {
            role,
            bytes: address.len(),
        });
    }
    parse_address(address).map_err(|error| TxError::NotAKeyAddress {
        role,
        reason: error.to_string(),
    })?;
    Ok(())
}

/// The fields of a block that its hash commits to, written once: a [`Block`] and a compact
/// block (`wire::protocol`) carry them flattened, in this order, as their first fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Height, genesis = 1.
    pub index: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Hash of the block before; [`BlockHash::ZERO`] for genesis.
    pub previous_hash: BlockHash,
    /// Commits the header to the block's transactions.
    pub merkle_root: MerkleRoot,
    /// Leading zero bits the hash needs.
    pub difficulty: u32,
    /// The nonce the miner varies.
    pub proof: u64,
}

impl Header {
    /// 8 + 8 + 32 + 32 + 4 + 8: index, timestamp, parent, merkle root, difficulty, proof.
    pub const SIZE: usize = 92;
    /// Where the proof starts; it is last so a miner hashes the first 64 bytes only once.
    pub const PROOF_OFFSET: usize = 84;

    /// The unproven header of a block on `parent` holding `transactions`: the next index,
    /// the parent's hash, their merkle root, proof 0. What a miner searches a proof for.
    pub fn child_of(
        parent: &Block,
        timestamp: u64,
        transactions: &[Transaction],
        difficulty: u32,
    ) -> Header {
        Header {
            index: parent.header.index + 1,
            timestamp,
            previous_hash: parent.hash,
            merkle_root: merkle_root_of(transactions),
            difficulty,
            proof: 0,
        }
    }

    /// The canonical little-endian header bytes (SPEC §3).
    pub fn to_bytes(&self) -> [u8; Header::SIZE] {
        let mut bytes = [0u8; Header::SIZE];
        bytes[0..8].copy_from_slice(&self.index.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.timestamp.to_le_bytes());
        bytes[16..48].copy_from_slice(self.previous_hash.as_bytes());
        bytes[48..80].copy_from_slice(self.merkle_root.as_bytes());
        bytes[80..84].copy_from_slice(&self.difficulty.to_le_bytes());
        bytes[84..92].copy_from_slice(&self.proof.to_le_bytes());
        bytes
    }

    /// Reads the canonical bytes back (what a light client keeps in its header cache).
    pub fn from_bytes(bytes: &[u8; Header::SIZE]) -> Header {
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let hash_at = |at: usize| -> [u8; 32] { bytes[at..at + 32].try_into().expect("32 bytes") };
        Header {
            index: u64_at(0),
            timestamp: u64_at(8),
            previous_hash: BlockHash(hash_at(16)),
            merkle_root: MerkleRoot(hash_at(48)),
            difficulty: u32::from_le_bytes(bytes[80..84].try_into().expect("4 bytes")),
            proof: u64_at(84),
        }
    }

    /// Computes the hash; a `hash` field received from a peer is only compared to this.
    pub fn block_hash(&self) -> BlockHash {
        BlockHash(sha256(&self.to_bytes()))
    }
}

/// A block as it travels in JSON and is stored on disk: its header's fields, the hash and
/// the transactions (SPEC §3 field order; read by `core::header_json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    /// What the hash commits to; its fields are the block's first JSON fields. Timestamps
    /// strictly increase along a chain; `difficulty` equals the network's.
    #[serde(flatten)]
    pub header: Header,
    /// The header's hash, as claimed by whoever made the block.
    pub hash: BlockHash,
    /// Coinbase first, then payments in the order they were pooled.
    pub transactions: Vec<Transaction>,
}

impl Block {
    /// Assembles a block from a header (whose proof is already found) and its transactions.
    pub fn from_header(header: Header, transactions: Vec<Transaction>) -> Block {
        Block {
            header,
            hash: header.block_hash(),
            transactions,
        }
    }
}

/// The first block of every chain at `difficulty`: shared by all nodes of one network.
pub fn genesis(difficulty: u32) -> Block {
    let header = Header {
        index: 1,
        timestamp: 0,
        previous_hash: BlockHash::ZERO,
        merkle_root: MerkleRoot::ZERO,
        difficulty,
        proof: 0,
    };
    Block::from_header(header, Vec::new())
}

/// Merkle root over ids in block order (for blocks without signatures, the same as
/// [`merkle_root_of`]): pairs hashed level by level, the last one paired with itself on an
/// odd level; one id is its own root, none is 32 zero bytes.
pub fn merkle_root(ids: &[TxId]) -> MerkleRoot {
    merkle_root_of_leaves(ids.iter().map(|id| id.0).collect())
}

/// Merkle root over leaf hashes, as [`merkle_root`] describes.
fn merkle_root_of_leaves(mut level: Vec<[u8; 32]>) -> MerkleRoot {
    if level.is_empty() {
        return MerkleRoot::ZERO;
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| {
                let left = pair[0];
                let right = *pair.get(1).unwrap_or(&left);
                let mut joined = [0u8; 64];
                joined[..32].copy_from_slice(&left);
                joined[32..].copy_from_slice(&right);
                sha256(&joined)
            })
            .collect();
    }
    MerkleRoot(level[0])
}

/// The merkle root of a list of transactions: over their leaf hashes (the id, or
/// `SHA-256(id ‖ signature)` for a signed one), so a block commits to its signatures.
pub fn merkle_root_of(transactions: &[Transaction]) -> MerkleRoot {
    merkle_root_of_leaves(transactions.iter().map(Transaction::leaf_hash).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hash::to_hex;

    fn id(hex: &str) -> TxId {
        hex.parse().unwrap()
    }

    // Known answers copied from shared/vectors.json (an independent implementation).
    #[test]
    fn transaction_ids_match_known_answers() {
        let cases = [
            (
                "alice",
                "bob",
                5,
                1732500000000,
                "05000000616c69636503000000626f620500000000000000000d0c6193010000",
                "14448fb08b884ccb2d4e812ec8b45723579a8f29954ed83418682c28fca182f3",
            ),
            (
                "0",
                "http://127.0.0.1:5000",
                50,
                1732500000123,
                "010000003015000000687474703a2f2f3132372e302e302e313a3530303032000000000000007b0d0c6193010000",
                "44b44c4b01b1c7dbde2605788777832c05a8f45ac9fe702a674e45aa352c1534",
            ),
            (
                "ünïcødé",
                "bob",
                9007199254740991,
                0,
                "0b000000c3bc6ec3af63c3b864c3a903000000626f62ffffffffffff1f000000000000000000",
                "979264542f25201e15e4482356dc6be829be9009fdb1f905302d31bdadb73428",
            ),
        ];
        for (sender, recipient, amount, timestamp, preimage, expected) in cases {
            let bytes = Transaction::id_preimage(sender, recipient, amount, timestamp);
            assert_eq!(to_hex(&bytes), preimage);
            let tx = Transaction::new(sender, recipient, amount, timestamp);
            assert_eq!(tx.id.to_hex(), expected);
        }
    }

    #[test]
    fn merkle_roots_match_known_answers() {
        let a = "4792e36bf1cfe789eb474577ee8bc6aded9e47bf002dcdf67ea223124ab80207";
        let b = "21a3cd3cdfc00f0ff484036666923063c6dba9e4f2e781d2b016ed21641c2a7c";
        let c = "4a026c0d2b8f126b2d42dc9fa588c1bac198ece564a27db1ea8a826376b5e72d";
        let d = "d14865fa954c5bd67098621ed67c6aee79b0f7f054850f55a8620d618ac16771";
        let e = "7f7043ac6351acde054cc94147dc1dc94801e10a276a2b7d5841340acb84481a";
        assert_eq!(merkle_root(&[]), MerkleRoot::ZERO);
        assert_eq!(merkle_root(&[id(a)]).to_hex(), a);
        assert_eq!(
            merkle_root(&[id(a), id(b)]).to_hex(),
            "a95f317ff90211848ff176f9ea84ad5cf96587e7392df20aa093b910d0db8fe7"
        );
        assert_eq!(
            merkle_root(&[id(a), id(b), id(c)]).to_hex(),
            "2699e2b2c9d926fdaec3f48410b205d1480a9da4c99991fa75020de4f60f89c6"
        );
        assert_eq!(
            merkle_root(&[id(a), id(b), id(c), id(d), id(e)]).to_hex(),
            "8612fc6094cbaeb67ecf1e68fddade2fbf1521f751601ffb64f097c49055076f"
        );
    }

    #[test]
    fn header_bytes_and_hash_match_known_answers() {
        let header = Header {
            index: 2,
            timestamp: 1732500000000,
            previous_hash: "ab".repeat(32).parse().unwrap(),
            merkle_root: "cd".repeat(32).parse().unwrap(),
            difficulty: 8,
            proof: 123456789,
        };
        assert_eq!(
            to_hex(&header.to_bytes()),
            "0200000000000000000d0c6193010000ababababababababababababababababababababababababababababababababcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd0800000015cd5b0700000000"
        );
        assert_eq!(
            header.block_hash().to_hex(),
            "357be82fb719108328ab4b2046db981c31aa518e1385efc286e698ea451da4fa"
        );
        assert_eq!(Header::from_bytes(&header.to_bytes()), header);
    }

    #[test]
    fn genesis_blocks_match_known_answers() {
        assert_eq!(
            genesis(8).hash.to_hex(),
            "90fab8563d21507e3bb1d181748559687f6f8b18801efbc380e291f0d4e93847"
        );
        assert_eq!(
            genesis(20).hash.to_hex(),
            "17cebf8602edb12c54589ead22c84f8d16b81ba2cc30a9552dec5fc6b87b305b"
        );
        assert_eq!(genesis(20).header.index, 1);
        assert!(genesis(20).transactions.is_empty());
    }

    #[test]
    fn block_json_has_exactly_the_spec_fields() {
        let json = serde_json::to_value(genesis(8)).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "difficulty",
                "hash",
                "index",
                "merkle_root",
                "previous_hash",
                "proof",
                "timestamp",
                "transactions"
            ]
        );
        let mut with_extra = json.clone();
        with_extra["extra"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Block>(with_extra).is_err());
    }

    #[test]
    fn block_json_keeps_the_spec_field_order() {
        let json = serde_json::to_string(&genesis(8)).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"index":1,"timestamp":0,"previous_hash":"{zero}","merkle_root":"{zero}","difficulty":8,"proof":0,"hash":"{}","transactions":[]}}"#,
                genesis(8).hash,
                zero = "0".repeat(64)
            )
        );
        assert_eq!(serde_json::from_str::<Block>(&json).unwrap(), genesis(8));
    }

    #[test]
    fn rejects_transaction_with_wrong_id() {
        let mut tx = Transaction::new("alice", "bob", 5, 1);
        tx.amount = 6;
        assert!(matches!(tx.check(false), Err(TxError::WrongId { .. })));
    }

    #[test]
    fn rejects_zero_and_too_large_amounts() {
        let zero = Transaction::new("alice", "bob", 0, 1);
        assert_eq!(
            zero.check(false),
            Err(TxError::AmountOutOfRange { amount: 0 })
        );
        let huge = Transaction::new("alice", "bob", MAX_AMOUNT + 1, 1);
        assert!(matches!(
            huge.check(false),
            Err(TxError::AmountOutOfRange { .. })
        ));
        assert!(
            Transaction::new("alice", "bob", MAX_AMOUNT, 1)
                .check(false)
                .is_ok()
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        let empty = Transaction::new("", "bob", 5, 1);
        assert_eq!(
            empty.check(false),
            Err(TxError::EmptyAddress { role: "sender" })
        );
        let long = Transaction::new("alice", &"x".repeat(257), 5, 1);
        assert!(matches!(
            long.check(false),
            Err(TxError::AddressTooLong {
                role: "recipient",
                bytes: 257
            })
        ));
        assert!(
            Transaction::new("alice", &"x".repeat(256), 5, 1)
                .check(false)
                .is_ok()
        );
        let same = Transaction::new("alice", "alice", 5, 1);
        assert_eq!(same.check(false), Err(TxError::SelfTransfer));
    }

    #[test]
    fn rejects_coinbase_sender_outside_the_coinbase() {
        let tx = Transaction::new("0", "bob", 5, 1);
        assert_eq!(tx.check(false), Err(TxError::CoinbaseSender));
        assert!(tx.check(true).is_ok());
    }
}
