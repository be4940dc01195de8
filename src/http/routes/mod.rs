//! HTTP routes (SPEC §5): parse requests at the edge, call [`Node`], answer JSON; one
//! file per resource, as mini-redis keeps one file per command.
//!
//! **Invariant:** every answer, errors included, is JSON with
//! `Content-Type: application/json` (except the explorer page's own files, see [`page`]),
//! and errors become status codes only in [`ApiError::status`].

mod chain;
mod input;
mod inv;
mod mine;
mod nodes;
mod transactions;
mod wallet;

use crate::http::methods;
use crate::http::page::{self, PageAnswer, PageFile};
use crate::http::reply::{ApiError, Reply, json_response, to_json};
use crate::node::Node;
use log::{debug, info};
use rouille::{Request, Response};
use serde_json::json;
use std::time::Instant;

pub use crate::http::reply::MAX_BODY_BYTES;
pub use chain::MAX_CHAIN_PAGE;
pub use inv::{DEFAULT_INV_LIMIT, MAX_INV_LIMIT};

/// Serves one request: routes it, logs one line, never panics on bad input.
/// `HEAD` is answered as `GET` (the server leaves the body out) except on the action
/// routes; `OPTIONS` lists the methods of a path (RFC 9110 §9.3.2, §9.3.7).
pub fn handle(request: &Request, node: &Node) -> Response {
    let started = Instant::now();
    let method = request.method();
    // A page file answers HEAD like GET (the server leaves the body out).
    let page_method = if method == "HEAD" { "GET" } else { method };
    let page = page::answer(page_method, &request.url(), request.header("Accept"));
    let response = match page.map(|answer| page_reply(answer, request)) {
        Some(Ok(file)) => page_response(file),
        Some(Err(error)) if method == "OPTIONS" => methods::options(request, Err(error)),
        Some(Err(error)) => methods::answer(request, Err(error)),
        None => match method {
            "OPTIONS" => methods::options(request, route(request, "OPTIONS", node)),
            "HEAD" if !methods::is_action(&clean_path(request)) => {
                methods::answer(request, route(request, "GET", node))
            }
            method => methods::answer(request, route(request, method, node)),
        },
    };
    let response = if page::cors_readable(page_method, &request.url()) {
        response.with_additional_header("Access-Control-Allow-Origin", "*")
    } else {
        response
    };
    info!(
        "{} {} {} -> {} ({} ms)",
        request.remote_addr(),
        request.method(),
        request.raw_url(),
        response.status_code,
        started.elapsed().as_millis()
    );
    response
}

/// The answer given while the node is still loading its data directory.
pub fn not_ready() -> Response {
    json_response(
        503,
        to_json(&json!({ "error": "the node is still starting; try again" })),
    )
}

/// The path without its query and without one trailing `/` (but `/` stays `/`).
pub(crate) fn clean_path(request: &Request) -> String {
    let path = request.url();
    match path.strip_suffix('/').filter(|p| !p.is_empty()) {
        Some(trimmed) => trimmed.to_string(),
        None => path,
    }
}

/// Dispatches on path, then `method` (the request's, or `GET` for a `HEAD`). A method a
/// path does not serve must reach that path's `not_allowed`: `OPTIONS` and `Allow`
/// headers are built from its list.
fn route(request: &Request, method: &str, node: &Node) -> Reply {
    let path = clean_path(request);
    let path = path.as_str();
    debug!("{method} {path} from {}", request.remote_addr());
    let not_allowed = |allowed| {
        Err(ApiError::MethodNotAllowed {
            method: method.to_string(),
            allowed,
        })
    };
    match (path, method) {
        ("/restart", "GET" | "POST") => chain::restart(node),
        ("/restart", _) => not_allowed("GET or POST"),
        ("/nodes/register", "POST") => nodes::register(request, node),
        ("/nodes/register", "GET") => Ok((200, to_json(&json!({ "total_nodes": node.peers() })))),
        ("/nodes/register", "DELETE") => nodes::unregister(request, node),
        ("/nodes/register", _) => not_allowed("GET, POST or DELETE"),
        ("/transactions/new", "POST") => transactions::new_transaction(request, node),
        ("/transactions/new", _) => not_allowed("POST"),
        ("/mine", "GET" | "POST") => mine::mine(node),
        ("/mine", _) => not_allowed("GET or POST"),
        ("/chain", "GET") => chain::chain(request, node),
        ("/chain", _) => not_allowed("GET"),
        ("/pool", "GET") => transactions::pool(node),
        ("/pool", _) => not_allowed("GET"),
        ("/wallet", "GET") => Ok((200, to_json(&node.wallet_info()))),
        ("/wallet", _) => not_allowed("GET"),
        ("/wallet/rotate", "POST") => wallet::rotate_wallet(node),
        ("/wallet/rotate", _) => not_allowed("POST"),
        ("/balances", "GET") => wallet::balances(request, node),
        ("/balances", _) => not_allowed("GET"),
        ("/inv", "GET") => inv::inv(request, node),
        ("/inv", "POST") => inv::announced(request, node),
        ("/inv", _) => not_allowed("GET or POST"),
        ("/nodes", "GET") => nodes::nodes(node),
        ("/nodes", _) => not_allowed("GET"),
        ("/nodes/resolve", "GET" | "POST") => nodes::resolve(node),
        ("/nodes/resolve", _) => not_allowed("GET or POST"),
        ("/getblocks", "GET") => inv::getblocks(node),
        ("/getblocks", _) => not_allowed("GET"),
        _ => Err(ApiError::NotFound(format!(
            "no route {path}; the routes are /restart, /nodes/register, /transactions/new, /mine, /chain, /pool, /balances, /nodes/resolve, /getblocks, /inv, /nodes, /wallet and /wallet/rotate"
        ))),
    }
}

/// The explorer page's files (see [`page`]); a wrong path or method is a JSON error.
fn page_reply(answer: PageAnswer, request: &Request) -> Result<PageFile, ApiError> {
    match answer {
        PageAnswer::File(file) => Ok(file),
        PageAnswer::Missing => Err(ApiError::NotFound(format!(
            "no page file {}; the explorer page is at / (from a browser)",
            request.url()
        ))),
        PageAnswer::WrongMethod => Err(ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allowed: "GET",
        }),
    }
}

fn page_response(file: PageFile) -> Response {
    Response::from_data(file.content_type, file.body)
        .with_additional_header("Cache-Control", "no-cache")
        .with_additional_header("X-Content-Type-Options", "nosniff")
        .with_additional_header("Content-Security-Policy", page::CONTENT_SECURITY_POLICY)
}
