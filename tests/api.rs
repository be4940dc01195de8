//! One node at a time: every route of SPEC §5 with its refusals (§9), the command line of
//! §2, and the hashing of §3 re-checked from the outside.

use crate::util::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------
// Known answers, copied from /work/shared/vectors.json (computed by an independent
// implementation).

const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const GENESIS_8_HASH: &str = "90fab8563d21507e3bb1d181748559687f6f8b18801efbc380e291f0d4e93847";
const GENESIS_20_HASH: &str = "17cebf8602edb12c54589ead22c84f8d16b81ba2cc30a9552dec5fc6b87b305b";

/// (sender, recipient, amount, timestamp, id pre-image hex, id)
const TRANSACTION_VECTORS: [(&str, &str, u64, u64, &str, &str); 3] = [
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

const MERKLE_IDS: [&str; 5] = [
    "4792e36bf1cfe789eb474577ee8bc6aded9e47bf002dcdf67ea223124ab80207",
    "21a3cd3cdfc00f0ff484036666923063c6dba9e4f2e781d2b016ed21641c2a7c",
    "4a026c0d2b8f126b2d42dc9fa588c1bac198ece564a27db1ea8a826376b5e72d",
    "d14865fa954c5bd67098621ed67c6aee79b0f7f054850f55a8620d618ac16771",
    "7f7043ac6351acde054cc94147dc1dc94801e10a276a2b7d5841340acb84481a",
];
/// (how many of MERKLE_IDS, root)
const MERKLE_VECTORS: [(usize, &str); 5] = [
    (0, ZERO_HASH),
    (
        1,
        "4792e36bf1cfe789eb474577ee8bc6aded9e47bf002dcdf67ea223124ab80207",
    ),
    (
        2,
        "a95f317ff90211848ff176f9ea84ad5cf96587e7392df20aa093b910d0db8fe7",
    ),
    (
        3,
        "2699e2b2c9d926fdaec3f48410b205d1480a9da4c99991fa75020de4f60f89c6",
    ),
    (
        5,
        "8612fc6094cbaeb67ecf1e68fddade2fbf1521f751601ffb64f097c49055076f",
    ),
];

/// Header fields, then the header's bytes, its hash and the hash's leading zero bits.
type HeaderVector = (
    u64,
    u64,
    &'static str,
    &'static str,
    u32,
    u64,
    &'static str,
    &'static str,
    u32,
);

/// (index, timestamp, previous_hash, merkle_root, difficulty, proof, header hex, hash, zero bits)
const HEADER_VECTORS: [HeaderVector; 2] = [
    (
        1,
        0,
        ZERO_HASH,
        ZERO_HASH,
        20,
        0,
        "0100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000140000000000000000000000",
        GENESIS_20_HASH,
        3,
    ),
    (
        2,
        1732500000000,
        "abababababababababababababababababababababababababababababababab",
        "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        8,
        123456789,
        "0200000000000000000d0c6193010000ababababababababababababababababababababababababababababababababcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd0800000015cd5b0700000000",
        "357be82fb719108328ab4b2046db981c31aa518e1385efc286e698ea451da4fa",
        2,
    ),
];

/// `chain_difficulty_8_reward_50` from vectors.json: a valid 4-block chain.
const CHAIN_VECTOR: &str = r#"[
 {"index": 1, "timestamp": 0,
  "previous_hash": "0000000000000000000000000000000000000000000000000000000000000000",
  "merkle_root": "0000000000000000000000000000000000000000000000000000000000000000",
  "difficulty": 8, "proof": 0,
  "hash": "90fab8563d21507e3bb1d181748559687f6f8b18801efbc380e291f0d4e93847",
  "transactions": []},
 {"index": 2, "timestamp": 1732500000000,
  "previous_hash": "90fab8563d21507e3bb1d181748559687f6f8b18801efbc380e291f0d4e93847",
  "merkle_root": "5717dc5bfba39e6449a9749f19800e2bf29dedca4572d8655c644a79b1fb3664",
  "difficulty": 8, "proof": 734,
  "hash": "00d70b1e44221c442679350c91fb71e706936b5b28db1ecbb21666c2ff49cfa7",
  "transactions": [
   {"id": "5717dc5bfba39e6449a9749f19800e2bf29dedca4572d8655c644a79b1fb3664", "sender": "0",
    "recipient": "http://127.0.0.1:5000", "amount": 50, "timestamp": 1732500000000}]},
 {"index": 3, "timestamp": 1732500001000,
  "previous_hash": "00d70b1e44221c442679350c91fb71e706936b5b28db1ecbb21666c2ff49cfa7",
  "merkle_root": "a6dba2c2c6fd46ddcb255fad3fdcfe8e100368cef654e4d2186e031fdeb57e3c",
  "difficulty": 8, "proof": 60,
  "hash": "00f3013858735f991d7a49851a905d5225e23cef24d60a39d91604e07b92495c",
  "transactions": [
   {"id": "a6dba2c2c6fd46ddcb255fad3fdcfe8e100368cef654e4d2186e031fdeb57e3c", "sender": "0",
    "recipient": "http://127.0.0.1:5000", "amount": 50, "timestamp": 1732500001000}]},
 {"index": 4, "timestamp": 1732500002000,
  "previous_hash": "00f3013858735f991d7a49851a905d5225e23cef24d60a39d91604e07b92495c",
  "merkle_root": "e11686f1c31a940550d9dbcf19a63b9cbc690b2e267d060bcd053d476654d225",
  "difficulty": 8, "proof": 362,
  "hash": "006b28f836f79603dd4f19b778b5712b891f364ac759fa003b47ff8573d08d08",
  "transactions": [
   {"id": "25d257f6e5f9d1fd52676da52f89d33fe170ee55f6897707ae0f59be8b082069", "sender": "0",
    "recipient": "http://127.0.0.1:5000", "amount": 50, "timestamp": 1732500002000},
   {"id": "47241a7d8aa277ddda1e8ac578f914c1be895818b29a3da5e25919484f5ad378",
    "sender": "http://127.0.0.1:5000", "recipient": "bob", "amount": 30, "timestamp": 1732500001500},
   {"id": "596788e11cc69fe03122b6580607c71638444d12614ae44c84a06bee9c2f663f",
    "sender": "bob", "recipient": "carol", "amount": 10, "timestamp": 1732500001501}]}
]"#;

const MAX_AMOUNT: u64 = (1 << 53) - 1;
const BLOCK_FIELDS: [&str; 8] = [
    "difficulty",
    "hash",
    "index",
    "merkle_root",
    "previous_hash",
    "proof",
    "timestamp",
    "transactions",
];
const TRANSACTION_FIELDS: [&str; 5] = ["amount", "id", "recipient", "sender", "timestamp"];
const MINE_FIELDS: [&str; 12] = [
    "attempts",
    "difficulty",
    "elapsed_ms",
    "hash",
    "hash_rate",
    "index",
    "merkle_root",
    "message",
    "previous_hash",
    "proof",
    "timestamp",
    "transactions",
];

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    names.sort();
    names
}

fn genesis_8() -> Value {
    json!({
        "index": 1, "timestamp": 0, "previous_hash": ZERO_HASH, "merkle_root": ZERO_HASH,
        "difficulty": 8, "proof": 0, "hash": GENESIS_8_HASH, "transactions": []
    })
}

/// A node whose miner `alice` owns `reward` coins after one block.
fn node_with_alice(reward: u64) -> TestNode {
    let reward = reward.to_string();
    let node = TestNode::start(&["--miner", "alice", "--reward", &reward]);
    node.mine();
    node
}

fn balance(node: &TestNode, address: &str) -> u64 {
    let (status, answer) = node.get(&format!("/balances?address={address}"));
    assert_eq!(status, 200, "GET /balances?address={address}: {answer}");
    answer["balance"]
        .as_u64()
        .unwrap_or_else(|| panic!("no integer balance: {answer}"))
}

fn indexes(blocks: &Value) -> Vec<u64> {
    blocks
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {blocks}"))
        .iter()
        .map(|b| b["index"].as_u64().unwrap())
        .collect()
}

