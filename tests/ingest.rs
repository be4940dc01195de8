//! Issue 8: durable transaction ingest — group commit under kill -9, a batch whose write
//! fails, a large pool across a restart, the pool cap. Issue 16: identical payments at once.

#[path = "keepalive.rs"]
mod keepalive;

use crate::util::{TestNode, wait_until};
use keepalive::Connection;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CLIENTS: usize = 16;
const PER_CLIENT: usize = 500;

/// A node whose miner `alice` gets enough coins for every payment of a test.
fn funded_node(extra: &[&str]) -> TestNode {
    let mut args = vec!["--miner", "alice", "--reward", "1000000000"];
    args.extend_from_slice(extra);
    let node = TestNode::start(&args);
    node.mine();
    node
}

/// Recipients of the non-coinbase transactions in the chain and in the pool, with how
/// often each occurs.
fn recipients_on_node(node: &TestNode) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let chain_txs = node
        .chain()
        .into_iter()
        .flat_map(|block| block["transactions"].as_array().unwrap().clone())
        .filter(|tx| tx["sender"] != "0");
    for tx in chain_txs.chain(node.pool()) {
        *seen
            .entry(tx["recipient"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    seen
}

/// A pseudo-random number below `bound` (no random-number crate: the clock's nanoseconds).
fn random_below(bound: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos.wrapping_mul(6364136223846793005).rotate_left(17) % bound
}

#[test]
fn kill_9_during_16_concurrent_clients_keeps_every_201_and_adds_nothing() {
    for round in 0..3 {
        let mut node = funded_node(&[]);
        let acknowledged = Mutex::new(HashSet::new());
        let unanswered = Mutex::new(HashSet::new());
        let killed = AtomicBool::new(false);
        let node_port = node.port;
        std::thread::scope(|scope| {
            for client in 0..CLIENTS {
                let (acknowledged, unanswered, killed) = (&acknowledged, &unanswered, &killed);
                scope.spawn(move || {
                    let Ok(mut connection) = Connection::open(node_port) else {
                        return;
                    };
                    for i in 0..PER_CLIENT {
                        let recipient = format!("c{client}-{i}");
                        let body = json!({"sender": "alice", "recipient": recipient, "amount": 1});
                        match connection.post("/transactions/new", &body) {
                            Ok((201, _)) => {
                                acknowledged.lock().unwrap().insert(recipient);
                            }
                            Ok((status, answer)) => {
                                panic!("round {round}: {status} for {recipient}: {answer}")
                            }
                            Err(error) => {
                                assert!(
                                    killed.load(Ordering::SeqCst),
                                    "round {round}: no answer before the kill: {error}"
                                );
                                unanswered.lock().unwrap().insert(recipient);
                                return;
                            }
                        }
                    }
                });
            }
            // A miner too, so the kill may land in a block write or a pool compaction.
            let killed = &killed;
            scope.spawn(move || {
                let Ok(mut connection) = Connection::open(node_port) else {
                    return;
                };
                while !killed.load(Ordering::SeqCst) {
                    if connection.post("/mine", &json!({})).is_err() {
                        return;
                    }
                    // Pacing: a block now and then among the payments, not a wait.
                    std::thread::sleep(Duration::from_millis(150));
                }
            });
            // The kill comes after some payment was answered (asserted below), however long
            // a busy machine takes to answer the first.
            wait_until(Duration::from_secs(30), || {
                !acknowledged.lock().unwrap().is_empty()
            });
            // Pacing: the load runs for a random while, so the kill lands anywhere in it.
            std::thread::sleep(Duration::from_millis(100 + random_below(2500)));
            killed.store(true, Ordering::SeqCst);
            node.kill9();
        });
        node.restart();
        let acknowledged = acknowledged.into_inner().unwrap();
        let unanswered = unanswered.into_inner().unwrap();
        let on_node = recipients_on_node(&node);
        for recipient in &acknowledged {
            assert_eq!(
                on_node.get(recipient),
                Some(&1),
                "round {round}: payment to {recipient} was answered 201 but is not on the node exactly once"
            );
        }
        for (recipient, count) in &on_node {
            assert!(
                acknowledged.contains(recipient) || unanswered.contains(recipient),
                "round {round}: payment to {recipient} was never sent or was refused, but is on the node"
            );
            assert_eq!(
                *count, 1,
                "round {round}: {recipient} appears {count} times"
            );
        }
        assert!(
            !acknowledged.is_empty(),
            "round {round}: the kill came before any payment was answered"
        );
        eprintln!(
            "round {round}: {} answered 201, {} unanswered at the kill, {} on the node",
            acknowledged.len(),
            unanswered.len(),
            on_node.len()
        );
    }
}

/// Every data file's name and bytes.
fn data_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "db"))
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect()
}

