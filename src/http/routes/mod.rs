//! HTTP routes (SPEC §5): parse requests at the edge, call [`Node`], answer JSON; one
//! file per resource, as mini-redis keeps one file per command, and one [`table`] that
//! says which function answers which method of which path, and who may call it.
//!
//! **Invariant:** every answer, errors included, is JSON with
//! `Content-Type: application/json` (except the explorer page's own files, see [`page`]),
//! and errors become status codes only in [`ApiError::status`].

mod call;
mod capped;
mod chain;
mod getdata;
mod headers;
mod history;
mod input;
mod inv;
mod mine;
mod nodes;
mod payment;
pub mod table;
mod transactions;
mod wallet;

use crate::http::brief;
use crate::http::owner::Owner;
use crate::http::page::{self, PageAnswer, PageFile};
use crate::http::reply::{ApiError, Reply, json_response, to_json};
use crate::net::network::Network;
use crate::node::Node;
use call::Call;
use log::{Level, log};
use rouille::{Request, Response};
use serde_json::json;
use std::time::Instant;
use table::{Access, Lookup, Route};

pub use crate::http::reply::MAX_BODY_BYTES;
pub use chain::MAX_CHAIN_PAGE;
pub use inv::{DEFAULT_INV_LIMIT, MAX_INV_LIMIT};

/// The `Allow` of the page's own files.
const PAGE_ALLOW: &str = "GET, HEAD, OPTIONS";

/// Serves one request: routes it by the [`table`], logs one line naming the client first
/// (SPEC §5a), never panics on bad input. `HEAD` is answered as `GET` (the front leaves
/// the body out) where the `GET` only reads; `OPTIONS` lists a path's methods (RFC 9110
/// §9.3.2, §9.3.7); an owner action from anyone but the owner is 403 before it runs
/// (SPEC §5a).
pub fn handle(request: &Request, node: &Node, owner: &Owner, network: &Network) -> Response {
    let started = Instant::now();
    let method = request.method();
    // A page file answers HEAD like GET (the front leaves the body out).
    let page_method = if method == "HEAD" { "GET" } else { method };
    let (response, reads) =
        match page::answer(page_method, &request.url(), request.header("Accept")) {
            Some(PageAnswer::File(file)) => (page_response(file), true),
            Some(_) if method == "OPTIONS" => (allow_204(PAGE_ALLOW), true),
            Some(PageAnswer::Missing) => (
                error_response(&ApiError::NotFound(format!(
                    "no page file {}; the explorer page is at / (from a browser)",
                    request.url()
                ))),
                true,
            ),
            Some(PageAnswer::WrongMethod) => (
                with_allow(
                    error_response(&ApiError::MethodNotAllowed {
                        method: method.to_string(),
                        allowed: "GET".into(),
                    }),
                    PAGE_ALLOW,
                ),
                false,
            ),
            None => (
                route(&Call {
                    request,
                    node,
                    owner,
                    network,
                }),
                only_reads(request),
            ),
        };
    let (response, reason) = refusal_reason(response);
    let mut line = format!(
        "{} {} {} -> {} ({} ms)",
        request.remote_addr(),
        request.method(),
        request.raw_url(),
        response.status_code,
        started.elapsed().as_millis()
    );
    if let Some(reason) = reason {
        line = format!("{line}: {reason}");
    }
    let quiet = reads || said_elsewhere(request);
    log!(
        log_level(quiet, response.status_code),
        "{}",
        cut(&line, LOG_LINE_CHARS)
    );
    response
}

/// Longest request line in the log, in characters (the time before it adds 9).
const LOG_LINE_CHARS: usize = 190;

/// How loud a request's line is: a read that succeeded is polling (an open explorer
/// tab, a peer's background sync) and goes to `RUST_LOG=debug`, and so is a success whose
/// news is logged elsewhere ([`said_elsewhere`]); what acts, and every refusal (4xx, 5xx),
/// is a change or a problem a person wants to see at the default level.
fn log_level(quiet: bool, status: u16) -> Level {
    if quiet && status < 400 {
        Level::Debug
    } else {
        Level::Info
    }
}

/// Requests whose success needs no line of its own at the default level: a peer's
/// announcement (`POST /inv`, several per block: relay chatter; an adopted block is
/// logged as such), and a payment (the payment log names sender, recipient and amount).
fn said_elsewhere(request: &Request) -> bool {
    request.method() == "POST"
        && matches!(clean_path(request).as_str(), "/inv" | "/transactions/new")
}

/// A refusal's `error`, with keys and signatures shortened, for its log line; the
/// response is given back whole.
fn refusal_reason(response: Response) -> (Response, Option<String>) {
    if response.status_code < 400 {
        return (response, None);
    }
    let Response {
        status_code,
        headers,
        data,
        upgrade,
    } = response;
    let (mut reader, _) = data.into_reader_and_size();
    let mut body = Vec::new();
    let _ = std::io::Read::read_to_end(&mut reader, &mut body);
    let reason = std::str::from_utf8(&body)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&brief::shorten_keys(text)).ok())
        .and_then(|value| value["error"].as_str().map(str::to_string));
    let response = Response {
        status_code,
        headers,
        data: rouille::ResponseBody::from_data(body),
        upgrade,
    };
    (response, reason)
}

