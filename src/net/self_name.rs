//! How this node names itself to each peer (SPEC §6c): by `--advertise` when given, else
//! by the address that peer sees it connect from, so that a node bound to `0.0.0.0` on a
//! laptop is known to the teacher's node by the laptop's address on the room's network,
//! not by `127.0.0.1` (which on the teacher's machine is the teacher's own).
//!
//! The local address of a connection to a peer is the one the system's routing picks
//! for that peer; a UDP socket `connect`ed to the peer learns it without sending a
//! packet. Also remembers the addresses that turned out to be this node itself, so
//! peer exchange does not ask them again.

use crate::node::Identity;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a peer's answer is reused before the route is looked up again (a laptop may
/// change networks; a name may resolve elsewhere).
const REUSE_FOR: Duration = Duration::from_secs(60);

/// Most addresses remembered as this node's own.
const MAX_OWN: usize = 64;

/// The name this node gives each peer, and the addresses known to be itself.
#[derive(Default)]
pub struct SelfName {
    given: Mutex<HashMap<String, (String, Instant)>>,
    own: Mutex<HashSet<String>>,
}

impl SelfName {
    /// The URL this node gives `peer` for itself: `--advertise`, the bound address when
    /// it is a specific one that is not loopback, else this machine's address on the
    /// route to `peer` (loopback only when the peer is on loopback too).
    pub fn url_for(&self, identity: &Identity, peer: &str) -> String {
        if let Some(advertised) = &identity.advertise {
            return advertised.clone();
        }
        if bound_to_one_address(&identity.bound_host)
            || (is_loopback_url(&identity.url) && is_loopback_url(peer) && !wildcard(identity))
        {
            return identity.url.to_string();
        }
        let mut given = self.given.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((url, at)) = given.get(peer)
            && at.elapsed() < REUSE_FOR
        {
            return url.clone();
        }
        drop(given);
        let url = match local_address_for(peer, !bound_to_ipv6(&identity.bound_host)) {
            Some(local) => url_of(local, identity.port),
            None => identity.url.to_string(),
        };
        given = self.given.lock().unwrap_or_else(|p| p.into_inner());
        if given.len() >= 4 * crate::wire::address::MAX_PEERS {
            given.clear();
        }
        given.insert(peer.to_string(), (url.clone(), Instant::now()));
        drop(given);
        self.is_me(&url);
        url
    }

    /// Remembers that `url` reaches this node (it gave that name, or a probe of it
    /// answered with our node id).
    pub fn is_me(&self, url: &str) {
        let mut own = self.own.lock().unwrap_or_else(|p| p.into_inner());
        if own.len() < MAX_OWN {
            own.insert(url.to_string());
        }
    }

    /// Whether `url` is known to reach this node.
    pub fn known_as_me(&self, url: &str) -> bool {
        self.own
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(url)
    }
}

/// Where the routing table sends traffic for other machines: the default route and the
/// private ranges of a classroom network. Nothing is sent to them.
const ROUTE_PROBES: [&str; 5] = [
    "http://8.8.8.8:53",
    "http://10.255.255.254:9",
    "http://172.31.255.254:9",
    "http://192.168.255.254:9",
    "http://[2001:4860:4860::8888]:53",
];

/// The URLs other machines can reach this node at, for its log and `GET /nodes`: the
/// `--advertise` URL; the bound address when it is one; with a wildcard bind, this
/// machine's address on each route to another network. Empty when bound to loopback.
pub fn reachable_urls(identity: &Identity) -> Vec<String> {
    if let Some(advertised) = &identity.advertise {
        return vec![advertised.clone()];
    }
    if bound_to_one_address(&identity.bound_host) {
        return vec![identity.url.to_string()];
    }
    if !wildcard(identity) {
        return Vec::new();
    }
    let ipv4_only = !bound_to_ipv6(&identity.bound_host);
    let mut urls = Vec::new();
    for probe in ROUTE_PROBES {
        if let Some(ip) = local_address_for(probe, ipv4_only)
            && !ip.is_loopback()
        {
            let url = url_of(ip, identity.port);
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
    }
    urls
}

/// Whether `--host` names one address other machines can reach (not a wildcard, not
/// loopback, not a name): then that address is the node's name everywhere.
fn bound_to_one_address(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| !ip.is_unspecified() && !ip.is_loopback())
}

