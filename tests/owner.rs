//! SPEC §5a, issue 14: who may command a node. Nodes bound to `0.0.0.0` are reached
//! through this machine's own non-loopback address (a classmate on the LAN), with and
//! without the owner token; loopback requests with a browser's cross-site headers; the
//! one listening port; forged peer claims; the start-up warning and the log's client
//! address.

use crate::util::{TestNode, lan_or_skip, wait_until};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::time::Duration;

/// A client of one node at one base URL, sending the headers it is given.
struct Client {
    base: String,
    headers: Vec<(String, String)>,
}

impl Client {
    fn at(base: String) -> Client {
        Client {
            base,
            headers: Vec::new(),
        }
    }

    /// The node as another machine reaches it: its port on this machine's LAN address.
    fn from_lan(node: &TestNode, lan: IpAddr) -> Client {
        Client::at(format!("http://{lan}:{}", node.port))
    }

    fn with(mut self, name: &str, value: &str) -> Client {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn with_token(self, node: &TestNode) -> Client {
        let token = owner_token(node);
        self.with("Authorization", &format!("Bearer {token}"))
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let method: attohttpc::Method = method.parse().unwrap();
        let mut builder = attohttpc::RequestBuilder::new(method, format!("{}{path}", self.base))
            .timeout(Duration::from_secs(30))
            .proxy_settings(attohttpc::ProxySettings::builder().build());
        for (name, value) in &self.headers {
            let name = attohttpc::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
            builder = builder.header_append(name, value.as_str());
        }
        let response = match body {
            Some(body) => builder
                .header("Content-Type", "application/json")
                .bytes(serde_json::to_vec(body).unwrap())
                .send(),
            None => builder.send(),
        }
        .unwrap_or_else(|error| panic!("{path}: no answer: {error}"));
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json)
    }
}

fn owner_token(node: &TestNode) -> String {
    std::fs::read_to_string(node.data_dir.join("owner.token"))
        .expect("owner.token in the data directory")
        .trim()
        .to_string()
}

/// What an owner action could change, read from loopback.
#[derive(Debug, PartialEq)]
struct Snapshot {
    chain: Vec<Value>,
    pool: Vec<Value>,
    wallet: Value,
    peers: Vec<Value>,
}

fn snapshot(node: &TestNode) -> Snapshot {
    Snapshot {
        chain: node.chain(),
        pool: node.pool(),
        wallet: node.get("/wallet").1,
        peers: node.peers(),
    }
}

/// Every owner action of SPEC §5a, as (method, path, body).
fn owner_actions(node: &TestNode, peer: &str) -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("POST", "/mine", None),
        ("GET", "/mine", None),
        ("POST", "/restart", None),
        ("GET", "/restart", None),
        ("POST", "/wallet/rotate", None),
        (
            "DELETE",
            "/nodes/register",
            Some(json!({ "nodes": [peer] })),
        ),
        (
            "POST",
            "/transactions/new",
            Some(json!({ "recipient": "mallory", "amount": 7 })),
        ),
        (
            "POST",
            "/transactions/new",
            Some(json!({ "sender": node.wallet_address(), "recipient": "mallory", "amount": 7 })),
        ),
    ]
}

/// A node on `0.0.0.0` with a block mined to its wallet and one registered peer.
fn exposed_node() -> (TestNode, TestNode) {
    let peer = TestNode::start(&["--no-relay"]);
    let node = TestNode::start(&["--host", "0.0.0.0", "--no-relay"]);
    node.mine();
    let (status, answer) = node.post("/nodes/register", &json!({ "nodes": [peer.url] }));
    assert_eq!(status, 201, "{answer}");
    (node, peer)
}

#[test]
fn every_owner_action_from_another_machine_is_403_and_changes_nothing() {
    let Some(lan) = lan_or_skip("every_owner_action_from_another_machine_is_403") else {
        return;
    };
    let (node, peer) = exposed_node();
    let before = snapshot(&node);
    let classmate = Client::from_lan(&node, lan);
    for (method, path, body) in owner_actions(&node, &peer.url) {
        let (status, answer) = classmate.call(method, path, body.as_ref());
        assert_eq!(status, 403, "{method} {path} from {lan}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("owner.token") && error.contains("Authorization: Bearer"),
            "{method} {path}: the refusal names the token file and the header: {error}"
        );
    }
    assert_eq!(snapshot(&node), before, "nothing changed");
}

