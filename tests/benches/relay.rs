//! `cargo bench --bench relay`: what relay costs a network, in two scenarios (run one
//! with `RELAY_BENCH=mesh` or `RELAY_BENCH=joined`; both by default). Figures, not
//! pass/fail.
//!
//! **mesh** — what one item costs a network that knows itself fully (SPEC §6b
//! "Figures"), at 10 nodes and at 40, so the growth with N shows. Starts N real nodes
//! (release build), each behind a counting TCP proxy, and has every node register every
//! other's proxy (the state peer exchange leads to). Then, on that full mesh: 20 signed
//! payments from node wallets, one at a time, each until every pool holds it; then one
//! block of those 20 payments, until every node holds it. Prints, per payment and per
//! block: bytes every node receives ÷ the item's size (the payment's JSON; the block's
//! compact and whole JSON), HTTP requests per node per item, and the time until the last
//! node has it. Works against an older binary too (flags it does not know are left out),
//! which is how the "before" figures were made.
//!
//! **joined** — a network that grew the way a classroom does (SPEC §6c "A network at
//! rest is quiet", "Pools catch up too"), at 20, 40 and 100 nodes (`RELAY_BENCH_NODES`,
//! e.g. `20,40`, to choose). Node 1 starts alone; node k starts with `--peer` naming a
//! random earlier node (seeded: `RELAY_BENCH_SEED`), `--sync-interval-ms 5000` and the
//! default `--relay-peers`, and the next starts once node k is in its peer's list; from
//! there peer exchange builds the network. Then:
//! 1. *idle*: the HTTP requests each node receives over 20 s with nothing happening, per
//!    node per second (mean and max), twice: two sync intervals after the last join
//!    (peer exchange may still be filling peer lists), and at rest, once no node's peer
//!    list changed for two sync intervals in a row (waited for up to 240 s). Counted by
//!    a counting proxy in front of each node (the request lines that cross it): each
//!    node is started with `--advertise` naming its proxy, so it names itself by the
//!    proxy to every peer it registers with and peer exchange hands on only proxy URLs;
//!    every request from a peer therefore crosses the proxy, while the bench's own calls
//!    go to the node's port directly and are not counted.
//! 2. *a block*: one block mined at a random node, and the time until every node's
//!    `/inv?limit=0` shows the new length (or how many did at the 120 s deadline).
//! 3. *payments*: 10 payments from that node's wallet (the block's coinbase paid it),
//!    posted one after another, and the time from the first until every node's
//!    `/pool?brief=1` holds all 10 (or how many nodes did at the 120 s deadline).
//!
//! Nodes run at difficulty 10 with `--threads 1` and `--wallet-height 5`, so 100 fit
//! on two cores. `RELAY_BENCH_LOGS=1` keeps each joined node's log
//! (`RUST_LOG=info,minichain=debug`) and data in the temporary directory it names.

#[path = "support.rs"]
mod support;

use serde_json::Value;
use std::collections::HashSet;
use std::fs::File;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};
use support::{BenchNode, SplitProxy, http};

const PAYMENTS: usize = 20;
const PAYERS: usize = 5;
const DIFFICULTY: &str = "10";

fn main() {
    let help = Command::new(env!("CARGO_BIN_EXE_minichain"))
        .arg("--help")
        .output()
        .expect("minichain --help");
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    println!(
        "relay bench: {}",
        if help.contains("--relay-peers") {
            "ids first, relay peers, compact blocks (SPEC §6b)"
        } else {
            "a binary without SPEC §6b (every item pushed to every peer)"
        }
    );
    let scenario = std::env::var("RELAY_BENCH").unwrap_or_default();
    let (mesh, joined) = match scenario.as_str() {
        "" | "both" | "all" => (true, true),
        "mesh" => (true, false),
        "joined" => (false, true),
        other => panic!("RELAY_BENCH={other:?}: choose mesh, joined or both"),
    };
    if mesh {
        for nodes in [10, 40] {
            run(nodes);
        }
    }
    if joined {
        let sizes: Vec<usize> = match std::env::var("RELAY_BENCH_NODES") {
            Ok(list) => list
                .split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .expect("RELAY_BENCH_NODES: numbers, e.g. 20,40")
                })
                .collect(),
            Err(_) => vec![20, 40, 100],
        };
        let seed = std::env::var("RELAY_BENCH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x6c);
        let logs = std::env::var("RELAY_BENCH_LOGS").is_ok_and(|v| !v.is_empty() && v != "0");
        println!(
            "joined: nodes join one by one through a random earlier node; --sync-interval-ms {JOIN_SYNC_MS}, default --relay-peers, difficulty {DIFFICULTY}, seed {seed}"
        );
        let mut random = Random(seed);
        for count in sizes {
            join(count, &mut random, logs);
        }
    }
}

