//! `cargo bench --bench ingest`: durable transaction admission on a real release node.
//!
//! Prints, in one run: the disk's bare write+fsync rate (and the cost of one new file, the
//! unit of a group commit); the 1-client and 16-client durable admission rates at pool 0
//! and at pool 50,000 and their ratios; the 16-client rate when every client posts the
//! same payment (one body, as wrk with one file does: each needs a fresh timestamp, SPEC
//! §9) beside the distinct one; `GET /chain` latency while 16 clients write; and how long
//! a node takes to start with a pool of 100,000. Every client keeps one HTTP/1.1
//! connection open. The machine is shared, so each figure is the best of a few rounds
//! (other load only ever slows a measurement down).
//!
//! Targets (2 cores): 16 clients ≥ 5,000 tx/s with 0 errors, distinct or identical
//! payments; pool 50,000 ≥ 0.67 × pool 0; `GET /chain` median under 2 ms while 16 clients
//! write.

#[path = "../keepalive.rs"]
mod keepalive;

#[path = "support.rs"]
mod support;

use keepalive::Connection;
use serde_json::json;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::BenchNode;

/// One measurement slice; each rate is measured in [`SLICES`] slices, alternating with
/// the others.
const SLICE: Duration = Duration::from_millis(500);
/// Slices per rate and round.
const SLICES: usize = 4;
/// Rounds, each on a fresh node; the best of each figure is reported.
const ROUNDS: usize = 3;
/// Concurrent clients of the loaded measurements.
const CLIENTS: usize = 16;
/// The large pool of the flat-cost comparison.
const BIG_POOL: u64 = 50_000;
/// The pool a restart is timed with.
const LOAD_POOL: u64 = 100_000;

