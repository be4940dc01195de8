//! Issue 21 (SPEC §5b): where a payment is, its merkle proof re-checked here from SPEC §3
//! (not with the node's code), headers, an address's history, and the indexes behind them
//! through a reorg, `kill -9` and `/restart`.

use crate::util::{TestNode, assert_error, block_hash_of, from_hex, hash32, sha256, to_hex};
use serde_json::{Value, json};
use std::thread;

/// A node mining to the name `alice`, with a reward large enough for 2,000 payments.
fn rich_node() -> TestNode {
    let node = TestNode::start(&["--no-relay", "--miner", "alice", "--reward", "1000000"]);
    node.mine();
    node
}

/// SPEC §3: a transaction's leaf hash is its id, or SHA-256(id ‖ signature bytes).
fn leaf_of(tx: &Value) -> [u8; 32] {
    let id = hash32(tx["id"].as_str().expect("an id"));
    match tx.get("signature").and_then(Value::as_str) {
        None => id,
        Some(signature) => {
            let mut bytes = id.to_vec();
            bytes.extend_from_slice(&from_hex(signature));
            sha256(&bytes)
        }
    }
}

fn pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut both = left.to_vec();
    both.extend_from_slice(right);
    sha256(&both)
}

/// The branch SPEC §3 and §5b imply for `position`, computed level by level from the
/// leaves: the sibling and its side; a level's odd last hash is its own sibling.
fn expected_branch(leaves: &[[u8; 32]], position: usize) -> Vec<(String, &'static str)> {
    let mut level = leaves.to_vec();
    let mut at = position;
    let mut branch = Vec::new();
    while level.len() > 1 {
        if at % 2 == 1 {
            branch.push((to_hex(&level[at - 1]), "left"));
        } else {
            let sibling = if at + 1 < level.len() {
                level[at + 1]
            } else {
                level[at]
            };
            branch.push((to_hex(&sibling), "right"));
        }
        let mut next = Vec::new();
        for i in (0..level.len()).step_by(2) {
            let right = if i + 1 < level.len() {
                level[i + 1]
            } else {
                level[i]
            };
            next.push(pair(&level[i], &right));
        }
        level = next;
        at /= 2;
    }
    branch
}

/// Climbs a proof's branch from its leaf, as a light client would, and returns the root.
fn climb(proof: &Value) -> String {
    let mut current = hash32(proof["leaf"].as_str().expect("a leaf"));
    for step in proof["branch"].as_array().expect("a branch") {
        let hash = hash32(step["hash"].as_str().expect("a step hash"));
        current = match step["side"].as_str() {
            Some("left") => pair(&hash, &current),
            Some("right") => pair(&current, &hash),
            other => panic!("side must be left or right, got {other:?} in {proof}"),
        };
    }
    to_hex(&current)
}

/// Checks the proof of the transaction at `position` of `block` (from `/chain`).
fn check_proof(node: &TestNode, block: &Value, position: usize) {
    let transactions = block["transactions"].as_array().unwrap();
    let tx = &transactions[position];
    let id = tx["id"].as_str().unwrap();
    let (status, proof) = node.get(&format!("/transactions/{id}/proof"));
    assert_eq!(status, 200, "proof of {id}: {proof}");
    let leaves: Vec<[u8; 32]> = transactions.iter().map(leaf_of).collect();
    assert_eq!(
        proof["leaf"],
        to_hex(&leaves[position]),
        "leaf of {position}"
    );
    let branch: Vec<(String, &str)> = proof["branch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            (
                step["hash"].as_str().unwrap().to_string(),
                match step["side"].as_str().unwrap() {
                    "left" => "left",
                    "right" => "right",
                    other => panic!("side {other}"),
                },
            )
        })
        .collect();
    assert_eq!(
        branch,
        expected_branch(&leaves, position),
        "branch of position {position} of {}",
        leaves.len()
    );
    assert_eq!(climb(&proof), block["merkle_root"].as_str().unwrap());
    let header = &proof["header"];
    assert_eq!(
        crate::util::keys(header),
        [
            "difficulty",
            "hash",
            "index",
            "merkle_root",
            "previous_hash",
            "proof",
            "timestamp"
        ]
    );
    assert_eq!(block_hash_of(header), block["hash"].as_str().unwrap());
    assert_eq!(header["merkle_root"], block["merkle_root"]);
    assert_eq!(proof["transaction"], *tx);
    let length = node.chain().len() as u64;
    let index = block["index"].as_u64().unwrap();
    assert_eq!(proof["confirmations"], length - index + 1);
}

