//! `cargo bench --bench proofs`: what "Is my payment final?" (SPEC §5b) costs.
//!
//! - `GET /transactions/<id>` requests per second at chain lengths 100 and 100,000 (16
//!   keep-alive clients): the transaction index makes them equal (ratio ≈ 1).
//! - The proof's size in bytes for a payment in a 2,000-transaction block.
//! - Bytes `minichain wallet verify` fetches for a 10,000-block chain against the chain's
//!   JSON size, then again after one more block (only the new header).
//!
//! Chains are built with the library at a low difficulty and written straight into data
//! directories (as the sync bench does); real `minichain` nodes serve them. Prints
//! figures, not pass/fail.

#[path = "support.rs"]
mod support;

#[path = "../keepalive.rs"]
mod keepalive;

use keepalive::Connection;
use minichain::core::block::{Block, Header, Transaction, merkle_root_of};
use minichain::core::chain::Chain;
use minichain::core::pow::search;
use minichain::node::now_ms;
use minichain::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{BenchNode, http};

const DIFFICULTY: u32 = 6;
/// Large enough for one coinbase to fund a block of 1,999 payments.
const REWARD: u64 = 1_000_000;
const CLIENTS: usize = 16;
const MEASURE: Duration = Duration::from_secs(4);

fn main() {
    let root = std::env::temp_dir().join(format!("minichain-proofs-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");

    lookups(&root);
    proof_size(&root);
    for payments in [0, 40, 80] {
        light_client(&root, payments);
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// GET /transactions/<id> per second at 100 and 100,000 blocks.
fn lookups(root: &Path) {
    println!("building a chain of 100,000 blocks at difficulty {DIFFICULTY}...");
    let started = Instant::now();
    let blocks = build(100_000 - 1, |_, _| Vec::new());
    println!("  built in {:.1} s", started.elapsed().as_secs_f64());
    // Both nodes run at once and are measured in turn, twice, so load from elsewhere on the
    // machine falls on both alike.
    let mut nodes = Vec::new();
    for length in [100usize, 100_000] {
        let stored = &blocks[..length - 1];
        let dir = write_data_dir(root, &format!("lookups-{length}"), stored);
        let started = Instant::now();
        let node = start(&dir);
        wait_loaded(node.port, length as u64);
        let loaded = started.elapsed();
        // Ids spread over the whole chain: coinbases of every block.
        let ids: Vec<String> = stored
            .iter()
            .map(|block| block.transactions[0].id.to_hex())
            .collect();
        println!(
            "  node of {length} blocks loaded in {:.1} s",
            loaded.as_secs_f64()
        );
        nodes.push((length, node, ids));
    }
    let mut rates = [0.0f64; 2];
    for _round in 0..2 {
        for (slot, (_, node, ids)) in nodes.iter().enumerate() {
            rates[slot] += requests_per_second(node.port, ids) / 2.0;
        }
    }
    for (slot, (length, _, _)) in nodes.iter().enumerate() {
        println!(
            "GET /transactions/<id> at {length} blocks: {:.0} requests/s ({CLIENTS} keep-alive clients, 2 x {:.0} s)",
            rates[slot],
            MEASURE.as_secs_f64()
        );
    }
    println!(
        "GET /transactions/<id> ratio, 100,000 blocks / 100 blocks: {:.2}",
        rates[1] / rates[0]
    );
}

/// Waits until the node answers with the whole chain loaded.
fn wait_loaded(port: u16, length: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, body) = http(port, "GET", "/headers?from=1&limit=1", "");
        if status == 200 && body.contains(&format!("\"length\":{length}}}")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not load {length} blocks: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Requests per second of `CLIENTS` keep-alive clients asking for `ids` in turn.
fn requests_per_second(port: u16, ids: &[String]) -> f64 {
    let ids = Arc::new(ids.to_vec());
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (ids, stop, done) = (ids.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut connection = Connection::open(port).expect("connect");
                let mut at = client * 7919;
                while !stop.load(Ordering::Relaxed) {
                    let id = &ids[at % ids.len()];
                    at += 13;
                    let (status, _) = connection
                        .request("GET", &format!("/transactions/{id}"), None)
                        .expect("answer");
                    assert_eq!(status, 200);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500)); // warm-up
    let before = done.load(Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(MEASURE);
    let count = done.load(Ordering::Relaxed) - before;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("client");
    }
    count as f64 / elapsed.as_secs_f64()
}

/// The proof of a payment in a block of 2,000 transactions, in bytes of JSON.
fn proof_size(root: &Path) {
    let blocks = build(1, |_, timestamp| {
        (1..2000)
            .map(|i| Transaction::new("alice", &format!("payee-{i}"), 1, timestamp + i))
            .collect()
    });
    let dir = write_data_dir(root, "proof", &blocks);
    let node = start(&dir);
    for position in [1usize, 1000, 1999] {
        let id = blocks[0].transactions[position].id;
        let (status, body) = http(node.port, "GET", &format!("/transactions/{id}/proof"), "");
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("json");
        println!(
            "proof of the payment at position {position} of a 2,000-transaction block: {} bytes of JSON, {} branch steps (the block's JSON: {} bytes)",
            body.len(),
            answer["branch"].as_array().map_or(0, Vec::len),
            serde_json::to_string(&blocks[0]).expect("json").len()
        );
    }
}

/// `wallet verify` on a 10,000-block chain of `payments` payments a block (about 230 bytes
/// of JSON each), then after one more block.
fn light_client(root: &Path, payments: u64) {
    let started = Instant::now();
    let blocks = build(10_000 - 1, |index, timestamp| {
        (0..payments)
            .map(|j| {
                let to = format!(
                    "a-classmate-with-a-long-name-{index:06}-{j:02}-{}",
                    "x".repeat(40)
                );
                Transaction::new("alice", &to, 1, timestamp - 1000 + j)
            })
            .collect()
    });
    let name = format!("light-{payments}");
    let dir = write_data_dir(root, &name, &blocks);
    let node = start(&dir);
    wait_loaded(node.port, 10_000);
    let url = format!("http://127.0.0.1:{}", node.port);
    let block = &blocks[5000];
    let id = block.transactions[block.transactions.len() / 2].id.to_hex();
    let cache = root.join(format!("wallet-{payments}"));
    let first = verify(&id, &url, &cache);
    println!(
        "wallet verify, 10,000 blocks of {payments} payments + coinbase ({:.1} KB of JSON a block; built and loaded in {:.0} s): fetched {} bytes of a {}-byte chain: {:.2}%",
        first.1 as f64 / 10_000.0 / 1000.0,
        started.elapsed().as_secs_f64(),
        first.0,
        first.1,
        first.0 as f64 * 100.0 / first.1 as f64
    );
    let (status, body) = http(node.port, "POST", "/mine", "");
    assert_eq!(status, 200, "{body}");
    let again = verify(&id, &url, &cache);
    println!(
        "  after one more block: fetched {} bytes (one new header, the proof): {:.4}%",
        again.0,
        again.0 as f64 * 100.0 / again.1 as f64
    );
}

/// Runs `minichain wallet verify`; (bytes fetched, the chain's JSON size) from its report.
fn verify(id: &str, url: &str, cache: &Path) -> (u64, u64) {
    let output = Command::new(env!("CARGO_BIN_EXE_minichain"))
        .args([
            "wallet",
            "verify",
            id,
            "--difficulty",
            &DIFFICULTY.to_string(),
        ])
        .args(["--node", url, "--data-dir"])
        .arg(cache)
        .output()
        .expect("run wallet verify");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = text
        .lines()
        .find(|line| line.starts_with("fetched "))
        .unwrap_or_else(|| panic!("no fetched line in {text}"));
    let fetched = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("bytes");
    let size = line
        .split("the whole chain is ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("chain size");
    (fetched, size)
}

/// `count` blocks after genesis, each a coinbase to alice then `payments(index, timestamp)`.
fn build(count: usize, payments: impl Fn(u64, u64) -> Vec<Transaction>) -> Vec<Block> {
    let mut chain = Chain::new(DIFFICULTY, REWARD);
    let start = now_ms() - 3 * 60 * 60 * 1000;
    let mut blocks = Vec::with_capacity(count);
    for _ in 0..count {
        let parent = chain.tip().clone();
        let timestamp = (parent.header.timestamp + 1).max(start) + 1;
        let mut transactions = vec![Transaction::coinbase("alice", REWARD, timestamp)];
        transactions.extend(payments(parent.header.index + 1, timestamp));
        let mut header = Header {
            index: parent.header.index + 1,
            timestamp,
            previous_hash: parent.hash,
            merkle_root: merkle_root_of(&transactions),
            difficulty: DIFFICULTY,
            proof: 0,
        };
        header.proof = search(&header, 1, &AtomicBool::new(false))
            .expect("found")
            .proof;
        let block = Block::from_header(header, transactions);
        chain.append(block.clone(), u64::MAX).expect("valid");
        blocks.push(block);
    }
    blocks
}

/// A data directory holding `blocks` (index 2 onwards), written through the store.
fn write_data_dir(root: &Path, name: &str, blocks: &[Block]) -> PathBuf {
    let dir = root.join(name);
    let (mut store, _) =
        Store::open(&dir, DIFFICULTY, REWARD, || format!("bench-{name}")).expect("open store");
    store.replace_chain(2, blocks, &[]).expect("write chain");
    dir
}

fn start(dir: &Path) -> BenchNode {
    BenchNode::start(
        dir,
        &[
            "--difficulty",
            &DIFFICULTY.to_string(),
            "--reward",
            &REWARD.to_string(),
            "--no-relay",
        ],
    )
}
