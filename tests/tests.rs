//! Integration tests: each test starts real `minichain` processes (see `util::TestNode`)
//! and drives them over HTTP exactly as a user or another node would.
//!
//! One target with modules, so the helpers compile once (`cargo test --test tests`).

mod util;

/// Single-node routes of SPEC §5 and §9, the command line of §2, the hashing of §3.
mod api;
/// Issue 7: stalled and oversized requests, Allow/HEAD/OPTIONS, huge numbers, duplicate keys,
/// a cancelled /mine.
mod hardening;
/// SPEC §7-8: kill -9, restart, locks, damaged files, concurrent clients.
mod persistence;
/// Multi-node tests: joining, /getblocks, /nodes/resolve, lying and failing peers (SPEC §6).
mod sync;
/// Fake peers and forged chains for `sync`.
mod sync_util;
