//! LMS, the Merkle tree of one-time keys (RFC 8554 §5): public keys, verification by
//! Algorithm 6, and — for the wallet — key generation and signing with the tree cached.

use crate::crypto::lmots;
use crate::crypto::params::{LmsType, N, OtsType, lms_signature_len};
use sha2::{Digest, Sha256};
use std::fmt;

/// Domain separator of a leaf hash (RFC 8554 §5.3).
pub const D_LEAF: u16 = 0x8282;
/// Domain separator of an interior node hash (RFC 8554 §5.3).
pub const D_INTR: u16 = 0x8383;

/// An LMS public key: `u32 LMS type ‖ u32 LM-OTS type ‖ I ‖ T[1]` (RFC 8554 §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicKey {
    /// The tree's parameter set.
    pub lms: LmsType,
    /// The parameter set of every leaf's one-time key.
    pub ots: OtsType,
    /// The key identifier `I`, mixed into every hash so keys never share work.
    pub identifier: [u8; 16],
    /// The tree's root `T[1]`.
    pub root: [u8; 32],
}

/// Why bytes are not a public key, or why a signature does not verify under one.
/// Each variant names the RFC 8554 check that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The public key is not exactly 56 bytes.
    KeyLength { got: usize },
    /// The key's LMS typecode is not 5–9.
    UnknownLmsType { typecode: u32 },
    /// The key's LM-OTS typecode is not 1–4.
    UnknownOtsType { typecode: u32 },
    /// The signature is too short to hold even its typecodes.
    SignatureTooShort { got: usize },
    /// The signature's LM-OTS typecode is not the key's.
    OtsTypeMismatch { key: u32, signature: u32 },
    /// The signature's LMS typecode is not the key's.
    LmsTypeMismatch { key: u32, signature: u32 },
    /// The leaf number `q` is beyond the tree.
    LeafOutOfRange { q: u32, leaves: u64 },
    /// The signature's length is not the one its types require.
    SignatureLength { expected: usize, got: usize },
    /// Everything is well formed, but the signature leads to another root.
    WrongRoot,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::KeyLength { got } => {
                write!(f, "an LMS public key is 56 bytes, got {got}")
            }
            VerifyError::UnknownLmsType { typecode } => write!(
                f,
                "LMS typecode {typecode} is not supported (5-9: LMS_SHA256_M32_H5..H25)"
            ),
            VerifyError::UnknownOtsType { typecode } => write!(
                f,
                "LM-OTS typecode {typecode} is not supported (1-4: LMOTS_SHA256_N32_W1..W8)"
            ),
            VerifyError::SignatureTooShort { got } => {
                write!(f, "signature is only {got} bytes long")
            }
            VerifyError::OtsTypeMismatch { key, signature } => write!(
                f,
                "signature uses LM-OTS typecode {signature} but the key uses {key}"
            ),
            VerifyError::LmsTypeMismatch { key, signature } => write!(
                f,
                "signature uses LMS typecode {signature} but the key uses {key}"
            ),
            VerifyError::LeafOutOfRange { q, leaves } => {
                write!(f, "leaf {q} does not exist in a tree of {leaves} leaves")
            }
            VerifyError::SignatureLength { expected, got } => write!(
                f,
                "signature is {got} bytes but its types require {expected}"
            ),
            VerifyError::WrongRoot => write!(
                f,
                "signature does not verify: it was not made by this key over this message"
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

impl PublicKey {
    /// Length of the encoded key: 4 + 4 + 16 + 32.
    pub const SIZE: usize = 56;

    /// Parses `u32 type ‖ u32 otstype ‖ I ‖ T[1]` with strict length and typecode checks.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, VerifyError> {
        if bytes.len() != Self::SIZE {
            return Err(VerifyError::KeyLength { got: bytes.len() });
        }
        let lms_code = read_u32(bytes, 0);
        let lms = LmsType::from_typecode(lms_code)
            .ok_or(VerifyError::UnknownLmsType { typecode: lms_code })?;
        let ots_code = read_u32(bytes, 4);
        let ots = OtsType::from_typecode(ots_code)
            .ok_or(VerifyError::UnknownOtsType { typecode: ots_code })?;
        Ok(PublicKey {
            lms,
            ots,
            identifier: bytes[8..24].try_into().expect("16 bytes"),
            root: bytes[24..56].try_into().expect("32 bytes"),
        })
    }

    /// The encoded key, as it appears (in hex) in a key address.
    pub fn to_bytes(&self) -> [u8; PublicKey::SIZE] {
        let mut bytes = [0u8; Self::SIZE];
        bytes[0..4].copy_from_slice(&self.lms.typecode().to_be_bytes());
        bytes[4..8].copy_from_slice(&self.ots.typecode().to_be_bytes());
        bytes[8..24].copy_from_slice(&self.identifier);
        bytes[24..56].copy_from_slice(&self.root);
        bytes
    }

    /// Verifies an LMS signature over `message` (RFC 8554 Algorithm 6 with 6a and 4b).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        let parts = parse_signature(self, signature)?;
        let candidate = lmots::candidate_public_key(
            self.ots,
            &self.identifier,
            parts.q,
            parts.ots_signature,
            message,
        );
        let height = self.lms.height();
        let mut node = (1u32 << height) + parts.q;
        let mut value = leaf_hash(&self.identifier, node, &candidate);
        for sibling in parts.path.chunks_exact(N) {
            let sibling: &[u8; 32] = sibling.try_into().expect("chunks of 32 bytes");
            value = if node % 2 == 1 {
                interior_hash(&self.identifier, node / 2, sibling, &value)
            } else {
                interior_hash(&self.identifier, node / 2, &value, sibling)
            };
            node /= 2;
        }
        if value == self.root {
            Ok(())
        } else {
            Err(VerifyError::WrongRoot)
        }
    }
}

