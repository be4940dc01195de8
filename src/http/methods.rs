//! Method semantics around the route table (RFC 9110): the `Allow` header of a 405,
//! `OPTIONS`, and the action routes that `HEAD` must not run.
//!
//! The methods of a path are read from the route table itself: a method a path does not
//! serve lands on that path's `not_allowed("GET or POST")`, whose list becomes `Allow`,
//! so a new route needs nothing here.

use crate::http::reply::{ApiError, Reply, json_response, to_json};
use rouille::{Request, Response};
use serde_json::json;

/// Paths whose `GET` changes state (kept from the Python original, SPEC §5): a `HEAD` there
/// would mine or reset, so it is a 405 instead of a `GET` without body.
pub const ACTION_PATHS: [&str; 3] = ["/mine", "/restart", "/nodes/resolve"];

/// True for a path whose `GET` changes state.
pub fn is_action(path: &str) -> bool {
    ACTION_PATHS.contains(&path)
}

/// The `Allow` value for `path` from the route table's wording (`"GET, POST or DELETE"`):
/// those methods, `HEAD` after `GET` unless the path is an action, then `OPTIONS`.
pub fn allow_value(path: &str, allowed: &str) -> String {
    let mut methods: Vec<&str> = Vec::new();
    for method in allowed.split([',', ' ']).filter(|word| !word.is_empty()) {
        if method == "or" {
            continue;
        }
        methods.push(method);
        if method == "GET" && !is_action(path) {
            methods.push("HEAD");
        }
    }
    methods.push("OPTIONS");
    methods.join(", ")
}

/// Turns a route's result into the answer; a 405 carries `Allow`.
pub fn answer(request: &Request, reply: Reply) -> Response {
    match reply {
        Ok((status, body)) => json_response(status, body),
        Err(error) => {
            let response = json_response(
                error.status(),
                to_json(&json!({ "error": error.to_string() })),
            );
            match error {
                ApiError::MethodNotAllowed { allowed, .. } => response
                    .with_additional_header("Allow", allow_value(&path_of(request), allowed)),
                _ => response,
            }
        }
    }
}

/// `OPTIONS`: 204 with `Allow` on a known path (the route table refused the method with
/// its list); anything else (404) as usual.
pub fn options(request: &Request, reply: Reply) -> Response {
    match reply {
        Err(ApiError::MethodNotAllowed { allowed, .. }) => Response::empty_204()
            .with_additional_header("Allow", allow_value(&path_of(request), allowed)),
        other => answer(request, other),
    }
}

fn path_of(request: &Request) -> String {
    crate::http::routes::clean_path(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_route_table_methods() {
        assert_eq!(allow_value("/chain", "GET"), "GET, HEAD, OPTIONS");
        assert_eq!(allow_value("/mine", "GET or POST"), "GET, POST, OPTIONS");
        assert_eq!(
            allow_value("/nodes/register", "GET, POST or DELETE"),
            "GET, HEAD, POST, DELETE, OPTIONS"
        );
        assert_eq!(allow_value("/transactions/new", "POST"), "POST, OPTIONS");
    }
}
