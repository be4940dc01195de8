//! SPEC §7-8: a 2xx survives `kill -9`; start-up refuses a locked or damaged data directory
//! and leaves the files as they were; many clients at once lose nothing.

use crate::util::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Everything a user can see of a node's state, to compare before and after a restart.
#[derive(Debug, PartialEq)]
struct Snapshot {
    chain: Value,
    pool: Value,
    peers: Value,
    balances: Value,
    inv: Value,
}

fn snapshot(node: &TestNode) -> Snapshot {
    let get = |path: &str| {
        let (status, answer) = node.get(path);
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    };
    Snapshot {
        chain: get("/chain"),
        pool: get("/pool"),
        peers: get("/nodes/register"),
        balances: get("/balances"),
        inv: get("/inv"),
    }
}

/// The `.db` files of a data directory and their bytes.
fn db_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "db"))
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

/// A stopped node's data directory with two mined blocks (the second holding a payment),
/// one pooled payment and one peer, so every data file has content.
fn stopped_node_with_state() -> TestNode {
    let mut node = TestNode::start(&["--miner", "alice", "--reward", "100"]);
    node.mine();
    node.pay_ok("alice", "bob", 5);
    node.mine();
    node.pay_ok("alice", "carol", 7);
    let (status, answer) = node.post("/nodes/register", &json!({"nodes": ["127.0.0.1:5001"]}));
    assert_eq!(status, 201, "{answer}");
    node.kill9();
    for file in ["blocks-000000.db", "pool.db", "peers.db"] {
        assert!(
            node.data_dir.join(file).is_file(),
            "expected {file} in {}; found {:?}",
            node.data_dir.display(),
            db_files(&node.data_dir).keys().collect::<Vec<_>>()
        );
    }
    node
}

/// Writes `damaged` over `file` of a stopped node, starts a node on the directory, and
/// checks that it refuses with an error naming the file and leaves every data file as it was.
fn assert_damage_stops_startup(node: &TestNode, file: &str, damaged: Vec<u8>) {
    std::fs::write(node.data_dir.join(file), &damaged).unwrap();
    let before = db_files(&node.data_dir);
    let outcome = node.start_again_expecting_failure();
    assert!(
        outcome.stderr.contains(file),
        "the error must name the damaged file {file}; exit {}, stderr:\n{}",
        outcome.status,
        outcome.stderr
    );
    assert!(
        !outcome.stderr.contains("panicked"),
        "a damaged file is an error, not a panic; stderr:\n{}",
        outcome.stderr
    );
    let after = db_files(&node.data_dir);
    assert_eq!(
        after.get(file),
        Some(&damaged),
        "{file} must be left byte-identical"
    );
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "a refused start creates or removes no data file"
    );
    for (name, bytes) in &before {
        assert!(
            after.get(name) == Some(bytes),
            "{name} changed during a refused start"
        );
    }
}

/// Parses a pickledb JSON file: `[{key: "<value as a JSON string>"}, {lists}]`.
fn pickledb_entries(path: &Path) -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let file: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", path.display()));
    let map = file[0]
        .as_object()
        .unwrap_or_else(|| panic!("{} is not a pickledb file: {text}", path.display()));
    map.iter()
        .map(|(key, value)| {
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("{key} in {} is not a string", path.display()));
            (
                key.clone(),
                serde_json::from_str(value).unwrap_or_else(|e| panic!("{key}: {e}: {value}")),
            )
        })
        .collect()
}