/// Full mesh: every node registers every other's proxy.
fn run(count: usize) {
    let root = std::env::temp_dir().join(format!(
        "minichain-relay-bench-{}-{count}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    let flags = [
        "--difficulty",
        DIFFICULTY,
        "--sync-interval-ms",
        "60000",
        "--wallet-height",
        "5",
    ];
    let nodes: Vec<BenchNode> = (0..count)
        .map(|i| BenchNode::start(&root.join(i.to_string()), &flags))
        .collect();
    let proxies: Vec<SplitProxy> = nodes.iter().map(|n| SplitProxy::start(n.port)).collect();
    for (i, node) in nodes.iter().enumerate() {
        let others: Vec<String> = (0..count)
            .filter(|&j| j != i)
            .map(|j| format!("\"{}\"", proxies[j].url()))
            .collect();
        let body = format!("{{\"nodes\": [{}]}}", others.join(", "));
        let (status, answer) = http(node.port, "POST", "/nodes/register", &body);
        assert_eq!(status, 201, "{answer}");
    }
    // Coins for the payers' wallets: one block each, spread before the next.
    for payer in nodes.iter().take(PAYERS) {
        let block = call(payer, "POST", "/mine", "");
        wait_for(|| nodes.iter().all(|n| tip(n) == block["hash"]));
    }
    thread::sleep(Duration::from_millis(500));
    let totals = || -> (u64, u64) {
        proxies.iter().fold((0, 0), |(bytes, calls), proxy| {
            let t = &proxy.traffic;
            (
                bytes + t.requests.load(Ordering::SeqCst) + t.answers.load(Ordering::SeqCst),
                calls + t.calls.load(Ordering::SeqCst),
            )
        })
    };

    let (bytes_before, calls_before) = totals();
    let mut sizes = 0u64;
    let mut times = Vec::new();
    for n in 0..PAYMENTS {
        let payer = &nodes[n % PAYERS];
        let body = format!("{{\"recipient\": \"r{n}\", \"amount\": 1}}");
        let started = Instant::now();
        let answer = call(payer, "POST", "/transactions/new", &body);
        let id = answer["transaction"]["id"].clone();
        sizes += serde_json::to_string(&answer["transaction"]).unwrap().len() as u64;
        wait_for(|| {
            nodes.iter().all(|node| {
                call(node, "GET", "/inv?limit=0", "")["values"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|item| item["value"] == id))
            })
        });
        times.push(started.elapsed());
    }
    thread::sleep(Duration::from_millis(500));
    let (bytes_after, calls_after) = totals();
    let per_node = (bytes_after - bytes_before) as f64 / count as f64;
    println!(
        "{count} nodes, full mesh ({} peers each), difficulty {DIFFICULTY}",
        count - 1
    );
    println!(
        "  payment (signed, {:.0} bytes of JSON): each node receives {:>6.2} x its size; {:>5.2} requests per node; last node after median {:>6.1} ms, max {:>6.1} ms",
        sizes as f64 / PAYMENTS as f64,
        per_node / sizes as f64,
        (calls_after - calls_before) as f64 / count as f64 / PAYMENTS as f64,
        median(&mut times),
        times.iter().max().unwrap().as_secs_f64() * 1000.0
    );

    let (bytes_before, calls_before) = totals();
    let started = Instant::now();
    let block = call(&nodes[PAYERS], "POST", "/mine", "");
    wait_for(|| nodes.iter().all(|n| tip(n) == block["hash"]));
    let spread = started.elapsed();
    thread::sleep(Duration::from_millis(500));
    let (bytes_after, calls_after) = totals();
    let index = block["index"].as_u64().unwrap();
    let whole = call(
        &nodes[0],
        "GET",
        &format!("/chain?from={index}&limit=1"),
        "",
    );
    let whole = serde_json::to_string(&whole["chain"][0]).unwrap().len() as f64;
    let compact = call(
        &nodes[0],
        "GET",
        &format!("/chain?from={index}&limit=1&compact=1"),
        "",
    );
    let compact = match compact["chain"][0].get("transaction_ids") {
        Some(_) => serde_json::to_string(&compact["chain"][0]).unwrap().len() as f64,
        None => f64::NAN, // a binary without compact blocks
    };
    let per_node = (bytes_after - bytes_before) as f64 / count as f64;
    println!(
        "  block ({} transactions, {whole:.0} bytes whole, {compact:.0} compact): each node receives {:>6.2} x its compact size ({:.3} x the whole block); {:>5.2} requests per node; last node after {:>6.1} ms",
        block["transactions"].as_array().map_or(0, Vec::len),
        per_node / compact,
        per_node / whole,
        (calls_after - calls_before) as f64 / count as f64,
        spread.as_secs_f64() * 1000.0
    );
    drop(nodes);
    let _ = std::fs::remove_dir_all(&root);
}

