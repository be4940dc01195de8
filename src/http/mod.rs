//! The HTTP face of a node: the one listening socket, the routes, the owner check.

pub mod brief;
pub mod guard;
pub mod json;
pub mod owner;
pub mod page;
pub mod payment_log;
pub mod reply;
pub mod routes;
