//! A classroom on one machine: Linux network namespaces, each with its own network stack
//! and address on one shared link, for tests that need nodes on different "machines".
//!
//! Layout of one [`Net`] (N picked per test from the pid and a counter, skipping any
//! `10.N.` already in use here):
//!
//! ```text
//!   root namespace (the test process)       bridge mcb<tag>   10.N.0.254/24
//!     ├── veth mcv<tag><i>  ⇄  eth0 in namespace mc-<pid>-<k>-<i>   10.N.0.(i+1)/24, lo up
//!     └── …
//! ```
//!
//! What it needs: root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2's `ip` with
//! `ip netns`. Without them [`Net::create`] prints why the test is skipped and returns
//! `None`; set `MINICHAIN_REQUIRE_NETNS=1` to make that a failure instead (for a CI runner
//! known to have them). Everything made is removed on drop, also when a test panics;
//! namespaces and bridges left by a test process that was killed are removed by the next
//! run (their names carry the pid that made them).
//!
//! A node runs inside a namespace under `ip netns exec NAME`, which execs the binary in
//! place: the child process is the node, so killing it (as `TestNode` does) kills the node.

use crate::util::{HTTP_TIMEOUT, TestNode};
use serde_json::Value;
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::ops::{Deref, DerefMut};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The port every node listens on inside its namespace (each namespace has its own ports).
pub const NODE_PORT: u16 = 5000;

/// What a skipped test prints.
pub const SKIP_NOTE: &str =
    "skipped: needs root and `ip netns` (iproute2) to build two network stacks";

/// Prefix of every namespace this harness makes: `mc-<pid>-<counter>-<host>`.
const NS_PREFIX: &str = "mc-";
/// Prefix of every bridge: `mcb<pid hex>x<counter hex>` (interface names have at most 15
/// bytes).
const BRIDGE_PREFIX: &str = "mcb";

/// Second octets handed out by this process and not yet released.
static TAKEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// One shared link with a namespace per host; torn down on drop.
pub struct Net {
    /// N of 10.N.0.0/24.
    octet: u8,
    /// Namespace names made so far, host i at index i.
    namespaces: Vec<String>,
    /// Root-side veth ends made so far.
    veths: Vec<String>,
    /// The bridge, once made.
    bridge: Option<String>,
}

impl Net {
    /// Builds `hosts` namespaces on one bridge. `None` (after printing [`SKIP_NOTE`] and
    /// why) when this machine cannot: not root, no `ip`, no `ip netns`.
    pub fn create(hosts: usize) -> Option<Net> {
        assert!((1..=9).contains(&hosts), "1 to 9 hosts per link");
        match Net::try_create(hosts) {
            Ok(net) => Some(net),
            Err(why) => {
                if std::env::var_os("MINICHAIN_REQUIRE_NETNS").is_some_and(|v| v == "1") {
                    panic!("MINICHAIN_REQUIRE_NETNS=1 but {why}");
                }
                eprintln!("{SKIP_NOTE} ({why})");
                None
            }
        }
    }

    fn try_create(hosts: usize) -> Result<Net, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        ip(&["-V"])?;
        sweep_leftovers();
        let pid = std::process::id();
        let k = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{pid:x}x{k:x}");
        let mut net = Net {
            octet: pick_octet(pid, k)?,
            namespaces: Vec::new(),
            veths: Vec::new(),
            bridge: None,
        };
        // From here on, a failure drops `net`, which removes what was made.
        let bridge = format!("{BRIDGE_PREFIX}{tag}");
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        net.bridge = Some(bridge.clone());
        ip(&[
            "addr",
            "add",
            &format!("{}/24", net.root_ip()),
            "dev",
            &bridge,
        ])?;
        ip(&["link", "set", &bridge, "up"])?;
        for host in 0..hosts {
            let ns = format!("{NS_PREFIX}{pid}-{k}-{host}");
            ip(&["netns", "add", &ns])?;
            net.namespaces.push(ns.clone());
            let veth = format!("mcv{tag}{host}");
            ip(&[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ])?;
            net.veths.push(veth.clone());
            ip(&["link", "set", &veth, "master", &bridge])?;
            ip(&["link", "set", &veth, "up"])?;
            let address = format!("{}/24", net.ip(host));
            ip(&["-n", &ns, "addr", "add", &address, "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            // `ip netns exec` also needs to set up a mount namespace; check it can.
            ip(&[
                "netns", "exec", &ns, "ip", "-4", "-o", "addr", "show", "eth0",
            ])?;
        }
        Ok(net)
    }

    /// Host `i`'s address: 10.N.0.(i+1).
    pub fn ip(&self, host: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, self.octet, 0, host as u8 + 1)
    }

