//! Who and where a node is: peer addresses parsed from what users type
//! (`127.0.0.1:5001`, `http://localhost:5001/`) into the one form nodes keep and compare,
//! [`PeerUrl`] (`http://host:port`), and the [`NodeId`] a node names itself by. Two
//! types, so that an address and an id can never be mixed up.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::ops::Deref;

/// A peer's address in its one normal form, `http://host:port` (lowercase host, no
/// trailing slash): made only by [`normalize_peer`], so two spellings of one address
/// compare equal. Travels as its text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PeerUrl(String);

impl PeerUrl {
    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Read as text, so a `PeerUrl` is usable wherever an address is read; it cannot be made
/// from a node id or any other string without [`normalize_peer`].
impl Deref for PeerUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for PeerUrl {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PeerUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Normalised as it is read: a peer address from a file or a message is checked like
/// one typed by a person.
impl<'de> Deserialize<'de> for PeerUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PeerUrl, D::Error> {
        let text = String::deserialize(deserializer)?;
        normalize_peer(&text).map_err(serde::de::Error::custom)
    }
}

/// A node's id (made once per data directory): lets a node recognise itself, and one
/// peer under two addresses. Only compared, never parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(String);

impl NodeId {
    /// Wraps an id read from the data directory or made for a new one.
    pub fn new(id: impl Into<String>) -> NodeId {
        NodeId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most peers a node keeps (registration beyond it is a 400; peer exchange stops there).
pub const MAX_PEERS: usize = 1000;

/// Why a peer address was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressError {
    /// What the user sent.
    pub input: String,
    /// What is wrong with it and how to write it instead.
    pub reason: String,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer address {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for AddressError {}

/// Normalises a peer address to `http://host:port` (lowercase host, no trailing slash).
/// The scheme is optional but must be `http`; the port is required.
pub fn normalize_peer(input: &str) -> Result<PeerUrl, AddressError> {
    let fail = |reason: &str| AddressError {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let text = input.trim();
    let rest = match text.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(fail(&format!(
                "only http:// peers are supported, not {scheme}://"
            )));
        }
        None => text,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) || rest.chars().any(char::is_whitespace) {
        return Err(fail(
            "expected host:port with no path, e.g. http://127.0.0.1:5001",
        ));
    }
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (inside, after) = bracketed
            .split_once(']')
            .ok_or_else(|| fail("an IPv6 host needs a closing ]"))?;
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(fail(
                "the part in [ ] must be an IPv6 address, e.g. [::1]:5001",
            ));
        }
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| fail("a port is required, e.g. [::1]:5001"))?;
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| fail("a port is required, e.g. 127.0.0.1:5001"))?;
        (host.to_ascii_lowercase(), port)
    };
    // A name or an IPv4 address: letters, digits, dots, dashes (IPv6 only in brackets).
    let host_ok = host.starts_with('[')
        || (!host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
    if !host_ok {
        return Err(fail(
            "the host must be a name or an IP address (IPv6 in brackets, e.g. [::1]:5001)",
        ));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(PeerUrl(format!("http://{host}:{port}"))),
        _ => Err(fail("the port must be a number from 1 to 65535")),
    }
}

/// The URL a node calls itself: the bound host, except that a wildcard bind is reached
/// through loopback.
pub fn own_url(bound_host: &str, port: u16) -> PeerUrl {
    let host = match bound_host {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    PeerUrl(if host.contains(':') && !host.starts_with('[') {
        format!("http://[{host}]:{port}")
    } else {
        format!("http://{host}:{port}")
    })
}

/// Whether a normalised peer address is this node itself: loopback names or the bound
/// host, with our port.
pub fn is_own_address(peer: &str, bound_host: &str, port: u16) -> bool {
    let Some((host, peer_port)) = peer
        .strip_prefix("http://")
        .and_then(|rest| rest.rsplit_once(':'))
    else {
        // Only normalised addresses reach here, so the last ':' always starts the port.
        return false;
    };
    if peer_port.parse::<u16>() != Ok(port) {
        return false;
    }
    let bound = bound_host.to_ascii_lowercase();
    let bound = bound.trim_start_matches('[').trim_end_matches(']');
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "0.0.0.0") || host == bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_scheme_case_and_trailing_slash() {
        assert_eq!(
            normalize_peer("127.0.0.1:5001").unwrap(),
            "http://127.0.0.1:5001"
        );
        assert_eq!(
            normalize_peer("HTTP://LocalHost:5002/").unwrap(),
            "http://localhost:5002"
        );
        assert_eq!(normalize_peer("[::1]:5003").unwrap(), "http://[::1]:5003");
    }

    #[test]
    fn refuses_other_schemes_paths_and_missing_ports() {
        for bad in [
            "https://127.0.0.1:5001",
            "ftp://x:1",
            "127.0.0.1",
            "127.0.0.1:0",
            "127.0.0.1:99999",
            "http://127.0.0.1:5001/chain",
            "",
            ":5001",
            "user@host:1",
            "1:2:3:5001",
            "[zz]:5001",
            "-host:5001",
        ] {
            assert!(normalize_peer(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn recognises_own_address_under_loopback_names() {
        assert!(is_own_address("http://localhost:5000", "127.0.0.1", 5000));
        assert!(is_own_address("http://127.0.0.1:5000", "0.0.0.0", 5000));
        assert!(is_own_address("http://10.0.0.5:5000", "10.0.0.5", 5000));
        assert!(!is_own_address("http://127.0.0.1:5001", "127.0.0.1", 5000));
        assert_eq!(own_url("0.0.0.0", 5000), "http://127.0.0.1:5000");
    }
}