fn main() {
    let root = std::env::temp_dir().join(format!("minichain-ingest-bench-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).expect("make the bench directory");

    let mut best = Figures::default();
    for round in 0..ROUNDS {
        let figures = run_round(&root.join(format!("round-{round}")));
        eprintln!("round {round}: {figures:?}");
        best.keep_best(&figures);
    }
    let _ = fs::remove_dir_all(&root);
    best.print();
}

/// One round's figures.
#[derive(Debug, Default)]
struct Figures {
    fsync_per_s: f64,
    new_file_per_s: f64,
    one_client_pool0: f64,
    clients_pool0: f64,
    one_client_big: f64,
    clients_big: f64,
    clients_identical: f64,
    errors: u64,
    chain_median_ms: f64,
    chain_max_ms: f64,
    load_ms: f64,
    loaded: u64,
}

impl Figures {
    fn keep_best(&mut self, other: &Figures) {
        let max = |a: &mut f64, b: f64| *a = a.max(b);
        let min = |a: &mut f64, b: f64| *a = if *a == 0.0 { b } else { a.min(b) };
        max(&mut self.fsync_per_s, other.fsync_per_s);
        max(&mut self.new_file_per_s, other.new_file_per_s);
        max(&mut self.one_client_pool0, other.one_client_pool0);
        max(&mut self.clients_pool0, other.clients_pool0);
        max(&mut self.one_client_big, other.one_client_big);
        max(&mut self.clients_big, other.clients_big);
        max(&mut self.clients_identical, other.clients_identical);
        self.errors += other.errors;
        min(&mut self.chain_median_ms, other.chain_median_ms);
        min(&mut self.chain_max_ms, other.chain_max_ms);
        min(&mut self.load_ms, other.load_ms);
        self.loaded = self.loaded.max(other.loaded);
    }

    fn print(&self) {
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "best of {ROUNDS} rounds (fresh nodes each; shared machine); each rate over {SLICES} slices of {} ms alternating with the others",
            SLICE.as_millis()
        );
        println!(
            "disk: bare write+fsync          : {:>8.0} /s",
            self.fsync_per_s
        );
        println!(
            "disk: new file+fsync+rename+dir : {:>8.0} /s  (one group commit)",
            self.new_file_per_s
        );
        println!(
            "admission, 1 client,  pool 0     : {:>8.0} tx/s",
            self.one_client_pool0
        );
        println!(
            "admission, {CLIENTS} clients, pool 0    : {:>8.0} tx/s",
            self.clients_pool0
        );
        println!(
            "admission, 1 client,  pool {BIG_POOL} : {:>8.0} tx/s  ({:.2} x pool 0)",
            self.one_client_big,
            self.one_client_big / self.one_client_pool0
        );
        println!(
            "admission, {CLIENTS} clients, pool {BIG_POOL}: {:>8.0} tx/s  ({:.2} x pool 0)",
            self.clients_big,
            self.clients_big / self.clients_pool0
        );
        println!(
            "admission, {CLIENTS} clients, pool 0, identical payments: {:>8.0} tx/s  ({:.2} x distinct)",
            self.clients_identical,
            self.clients_identical / self.clients_pool0
        );
        println!("errors (non-201 answers, all rounds): {}", self.errors);
        println!(
            "GET /chain while {CLIENTS} clients write: median {:.2} ms, max {:.1} ms",
            self.chain_median_ms, self.chain_max_ms
        );
        println!(
            "start-up with a pool of {}: {:.0} ms until it serves",
            self.loaded, self.load_ms
        );
        println!(
            "targets: {CLIENTS} clients >= 5000 tx/s with 0 errors (distinct and identical): {}; pool {BIG_POOL} >= 0.67 x pool 0 ({CLIENTS} clients): {}; GET /chain median < 2 ms: {}",
            met(self.clients_pool0 >= 5000.0
                && self.clients_big >= 5000.0
                && self.clients_identical >= 5000.0
                && self.errors == 0),
            met(self.clients_big >= 0.67 * self.clients_pool0),
            met(self.chain_median_ms < 2.0)
        );
    }
}

fn run_round(dir: &Path) -> Figures {
    fs::create_dir_all(dir).expect("make the round directory");
    let mut figures = Figures {
        fsync_per_s: fsync_rate(dir),
        new_file_per_s: new_file_rate(dir),
        ..Figures::default()
    };
    // Two nodes, measured in alternating slices so that the machine's changing load hits
    // both alike: `small` is mined empty before each slice, `big` holds 50,000 and more.
    let small = start_node(&dir.join("small"));
    let big_dir = dir.join("big");
    let big = start_node(&big_dir);
    let mut small_clients = connections(small.port, CLIENTS + 1);
    let mut big_clients = connections(big.port, CLIENTS + 1);
    let (small_admin, small_writers) = small_clients.split_last_mut().unwrap();
    let (big_reader, big_writers) = big_clients.split_last_mut().unwrap();
    for admin in [&mut *small_admin, &mut *big_reader] {
        let (status, _) = admin.post("/mine", &json!({})).expect("mine");
        assert_eq!(status, 200, "mining the funding block");
    }
    let sequence = AtomicU64::new(0);
    fill_pool(big_writers, &sequence, BIG_POOL);

    let mut slices = [Rate::default(); 5];
    let mut latencies = Vec::new();
    for _ in 0..SLICES {
        for (slot, clients) in [(0, CLIENTS), (1, 1)] {
            let (status, _) = small_admin.post("/mine", &json!({})).expect("mine");
            assert_eq!(status, 200, "mining the pool away");
            slices[slot].add(admit(
                &mut small_writers[..clients],
                &sequence,
                Payments::Distinct,
                None,
                SLICE,
            ));
            // GET /chain on the node with the big pool and a two-block chain: the latency
            // is then about waiting, not about the size of the answer.
            let watch = (clients == CLIENTS).then_some((&mut *big_reader, &mut latencies));
            slices[slot + 2].add(admit(
                &mut big_writers[..clients],
                &sequence,
                Payments::Distinct,
                watch,
                SLICE,
            ));
        }
        // The same 16 clients on the same node, every one posting one and the same body.
        let (status, _) = small_admin.post("/mine", &json!({})).expect("mine");
        assert_eq!(status, 200, "mining the pool away");
        slices[4].add(admit(
            small_writers,
            &sequence,
            Payments::Identical,
            None,
            SLICE,
        ));
    }
    figures.clients_pool0 = slices[0].per_second();
    figures.one_client_pool0 = slices[1].per_second();
    figures.clients_big = slices[2].per_second();
    figures.one_client_big = slices[3].per_second();
    figures.clients_identical = slices[4].per_second();
    figures.errors = slices.iter().map(|slice| slice.refused).sum();
    latencies.sort_by(f64::total_cmp);
    figures.chain_median_ms = latencies[latencies.len() / 2];
    figures.chain_max_ms = *latencies.last().unwrap();
    drop(small_clients);
    drop(small);

    fill_pool(&mut big_clients, &sequence, LOAD_POOL);
    let (_, pool) = big_clients[0].get("/pool").expect("pool");
    figures.loaded = pool["pool_length"].as_u64().unwrap();
    drop(big_clients);
    drop(big); // kill -9
    let started = Instant::now();
    let big = start_node(&big_dir);
    figures.load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (_, pool) = Connection::open(big.port)
        .and_then(|mut c| c.get("/pool"))
        .expect("pool after restart");
    assert_eq!(
        pool["pool_length"].as_u64(),
        Some(figures.loaded),
        "the restarted node has the pool"
    );
    drop(big);
    let _ = fs::remove_dir_all(dir);
    figures
}

/// Payments answered 201 and refused over some time.
#[derive(Clone, Copy, Debug, Default)]
struct Rate {
    accepted: u64,
    refused: u64,
    seconds: f64,
}

impl Rate {
    fn add(&mut self, other: Rate) {
        self.accepted += other.accepted;
        self.refused += other.refused;
        self.seconds += other.seconds;
    }

    fn per_second(&self) -> f64 {
        self.accepted as f64 / self.seconds
    }
}

/// Opens `count` keep-alive connections one after another, each answering a first request
/// before the next is opened. (tiny_http hands a burst of simultaneous new connections to
/// its thread pool racily: one may wait until another connection closes. Connection
/// set-up is not what this benchmark measures.)
fn connections(port: u16, count: usize) -> Vec<Connection> {
    (0..count)
        .map(|_| {
            let mut connection = Connection::open(port).expect("connect");
            let (status, _) = connection
                .request("GET", "/inv?limit=1", None)
                .expect("warm up");
            assert_eq!(status, 200);
            connection
        })
        .collect()
}

/// What the clients of a measurement post.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Payments {
    /// A payment to a new recipient each time.
    Distinct,
    /// `{"sender": "alice", "recipient": "bob", "amount": 1}` every time: the node must
    /// find each a fresh timestamp.
    Identical,
}

