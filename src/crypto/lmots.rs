//! LM-OTS, the one-time signature under each LMS leaf (RFC 8554 §4), and the one-block
//! SHA-256 step everything hot is built on.
//!
//! A chain step hashes `I ‖ u32 q ‖ u16 i ‖ u8 j ‖ tmp`: 55 bytes, which with SHA-256's
//! padding fill exactly one 64-byte block. So the block is laid out once per chain and each
//! step costs one raw compression (`compress256`) — the wallet derivation of `x_q[i]`
//! (`j = 0xff`, `tmp = SEED`) and of `C` (`i = 0xfffd`) has the same shape.

use crate::crypto::params::{N, OtsType};
use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

/// Domain separator of the LM-OTS public key hash (RFC 8554 §4.3).
pub const D_PBLC: u16 = 0x8080;
/// Domain separator of the message hash (RFC 8554 §4.5).
pub const D_MESG: u16 = 0x8181;
/// The `i` value under which the wallet derives a leaf's randomizer `C` (RFC 8554 App. A).
pub const D_RANDOMIZER: u16 = 0xfffd;

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const SHA256_INITIAL_STATE: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// A padded one-block SHA-256 input `I ‖ u32 q ‖ u16 i ‖ u8 j ‖ 32 bytes`, rewritten in place.
struct StepBlock([u8; 64]);

impl StepBlock {
    /// Offset of `j` and of the 32-byte value.
    const J: usize = 22;
    const VALUE: usize = 23;

    fn new(identifier: &[u8; 16], q: u32, i: u16) -> StepBlock {
        let mut block = [0u8; 64];
        block[..16].copy_from_slice(identifier);
        block[16..20].copy_from_slice(&q.to_be_bytes());
        block[20..22].copy_from_slice(&i.to_be_bytes());
        block[55] = 0x80;
        block[56..].copy_from_slice(&(55u64 * 8).to_be_bytes());
        StepBlock(block)
    }