#[test]
fn kill_9_and_restart_restore_chain_pool_and_peers_exactly() {
    let mut node = TestNode::start(&["--miner", "alice", "--reward", "1000"]);
    node.mine();
    node.pay_ok("alice", "bob", 10);
    node.pay_ok("bob", "carol", 4);
    node.mine();
    node.pay_ok("alice", "dave", 20);
    node.pay_ok("dave", "erin", 5);
    let (status, answer) = node.post(
        "/nodes/register",
        &json!({"nodes": ["127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"]}),
    );
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = node.delete("/nodes/register", &json!({"nodes": ["127.0.0.1:5002"]}));
    assert_eq!(status, 200, "{answer}");
    let before = snapshot(&node);
    assert_eq!(before.chain["length"], 3);
    assert_eq!(before.pool["pool_length"], 2);

    node.restart();
    assert_eq!(
        snapshot(&node),
        before,
        "after the first kill -9 and restart"
    );
    node.restart();
    assert_eq!(
        snapshot(&node),
        before,
        "after the second kill -9 and restart"
    );

    // The restored node carries on: the pool goes into the next block.
    let block = node.mine();
    assert_eq!(block["index"], 4);
    assert_eq!(block["previous_hash"], before.chain["chain"][2]["hash"]);
    assert_eq!(
        block["transactions"].as_array().unwrap()[1..],
        before.pool["pool"].as_array().unwrap()[..]
    );
}

#[test]
fn blocks_beyond_one_segment_survive_kill_9() {
    let mut node = TestNode::start(&[]);
    for _ in 0..104 {
        node.mine();
    }
    let before = snapshot(&node);
    assert_eq!(before.chain["length"], 105);
    node.restart();
    assert_eq!(snapshot(&node), before);

    let first = pickledb_entries(&node.data_dir.join("blocks-000000.db"));
    let second = pickledb_entries(&node.data_dir.join("blocks-000001.db"));
    let first_keys: BTreeSet<u64> = first.keys().map(|k| k.parse().unwrap()).collect();
    let second_keys: BTreeSet<u64> = second.keys().map(|k| k.parse().unwrap()).collect();
    assert_eq!(
        first_keys,
        (2..=99).collect(),
        "segment 0 holds blocks 2..99 (genesis is not stored)"
    );
    assert_eq!(
        second_keys,
        (100..=105).collect(),
        "segment 1 holds blocks 100.."
    );
    let chain = before.chain["chain"].as_array().unwrap();
    for (key, block) in first.iter().chain(second.iter()) {
        let index: usize = key.parse().unwrap();
        assert_eq!(
            block,
            &chain[index - 1],
            "stored block {key} is the block on /chain"
        );
    }
}

#[test]
fn concurrent_clients_every_201_is_pooled_and_survives_kill_9() {
    const CLIENTS: usize = 8;
    const PAYMENTS: usize = 50;
    let mut node = TestNode::start(&["--miner", "alice", "--reward", "1000000"]);
    node.mine();

    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let node = &node;
        let workers: Vec<_> = (0..CLIENTS)
            .map(|client| {
                scope.spawn(move || {
                    (0..PAYMENTS)
                        .map(|i| node.pay("alice", &format!("recipient-{client}-{i}"), 1))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("client thread"))
            .collect()
    });
    assert_eq!(answers.len(), CLIENTS * PAYMENTS);

    let mut accepted = BTreeSet::new();
    for (status, answer) in &answers {
        if *status == 201 {
            let id = answer["transaction"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("201 without id: {answer}"));
            assert!(
                accepted.insert(id.to_string()),
                "two 201s with one id: {answer}"
            );
        } else {
            assert_error(
                "a refused concurrent payment",
                &(*status, answer.clone()),
                *status,
            );
        }
    }
    assert!(
        !accepted.is_empty(),
        "no payment accepted: {:?}",
        &answers[..3]
    );

    let pooled: BTreeSet<String> = node
        .pool()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = accepted.difference(&pooled).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged payments missing from /pool: {missing:?}",
        missing.len()
    );
    assert_eq!(
        pooled.len(),
        accepted.len(),
        "the pool holds exactly the accepted payments"
    );
    assert_eq!(
        accepted.len(),
        CLIENTS * PAYMENTS,
        "alice can afford every payment, so all are accepted"
    );

    let pool_before = node.get("/pool").1;
    node.restart();
    let pooled: BTreeSet<String> = node
        .pool()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = accepted.difference(&pooled).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged payments lost by kill -9: {missing:?}",
        missing.len()
    );
    assert_eq!(
        node.get("/pool").1,
        pool_before,
        "the pool comes back in the same order"
    );
}

