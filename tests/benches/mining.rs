//! `cargo bench --bench mining`: how close the miner gets to raw SHA-256 speed.
//!
//! Prints the raw sha2 compression rate on one core, the miner's rate with 1 thread and
//! with all threads, and their ratios (targets: 1 thread ≥ 0.9 × raw; 2 threads ≥ 1.8 ×
//! 1 thread). Figures, not a pass/fail test: shared machines are noisy.

#[path = "support.rs"]
mod support;

use minichain::core::block::Header;
use minichain::core::hash::{BlockHash, MerkleRoot};
use minichain::core::pow::search;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use support::raw_compression_rate;

/// How long each measurement runs.
const MEASURE_FOR: Duration = Duration::from_secs(2);
/// Rounds of (raw, 1 thread, all threads), interleaved; the best of each is reported, since
/// on a shared machine other load only ever slows a measurement down.
const ROUNDS: usize = 3;
/// Difficulty of the mined blocks: hard enough that thread start-up is negligible.
const DIFFICULTY: u32 = 22;

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (mut raw, mut one, mut all) = (0f64, 0f64, 0f64);
    for _ in 0..ROUNDS {
        raw = raw.max(raw_compression_rate(MEASURE_FOR));
        one = one.max(miner_rate(1));
        all = all.max(miner_rate(cores));
    }
    println!(
        "best of {ROUNDS} interleaved rounds of {} s each",
        MEASURE_FOR.as_secs()
    );
    println!("raw sha2 compress256, 1 core : {raw:>12.0} compressions/s");
    println!(
        "miner, 1 thread              : {:>12.0} hashes/s  ({:.3} x raw)",
        one,
        one / raw
    );
    println!(
        "miner, {cores} threads             : {:>12.0} hashes/s  ({:.3} x 1 thread)",
        all,
        all / one
    );
    println!(
        "targets: 1 thread >= 0.9 x raw: {}; {cores} threads >= {:.1} x 1 thread: {}",
        if one >= 0.9 * raw { "met" } else { "NOT met" },
        0.9 * cores as f64,
        if all >= 0.9 * cores as f64 * one {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// Mines blocks with `threads` workers for a while; total attempts over total time.
fn miner_rate(threads: usize) -> f64 {
    let mut attempts = 0u64;
    let mut busy = Duration::ZERO;
    let mut round = 0u8;
    while busy < MEASURE_FOR {
        round = round.wrapping_add(1);
        let header = Header {
            index: 2,
            timestamp: 1_732_500_000_000 + round as u64,
            previous_hash: BlockHash([round; 32]),
            merkle_root: MerkleRoot([threads as u8; 32]),
            difficulty: DIFFICULTY,
            proof: 0,
        };
        let found = search(&header, threads, &AtomicBool::new(false)).expect("never cancelled");
        attempts += found.attempts;
        busy += found.elapsed;
    }
    attempts as f64 / busy.as_secs_f64()
}
