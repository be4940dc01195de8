//! The route table: every path, the methods it answers, who may call each (SPEC §5a)
//! and the function that answers. Dispatch, the 405 with its `Allow`, `OPTIONS`, `HEAD`
//! and the cross-origin read header are all read from it, so a route is one line here.

use super::call::Call;
use super::{chain, getdata, headers, history, inv, mine, nodes, payment, transactions, wallet};
use crate::http::reply::Reply;

/// A method a route answers (`HEAD` and `OPTIONS` are derived, never listed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Reads; kept for the Python original's actions (`/mine`, `/restart`, `/nodes/resolve`).
    Get,
    /// Acts.
    Post,
    /// Forgets.
    Delete,
}

impl Method {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }

    /// The method a request names, if a route may answer it (`HEAD` asks for `GET`).
    pub fn parse(method: &str) -> Option<Method> {
        match method {
            "GET" | "HEAD" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

/// Who may call a route (SPEC §5a).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A public read: anyone, and a web page of any origin may read the answer
    /// (`Access-Control-Allow-Origin: *`: the explorer page reads its peers).
    SharedRead,
    /// Anyone: the peer protocol and what carries its own authority. A page of another
    /// origin may send it but not read the answer.
    Public,
    /// Only the owner: it acts on the owner's behalf (checked before the route runs).
    OwnerOnly,
    /// Anyone, except that asking this node's wallet to sign needs the owner (the route
    /// checks once it has read the body).
    OwnerToSign,
}

/// One method of one path.
pub struct Route {
    /// The path, without a trailing `/`; a segment `{id}` stands for any one segment
    /// (the route reads it from the request's path).
    pub path: &'static str,
    /// The method it answers.
    pub method: Method,
    /// Who may call it.
    pub access: Access,
    /// Only reads: a `HEAD` answers a `GET` like it (a `GET` that acts, like `/mine`, is
    /// 405 for `HEAD`, which must not act), and a successful call is polling, logged at
    /// debug only (a change or a refusal is logged at info).
    pub reads_only: bool,
    /// The function that answers.
    pub answer: fn(&Call) -> Reply,
}

/// A public `GET` that only reads and that any page may read.
const fn read(path: &'static str, answer: fn(&Call) -> Reply) -> Route {
    Route {
        path,
        method: Method::Get,
        access: Access::SharedRead,
        reads_only: true,
        answer,
    }
}

/// A `GET` that changes nothing but calls peers: public, not read across origins.
const fn ask(path: &'static str, answer: fn(&Call) -> Reply) -> Route {
    Route {
        path,
        method: Method::Get,
        access: Access::Public,
        reads_only: true,
        answer,
    }
}

/// A `POST` that changes nothing: the question is too long for a query (`/getdata`'s
/// list of ids). Public, not read across origins.
const fn fetch(path: &'static str, answer: fn(&Call) -> Reply) -> Route {
    Route {
        path,
        method: Method::Post,
        access: Access::Public,
        reads_only: true,
        answer,
    }
}

/// A route that acts.
const fn act(
    method: Method,
    path: &'static str,
    access: Access,
    answer: fn(&Call) -> Reply,
) -> Route {
    Route {
        path,
        method,
        access,
        reads_only: false,
        answer,
    }
}

use Access::{OwnerOnly, OwnerToSign, Public};
use Method::{Delete, Get, Post};

/// Every route, a path's methods in the order `Allow` lists them.
pub const ROUTES: [Route; 24] = [
    act(Get, "/restart", OwnerOnly, chain::restart),
    act(Post, "/restart", OwnerOnly, chain::restart),
    read("/nodes/register", nodes::list),
    act(Post, "/nodes/register", Public, nodes::register),
    act(Delete, "/nodes/register", OwnerOnly, nodes::unregister),
    act(Post, "/transactions/new", OwnerToSign, transactions::new),
    act(Get, "/mine", OwnerOnly, mine::mine),
    act(Post, "/mine", OwnerOnly, mine::mine),
    read("/chain", chain::chain),
    read("/pool", transactions::pool),
    read("/wallet", wallet::wallet),
    act(Post, "/wallet/rotate", OwnerOnly, wallet::rotate),
    read("/balances", wallet::balances),
    read("/inv", inv::inv),
    act(Post, "/inv", Public, inv::announced),
    fetch("/getdata", getdata::getdata),
    read("/nodes", nodes::nodes),
    act(Get, "/nodes/resolve", Public, nodes::resolve),
    act(Post, "/nodes/resolve", Public, nodes::resolve),
    ask("/getblocks", inv::getblocks),
    read("/transactions/{id}", payment::status),
    read("/transactions/{id}/proof", payment::proof),
    read("/headers", headers::headers),
    read("/history", history::history),
];

/// The routes of `path`, in table order. A path the table names exactly is only that
/// (`/transactions/new` is never a transaction id); otherwise `{id}` segments match.
pub fn routes_of(path: &str) -> impl Iterator<Item = &'static Route> + '_ {
    let exact = ROUTES.iter().any(|route| route.path == path);
    ROUTES.iter().filter(move |route| {
        if exact {
            route.path == path
        } else {
            matches_pattern(route.path, path)
        }
    })
}

/// Whether `path` fits `pattern` segment by segment, `{…}` fitting any non-empty one.
fn matches_pattern(pattern: &str, path: &str) -> bool {
    let mut wanted = pattern.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
            _ => return false,
        }
    }
}