fn block_values(inv: &Value) -> Vec<String> {
    inv["values"]
        .as_array()
        .unwrap_or_else(|| panic!("no values in {inv}"))
        .iter()
        .filter(|v| v["type"] == "block")
        .map(|v| v["value"].as_str().unwrap().to_string())
        .collect()
}

fn transaction_values(inv: &Value) -> Vec<String> {
    inv["values"]
        .as_array()
        .unwrap_or_else(|| panic!("no values in {inv}"))
        .iter()
        .filter(|v| v["type"] == "transaction")
        .map(|v| v["value"].as_str().unwrap().to_string())
        .collect()
}

fn peer_set(peers: &[Value]) -> BTreeSet<String> {
    peers
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// §3: hashing

#[test]
fn hashing_helpers_match_known_vectors() {
    for (sender, recipient, amount, timestamp, preimage, id) in TRANSACTION_VECTORS {
        assert_eq!(
            to_hex(&tx_preimage(sender, recipient, amount, timestamp)),
            preimage
        );
        assert_eq!(tx_id(sender, recipient, amount, timestamp), id);
    }
    for (count, root) in MERKLE_VECTORS {
        let ids: Vec<String> = MERKLE_IDS[..count].iter().map(|s| s.to_string()).collect();
        assert_eq!(merkle_root(&ids), root, "merkle root of {count} ids");
    }
    for (index, timestamp, previous, merkle, difficulty, proof, header_hex, hash, zeros) in
        HEADER_VECTORS
    {
        let header = header_bytes(index, timestamp, previous, merkle, difficulty, proof);
        assert_eq!(to_hex(&header), header_hex);
        assert_eq!(to_hex(&sha256(&header)), hash);
        assert_eq!(leading_zero_bits(hash), zeros);
    }
    assert_eq!(block_hash_of(&genesis_8()), GENESIS_8_HASH);
    let chain: Vec<Value> = serde_json::from_str(CHAIN_VECTOR).unwrap();
    for block in &chain[1..] {
        assert_block_is_sound(block, 8);
    }
}

#[test]
fn genesis_at_difficulty_20_is_the_known_vector() {
    let node = TestNode::start(&["--difficulty", "20"]);
    let chain = node.chain();
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0]["hash"], GENESIS_20_HASH, "{}", chain[0]);
    assert_eq!(chain[0]["difficulty"], 20);
    assert_eq!(node.get("/inv").1["genesis"], GENESIS_20_HASH);
}

#[test]
fn difficulty_1_and_64_are_accepted() {
    let node = TestNode::start(&["--difficulty", "1"]);
    let block = node.mine();
    assert_eq!(block["difficulty"], 1);
    assert_block_is_sound(&block, 1);
    let node = TestNode::start(&["--difficulty", "64"]);
    let genesis = &node.chain()[0];
    assert_eq!(genesis["difficulty"], 64);
    assert_eq!(genesis["hash"], block_hash_of(genesis), "{genesis}");
}

#[test]
fn node_computes_the_known_transaction_ids() {
    // vectors.json: a multi-byte sender (lengths count bytes) and the largest amount, and
    // alice -> bob 5.
    let node = TestNode::start(&["--miner", "ünïcødé", "--reward", "9007199254740991"]);
    node.mine();
    node.mine();
    for (sender, recipient, amount, timestamp, _, id) in
        [TRANSACTION_VECTORS[2], TRANSACTION_VECTORS[0]]
    {
        if sender == "alice" {
            node.pay_ok("ünïcødé", "alice", 5);
        }
        let body = json!({"sender": sender, "recipient": recipient, "amount": amount, "timestamp": timestamp});
        let (status, answer) = node.post("/transactions/new", &body);
        assert_eq!(status, 201, "{body}: {answer}");
        assert_eq!(answer["transaction"]["id"], id, "{body}");
    }
    let block = node.mine();
    assert_block_is_sound(&block, 8);
}

#[test]
fn genesis_at_difficulty_8_is_the_known_vector() {
    let node = TestNode::start(&[]);
    let (status, answer) = node.get("/chain");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"chain": [genesis_8()], "length": 1}));
}

// ---------------------------------------------------------------------------------------
// /mine

#[test]
fn mined_block_has_every_field_a_valid_proof_and_pays_the_node_wallet() {
    let node = TestNode::start(&[]);
    let before = now_ms();
    let block = node.mine();
    let after = now_ms();

    assert_eq!(
        keys(&block),
        sorted(&MINE_FIELDS),
        "fields of the /mine answer: {block}"
    );
    assert!(block["message"].is_string(), "{block}");
    assert_eq!(block["index"], 2, "{block}");
    assert_eq!(block["previous_hash"], GENESIS_8_HASH, "{block}");
    assert_eq!(block["difficulty"], 8, "{block}");
    assert!(
        block["attempts"].as_u64().is_some_and(|a| a >= 1),
        "attempts: {block}"
    );
    assert!(block["elapsed_ms"].is_number(), "elapsed_ms: {block}");
    assert!(block["hash_rate"].is_number(), "hash_rate: {block}");
    let timestamp = block["timestamp"].as_u64().expect("integer timestamp");
    assert!(
        (before..=after + 1).contains(&timestamp),
        "block timestamp {timestamp} is not the clock at mining time ({before}..={after})"
    );
    assert_block_is_sound(&block, 8);

    let transactions = block["transactions"].as_array().unwrap();
    assert_eq!(
        transactions.len(),
        1,
        "an empty pool gives a coinbase only: {block}"
    );
    let coinbase = &transactions[0];
    assert_eq!(
        keys(coinbase),
        sorted(&TRANSACTION_FIELDS),
        "coinbase fields: {coinbase}"
    );
    assert_eq!(coinbase["sender"], "0");
    assert_eq!(
        coinbase["recipient"],
        node.wallet_address().as_str(),
        "default miner is the node wallet's key address"
    );
    assert_eq!(coinbase["amount"], 50, "default reward");
    assert_eq!(
        coinbase["timestamp"], block["timestamp"],
        "coinbase carries the block time"
    );

    // The chain holds the same block, with the block fields only.
    let chain = node.chain();
    assert_eq!(chain.len(), 2);
    assert_eq!(
        keys(&chain[1]),
        sorted(&BLOCK_FIELDS),
        "stored block fields: {}",
        chain[1]
    );
    for field in BLOCK_FIELDS {
        assert_eq!(
            chain[1][field], block[field],
            "field {field} of /chain vs /mine"
        );
    }
    assert_eq!(balance(&node, &node.wallet_address()), 50);
}

#[test]
fn mine_answers_get_and_post_and_chains_blocks() {
    let node = TestNode::start(&[]);
    let (status, first) = node.get("/mine");
    assert_eq!(status, 200, "GET /mine: {first}");
    let (status, second) = node.post("/mine", &json!({}));
    assert_eq!(status, 200, "POST /mine: {second}");
    assert_eq!(first["index"], 2);
    assert_eq!(second["index"], 3);
    assert_eq!(second["previous_hash"], first["hash"]);
    assert!(
        second["timestamp"].as_u64().unwrap() > first["timestamp"].as_u64().unwrap(),
        "block timestamps strictly increase: {first} then {second}"
    );
    assert_block_is_sound(&first, 8);
    assert_block_is_sound(&second, 8);
    assert_eq!(node.chain().len(), 3);
}

#[test]
fn coinbase_pays_the_miner_flag_the_reward_flag() {
    let node = TestNode::start(&["--miner", "alice", "--reward", "1234"]);
    let block = node.mine();
    let coinbase = &block["transactions"][0];
    assert_eq!(coinbase["sender"], "0", "{block}");
    assert_eq!(coinbase["recipient"], "alice", "{block}");
    assert_eq!(coinbase["amount"], 1234, "{block}");
    assert_eq!(balance(&node, "alice"), 1234);
}