    /// The test process's address on the link (the bridge): 10.N.0.254.
    pub fn root_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.octet, 0, 254)
    }

    /// An address on the link that no host has: 10.N.0.(100 + i).
    pub fn unused_ip(&self, i: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, self.octet, 0, 100 + i)
    }

    /// `http://10.N.0.(i+1):5000`, host `i`'s node as every other host reaches it.
    pub fn url(&self, host: usize) -> String {
        format!("http://{}:{NODE_PORT}", self.ip(host))
    }

    /// Starts a node in host `i`'s namespace: `--host 0.0.0.0 --port 5000
    /// --sync-interval-ms 1000` (and the test difficulty and wallet height) on a fresh data
    /// directory, plus `extra`. The test process reaches it through the bridge, so to the
    /// node it is a stranger; [`NsNode::owner`] sends the owner token.
    pub fn start_node(&self, host: usize, extra: &[&str]) -> NsNode {
        let mut args = vec!["--host", "0.0.0.0", "--sync-interval-ms", "1000"];
        args.extend_from_slice(extra);
        let mut node = self.start_in(host, NODE_PORT, &args);
        let url = self.url(host);
        node.url = url.clone();
        NsNode { node, url }
    }

    /// Starts a node in host `i`'s namespace on `port` with exactly `args` (and the test
    /// difficulty and wallet height): with no `--host` it listens on that machine's
    /// 127.0.0.1 only, where the test process cannot reach it.
    pub fn start_in(&self, host: usize, port: u16, args: &[&str]) -> TestNode {
        let ns = &self.namespaces[host];
        TestNode::start_via(&["ip", "netns", "exec", ns], port, args)
            .unwrap_or_else(|why| panic!("starting a node in namespace {ns}: {why}"))
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Deleting a namespace takes its end of a veth with it once no process is left in
        // it (nodes are dropped, and killed, before the net that holds them); the root
        // ends and the bridge are deleted explicitly all the same.
        for ns in &self.namespaces {
            let _ = ip(&["netns", "del", ns]);
        }
        for veth in &self.veths {
            let _ = ip(&["link", "del", veth]);
        }
        if let Some(bridge) = &self.bridge {
            let _ = ip(&["link", "del", bridge]);
        }
        TAKEN
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|o| *o != self.octet);
    }
}

/// A node in a namespace, reached at its address on the link.
pub struct NsNode {
    pub node: TestNode,
    /// `http://10.N.0.x:5000`.
    pub url: String,
}

impl NsNode {
    /// The node's owner token (`<data-dir>/owner.token`).
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.node.data_dir.join("owner.token"))
            .expect("owner.token in the node's data directory")
            .trim()
            .to_string()
    }

    /// A request as the node's owner from another machine: `Authorization: Bearer`.
    pub fn owner(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let reply = request(
            method,
            &format!("{}{path}", self.url),
            body,
            Some(&self.token()),
        )
        .unwrap_or_else(|e| {
            panic!(
                "{method} {}{path} (owner): no answer ({e})\nnode stderr:\n{}",
                self.url,
                crate::util::tail(&self.node.stderr(), 4000)
            )
        });
        let json = serde_json::from_str(&reply.1).unwrap_or_else(|e| {
            panic!(
                "{method} {path} (owner): answer {} is not JSON ({e}): {:?}",
                reply.0, reply.1
            )
        });
        (reply.0, json)
    }

    /// Kills the node (SIGKILL, as `TestNode::restart` does) and starts it again in its
    /// namespace on the same data directory and port.
    pub fn restart(&mut self) {
        self.node.restart();
        self.node.url = self.url.clone();
    }
}