/// Whether a normalised peer URL names a loopback address (or `localhost`).
pub fn is_loopback_url(peer: &str) -> bool {
    host_of(peer).is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

/// The host part of a normalised `http://host:port` URL, without IPv6 brackets.
pub fn host_of(peer: &str) -> Option<&str> {
    let rest = peer.strip_prefix("http://")?;
    let (host, _port) = rest.rsplit_once(':')?;
    Some(host.trim_start_matches('[').trim_end_matches(']'))
}

/// Whether the node listens on IPv6 (`::`, an IPv6 address): then IPv6 routes count too.
fn bound_to_ipv6(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_ipv6())
}

/// Whether the node is bound to a wildcard address (`0.0.0.0`, `::`).
fn wildcard(identity: &Identity) -> bool {
    identity
        .bound_host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

/// This machine's address on the route to `peer`: the source address a connection to it
/// would have. `None` when the peer's name does not resolve or there is no route.
pub fn local_address_toward(peer: &str) -> Option<IpAddr> {
    local_address_for(peer, false)
}

/// [`local_address_toward`], with an IPv4 address of the peer taken when `ipv4_only` (a
/// node bound to `0.0.0.0` is not reachable over IPv6).
fn local_address_for(peer: &str, ipv4_only: bool) -> Option<IpAddr> {
    let mut targets = peer.strip_prefix("http://")?.to_socket_addrs().ok()?;
    let target: SocketAddr = if ipv4_only {
        targets.find(SocketAddr::is_ipv4)?
    } else {
        targets.next()?
    };
    let any: SocketAddr = if target.is_ipv4() {
        (IpAddr::from([0u8; 4]), 0).into()
    } else {
        (IpAddr::from([0u16; 8]), 0).into()
    };
    let socket = UdpSocket::bind(any).ok()?;
    socket.connect(target).ok()?;
    let local = socket.local_addr().ok()?.ip();
    (!local.is_unspecified()).then_some(local)
}

/// `http://ip:port`, IPv6 in brackets.
pub fn url_of(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(ip) => format!("http://{ip}:{port}"),
        IpAddr::V6(ip) => format!("http://[{ip}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(bound: &str, advertise: Option<&str>) -> Identity {
        Identity {
            url: crate::wire::address::own_url(bound, 5000),
            bound_host: bound.into(),
            advertise: advertise.map(str::to_string),
            port: 5000,
            node_id: crate::wire::address::NodeId::new("n"),
            miner: None,
            wallet_height: 5,
            threads: 1,
            pool_max: 10,
        }
    }

    #[test]
    fn a_loopback_peer_hears_loopback() {
        let names = SelfName::default();
        assert_eq!(
            names.url_for(&identity("0.0.0.0", None), "http://127.0.0.1:5001"),
            "http://127.0.0.1:5000"
        );
        assert!(names.known_as_me("http://127.0.0.1:5000"));
    }

    #[test]
    fn advertise_and_a_specific_bind_win() {
        let names = SelfName::default();
        assert_eq!(
            names.url_for(
                &identity("0.0.0.0", Some("http://teacher.lan:5000")),
                "http://127.0.0.1:5001"
            ),
            "http://teacher.lan:5000"
        );
        assert_eq!(
            names.url_for(&identity("10.1.2.3", None), "http://127.0.0.1:5001"),
            "http://10.1.2.3:5000"
        );
    }

    #[test]
    fn hosts_and_loopback_urls() {
        assert_eq!(host_of("http://[::1]:5000"), Some("::1"));
        assert!(is_loopback_url("http://[::1]:5000"));
        assert!(is_loopback_url("http://localhost:5000"));
        assert!(is_loopback_url("http://127.8.0.1:5000"));
        assert!(!is_loopback_url("http://10.0.0.1:5000"));
        assert_eq!(url_of("fe80::1".parse().unwrap(), 1), "http://[fe80::1]:1");
    }
}
