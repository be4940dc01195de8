//! # minichain — a proof-of-work blockchain node for teaching
//!
//! Each process is a node: it keeps its own chain, transaction pool and peers in its own
//! data directory, answers JSON over HTTP, mines blocks within the `/mine` request, and
//! agrees with its peers on the longest valid chain through a getblocks/inv exchange.
//! `src/SPEC.md` (the contract, kept identical to the shared original by `tests/docs.rs`)
//! defines every byte; this page maps the code.
//!
//! ## Layout
//!
//! Folders are the parts; each file has one job.
//!
//! | module | job |
//! |---|---|
//! | [`core`] | the pure core, **no I/O** |
//! | [`core::hash`] | `BlockHash`, `TxId`, `MerkleRoot` newtypes; hex; SHA-256 |
//! | [`core::block`] | `Transaction`, `Header`, `Block`: canonical bytes, ids, merkle root, genesis |
//! | [`core::header_json`] | reading a block's (or compact block's) JSON: the header's fields by `Header`'s own serde, the rest as they come, nothing buffered |
//! | [`core::pow`] | difficulty test; the midstate, multi-threaded nonce search |
//! | [`core::ledger`] | balances and ids at the tip; `Changes` layered on top for what-if checks |
//! | [`core::chain`] | validity rules, append, locator, fork point, branch check and switch |
//! | [`core::index`] | the transaction and address indexes the chain keeps (SPEC §5b): look-ups without a scan |
//! | [`core::merkle`] | merkle branches: built for a proof, checked against a header's root |
//! | [`core::pool`] | pending transactions, admitted in arrival order; `Checks`: what admission still checks by origin |
//! | [`core::signed`] | key addresses, the `signature` field, the message a key signs |
//! | [`core::signature_rule`] | a transaction's leaf hash, its leaf, and whether its signature verifies |
//! | [`crypto`] | LMS / LM-OTS signatures (RFC 8554) on SHA-256: verify, generate, sign; **no I/O** |
//! | [`store`] | pickledb files: `Store` (meta, peers, append, replace); `segments`, `journal`, `durable` (the one fsync-and-rename write), `file`, `lock`, `error` |
//! | [`store::pool_log`] | the pool as a base file plus append-only log files (flat cost per admission) |
//! | [`store::keyfile`] | private (0600) pickledb files: key files and the node's `wallet.db` |
//! | [`store::header_cache`] | the light client's headers, one file per network |
//! | [`store::owner_token`] | `owner.token` (0600): made once, kept; compared in constant time |
//! | [`net`] | talking to other nodes |
//! | [`wire`] | what crosses between nodes, below `node` and `net` |
//! | [`wire::address`] | `PeerUrl` (a peer address normalised to `http://host:port`) and `NodeId`: never mixed with each other or a plain string |
//! | [`wire::error`] | `NetError`: addresses, announcements, registrations and fetches refused or failed |
//! | [`wire::client`] | HTTP calls to other nodes with time limits and size caps |
//! | [`wire::protocol`] | the messages, one serde type each, read and written by both sides: `/inv`, announcements, `/chain` pages, compact blocks, `/getdata`, payments, peer lists |
//! | [`wire::fields`] | a request message's fields read one by one, with refusals that say what to send |
//! | [`wire::lookup`] | the answers of SPEC §5b: a payment's status and proof, headers, history |
//! | [`net::sync`] | `/nodes/resolve` and `/getblocks`: locator, inv, paged fetch, adopt |
//! | [`net::fetch`] | a peer's blocks after the fork, page by page (appended a page at a time when they extend ours) |
//! | [`net::outcome`] | what asking peers gives: `Outcome`, `PeerOutcome`, the resolve report, `/getblocks` entries |
//! | [`net::network`] | the `Network` beside the node (§6a, §6b): the peer client every call to a peer goes through, peer health, outbox, relay peers, single-flight runs; the node's listener |
//! | [`net::relay`] | the live network's threads: relay workers, the id batcher, the background sync |
//! | [`net::relay_peers`] | which few peers announcements go to, and whom each sync asks (§6b) |
//! | [`net::txrelay`] | transactions by id: batched announcements, `/getdata` fetches (§6b) |
//! | [`net::outbox`] | the relay's bounded per-peer queue, and seen-sets |
//! | [`net::announce`] | `POST /inv`: sending and receiving announcements; fetching announced tips as compact blocks |
//! | [`net::heal`] | the background sync: the relay peers and one other each round, the pools' catch-up, expiry, one peer list a round |
//! | [`net::join`] | registration that asks the new peer's `/inv`; `--peer` self-registration with retries |
//! | [`net::peer_book`] | each peer's health for `GET /nodes`, backoff and expiry; the worst record to replace |
//! | [`net::self_name`] | how this node names itself to each peer (§6c): `--advertise`, or the address that peer sees; where other machines reach it |
//! | [`net::flight`] | single-flight runs and bounded parallel peer calls |
//! | [`node`] | the `Node` handle: the mutex, start-up, the listener; the locking rule |
//! | `node::error` | `NodeError` (wrapping the payment, transaction, pool, wallet, store, peer-list and net errors) and `StartError` |
//! | `node::transactions` | a client's payment and a whole transaction admitted to the pool; `PaymentError` |
//! | `node::ingest` | group commit: admitted transactions written in batches, one fsync each, off the mutex |
//! | `node::mining` | `/mine`: a block from the pool, the nonce search off the mutex, committed through `commit` |
//! | `node::owner_wallet` | the node's own key: the coinbase payee, `GET /wallet`, rotation, signing |
//! | `node::lookups` | SPEC §5b: a payment's status and proof, headers, an address's history |
//! | `node::reads` | read-only views of chain and pool: `/chain`, `/pool`, `/balances`, `/inv` |
//! | `node::peers` | registering and forgetting peers, all or nothing; learned peers; expiry |
//! | [`node::peer_table`] | the peer list with kinds (§6c): owner's and learned peers, per-source limits, the forgotten; `PeersError` |
//! | `node::commit` | the one way the chain changes: lock, flush, check, write and apply (undone if the disk refuses), rebuild the pool, notify |
//! | `node::adopt` | replacing the chain: a peer's longer branch, or the restart to genesis (through `commit`) |
//! | `node::orphans` | what a chain switch logs: the switch, and each of this node's blocks it cut away |
//! | `node::stamps` | fresh timestamps for identical payments in constant time |
//! | [`http`] | the HTTP face |
//! | [`http::guard`] | the one listening socket: deadlines and size caps, then the routes in-process (`Request::fake_http_from`) |
//! | `http::guard::respond` | writes a route's `rouille::Response` to the client (one write up to 4 MiB) |
//! | `http::guard::admission` | who gets a connection (§6c): the cap, a quarter of it per client address, 64 more for loopback |
//! | `http::guard::budget` | what request bodies being read hold in all (`--max-body-buffer-mb`, §6c); 503 past it |
//! | [`http::routes`] | routes, one file per resource: parse requests, call `Node`, answer JSON |
//! | `http::routes::capped` | lists that stop after 16 MiB of the answer (`/chain` pages, `/getdata`), serialised once |
//! | `http::routes::payment`, `headers`, `history` | the look-ups of SPEC §5b |
//! | [`http::routes::table`] | the route table: path, method, who may call it, the answering function; `Allow`, `HEAD`, `OPTIONS` |
//! | [`http::owner`] | who may command the node (§5a): the owner token, or loopback and not cross-site |
//! | [`http::brief`] | `?brief=1`: signatures and key addresses written short for a person at a terminal (a way of serialising) |
//! | [`http::payment_log`] | an admitted payment's log line; past a few a second, one summary line a second |
//! | [`http::reply`] | `ApiError` (the one place errors become status codes: the node's, the wire's, the body's, the owner's) and `Reply` |
//! | [`http::json`] | request bodies read as their message type (`from_slice::<T>`), duplicate keys refused |
//! | [`http::page`] | the explorer page (`src/http/page/`: HTML, CSS, JS) embedded and served at `/` |
//! | [`wallet`] | who may spend: key material from `/dev/urandom` |
//! | [`wallet::keys`] | making a key and rebuilding one from its record, for both wallets |
//! | [`wallet::node_wallet`] | the node's own key: signs when `sender` is left out, rotates |
//! | [`app`] | the node program's assembly: bind, open the data directory, attach the network, serve |
//! | [`light`] | `minichain wallet verify`: the header-only light client of SPEC §5b |
//! | [`light::headers`] | headers checked from genesis (link, difficulty, proof of work); locator; work |
//! | [`light::verify`] | asking nodes for headers and a proof, checking both, the header cache, the report |
//! | [`flags`] | the one command-line flag reader of the programs (`config`, `wallet_cli`, `light`) |
//! | [`clock`] | the wall clock in milliseconds, read in one place (never by `core`) |
//! | [`config`] | command-line flags |
//! | [`wallet_cli`] | `minichain wallet new|address|sign|send`: a key no node holds |
//!
//! Dependencies point one way: `crypto` ← `core` ← `store` ← `wallet` ← `wire` ← `node` ←
//! `net` ← `http` ← the programs (`app`, `config`, `wallet_cli`, `light`); `wire` (addresses, the peer client, the wire types) knows nothing of
//! `node`, and `node` knows the relay only as a `node::Listener` it is given at start.
//! `light` (the light client) stands beside the wallet CLI on `core`, `store` and `wire`
//! alone: it knows nothing of `node`, `net` or `http`, and trusts no node it asks.
//!
//! ## Architecture invariants
//!
//! - `core` (`hash`, `block`, `pow`, `ledger`, `chain`, `pool`): **no I/O** — no HTTP, no disk, no
//!   clock. Callers pass `now`, so every consensus rule is a fast unit test.
//! - `store` is the only module that imports pickledb; `wire::client` the only one that imports
//!   attohttpc; `http::routes`, `http::reply`, `http::owner` and `http::guard` the only
//!   ones that use rouille (as a library: its `Request` and `Response`, not its server).
//! - One listening port (§5a): `http::guard` owns the only socket, reads each request
//!   within its limits and hands the complete request to the routes in the same process;
//!   no second server, internal or not.
//! - Who may call what is in one place, `http::routes::table`; an owner action runs only
//!   after `http::owner` said yes. A peer is judged only by this node's own calls to it,
//!   never by what an incoming request claims (a node id, a URL).
//! - `crypto` and `core::signed` do no I/O either; the wallets write the next leaf durably
//!   (through `store::keyfile`) **before** a signature leaves them, so a crash can waste a
//!   leaf but never use one twice. Lock order in `node`: the wallet, then the chain.
//! - A hash is always computed, never trusted: a block's `hash`, `merkle_root` and every
//!   transaction `id` received from anyone is recomputed and compared.
//! - The chain mutex (in `node`) is held only to read or to commit. Nonce search and peer
//!   calls run unlocked on a snapshot; a commit re-checks that the tip did not move.
//! - Every change is written and fsync'd by `store` before the request is answered; a
//!   chain switch goes through a journal so a crash leaves the old chain or the new one.
//!   Admitted transactions are written by the group commit (`node::ingest`) without the
//!   chain mutex; a block only ever holds transactions already durable in the pool files.
//! - Admitting a transaction costs O(the transaction): one new pool log file per batch,
//!   never a rewrite of the pool (`store::pool_log`).
//! - Looking a payment up costs the same on any chain length: the chain keeps a transaction
//!   index and an address index (`core::index`) in its own append, switch and reset, so
//!   they are rebuilt with it at start and after `/restart` and never disagree with it.
//! - Validating a block costs O(its transactions): the ledger keeps balances and ids at
//!   the tip, and a branch is checked with the balances rolled back from the tip to the
//!   fork (`ledger::Changes`), never replayed from genesis.

pub mod app;
pub mod clock;
pub mod config;
pub mod core;
pub mod crypto;
pub mod flags;
pub mod http;
pub mod light;
pub mod net;
pub mod node;
pub mod store;
pub mod wallet;
pub mod wallet_cli;
pub mod wire;
