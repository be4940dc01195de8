//! The HTTP face of a node: the routes (the only rouille user) and start-up.

pub mod brief;
pub mod guard;
pub mod json;
pub mod owner;
pub mod page;
pub mod payment_log;
pub mod reply;
pub mod routes;
pub mod server;