#[test]
fn with_the_token_each_owner_action_works_from_another_machine() {
    let Some(lan) = lan_or_skip("with_the_token_each_owner_action_works") else {
        return;
    };
    let (node, peer) = exposed_node();
    let owner = Client::from_lan(&node, lan).with_token(&node);
    let length = node.chain().len();

    let (status, block) = owner.call("POST", "/mine", None);
    assert_eq!(status, 200, "{block}");
    assert_eq!(node.chain().len(), length + 1);
    let (status, block) = owner.call("GET", "/mine", None);
    assert_eq!(status, 200, "{block}");

    let pay = json!({ "recipient": "bob", "amount": 3 });
    let (status, answer) = owner.call("POST", "/transactions/new", Some(&pay));
    assert_eq!(status, 201, "{answer}");
    let pay = json!({ "sender": node.wallet_address(), "recipient": "bob", "amount": 2 });
    let (status, answer) = owner.call("POST", "/transactions/new", Some(&pay));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(node.pool().len(), 2);

    let old_key = node.wallet_address();
    let (status, answer) = owner.call("POST", "/wallet/rotate", None);
    assert_eq!(status, 200, "{answer}");
    assert_ne!(node.wallet_address(), old_key);

    let forget = json!({ "nodes": [peer.url] });
    let (status, answer) = owner.call("DELETE", "/nodes/register", Some(&forget));
    assert_eq!(status, 200, "{answer}");
    assert!(node.peers().is_empty());

    let (status, answer) = owner.call("POST", "/restart", None);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(node.chain().len(), 1);
}

#[test]
fn a_wrong_or_other_authorization_is_403_even_from_loopback() {
    let node = TestNode::start(&[]);
    let length = node.chain().len();
    let wrong = format!("Bearer {}", "0".repeat(64));
    let token = owner_token(&node);
    for value in [
        wrong.as_str(),
        "Bearer",
        "Basic b3duZXI6c2VjcmV0",
        token.as_str(),
        &format!("Token {token}"),
    ] {
        let client = Client::at(node.url.clone()).with("Authorization", value);
        let (status, answer) = client.call("POST", "/mine", None);
        assert_eq!(status, 403, "Authorization: {value}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap_or_default()
                .contains("does not carry this node's owner token"),
            "{answer}"
        );
    }
    assert_eq!(node.chain().len(), length);
    // The right token works from loopback too.
    let (status, _) = Client::at(node.url.clone())
        .with_token(&node)
        .call("POST", "/mine", None);
    assert_eq!(status, 200);
}

#[test]
fn cross_site_browser_requests_from_loopback_are_403() {
    let node = TestNode::start(&[]);
    node.mine();
    let before = snapshot(&node);
    let own_origin = node.url.clone();
    let cross_site: Vec<Vec<(&str, &str)>> = vec![
        vec![("Origin", "http://127.0.0.1:8000")],
        vec![("Origin", "http://evil.example")],
        vec![("Origin", "null")],
        vec![("Sec-Fetch-Site", "same-site")],
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Origin", &own_origin), ("Sec-Fetch-Site", "cross-site")],
    ];
    for headers in &cross_site {
        for (method, path, body) in owner_actions(&node, "http://127.0.0.1:1") {
            let mut client = Client::at(node.url.clone());
            for (name, value) in headers {
                client = client.with(name, value);
            }
            let (status, answer) = client.call(method, path, body.as_ref());
            assert_eq!(status, 403, "{method} {path} with {headers:?}: {answer}");
            assert!(
                answer["error"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("cross-site"),
                "{answer}"
            );
        }
    }
    assert_eq!(snapshot(&node), before, "nothing changed");

    // The page the node serves itself is same-origin: its actions work.
    let page = Client::at(node.url.clone())
        .with("Origin", &own_origin)
        .with("Sec-Fetch-Site", "same-origin");
    let (status, answer) = page.call("POST", "/mine", None);
    assert_eq!(status, 200, "{answer}");
    // Owner actions never invite other origins to read them.
    let reply = node.request("POST", "/mine", None, None);
    assert_eq!(reply.status, 200);
}

#[test]
fn reads_the_peer_protocol_and_payments_with_their_own_authority_stay_public() {
    let Some(lan) = lan_or_skip("reads_the_peer_protocol_and_payments_stay_public") else {
        return;
    };
    let (node, peer) = exposed_node();
    node.pay_ok(&node.wallet_address(), "alice", 20);
    node.mine();
    let classmate = Client::from_lan(&node, lan);
    for path in [
        "/chain",
        "/pool",
        "/wallet",
        "/balances",
        "/nodes",
        "/nodes/register",
        "/inv",
        "/getblocks",
        "/nodes/resolve",
    ] {
        let (status, answer) = classmate.call("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {answer}");
    }
    // Names are open accounts (SPEC §3a): anyone may spend from one.
    let pay = json!({ "sender": "alice", "recipient": "carol", "amount": 5 });
    let (status, answer) = classmate.call("POST", "/transactions/new", Some(&pay));
    assert_eq!(status, 201, "{answer}");
    // A node registers itself (SPEC §6c): its own address as the node sees it.
    let join =
        json!({ "nodes": [format!("http://{}", std::net::SocketAddr::new(lan, peer.port))] });
    let (status, answer) = classmate.call("POST", "/nodes/register", Some(&join));
    assert_eq!(status, 201, "{answer}");
    // Anyone else's address, or one on the node's own machine, is the owner's to add.
    for other in [
        format!("http://127.0.0.1:{}", peer.port),
        "http://192.0.2.77:5000".to_string(),
    ] {
        let join = json!({ "nodes": [other] });
        let (status, answer) = classmate.call("POST", "/nodes/register", Some(&join));
        assert_eq!(status, 403, "{other}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("may register only itself"),
            "{answer}"
        );
    }
    let (_, inv) = node.get("/inv");
    let announce = json!({
        "node": peer.url, "node_id": "someone", "length": 1,
        "tip": inv["genesis"], "genesis": inv["genesis"],
    });
    let (status, answer) = classmate.call("POST", "/inv", Some(&announce));
    assert_eq!(status, 202, "{answer}");
}

#[test]
fn the_owner_token_is_private_and_kept_across_restarts() {
    use std::os::unix::fs::PermissionsExt;
    let mut node = TestNode::start(&[]);
    let path = node.data_dir.join("owner.token");
    let token = owner_token(&node);
    assert_eq!(token.len(), 64);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "owner.token is readable by its owner only");
    let (status, _) = node.post("/restart", &Value::Null);
    assert_eq!(status, 200);
    assert_eq!(owner_token(&node), token, "/restart keeps the token");
    node.restart();
    assert_eq!(
        owner_token(&node),
        token,
        "a restarted process keeps the token"
    );
    let other = TestNode::start(&[]);
    assert_ne!(owner_token(&other), token, "each node has its own token");
}