/// Admits payments on `clients` for `duration`; returns what was accepted and refused.
/// With `watch`, one more connection reads `GET /chain` meanwhile and records each
/// call's time in ms.
fn admit(
    clients: &mut [Connection],
    sequence: &AtomicU64,
    payments: Payments,
    watch: Option<(&mut Connection, &mut Vec<f64>)>,
    duration: Duration,
) -> Rate {
    let stop = AtomicBool::new(false);
    let accepted = AtomicU64::new(0);
    let refused = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for connection in clients.iter_mut() {
            let (stop, accepted, refused) = (&stop, &accepted, &refused);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let recipient = match payments {
                        Payments::Distinct => {
                            format!("r{}", sequence.fetch_add(1, Ordering::Relaxed))
                        }
                        Payments::Identical => "bob".to_string(),
                    };
                    let body = json!({"sender": "alice", "recipient": recipient, "amount": 1});
                    match connection.post("/transactions/new", &body) {
                        Ok((201, _)) => accepted.fetch_add(1, Ordering::Relaxed),
                        Ok((status, answer)) => {
                            eprintln!("{status}: {answer}");
                            refused.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(error) => panic!("no answer: {error}"),
                    };
                }
            });
        }
        if let Some((connection, latencies)) = watch {
            let stop = &stop;
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let asked = Instant::now();
                    let (status, _) = connection.request("GET", "/chain", None).expect("chain");
                    assert_eq!(status, 200);
                    latencies.push(asked.elapsed().as_secs_f64() * 1000.0);
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
        }
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
    });
    Rate {
        accepted: accepted.load(Ordering::Relaxed),
        refused: refused.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Admits payments on all `clients` until the pool holds `target`.
fn fill_pool(clients: &mut [Connection], sequence: &AtomicU64, target: u64) {
    loop {
        let (_, pool) = clients[0]
            .request("GET", "/inv?limit=0", None)
            .expect("inv");
        let pool: serde_json::Value = serde_json::from_slice(&pool).unwrap();
        let pending = pool["values"].as_array().map_or(0, |v| v.len()) as u64;
        if pending >= target {
            return;
        }
        let per_client = (target - pending).div_ceil(clients.len() as u64);
        std::thread::scope(|scope| {
            for connection in clients.iter_mut() {
                scope.spawn(move || {
                    for _ in 0..per_client {
                        let n = sequence.fetch_add(1, Ordering::Relaxed);
                        let body =
                            json!({"sender": "alice", "recipient": format!("r{n}"), "amount": 1});
                        let (status, answer) =
                            connection.post("/transactions/new", &body).expect("answer");
                        assert_eq!(status, 201, "{answer}");
                    }
                });
            }
        });
    }
}

/// Bare write+fsync of 256 bytes into one file, per second.
fn fsync_rate(dir: &Path) -> f64 {
    let path = dir.join("fsync-probe");
    let mut file = File::create(&path).expect("create the probe");
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        file.write_all(&[b'x'; 256]).unwrap();
        file.sync_all().unwrap();
        count += 1;
    }
    let _ = fs::remove_file(&path);
    count as f64 / started.elapsed().as_secs_f64()
}

/// What one group commit costs the disk: a new file written and fsync'd, renamed into
/// place, and the directory fsync'd.
fn new_file_rate(dir: &Path) -> f64 {
    let started = Instant::now();
    let mut count = 0u64;
    let directory = File::open(dir).unwrap();
    while started.elapsed() < Duration::from_secs(1) {
        let side = dir.join("probe.new");
        let mut file = File::create(&side).unwrap();
        file.write_all(&[b'x'; 2048]).unwrap();
        file.sync_all().unwrap();
        fs::rename(&side, dir.join(format!("probe-{count}"))).unwrap();
        directory.sync_all().unwrap();
        count += 1;
    }
    for n in 0..count {
        let _ = fs::remove_file(dir.join(format!("probe-{n}")));
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// A bench node: rich miner, a pool cap far above what the bench admits, and idle
/// keep-alive connections kept while other clients fill the pool.
fn start_node(dir: &Path) -> BenchNode {
    BenchNode::start(
        dir,
        &[
            "--request-timeout-ms",
            "600000",
            "--difficulty",
            "8",
            "--miner",
            "alice",
            "--reward",
            "1000000000000",
            "--pool-max",
            "1000000",
        ],
    )
}