/// Posts `count` payments from alice in parallel (the group commit batches them).
fn pay_many(node: &TestNode, count: usize) {
    let threads = 8;
    thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                for i in (t..count).step_by(threads) {
                    node.pay_ok("alice", &format!("payee-{i}"), 1);
                }
            });
        }
    });
}

#[test]
fn proofs_of_odd_and_even_positions_reach_the_merkle_root_for_blocks_of_1_2_3_7_and_2000() {
    let node = rich_node();
    // A block of one transaction: the coinbase alone, with an empty branch.
    let single = node.chain()[1].clone();
    check_proof(&node, &single, 0);
    let (_, proof) = node.get(&format!(
        "/transactions/{}/proof",
        single["transactions"][0]["id"].as_str().unwrap()
    ));
    assert_eq!(proof["branch"], json!([]));
    for size in [2usize, 3, 7, 2000] {
        let payments = size - 1;
        if size == 7 {
            // A signed payment too: its leaf hash covers its signature.
            node.pay_ok("alice", &node.wallet_address(), 10);
            node.mine();
            node.pay_from_wallet("bob", 1);
            pay_many(&node, payments - 1);
        } else {
            pay_many(&node, payments);
        }
        let block = node.mine();
        let index = block["index"].as_u64().unwrap();
        let block = node.chain()[index as usize - 1].clone();
        assert_eq!(block["transactions"].as_array().unwrap().len(), size);
        let positions: Vec<usize> = if size == 2000 {
            vec![0, 1, 2, 3, 998, 999, 1000, 1023, 1024, 1997, 1998, 1999]
        } else {
            (0..size).collect()
        };
        for position in positions {
            check_proof(&node, &block, position);
        }
    }
}

#[test]
fn a_payment_goes_from_pool_to_block_back_to_pool_in_a_reorg_and_into_a_block_again() {
    let a = TestNode::start(&["--no-relay", "--miner", "alice"]);
    let b = TestNode::start(&["--no-relay", "--miner", "alice"]);
    a.mine();
    let tx = a.pay_ok("alice", "bob", 5);
    let id = tx["id"].as_str().unwrap();
    let path = format!("/transactions/{id}");

    let (status, pooled) = a.get(&path);
    assert_eq!(status, 200, "{pooled}");
    assert_eq!(pooled["status"], "pooled");
    assert_eq!(pooled["block"], Value::Null);
    assert_eq!(pooled["confirmations"], 0);
    assert_eq!(pooled["transaction"], tx);
    assert_error("proof while pooled", &a.get(&format!("{path}/proof")), 409);
    let (_, history) = a.get("/history?address=bob");
    assert_eq!(history["history"][0]["block"], Value::Null);
    assert_eq!(history["history"][0]["amount"], 5);
    assert_eq!(history["history"][0]["balance_after"], 5);
    assert_eq!(history["balance"], 0);

    let mined_in = a.mine();
    let (_, mined) = a.get(&path);
    assert_eq!(mined["status"], "mined");
    assert_eq!(mined["block"]["index"], 3);
    assert_eq!(mined["block"]["hash"], mined_in["hash"]);
    assert_eq!(mined["confirmations"], 1);
    a.mine();
    assert_eq!(a.get(&path).1["confirmations"], 2);

    // B's longer chain holds no such payment: A adopts it and the payment returns to the pool.
    for _ in 0..5 {
        b.mine();
    }
    let (status, answer) = a.post("/nodes/register", &json!({ "nodes": [b.url] }));
    assert_eq!(status, 201, "{answer}");
    let (status, resolved) = a.post("/nodes/resolve", &Value::Null);
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["replaced"], true, "{resolved}");
    let (_, back) = a.get(&path);
    assert_eq!(back["status"], "pooled", "{back}");
    assert_eq!(back["confirmations"], 0);
    assert_error(
        "proof after the reorg",
        &a.get(&format!("{path}/proof")),
        409,
    );
    let (_, history) = a.get("/history?address=bob");
    assert_eq!(history["history"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history["history"][0]["block"], Value::Null);

    let again = a.mine();
    let (_, mined) = a.get(&path);
    assert_eq!(mined["status"], "mined");
    assert_eq!(mined["block"]["index"], 7);
    assert_eq!(mined["block"]["hash"], again["hash"]);
    let chain = a.chain();
    check_proof(&a, &chain[6], 1);
    let (_, history) = a.get("/history?address=bob");
    assert_eq!(history["history"][0]["block"], 7);
    assert_eq!(history["balance"], 5);
}

