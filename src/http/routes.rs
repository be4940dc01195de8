//! HTTP routes (SPEC §5): parse requests at the edge, call [`Node`], answer JSON.
//!
//! **Invariant:** the only module that imports rouille; every answer, errors included, is
//! JSON with `Content-Type: application/json` (except the explorer page's own files, see
//! [`page`]), and errors become status codes only in [`ApiError::status`].

use crate::core::block::{Block, Transaction};
use crate::core::hash::{BlockHash, MerkleRoot};
use crate::http::methods;
use crate::http::page::{self, PageAnswer, PageFile};
use crate::net::protocol::{InvAnswer, InvItem};
use crate::net::{announce, join, relay, sync};
use crate::node::{Mined, NewTransaction, Node, NodeError};
use log::{debug, info};
use rouille::{Request, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt;
use std::io::Read;
use std::time::Instant;

/// Largest request body accepted: 1 MiB; one byte more is a 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest `/chain` page.
pub const MAX_CHAIN_PAGE: u64 = 500;
/// Default and largest `/inv` block count.
pub const DEFAULT_INV_LIMIT: u64 = 500;
/// Largest `/inv` block count.
pub const MAX_INV_LIMIT: u64 = 2000;

/// A refused request: the status code and a message saying what to fix.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is wrong.
    BadRequest(String),
    /// 404: nothing is at this path, or the thing to remove does not exist.
    NotFound(String),
    /// 405: the path exists, the method does not.
    MethodNotAllowed {
        method: String,
        allowed: &'static str,
    },
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
        match error {
            NodeError::BadRequest(m) => ApiError::BadRequest(m),
            NodeError::Duplicate(m) => ApiError::Conflict(m),
            NodeError::NotFound(m) => ApiError::NotFound(m),
            NodeError::Storage(_) | NodeError::Unmineable(_) | NodeError::Wallet(_) => {
                ApiError::Internal(error.to_string())
            }
        }
    }
}

/// A status and the JSON text of the answer (typed answers keep SPEC's field order).
pub(crate) type Reply = Result<(u16, String), ApiError>;

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
        ("/restart", "GET" | "POST") => restart(node),
        ("/restart", _) => not_allowed("GET or POST"),
        ("/nodes/register", "POST") => register(request, node),
        ("/nodes/register", "GET") => Ok((200, to_json(&json!({ "total_nodes": node.peers() })))),
        ("/nodes/register", "DELETE") => unregister(request, node),
        ("/nodes/register", _) => not_allowed("GET, POST or DELETE"),
        ("/transactions/new", "POST") => new_transaction(request, node),
        ("/transactions/new", _) => not_allowed("POST"),
        ("/mine", "GET" | "POST") => mine(node),
        ("/mine", _) => not_allowed("GET or POST"),
        ("/chain", "GET") => chain(request, node),
        ("/chain", _) => not_allowed("GET"),
        ("/pool", "GET") => {
            let pool = node.pool();
            Ok((
                200,
                to_json(&PoolAnswer {
                    pool_length: pool.len(),
                    pool,
                }),
            ))
        }
        ("/pool", _) => not_allowed("GET"),
        ("/wallet", "GET") => Ok((200, to_json(&node.wallet_info()))),
        ("/wallet", _) => not_allowed("GET"),
        ("/wallet/rotate", "POST") => rotate_wallet(node),
        ("/wallet/rotate", _) => not_allowed("POST"),
        ("/balances", "GET") => balances(request, node),
        ("/balances", _) => not_allowed("GET"),
        ("/inv", "GET") => inv(request, node),
        ("/inv", "POST") => announced(request, node),
        ("/inv", _) => not_allowed("GET or POST"),
        ("/nodes", "GET") => nodes(node),
        ("/nodes", _) => not_allowed("GET"),
        ("/nodes/resolve", "GET" | "POST") => Ok((200, to_json(&relay::resolve(node)))),
        ("/nodes/resolve", _) => not_allowed("GET or POST"),
        ("/getblocks", "GET") => Ok((
            200,
            to_json(&GetblocksAnswer {
                information: sync::getblocks(node),
            }),
        )),
        ("/getblocks", _) => not_allowed("GET"),
        _ => Err(ApiError::NotFound(format!(
            "no route {path}; the routes are /restart, /nodes/register, /transactions/new, /mine, /chain, /pool, /balances, /nodes/resolve, /getblocks, /inv, /nodes, /wallet and /wallet/rotate"
        ))),
    }
}