#[test]
fn a_second_node_on_the_same_data_dir_refuses_to_start() {
    let node = TestNode::start(&[]);
    node.mine();
    let before = db_files(&node.data_dir);
    let outcome = node.start_again_expecting_failure();
    let pid = node.pid().to_string();
    assert!(
        outcome.stderr.contains(&pid),
        "the lock error must name the holder's pid {pid}; exit {}, stderr:\n{}",
        outcome.status,
        outcome.stderr
    );
    assert_eq!(
        db_files(&node.data_dir),
        before,
        "the refused node touched no data file"
    );
    assert_eq!(node.chain().len(), 2, "the first node keeps serving");
    node.mine();
}

#[test]
fn a_second_node_on_the_same_port_and_data_dir_names_the_holder() {
    // The everyday mistake: starting `--port 5000` twice (same port, same data directory).
    let node = TestNode::start(&[]);
    let port = node.port.to_string();
    let dir = node.data_dir.display().to_string();
    let outcome = run_to_exit(&[
        "--port",
        &port,
        "--data-dir",
        &dir,
        "--difficulty",
        TEST_DIFFICULTY,
    ]);
    let pid = node.pid().to_string();
    assert!(
        !outcome.status.success(),
        "{}: {}",
        outcome.command_line,
        outcome.status
    );
    assert!(
        outcome.stderr.contains(&pid),
        "the error must name the holder's pid {pid}; exit {}, stderr:\n{}",
        outcome.status,
        outcome.stderr
    );
}

#[test]
fn the_lock_is_released_by_kill_9() {
    let mut node = TestNode::start(&[]);
    node.mine();
    node.restart();
    assert_eq!(node.chain().len(), 2);
}

#[test]
fn a_damaged_block_segment_stops_startup_and_is_left_as_it_was() {
    let node = stopped_node_with_state();
    let mut garbage = b"[{\"2\": \"{\\\"index\\\": 2, ".to_vec();
    garbage.extend_from_slice(&[0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]);
    garbage.extend_from_slice(b" not json at all \n");
    assert_damage_stops_startup(&node, "blocks-000000.db", garbage);
}

#[test]
fn a_truncated_block_segment_stops_startup() {
    let node = stopped_node_with_state();
    let bytes = std::fs::read(node.data_dir.join("blocks-000000.db")).unwrap();
    assert_damage_stops_startup(&node, "blocks-000000.db", bytes[..bytes.len() / 2].to_vec());
}

#[test]
fn a_damaged_pool_file_stops_startup_and_is_left_as_it_was() {
    let node = stopped_node_with_state();
    let mut garbage = vec![0xde, 0xad, 0xbe, 0xef, 0xff, 0xc0];
    garbage.extend_from_slice(b"{\"pool\": [");
    assert_damage_stops_startup(&node, "pool.db", garbage);
}

