//! Who may spend (SPEC §3a) at the node's edge: every forgery refused at
//! `/transactions/new` and inside a chain a peer offers, signed payments synced and
//! reorganised between real nodes, and the node's own wallet (`/wallet`, rotation,
//! restart, kill -9).

use crate::sync_util::{FakePeer, Forge, REWARD, assert_only_block_is_bad, child_block, now_ms};
use crate::util::*;
use minichain::core::block::{Block, Transaction, genesis};
use minichain::core::hash::BlockHash;
use minichain::core::signed::{Signature, key_address, signing_message};
use minichain::crypto::{LmsType, OtsType, PrivateKey};
use serde_json::{Value, json};

/// A key no node holds, made the same way in every run.
fn alice() -> PrivateKey {
    PrivateKey::generate(LmsType::H5, OtsType::W4, [9; 16], [8; 32])
}

fn network() -> BlockHash {
    genesis(TEST_DIFFICULTY.parse().unwrap()).hash
}

/// A payment from `key`'s address signed with leaf `q` for `network`.
fn signed(key: &PrivateKey, network: &BlockHash, to: &str, amount: u64, q: u32) -> Transaction {
    let sender = key_address(&key.public_key());
    let mut tx = Transaction::new(&sender, to, amount, now_ms() + u64::from(q));
    tx.signature = Some(Signature(
        key.sign(q, &signing_message(network, &tx.id)).unwrap(),
    ));
    tx
}

fn post_tx(node: &TestNode, tx: &Transaction) -> (u16, Value) {
    node.post("/transactions/new", &serde_json::to_value(tx).unwrap())
}

fn assert_refused(node: &TestNode, tx: &Transaction, reason: &str) {
    let (status, answer) = post_tx(node, tx);
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(error.contains(reason), "expected {reason:?} in {error:?}");
}

fn leaf_of(tx: &Value) -> String {
    tx["signature"].as_str().expect("a signed transaction")[..8].to_string()
}

#[test]
fn every_forgery_is_refused_at_transactions_new_with_its_reason() {
    let key = alice();
    let address = key_address(&key.public_key());
    let node = TestNode::start(&["--no-relay", "--miner", &address]);
    node.mine();
    let net = network();
    let valid = signed(&key, &net, "bob", 5, 0);

    let mut unsigned = valid.clone();
    unsigned.signature = None;
    assert_refused(&node, &unsigned, "minichain wallet send");

    let mallory = PrivateKey::generate(LmsType::H5, OtsType::W4, [1; 16], [2; 32]);
    let mut by_other_key = valid.clone();
    by_other_key.signature = Some(Signature(
        mallory.sign(0, &signing_message(&net, &valid.id)).unwrap(),
    ));
    assert_refused(&node, &by_other_key, "does not verify");
    assert_refused(
        &node,
        &signed(&key, &genesis(9).hash, "bob", 5, 0),
        "does not verify",
    );
    let mut other_fields = valid.clone();
    other_fields.amount = 6;
    other_fields.id = Transaction::compute_id(&address, "bob", 6, valid.timestamp);
    assert_refused(&node, &other_fields, "does not verify");
    let bytes = valid.signature.clone().unwrap().0;
    let mut tampered = bytes.clone();
    tampered[200] ^= 0x10;
    let mut short = bytes.clone();
    short.truncate(bytes.len() - 1);
    let mut typecode = bytes.clone();
    typecode[7] = 7;
    for forged in [tampered, short, typecode] {
        let mut tx = valid.clone();
        tx.signature = Some(Signature(forged));
        let (status, answer) = post_tx(&node, &tx);
        assert_eq!(status, 400, "{answer}");
    }
    let mut on_name = Transaction::new("carol", "bob", 1, now_ms());
    on_name.signature = valid.signature.clone();
    assert_refused(&node, &on_name, "must not carry");
    let (status, answer) = node.post(
        "/transactions/new",
        &json!({"sender": "0000000500000003", "recipient": "bob", "amount": 1, "signature": "zz"}),
    );
    assert_eq!(status, 400, "{answer}");

    let (status, answer) = post_tx(&node, &valid);
    assert_eq!(status, 201, "the genuine payment: {answer}");
    let again = signed(&key, &net, "carol", 7, 0);
    assert_refused(&node, &again, "a leaf signs once");
    node.mine();
    assert_refused(&node, &again, "a leaf signs once");
    let (_, balance) = node.get(&format!("/balances?address={address}"));
    assert_eq!(
        (balance["balance"].clone(), balance["last_leaf"].clone()),
        (json!(95), json!(0))
    );
}

