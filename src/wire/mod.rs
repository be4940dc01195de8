//! The wire between nodes, below `node` and `net`: peer addresses normalised to
//! `http://host:port`, the HTTP client every call to another node goes through (time
//! limit, size cap, typed errors), and the wire types nodes exchange. It knows nothing
//! of the node's state, so `node` and the command-line wallet use it without depending
//! on the network logic above them.

pub mod address;
pub mod client;
pub mod error;
pub mod fields;
pub mod lookup;
pub mod protocol;
