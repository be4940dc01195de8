//! Proof of work: the difficulty test and the multi-threaded nonce search.
//!
//! The proof is the header's last field, so the first 64 header bytes are compressed once
//! per block (the *midstate*); each nonce then costs exactly one SHA-256 compression of
//! the second, padded 64-byte block. CPU only: no clock reads beyond timing the search.

use crate::core::block::Header;
use crate::core::hash::BlockHash;
use sha2::block_api::compress256;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const SHA256_INITIAL_STATE: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// How many nonces a worker tries between looks at the "someone found it" flag.
const NONCES_PER_CHECK: u64 = 4096;

/// Counts the leading zero bits of a hash read as a 256-bit big-endian number.
pub fn leading_zero_bits(hash: &BlockHash) -> u32 {
    let mut bits = 0;
    for byte in hash.as_bytes() {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// True when `hash` has at least `difficulty` leading zero bits.
pub fn meets_difficulty(hash: &BlockHash, difficulty: u32) -> bool {
    leading_zero_bits(hash) >= difficulty
}

/// What a successful search found, with the figures `/mine` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// The nonce that makes the header's hash meet the difficulty.
    pub proof: u64,
    /// That hash.
    pub hash: BlockHash,
    /// Nonces tried by all workers together.
    pub attempts: u64,
    /// Wall time of the search.
    pub elapsed: Duration,
}

impl Found {
    /// Hashes per second over the whole search.
    pub fn hash_rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.attempts as f64 / seconds
        } else {
            self.attempts as f64
        }
    }
}

/// The per-block precomputation: the midstate after the first 64 header bytes and the
/// padded second block with the proof's 8 bytes left to fill in.
#[derive(Clone, Copy)]
pub struct NonceHasher {
    midstate: [u32; 8],
    tail: [u8; 64],
}

impl NonceHasher {
    /// Where the proof sits inside the second block.
    const PROOF_IN_TAIL: usize = Header::PROOF_OFFSET - 64;

    /// Compresses the header's first 64 bytes once and pads the rest.
    pub fn new(header: &Header) -> NonceHasher {
        let bytes = header.to_bytes();
        let mut midstate = SHA256_INITIAL_STATE;
        let mut first = [0u8; 64];
        first.copy_from_slice(&bytes[..64]);
        compress256(&mut midstate, &[first]);
        let mut tail = [0u8; 64];
        tail[..Header::SIZE - 64].copy_from_slice(&bytes[64..]);
        tail[Header::SIZE - 64] = 0x80;
        let bit_length = (Header::SIZE as u64) * 8;
        tail[56..].copy_from_slice(&bit_length.to_be_bytes());
        NonceHasher { midstate, tail }
    }

    /// The SHA-256 state (the hash as eight big-endian words) for one nonce: one compression.
    #[inline(always)]
    pub fn state_for(&self, proof: u64) -> [u32; 8] {
        let mut block = self.tail;
        block[Self::PROOF_IN_TAIL..Self::PROOF_IN_TAIL + 8].copy_from_slice(&proof.to_le_bytes());
        let mut state = self.midstate;
        compress256(&mut state, &[block]);
        state
    }

    /// The block hash for one nonce.
    pub fn hash_for(&self, proof: u64) -> BlockHash {
        let state = self.state_for(proof);
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        BlockHash(bytes)
    }
}

/// Leading-zero test on the raw state words, without building the hash bytes.
#[inline(always)]
fn state_meets(state: &[u32; 8], difficulty: u32) -> bool {
    let mut needed = difficulty;
    for word in state {
        if needed <= 32 {
            return word.leading_zeros() >= needed;
        }
        if *word != 0 {
            return false;
        }
        needed -= 32;
    }
    true
}

/// Searches for a proof for `header` (its own `proof` is ignored) with `threads` scoped
/// workers; worker `t` tries nonces `t, t + threads, t + 2·threads, …` and all stop as
/// soon as one succeeds. Returns `None` only if `cancel` is raised first.
pub fn search(header: &Header, threads: usize, cancel: &AtomicBool) -> Option<Found> {
    search_counted(header, threads, cancel).found
}

/// What one search did, found or cancelled: a caller that gives up on a stale header
/// still counts the work it cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Searched {
    /// The proof, unless `cancel` was raised first.
    pub found: Option<Found>,
    /// Nonces tried by all workers together.
    pub attempts: u64,
    /// Wall time of the search.
    pub elapsed: Duration,
}

