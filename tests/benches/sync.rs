//! `cargo bench --bench sync`: what the getblocks/inv sync moves and how long it takes.
//!
//! Builds chains with the library (difficulty 8), writes them straight into data
//! directories, starts real `minichain` nodes on them, and puts a byte-counting TCP proxy
//! between the resolving node and its peer. Prints figures, not pass/fail.

#[path = "support.rs"]
mod support;

use minichain::core::block::{Block, Header, Transaction, merkle_root_of};
use minichain::core::chain::Chain;
use minichain::core::pow::search;
use minichain::node::now_ms;
use minichain::store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{BenchNode, CountingProxy, http};

const DIFFICULTY: u32 = 8;
const REWARD: u64 = 50;

fn main() {
    let root = std::env::temp_dir().join(format!("minichain-sync-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");

    println!("building chains of 10,000 blocks at difficulty {DIFFICULTY}...");
    let base = build_chain(&Chain::new(DIFFICULTY, REWARD), 10_000 - 1, "miner-a", 0);

    // 1. Sync 2,000 blocks from scratch.
    let (bytes, elapsed) = resolve_through_proxy(&root, "scratch", &base[..1999], &[]);
    let full_2000 = full_chain_bytes(&root, "scratch-full", &base[..1999]);
    println!(
        "sync 2,000 blocks from scratch         : {:>10} bytes in {:>7.1} ms (full /chain is {} bytes)",
        bytes,
        ms(elapsed),
        full_2000
    );

    // 2. One block behind, at 2,000 and at 10,000 blocks.
    for length in [2_000usize, 10_000] {
        let theirs = &base[..length - 1];
        let ours = &base[..length - 2];
        let (bytes, elapsed) =
            resolve_through_proxy(&root, &format!("behind-{length}"), theirs, ours);
        let full = full_chain_bytes(&root, &format!("full-{length}"), theirs);
        println!(
            "resolve 1 block behind at {length:>6} blocks: {:>10} bytes in {:>7.1} ms = {:.4}% of the full chain ({} bytes)",
            bytes,
            ms(elapsed),
            100.0 * bytes as f64 / full as f64,
            full
        );
    }

    // 3. A 100-block reorg at 2,000 blocks: we hold 100 blocks of our own after the fork,
    //    the peer 101 others.
    let fork = 1_900usize; // blocks after genesis shared by both
    let mut shared = Chain::new(DIFFICULTY, REWARD);
    for block in &base[..fork - 1] {
        shared.append(block.clone(), u64::MAX).expect("valid");
    }
    let ours: Vec<Block> = base[..fork - 1]
        .iter()
        .cloned()
        .chain(build_chain(&shared, 100, "miner-b", 1))
        .collect();
    let theirs: Vec<Block> = base[..fork - 1]
        .iter()
        .cloned()
        .chain(build_chain(&shared, 101, "miner-c", 2))
        .collect();
    let (bytes, elapsed) = resolve_through_proxy(&root, "reorg", &theirs, &ours);
    println!(
        "adopt a 100-block reorg at ~2,000      : {:>10} bytes in {:>7.1} ms (whole resolve request)",
        bytes,
        ms(elapsed)
    );

    // 4. Memory: a fresh node catching up on a chain of full blocks (2,000 transactions
    //    each, long names): RSS against the chain's JSON size.
    big_blocks(&root);
    let _ = std::fs::remove_dir_all(&root);
}

/// Reward of the big-block chain: enough for 1,999 payments a block.
const BIG_REWARD: u64 = 1_000_000;

/// Syncs a fresh node from a peer holding 40 blocks of 2,000 transactions and prints its
/// resident memory against the bytes of the chain's JSON.
fn big_blocks(root: &Path) {
    let mut chain = Chain::new(DIFFICULTY, BIG_REWARD);
    let start = now_ms() - 3 * 60 * 60 * 1000;
    let mut blocks = Vec::new();
    let name = "n".repeat(180);
    for b in 0..40u64 {
        let parent = chain.tip().clone();
        let timestamp = (parent.header.timestamp + 1).max(start) + 3;
        let mut transactions = vec![Transaction::coinbase("m", BIG_REWARD, timestamp)];
        if b > 0 {
            transactions.extend((0..1999u64).map(|i| {
                Transaction::new(
                    "m",
                    &format!("{name}{b}-{i}"),
                    1,
                    start - 10_000 + b * 2000 + i,
                )
            }));
        }
        let block = seal(&parent, timestamp, transactions);
        chain.append(block.clone(), u64::MAX).expect("valid");
        blocks.push(block);
    }
    let json_bytes: usize = blocks
        .iter()
        .map(|b| serde_json::to_string(b).unwrap().len())
        .sum();
    let dir = root.join("big-peer");
    let (mut store, _) =
        Store::open(&dir, DIFFICULTY, BIG_REWARD, || "bench-big".into()).expect("open store");
    store.replace_chain(2, &blocks, &[]).expect("write chain");
    drop(store);
    let flags = [
        "--difficulty",
        "8",
        "--reward",
        "1000000",
        "--peer-timeout-ms",
        "60000",
        "--no-relay",
    ];
    let peer = BenchNode::start(&dir, &flags);
    let node = BenchNode::start(&root.join("big-node"), &flags);
    let before = rss_kib(&node);
    let body = format!(r#"{{"nodes": ["127.0.0.1:{}"]}}"#, peer.port);
    assert_eq!(http(node.port, "POST", "/nodes/register", &body).0, 201);
    let started = Instant::now();
    let (status, answer) = http(node.port, "POST", "/nodes/resolve", "");
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains("\"adopted\""),
        "{}",
        &answer[..answer.len().min(300)]
    );
    let elapsed = started.elapsed();
    let after = rss_kib(&node);
    let keeper = rss_kib(&peer);
    println!(
        "catch up on 40 blocks of 2,000 transactions ({:.1} MB of JSON) in {:.1} s: RSS {} -> {} KiB = {:.2} x the chain's JSON ({:.2} x counting only the growth); the peer, which only loaded it from disk: {:.2} x",
        json_bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        before,
        after,
        after as f64 * 1024.0 / json_bytes as f64,
        (after - before) as f64 * 1024.0 / json_bytes as f64,
        keeper as f64 * 1024.0 / json_bytes as f64
    );
}

/// The child of `parent` holding `transactions`, its proof of work found.
fn seal(parent: &Block, timestamp: u64, transactions: Vec<Transaction>) -> Block {
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
    Block::from_header(header, transactions)
}

/// Resident memory of a bench node's process.
fn rss_kib(node: &BenchNode) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", node.child.id()))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Mines `count` blocks on top of `parent_chain`'s tip, each with a coinbase to `miner`.
fn build_chain(parent_chain: &Chain, count: usize, miner: &str, salt: u64) -> Vec<Block> {
    let mut chain = parent_chain.clone();
    let start = now_ms() - 3 * 60 * 60 * 1000 + salt;
    let mut blocks = Vec::with_capacity(count);
    for _ in 0..count {
        let parent = chain.tip().clone();
        let timestamp = (parent.header.timestamp + 1).max(start) + 3;
        let transactions = vec![Transaction::coinbase(miner, REWARD, timestamp)];
        let block = seal(&parent, timestamp, transactions);
        chain.append(block.clone(), u64::MAX).expect("valid");
        blocks.push(block);
    }
    blocks
}

/// Starts a peer holding `theirs` and a node holding `ours`, registers the peer with the
/// node through a counting proxy, resolves once, and returns (bytes both ways, time).
fn resolve_through_proxy(
    root: &Path,
    name: &str,
    theirs: &[Block],
    ours: &[Block],
) -> (u64, Duration) {
    let peer = start_node(&write_data_dir(root, &format!("{name}-peer"), theirs));
    let node = start_node(&write_data_dir(root, &format!("{name}-node"), ours));
    let proxy = CountingProxy::start(peer.port);
    let body = format!(r#"{{"nodes": ["127.0.0.1:{}"]}}"#, proxy.port);
    let (status, _) = http(node.port, "POST", "/nodes/register", &body);
    assert_eq!(status, 201);
    let started = Instant::now();
    let (status, answer) = http(node.port, "POST", "/nodes/resolve", "");
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer.contains("\"adopted\""),
        "resolve did not adopt: {answer}"
    );
    (proxy.bytes.load(Ordering::SeqCst), elapsed)
}

/// Bytes of the peer's whole `/chain` answer.
fn full_chain_bytes(root: &Path, name: &str, blocks: &[Block]) -> usize {
    let node = start_node(&write_data_dir(root, name, blocks));
    let (status, body) = http(node.port, "GET", "/chain", "");
    assert_eq!(status, 200);
    body.len()
}

/// A data directory holding `blocks` (index 2 onwards), written through the store.
fn write_data_dir(root: &Path, name: &str, blocks: &[Block]) -> PathBuf {
    let dir = root.join(name);
    let (mut store, _) =
        Store::open(&dir, DIFFICULTY, REWARD, || format!("bench-{name}")).expect("open store");
    store.replace_chain(2, blocks, &[]).expect("write chain");
    dir
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A bench node with relay off: the bytes counted are those of the resolve alone.
fn start_node(dir: &Path) -> BenchNode {
    BenchNode::start(
        dir,
        &[
            "--difficulty",
            "8",
            "--peer-timeout-ms",
            "30000",
            "--no-relay",
        ],
    )
}