    /// SHA-256 of the block with this `j` and value: exactly one compression.
    #[inline(always)]
    fn hash(&mut self, j: u8, value: &[u8; 32]) -> [u8; 32] {
        self.0[Self::J] = j;
        self.0[Self::VALUE..Self::VALUE + 32].copy_from_slice(value);
        let mut state = SHA256_INITIAL_STATE;
        compress256(&mut state, std::slice::from_ref(&self.0));
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// The wallet's pseudorandom private value `SHA-256(I ‖ u32 q ‖ u16 i ‖ u8 0xff ‖ SEED)`
/// (RFC 8554 Appendix A; `i = 0xfffd` gives the randomizer `C` of leaf `q`).
pub fn derive(identifier: &[u8; 16], q: u32, i: u16, seed: &[u8; 32]) -> [u8; 32] {
    StepBlock::new(identifier, q, i).hash(0xff, seed)
}

/// Digit `i` of `bytes` read as base-2^w digits, most significant first (RFC 8554 §3.1.3).
pub fn coef(bytes: &[u8], i: usize, w: u32) -> u32 {
    let w = w as usize;
    let per_byte = 8 / w;
    let byte = bytes[i * w / 8] as usize;
    let shift = 8 - (w * (i % per_byte) + w);
    (((1 << w) - 1) & (byte >> shift)) as u32
}

/// The p digits a signature's chains are advanced to: the message hash's digits then its
/// checksum's (RFC 8554 §4.4 `Cksm`, shifted left by `ls`).
pub fn digits(ots: OtsType, q_hash: &[u8; 32]) -> Vec<u32> {
    let w = ots.w();
    let message_digits = N * 8 / w as usize;
    let sum: u32 = (0..message_digits)
        .map(|i| ots.max_digit() - coef(q_hash, i, w))
        .sum();
    let checksum = ((sum << ots.ls()) as u16).to_be_bytes();
    let mut with_checksum = [0u8; N + 2];
    with_checksum[..N].copy_from_slice(q_hash);
    with_checksum[N..].copy_from_slice(&checksum);
    (0..ots.p()).map(|i| coef(&with_checksum, i, w)).collect()
}

/// `Q = H(I ‖ u32 q ‖ u16 D_MESG ‖ C ‖ message)`, the hash a leaf actually signs.
pub fn message_hash(identifier: &[u8; 16], q: u32, c: &[u8; 32], message: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(identifier)
        .chain_update(q.to_be_bytes())
        .chain_update(D_MESG.to_be_bytes())
        .chain_update(c)
        .chain_update(message)
        .finalize()
        .into()
}

/// Advances chain `i` of leaf `q` from step `from` up to (not including) step `to`.
fn chain(identifier: &[u8; 16], q: u32, i: u16, start: [u8; 32], from: u32, to: u32) -> [u8; 32] {
    let mut block = StepBlock::new(identifier, q, i);
    let mut value = start;
    for j in from..to {
        value = block.hash(j as u8, &value);
    }
    value
}

/// Hashes the chain ends into a leaf's public key `K = H(I ‖ u32 q ‖ u16 D_PBLC ‖ z…)`.
fn public_key_hash(
    identifier: &[u8; 16],
    q: u32,
    ends: impl Iterator<Item = [u8; 32]>,
) -> [u8; 32] {
    let mut hasher = Sha256::new()
        .chain_update(identifier)
        .chain_update(q.to_be_bytes())
        .chain_update(D_PBLC.to_be_bytes());
    for end in ends {
        hasher.update(end);
    }
    hasher.finalize().into()
}

/// The LM-OTS public key `K` of leaf `q` under the wallet derivation (RFC 8554 §4.3):
/// every chain walked to its end, 2^w − 1 steps.
pub fn leaf_public_key(ots: OtsType, identifier: &[u8; 16], seed: &[u8; 32], q: u32) -> [u8; 32] {
    let top = ots.max_digit();
    let ends = (0..ots.p()).map(|i| {
        let x = derive(identifier, q, i as u16, seed);
        chain(identifier, q, i as u16, x, 0, top)
    });
    public_key_hash(identifier, q, ends)
}

/// The LM-OTS signature of `message` by leaf `q` (RFC 8554 Algorithm 3):
/// `u32 type ‖ C ‖ y[0..p]`, each chain advanced to the digit it encodes.
pub fn sign(
    ots: OtsType,
    identifier: &[u8; 16],
    seed: &[u8; 32],
    q: u32,
    message: &[u8],
) -> Vec<u8> {
    let c = derive(identifier, q, D_RANDOMIZER, seed);
    let digits = digits(ots, &message_hash(identifier, q, &c, message));
    let mut signature = Vec::with_capacity(ots.signature_len());
    signature.extend_from_slice(&ots.typecode().to_be_bytes());
    signature.extend_from_slice(&c);
    for (i, digit) in digits.into_iter().enumerate() {
        let x = derive(identifier, q, i as u16, seed);
        signature.extend_from_slice(&chain(identifier, q, i as u16, x, 0, digit));
    }
    signature
}

/// The public key candidate `Kc` an LM-OTS signature implies (RFC 8554 Algorithm 4b).
/// The caller has checked that `signature` is `ots.signature_len()` bytes of type `ots`.
pub fn candidate_public_key(
    ots: OtsType,
    identifier: &[u8; 16],
    q: u32,
    signature: &[u8],
    message: &[u8],
) -> [u8; 32] {
    debug_assert_eq!(signature.len(), ots.signature_len());
    let c: [u8; 32] = signature[4..4 + N].try_into().expect("32-byte C");
    let digits = digits(ots, &message_hash(identifier, q, &c, message));
    let top = ots.max_digit();
    let ends = signature[4 + N..]
        .chunks_exact(N)
        .zip(digits)
        .enumerate()
        .map(|(i, (y, digit))| {
            let y: [u8; 32] = y.try_into().expect("chunks of 32 bytes");
            chain(identifier, q, i as u16, y, digit, top)
        });
    public_key_hash(identifier, q, ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_block_step_equals_plain_sha256() {
        let identifier = [7u8; 16];
        let value = [9u8; 32];
        let mut plain = Vec::new();
        plain.extend_from_slice(&identifier);
        plain.extend_from_slice(&3u32.to_be_bytes());
        plain.extend_from_slice(&12u16.to_be_bytes());
        plain.push(0xff);
        plain.extend_from_slice(&value);
        let expected: [u8; 32] = Sha256::digest(&plain).into();
        assert_eq!(derive(&identifier, 3, 12, &value), expected);
    }

    #[test]
    fn coef_reads_digits_most_significant_first() {
        // RFC 8554 §3.1.3's example: S = 0x1234.
        let s = [0x12, 0x34];
        assert_eq!(
            (0..4).map(|i| coef(&s, i, 4)).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert_eq!(coef(&s, 0, 8), 0x12);
        assert_eq!(
            (0..8).map(|i| coef(&s, i, 2)).collect::<Vec<_>>(),
            [0, 1, 0, 2, 0, 3, 1, 0]
        );
        assert_eq!(coef(&s, 3, 1), 1);
    }

    #[test]
    fn a_signature_implies_the_leaf_public_key() {
        for ots in OtsType::ALL {
            let (identifier, seed) = ([1u8; 16], [2u8; 32]);
            let signature = sign(ots, &identifier, &seed, 4, b"hello");
            assert_eq!(signature.len(), ots.signature_len());
            let key = leaf_public_key(ots, &identifier, &seed, 4);
            assert_eq!(
                candidate_public_key(ots, &identifier, 4, &signature, b"hello"),
                key
            );
            assert_ne!(
                candidate_public_key(ots, &identifier, 4, &signature, b"hellO"),
                key
            );
        }
    }
}
