//! Who may command a node (SPEC §5a): deciding whether a request comes from the node's
//! owner, for the routes that act on the owner's behalf.
//!
//! The owner is a request that carries `Authorization: Bearer <token>` with the token of
//! `<data-dir>/owner.token`, or one from the node's own machine (a loopback address) that
//! is not a cross-site browser request. The second rule is what lets the README's `curl`,
//! the demos, Postman and the command-line wallet work unchanged on `127.0.0.1`; the
//! cross-site test keeps a web page the owner happens to have open (on any other origin,
//! another port included) from commanding the node through the owner's browser, and the
//! request must also name a loopback `Host`, which keeps out a page that re-points its
//! own name at 127.0.0.1 (DNS rebinding: its GETs carry neither `Origin` nor
//! `Sec-Fetch-Site`). Bitcoin Core answers the same problem with its cookie file
//! and an RPC port bound to localhost.

use crate::http::reply::ApiError;
use crate::store::owner_token::OwnerToken;
use rouille::Request;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The owner's credentials as this node checks them.
#[derive(Debug)]
pub struct Owner {
    token: OwnerToken,
    token_file: PathBuf,
}

/// Why a request is not the owner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotOwner {
    /// An `Authorization` header that is not `Bearer <this node's token>`.
    WrongToken,
    /// No token, from another machine.
    Remote(IpAddr),
    /// From this machine, but sent by a web page of another origin (which header showed it).
    CrossSite(CrossSite),
}

/// The header that shows a request from this machine to be a web page's cross-site one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrossSite {
    /// An `Origin` that is not the node's own (`http://` and its `Host`).
    Origin {
        origin: String,
        host: Option<String>,
    },
    /// A `Sec-Fetch-Site` other than `same-origin` or `none`.
    FetchSite(String),
    /// A `Host` that is not a loopback name: a name re-pointed at this machine.
    Host(String),
}

impl fmt::Display for CrossSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrossSite::Origin { origin, host } => write!(
                f,
                "Origin {origin}, not http://{}",
                host.as_deref().unwrap_or("(no Host)")
            ),
            CrossSite::FetchSite(site) => write!(f, "Sec-Fetch-Site: {site}"),
            CrossSite::Host(host) => write!(f, "Host {host} is not 127.0.0.1 or localhost"),
        }
    }
}

/// A 403 (SPEC §5a): what was refused, why, and the two ways to be the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRefusal {
    /// What was asked (`POST /restart`).
    pub action: String,
    /// Why the request is not the owner's.
    pub why: NotOwner,
    /// Where the owner token is, to say where to read it.
    pub token_file: PathBuf,
}

impl fmt::Display for OwnerRefusal {
    /// What was refused, why, and the one remedy that fits the request: a wrong token is
    /// told where the right one is; another machine, to send it; a cross-site request
    /// from this machine, to use the node's own page or curl (a token is no help to a
    /// page that cannot read the file).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (action, token) = (&self.action, self.token_file.display());
        match &self.why {
            NotOwner::WrongToken => write!(
                f,
                "{action} is for this node's owner: the Authorization header does not carry this node's owner token; send `Authorization: Bearer $(cat {token})`"
            ),
            NotOwner::Remote(address) => write!(
                f,
                "{action} is for this node's owner: from {address} send `Authorization: Bearer <token>` with the token in {token} on the node's machine"
            ),
            NotOwner::CrossSite(reason) => write!(
                f,
                "{action} is for this node's owner, not for a cross-site browser request ({reason}); use the node's own page, or curl"
            ),
        }
    }
}

impl std::error::Error for OwnerRefusal {}

impl Owner {
    /// The owner of the node whose token is `token`, read from `token_file`.
    pub fn new(token: OwnerToken, token_file: &Path) -> Owner {
        Owner {
            token,
            token_file: token_file.to_path_buf(),
        }
    }