/// [`search`], also reporting the attempts and time of a cancelled search.
pub fn search_counted(header: &Header, threads: usize, cancel: &AtomicBool) -> Searched {
    let threads = threads.max(1) as u64;
    let hasher = NonceHasher::new(header);
    let difficulty = header.difficulty;
    let started = Instant::now();
    let found = AtomicBool::new(false);
    let attempts = AtomicU64::new(0);
    let winner = std::sync::Mutex::new(None::<u64>);

    std::thread::scope(|scope| {
        for worker in 0..threads {
            let (hasher, found, attempts, winner) = (&hasher, &found, &attempts, &winner);
            scope.spawn(move || {
                let mut nonce = worker;
                let mut tried = 0u64;
                'search: loop {
                    for _ in 0..NONCES_PER_CHECK {
                        tried += 1;
                        if state_meets(&hasher.state_for(nonce), difficulty) {
                            found.store(true, Ordering::Relaxed);
                            let mut slot = winner.lock().unwrap_or_else(|e| e.into_inner());
                            slot.get_or_insert(nonce);
                            break 'search;
                        }
                        nonce = nonce.wrapping_add(threads);
                    }
                    if found.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        break;
                    }
                }
                attempts.fetch_add(tried, Ordering::Relaxed);
            });
        }
    });

    let elapsed = started.elapsed();
    let attempts = attempts.load(Ordering::Relaxed);
    let proof = winner.into_inner().unwrap_or_else(|e| e.into_inner());
    Searched {
        found: proof.map(|proof| Found {
            proof,
            hash: hasher.hash_for(proof),
            attempts,
            elapsed,
        }),
        attempts,
        elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hash::MerkleRoot;

    fn template(difficulty: u32) -> Header {
        Header {
            index: 2,
            timestamp: 1732500000000,
            previous_hash: "ab".repeat(32).parse().unwrap(),
            merkle_root: "cd".repeat(32).parse().unwrap(),
            difficulty,
            proof: 0,
        }
    }

    #[test]
    fn counts_leading_zero_bits_like_the_known_answers() {
        let genesis_20: BlockHash =
            "17cebf8602edb12c54589ead22c84f8d16b81ba2cc30a9552dec5fc6b87b305b"
                .parse()
                .unwrap();
        assert_eq!(leading_zero_bits(&genesis_20), 3);
        let other: BlockHash = "357be82fb719108328ab4b2046db981c31aa518e1385efc286e698ea451da4fa"
            .parse()
            .unwrap();
        assert_eq!(leading_zero_bits(&other), 2);
        assert_eq!(leading_zero_bits(&BlockHash::ZERO), 256);
    }

    #[test]
    fn midstate_hash_equals_the_plain_header_hash() {
        let mut header = template(8);
        let hasher = NonceHasher::new(&header);
        for proof in [0, 1, 123456789, u64::MAX] {
            header.proof = proof;
            assert_eq!(hasher.hash_for(proof), header.block_hash());
        }
    }

    #[test]
    fn state_test_agrees_with_the_byte_test() {
        let hasher = NonceHasher::new(&template(8));
        for proof in 0..2000 {
            let hash = hasher.hash_for(proof);
            for difficulty in [0, 1, 4, 8, 31, 32, 33] {
                assert_eq!(
                    state_meets(&hasher.state_for(proof), difficulty),
                    meets_difficulty(&hash, difficulty)
                );
            }
        }
    }

    #[test]
    fn search_finds_a_proof_with_one_and_many_threads() {
        for threads in [1, 3] {
            let mut header = template(10);
            header.merkle_root = MerkleRoot([threads as u8; 32]);
            let found = search(&header, threads, &AtomicBool::new(false)).unwrap();
            header.proof = found.proof;
            assert_eq!(header.block_hash(), found.hash);
            assert!(meets_difficulty(&found.hash, 10));
            assert!(found.attempts >= 1);
        }
    }

    #[test]
    fn search_stops_when_cancelled() {
        let cancel = AtomicBool::new(true);
        assert_eq!(search(&template(64), 2, &cancel), None);
    }

    #[test]
    fn a_cancelled_search_still_counts_its_attempts() {
        let cancel = AtomicBool::new(false);
        let searched = std::thread::scope(|scope| {
            let search = scope.spawn(|| search_counted(&template(64), 2, &cancel));
            std::thread::sleep(Duration::from_millis(20));
            cancel.store(true, Ordering::Relaxed);
            search.join().unwrap()
        });
        assert_eq!(searched.found, None);
        // Each thread finishes its batch before it looks at the flag, so both count.
        assert!(searched.attempts >= 2 * NONCES_PER_CHECK, "{searched:?}");
        assert_eq!(searched.attempts % NONCES_PER_CHECK, 0, "{searched:?}");
        // No bound on the time: the search may start late on a busy machine.
        assert!(searched.elapsed > Duration::ZERO);
    }
}
