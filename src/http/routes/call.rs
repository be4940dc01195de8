//! What every route function is given: the request, the node, the owner's credentials.
//! Its own file so that the route files and the [`super::table`] naming them never import
//! each other in a circle.

use super::capped::Written;
use crate::http::brief;
use crate::http::owner::Owner;
use crate::http::reply::to_json;
use crate::net::network::Network;
use crate::node::Node;
use rouille::Request;
use serde::Serialize;

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

impl Call<'_> {
    /// The JSON text of an answer, shortened as the caller asked with `?brief=`
    /// ([`brief::answer_text`]).
    pub fn json<T: Serialize>(&self, answer: &T) -> String {
        brief::answer_text(brief::wanted(self.request), || to_json(answer))
    }

    /// Like [`Call::json`], for an answer whose list stops past a size (`super::capped`).
    pub fn json_capped<A: Serialize>(&self, written: &Written, answer: &A) -> String {
        brief::answer_text(brief::wanted(self.request), || written.to_json(answer))
    }
}