fn rotate_wallet(node: &Node) -> Reply {
    /// The new `/wallet` answer, then the sweep (SPEC §5).
    #[derive(Serialize)]
    struct Rotated {
        #[serde(flatten)]
        wallet: crate::node::WalletInfo,
        sweep: Option<Transaction>,
    }
    let sweep = node.rotate_wallet()?;
    Ok((
        200,
        to_json(&Rotated {
            wallet: node.wallet_info(),
            sweep,
        }),
    ))
}

fn restart(node: &Node) -> Reply {
    let length = node.restart()?;
    Ok((
        200,
        to_json(
            &json!({ "message": "Chain reset to genesis and pool emptied; peers kept", "length": length }),
        ),
    ))
}

fn register(request: &Request, node: &Node) -> Reply {
    let addresses = node_list(&read_json_object(request)?)?;
    let registered = join::register(node, &addresses)?;
    let message = if registered.merged.is_empty() {
        "New nodes have been added".to_string()
    } else {
        format!(
            "New nodes have been added; kept once: {}",
            registered.merged.join("; ")
        )
    };
    Ok((
        201,
        to_json(&json!({ "message": message, "total_nodes": registered.peers })),
    ))
}

/// `POST /inv`: a peer announces its tip (SPEC §6a); answered at once.
fn announced(request: &Request, node: &Node) -> Reply {
    let body = read_json_object(request)?;
    let message = announce::receive(node, Value::Object(body))?;
    Ok((202, to_json(&json!({ "message": message }))))
}

/// `GET /nodes`: each peer with what this node knows of it (SPEC §6a).
fn nodes(node: &Node) -> Reply {
    let peers = node.peers();
    let view = match relay::Network::of(node) {
        Some(network) => network.book.view(&peers),
        None => crate::net::peer_book::PeerBook::default().view(&peers),
    };
    #[derive(Serialize)]
    struct Answer {
        nodes: Vec<crate::net::peer_book::PeerView>,
    }
    Ok((200, to_json(&Answer { nodes: view })))
}

fn unregister(request: &Request, node: &Node) -> Reply {
    let addresses = node_list(&read_json_object(request)?)?;
    let peers = node.unregister_peers(&addresses)?;
    Ok((
        200,
        to_json(&json!({ "message": "Nodes have been removed", "total_nodes": peers })),
    ))
}

fn new_transaction(request: &Request, node: &Node) -> Reply {
    let http_request = request;
    let body = read_json_object(request)?;
    let allowed = [
        "sender",
        "recipient",
        "amount",
        "timestamp",
        "id",
        "signature",
    ];
    if let Some(unknown) = body.keys().find(|key| !allowed.contains(&key.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "unknown field {unknown:?}; a transaction has sender, recipient and amount (and timestamp and id when relayed, and signature when the sender is a key address)"
        )));
    }
    let request = NewTransaction {
        // Left out: the node's wallet pays (and signs).
        sender: match body.get("sender") {
            None => String::new(),
            Some(Value::String(text)) if text.is_empty() => {
                return Err(ApiError::BadRequest(
                    "sender must not be empty; leave it out to pay from the node's wallet".into(),
                ));
            }
            Some(_) => string_field(&body, "sender")?,
        },
        recipient: string_field(&body, "recipient")?,
        amount: amount_field(&body)?,
        timestamp: match body.get("timestamp") {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "timestamp must be whole milliseconds since the Unix epoch, got {value}"
                ))
            })?),
        },
        id: match body.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(
                text.parse()
                    .map_err(|error| ApiError::BadRequest(format!("id: {error}")))?,
            ),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "id must be a string of 64 hex characters, got {other}"
                )));
            }
        },
        signature: match body.get("signature") {
            None => None,
            Some(value) => Some(
                serde_json::from_value(value.clone())
                    .map_err(|error| ApiError::BadRequest(format!("signature: {error}")))?,
            ),
        },
    };
    let from = http_request.header(relay::FROM_HEADER);
    let relayed = from.map(|_| request.clone());
    let result = node.add_transaction(request);
    match (&result, relayed) {
        (Ok((transaction, _)), _) => node.notify_pooled(transaction, from),
        (Err(error @ NodeError::BadRequest(_)), Some(relayed)) => {
            relay::refused_from(node, from, &error.to_string(), relayed)
        }
        _ => {}
    }
    let (transaction, index) = result?;
    #[derive(Serialize)]
    struct Answer {
        message: String,
        transaction: Transaction,
        index: u64,
    }
    Ok((
        201,
        to_json(&Answer {
            message: format!("Transaction will be added to Block {index}"),
            transaction,
            index,
        }),
    ))
}