#[test]
fn mine_takes_the_pool_in_arrival_order_and_empties_it() {
    let node = node_with_alice(100);
    let pooled = [
        node.pay_ok("alice", "bob", 10),
        node.pay_ok("bob", "carol", 5),
        node.pay_ok("alice", "dave", 1),
    ];
    let block = node.mine();
    assert_block_is_sound(&block, 8);
    let transactions = block["transactions"].as_array().unwrap();
    assert_eq!(transactions.len(), 4, "coinbase + 3: {block}");
    assert_eq!(transactions[0]["sender"], "0");
    assert_eq!(
        &transactions[1..],
        &pooled[..],
        "block takes the pool as it was, in order"
    );
    assert!(
        node.pool().is_empty(),
        "pool after mining: {:?}",
        node.pool()
    );
    let (_, balances) = node.get("/balances");
    assert_eq!(
        balances,
        json!({"balances": {"alice": 189, "bob": 5, "carol": 5, "dave": 1}})
    );
}

// ---------------------------------------------------------------------------------------
// /restart

#[test]
fn restart_resets_chain_and_pool_but_keeps_peers() {
    let node = node_with_alice(100);
    let (status, answer) = node.post("/nodes/register", &json!({"nodes": ["127.0.0.1:1"]}));
    assert_eq!(status, 201, "{answer}");
    node.mine();
    node.pay_ok("alice", "bob", 3);

    for method in ["POST", "GET"] {
        let (status, answer) = node.call(method, "/restart", None);
        assert_eq!(status, 200, "{method} /restart: {answer}");
        assert!(answer["message"].is_string(), "{answer}");
        assert_eq!(answer["length"], 1, "{method} /restart: {answer}");
        assert_eq!(node.chain(), vec![genesis_8()], "after {method} /restart");
        assert!(node.pool().is_empty(), "pool after {method} /restart");
        assert_eq!(
            node.peers(),
            vec![json!("http://127.0.0.1:1")],
            "peers stay"
        );
        assert_eq!(node.get("/balances").1, json!({"balances": {}}));
        // The node keeps working after a reset.
        node.mine();
        node.pay_ok("alice", "bob", 3);
    }
}

// ---------------------------------------------------------------------------------------
// /transactions/new

#[test]
fn new_transaction_answers_201_with_the_transaction_and_its_block_index() {
    let node = node_with_alice(100);
    let before = now_ms();
    let (status, answer) = node.pay("alice", "bob", 5);
    let after = now_ms();
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        keys(&answer),
        sorted(&["index", "message", "transaction"]),
        "{answer}"
    );
    assert!(answer["message"].is_string(), "{answer}");
    assert_eq!(
        answer["index"], 3,
        "it lands in the block after the tip (2): {answer}"
    );
    let tx = &answer["transaction"];
    assert_eq!(keys(tx), sorted(&TRANSACTION_FIELDS), "{tx}");
    assert_eq!(
        (&tx["sender"], &tx["recipient"], &tx["amount"]),
        (&json!("alice"), &json!("bob"), &json!(5))
    );
    let timestamp = tx["timestamp"].as_u64().expect("integer timestamp");
    assert!(
        (before..=after + 50).contains(&timestamp),
        "timestamp {timestamp} not near now {before}..{after}"
    );
    assert_eq!(
        tx["id"],
        tx_id_of(tx),
        "id is the SHA-256 of the fields: {tx}"
    );
    assert_eq!(node.pool(), vec![tx.clone()]);
    assert_eq!(node.get("/pool").1["pool_length"], 1);
}

#[test]
fn transaction_missing_a_field_or_with_a_wrong_type_is_400() {
    let node = node_with_alice(100);
    for body in [
        json!({"recipient": "bob", "amount": 5}),
        json!({"sender": "alice", "amount": 5}),
        json!({"sender": "alice", "recipient": "bob"}),
        json!({"sender": 5, "recipient": "bob", "amount": 5}),
        json!({"sender": "alice", "recipient": ["bob"], "amount": 5}),
        json!({}),
        json!([]),
        json!("alice pays bob 5"),
        json!(null),
    ] {
        let answer = node.post("/transactions/new", &body);
        assert_error(&format!("POST /transactions/new {body}"), &answer, 400);
    }
    assert!(node.pool().is_empty());
}

#[test]
fn amount_must_be_an_integer_from_1_to_2_pow_53_minus_1() {
    let node = node_with_alice(MAX_AMOUNT);
    for amount in [
        json!("5"),
        json!(1.5),
        json!(5.0),
        json!(0),
        json!(-1),
        json!(1u64 << 53),
        json!(u64::MAX),
        json!(null),
    ] {
        let body = json!({"sender": "alice", "recipient": "bob", "amount": amount});
        let answer = node.post("/transactions/new", &body);
        assert_error(&format!("amount {amount}"), &answer, 400);
        let reason = answer.1["error"].as_str().unwrap().to_lowercase();
        assert!(
            reason.contains("amount"),
            "amount {amount}: the 400 must say the amount is wrong: {reason}"
        );
    }
    assert!(node.pool().is_empty());
    // The largest amount is fine.
    let tx = node.pay_ok("alice", "bob", MAX_AMOUNT);
    assert_eq!(tx["amount"], MAX_AMOUNT);
    node.mine();
    assert_eq!(balance(&node, "bob"), MAX_AMOUNT);
}

#[test]
fn sender_zero_is_refused() {
    let node = node_with_alice(100);
    assert_error("sender \"0\"", &node.pay("0", "bob", 1), 400);
    assert_error("sender \"0\" to alice", &node.pay("0", "alice", 1), 400);
    assert!(node.pool().is_empty());
}

#[test]
fn sender_equal_to_recipient_is_refused() {
    let node = node_with_alice(100);
    assert_error("alice pays alice", &node.pay("alice", "alice", 1), 400);
    assert!(node.pool().is_empty());
}

#[test]
fn addresses_must_be_1_to_256_bytes() {
    let node = node_with_alice(100);
    assert_error("empty sender", &node.pay("", "bob", 1), 400);
    assert_error("empty recipient", &node.pay("alice", "", 1), 400);
    assert_error(
        "257-byte recipient",
        &node.pay("alice", &"x".repeat(257), 1),
        400,
    );
    // Bytes, not characters: 129 two-byte characters are 258 bytes.
    assert_error(
        "258-byte recipient",
        &node.pay("alice", &"é".repeat(129), 1),
        400,
    );
    assert!(node.pool().is_empty());
    node.pay_ok("alice", &"x".repeat(256), 1);
    node.pay_ok("alice", &"é".repeat(128), 1);
    assert_eq!(node.pool().len(), 2);
}

#[test]
fn overspending_is_refused_counting_the_pool() {
    let node = node_with_alice(100);
    assert_error("alice pays 101 of 100", &node.pay("alice", "bob", 101), 400);
    node.pay_ok("alice", "bob", 60);
    assert_error(
        "alice pays 41 of the 40 left",
        &node.pay("alice", "carol", 41),
        400,
    );
    node.pay_ok("alice", "carol", 40);
    assert_error(
        "alice pays 1 of 0 left",
        &node.pay("alice", "carol", 1),
        400,
    );
    assert_error("unknown sender", &node.pay("nobody", "bob", 1), 400);
    assert_eq!(node.pool().len(), 2);
}

#[test]
fn coins_received_in_the_pool_can_be_spent_before_mining() {
    let node = node_with_alice(100);
    let first = node.pay_ok("alice", "bob", 30);
    let second = node.pay_ok("bob", "carol", 20);
    assert_error(
        "bob spends 11 of the 10 left",
        &node.pay("bob", "carol", 11),
        400,
    );
    let third = node.pay_ok("carol", "dave", 20);
    assert_eq!(
        node.pool(),
        vec![first.clone(), second.clone(), third.clone()]
    );
    let block = node.mine();
    assert_eq!(
        block["transactions"].as_array().unwrap()[1..],
        [first, second, third]
    );
    let (_, balances) = node.get("/balances");
    assert_eq!(
        balances,
        json!({"balances": {"alice": 170, "bob": 10, "dave": 20}})
    );
}

#[test]
fn unknown_extra_field_is_refused() {
    let node = node_with_alice(100);
    let body = json!({"sender": "alice", "recipient": "bob", "amount": 5, "memo": "lunch"});
    assert_error(
        "transaction with a memo",
        &node.post("/transactions/new", &body),
        400,
    );
    assert!(node.pool().is_empty());
}

