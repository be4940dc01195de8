//! A route's result and how it becomes an answer: [`ApiError`] (the one place errors
//! become status codes), `Reply` and the JSON response helpers.

use crate::core::pool::PoolError;
use crate::http::json::BodyError;
use crate::node::peer_table::PeersError;
use crate::node::{NodeError, PaymentError};
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
    /// 400: the request is wrong.
    BadRequest(String),
    /// 404: nothing is at this path, or the thing to remove does not exist.
    NotFound(String),
    /// 405: the path exists, the method does not.
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The path's methods as a person reads them (`GET or POST`).
        allowed: String,
    },
    /// 403: an owner action asked by someone who is not the owner (SPEC §5a).
    Forbidden(String),
    /// 409: the transaction is already known.
    Conflict(String),
    /// 413: the body is over [`MAX_BODY_BYTES`].
    TooLarge,
    /// 500: the node could not do its part (e.g. the disk refused a write).
    Internal(String),
}

impl ApiError {
    /// The HTTP status for this error; the one place errors become codes.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Conflict(_) => 409,
            ApiError::TooLarge => 413,
            ApiError::Internal(_) => 500,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::Internal(m) => f.write_str(m),
            ApiError::MethodNotAllowed { method, allowed } => {
                write!(f, "method {method} is not allowed here; use {allowed}")
            }
            ApiError::TooLarge => write!(
                f,
                "request body is larger than {MAX_BODY_BYTES} bytes (1 MiB); send less"
            ),
        }
    }
}

impl From<NodeError> for ApiError {
    fn from(error: NodeError) -> ApiError {
        let message = error.to_string();
        match error {
            NodeError::Pool(PoolError::Duplicate { .. })
            | NodeError::Payment(PaymentError::AlreadyKnown { .. }) => ApiError::Conflict(message),
            NodeError::Payment(_)
            | NodeError::Transaction(_)
            | NodeError::Pool(_)
            | NodeError::Wallet(WalletError::Exhausted { .. })
            | NodeError::Peers(PeersError::TooManyOwnerPeers { .. }) => {
                ApiError::BadRequest(message)
            }
            NodeError::Peers(PeersError::NotRegistered { .. }) => ApiError::NotFound(message),
            NodeError::Peers(PeersError::Learn(_)) => ApiError::Forbidden(message),
            NodeError::Net(error) => error.into(),
            NodeError::Wallet(_) | NodeError::Store(_) | NodeError::Unmineable(_) => {
                ApiError::Internal(message)
            }
        }
    }
}

impl From<NetError> for ApiError {
    fn from(error: NetError) -> ApiError {
        let message = error.to_string();
        match error {
            NetError::PageRegisters
            | NetError::NotItself { .. }
            | NetError::TooManyPorts { .. } => ApiError::Forbidden(message),
            NetError::Address(_)
            | NetError::OwnAddress { .. }
            | NetError::AnswersAsUs { .. }
            | NetError::OtherNetwork { .. }
            | NetError::Announcement(_) => ApiError::BadRequest(message),
            // What this node's own calls to peers met: its problem, not the request's.
            NetError::Call(_)
            | NetError::MissingTransaction { .. }
            | NetError::AlreadyFetched
            | NetError::QueueFull => ApiError::Internal(message),
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> ApiError {
        ApiError::BadRequest(error.to_string())
    }
}

/// A status and the JSON text of the answer (typed answers keep SPEC's field order).
pub(crate) type Reply = Result<(u16, String), ApiError>;

/// JSON text of an answer.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("answers always serialise")
}

/// A JSON answer with its status.
pub(crate) fn json_response(status: u16, body: String) -> Response {
    Response::from_data("application/json", body).with_status_code(status)
}