fn mine(node: &Node) -> Reply {
    let Mined { block, search } = node.mine()?;
    #[derive(Serialize)]
    struct Answer {
        message: &'static str,
        index: u64,
        transactions: Vec<Transaction>,
        proof: u64,
        merkle_root: MerkleRoot,
        previous_hash: BlockHash,
        timestamp: u64,
        hash: BlockHash,
        difficulty: u32,
        attempts: u64,
        elapsed_ms: u64,
        hash_rate: u64,
    }
    Ok((
        200,
        to_json(&Answer {
            message: "New Block Forged",
            index: block.index,
            transactions: block.transactions,
            proof: block.proof,
            merkle_root: block.merkle_root,
            previous_hash: block.previous_hash,
            timestamp: block.timestamp,
            hash: block.hash,
            difficulty: block.difficulty,
            attempts: search.attempts,
            elapsed_ms: search.elapsed.as_millis() as u64,
            hash_rate: search.hash_rate().round() as u64,
        }),
    ))
}

fn chain(request: &Request, node: &Node) -> Reply {
    let from = query_number(request, "from")?;
    let limit = query_number(request, "limit")?;
    let (blocks, length) = if from.is_none() && limit.is_none() {
        node.chain()
    } else {
        let limit = limit.unwrap_or(MAX_CHAIN_PAGE).min(MAX_CHAIN_PAGE);
        node.chain_page(from.unwrap_or(1), limit as usize)
    };
    Ok((
        200,
        to_json(&ChainAnswer {
            chain: blocks,
            length,
        }),
    ))
}

fn balances(request: &Request, node: &Node) -> Reply {
    match request.get_param("address") {
        Some(address) => {
            let balance = node.balance(&address);
            let last_leaf = node.last_leaf(&address);
            Ok((
                200,
                to_json(
                    &json!({ "address": address, "balance": balance, "balances": { address.clone(): balance }, "last_leaf": last_leaf }),
                ),
            ))
        }
        None => Ok((200, to_json(&json!({ "balances": node.balances() })))),
    }
}

fn inv(request: &Request, node: &Node) -> Reply {
    let limit = query_number(request, "limit")?
        .unwrap_or(DEFAULT_INV_LIMIT)
        .min(MAX_INV_LIMIT);
    let locator: Vec<BlockHash> = match request.get_param("locator") {
        None => Vec::new(),
        Some(text) if text.trim().is_empty() => Vec::new(),
        Some(text) => {
            let hashes: Result<Vec<BlockHash>, _> = text
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::parse)
                .collect();
            let hashes =
                hashes.map_err(|error| ApiError::BadRequest(format!("locator: {error}")))?;
            if hashes.len() > 1000 {
                return Err(ApiError::BadRequest(
                    "locator has more than 1000 hashes; send the tip, recent blocks and a few older ones".into(),
                ));
            }
            hashes
        }
    };
    let inventory = node.inventory(&locator, limit as usize);
    let values: Vec<InvItem> = inventory
        .blocks
        .into_iter()
        .map(InvItem::Block)
        .chain(inventory.transactions.into_iter().map(InvItem::Transaction))
        .collect();
    let answer = InvAnswer {
        node_id: node.identity().node_id.clone(),
        length: inventory.length,
        tip: inventory.tip,
        genesis: inventory.genesis,
        difficulty: inventory.difficulty,
        fork_index: inventory.fork_index,
        values,
    };
    Ok((200, to_json(&answer)))
}