/// The leaf `q` a signature claims (its first 4 bytes), without verifying anything.
pub fn signature_leaf(signature: &[u8]) -> Option<u32> {
    (signature.len() >= 4).then(|| read_u32(signature, 0))
}

/// A signature split along RFC 8554 Algorithm 6a, every length and typecode checked.
struct SignatureParts<'a> {
    q: u32,
    ots_signature: &'a [u8],
    path: &'a [u8],
}

fn parse_signature<'a>(
    key: &PublicKey,
    signature: &'a [u8],
) -> Result<SignatureParts<'a>, VerifyError> {
    if signature.len() < 8 {
        return Err(VerifyError::SignatureTooShort {
            got: signature.len(),
        });
    }
    let q = read_u32(signature, 0);
    let ots_code = read_u32(signature, 4);
    if ots_code != key.ots.typecode() {
        return Err(VerifyError::OtsTypeMismatch {
            key: key.ots.typecode(),
            signature: ots_code,
        });
    }
    let ots_end = 4 + key.ots.signature_len();
    if signature.len() < ots_end + 4 {
        return Err(VerifyError::SignatureTooShort {
            got: signature.len(),
        });
    }
    let lms_code = read_u32(signature, ots_end);
    if lms_code != key.lms.typecode() {
        return Err(VerifyError::LmsTypeMismatch {
            key: key.lms.typecode(),
            signature: lms_code,
        });
    }
    if u64::from(q) >= key.lms.leaves() {
        return Err(VerifyError::LeafOutOfRange {
            q,
            leaves: key.lms.leaves(),
        });
    }
    let expected = lms_signature_len(key.lms, key.ots);
    if signature.len() != expected {
        return Err(VerifyError::SignatureLength {
            expected,
            got: signature.len(),
        });
    }
    Ok(SignatureParts {
        q,
        ots_signature: &signature[4..ots_end],
        path: &signature[ots_end + 4..],
    })
}

/// A private key under the wallet derivation of SPEC §3a: `(types, I, SEED)` plus the whole
/// Merkle tree, computed once so that signing costs one LM-OTS signature and a path copy.
#[derive(Clone)]
pub struct PrivateKey {
    public: PublicKey,
    seed: [u8; 32],
    /// `T[r]` for r in 1 .. 2^(h+1), at index r (index 0 unused).
    tree: Vec<[u8; 32]>,
}

