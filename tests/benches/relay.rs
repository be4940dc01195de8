//! `cargo bench --bench relay`: what one item costs a network that knows itself fully
//! (SPEC §6b "Figures"), at 10 nodes and at 40, so the growth with N shows.
//!
//! Starts N real nodes (release build), each behind a counting TCP proxy, and has every
//! node register every other's proxy (the state peer exchange leads to). Then, on that
//! full mesh: 20 signed payments from node wallets, one at a time, each until every pool
//! holds it; then one block of those 20 payments, until every node holds it. Prints, per
//! payment and per block: bytes every node receives ÷ the item's size (the payment's
//! JSON; the block's compact and whole JSON), HTTP requests per node per item, and the
//! time until the last node has it. Works against an older binary too (flags it does not
//! know are left out), which is how the "before" figures were made. Figures, not
//! pass/fail.

#[path = "support.rs"]
mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use support::{BenchNode, http};

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
    for nodes in [10, 40] {
        run(nodes);
    }
}

/// Bytes and requests crossing into one node's proxy.
#[derive(Default)]
struct Counts {
    /// Request bytes (what the node received from its callers).
    requests: AtomicU64,
    /// Answer bytes (what its callers received from it).
    answers: AtomicU64,
    /// Requests (request lines seen).
    calls: AtomicU64,
}

impl Counts {
    fn total(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::SeqCst) + self.answers.load(Ordering::SeqCst),
            self.calls.load(Ordering::SeqCst),
        )
    }
}

/// A proxy on a free port in front of `127.0.0.1:target`.
fn proxy(target: u16) -> (u16, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a proxy");
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Counts::default());
    let shared = Arc::clone(&counts);
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (up, down) = (Arc::clone(&shared), Arc::clone(&shared));
            thread::spawn(move || pump(client, server, &up, true));
            thread::spawn(move || pump(s2, c2, &down, false));
        }
    });
    (port, counts)
}

fn pump(mut from: TcpStream, mut to: TcpStream, counts: &Counts, requests: bool) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if requests {
            counts.requests.fetch_add(n as u64, Ordering::SeqCst);
            let lines = buffer[..n]
                .windows(11)
                .filter(|w| w == b" HTTP/1.1\r\n")
                .count();
            counts.calls.fetch_add(lines as u64, Ordering::SeqCst);
        } else {
            counts.answers.fetch_add(n as u64, Ordering::SeqCst);
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

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
    let proxies: Vec<(u16, Arc<Counts>)> = nodes.iter().map(|n| proxy(n.port)).collect();
    for (i, node) in nodes.iter().enumerate() {
        let others: Vec<String> = (0..count)
            .filter(|&j| j != i)
            .map(|j| format!("\"127.0.0.1:{}\"", proxies[j].0))
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
        proxies
            .iter()
            .map(|(_, c)| c.total())
            .fold((0, 0), |(b, r), (b2, r2)| (b + b2, r + r2))
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
