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
use std::process::Command;
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
    for nodes in [10, 40] {
        run(nodes);
    }
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