/// The TCP ports `pid` listens on: its socket inodes matched against the kernel's
/// tables of listening sockets (state 0A).
fn listening_ports(pid: u32) -> Vec<u16> {
    let mut inodes = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
    {
        if let Ok(target) = std::fs::read_link(entry.path())
            && let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
        {
            inodes.push(inode.to_string());
        }
    }
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9 && fields[3] == "0A" && inodes.iter().any(|i| i == fields[9]) {
                let port = fields[1].rsplit(':').next().unwrap();
                ports.push(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports
}

#[test]
fn the_process_listens_on_exactly_its_port() {
    let node = TestNode::start(&[]);
    node.mine();
    assert_eq!(listening_ports(node.pid()), vec![node.port]);
    let exposed = TestNode::start(&["--host", "0.0.0.0"]);
    assert_eq!(listening_ports(exposed.pid()), vec![exposed.port]);
}

#[test]
fn forged_relays_and_announcements_in_a_peers_name_leave_that_peer_as_it_was() {
    let a = TestNode::start(&[]);
    let b = TestNode::start(&[]);
    let (status, answer) = a.post("/nodes/register", &json!({ "nodes": [b.url] }));
    assert_eq!(status, 201, "{answer}");
    let (_, b_inv) = b.get("/inv");
    let b_id = b_inv["node_id"].as_str().unwrap().to_string();
    let view_of_b = || {
        let (_, nodes) = a.get("/nodes");
        let entry = nodes["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node"] == b.url.as_str())
            .cloned()
            .expect("b in a's /nodes");
        (entry["failures"].clone(), entry["status"].clone())
    };
    assert!(wait_until(Duration::from_secs(20), || view_of_b().1 == "up"));
    let before = view_of_b();

    let forger = Client::at(a.url.clone()).with("X-Minichain-Node-Id", &b_id);
    let other_genesis = "ab".repeat(32);
    for i in 0..100u64 {
        // A payment that cannot be admitted (an overspend), "relayed by b".
        let overspend = json!({ "sender": format!("nobody{i}"), "recipient": "x", "amount": 5, "timestamp": 1_000 + i });
        let (status, _) = forger.call("POST", "/transactions/new", Some(&overspend));
        assert_eq!(status, 400);
        // An announcement in b's name from another network.
        let foreign = json!({
            "node": b.url, "node_id": b_id, "length": 5 + i,
            "tip": format!("{:064x}", i + 1), "genesis": other_genesis,
        });
        let (status, answer) = forger.call("POST", "/inv", Some(&foreign));
        assert_eq!(status, 202);
        // The node says it dropped the tip: nothing was queued that could still call b.
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|said| said.contains("tip ignored")),
            "{answer}"
        );
    }
    // Every forgery has been answered, each payment refused at once and each announcement
    // dropped, so there is nothing left to wait for.
    assert_eq!(
        view_of_b(),
        before,
        "b's failures and status are what a's own calls found"
    );
}

#[test]
fn warns_when_bound_beyond_loopback_and_logs_each_clients_address() {
    let exposed = TestNode::start(&["--host", "0.0.0.0"]);
    exposed.get("/chain");
    let token_file = exposed.data_dir.join("owner.token");
    assert!(wait_until(Duration::from_secs(10), || {
        let log = exposed.stderr();
        log.contains("bound to 0.0.0.0")
            && log.contains(&token_file.display().to_string())
            && log.contains("127.0.0.1:")
            && log.contains("GET /chain -> 200")
    }));
    let log = exposed.stderr();
    let line = log
        .lines()
        .find(|line| line.contains("GET /chain -> 200"))
        .unwrap();
    assert!(
        line.contains("127.0.0.1:"),
        "the request line names the client's address: {line}"
    );
    let private = TestNode::start(&[]);
    private.get("/chain");
    assert!(
        !private.stderr().contains("bound to"),
        "no warning on loopback"
    );
}