/// `--sync-interval-ms` of the joined network.
const JOIN_SYNC_MS: u64 = 5000;
/// How long the joined network rests before the idle window, and the window.
const SETTLE: Duration = Duration::from_millis(2 * JOIN_SYNC_MS);
const IDLE_WINDOW: Duration = Duration::from_secs(20);
/// At rest: no node's peer count changed over this many sync intervals in a row…
const REST_ROUNDS: usize = 2;
/// …waited for at most this long after the first idle window.
const REST_WAIT: Duration = Duration::from_secs(240);
/// Payments posted at once in the joined network.
const BATCH: usize = 10;
/// How long a block or a batch may take to reach every node.
const DEADLINE: Duration = Duration::from_secs(120);

/// A network grown one node at a time; see the file's documentation.
fn join(count: usize, random: &mut Random, logs: bool) {
    let root = std::env::temp_dir().join(format!(
        "minichain-relay-bench-joined-{}-{count}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("bench directory");
    let started = Instant::now();
    let mut nodes: Vec<BenchNode> = Vec::with_capacity(count);
    let mut proxies: Vec<SplitProxy> = Vec::with_capacity(count);
    let mut entries: Vec<Option<usize>> = Vec::with_capacity(count);
    for k in 0..count {
        let proxy = SplitProxy::waiting();
        let own = proxy.url();
        let entry = (k > 0).then(|| random.below(k));
        let peer = entry.map(|p| proxies[p].url());
        let sync = JOIN_SYNC_MS.to_string();
        let mut flags = vec![
            "--difficulty",
            DIFFICULTY,
            "--sync-interval-ms",
            &sync,
            "--wallet-height",
            "5",
            "--threads",
            "1",
            "--advertise",
            &own,
        ];
        if let Some(peer) = &peer {
            flags.extend(["--peer", peer.as_str()]);
        }
        let dir = root.join(k.to_string());
        let node = if logs {
            let log = File::create(root.join(format!("{k}.log"))).expect("log file");
            BenchNode::start_logging(&dir, &flags, "info,minichain=debug", Stdio::from(log))
        } else {
            BenchNode::start(&dir, &flags)
        };
        proxy.point_at(node.port);
        if let Some(p) = entry {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !peers_of(&nodes[p]).contains(&own) {
                assert!(
                    Instant::now() < deadline,
                    "node {k} not registered at node {p} after 30 s"
                );
                thread::sleep(Duration::from_millis(5));
            }
        }
        nodes.push(node);
        proxies.push(proxy);
        entries.push(entry);
    }
    let joined_after = started.elapsed();
    let joined_at = Instant::now();
    if logs {
        let map: String = (0..count)
            .map(|i| {
                format!(
                    "node {} port {} proxy {} joined through {}\n",
                    i + 1,
                    nodes[i].port,
                    proxies[i].url(),
                    entries[i].map_or("none".to_string(), |p| format!("node {}", p + 1))
                )
            })
            .collect();
        std::fs::write(root.join("nodes.txt"), map).expect("nodes.txt");
    }

    // 1. A network at rest: soon after the last join (peer exchange may still be
    // filling peer lists), and once the peer lists stopped changing.
    thread::sleep(SETTLE);
    let soon = idle_rates(&proxies);
    let soon_peers = peer_counts(&nodes);
    let waited = Instant::now();
    let mut last = soon_peers.clone();
    let mut unchanged = 0;
    let mut rests = true;
    while unchanged < REST_ROUNDS {
        if waited.elapsed() >= REST_WAIT {
            rests = false;
            break;
        }
        thread::sleep(Duration::from_millis(JOIN_SYNC_MS));
        let now = peer_counts(&nodes);
        unchanged = if now == last { unchanged + 1 } else { 0 };
        last = now;
    }
    let rest_after = joined_at.elapsed();
    let rest = idle_rates(&proxies);
    let rest_peers = peer_counts(&nodes);

    // 2. A block mined at one node.
    let miner = random.below(count);
    let length = call(&nodes[miner], "GET", "/inv?limit=0", "")["length"]
        .as_u64()
        .expect("length");
    let started = Instant::now();
    call(&nodes[miner], "POST", "/mine", "");
    let (block_after, block_missing) = until_all(&nodes, started, |node| {
        inv_length(node).is_some_and(|l| l > length)
    });

    // 3. A batch of payments from that node's wallet.
    let started = Instant::now();
    let ids: HashSet<String> = (0..BATCH)
        .map(|n| {
            let body = format!("{{\"recipient\": \"bob{n}\", \"amount\": 1}}");
            let answer = call(&nodes[miner], "POST", "/transactions/new", &body);
            answer["transaction"]["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    let (batch_after, batch_missing) = until_all(&nodes, started, |node| {
        pooled(node).is_some_and(|pool| ids.iter().all(|id| pool.contains(id)))
    });

    let block = match block_after {
        Some(t) => format!("a block at every node after {:.1} s", t.as_secs_f64()),
        None => format!(
            "a block at {}/{count} nodes at the {} s deadline",
            count - block_missing.len(),
            DEADLINE.as_secs()
        ),
    };
    let batch = match batch_after {
        Some(t) => format!(
            "{BATCH} payments in every pool after {:.1} s ({count}/{count} nodes)",
            t.as_secs_f64()
        ),
        None => format!(
            "{BATCH} payments in {}/{count} pools at the {} s deadline",
            count - batch_missing.len(),
            DEADLINE.as_secs()
        ),
    };
    let rest_when = if rests {
        format!(
            "at rest ({:.0} s after the last join)",
            rest_after.as_secs_f64()
        )
    } else {
        format!(
            "peer lists still changing {:.0} s after the last join",
            rest_after.as_secs_f64()
        )
    };
    println!(
        "joined N={count}: idle {:.2} req/node/s (max {:.1}) {} s after the last join, {:.2} (max {:.1}) {rest_when}; {batch}; {block}",
        soon.0,
        soon.1,
        SETTLE.as_secs(),
        rest.0,
        rest.1
    );
    println!(
        "  (joined in {:.1} s; peers per node {} s after: {}; at rest: {}; block and payments at node {})",
        joined_after.as_secs_f64(),
        SETTLE.as_secs(),
        spread(&soon_peers),
        spread(&rest_peers),
        miner + 1
    );
    for (what, missing) in [
        ("the block", &block_missing),
        ("the payments", &batch_missing),
    ] {
        for &i in missing.iter() {
            println!(
                "  node {} ({}, port {}, joined through node {}) lacks {what}: {} peers; pool {}",
                i + 1,
                proxies[i].url(),
                nodes[i].port,
                entries[i].map_or("none".to_string(), |p| (p + 1).to_string()),
                peers_of(&nodes[i]).len(),
                pooled(&nodes[i]).map_or("?".to_string(), |p| format!(
                    "{} of the {BATCH}",
                    ids.iter().filter(|id| p.contains(*id)).count()
                )),
            );
        }
    }
    drop(nodes);
    if logs {
        println!("  logs and data kept in {}", root.display());
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
}

/// Requests each node receives (through its proxy) per second over [`IDLE_WINDOW`]:
/// the mean and the largest.
fn idle_rates(proxies: &[SplitProxy]) -> (f64, f64) {
    let calls = || -> Vec<u64> {
        proxies
            .iter()
            .map(|p| p.traffic.calls.load(Ordering::SeqCst))
            .collect()
    };
    let before = calls();
    thread::sleep(IDLE_WINDOW);
    let after = calls();
    let rates: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| (a - b) as f64 / IDLE_WINDOW.as_secs_f64())
        .collect();
    (
        rates.iter().sum::<f64>() / rates.len() as f64,
        rates.iter().cloned().fold(0.0, f64::max),
    )
}

/// How many peers each node lists.
fn peer_counts(nodes: &[BenchNode]) -> Vec<usize> {
    nodes.iter().map(|n| peers_of(n).len()).collect()
}

/// `mean M, min A, max B` of peer counts.
fn spread(counts: &[usize]) -> String {
    format!(
        "mean {:.1}, min {}, max {}",
        counts.iter().sum::<usize>() as f64 / counts.len() as f64,
        counts.iter().min().unwrap(),
        counts.iter().max().unwrap()
    )
}

/// Polls the nodes not yet done (each `done` call is one request) until all are or
/// [`DEADLINE`] after `started` passes: the time from `started` until the last one was
/// seen done, or the indexes of the nodes still not done at the deadline.
fn until_all(
    nodes: &[BenchNode],
    started: Instant,
    mut done: impl FnMut(&BenchNode) -> bool,
) -> (Option<Duration>, Vec<usize>) {
    let mut waiting: Vec<usize> = (0..nodes.len()).collect();
    loop {
        waiting.retain(|&i| !done(&nodes[i]));
        if waiting.is_empty() {
            return (Some(started.elapsed()), waiting);
        }
        if started.elapsed() >= DEADLINE {
            return (None, waiting);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The peers a node lists (`GET /nodes/register`), asked at its own port.
fn peers_of(node: &BenchNode) -> Vec<String> {
    let (status, answer) = http(node.port, "GET", "/nodes/register", "");
    if status != 200 {
        return Vec::new();
    }
    let answer: Value = serde_json::from_str(&answer).unwrap_or_default();
    answer["total_nodes"]
        .as_array()
        .map(|peers| {
            peers
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A node's chain length, `None` when it does not answer well.
fn inv_length(node: &BenchNode) -> Option<u64> {
    let (status, answer) = http(node.port, "GET", "/inv?limit=0", "");
    let answer: Value = serde_json::from_str(&answer)
        .ok()
        .filter(|_| status == 200)?;
    answer["length"].as_u64()
}

/// The ids in a node's pool, `None` when it does not answer well.
fn pooled(node: &BenchNode) -> Option<HashSet<String>> {
    let (status, answer) = http(node.port, "GET", "/pool?brief=1", "");
    let answer: Value = serde_json::from_str(&answer)
        .ok()
        .filter(|_| status == 200)?;
    Some(
        answer["pool"]
            .as_array()?
            .iter()
            .filter_map(|t| t["id"].as_str().map(str::to_string))
            .collect(),
    )
}

/// A small seeded generator (splitmix64), so a run's network can be grown again.
struct Random(u64);

impl Random {
    /// A number below `n` (> 0).
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % n as u64) as usize
    }
}

fn call(node: &BenchNode, method: &str, path: &str, body: &str) -> Value {
    let (status, answer) = http(node.port, method, path, body);
    assert!(status < 300, "{method} {path}: {status} {answer}");
    serde_json::from_str(&answer).expect("JSON")
}

fn tip(node: &BenchNode) -> Value {
    call(node, "GET", "/inv?limit=0", "")["tip"].clone()
}

fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "the network did not converge in 120 s"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}