    /// Whether `request` comes from the owner.
    pub fn check(&self, request: &Request) -> Result<(), NotOwner> {
        if let Some(authorization) = request.header("Authorization") {
            // The scheme name is case-insensitive (RFC 9110 §11.1).
            let token = authorization
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
                .map(|(_, token)| token.trim());
            return match token {
                Some(token) if self.token.matches(token) => Ok(()),
                _ => Err(NotOwner::WrongToken),
            };
        }
        let address = request.remote_addr().ip();
        if !is_loopback(address) {
            return Err(NotOwner::Remote(address));
        }
        match cross_site(request) {
            Some(reason) => Err(NotOwner::CrossSite(reason)),
            None => Ok(()),
        }
    }

    /// Passes the owner; anyone else gets the 403 that says how to become the owner.
    /// `action` names what was asked (`POST /restart`, `a payment from this node's wallet`).
    pub fn require(&self, request: &Request, action: &str) -> Result<(), ApiError> {
        self.check(request).map_err(|why| {
            ApiError::NotOwner(OwnerRefusal {
                action: action.to_string(),
                why,
                token_file: self.token_file.clone(),
            })
        })
    }
}

/// 127.0.0.0/8 and ::1, also as an IPv4-mapped IPv6 address.
fn is_loopback(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Why a request from this machine is a browser's cross-site request, if it is one: an
/// `Origin` other than the node's own (from its `Host`), a `Sec-Fetch-Site` other than
/// `same-origin` or `none`, or a `Host` that is not a loopback name (a rebound DNS name).
fn cross_site(request: &Request) -> Option<CrossSite> {
    let host = request.header("Host");
    if let Some(origin) = request.header("Origin") {
        let own = host.map(|host| format!("http://{host}"));
        if own.is_none_or(|own| !own.eq_ignore_ascii_case(origin)) {
            return Some(CrossSite::Origin {
                origin: origin.to_string(),
                host: host.map(str::to_string),
            });
        }
    }
    if let Some(site) = request.header("Sec-Fetch-Site")
        && !site.eq_ignore_ascii_case("same-origin")
        && !site.eq_ignore_ascii_case("none")
    {
        return Some(CrossSite::FetchSite(site.to_string()));
    }
    // A request that names another host reached this machine through a name re-pointed
    // at it (DNS rebinding). Browsers send no `Origin` on a same-origin GET and no
    // `Sec-Fetch-Site` to a plain-http name, so the `Host` alone must tell: it has to name
    // a loopback address (a script using another name sends the token instead).
    if let Some(host) = host
        && !is_loopback_host(host)
    {
        return Some(CrossSite::Host(host.to_string()));
    }
    None
}

/// `localhost`, `*.localhost`, a 127.x address or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(is_loopback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn owner() -> Owner {
        let token = OwnerToken::from_hex(TOKEN).unwrap();
        Owner::new(token, Path::new("data/5000/owner.token"))
    }

    fn request(from: &str, headers: &[(&str, &str)]) -> Request {
        let from: SocketAddr = from.parse().unwrap();
        let headers = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Request::fake_http_from(from, "POST", "/restart", headers, Vec::new())
    }

    #[test]
    fn loopback_without_browser_headers_is_the_owner() {
        let owner = owner();
        assert_eq!(owner.check(&request("127.0.0.1:4000", &[])), Ok(()));
        assert_eq!(owner.check(&request("127.8.9.1:4000", &[])), Ok(()));
        assert_eq!(owner.check(&request("[::1]:4000", &[])), Ok(()));
        assert_eq!(
            owner.check(&request("[::ffff:127.0.0.1]:4000", &[])),
            Ok(())
        );
        let curl = [("Host", "127.0.0.1:5000"), ("User-Agent", "curl/8")];
        assert_eq!(owner.check(&request("127.0.0.1:4000", &curl)), Ok(()));
        let localhost = [("Host", "localhost:5000")];
        assert_eq!(owner.check(&request("127.0.0.1:4000", &localhost)), Ok(()));
        // No Host at all (an HTTP/1.0 client) names no other host either.
        assert_eq!(owner.check(&request("127.0.0.1:4000", &[])), Ok(()));
    }

    #[test]
    fn the_page_served_by_the_node_itself_is_the_owner() {
        let same_origin = [
            ("Host", "127.0.0.1:5000"),
            ("Origin", "http://127.0.0.1:5000"),
            ("Sec-Fetch-Site", "same-origin"),
        ];
        assert_eq!(
            owner().check(&request("127.0.0.1:4000", &same_origin)),
            Ok(())
        );
        let typed_in_the_address_bar = [("Host", "localhost:5000"), ("Sec-Fetch-Site", "none")];
        assert_eq!(
            owner().check(&request("127.0.0.1:4000", &typed_in_the_address_bar)),
            Ok(())
        );
    }

    #[test]
    fn another_machine_needs_the_token() {
        let owner = owner();
        assert_eq!(
            owner.check(&request("192.0.2.7:4000", &[])),
            Err(NotOwner::Remote("192.0.2.7".parse().unwrap()))
        );
        let bearer = format!("Bearer {TOKEN}");
        let with_token = [("Authorization", bearer.as_str())];
        assert_eq!(owner.check(&request("192.0.2.7:4000", &with_token)), Ok(()));
    }

    #[test]
    fn the_scheme_name_is_case_insensitive() {
        let lower = format!("bearer {TOKEN}");
        let header = [("Authorization", lower.as_str())];
        assert_eq!(owner().check(&request("192.0.2.7:4000", &header)), Ok(()));
    }

    #[test]
    fn a_wrong_or_other_authorization_is_refused_even_from_loopback() {
        let owner = owner();
        for value in [
            "Bearer 00",
            "Bearer ",
            "Basic dXNlcjpwYXNz",
            TOKEN,
            &format!("bearer{TOKEN}"),
        ] {
            assert_eq!(
                owner.check(&request("127.0.0.1:4000", &[("Authorization", value)])),
                Err(NotOwner::WrongToken),
                "{value}"
            );
        }
    }

    #[test]
    fn cross_site_browser_requests_are_refused_from_loopback() {
        let owner = owner();
        for headers in [
            vec![
                ("Host", "127.0.0.1:5000"),
                ("Origin", "http://127.0.0.1:8000"),
            ],
            vec![("Host", "127.0.0.1:5000"), ("Origin", "null")],
            vec![("Origin", "http://127.0.0.1:5000")],
            vec![("Host", "127.0.0.1:5000"), ("Sec-Fetch-Site", "same-site")],
            vec![("Host", "127.0.0.1:5000"), ("Sec-Fetch-Site", "cross-site")],
            vec![
                ("Host", "evil.example:5000"),
                ("Origin", "http://evil.example:5000"),
            ],
            // A rebound page's same-origin GET on plain http: no Origin, no Sec-Fetch-Site.
            vec![("Host", "evil.example:5000")],
            vec![("Host", "mynode:5000")],
        ] {
            assert!(
                matches!(
                    owner.check(&request("127.0.0.1:4000", &headers)),
                    Err(NotOwner::CrossSite(_))
                ),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn the_refusal_names_the_action_and_the_token_file() {
        let error = owner()
            .require(&request("192.0.2.7:4000", &[]), "POST /restart")
            .unwrap_err();
        assert_eq!(error.status(), 403);
        let text = error.to_string();
        assert!(text.contains("POST /restart"), "{text}");
        assert!(text.contains("data/5000/owner.token"), "{text}");
        assert!(text.contains("Authorization: Bearer"), "{text}");
        assert!(text.len() < 200, "short: {text}");
    }

    #[test]
    fn a_cross_site_request_from_this_machine_is_not_told_to_call_from_this_machine() {
        let headers = [
            ("Host", "127.0.0.1:5000"),
            ("Origin", "http://evil.example"),
        ];
        let text = owner()
            .require(&request("127.0.0.1:4000", &headers), "POST /restart")
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("cross-site") && text.contains("evil.example"),
            "{text}"
        );
        assert!(!text.contains("from the node's own machine"), "{text}");
        assert!(text.len() < 200, "short: {text}");
        let wrong = [("Authorization", "Bearer 00")];
        let text = owner()
            .require(&request("127.0.0.1:4000", &wrong), "POST /mine")
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("does not carry this node's owner token"),
            "{text}"
        );
        assert!(text.contains("cat data/5000/owner.token"), "{text}");
    }
}
