//! Talking to other nodes: peer addresses, the HTTP client with its limits, the wire
//! types, the getblocks/inv consensus (SPEC §6), and the live network of §6a (relay,
//! announcements, background sync, peer exchange, peer health).

pub mod address;
pub mod announce;
pub mod flight;
pub mod heal;
pub mod join;
pub mod outbox;
pub mod peer_book;
pub mod peers;
pub mod protocol;
pub mod relay;
pub mod relay_peers;
pub mod sync;
pub mod txrelay;