/// `/chain`: a page or the whole chain, and the full length.
#[derive(Serialize)]
struct ChainAnswer {
    chain: Vec<Block>,
    length: u64,
}

/// `/pool`: pending transactions, oldest first.
#[derive(Serialize)]
struct PoolAnswer {
    pool: Vec<Transaction>,
    pool_length: usize,
}

/// `/getblocks`: one entry per peer.
#[derive(Serialize)]
struct GetblocksAnswer {
    information: Vec<sync::PeerInventory>,
}

/// Reads the body as JSON whatever its Content-Type, refusing more than 1 MiB.
fn read_json_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    let mut body = Vec::new();
    if let Some(data) = request.data() {
        data.take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|error| ApiError::BadRequest(format!("could not read the body: {error}")))?;
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "the body is empty; send a JSON object".into(),
        ));
    }
    match crate::http::json::parse_strict(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::BadRequest(format!(
            "the body must be a JSON object, got {}",
            kind_of(&other)
        ))),
        Err(error) if error.is_data() => Err(ApiError::BadRequest(format!(
            "the body is refused: {error}"
        ))),
        Err(error) => Err(ApiError::BadRequest(format!(
            "the body is not valid JSON ({error})"
        ))),
    }
}

fn node_list(body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let example = r#"send {"nodes": ["http://127.0.0.1:5001"]}"#;
    let Some(value) = body.get("nodes") else {
        return Err(ApiError::BadRequest(format!(
            "missing field \"nodes\"; {example}"
        )));
    };
    let Some(list) = value.as_array() else {
        return Err(ApiError::BadRequest(format!(
            "\"nodes\" must be a list of addresses; {example}"
        )));
    };
    if list.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "\"nodes\" is empty; {example}"
        )));
    }
    list.iter()
        .map(|item| {
            item.as_str().map(str::to_string).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "every entry of \"nodes\" must be a string, got {item}"
                ))
            })
        })
        .collect()
}

fn string_field(body: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    match body.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        None => Err(ApiError::BadRequest(format!(
            "missing field {name:?}; send sender, recipient and amount"
        ))),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{name} must be a string, got {}",
            kind_of(other)
        ))),
    }
}

fn amount_field(body: &Map<String, Value>) -> Result<u64, ApiError> {
    let max = crate::core::block::MAX_AMOUNT;
    match body.get("amount") {
        None => Err(ApiError::BadRequest(
            "missing field \"amount\"; send sender, recipient and amount".into(),
        )),
        Some(value) => match value.as_u64() {
            Some(amount) if (1..=max).contains(&amount) => Ok(amount),
            _ => Err(ApiError::BadRequest(format!(
                "amount must be an integer from 1 to {max} (a JSON number, not a string), got {value}"
            ))),
        },
    }
}

/// A whole-number query parameter; any run of digits is a number, however long: past
/// `u64::MAX` it reads as `u64::MAX`, which every caller then cuts to its maximum.
fn query_number(request: &Request, name: &str) -> Result<Option<u64>, ApiError> {
    match request.get_param(name) {
        None => Ok(None),
        Some(text) => {
            let digits = text.trim();
            match digits.parse::<u64>() {
                Ok(number) => Ok(Some(number)),
                Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Some(u64::MAX))
                }
                Err(_) => Err(ApiError::BadRequest(format!(
                    "query parameter {name} must be a whole number, got {text:?}"
                ))),
            }
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// JSON text of an answer.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("answers always serialise")
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

/// A JSON answer with its status.
pub(crate) fn json_response(status: u16, body: String) -> Response {
    Response::from_data("application/json", body).with_status_code(status)
}
