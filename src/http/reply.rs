//! A route's result and how it becomes an answer: [`ApiError`] (the one place errors
//! become status codes), `Reply` and the JSON response helpers.

use crate::core::error_from;
use crate::core::pool::PoolError;
use crate::http::json::BodyError;
use crate::http::owner::OwnerRefusal;
use crate::node::peer_table::PeersError;
use crate::node::{LookupError, NodeError, PaymentError};
use crate::wallet::node_wallet::WalletError;
use crate::wire::error::NetError;
use rouille::Response;
use serde::Serialize;
use std::fmt;

/// Largest request body accepted: 1 MiB; one byte more is a 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A refused request: the status code and a message saying what to fix.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the edge could not read the request (a query parameter, the body's bytes).
    BadRequest(String),
    /// 400: the body is not the route's message.
    Body(BodyError),
    /// 403: an owner action asked by someone who is not the owner (SPEC §5a).
    NotOwner(OwnerRefusal),
    /// 404: nothing is at this path.
    NotFound(String),
    /// 405: the path exists, the method does not.
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The path's methods as a person reads them (`GET or POST`).
        allowed: String,
    },
    /// 413: the body is over [`MAX_BODY_BYTES`].
    TooLarge,
    /// What the node refused, or could not do: the status follows its kind.
    Node(NodeError),
    /// What was refused between nodes: the status follows its kind.
    Net(NetError),
}

impl ApiError {
    /// The HTTP status for this error; the one place errors become codes.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) | ApiError::Body(_) => 400,
            ApiError::NotOwner(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::TooLarge => 413,
            ApiError::Node(error) => node_status(error),
            ApiError::Net(error) => net_status(error),
        }
    }
}

/// 409 for a known transaction (a safe retry) or a proof asked of a pooled one, 400 for what the request got wrong, 403
/// and 404 for the peer list's refusals, 500 for what the node could not do.
fn node_status(error: &NodeError) -> u16 {
    match error {
        NodeError::Pool(PoolError::Duplicate { .. })
        | NodeError::Payment(PaymentError::AlreadyKnown { .. }) => 409,
        NodeError::Payment(_)
        | NodeError::Transaction(_)
        | NodeError::Pool(_)
        | NodeError::Wallet(WalletError::Exhausted { .. })
        | NodeError::Peers(PeersError::TooManyOwnerPeers { .. }) => 400,
        NodeError::Peers(PeersError::Learn(_)) => 403,
        NodeError::Peers(PeersError::NotRegistered { .. })
        | NodeError::Lookup(LookupError::Unknown(_)) => 404,
        NodeError::Lookup(LookupError::OnlyPooled(_)) => 409,
        NodeError::Net(error) => net_status(error),
        NodeError::Wallet(_) | NodeError::Store(_) | NodeError::Unmineable(_) => 500,
    }
}

/// 403 for who may not register what (SPEC §6c), 400 for a wrong address or message, 500
/// for what this node's own calls to peers met.
fn net_status(error: &NetError) -> u16 {
    match error {
        NetError::PageRegisters | NetError::NotItself { .. } | NetError::TooManyPorts { .. } => 403,
        NetError::Address(_)
        | NetError::OwnAddress { .. }
        | NetError::AnswersAsUs { .. }
        | NetError::OtherNetwork { .. }
        | NetError::Announcement(_) => 400,
        NetError::Call(_)
        | NetError::MissingTransaction { .. }
        | NetError::AlreadyFetched
        | NetError::QueueFull => 500,
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest(message) | ApiError::NotFound(message) => f.write_str(message),
            ApiError::Body(error) => error.fmt(f),
            ApiError::NotOwner(refusal) => refusal.fmt(f),
            ApiError::MethodNotAllowed { method, allowed } => {
                write!(f, "method {method} is not allowed here; use {allowed}")
            }
            ApiError::TooLarge => write!(
                f,
                "request body is larger than {MAX_BODY_BYTES} bytes (1 MiB); send less"
            ),
            ApiError::Node(error) => error.fmt(f),
            ApiError::Net(error) => error.fmt(f),
        }
    }
}

error_from!(ApiError {
    Body(BodyError),
    Node(NodeError),
    Net(NetError),
});

/// A status and the JSON text of the answer (typed answers keep SPEC's field order).
pub(crate) type Reply = Result<(u16, String), ApiError>;

/// JSON text of an answer.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("answers always serialise")
}

/// A JSON answer with its status. The body ends with a newline, so a shell prompt after
/// `curl` starts on a line of its own (JSON parsers skip the trailing whitespace).
pub(crate) fn json_response(status: u16, mut body: String) -> Response {
    body.push('\n');
    Response::from_data("application/json", body).with_status_code(status)
}