#[test]
fn relayed_transaction_with_a_timestamp_gets_its_id_computed() {
    let node = node_with_alice(100);
    let timestamp = now_ms() - 5000;
    let body = json!({"sender": "alice", "recipient": "bob", "amount": 7, "timestamp": timestamp});
    let (status, answer) = node.post("/transactions/new", &body);
    assert_eq!(status, 201, "{answer}");
    let tx = &answer["transaction"];
    assert_eq!(
        tx["timestamp"], timestamp,
        "a client's timestamp is kept: {tx}"
    );
    assert_eq!(tx["id"], tx_id("alice", "bob", 7, timestamp), "{tx}");
}

#[test]
fn relayed_transaction_with_a_matching_id_is_accepted() {
    let node = node_with_alice(100);
    let timestamp = 1732500000000;
    let id = tx_id("alice", "bob", 5, timestamp);
    let body = json!({"id": id, "sender": "alice", "recipient": "bob", "amount": 5, "timestamp": timestamp});
    let (status, answer) = node.post("/transactions/new", &body);
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["transaction"], body);
    assert_eq!(answer["index"], 3);
    assert_eq!(node.pool(), vec![body]);
}

#[test]
fn relayed_transaction_with_a_mismatched_id_is_400() {
    let node = node_with_alice(100);
    let timestamp = 1732500000000;
    for id in [
        tx_id("alice", "bob", 6, timestamp),
        tx_id("alice", "bob", 5, timestamp + 1),
        ZERO_HASH.to_string(),
        "not a hash".to_string(),
    ] {
        let body = json!({"id": id, "sender": "alice", "recipient": "bob", "amount": 5, "timestamp": timestamp});
        assert_error(
            &format!("id {id}"),
            &node.post("/transactions/new", &body),
            400,
        );
    }
    assert!(node.pool().is_empty());
}

#[test]
fn id_without_a_timestamp_is_400() {
    let node = node_with_alice(100);
    let id = tx_id("alice", "bob", 5, 1732500000000);
    let body = json!({"id": id, "sender": "alice", "recipient": "bob", "amount": 5});
    assert_error(
        "id without timestamp",
        &node.post("/transactions/new", &body),
        400,
    );
    assert!(node.pool().is_empty());
}

#[test]
fn the_same_relayed_transaction_twice_is_409() {
    let node = node_with_alice(100);
    let timestamp = now_ms();
    let body = json!({"sender": "alice", "recipient": "bob", "amount": 5, "timestamp": timestamp});
    let (status, answer) = node.post("/transactions/new", &body);
    assert_eq!(status, 201, "{answer}");
    let with_id = answer["transaction"].clone();
    assert_error(
        "same transaction again",
        &node.post("/transactions/new", &body),
        409,
    );
    assert_error(
        "same transaction again, with its id",
        &node.post("/transactions/new", &with_id),
        409,
    );
    assert_eq!(node.pool(), vec![with_id]);
}

#[test]
fn a_transaction_already_in_the_chain_is_409() {
    let node = node_with_alice(100);
    let tx = node.post(
        "/transactions/new",
        &json!({"sender": "alice", "recipient": "bob", "amount": 5, "timestamp": now_ms()}),
    );
    assert_eq!(tx.0, 201, "{}", tx.1);
    let tx = tx.1["transaction"].clone();
    node.mine();
    assert!(node.pool().is_empty());
    assert_error(
        "mined transaction sent again",
        &node.post("/transactions/new", &tx),
        409,
    );
    // Coinbases are in the chain too.
    let coinbase = node.chain()[1]["transactions"][0].clone();
    let answer = node.post("/transactions/new", &coinbase);
    assert!(
        answer.0 == 409 || answer.0 == 400,
        "a coinbase sent as a payment: {answer:?}"
    );
    assert_error("coinbase sent as a payment", &answer, answer.0);
    assert!(node.pool().is_empty());
}

#[test]
fn identical_payments_without_a_timestamp_are_separate_payments() {
    let node = node_with_alice(100);
    let mut seen = BTreeSet::new();
    for _ in 0..20 {
        let tx = node.pay_ok("alice", "bob", 1);
        assert!(
            seen.insert(tx["id"].as_str().unwrap().to_string()),
            "id reused: {tx}"
        );
        assert_eq!(tx["id"], tx_id_of(&tx));
    }
    assert_eq!(node.pool().len(), 20);
    node.mine();
    assert_eq!(balance(&node, "bob"), 20);
}

#[test]
fn a_payment_without_a_timestamp_skips_ids_already_in_the_chain_or_pool() {
    // Take every id alice -> bob 1 would get in the next few hundred milliseconds, mine half
    // of them, pool the other half; a payment without a timestamp must still be new.
    const SPAN: u64 = 200;
    // The taken range starts this far ahead of the clock, so it is set up before the clock
    // gets there. A machine too busy for that gets a fresh node and twice the lead: a
    // slow set-up is not the node's fault.
    let mut lead = 3000;
    let (node, base) = loop {
        let node = node_with_alice(10_000);
        let base = now_ms() + lead;
        let relay = |timestamps: std::ops::Range<u64>| {
            std::thread::scope(|scope| {
                for client in 0..8 {
                    let node = &node;
                    let timestamps = timestamps.clone();
                    scope.spawn(move || {
                        for timestamp in timestamps.skip(client).step_by(8) {
                            let body = json!({"sender": "alice", "recipient": "bob", "amount": 1, "timestamp": timestamp});
                            let (status, answer) = node.post("/transactions/new", &body);
                            assert_eq!(status, 201, "relayed payment at {timestamp}: {answer}");
                        }
                    });
                }
            })
        };
        relay(base..base + SPAN / 2);
        node.mine();
        relay(base + SPAN / 2..base + SPAN);
        assert_eq!(node.pool().len() as u64, SPAN / 2);
        if now_ms() < base {
            break (node, base);
        }
        assert!(
            lead < 24_000,
            "this machine took longer than {lead} ms to set the test up"
        );
        eprintln!("the set-up took longer than {lead} ms; again with twice the lead");
        lead *= 2;
    };

    assert!(wait_until(Duration::from_secs(60), || now_ms() >= base + 20));
    let sent_at = now_ms();
    assert!(
        sent_at < base + SPAN,
        "this machine took too long between two calls ({} ms past the start of the taken range)",
        sent_at - base
    );
    let (status, answer) = node.pay("alice", "bob", 1);
    assert_eq!(
        status, 201,
        "the clock is inside a range of taken ids; the node must move past them: {answer}"
    );
    let tx = &answer["transaction"];
    let timestamp = tx["timestamp"].as_u64().unwrap();
    assert!(
        timestamp >= base + SPAN,
        "timestamp {timestamp} is taken (taken: {base}..{})",
        base + SPAN
    );
    assert_eq!(tx["id"], tx_id_of(tx));
    let block = node.mine();
    assert_eq!(
        block["transactions"].as_array().unwrap().len() as u64,
        1 + SPAN / 2 + 1
    );
    assert_eq!(balance(&node, "bob"), SPAN + 1);
}

#[test]
fn a_body_that_is_not_json_is_400_whatever_the_content_type() {
    let node = node_with_alice(100);
    for (body, content_type) in [
        (
            b"sender=alice&recipient=bob&amount=5".to_vec(),
            Some("text/plain"),
        ),
        (
            b"sender=alice&recipient=bob&amount=5".to_vec(),
            Some("application/x-www-form-urlencoded"),
        ),
        (
            b"{\"sender\": \"alice\", ".to_vec(),
            Some("application/json"),
        ),
        (b"\xff\xfe\x00garbage".to_vec(), Some("application/json")),
        (Vec::new(), Some("application/json")),
        (Vec::new(), None),
    ] {
        let what = format!(
            "body {:?} as {content_type:?}",
            String::from_utf8_lossy(&body)
        );
        let reply = node.post_raw("/transactions/new", body, content_type);
        assert_error(&what, &(reply.status, reply.json(&what)), 400);
    }
    assert!(node.pool().is_empty());
}