/// A chain from our genesis whose block 2 pays `key`'s address, then `payments` in block 3
/// and one more honest block, so it is longer than a fresh node's.
fn chain_spending(key: &PrivateKey, payments: Vec<Transaction>) -> Vec<Block> {
    let mut forge = Forge::from_genesis();
    let timestamp = forge.next_timestamp();
    let paid = child_block(
        forge.tip(),
        timestamp,
        forge.tip().header.difficulty,
        vec![Transaction::coinbase(
            &key_address(&key.public_key()),
            REWARD,
            timestamp,
        )],
    );
    forge.push(paid).honest(payments).honest_blocks(1);
    forge.build()
}

fn assert_peer_chain_refused(blocks: Vec<Block>, bad_index: u64, reason: &str) {
    let library = assert_only_block_is_bad(&blocks, bad_index);
    assert!(library.contains(reason), "{library}");
    let victim = TestNode::start(&["--no-relay", "--miner", "victim"]);
    let before = victim.chain();
    let peer = FakePeer::serving_chain(blocks);
    let (status, answer) = victim.post("/nodes/register", &json!({ "nodes": [peer.url] }));
    assert_eq!(status, 201, "{answer}");
    let (_, report) = victim.post("/nodes/resolve", &Value::Null);
    let outcome = &report["peers"][0];
    assert_eq!(outcome["status"], "invalid", "{report}");
    let why = outcome["reason"].as_str().unwrap();
    assert!(
        why.contains(&format!("block {bad_index}")) && why.contains(reason),
        "{why}"
    );
    assert_eq!(victim.chain(), before, "nothing adopted");
}

#[test]
fn forged_signatures_inside_a_peers_chain_are_refused() {
    let key = alice();
    let net = network();
    let valid = signed(&key, &net, "bob", 5, 0);
    let mut unsigned = valid.clone();
    unsigned.signature = None;
    assert_peer_chain_refused(
        chain_spending(&key, vec![unsigned]),
        3,
        "needs a \"signature\"",
    );
    assert_peer_chain_refused(
        chain_spending(&key, vec![signed(&key, &genesis(9).hash, "bob", 5, 0)]),
        3,
        "does not verify",
    );
    let mut tampered = valid.clone();
    let mut bytes = valid.signature.clone().unwrap().0;
    bytes[300] ^= 1;
    tampered.signature = Some(Signature(bytes));
    assert_peer_chain_refused(chain_spending(&key, vec![tampered]), 3, "does not verify");
    assert_peer_chain_refused(
        chain_spending(&key, vec![valid.clone(), signed(&key, &net, "carol", 5, 0)]),
        3,
        "a leaf signs once",
    );
    // A merkle root over ids instead of leaf hashes.
    let mut blocks = chain_spending(&key, vec![valid]);
    let ids: Vec<_> = blocks[2].transactions.iter().map(|tx| tx.id).collect();
    blocks[2].header.merkle_root = minichain::core::block::merkle_root(&ids);
    crate::sync_util::reseal(&mut blocks[2]);
    let fourth = child_block(
        &blocks[2],
        blocks[2].header.timestamp + 1,
        blocks[2].header.difficulty,
        vec![Transaction::coinbase(
            "forger",
            REWARD,
            blocks[2].header.timestamp + 1,
        )],
    );
    blocks[3] = fourth;
    assert_peer_chain_refused(blocks, 3, "merkle_root");
}

#[test]
fn signed_payments_sync_between_nodes_and_come_back_after_a_reorg() {
    let a = TestNode::start(&["--no-relay"]);
    let b = TestNode::start(&["--no-relay", "--peer", &a.url]);
    a.mine();
    let to_bob = a.pay_from_wallet("bob", 5);
    assert_eq!(leaf_of(&to_bob), "00000000");
    a.mine();
    let (_, report) = b.post("/nodes/resolve", &Value::Null);
    assert_eq!(report["replaced"], true, "{report}");
    assert_eq!(b.chain(), a.chain(), "B holds A's signed payment");

    // A pays carol in a block B never sees; B grows longer; A adopts B's chain.
    let to_carol = a.pay_from_wallet("carol", 7);
    a.mine();
    b.mine();
    b.mine();
    let (_, report) = a.post("/nodes/resolve", &Value::Null);
    assert_eq!(report["replaced"], true, "{report}");
    let pool = a.pool();
    assert_eq!(
        pool,
        vec![to_carol.clone()],
        "the cut payment is back, signature and all"
    );
    a.mine();
    let chain = a.chain();
    assert_eq!(chain.last().unwrap()["transactions"][1], to_carol);

    // Start-up re-validates every signature, and accepts these.
    let mut b = b;
    b.restart();
    assert_eq!(b.get("/balances?address=bob").1["balance"], 5);
}