/// What the table holds for a method of a path.
#[derive(Clone, Copy)]
pub enum Lookup {
    /// The route that answers.
    Found(&'static Route),
    /// The path exists, not the method (405, or `OPTIONS`).
    WrongMethod,
    /// Nothing is at the path (404).
    NoPath,
}

/// What answers `method` (`HEAD` for a `GET` that only reads) on `path`.
pub fn find(path: &str, method: &str) -> Lookup {
    let mut known = false;
    for route in routes_of(path) {
        known = true;
        if Method::parse(method) == Some(route.method) && (method != "HEAD" || route.reads_only) {
            return Lookup::Found(route);
        }
    }
    if known {
        Lookup::WrongMethod
    } else {
        Lookup::NoPath
    }
}

/// The `Allow` value of `path`: its methods in table order, `HEAD` after a `GET` that only
/// reads, then `OPTIONS`.
pub fn allow(path: &str) -> String {
    let mut methods = Vec::new();
    for route in routes_of(path) {
        methods.push(route.method.as_str());
        if route.method == Method::Get && route.reads_only {
            methods.push("HEAD");
        }
    }
    methods.push("OPTIONS");
    methods.join(", ")
}

/// The methods of `path` as a person reads them (`GET or POST`), for a 405's message.
pub fn allowed_words(path: &str) -> String {
    let methods: Vec<&str> = routes_of(path).map(|route| route.method.as_str()).collect();
    match methods.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The 404 text: the path asked for and every route there is.
pub fn not_found_message(path: &str) -> String {
    let mut paths: Vec<&str> = Vec::new();
    for route in &ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    format!("no route {path}; the routes are {}", paths.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_table_methods() {
        assert_eq!(allow("/chain"), "GET, HEAD, OPTIONS");
        assert_eq!(allow("/mine"), "GET, POST, OPTIONS");
        assert_eq!(allow("/nodes/register"), "GET, HEAD, POST, DELETE, OPTIONS");
        assert_eq!(allow("/transactions/new"), "POST, OPTIONS");
        assert_eq!(allowed_words("/nodes/register"), "GET, POST or DELETE");
        assert_eq!(allowed_words("/chain"), "GET");
    }

    #[test]
    fn head_only_where_get_only_reads() {
        assert!(matches!(find("/chain", "HEAD"), Lookup::Found(_)));
        assert!(matches!(find("/getblocks", "HEAD"), Lookup::Found(_)));
        assert!(matches!(find("/mine", "HEAD"), Lookup::WrongMethod));
        assert!(matches!(
            find("/nodes/resolve", "HEAD"),
            Lookup::WrongMethod
        ));
        assert!(matches!(find("/chain", "PUT"), Lookup::WrongMethod));
        assert!(matches!(find("/nowhere", "GET"), Lookup::NoPath));
    }

    #[test]
    fn owner_actions_are_the_ones_spec_names() {
        let owner_only: Vec<String> = ROUTES
            .iter()
            .filter(|route| route.access == Access::OwnerOnly)
            .map(|route| format!("{} {}", route.method.as_str(), route.path))
            .collect();
        assert_eq!(
            owner_only,
            [
                "GET /restart",
                "POST /restart",
                "DELETE /nodes/register",
                "GET /mine",
                "POST /mine",
                "POST /wallet/rotate"
            ]
        );
        let shared: Vec<&str> = ROUTES
            .iter()
            .filter(|route| route.access == Access::SharedRead)
            .map(|route| route.path)
            .collect();
        assert_eq!(
            shared,
            [
                "/nodes/register",
                "/chain",
                "/pool",
                "/wallet",
                "/balances",
                "/inv",
                "/nodes",
                "/transactions/{id}",
                "/transactions/{id}/proof",
                "/headers",
                "/history"
            ]
        );
    }

    #[test]
    fn an_id_segment_matches_one_segment_and_exact_paths_win() {
        let id = "ab".repeat(32);
        assert!(
            matches!(find(&format!("/transactions/{id}"), "GET"), Lookup::Found(r) if r.path == "/transactions/{id}")
        );
        assert!(
            matches!(find(&format!("/transactions/{id}/proof"), "HEAD"), Lookup::Found(r) if r.path == "/transactions/{id}/proof")
        );
        assert!(matches!(
            find(&format!("/transactions/{id}"), "POST"),
            Lookup::WrongMethod
        ));
        assert!(matches!(
            find("/transactions/new", "GET"),
            Lookup::WrongMethod
        ));
        assert_eq!(allow("/transactions/new"), "POST, OPTIONS");
        assert!(matches!(
            find(&format!("/transactions/{id}/other"), "GET"),
            Lookup::NoPath
        ));
        assert!(matches!(
            find("/transactions//proof", "GET"),
            Lookup::NoPath
        ));
    }
}
