//! Wallets: who may spend from a key address (SPEC §3a). Keys are made and used with
//! [`crate::crypto`]; what they record is kept through [`crate::store::keyfile`].
//!
//! | file | job |
//! |---|---|
//! | `keys` | making a key, and rebuilding one from its record (its address recomputed) |
//! | `node_wallet` | the node's own key (`wallet.db`): signs when `sender` is left out, rotates |
//! | (`crate::wallet_cli`) | `minichain wallet …`, a program beside `main.rs`: a key that no node holds |

pub mod keys;
pub mod node_wallet;
