//! Wallets: who may spend from a key address (SPEC §3a). Keys are made and used with
//! [`crate::crypto`]; what they record is kept through [`crate::store::keyfile`].
//!
//! | file | job |
//! |---|---|
//! | `node_wallet` | the node's own key (`wallet.db`): signs when `sender` is left out, rotates |
//! | (`crate::wallet_cli`) | `minichain wallet …`, a program beside `main.rs`: a key that no node holds |

pub mod node_wallet;

use std::io::Read;

/// Fresh `I` (16 bytes) and `SEED` (32 bytes) for a new key, from `/dev/urandom`.
pub fn random_key_material() -> std::io::Result<([u8; 16], [u8; 32])> {
    let mut random = [0u8; 48];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let identifier = random[..16].try_into().expect("16 bytes");
    let seed = random[16..].try_into().expect("32 bytes");
    Ok((identifier, seed))
}
