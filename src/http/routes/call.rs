//! What every route function is given: the request, the node, the owner's credentials.
//! Its own file so that the route files and the [`super::table`] naming them never import
//! each other in a circle.

use crate::http::owner::Owner;
use crate::net::network::Network;
use crate::node::Node;
use rouille::Request;

/// What a route gets: the request, the node, and how to tell its owner.
pub struct Call<'a> {
    /// The request, body unread.
    pub request: &'a Request,
    /// The node it acts on.
    pub node: &'a Node,
    /// The owner's credentials, for `Access::OwnerToSign`.
    pub owner: &'a Owner,
    /// The node's network: peer health, the relay, the single-flight runs.
    pub network: &'a Network,
}