/// Why a private key cannot sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignError {
    /// The leaf is beyond the tree: every one-time key is used.
    LeafOutOfRange { q: u32, leaves: u64 },
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::LeafOutOfRange { q, leaves } => {
                write!(f, "leaf {q} does not exist in a tree of {leaves} leaves")
            }
        }
    }
}

impl std::error::Error for SignError {}

impl PrivateKey {
    /// Derives every leaf's one-time public key and the tree above them (RFC 8554 §5.2),
    /// spread over the machine's cores. Costs 2^h × p × 2^w compressions: about a second
    /// per 2^15 leaves at W4 on a core with SHA extensions.
    pub fn generate(
        lms: LmsType,
        ots: OtsType,
        identifier: [u8; 16],
        seed: [u8; 32],
    ) -> PrivateKey {
        let leaves = lms.leaves() as usize;
        let mut tree = vec![[0u8; 32]; 2 * leaves];
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(leaves);
        let per_thread = leaves.div_ceil(threads);
        std::thread::scope(|scope| {
            for (chunk_index, chunk) in tree[leaves..].chunks_mut(per_thread).enumerate() {
                scope.spawn(move || {
                    for (offset, slot) in chunk.iter_mut().enumerate() {
                        let q = (chunk_index * per_thread + offset) as u32;
                        let k = lmots::leaf_public_key(ots, &identifier, &seed, q);
                        *slot = leaf_hash(&identifier, leaves as u32 + q, &k);
                    }
                });
            }
        });
        for r in (1..leaves).rev() {
            tree[r] = interior_hash(&identifier, r as u32, &tree[2 * r], &tree[2 * r + 1]);
        }
        PrivateKey {
            public: PublicKey {
                lms,
                ots,
                identifier,
                root: tree[1],
            },
            seed,
            tree,
        }
    }

    /// The public key this private key signs for.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The secret seed: with the types and `I`, it is the whole private key.
    pub fn seed(&self) -> [u8; 32] {
        self.seed
    }

    /// Signs `message` with leaf `q` (RFC 8554 Algorithm 3 and §5.4.1). The caller must
    /// never sign twice with one leaf: that is what lets anyone forge with it.
    pub fn sign(&self, q: u32, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let lms = self.public.lms;
        if u64::from(q) >= lms.leaves() {
            return Err(SignError::LeafOutOfRange {
                q,
                leaves: lms.leaves(),
            });
        }
        let ots = self.public.ots;
        let mut signature = Vec::with_capacity(lms_signature_len(lms, ots));
        signature.extend_from_slice(&q.to_be_bytes());
        signature.extend_from_slice(&lmots::sign(
            ots,
            &self.public.identifier,
            &self.seed,
            q,
            message,
        ));
        signature.extend_from_slice(&lms.typecode().to_be_bytes());
        let mut node = (1u32 << lms.height()) + q;
        while node > 1 {
            signature.extend_from_slice(&self.tree[(node ^ 1) as usize]);
            node /= 2;
        }
        Ok(signature)
    }
}

impl fmt::Debug for PrivateKey {
    /// Never prints the seed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// `H(I ‖ u32 r ‖ u16 D_LEAF ‖ K)`: tree node r over a leaf's one-time public key.
fn leaf_hash(identifier: &[u8; 16], r: u32, ots_public_key: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(identifier)
        .chain_update(r.to_be_bytes())
        .chain_update(D_LEAF.to_be_bytes())
        .chain_update(ots_public_key)
        .finalize()
        .into()
}

/// `H(I ‖ u32 r ‖ u16 D_INTR ‖ left ‖ right)`: interior tree node r.
fn interior_hash(identifier: &[u8; 16], r: u32, left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(identifier)
        .chain_update(r.to_be_bytes())
        .chain_update(D_INTR.to_be_bytes())
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}