#[test]
fn a_json_body_is_read_whatever_the_content_type() {
    // STYLE.md: curl users forget the header; the node reads the body itself.
    let node = node_with_alice(100);
    let body = br#"{"sender": "alice", "recipient": "bob", "amount": 5}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let reply = node.post_raw("/transactions/new", body.to_vec(), content_type);
        let what = format!("JSON body as {content_type:?}");
        assert_eq!(reply.status, 201, "{what}: {}", reply.json(&what));
    }
    assert_eq!(node.pool().len(), 3);
}

/// A payment alice -> bob padded with spaces to exactly `size` bytes.
fn padded_payment(size: usize) -> Vec<u8> {
    let mut body = br#"{"sender": "alice", "recipient": "bob", "amount": 5"#.to_vec();
    body.resize(size - 1, b' ');
    body.push(b'}');
    assert_eq!(body.len(), size);
    body
}

#[test]
fn a_body_of_exactly_1_mib_is_within_the_limit() {
    let node = node_with_alice(100);
    let reply = node.post_raw(
        "/transactions/new",
        padded_payment(1_048_576),
        Some("application/json"),
    );
    let answer = reply.json("1 MiB body");
    assert_eq!(
        reply.status, 201,
        "a valid payment of exactly 1,048,576 bytes: {answer}"
    );
    assert_eq!(node.pool().len(), 1);
}

#[test]
fn a_body_over_1_mib_is_413() {
    let node = node_with_alice(100);
    let reply = node.post_raw(
        "/transactions/new",
        padded_payment(1_048_577),
        Some("application/json"),
    );
    let answer = reply.json("1 MiB + 1 body");
    assert_error("body of 1,048,577 bytes", &(reply.status, answer), 413);
    assert!(node.pool().is_empty());
    let mut peers = br#"{"nodes": ["127.0.0.1:5001"]"#.to_vec();
    peers.resize(1_048_576, b' ');
    peers.push(b'}');
    let reply = node.post_raw("/nodes/register", peers, Some("application/json"));
    let answer = reply.json("1 MiB + 1 body to /nodes/register");
    assert_error(
        "register body of 1,048,577 bytes",
        &(reply.status, answer),
        413,
    );
    assert!(node.peers().is_empty());
    // The connection trouble of a refused upload leaves the node serving.
    node.pay_ok("alice", "bob", 1);
}

#[test]
fn timestamp_must_be_a_non_negative_integer() {
    let node = node_with_alice(100);
    for timestamp in [json!("1732500000000"), json!(1.5), json!(-5), json!([1])] {
        let body =
            json!({"sender": "alice", "recipient": "bob", "amount": 5, "timestamp": timestamp});
        let answer = node.post("/transactions/new", &body);
        assert_error(&format!("timestamp {timestamp}"), &answer, 400);
    }
    assert!(node.pool().is_empty());
}

// ---------------------------------------------------------------------------------------
// /chain

#[test]
fn chain_pages_with_from_and_limit() {
    let node = TestNode::start(&[]);
    for _ in 0..4 {
        node.mine();
    }
    let (status, whole) = node.get("/chain");
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["length"], 5);
    assert_eq!(indexes(&whole["chain"]), vec![1, 2, 3, 4, 5]);
    let blocks = whole["chain"].as_array().unwrap();
    for pair in blocks.windows(2) {
        assert_eq!(pair[1]["previous_hash"], pair[0]["hash"], "chain links");
        assert_block_is_sound(&pair[1], 8);
    }

    for (query, expected) in [
        ("?from=2&limit=2", vec![2, 3]),
        ("?from=4", vec![4, 5]),
        ("?limit=2", vec![1, 2]),
        ("?from=1&limit=500", vec![1, 2, 3, 4, 5]),
        ("?from=5&limit=1", vec![5]),
        ("?from=6", vec![]),
        ("?from=1000&limit=3", vec![]),
        ("?limit=100000", vec![1, 2, 3, 4, 5]),
    ] {
        let (status, page) = node.get(&format!("/chain{query}"));
        assert_eq!(status, 200, "GET /chain{query}: {page}");
        assert_eq!(
            indexes(&page["chain"]),
            expected,
            "GET /chain{query}: {page}"
        );
        assert_eq!(
            page["length"], 5,
            "length is the full length: GET /chain{query}"
        );
        for block in page["chain"].as_array().unwrap() {
            let index = block["index"].as_u64().unwrap() as usize;
            assert_eq!(
                block,
                &blocks[index - 1],
                "paged block {index} is the same block"
            );
        }
    }
    for query in [
        "?from=abc",
        "?limit=abc",
        "?from=2&limit=x",
        "?from=",
        "?limit=1.5",
    ] {
        assert_error(
            &format!("GET /chain{query}"),
            &node.get(&format!("/chain{query}")),
            400,
        );
    }
}

#[test]
fn chain_limit_is_cut_to_500_and_inv_lists_500_by_default() {
    let node = TestNode::start(&[]);
    for _ in 0..501 {
        node.mine();
    }
    let (_, whole) = node.get("/chain");
    assert_eq!(whole["length"], 502);
    assert_eq!(
        whole["chain"].as_array().unwrap().len(),
        502,
        "no parameters: the whole chain"
    );

    let (_, page) = node.get("/chain?limit=1000");
    assert_eq!(
        indexes(&page["chain"]),
        (1..=500).collect::<Vec<u64>>(),
        "limit cut to 500"
    );
    let (_, page) = node.get("/chain?from=2");
    assert_eq!(
        indexes(&page["chain"]),
        (2..=501).collect::<Vec<u64>>(),
        "limit defaults to 500"
    );
    let (_, page) = node.get("/chain?from=500&limit=500");
    assert_eq!(indexes(&page["chain"]), vec![500, 501, 502]);

    // Blocks mined faster than the clock ticks still get strictly increasing timestamps
    // (a miner uses max(now, previous + 1)), and every one is sound.
    let blocks = whole["chain"].as_array().unwrap();
    for pair in blocks.windows(2) {
        assert_eq!(pair[1]["previous_hash"], pair[0]["hash"], "chain links");
        assert!(
            pair[1]["timestamp"].as_u64() > pair[0]["timestamp"].as_u64(),
            "timestamps must strictly increase: block {} at {}, block {} at {}",
            pair[0]["index"],
            pair[0]["timestamp"],
            pair[1]["index"],
            pair[1]["timestamp"]
        );
        assert_block_is_sound(&pair[1], 8);
    }

    let hashes: Vec<String> = whole["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hash"].as_str().unwrap().to_string())
        .collect();
    let (status, inv) = node.get("/inv");
    assert_eq!(status, 200, "{inv}");
    assert_eq!(
        block_values(&inv),
        hashes[..500],
        "/inv lists 500 block hashes by default"
    );
    let (_, inv) = node.get("/inv?limit=2000");
    assert_eq!(block_values(&inv), hashes, "/inv?limit=2000");
    let (status, inv) = node.get("/inv?limit=100000");
    assert_eq!(status, 200, "a large /inv limit is cut, not refused: {inv}");
    assert_eq!(
        block_values(&inv),
        hashes,
        "/inv?limit=100000 (cut to 2000)"
    );
}

// ---------------------------------------------------------------------------------------
// /pool

#[test]
fn pool_lists_pending_transactions_in_arrival_order() {
    let node = node_with_alice(100);
    let (status, answer) = node.get("/pool");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"pool": [], "pool_length": 0}));
    let pooled = vec![
        node.pay_ok("alice", "bob", 1),
        node.pay_ok("alice", "carol", 2),
        node.pay_ok("bob", "dave", 1),
    ];
    let (_, answer) = node.get("/pool");
    assert_eq!(answer, json!({"pool": pooled, "pool_length": 3}));
    for tx in &pooled {
        assert_eq!(keys(tx), sorted(&TRANSACTION_FIELDS), "{tx}");
    }
}

// ---------------------------------------------------------------------------------------
// /balances