/// What the indexes answer about `ids` and two addresses, for comparing before and after.
fn lookups(node: &TestNode, ids: &[String]) -> Vec<Value> {
    let mut answers: Vec<Value> = ids
        .iter()
        .map(|id| node.get(&format!("/transactions/{id}")).1)
        .collect();
    answers.push(node.get("/history?address=alice&limit=500").1);
    answers.push(node.get("/history?address=payee-3").1);
    answers
}

#[test]
fn the_indexes_survive_kill_9_and_are_emptied_by_restart() {
    let mut node = rich_node();
    let mut ids = Vec::new();
    for round in 0..3 {
        for i in 0..4 {
            let tx = node.pay_ok("alice", &format!("payee-{i}"), round + 1);
            ids.push(tx["id"].as_str().unwrap().to_string());
        }
        node.mine();
    }
    let pending = node.pay_ok("alice", "payee-3", 7);
    ids.push(pending["id"].as_str().unwrap().to_string());
    let before = lookups(&node, &ids);
    assert_eq!(before[0]["status"], "mined");
    assert_eq!(before[12]["status"], "pooled");
    assert_eq!(before[14]["history"].as_array().unwrap().len(), 4);

    node.kill9();
    node.restart();
    assert_eq!(
        lookups(&node, &ids),
        before,
        "the same answers after kill -9"
    );

    let (status, answer) = node.post("/restart", &Value::Null);
    assert_eq!(status, 200, "{answer}");
    for id in &ids {
        assert_error(
            "after /restart",
            &node.get(&format!("/transactions/{id}")),
            404,
        );
    }
    let (_, history) = node.get("/history?address=alice");
    assert_eq!(history["history"], json!([]));
    assert_eq!(history["balance"], 0);
    assert_eq!(history["next"], Value::Null);
    node.mine();
    let (_, history) = node.get("/history?address=alice");
    assert_eq!(history["history"].as_array().unwrap().len(), 1);
    assert_eq!(history["history"][0]["block"], 2);
}

