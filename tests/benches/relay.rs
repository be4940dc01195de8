//! `cargo bench --bench relay`: how fast and how cheaply the live network (SPEC §6a)
//! spreads blocks and transactions.
//!
//! Starts 10 real nodes on loopback in a random connected topology (each with 2-3
//! peers), every link through a byte-counting TCP proxy (one per direction: the address a
//! node registered for its neighbour). Then 50 rounds of: post 10 transactions to random
//! nodes, wait until every pool holds them; mine a block on a random node, wait until
//! every node holds it. Prints median and maximum spreading times and the bytes moved per
//! block and per transaction per link against their own size. Figures, not pass/fail.

#[path = "support.rs"]
mod support;

use serde_json::Value;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::{BenchNode, CountingProxy, http};

const NODES: usize = 10;
const ROUNDS: usize = 50;
const TRANSACTIONS_PER_ROUND: usize = 10;
const DIFFICULTY: &str = "10";

fn main() {
    let root = std::env::temp_dir().join(format!("minichain-relay-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("temp dir");
    let mut random = Random::seeded();

    let nodes: Vec<BenchNode> = (0..NODES)
        .map(|i| start_node(&root.join(i.to_string())))
        .collect();
    let edges = random_topology(&mut random);
    let mut proxies = Vec::new();
    for &(a, b) in &edges {
        for (from, to) in [(a, b), (b, a)] {
            let proxy = CountingProxy::start(nodes[to].port);
            let body = format!(r#"{{"nodes": ["127.0.0.1:{}"]}}"#, proxy.port);
            let (status, answer) = http(nodes[from].port, "POST", "/nodes/register", &body);
            assert_eq!(status, 201, "{answer}");
            proxies.push(proxy);
        }
    }
    let degrees: Vec<usize> = (0..NODES)
        .map(|n| edges.iter().filter(|(a, b)| *a == n || *b == n).count())
        .collect();
    println!(
        "{NODES} nodes, {} links (degrees {degrees:?}), difficulty {DIFFICULTY}, every link through a counting proxy",
        edges.len()
    );
    let bytes = || {
        proxies
            .iter()
            .map(|p| p.bytes.load(Ordering::SeqCst))
            .sum::<u64>()
    };

    // Fund the payer "m" (every node mines to it): 11 blocks, 550 coins.
    for _ in 0..11 {
        let mined = mine(&nodes[random.below(NODES)]);
        wait_for(|| nodes.iter().all(|node| inv(node)["tip"] == mined["hash"]));
    }

    let mut block_times = Vec::new();
    let mut tx_times = Vec::new();
    let (mut block_bytes, mut block_sizes) = (0u64, 0u64);
    let (mut tx_bytes, mut tx_sizes) = (0u64, 0u64);
    for round in 0..ROUNDS {
        let before = bytes();
        let mut pending: Vec<(String, Instant)> = Vec::new();
        for i in 0..TRANSACTIONS_PER_ROUND {
            let node = &nodes[random.below(NODES)];
            let body = format!(r#"{{"sender": "m", "recipient": "r{round}-{i}", "amount": 1}}"#);
            let posted = Instant::now();
            let (status, answer) = http(node.port, "POST", "/transactions/new", &body);
            assert_eq!(status, 201, "{answer}");
            let answer: Value = serde_json::from_str(&answer).expect("json");
            tx_sizes += answer["transaction"].to_string().len() as u64;
            pending.push((
                answer["transaction"]["id"].as_str().unwrap().to_string(),
                posted,
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while !pending.is_empty() {
            assert!(Instant::now() < deadline, "transactions did not spread");
            let pools: Vec<Value> = nodes.iter().map(inv).collect();
            pending.retain(|(id, posted)| {
                let everywhere = pools.iter().all(|inv| {
                    inv["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|item| item["value"] == id.as_str())
                });
                if everywhere {
                    tx_times.push(posted.elapsed());
                }
                !everywhere
            });
        }
        // Let the last relays and their answers finish before counting.
        std::thread::sleep(Duration::from_millis(50));
        let middle = bytes();
        tx_bytes += middle - before;

        let miner = &nodes[random.below(NODES)];
        let mined = mine(miner);
        let found = Instant::now();
        wait_for(|| nodes.iter().all(|node| inv(node)["tip"] == mined["hash"]));
        block_times.push(found.elapsed());
        std::thread::sleep(Duration::from_millis(50));
        block_bytes += bytes() - middle;
        let index = mined["index"].as_u64().unwrap();
        let (_, page) = http(
            miner.port,
            "GET",
            &format!("/chain?from={index}&limit=1"),
            "",
        );
        let page: Value = serde_json::from_str(&page).expect("json");
        block_sizes += page["chain"][0].to_string().len() as u64;
    }

    let links = edges.len() as f64;
    report("block: mined -> on every node", &mut block_times);
    report("transaction: posted -> in every pool", &mut tx_times);
    let per_block = block_bytes as f64 / ROUNDS as f64 / links;
    let block_size = block_sizes as f64 / ROUNDS as f64;
    println!(
        "bytes per block per link      : {per_block:>8.0} (block JSON {block_size:.0} bytes, {} transactions) = {:.2}x the block",
        TRANSACTIONS_PER_ROUND + 1,
        per_block / block_size
    );
    let transactions = (ROUNDS * TRANSACTIONS_PER_ROUND) as f64;
    let per_tx = tx_bytes as f64 / transactions / links;
    let tx_size = tx_sizes as f64 / transactions;
    println!(
        "bytes per transaction per link: {per_tx:>8.0} (transaction JSON {tx_size:.0} bytes) = {:.2}x the transaction",
        per_tx / tx_size
    );
    drop(nodes);
    let _ = std::fs::remove_dir_all(&root);
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<38}: median {:>6.1} ms, max {:>6.1} ms ({} samples)",
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

/// A random connected graph: a random path through all nodes, then random extra links
/// until every node has 2 peers, never more than 3.
fn random_topology(random: &mut Random) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..NODES).collect();
    for i in (1..NODES).rev() {
        order.swap(i, random.below(i + 1));
    }
    let mut edges: Vec<(usize, usize)> = order.windows(2).map(|w| (w[0], w[1])).collect();
    let degree = |edges: &[(usize, usize)], n: usize| {
        edges.iter().filter(|(a, b)| *a == n || *b == n).count()
    };
    for _ in 0..1000 {
        let lonely: Vec<usize> = (0..NODES).filter(|&n| degree(&edges, n) < 2).collect();
        if lonely.is_empty() {
            break;
        }
        let a = lonely[random.below(lonely.len())];
        let b = random.below(NODES);
        let linked = edges.contains(&(a, b)) || edges.contains(&(b, a));
        if a != b && !linked && degree(&edges, b) < 3 {
            edges.push((a, b));
        }
    }
    edges
}

fn mine(node: &BenchNode) -> Value {
    let (status, answer) = http(node.port, "POST", "/mine", "");
    assert_eq!(status, 200, "{answer}");
    serde_json::from_str(&answer).expect("json")
}

fn inv(node: &BenchNode) -> Value {
    let (status, answer) = http(node.port, "GET", "/inv?limit=0", "");
    assert_eq!(status, 200, "{answer}");
    serde_json::from_str(&answer).expect("json")
}

fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "the network did not converge");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// xorshift64*, seeded from the clock: a different topology each run.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Random(nanos | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// A bench node: mines to a name, background sync out of the way, one mining thread.
fn start_node(dir: &Path) -> BenchNode {
    BenchNode::start(
        dir,
        &[
            "--difficulty",
            DIFFICULTY,
            "--miner",
            "m",
            "--sync-interval-ms",
            "600000",
            "--threads",
            "1",
        ],
    )
}