/// `text` cut to at most `max` characters, ending with `…` when it was cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text.chars().count() > max => format!("{}…", &text[..at]),
        _ => text.to_string(),
    }
}

/// Whether the request asks a route of the API that only reads (the table's
/// `reads_only`), or only asks which methods a path has (`OPTIONS`).
fn only_reads(request: &Request) -> bool {
    let method = request.method();
    method == "OPTIONS"
        || matches!(
            table::find(&clean_path(request), method),
            Lookup::Found(route) if route.reads_only
        )
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

/// Finds the route in the [`table`], checks who asks, runs it.
fn route(call: &Call) -> Response {
    let path = clean_path(call.request);
    let method = call.request.method();
    let found = table::find(&path, method);
    if method == "OPTIONS" {
        return match found {
            Lookup::NoPath => error_response(&ApiError::NotFound(table::not_found_message(&path))),
            _ => allow_204(&table::allow(&path)),
        };
    }
    match found {
        Lookup::Found(route) => run(call, route),
        Lookup::NoPath => error_response(&ApiError::NotFound(table::not_found_message(&path))),
        Lookup::WrongMethod => with_allow(
            error_response(&ApiError::MethodNotAllowed {
                method: method.to_string(),
                allowed: table::allowed_words(&path),
            }),
            &table::allow(&path),
        ),
    }
}

/// Runs `route` for the caller it allows; a shared read may be read by any origin.
fn run(call: &Call, route: &Route) -> Response {
    let reply: Reply = match route.access {
        Access::OwnerOnly => call
            .owner
            .require(
                call.request,
                &format!("{} {}", route.method.as_str(), route.path),
            )
            .and_then(|()| (route.answer)(call)),
        Access::SharedRead | Access::Public | Access::OwnerToSign => (route.answer)(call),
    };
    let response = match reply {
        Ok((status, body)) => json_response(status, body),
        Err(error) => error_response(&error),
    };
    if route.access == Access::SharedRead {
        response.with_additional_header("Access-Control-Allow-Origin", "*")
    } else {
        response
    }
}

/// An error as JSON with its status.
fn error_response(error: &ApiError) -> Response {
    json_response(
        error.status(),
        to_json(&json!({ "error": error.to_string() })),
    )
}

fn with_allow(response: Response, allow: &str) -> Response {
    response.with_additional_header("Allow", allow.to_string())
}

/// `OPTIONS` on a known path: no body, its methods.
fn allow_204(allow: &str) -> Response {
    with_allow(Response::empty_204(), allow)
}

/// A file of the explorer page, never cached stale, with its security policy.
fn page_response(file: PageFile) -> Response {
    Response::from_data(file.content_type, file.body)
        .with_additional_header("Cache-Control", "no-cache")
        .with_additional_header("X-Content-Type-Options", "nosniff")
        .with_additional_header("Content-Security-Policy", page::CONTENT_SECURITY_POLICY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(method: &str, url: &str) -> bool {
        only_reads(&Request::fake_http(method, url, vec![], vec![]))
    }

    #[test]
    fn polling_is_debug_and_actions_and_refusals_are_info() {
        for (method, url) in [
            ("GET", "/chain?from=3&limit=10"),
            ("GET", "/pool"),
            ("GET", "/inv?locator=00ab&limit=1"),
            ("GET", "/nodes"),
            ("GET", "/nodes/register"),
            ("GET", "/wallet"),
            ("GET", "/balances?address=bob"),
            ("GET", "/getblocks"),
            ("POST", "/getdata"),
            ("HEAD", "/chain"),
            ("OPTIONS", "/mine"),
        ] {
            assert!(reads(method, url), "{method} {url} only reads");
        }
        assert_eq!(log_level(true, 200), Level::Debug);
        for (method, url) in [
            ("POST", "/transactions/new"),
            ("GET", "/mine"),
            ("POST", "/mine"),
            ("GET", "/restart"),
            ("GET", "/nodes/resolve"),
            ("POST", "/inv"),
            ("POST", "/nodes/register"),
            ("DELETE", "/nodes/register"),
            ("POST", "/chain"),
            ("GET", "/nowhere"),
        ] {
            assert!(!reads(method, url), "{method} {url} is not a read");
        }
        assert_eq!(log_level(false, 201), Level::Info);
        let quiet = |method, url| said_elsewhere(&Request::fake_http(method, url, vec![], vec![]));
        assert!(quiet("POST", "/inv"), "relay chatter");
        assert!(
            quiet("POST", "/transactions/new"),
            "the payment log says it"
        );
        assert!(!quiet("POST", "/mine") && !quiet("GET", "/inv"));
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(log_level(true, 404), Level::Info, "a refused read is shown");
        assert_eq!(log_level(true, 503), Level::Info);
    }
}