#[test]
fn a_hand_edited_amount_in_a_block_stops_startup() {
    let node = stopped_node_with_state();
    let path = node.data_dir.join("blocks-000000.db");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut file: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    // Block 3 holds alice -> bob 5; make it 50, which alice could afford: only the
    // transaction id (and through it the merkle root) gives the edit away.
    let stored = file[0]["3"]
        .as_str()
        .unwrap_or_else(|| panic!("no block 3 in blocks-000000.db: {text}"));
    let mut block: Value = serde_json::from_str(stored).unwrap();
    let payment = block["transactions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|tx| tx["amount"] == 5)
        .unwrap_or_else(|| panic!("no payment of 5 in block 3: {stored}"));
    payment["amount"] = json!(50);
    file[0]["3"] = json!(serde_json::to_string(&block).unwrap());
    assert_damage_stops_startup(
        &node,
        "blocks-000000.db",
        serde_json::to_vec(&file).unwrap(),
    );
}

#[test]
fn a_damaged_peers_file_stops_startup() {
    let node = stopped_node_with_state();
    assert_damage_stops_startup(&node, "peers.db", b"[{\"peers\": \xff\xff".to_vec());
}

#[test]
fn a_data_dir_that_does_not_exist_is_created() {
    let dir = fresh_dir("missing").join("nested").join("deeper");
    assert!(!dir.exists());
    let mut node = TestNode::start_in(&dir, &[]);
    assert!(dir.is_dir(), "{} was not created", dir.display());
    node.mine();
    node.restart();
    assert_eq!(node.chain().len(), 2);
}

#[test]
fn restart_route_survives_kill_9() {
    let mut node = TestNode::start(&["--miner", "alice", "--reward", "100"]);
    let (status, answer) = node.post(
        "/nodes/register",
        &json!({"nodes": ["127.0.0.1:5001", "127.0.0.1:5002"]}),
    );
    assert_eq!(status, 201, "{answer}");
    node.mine();
    node.mine();
    node.pay_ok("alice", "bob", 5);
    let peers = node.peers();
    let (status, answer) = node.post("/restart", &Value::Null);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["length"], 1);

    node.restart();
    let (_, chain) = node.get("/chain");
    assert_eq!(chain["length"], 1, "the reset survived kill -9: {chain}");
    assert!(node.pool().is_empty(), "{:?}", node.pool());
    assert_eq!(node.peers(), peers, "peers kept");
    assert_eq!(node.get("/balances").1, json!({"balances": {}}));
    // New blocks start over from block 2 and survive too.
    assert_eq!(node.mine()["index"], 2);
    node.restart();
    assert_eq!(node.chain().len(), 2);
}

#[test]
fn node_id_is_kept_across_restarts() {
    let mut node = TestNode::start(&[]);
    let id = node.get("/inv").1["node_id"].clone();
    assert!(id.as_str().is_some_and(|s| !s.is_empty()), "{id}");
    node.restart();
    assert_eq!(node.get("/inv").1["node_id"], id);
    let other = TestNode::start(&[]);
    assert_ne!(
        other.get("/inv").1["node_id"],
        id,
        "each data directory has its own node_id"
    );
}

#[test]
fn sigterm_and_restart_restore_the_node() {
    let mut node = TestNode::start(&["--miner", "alice", "--reward", "100"]);
    node.mine();
    node.pay_ok("alice", "bob", 5);
    let (status, answer) = node.post("/nodes/register", &json!({"nodes": ["127.0.0.1:5001"]}));
    assert_eq!(status, 201, "{answer}");
    let before = snapshot(&node);
    node.terminate();
    node.restart();
    assert_eq!(snapshot(&node), before);
}

