//! # minichain — a proof-of-work blockchain node for teaching
//!
//! Each process is a node: it keeps its own chain, transaction pool and peers in its own
//! data directory, answers JSON over HTTP, mines blocks within the `/mine` request, and
//! agrees with its peers on the longest valid chain through a getblocks/inv exchange.
//! `../shared/SPEC.md` (the contract) defines every byte; this page maps the code.
//!
//! ## Layout
//!
//! | module | job |
//! |---|---|
//! | [`hash`] | `BlockHash`, `TxId`, `MerkleRoot` newtypes; hex; SHA-256 |
//! | [`block`] | `Transaction`, `Header`, `Block`: canonical bytes, ids, merkle root, genesis |
//! | [`pow`] | difficulty test; the midstate, multi-threaded nonce search |
//! | [`ledger`] | balances and ids at the tip; `Changes` layered on top for what-if checks |
//! | [`chain`] | validity rules, append, locator, fork point, branch check and switch |
//! | [`pool`] | pending transactions, admitted in arrival order |
//! | [`store`] | pickledb files: block segments, pool, peers, journal, directory lock |
//! | [`peers`] | HTTP calls to other nodes with time limits and size caps |
//! | [`sync`] | `/nodes/resolve` and `/getblocks`: locator, inv, paged fetch, adopt |
//! | [`node`] | the `Node` handle: the mutex, and the operations that change state |
//! | [`api`] | routes: parse requests, call `Node`, answer JSON with the right status |
//! | [`address`] | peer addresses normalised to `http://host:port` |
//! | [`config`] | command-line flags |
//! | [`server`] | start-up: bind, open the data directory, serve |
//!
//! ## Architecture invariants
//!
//! - `hash`, `block`, `pow`, `ledger`, `chain`, `pool`: **no I/O** — no HTTP, no disk, no
//!   clock. Callers pass `now`, so every consensus rule is a fast unit test.
//! - `store` is the only module that imports pickledb; `peers` the only one that imports
//!   attohttpc; `api` the only one that imports rouille.
//! - A hash is always computed, never trusted: a block's `hash`, `merkle_root` and every
//!   transaction `id` received from anyone is recomputed and compared.
//! - The chain mutex (in `node`) is held only to read or to commit. Nonce search and peer
//!   calls run unlocked on a snapshot; a commit re-checks that the tip did not move.
//! - Every change is written and fsync'd by `store` before the request is answered; a
//!   chain switch goes through a journal so a crash leaves the old chain or the new one.
//! - Validating a block costs O(its transactions): the ledger keeps balances and ids at
//!   the tip, and a branch is checked with the balances rolled back from the tip to the
//!   fork (`ledger::Changes`), never replayed from genesis.

pub mod address;
pub mod api;
pub mod block;
pub mod chain;
pub mod config;
pub mod hash;
pub mod ledger;
pub mod node;
pub mod peers;
pub mod pool;
pub mod pow;
pub mod server;
pub mod store;
pub mod sync;
