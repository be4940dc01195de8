//! Wallets: who may spend from a key address (SPEC §3a).
//!
//! | file | job |
//! |---|---|
//! | `cli` | `minichain wallet new|address|sign|send`: a key that no node holds |

pub mod cli;
