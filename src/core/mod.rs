//! The pure core: hashes, blocks, proof of work, the ledger, the chain rules and the pool.
//!
//! **Invariant:** nothing under `core` does I/O — no HTTP, no disk, no clock. Callers pass
//! `now`, so every consensus rule is a fast unit test.

pub mod block;
pub mod chain;
pub mod hash;
pub mod index;
pub mod ledger;
pub mod merkle;
pub mod pool;
pub mod pow;
pub mod signature_rule;
pub mod signed;
