//! Talking to other nodes: peer addresses, the HTTP client with its limits, the wire
//! types, and the getblocks/inv consensus (SPEC §6).

pub mod address;
pub mod peers;
pub mod protocol;
pub mod sync;