#[test]
fn history_pages_back_with_next_and_counts_balances() {
    let node = TestNode::start(&["--no-relay", "--miner", "alice"]);
    for _ in 0..4 {
        node.mine();
    }
    node.pay_ok("alice", "bob", 30);
    node.mine();
    node.pay_ok("bob", "carol", 10);
    let (status, first) = node.get("/history?address=alice&limit=3");
    assert_eq!(status, 200, "{first}");
    let amounts: Vec<i64> = first["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [-30, 50, 50], "{first}");
    assert_eq!(first["history"][0]["counterparty"], "bob");
    assert_eq!(first["history"][1]["counterparty"], "0");
    assert_eq!(first["history"][0]["balance_after"], 220);
    assert_eq!(first["balance"], 220);
    let next = first["next"].as_u64().expect("more pages");
    let (_, second) = node.get(&format!("/history?address=alice&limit=3&before={next}"));
    let blocks: Vec<u64> = second["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["block"].as_u64().unwrap())
        .collect();
    assert_eq!(blocks.len(), 3, "{second}");
    assert!(blocks.iter().all(|&b| b < next), "{second}");
    let balances: Vec<u64> = second["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["balance_after"].as_u64().unwrap())
        .collect();
    assert_eq!(balances, [150, 100, 50]);
    assert_eq!(second["next"], Value::Null, "{second}");
    let (_, bob) = node.get("/history?address=bob");
    let bob: Vec<(Value, i64, u64)> = bob["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["block"].clone(),
                item["amount"].as_i64().unwrap(),
                item["balance_after"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(bob, [(Value::Null, -10, 20), (json!(6), 30, 30)]);
}

#[test]
fn the_lookup_routes_refuse_bad_input_and_read_like_chain() {
    let node = rich_node();
    for path in [
        "/transactions/xyz",
        "/transactions/xyz/proof",
        &format!("/transactions/{}", "g".repeat(64)),
        "/headers?limit=0",
        "/headers?limit=2001",
        "/headers?limit=ten",
        "/headers?from=0",
        &format!("/headers?from=2&locator={}", "0".repeat(64)),
        "/headers?locator=nothex",
        "/history",
        "/history?address=",
        "/history?address=alice&limit=501",
        "/history?address=alice&limit=0",
        "/history?address=alice&before=x",
    ] {
        assert_error(path, &node.get(path), 400);
    }
    let unknown = "ab".repeat(32);
    assert_error(
        "unknown",
        &node.get(&format!("/transactions/{unknown}")),
        404,
    );
    assert_error(
        "unknown proof",
        &node.get(&format!("/transactions/{unknown}/proof")),
        404,
    );
    assert_error(
        "POST",
        &node.post(&format!("/transactions/{unknown}"), &json!({})),
        405,
    );
    assert_error("GET /transactions/new", &node.get("/transactions/new"), 405);

    // Public reads answering JSON (HEAD and CORS come from the route table); brief works.
    let signed = {
        node.pay_ok("alice", &node.wallet_address(), 10);
        node.mine();
        let tx = node.pay_from_wallet("bob", 1);
        node.mine();
        tx["id"].as_str().unwrap().to_string()
    };
    for path in [
        format!("/transactions/{signed}"),
        format!("/transactions/{signed}/proof"),
        "/headers".to_string(),
        "/history?address=bob".to_string(),
    ] {
        let reply = node.request("GET", &path, None, None);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.content_type.as_deref(),
            Some("application/json"),
            "{path}"
        );
    }
    let (_, brief) = node.get(&format!("/transactions/{signed}/proof?brief=1"));
    assert!(
        brief["transaction"]["signature"]
            .as_str()
            .unwrap()
            .contains("leaf 0"),
        "{brief}"
    );
    assert_eq!(brief["leaf"].as_str().unwrap().len(), 64);

    // Headers: a page, and after a locator.
    let chain = node.chain();
    let (_, page) = node.get("/headers?from=2&limit=2");
    assert_eq!(page["length"], chain.len());
    let headers = page["headers"].as_array().unwrap();
    assert_eq!(headers.len(), 2);
    for header in headers {
        let index = header["index"].as_u64().unwrap() as usize;
        assert_eq!(
            block_hash_of(header),
            chain[index - 1]["hash"].as_str().unwrap()
        );
        assert!(header.get("transactions").is_none());
    }
    let (_, after) = node.get(&format!(
        "/headers?locator={},{}",
        "cd".repeat(32),
        chain[1]["hash"].as_str().unwrap()
    ));
    let indexes: Vec<u64> = after["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (3..=chain.len() as u64).collect::<Vec<_>>());
    let (_, none_known) = node.get(&format!("/headers?locator={}", "cd".repeat(32)));
    assert_eq!(none_known["headers"][0]["index"], 1, "from genesis");
}