#[test]
fn rotation_sweeps_the_balance_to_a_fresh_key_with_the_reserved_last_leaf() {
    let node = TestNode::start(&["--no-relay"]);
    node.mine();
    node.mine();
    let (_, before) = node.get("/wallet");
    assert_eq!(before["balance"], 100, "{before}");
    assert_eq!(
        (
            before["leaves_used"].clone(),
            before["leaves_left"].clone(),
            before["height"].clone()
        ),
        (json!(0), json!(31), json!(5))
    );
    let (status, rotated) = node.post("/wallet/rotate", &Value::Null);
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["address"], before["address"]);
    assert_eq!(rotated["retired"], json!([before["address"]]));
    let sweep = &rotated["sweep"];
    assert_eq!(
        (
            sweep["sender"].clone(),
            sweep["recipient"].clone(),
            sweep["amount"].clone()
        ),
        (
            before["address"].clone(),
            rotated["address"].clone(),
            json!(100)
        )
    );
    assert_eq!(leaf_of(sweep), "0000001f", "the last leaf of 32");
    node.mine();
    let (_, after) = node.get("/wallet");
    assert_eq!(
        after["balance"], 150,
        "the sweep and the next coinbase: {after}"
    );
    let (status, answer) = node.post("/wallet", &Value::Null);
    assert_eq!(status, 405, "{answer}");
}

#[test]
fn the_node_wallet_survives_restart_and_kill_9_without_reusing_a_leaf() {
    let mut node = TestNode::start(&["--no-relay"]);
    node.mine();
    assert_eq!(leaf_of(&node.pay_from_wallet("bob", 1)), "00000000");
    assert_eq!(leaf_of(&node.pay_from_wallet("bob", 1)), "00000001");
    let address = node.wallet_address();
    let (status, _) = node.post("/restart", &Value::Null);
    assert_eq!(status, 200);
    assert_eq!(node.wallet_address(), address, "/restart keeps the wallet");
    assert_eq!(node.get("/wallet").1["leaves_used"], 2);
    node.mine();
    assert_eq!(leaf_of(&node.pay_from_wallet("bob", 1)), "00000002");
    node.kill9();
    node.restart();
    assert_eq!(node.wallet_address(), address);
    assert_eq!(leaf_of(&node.pay_from_wallet("bob", 1)), "00000003");
    let (status, refusal) = node.post(
        "/transactions/new",
        &json!({"recipient": "bob", "amount": 1_000_000}),
    );
    assert_eq!(status, 400, "{refusal}");
    assert_eq!(
        node.get("/wallet").1["leaves_used"],
        4,
        "an overspend uses no leaf"
    );
}

#[test]
fn a_wallet_payment_with_the_clients_timestamp_is_a_safe_retry() {
    let node = TestNode::start(&["--no-relay"]);
    node.mine();
    let wallet = node.wallet_address();
    let leaves = |node: &TestNode| node.get("/wallet").1["leaves_used"].as_u64().unwrap();
    let body = serde_json::json!({"sender": wallet, "recipient": "bob", "amount": 1, "timestamp": 1_700_000_000_000u64});
    let (status, first) = node.post("/transactions/new", &body);
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["transaction"]["timestamp"], 1_700_000_000_000u64);
    assert_eq!(leaves(&node), 1);
    let (status, again) = node.post("/transactions/new", &body);
    assert_eq!(
        status, 409,
        "the same payment again is a safe retry: {again}"
    );
    assert_eq!(leaves(&node), 1, "a retry uses no leaf");
    let wrong = serde_json::json!({"recipient": "carol", "amount": 2, "timestamp": 1_700_000_000_000u64, "id": "ab".repeat(32)});
    let (status, answer) = node.post("/transactions/new", &wrong);
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("does not match"),
        "{answer}"
    );
    assert_eq!(leaves(&node), 1, "a refused payment uses no leaf");
    assert_eq!(node.pool().len(), 1);
}
