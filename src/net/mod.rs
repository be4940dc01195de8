//! Talking to other nodes: the getblocks/inv consensus (SPEC §6) and the live network of
//! §6a and §6b (relay peers, announcements, transactions by id, compact blocks,
//! background sync, peer exchange, peer health). What goes over the wire (addresses,
//! the HTTP client, the wire types) is the floor below, [`crate::wire`].

pub mod announce;
pub mod fetch;
pub mod flight;
pub mod heal;
pub mod join;
pub mod network;
pub mod outbox;
pub mod outcome;
pub mod peer_book;
pub mod relay;
pub mod relay_peers;
pub mod self_name;
pub mod sync;
pub mod txrelay;