/// The file name the next pool batch goes to: one past the highest log file.
fn next_log_file(dir: &Path) -> String {
    let last = data_files(dir)
        .keys()
        .filter_map(|name| name.strip_prefix("pool-log-")?.strip_suffix(".db"))
        .filter_map(|range| range.split_once('-')?.1.parse::<u64>().ok())
        .max()
        .expect("a pool log file after a payment");
    format!("pool-log-{:012}-{:012}.db", last + 1, last + 1)
}

#[test]
fn a_batch_whose_write_fails_answers_500_to_each_request_and_changes_nothing() {
    let node = funded_node(&[]);
    node.pay_ok("alice", "bob", 10);
    let pool_before = node.pool();
    let files_before = data_files(&node.data_dir);
    // A non-empty directory where the next batch's file must go: the rename fails with a
    // real I/O error, even for root.
    let obstacle = node.data_dir.join(next_log_file(&node.data_dir));
    std::fs::create_dir_all(obstacle.join("in-the-way")).unwrap();

    let answers = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for client in 0..8 {
            let (node, answers) = (&node, &answers);
            scope.spawn(move || {
                let mut connection = Connection::open(node.port).unwrap();
                for i in 0..5 {
                    let body = json!({"sender": "alice", "recipient": format!("c{client}-{i}"), "amount": 1});
                    let answer = connection.post("/transactions/new", &body).unwrap();
                    answers.lock().unwrap().push(answer);
                }
            });
        }
        // Reads are served meanwhile.
        let (status, _) = node.get("/chain");
        assert_eq!(status, 200);
    });
    for (status, answer) in answers.into_inner().unwrap() {
        assert_eq!(status, 500, "{answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(
            message.contains("pool-log-") && message.contains("not admitted"),
            "the 500 says what failed and that nothing was admitted: {message}"
        );
    }
    assert_eq!(node.pool(), pool_before, "the pool is as it was");
    assert_eq!(
        data_files(&node.data_dir),
        files_before,
        "the data files are as they were"
    );

    // The node keeps serving: once the disk works again, payments and mining go through,
    // and everything survives a kill -9.
    std::fs::remove_dir_all(&obstacle).unwrap();
    node.pay_ok("alice", "carol", 5);
    node.pay_ok("bob", "dave", 3);
    let mut node = node;
    node.restart();
    let pool: Vec<String> = node
        .pool()
        .iter()
        .map(|tx| tx["recipient"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(pool, ["bob", "carol", "dave"]);
    node.mine();
    assert!(node.pool().is_empty());
}

/// Admits `count` payments to fresh recipients with 16 keep-alive clients.
fn admit_many(node: &TestNode, tag: &str, count: usize) {
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            scope.spawn(move || {
                let mut connection = Connection::open(node.port).unwrap();
                for i in (client..count).step_by(CLIENTS) {
                    let body =
                        json!({"sender": "alice", "recipient": format!("{tag}{i}"), "amount": 1});
                    let (status, answer) = connection.post("/transactions/new", &body).unwrap();
                    assert_eq!(status, 201, "{answer}");
                }
            });
        }
    });
}

