//! Merkle branches (SPEC §3, §5b): the hashes that lead from one transaction's leaf hash
//! up to a block's merkle root, built by a node and checked by a light client that holds
//! only the header. A level's odd last hash pairs with itself, so its sibling is itself.
//!
//! **Invariant:** no I/O.

use crate::core::hash::{MerkleNode, MerkleRoot, sha256};
use serde::{Deserialize, Serialize};

/// Which side of the pair the sibling `hash` of a [`Step`] stands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// `SHA-256(hash ‖ current)`: the sibling is the left one.
    Left,
    /// `SHA-256(current ‖ hash)`: the sibling is the right one (or the hash itself, when it
    /// is a level's odd last one).
    Right,
}

/// One level of a branch: the sibling hash and its side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The sibling's hash at this level.
    pub hash: MerkleNode,
    /// The side the sibling is on.
    pub side: Side,
}

/// `SHA-256(left ‖ right)`: how two hashes of one level make the one above.
pub fn pair_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut joined = [0u8; 64];
    joined[..32].copy_from_slice(left);
    joined[32..].copy_from_slice(right);
    sha256(&joined)
}

/// The branch from the leaf at `position` of `leaves` (a block's leaf hashes in block
/// order) up to their root; `None` when `position` is past the end. One leaf: no steps.
pub fn branch(leaves: &[[u8; 32]], position: usize) -> Option<Vec<Step>> {
    if position >= leaves.len() {
        return None;
    }
    let mut steps = Vec::new();
    let mut level = leaves.to_vec();
    let mut at = position;
    while level.len() > 1 {
        let step = if at.is_multiple_of(2) {
            let sibling = level.get(at + 1).copied().unwrap_or(level[at]);
            Step {
                hash: MerkleNode(sibling),
                side: Side::Right,
            }
        } else {
            Step {
                hash: MerkleNode(level[at - 1]),
                side: Side::Left,
            }
        };
        steps.push(step);
        level = level
            .chunks(2)
            .map(|pair| pair_hash(&pair[0], pair.get(1).unwrap_or(&pair[0])))
            .collect();
        at /= 2;
    }
    Some(steps)
}

/// The root a branch climbs to from `leaf`.
pub fn root_of(leaf: &MerkleNode, branch: &[Step]) -> MerkleRoot {
    let top = branch.iter().fold(leaf.0, |current, step| match step.side {
        Side::Left => pair_hash(&step.hash.0, &current),
        Side::Right => pair_hash(&current, &step.hash.0),
    });
    MerkleRoot(top)
}

/// Whether `branch` leads from `leaf` to `root`: what a light client checks against a
/// header it trusts (SPEC §5b).
pub fn reaches(leaf: &MerkleNode, branch: &[Step], root: &MerkleRoot) -> bool {
    root_of(leaf, branch) == *root
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::merkle_root;
    use crate::core::hash::TxId;

    fn leaves(count: usize) -> Vec<[u8; 32]> {
        (0..count).map(|i| sha256(&i.to_le_bytes())).collect()
    }

    #[test]
    fn every_position_of_blocks_of_many_sizes_reaches_the_root() {
        for count in [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 2000] {
            let leaves = leaves(count);
            let ids: Vec<TxId> = leaves.iter().map(|leaf| TxId(*leaf)).collect();
            let root = merkle_root(&ids);
            for position in 0..count {
                let steps = branch(&leaves, position).unwrap();
                let leaf = MerkleNode(leaves[position]);
                assert!(reaches(&leaf, &steps, &root), "{position} of {count}");
            }
            assert_eq!(branch(&leaves, count), None);
        }
    }

    #[test]
    fn one_leaf_has_an_empty_branch_and_an_odd_last_leaf_pairs_with_itself() {
        let one = leaves(1);
        assert_eq!(branch(&one, 0).unwrap(), vec![]);
        let three = leaves(3);
        let steps = branch(&three, 2).unwrap();
        assert_eq!(steps[0].hash.0, three[2]);
        assert_eq!(steps[0].side, Side::Right);
        assert_eq!(steps[1].side, Side::Left);
    }

    #[test]
    fn a_changed_step_or_side_misses_the_root() {
        let leaves = leaves(7);
        let ids: Vec<TxId> = leaves.iter().map(|leaf| TxId(*leaf)).collect();
        let root = merkle_root(&ids);
        let steps = branch(&leaves, 3).unwrap();
        let leaf = MerkleNode(leaves[3]);
        let mut flipped = steps.clone();
        flipped[1].side = Side::Right;
        assert!(!reaches(&leaf, &flipped, &root));
        let mut changed = steps.clone();
        changed[2].hash.0[0] ^= 1;
        assert!(!reaches(&leaf, &changed, &root));
        assert!(!reaches(&MerkleNode(leaves[4]), &steps, &root));
    }

    #[test]
    fn sides_serialise_as_spec_names_them() {
        let step = Step {
            hash: MerkleNode([0; 32]),
            side: Side::Left,
        };
        let text = serde_json::to_string(&step).unwrap();
        assert!(text.ends_with(r#""side":"left"}"#), "{text}");
    }
}