#[test]
fn balances_count_the_chain_only_and_skip_zero_balances() {
    let node = node_with_alice(100);
    node.pay_ok("alice", "bob", 30);
    assert_eq!(
        node.get("/balances"),
        (200, json!({"balances": {"alice": 100}})),
        "pooled payments do not count"
    );
    node.mine();
    assert_eq!(
        node.get("/balances"),
        (200, json!({"balances": {"alice": 170, "bob": 30}}))
    );
    node.pay_ok("bob", "carol", 30);
    node.mine();
    assert_eq!(
        node.get("/balances"),
        (200, json!({"balances": {"alice": 270, "carol": 30}})),
        "bob is at 0 and \"0\" is not an address"
    );
}

#[test]
fn balances_of_one_address_unknown_is_0() {
    let node = node_with_alice(100);
    node.pay_ok("alice", "bob", 30);
    node.mine();
    assert_eq!(
        node.get("/balances?address=bob"),
        (
            200,
            json!({"address": "bob", "balance": 30, "balances": {"bob": 30}, "last_leaf": null})
        )
    );
    assert_eq!(
        node.get("/balances?address=nobody"),
        (
            200,
            json!({"address": "nobody", "balance": 0, "balances": {"nobody": 0}, "last_leaf": null})
        )
    );
    let url_address = format!("/balances?address={}", "http%3A%2F%2F127.0.0.1%3A5000");
    assert_eq!(
        node.get(&url_address),
        (
            200,
            json!({"address": "http://127.0.0.1:5000", "balance": 0, "balances": {"http://127.0.0.1:5000": 0}, "last_leaf": null})
        ),
        "the address is percent-decoded"
    );
}

// ---------------------------------------------------------------------------------------
// /nodes/register

