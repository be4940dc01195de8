//! Integration tests: each test starts real `minichain` processes (see `util::TestNode`)
//! and drives them over HTTP exactly as a user or another node would.
//!
//! One target with modules, so the helpers compile once (`cargo test --test tests`).

mod util;

/// What the benchmarks share (a counting proxy), shared with the tests that count bytes.
#[path = "benches/support.rs"]
mod support;

/// Linux network namespaces on one bridge: nodes on different "machines" (for `classroom`).
mod netns;

/// Issue 9: the command-line wallet against a real node.
mod wallet_cli;

/// Issue 9: forgeries refused at the edge and in peers' chains; the node wallet.
mod signatures;

/// Single-node routes of SPEC §5 and §9, the command line of §2, the hashing of §3.
mod api;
/// SPEC §6c across real network stacks: a teacher, students and a classmate on one link.
mod classroom;
/// What the docs rely on: src/SPEC.md matches ../shared/, the refusal messages they quote.
mod docs;
/// SPEC §6c: connections per client address, the loopback reserve, the body budget.
mod front_limits;
/// Issue 7: stalled and oversized requests, Allow/HEAD/OPTIONS, huge numbers, duplicate keys,
/// a cancelled /mine.
mod hardening;
/// Issue 8: group commit under kill -9, a failing write, a large pool, the pool cap.
mod ingest;
/// Issue 21 (SPEC §5b): `minichain wallet verify` beside honest and lying nodes.
mod light_client;
/// Issue 16: what a node logs at the default level; orphaned blocks.
mod logs;
/// Issue 14 (SPEC §5a): owner actions, the token, cross-site requests, one port.
mod owner;
/// The explorer page at `/`, its assets, and JSON for everyone else (issue 11).
mod page;
/// SPEC §7-8: kill -9, restart, locks, damaged files, concurrent clients.
mod persistence;
/// Issue 21 (SPEC §5b): payment look-ups, merkle proofs, headers, history, the indexes.
mod proofs;
/// SPEC §6a: the live network (relay, sync at start, peer exchange, expiry, /nodes).
mod relay;
/// Issue 15 (SPEC §6b): relay at scale, /getdata, compact pages, the block size limit.
mod relay_scale;
/// Multi-node tests: joining, /getblocks, /nodes/resolve, lying and failing peers (SPEC §6).
mod sync;
/// Fake peers and forged chains for `sync`.
mod sync_util;