/// 10,000 in the test run (a debug build); `cargo bench --bench ingest` restarts a release
/// node with a pool of 100,000.
#[test]
fn a_large_pool_mined_in_part_comes_back_exactly_after_a_restart() {
    const HALF: usize = 5_000;
    let mut node = funded_node(&[]);
    admit_many(&node, "a", HALF);
    // A block holds at most 2,000 transactions (SPEC §4): the first 1,999 of the pool.
    let block = node.mine();
    assert_eq!(block["transactions"].as_array().unwrap().len(), 2000);
    admit_many(&node, "b", HALF);
    let pool_before = node.pool();
    let chain_before = node.chain();
    assert_eq!(pool_before.len(), 2 * HALF - 1999);
    node.restart();
    assert!(
        wait_until(Duration::from_secs(20), || node.get("/pool").0 == 200),
        "the node serves again"
    );
    assert_eq!(node.pool(), pool_before);
    assert_eq!(node.chain(), chain_before);
    // 8,001 pending: four more blocks of at most 1,999 payments each, then one of 5.
    for left in [6002, 4003, 2004, 5, 0] {
        node.mine();
        assert_eq!(node.pool().len(), left);
    }
}

#[test]
fn a_full_pool_refuses_payments_with_400_until_a_block_is_mined() {
    let node = funded_node(&["--pool-max", "3"]);
    for recipient in ["b", "c", "d"] {
        node.pay_ok("alice", recipient, 1);
    }
    let (status, answer) = node.pay("alice", "e", 1);
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"].as_str().unwrap();
    assert!(message.contains("pool is full (3 pending"), "{message}");
    assert_eq!(node.pool().len(), 3);
    node.mine();
    node.pay_ok("alice", "e", 1);
    let value: Value = node.pool()[0].clone();
    assert_eq!(value["recipient"], "e");
}

/// Issue 16 (SPEC §3, §9): identical payments (same sender, recipient, amount) posted at
/// once are each a payment of their own, each with a fresh timestamp the node chose.
#[test]
fn identical_payments_from_8_concurrent_clients_are_300_distinct_payments() {
    const PAYMENTS: usize = 300;
    const THREADS: usize = 8;
    let node = funded_node(&[]);
    let ids = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for client in 0..THREADS {
            let (node, ids) = (&node, &ids);
            scope.spawn(move || {
                let mut connection = Connection::open(node.port).unwrap();
                for _ in (client..PAYMENTS).step_by(THREADS) {
                    let body = json!({"sender": "alice", "recipient": "bob", "amount": 1});
                    let (status, answer) = connection.post("/transactions/new", &body).unwrap();
                    assert_eq!(status, 201, "{answer}");
                    let id = answer["transaction"]["id"].as_str().unwrap().to_string();
                    ids.lock().unwrap().push(id);
                }
            });
        }
    });
    let answered: HashSet<String> = ids.into_inner().unwrap().into_iter().collect();
    assert_eq!(answered.len(), PAYMENTS, "every 201 names an id of its own");
    let pool = node.pool();
    let pooled: HashSet<String> = pool
        .iter()
        .map(|tx| tx["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        pooled, answered,
        "the pool holds exactly the answered payments"
    );
    let stamps: HashSet<u64> = pool
        .iter()
        .map(|tx| tx["timestamp"].as_u64().unwrap())
        .collect();
    assert_eq!(
        stamps.len(),
        PAYMENTS,
        "one millisecond per identical payment"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let latest = *stamps.iter().max().unwrap();
    assert!(
        latest <= now + PAYMENTS as u64,
        "stamps run at most one millisecond per payment ahead of the clock: {latest} vs {now}"
    );
    // They are ordinary payments: mined like any other.
    let block = node.mine();
    assert_eq!(
        block["transactions"].as_array().unwrap().len(),
        PAYMENTS + 1
    );
}