#[test]
fn register_normalises_merges_and_lists_peers() {
    let node = TestNode::start(&[]);
    assert_eq!(
        node.get("/nodes/register"),
        (200, json!({"total_nodes": []}))
    );
    let body = json!({"nodes": ["http://127.0.0.1:5001", "127.0.0.1:5002", "http://127.0.0.1:5001/", "127.0.0.1:5002"]});
    let (status, answer) = node.post("/nodes/register", &body);
    assert_eq!(status, 201, "{answer}");
    assert!(answer["message"].is_string(), "{answer}");
    let expected = set(&["http://127.0.0.1:5001", "http://127.0.0.1:5002"]);
    let total = answer["total_nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(total.len(), 2, "duplicates merged: {answer}");
    assert_eq!(peer_set(total), expected);
    assert_eq!(peer_set(&node.peers()), expected);
    assert_eq!(node.peers().len(), 2);

    let (status, answer) = node.post(
        "/nodes/register",
        &json!({"nodes": ["127.0.0.1:5001/", "http://127.0.0.1:5003"]}),
    );
    assert_eq!(status, 201, "{answer}");
    let expected = set(&[
        "http://127.0.0.1:5001",
        "http://127.0.0.1:5002",
        "http://127.0.0.1:5003",
    ]);
    assert_eq!(
        peer_set(answer["total_nodes"].as_array().unwrap()),
        expected,
        "{answer}"
    );
    assert_eq!(node.peers().len(), 3, "{:?}", node.peers());
}

#[test]
fn register_is_all_or_nothing_and_refuses_https() {
    let node = TestNode::start(&[]);
    for nodes in [
        json!(["127.0.0.1:5003", "https://127.0.0.1:5004"]),
        json!(["https://127.0.0.1:5004"]),
        json!(["127.0.0.1:5003", "ftp://127.0.0.1:5005"]),
        json!(["127.0.0.1:5003", "127.0.0.1"]),
        json!(["127.0.0.1:5003", ""]),
        json!(["127.0.0.1:5003", 5]),
        // Hosts an HTTP client cannot parse: refused here, never stored to fail later.
        json!(["127.0.0.1:5003", "1:2:3:5001"]),
        json!(["127.0.0.1:5003", "[zz]:5001"]),
    ] {
        let body = json!({"nodes": nodes});
        assert_error(
            &format!("register {nodes}"),
            &node.post("/nodes/register", &body),
            400,
        );
        assert!(
            node.peers().is_empty(),
            "after refused {nodes}: {:?}",
            node.peers()
        );
    }
}

#[test]
fn register_requires_a_host_and_a_valid_port_and_nothing_else() {
    let node = TestNode::start(&[]);
    for peer in [
        "127.0.0.1",
        "http://127.0.0.1",
        "http://127.0.0.1/",
        "example.com",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:port",
        "http://127.0.0.1:5001/chain",
        "http://127.0.0.1:5001?x=1",
        "http://:5001",
    ] {
        let body = json!({"nodes": [peer]});
        assert_error(
            &format!("register {peer}"),
            &node.post("/nodes/register", &body),
            400,
        );
    }
    assert!(node.peers().is_empty());
}

#[test]
fn register_refuses_the_nodes_own_address() {
    let node = TestNode::start(&[]);
    let port = node.port;
    for own in [
        node.url.clone(),
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("http://localhost:{port}/"),
        format!("{}/", node.url),
    ] {
        let body = json!({"nodes": [own]});
        assert_error(
            &format!("register own address {own}"),
            &node.post("/nodes/register", &body),
            400,
        );
        let body = json!({"nodes": ["127.0.0.1:5001", own]});
        assert_error(
            &format!("register 5001 and own address {own}"),
            &node.post("/nodes/register", &body),
            400,
        );
    }
    assert!(node.peers().is_empty(), "{:?}", node.peers());
}

#[test]
fn register_refuses_a_body_without_a_list_of_nodes() {
    let node = TestNode::start(&[]);
    for body in [
        json!({}),
        json!({"nodes": "127.0.0.1:5001"}),
        json!({"node": ["127.0.0.1:5001"]}),
        json!(["127.0.0.1:5001"]),
    ] {
        assert_error(
            &format!("register {body}"),
            &node.post("/nodes/register", &body),
            400,
        );
    }
    let reply = node.post_raw(
        "/nodes/register",
        b"127.0.0.1:5001".to_vec(),
        Some("text/plain"),
    );
    assert_error(
        "register a non-JSON body",
        &(reply.status, reply.json("register text")),
        400,
    );
    assert!(node.peers().is_empty());
}

#[test]
fn delete_forgets_peers_and_an_unknown_peer_is_404() {
    let node = TestNode::start(&[]);
    let (status, answer) = node.post(
        "/nodes/register",
        &json!({"nodes": ["127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"]}),
    );
    assert_eq!(status, 201, "{answer}");

    let (status, answer) = node.delete(
        "/nodes/register",
        &json!({"nodes": ["http://127.0.0.1:5001"]}),
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer["message"].is_string(), "{answer}");
    let expected = set(&["http://127.0.0.1:5002", "http://127.0.0.1:5003"]);
    assert_eq!(
        peer_set(
            answer["total_nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{answer}"))
        ),
        expected
    );
    assert_eq!(peer_set(&node.peers()), expected);

    for nodes in [
        json!(["127.0.0.1:5009"]),
        json!(["127.0.0.1:5001"]),
        json!(["127.0.0.1:5002", "127.0.0.1:5009"]),
    ] {
        let body = json!({"nodes": nodes});
        assert_error(
            &format!("DELETE {nodes}"),
            &node.delete("/nodes/register", &body),
            404,
        );
        assert_eq!(
            peer_set(&node.peers()),
            expected,
            "a 404 changes nothing ({nodes})"
        );
    }
    assert_error(
        "DELETE without nodes",
        &node.delete("/nodes/register", &json!({})),
        400,
    );

    // Addresses are normalised before they are looked up.
    let (status, answer) = node.delete(
        "/nodes/register",
        &json!({"nodes": ["127.0.0.1:5002/", "http://127.0.0.1:5003"]}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["total_nodes"], json!([]));
    assert!(node.peers().is_empty());
}

// ---------------------------------------------------------------------------------------
// /inv

#[test]
fn inv_without_a_locator_lists_blocks_from_genesis_then_the_pool() {
    let node = node_with_alice(100);
    node.mine();
    let tx = node.pay_ok("alice", "bob", 5);
    let chain = node.chain();
    let hashes: Vec<String> = chain
        .iter()
        .map(|b| b["hash"].as_str().unwrap().to_string())
        .collect();

    let (status, inv) = node.get("/inv");
    assert_eq!(status, 200, "{inv}");
    assert_eq!(
        keys(&inv),
        sorted(&[
            "difficulty",
            "fork_index",
            "reward",
            "genesis",
            "length",
            "node_id",
            "tip",
            "values"
        ]),
        "{inv}"
    );
    assert!(
        inv["node_id"].as_str().is_some_and(|id| !id.is_empty()),
        "node_id: {inv}"
    );
    assert_eq!(inv["length"], 3);
    assert_eq!(inv["tip"], hashes[2]);
    assert_eq!(inv["genesis"], GENESIS_8_HASH);
    assert_eq!(inv["difficulty"], 8);
    assert_eq!(inv["fork_index"], 0);
    let mut expected: Vec<Value> = hashes
        .iter()
        .map(|h| json!({"type": "block", "value": h}))
        .collect();
    expected.push(json!({"type": "transaction", "value": tx["id"]}));
    assert_eq!(
        inv["values"],
        json!(expected),
        "blocks from genesis, then pooled ids"
    );

    let (_, again) = node.get("/inv");
    assert_eq!(again["node_id"], inv["node_id"], "node_id is fixed");
}

#[test]
fn inv_with_a_locator_starts_after_the_first_hash_it_knows() {
    let node = node_with_alice(100);
    node.mine();
    node.mine();
    let tx = node.pay_ok("alice", "bob", 5);
    let hashes: Vec<String> = node
        .chain()
        .iter()
        .map(|b| b["hash"].as_str().unwrap().to_string())
        .collect();
    let unknown = "ab".repeat(32);
    let tip = &hashes[3];

    for (locator, fork_index, blocks) in [
        (tip.clone(), 4, vec![]),
        (hashes[1].clone(), 2, hashes[2..].to_vec()),
        (
            format!("{unknown},{},{}", hashes[2], hashes[0]),
            3,
            hashes[3..].to_vec(),
        ),
        (
            format!("{},{}", hashes[1], hashes[2]),
            2,
            hashes[2..].to_vec(),
        ),
        (hashes[0].clone(), 1, hashes[1..].to_vec()),
        (unknown.clone(), 0, hashes.clone()),
        (format!("{unknown},{}", "cd".repeat(32)), 0, hashes.clone()),
    ] {
        let (status, inv) = node.get(&format!("/inv?locator={locator}"));
        assert_eq!(status, 200, "locator {locator}: {inv}");
        assert_eq!(inv["fork_index"], fork_index, "locator {locator}: {inv}");
        assert_eq!(block_values(&inv), blocks, "locator {locator}");
        assert_eq!(
            transaction_values(&inv),
            vec![tx["id"].as_str().unwrap()],
            "locator {locator}"
        );
        assert_eq!(inv["length"], 4);
        assert_eq!(inv["tip"], tip.as_str());
        let values = inv["values"].as_array().unwrap();
        assert_eq!(
            values.last().unwrap()["type"],
            "transaction",
            "pooled ids come after the blocks"
        );
    }
}

#[test]
fn inv_limit_caps_block_hashes_and_must_be_numeric() {
    let node = node_with_alice(100);
    node.mine();
    let tx = node.pay_ok("alice", "bob", 5);
    let hashes: Vec<String> = node
        .chain()
        .iter()
        .map(|b| b["hash"].as_str().unwrap().to_string())
        .collect();

    let (status, inv) = node.get("/inv?limit=1");
    assert_eq!(status, 200, "{inv}");
    assert_eq!(block_values(&inv), hashes[..1], "limit=1");
    assert_eq!(
        transaction_values(&inv),
        vec![tx["id"].as_str().unwrap()],
        "every pooled id, whatever the limit"
    );
    let (_, inv) = node.get(&format!("/inv?locator={}&limit=1", hashes[0]));
    assert_eq!(block_values(&inv), hashes[1..2], "locator + limit");
    for query in [
        "?limit=abc",
        "?limit=",
        &format!("?locator={}&limit=two", hashes[0]),
    ] {
        assert_error(
            &format!("GET /inv{query}"),
            &node.get(&format!("/inv{query}")),
            400,
        );
    }
}

// ---------------------------------------------------------------------------------------
// /nodes/resolve and /getblocks on their own (the network cases are in sync.rs)

#[test]
fn resolve_and_getblocks_without_peers_change_nothing() {
    let node = node_with_alice(100);
    node.pay_ok("alice", "bob", 5);
    let before = (node.chain(), node.pool());
    let tip = before.0[1]["hash"].clone();
    for method in ["GET", "POST"] {
        let (status, answer) = node.call(method, "/nodes/resolve", None);
        assert_eq!(status, 200, "{method} /nodes/resolve: {answer}");
        assert!(answer["message"].is_string(), "{answer}");
        assert_eq!(answer["replaced"], false, "{answer}");
        assert_eq!(answer["length"], 2, "{answer}");
        assert_eq!(answer["tip"], tip, "{answer}");
        assert_eq!(answer["peers"], json!([]), "{answer}");
    }
    assert_eq!(node.get("/getblocks"), (200, json!({"information": []})));
    assert_eq!((node.chain(), node.pool()), before);
}

// ---------------------------------------------------------------------------------------
// Routing and answers

#[test]
fn unknown_path_is_404_with_a_json_error() {
    let node = TestNode::start(&[]);
    for (method, path) in [
        ("GET", "/nope"),
        ("POST", "/nope"),
        ("GET", "/chain/2"),
        ("DELETE", "/blocks"),
    ] {
        let answer = node.call(method, path, None);
        assert_error(&format!("{method} {path}"), &answer, 404);
    }
}

#[test]
fn wrong_method_on_a_known_path_is_405_with_a_json_error() {
    let node = TestNode::start(&[]);
    for (method, path) in [
        ("DELETE", "/chain"),
        ("POST", "/chain"),
        ("PUT", "/mine"),
        ("DELETE", "/mine"),
        ("PUT", "/restart"),
        ("GET", "/transactions/new"),
        ("PUT", "/nodes/register"),
        ("POST", "/pool"),
        ("PUT", "/inv"),
        ("POST", "/nodes"),
        ("POST", "/balances"),
        ("DELETE", "/nodes/resolve"),
        ("POST", "/getblocks"),
    ] {
        let answer = node.call(method, path, None);
        assert_error(&format!("{method} {path}"), &answer, 405);
    }
    assert_eq!(node.chain().len(), 1, "refused requests change nothing");
}

#[test]
fn every_answer_is_json_with_a_json_content_type() {
    let node = node_with_alice(100);
    let payment = br#"{"sender": "alice", "recipient": "bob", "amount": 1}"#.to_vec();
    let requests: Vec<(&str, &str, Option<Vec<u8>>)> = vec![
        ("GET", "/chain", None),
        ("GET", "/chain?from=x", None),
        ("GET", "/pool", None),
        ("GET", "/balances", None),
        ("GET", "/balances?address=alice", None),
        ("GET", "/inv", None),
        ("GET", "/nodes/register", None),
        ("POST", "/transactions/new", Some(payment)),
        ("POST", "/transactions/new", Some(b"not json".to_vec())),
        (
            "POST",
            "/transactions/new",
            Some(br#"{"sender": "x", "recipient": "y", "amount": 1}"#.to_vec()),
        ),
        (
            "POST",
            "/nodes/register",
            Some(br#"{"nodes": ["127.0.0.1:5001"]}"#.to_vec()),
        ),
        (
            "DELETE",
            "/nodes/register",
            Some(br#"{"nodes": ["127.0.0.1:5999"]}"#.to_vec()),
        ),
        ("POST", "/mine", None),
        ("GET", "/nope", None),
        ("PUT", "/chain", None),
        ("POST", "/restart", None),
    ];
    for (method, path, body) in requests {
        let reply = node.request(method, path, body, Some("application/json"));
        let what = format!("{method} {path} ({})", reply.status);
        let content_type = reply.content_type.clone().unwrap_or_default();
        assert!(
            content_type.to_lowercase().starts_with("application/json"),
            "{what}: Content-Type {content_type:?}, body {:?}",
            String::from_utf8_lossy(&reply.body)
        );
        let json = reply.json(&what);
        if reply.status >= 400 {
            assert_error(&what, &(reply.status, json), reply.status);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Command line (§2)

#[test]
fn help_exits_0_and_lists_every_flag() {
    let outcome = run_to_exit(&["--help"]);
    assert_eq!(
        outcome.status.code(),
        Some(0),
        "{}: {}",
        outcome.command_line,
        outcome.stderr
    );
    let text = format!("{}{}", outcome.stdout, outcome.stderr);
    for flag in [
        "--port",
        "--host",
        "--data-dir",
        "--difficulty",
        "--reward",
        "--miner",
        "--threads",
        "--peer",
        "--peer-timeout-ms",
        "--max-connections",
        "--max-body-buffer-mb",
        "--advertise",
        "--help",
    ] {
        assert!(
            text.contains(flag),
            "--help does not mention {flag}:\n{text}"
        );
    }
}

#[test]
fn bad_flags_exit_2_with_a_one_line_error() {
    let dir = fresh_dir("unused");
    let dir = dir.display().to_string();
    for (args, names) in [
        (vec!["--difficulty", "0"], "difficulty"),
        (vec!["--difficulty", "65"], "difficulty"),
        (vec!["--difficulty", "abc"], "difficulty"),
        (vec!["--port", "abc"], "port"),
        (vec!["--port", "70000"], "port"),
        (vec!["--frobnicate"], "frobnicate"),
        (vec!["--reward"], "reward"),
        (vec!["--reward", "0"], "reward"),
        (vec!["--reward", "9007199254740992"], "reward"),
        (vec!["--miner", ""], "miner"),
        (vec!["--peer", "https://127.0.0.1:5001"], "peer"),
        (vec!["--peer", "127.0.0.1"], "peer"),
        (vec!["--max-body-buffer-mb", "0"], "max-body-buffer-mb"),
        (vec!["--max-body-buffer-mb", "65537"], "max-body-buffer-mb"),
        (vec!["--advertise", "https://x:1"], "advertise"),
    ] {
        let mut all = vec!["--data-dir", dir.as_str()];
        if !args.contains(&"--port") {
            all.extend(["--port", "0"]);
        }
        all.extend(args.iter().copied());
        let outcome = run_to_exit(&all);
        assert_eq!(
            outcome.status.code(),
            Some(2),
            "{}: exit status {}, stderr:\n{}",
            outcome.command_line,
            outcome.status,
            outcome.stderr
        );
        let first_line = outcome
            .stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        assert!(
            first_line.to_lowercase().contains(names),
            "{}: the first stderr line should name {names}; stderr:\n{}",
            outcome.command_line,
            outcome.stderr
        );
        assert!(
            outcome.stderr.contains("--port") || outcome.stderr.to_lowercase().contains("usage"),
            "{}: a bad flag prints the usage too; stderr:\n{}",
            outcome.command_line,
            outcome.stderr
        );
        assert!(
            !outcome.stdout.contains("listening on"),
            "{}: {}",
            outcome.command_line,
            outcome.stdout
        );
    }
}

#[test]
fn a_node_bound_to_0_0_0_0_calls_itself_127_0_0_1() {
    let node = TestNode::start(&["--host", "0.0.0.0"]);
    assert!(
        node.url.starts_with("http://127.0.0.1:"),
        "a node bound to 0.0.0.0 announces {}",
        node.url
    );
    let block = node.mine();
    assert_eq!(
        block["transactions"][0]["recipient"],
        node.wallet_address().as_str(),
        "default miner"
    );
    let port = node.port;
    for own in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("0.0.0.0:{port}"),
    ] {
        let answer = node.post("/nodes/register", &json!({"nodes": [own]}));
        assert_error(&format!("register own address {own}"), &answer, 400);
    }
    assert!(node.peers().is_empty());
}

#[test]
fn a_peer_flag_registers_a_peer_that_is_down() {
    // Nothing listens on the discard port; the node still starts and keeps the peer.
    let node = TestNode::start(&["--peer", "127.0.0.1:9", "--peer-timeout-ms", "500"]);
    assert_eq!(node.peers(), vec![json!("http://127.0.0.1:9")]);
    assert_eq!(node.chain().len(), 1);
}

// ---------------------------------------------------------------------------------------
// §8: no lock is held during the nonce search

#[test]
fn chain_answers_promptly_while_a_hard_mine_is_searching() {
    let node = TestNode::start(&["--difficulty", "60", "--threads", "1", "--miner", "alice"]);
    let mine_url = format!("{}/mine", node.url);
    // Never joined: the node is killed on drop, which ends this request.
    std::thread::spawn(move || {
        let _ = send("POST", &mine_url, None, None, Duration::from_secs(3600));
    });
    let started = Instant::now();
    let mut checks = 0;
    while started.elapsed() < Duration::from_millis(1500) || checks < 5 {
        for (method, path) in [
            ("GET", "/chain"),
            ("GET", "/pool"),
            ("GET", "/inv"),
            ("GET", "/balances"),
        ] {
            // A lock held during the search would keep every read waiting until the block
            // is found, which at difficulty 60 is never, so any limit tells it apart; a
            // busy machine answers a read in far less than 10 s.
            let reply = send(
                method,
                &format!("{}{path}", node.url),
                None,
                None,
                Duration::from_secs(10),
            );
            let reply = reply.unwrap_or_else(|e| {
                panic!("{method} {path} during /mine: no answer within 10 s ({e})")
            });
            assert_eq!(
                reply.status,
                200,
                "{method} {path} during /mine: {:?}",
                String::from_utf8_lossy(&reply.body)
            );
        }
        let answer = node.pay("alice", "bob", 1);
        assert_error("payment from an empty wallet during /mine", &answer, 400);
        checks += 1;
    }
    assert_eq!(
        node.chain().len(),
        1,
        "a 60-bit block is not found in a second and a half"
    );
}

/// `?brief=1` writes each signature as one short line in every answer that carries one
/// (`/transactions/new`, `/pool`, `/chain` and its pages, `/mine`), and nothing else changes;
/// without it the signature is whole.
#[test]
fn brief_answers_shorten_signatures_and_keys_and_nothing_else() {
    let node = TestNode::start(&[]);
    node.mine();
    let paid = node.pay_from_wallet("bob", 1);
    let whole = paid["signature"].as_str().unwrap().to_string();
    assert!(whole.len() > 1000, "{paid}");
    let (status, pool) = node.get("/pool?brief=signatures");
    assert_eq!(status, 200, "{pool}");
    let short = pool["pool"][0]["signature"].as_str().unwrap();
    assert!(
        short.starts_with(&whole[..16]) && short.contains("leaf 0,"),
        "{short}"
    );
    let (_, plain) = node.get("/pool");
    assert_eq!(plain["pool"][0]["signature"], whole.as_str());
    let mut briefly = plain.clone();
    briefly["pool"][0]["signature"] = short.into();
    assert_eq!(pool, briefly, "only the signature differs");
    // ?brief=1, for a person, shortens the sender's key address too, and nothing else.
    let (_, for_a_person) = node.get("/pool?brief=1");
    let sender = plain["pool"][0]["sender"].as_str().unwrap();
    let short_sender = format!("{}…{}", &sender[16..24], &sender[106..]);
    briefly["pool"][0]["sender"] = short_sender.into();
    assert_eq!(
        for_a_person, briefly,
        "the signature and the key address differ"
    );
    let (_, mined) = node.call("POST", "/mine?brief=1", None);
    assert!(mined.to_string().contains("(leaf 0, "), "{mined}");
    for path in ["/chain?brief=1", "/chain?from=2&brief=1"] {
        let (_, page) = node.get(path);
        assert!(page.to_string().contains("(leaf 0, "), "{path}: {page}");
    }
    let stored = node.chain();
    assert_eq!(
        stored[2]["transactions"][1]["signature"],
        whole.as_str(),
        "the block was stored whole although /mine was asked briefly"
    );
}