impl Deref for NsNode {
    type Target = TestNode;
    fn deref(&self) -> &TestNode {
        &self.node
    }
}

impl DerefMut for NsNode {
    fn deref_mut(&mut self) -> &mut TestNode {
        &mut self.node
    }
}

/// One HTTP request from the test process; `token`: sent as `Authorization: Bearer`.
/// Returns the status and the body as text (whatever it is).
pub fn request(
    method: &str,
    url: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Result<(u16, String), attohttpc::Error> {
    let method: attohttpc::Method = method.parse().expect("a valid HTTP method");
    let mut builder = attohttpc::RequestBuilder::new(method, url)
        .timeout(HTTP_TIMEOUT)
        .proxy_settings(attohttpc::ProxySettings::builder().build())
        .follow_redirects(false);
    if let Some(token) = token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    let response = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .bytes(serde_json::to_vec(body).unwrap())
            .send()?,
        None => builder.send()?,
    };
    let status = response.status().as_u16();
    Ok((status, response.text()?))
}

/// Runs `ip ARGS`; `Err` names the command and what it printed.
fn ip(args: &[&str]) -> Result<String, String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip {}`: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// A second octet N whose 10.N.0.0/24 nobody here uses: starts from the pid so parallel
/// runs start apart, skips octets this process holds and any `10.N.` on an interface or
/// route of this machine.
fn pick_octet(pid: u32, k: usize) -> Result<u8, String> {
    let in_use = format!(
        "{}\n{}",
        ip(&["-4", "-o", "addr"])?,
        ip(&["-4", "route", "show", "table", "all"])?
    );
    let used: HashSet<u8> = in_use
        .split(|c: char| c.is_whitespace() || c == '/')
        .filter_map(|word| word.strip_prefix("10."))
        .filter_map(|rest| rest.split('.').next()?.parse().ok())
        .collect();
    let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    let start = (pid as usize).wrapping_mul(7).wrapping_add(k * 13) % 200;
    for step in 0..200 {
        let octet = (20 + (start + step) % 200) as u8;
        if !used.contains(&octet) && !taken.contains(&octet) {
            taken.push(octet);
            return Ok(octet);
        }
    }
    Err("no free 10.N.0.0/24 for a test link".into())
}

/// Removes namespaces and bridges this harness made in test processes that are gone
/// (killed before they could clean up); their names carry the maker's pid.
fn sweep_leftovers() {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| {
        let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
        if let Ok(list) = ip(&["netns", "list"]) {
            for name in list
                .lines()
                .filter_map(|line| line.split_whitespace().next())
            {
                let parts: Vec<&str> = name
                    .strip_prefix(NS_PREFIX)
                    .map_or_else(Vec::new, |rest| rest.split('-').collect());
                let ours = parts.len() == 3
                    && parts
                        .iter()
                        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
                let pid = ours.then(|| parts[0].parse::<u32>().ok()).flatten();
                if pid.is_some_and(|pid| !alive(pid)) {
                    let _ = ip(&["netns", "del", name]);
                }
            }
        }
        if let Ok(list) = ip(&["-o", "link", "show", "type", "bridge"]) {
            for line in list.lines() {
                let Some(name) = line.split(": ").nth(1).map(|n| n.trim_end_matches(':')) else {
                    continue;
                };
                let hex =
                    |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_hexdigit());
                let pid = name
                    .strip_prefix(BRIDGE_PREFIX)
                    .and_then(|rest| rest.split_once('x'))
                    .filter(|(pid, k)| hex(pid) && hex(k))
                    .and_then(|(pid, _)| u32::from_str_radix(pid, 16).ok());
                if pid.is_some_and(|pid| !alive(pid)) {
                    let _ = ip(&["link", "del", name]);
                }
            }
        }
    });
}