#[test]
fn concurrent_mines_and_payments_land_exactly_once_on_one_valid_chain() {
    const PAYERS: usize = 4;
    const PAYMENTS: usize = 25;
    const MINERS: usize = 3;
    const MINES: usize = 5;
    let node = TestNode::start(&["--miner", "alice", "--reward", "1000"]);
    node.mine();

    let accepted: Vec<String> = std::thread::scope(|scope| {
        let node = &node;
        let miners: Vec<_> = (0..MINERS)
            .map(|_| scope.spawn(move || (0..MINES).for_each(|_| drop(node.mine()))))
            .collect();
        let payers: Vec<_> = (0..PAYERS)
            .map(|payer| {
                scope.spawn(move || {
                    (0..PAYMENTS)
                        .map(|i| {
                            node.pay_ok("alice", &format!("payee-{payer}-{i}"), 1)["id"]
                                .as_str()
                                .unwrap()
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        miners
            .into_iter()
            .for_each(|m| m.join().expect("miner thread"));
        payers
            .into_iter()
            .flat_map(|p| p.join().expect("payer thread"))
            .collect()
    });
    node.mine();

    let chain = node.chain();
    assert_eq!(
        chain.len(),
        2 + MINERS * MINES + 1,
        "every /mine added one block"
    );
    let mut seen = BTreeMap::new();
    for pair in chain.windows(2) {
        assert_eq!(
            pair[1]["previous_hash"], pair[0]["hash"],
            "chain links at block {}",
            pair[1]["index"]
        );
        assert_eq!(
            pair[1]["index"].as_u64().unwrap(),
            pair[0]["index"].as_u64().unwrap() + 1
        );
        assert!(
            pair[1]["timestamp"].as_u64() > pair[0]["timestamp"].as_u64(),
            "timestamps increase"
        );
        assert_block_is_sound(&pair[1], 8);
        for tx in pair[1]["transactions"].as_array().unwrap() {
            *seen
                .entry(tx["id"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    for id in &accepted {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "accepted payment {id} must be in the chain exactly once"
        );
    }
    assert!(node.pool().is_empty(), "{:?}", node.pool());
    let blocks = (chain.len() - 1) as u64;
    assert_eq!(
        node.get("/balances?address=alice").1["balance"],
        json!(1000 * blocks - accepted.len() as u64)
    );
}

#[test]
fn kill_9_in_the_middle_of_writes_loses_nothing_acknowledged() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let mut node = TestNode::start(&["--miner", "alice", "--reward", "1000000"]);
    node.mine();
    let paid = Arc::new(Mutex::new(Vec::<String>::new()));
    let mined = Arc::new(Mutex::new(Vec::<String>::new()));
    let server_errors = Arc::new(Mutex::new(Vec::<String>::new()));

    for round in 0..3 {
        let url = node.url.clone();
        std::thread::scope(|scope| {
            for client in 0..4 {
                let (url, paid, server_errors) = (url.clone(), paid.clone(), server_errors.clone());
                scope.spawn(move || {
                    for i in 0.. {
                        let body = json!({"sender": "alice", "recipient": format!("r-{round}-{client}-{i}"), "amount": 1});
                        let body = serde_json::to_vec(&body).unwrap();
                        let sent = send("POST", &format!("{url}/transactions/new"), Some(body), Some("application/json"), HTTP_TIMEOUT);
                        match sent {
                            Ok(reply) if reply.status == 201 => {
                                let answer = reply.json("payment");
                                paid.lock().unwrap().push(answer["transaction"]["id"].as_str().unwrap().to_string());
                            }
                            Ok(reply) => server_errors.lock().unwrap().push(format!(
                                "payment: {} {}",
                                reply.status,
                                String::from_utf8_lossy(&reply.body)
                            )),
                            Err(_) => break, // the node is gone
                        }
                    }
                });
            }
            {
                let (url, mined, server_errors) =
                    (url.clone(), mined.clone(), server_errors.clone());
                scope.spawn(move || {
                    loop {
                        match send("POST", &format!("{url}/mine"), None, None, HTTP_TIMEOUT) {
                            Ok(reply) if reply.status == 200 => {
                                let block = reply.json("mine");
                                mined
                                    .lock()
                                    .unwrap()
                                    .push(block["hash"].as_str().unwrap().to_string());
                            }
                            Ok(reply) => server_errors.lock().unwrap().push(format!(
                                "mine: {} {}",
                                reply.status,
                                String::from_utf8_lossy(&reply.body)
                            )),
                            Err(_) => break,
                        }
                    }
                });
            }
            let target = 60 * (round + 1);
            let reached = wait_until(Duration::from_secs(30), || {
                paid.lock().unwrap().len() >= target
            });
            assert!(
                reached,
                "round {round}: fewer than {target} payments acknowledged in 30 s"
            );
            node.kill9();
        });
        node.restart();

        let errors = server_errors.lock().unwrap();
        assert!(
            errors.is_empty(),
            "round {round}: refused requests: {:?}",
            &errors[..errors.len().min(5)]
        );
        let chain = node.chain();
        for pair in chain.windows(2) {
            assert_eq!(pair[1]["previous_hash"], pair[0]["hash"]);
            assert_block_is_sound(&pair[1], 8);
        }
        let hashes: BTreeSet<String> = chain
            .iter()
            .map(|b| b["hash"].as_str().unwrap().to_string())
            .collect();
        for hash in mined.lock().unwrap().iter() {
            assert!(
                hashes.contains(hash),
                "round {round}: acknowledged block {hash} lost by kill -9"
            );
        }
        let mut seen = BTreeMap::new();
        let chain_ids = chain
            .iter()
            .flat_map(|b| b["transactions"].as_array().unwrap().clone());
        for tx in chain_ids.chain(node.pool()) {
            *seen
                .entry(tx["id"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
        for id in paid.lock().unwrap().iter() {
            assert_eq!(
                seen.get(id),
                Some(&1),
                "round {round}: acknowledged payment {id} lost or doubled by kill -9"
            );
        }
    }
}

#[test]
fn a_missing_block_segment_stops_startup() {
    let mut node = TestNode::start(&[]);
    for _ in 0..100 {
        node.mine();
    }
    node.kill9();
    let first = node.data_dir.join("blocks-000000.db");
    let moved = node.data_dir.with_extension("segment0");
    std::fs::rename(&first, &moved).unwrap();
    let outcome = node.start_again_expecting_failure();
    assert!(
        outcome.stderr.contains("blocks-00000"),
        "the error must name the segment file; stderr:\n{}",
        outcome.stderr
    );
    std::fs::rename(&moved, &first).unwrap();
    node.restart();
    assert_eq!(node.chain().len(), 101);
}

/// Replays a chain's transactions and panics at the first one its sender cannot afford.
fn assert_every_payment_was_affordable(chain: &[Value]) {
    let mut balances: BTreeMap<String, u64> = BTreeMap::new();
    for block in &chain[1..] {
        for tx in block["transactions"].as_array().unwrap() {
            let amount = tx["amount"].as_u64().unwrap();
            let sender = tx["sender"].as_str().unwrap();
            if sender != "0" {
                let balance = balances.entry(sender.to_string()).or_insert(0);
                assert!(
                    *balance >= amount,
                    "block {}: {sender} pays {amount} with {balance}: {tx}",
                    block["index"]
                );
                *balance -= amount;
            }
            *balances
                .entry(tx["recipient"].as_str().unwrap().to_string())
                .or_insert(0) += amount;
        }
    }
}

#[test]
fn concurrent_mines_payments_and_resets_keep_the_chain_valid() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut node = TestNode::start(&["--miner", "alice", "--reward", "10"]);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (node, stop) = (&node, &stop);
        for _ in 0..2 {
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    node.mine();
                }
            });
        }
        for (payer, payee) in [("alice", "bob"), ("bob", "carol")] {
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // 400 when the payer has nothing left (a reset takes everything away).
                    let (status, answer) = node.pay(payer, payee, 3);
                    assert!(
                        status == 201 || status == 400,
                        "{payer} pays: {status} {answer}"
                    );
                }
            });
        }
        scope.spawn(move || {
            for _ in 0..20 {
                let (status, answer) = node.post("/restart", &Value::Null);
                assert_eq!(status, 200, "{answer}");
                node.mine();
                node.mine();
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
    let chain = node.chain();
    for pair in chain.windows(2) {
        assert_eq!(pair[1]["previous_hash"], pair[0]["hash"]);
        assert_block_is_sound(&pair[1], 8);
    }
    assert_every_payment_was_affordable(&chain);
    let before = snapshot(&node);
    // The node's own start-up check is a second opinion on the stored chain and pool.
    node.restart();
    assert_eq!(snapshot(&node), before);
    node.mine();
    assert_every_payment_was_affordable(&node.chain());
}

#[test]
fn restart_route_forgets_every_segment_and_survives_kill_9() {
    let mut node = TestNode::start(&[]);
    for _ in 0..104 {
        node.mine();
    }
    let (status, answer) = node.post("/restart", &Value::Null);
    assert_eq!(status, 200, "{answer}");
    node.mine();
    node.restart();
    assert_eq!(
        node.chain().len(),
        2,
        "the reset and the one block after it, nothing older"
    );
    for _ in 0..99 {
        node.mine();
    }
    node.restart();
    let chain = node.chain();
    assert_eq!(chain.len(), 101);
    for pair in chain.windows(2) {
        assert_eq!(pair[1]["previous_hash"], pair[0]["hash"]);
    }
}

#[test]
fn the_default_data_dir_is_data_slash_port() {
    let working_dir = fresh_dir("cwd");
    std::fs::create_dir_all(&working_dir).unwrap();
    let mut node = TestNode::start_without_data_dir(&working_dir, &[]);
    let expected = working_dir.join("data").join(node.port.to_string());
    assert!(
        expected.is_dir(),
        "no {} after start-up",
        expected.display()
    );
    node.mine();
    assert!(
        !db_files(&expected).is_empty(),
        "no data files in {}",
        expected.display()
    );
    node.restart(); // same port, same directory
    assert_eq!(node.chain().len(), 2);
    drop(node);
    let _ = std::fs::remove_dir_all(&working_dir);
}

/// Puts a non-empty directory where the node must write `file` (the file itself kept
/// aside): the write fails with a real I/O error, even for root. Call the returned
/// closure to put the file back.
fn obstruct(node: &TestNode, file: &str) -> impl FnOnce() + use<> {
    let path = node.data_dir.join(file);
    let aside = node.data_dir.join(format!("{file}.aside"));
    let existed = std::fs::rename(&path, &aside).is_ok();
    std::fs::create_dir_all(path.join("in-the-way")).unwrap();
    move || {
        std::fs::remove_dir_all(&path).unwrap();
        if existed {
            std::fs::rename(&aside, &path).unwrap();
        }
    }
}

#[test]
fn a_mine_whose_write_fails_answers_500_and_changes_nothing() {
    let node = TestNode::start(&["--no-relay", "--miner", "alice"]);
    node.mine();
    node.pay_ok("alice", "bob", 1);
    let before = snapshot(&node);
    let clear = obstruct(&node, "blocks-000000.db");
    let (status, answer) = node.post("/mine", &json!({}));
    assert_eq!(status, 500, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or("")
            .contains("blocks-000000.db"),
        "the 500 names the file: {answer}"
    );
    assert_eq!(
        snapshot(&node),
        before,
        "chain, pool and balances as they were"
    );

    clear();
    node.mine();
    assert_eq!(node.chain().len(), 3);
    assert!(node.pool().is_empty());
    let mut node = node;
    node.kill9();
    node.restart();
    assert_eq!(node.chain().len(), 3, "both blocks are on disk");
}

#[test]
fn a_chain_switch_whose_write_fails_changes_nothing_and_is_taken_later() {
    let ours = TestNode::start(&["--no-relay", "--miner", "alice"]);
    let theirs = TestNode::start(&["--no-relay", "--miner", "alice"]);
    ours.mine();
    ours.pay_ok("alice", "bob", 1);
    ours.mine();
    for _ in 0..4 {
        theirs.mine();
    }
    let (status, answer) = ours.post("/nodes/register", &json!({"nodes": [theirs.url]}));
    assert_eq!(status, 201, "{answer}");
    let before = snapshot(&ours);
    // The journal of the switch cannot be put in place.
    let clear = obstruct(&ours, "journal.db");
    let (status, report) = ours.post("/nodes/resolve", &json!({}));
    assert_eq!(status, 200, "{report}");
    let after = snapshot(&ours);
    assert!(
        report.to_string().contains("journal.db"),
        "the peer's status names the file that failed: {report}"
    );
    assert_eq!(
        after.chain, before.chain,
        "the chain is ours still: {report}"
    );
    assert_eq!(after.pool, before.pool);
    assert_eq!(after.balances, before.balances);

    // Once the disk works, the switch happens, and it is the one kept after a kill -9.
    clear();
    let (status, report) = ours.post("/nodes/resolve", &json!({}));
    assert_eq!(status, 200, "{report}");
    assert_eq!(ours.chain(), theirs.chain(), "{report}");
    let mut ours = ours;
    ours.kill9();
    ours.restart();
    assert_eq!(ours.chain(), theirs.chain());
    let pool = ours.pool();
    let returned: Vec<&str> = pool
        .iter()
        .filter_map(|tx| tx["recipient"].as_str())
        .collect();
    assert_eq!(returned, ["bob"], "our cut payment is back in the pool");
}
