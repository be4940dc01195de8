//! `cargo bench --bench signatures`: what LMS signatures cost (issue 9).
//!
//! Prints, in one run: the raw SHA-256 compression rate of one core; key generation at
//! H5/H10/H15 (W4); signatures and verifications per second on one core, and the
//! efficiency figure verifications/s ÷ (compressions/s ÷ 1,100) — a W4 verification
//! needs at most ~1,100 compressions (67 chains × 15 + 10), so 1.0 means no overhead;
//! durable admission of signed transactions by a real node with 16 clients; and the time
//! a node takes to start on a chain holding 10,000 signed transactions (every signature
//! verified again). Figures, not a pass/fail test: shared machines are noisy.

#[path = "../keepalive.rs"]
mod keepalive;

#[path = "support.rs"]
mod support;

use keepalive::Connection;
use minichain::core::block::{Transaction, genesis};
use minichain::core::hash::BlockHash;
use minichain::core::signed::{Signature, key_address, signing_message};
use minichain::crypto::{LmsType, OtsType, PrivateKey};
use serde_json::Value;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{BenchNode, raw_compression_rate};

/// How long each per-second figure is measured.
const MEASURE_FOR: Duration = Duration::from_secs(2);
/// Difficulty of the bench node: mining is instant, signatures are what is measured.
const DIFFICULTY: u32 = 8;
/// Signed transactions posted by the 16 clients.
const ADMITTED: usize = 4_000;
/// Signed transactions in the chain the restarted node re-validates.
const REVALIDATED: usize = 10_000;
/// Concurrent clients for the admission figure.
const CLIENTS: usize = 16;

fn main() {
    let raw = raw_compression_rate(MEASURE_FOR);
    println!("raw sha2 compress256, 1 core   : {raw:>12.0} compressions/s");

    for (lms, label) in [
        (LmsType::H5, "H5 "),
        (LmsType::H10, "H10"),
        (LmsType::H15, "H15"),
    ] {
        let started = Instant::now();
        black_box(PrivateKey::generate(lms, OtsType::W4, [1; 16], [2; 32]));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "key generation {label}/W4         : {:>10.1} ms ({} leaves, {cores} threads)",
            started.elapsed().as_secs_f64() * 1000.0,
            lms.leaves()
        );
    }

    let key = PrivateKey::generate(LmsType::H10, OtsType::W4, [3; 16], [4; 32]);
    let message = [7u8; 64];
    let (signed, elapsed) = repeat(|round| {
        black_box(
            key.sign((round % 1023) as u32, &message)
                .expect("a leaf in range"),
        );
    });
    let sign_rate = signed as f64 / elapsed;
    println!("signing, H10/W4, 1 core        : {sign_rate:>12.0} signatures/s");
    let signature = key.sign(5, &message).expect("a leaf in range");
    let public = key.public_key();
    let (verified, elapsed) = repeat(|_| {
        public
            .verify(black_box(&message), black_box(&signature))
            .expect("verifies");
    });
    let verify_rate = verified as f64 / elapsed;
    let efficiency = verify_rate / (raw / 1100.0);
    println!(
        "verification, H10/W4, 1 core   : {verify_rate:>12.0} verifications/s = {efficiency:.2} x (compressions/s / 1,100) (goal >= 0.8: {})",
        if efficiency >= 0.8 { "met" } else { "NOT met" }
    );

    let dir = scratch_dir();
    let spender = PrivateKey::generate(LmsType::H15, OtsType::W4, [5; 16], [6; 32]);
    let address = key_address(&spender.public_key());
    let network = genesis(DIFFICULTY).hash;
    let payments: Vec<Value> = (0..(ADMITTED + REVALIDATED) as u32)
        .map(|q| signed_payment(&spender, &network, q))
        .collect();

    let mut node = start_node(&dir, &address);
    let mut first = Connection::open(node.port).expect("connect");
    let (status, _) = first.post("/mine", &Value::Null).expect("mine");
    assert_eq!(status, 200, "the first block pays the spender");
    let (rate, errors) = admit_concurrently(node.port, &payments[..ADMITTED]);
    println!(
        "admission, {CLIENTS} clients, durable  : {rate:>12.0} signed tx/s ({ADMITTED} transactions, {errors} errors)"
    );
    for chunk in payments[ADMITTED..].chunks(2_000) {
        admit_concurrently(node.port, chunk);
        let (status, _) = first.post("/mine", &Value::Null).expect("mine");
        assert_eq!(status, 200, "mines the pooled payments");
    }
    let (_, chain) = first.get("/chain?from=1&limit=1").expect("chain");
    drop(first);
    node.stop();
    let started = Instant::now();
    let node = start_node(&dir, &address);
    let elapsed = started.elapsed();
    println!(
        "start-up re-validating {} signed transactions ({} blocks): {:>8.0} ms ({:.1} us per signature)",
        ADMITTED + REVALIDATED,
        chain["length"],
        elapsed.as_secs_f64() * 1000.0,
        elapsed.as_secs_f64() * 1e6 / (ADMITTED + REVALIDATED) as f64
    );
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `work` for [`MEASURE_FOR`]; returns the count and the seconds it took.
fn repeat(mut work: impl FnMut(u64)) -> (u64, f64) {
    let started = Instant::now();
    let mut count = 0;
    while started.elapsed() < MEASURE_FOR {
        for _ in 0..16 {
            work(count);
            count += 1;
        }
    }
    (count, started.elapsed().as_secs_f64())
}

/// One coin to `bob` from `key`, signed with leaf `q`, in the relayed wire form.
fn signed_payment(key: &PrivateKey, network: &BlockHash, q: u32) -> Value {
    let sender = key_address(&key.public_key());
    let mut tx = Transaction::new(&sender, "bob", 1, 1_700_000_000_000 + u64::from(q));
    let signature = key
        .sign(q, &signing_message(network, &tx.id))
        .expect("leaf");
    tx.signature = Some(Signature(signature));
    serde_json::to_value(&tx).expect("serialises")
}

/// Posts `payments` from [`CLIENTS`] keep-alive connections; returns admissions per
/// second (201s) and the number of other answers.
fn admit_concurrently(port: u16, payments: &[Value]) -> (f64, usize) {
    let per_client = payments.len().div_ceil(CLIENTS);
    let mut connections: Vec<Connection> = (0..CLIENTS)
        .map(|_| Connection::open(port).expect("connect"))
        .collect();
    let started = Instant::now();
    let errors: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = connections
            .iter_mut()
            .zip(payments.chunks(per_client))
            .map(|(connection, chunk)| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter(|payment| {
                            !matches!(connection.post("/transactions/new", payment), Ok((201, _)))
                        })
                        .count()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("client"))
            .sum()
    });
    let elapsed = started.elapsed().as_secs_f64();
    ((payments.len() - errors) as f64 / elapsed, errors)
}

fn scratch_dir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("minichain-bench-signatures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A bench node mining to `miner` (the spender's key address), relay off.
fn start_node(dir: &Path, miner: &str) -> BenchNode {
    BenchNode::start(
        dir,
        &[
            "--no-relay",
            "--difficulty",
            &DIFFICULTY.to_string(),
            "--miner",
            miner,
            "--reward",
            "1000000000",
        ],
    )
}
