//! SPEC §6c across real network stacks: a teacher's node and students' nodes on different
//! "machines" (Linux network namespaces on one bridge, see `netns.rs`), and a classmate
//! (the test process itself, on the bridge) experimenting on them.
//!
//! What these tests need: root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2's `ip`
//! with `ip netns`, to make namespaces, a bridge and veth pairs. Without them each
//! namespace test prints "skipped: needs root and `ip netns` (iproute2) to build two
//! network stacks" and passes; `MINICHAIN_REQUIRE_NETNS=1` makes that a failure. They use
//! 10.N.0.0/24 links (N chosen free per test) and port 5000 inside each namespace. The
//! last test (a payment reaching a peer that was down) runs on 127.0.0.1 and needs nothing.
//!
//! Every node runs with `--host 0.0.0.0 --sync-interval-ms 1000 --difficulty 8
//! --wallet-height 5`. The test process reaches the nodes at 10.N.0.x:5000 through the
//! bridge, so to them it is a stranger (10.N.0.254): owner actions carry the owner token
//! from the node's `owner.token` (`NsNode::owner`).

use crate::netns::{NODE_PORT, Net, NsNode, request};
use crate::util::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long something may take to spread between nodes (a second or two when idle;
/// generous because other builds share the machine).
const SPREAD: Duration = Duration::from_secs(30);

/// `GET /nodes`: each peer as this node describes it.
fn nodes_view(node: &TestNode) -> Vec<Value> {
    let (status, answer) = node.get("/nodes");
    assert_eq!(status, 200, "GET /nodes: {answer}");
    answer["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("GET /nodes: no array: {answer}"))
        .clone()
}

/// The `kind` `GET /nodes` gives `peer`, if it lists it.
fn kind_of(node: &TestNode, peer: &str) -> Option<String> {
    nodes_view(node)
        .into_iter()
        .find(|entry| entry["node"] == peer)
        .map(|entry| entry["kind"].as_str().unwrap_or("(no kind)").to_string())
}

/// `GET /nodes/register` as strings.
fn peer_urls(node: &TestNode) -> Vec<String> {
    node.peers()
        .iter()
        .map(|peer| peer.as_str().expect("a peer URL is a string").to_string())
        .collect()
}

/// Neither `GET /nodes/register` nor `GET /nodes` of any of `nodes` names a loopback
/// address: on another machine it would name that machine itself.
fn assert_no_loopback(nodes: &[&TestNode]) {
    for node in nodes {
        let listed: Vec<String> = peer_urls(node)
            .into_iter()
            .chain(
                nodes_view(node)
                    .iter()
                    .map(|entry| entry["node"].as_str().unwrap_or("").to_string()),
            )
            .collect();
        for url in &listed {
            assert!(
                !url.contains("://127.") && !url.contains("localhost") && !url.contains("[::1]"),
                "{} lists the loopback address {url}: {listed:?}",
                node.url
            );
        }
    }
}

fn chain_length(node: &TestNode) -> u64 {
    let (status, inv) = node.get("/inv?limit=0");
    assert_eq!(status, 200, "GET /inv: {inv}");
    inv["length"].as_u64().expect("a length")
}

fn tip(node: &TestNode) -> String {
    let (status, inv) = node.get("/inv?limit=0");
    assert_eq!(status, 200, "GET /inv: {inv}");
    inv["tip"].as_str().expect("a tip").to_string()
}

fn pool_ids(node: &TestNode) -> Vec<String> {
    node.pool()
        .iter()
        .map(|tx| tx["id"].as_str().expect("an id").to_string())
        .collect()
}

/// Requests a node answered, counted from its one line per request (`… routes] CLIENT
/// METHOD TARGET -> STATUS`); `request` is a method and the start of the target;
/// `client`: only those from this IP address.
fn answered(node: &TestNode, client: Option<Ipv4Addr>, request: &str) -> usize {
    node.stderr()
        .lines()
        .filter_map(|line| line.split_once("minichain::http::routes] "))
        .filter_map(|(_, rest)| rest.split_once(' '))
        .filter(|(from, asked)| {
            asked.starts_with(request)
                && client.is_none_or(|ip| from.split(':').next() == Some(&ip.to_string()))
        })
        .count()
}

/// Nobody called `/nodes/resolve` on any of `nodes`: what spread, spread by itself.
fn assert_nobody_resolved(nodes: &[&TestNode]) {
    for node in nodes {
        let calls = answered(node, None, "POST /nodes/resolve")
            + answered(node, None, "GET /nodes/resolve");
        assert_eq!(calls, 0, "{} was asked to resolve", node.url);
    }
}

/// Waits for `check`, failing with `what` and the nodes' logs at the deadline.
fn wait_for(what: &str, nodes: &[&TestNode], check: impl FnMut() -> bool) {
    if !wait_until(SPREAD, check) {
        let logs: Vec<String> = nodes
            .iter()
            .map(|node| format!("--- {} ---\n{}", node.url, tail(&node.stderr(), 3000)))
            .collect();
        panic!("{what}: not within {SPREAD:?}\n{}", logs.join("\n"));
    }
}

/// An owner action that must succeed with `status`; returns the answer.
fn owner_ok(node: &NsNode, method: &str, path: &str, body: Option<&Value>, status: u16) -> Value {
    let (got, answer) = node.owner(method, path, body);
    assert_eq!(
        got, status,
        "{method} {path} as the owner of {}: {answer}",
        node.url
    );
    answer
}

#[test]
fn two_machines_exchange_blocks_and_payments_both_ways() {
    let Some(net) = Net::create(2) else { return };
    let teacher = net.start_node(0, &[]);
    let teacher_address = format!("{}:{NODE_PORT}", net.ip(0));
    let student = net.start_node(1, &["--peer", &teacher_address]);
    let both: [&TestNode; 2] = [&teacher, &student];

    // The student named itself by its own address on the link, and the teacher keeps it
    // as a learned peer (a stranger registering itself); the student keeps its --peer.
    wait_for("the teacher lists the student as learned", &both, || {
        kind_of(&teacher, &student.url).as_deref() == Some("learned")
    });
    assert_eq!(student.url, net.url(1));
    assert_eq!(
        kind_of(&student, &teacher.url).as_deref(),
        Some("owner"),
        "the student lists the teacher it was started with: {:?}",
        nodes_view(&student)
    );
    assert_no_loopback(&both);

    // Blocks, both ways.
    let block = owner_ok(&student, "POST", "/mine", None, 200);
    wait_for("the student's block reaches the teacher", &both, || {
        chain_length(&teacher) == 2 && tip(&teacher) == block["hash"]
    });
    let block = owner_ok(&teacher, "POST", "/mine", None, 200);
    wait_for("the teacher's block reaches the student", &both, || {
        chain_length(&student) == 3 && tip(&student) == block["hash"]
    });

    // Payments signed by each node's wallet (paid by its block), both ways.
    let pay = json!({"recipient": "bob", "amount": 1});
    let paid = owner_ok(&student, "POST", "/transactions/new", Some(&pay), 201);
    let id = paid["transaction"]["id"].as_str().unwrap().to_string();
    wait_for(
        "the student's payment reaches the teacher's pool",
        &both,
        || pool_ids(&teacher).contains(&id),
    );
    let paid = owner_ok(&teacher, "POST", "/transactions/new", Some(&pay), 201);
    let id = paid["transaction"]["id"].as_str().unwrap().to_string();
    wait_for(
        "the teacher's payment reaches the student's pool",
        &both,
        || pool_ids(&student).contains(&id),
    );

    assert_nobody_resolved(&both);
    assert_no_loopback(&both);
    assert_eq!(kind_of(&teacher, &student.url).as_deref(), Some("learned"));
    assert_eq!(kind_of(&student, &teacher.url).as_deref(), Some("owner"));
}

/// A classmate's HTTP service that answers every request with `status` and `body`.
struct Hostile {
    url: String,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Hostile {
    fn start(ip: Ipv4Addr, status: &'static str, body: &'static str) -> Hostile {
        let listener = TcpListener::bind((ip, 0)).expect("bind on the bridge address");
        let url = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopped) = (hits.clone(), stop.clone());
        let thread = thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                        thread::spawn(move || answer(stream, status, body));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Hostile {
            url,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request (head and `Content-Length` body, within a few seconds) and answers.
fn answer(mut stream: TcpStream, status: &str, body: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if request.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length.min(1 << 20) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// A classmate registering `url` at `node` (no token, from the bridge address).
fn classmate_registers(node: &TestNode, urls: &[String]) -> (u16, Value) {
    node.post("/nodes/register", &json!({ "nodes": urls }))
}

/// The text of a public read, as it went over the wire.
fn raw(node: &TestNode, method: &str, path: &str) -> String {
    let (status, text) = request(method, &format!("{}{path}", node.url), None, None)
        .unwrap_or_else(|e| panic!("{method} {path}: no answer ({e})"));
    assert_eq!(status, 200, "{method} {path}: {text}");
    text
}

#[test]
fn a_classmate_cannot_fill_poison_or_proxy() {
    let Some(net) = Net::create(1) else { return };
    let mut teacher = net.start_node(0, &[]);
    let me = net.root_ip(); // the classmate, as the teacher's socket sees it
    let mine = |port: u16| format!("http://{me}:{port}");

    // A classmate registers itself: 4 ports of its own address, as learned peers.
    for port in 6001..=6004 {
        let (status, answer) = classmate_registers(&teacher, &[mine(port)]);
        assert_eq!(status, 201, "registering itself on port {port}: {answer}");
        assert_eq!(kind_of(&teacher, &mine(port)).as_deref(), Some("learned"));
    }
    let listed = peer_urls(&teacher);
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_error(
        "a 5th port",
        &classmate_registers(&teacher, &[mine(6005)]),
        403,
    );

    // Anything but itself: the teacher's own machine, the cloud metadata address, another
    // classmate. Refused, and nothing changes.
    for other in [
        "http://127.0.0.1:22".to_string(),
        "http://169.254.169.254:80".to_string(),
        format!("http://{}:5000", net.ip(2)), // 10.N.0.3: another classmate
    ] {
        assert_error(
            &format!("registering {other}"),
            &classmate_registers(&teacher, std::slice::from_ref(&other)),
            403,
        );
    }
    assert_eq!(peer_urls(&teacher), listed);

    // 999 more attempts naming other hosts (alone or beside its own address) are all
    // refused; the list is as it was and the owner still registers a peer.
    let started = Instant::now();
    for i in 0..999u32 {
        let (a, b) = ((i / 250) as u8, (i % 250) as u8 + 1);
        let urls: Vec<String> = match i % 7 {
            0 => vec![format!("http://{}:5000", net.unused_ip(b % 100))],
            1 => vec![format!("http://192.168.{a}.{b}:5000")],
            2 => vec![format!("http://junk{i}.example:80")],
            3 => vec![format!("http://[fe80::{i:x}]:5000")],
            4 => vec![mine(6001), format!("http://172.16.{a}.{b}:5000")],
            5 => vec![format!("http://localhost:{}", 6000 + i)],
            _ => vec![mine(7000 + i as u16)], // its own address, past 4 ports
        };
        let (status, answer) = classmate_registers(&teacher, &urls);
        assert_eq!(status, 403, "junk registration {i} {urls:?}: {answer}");
    }
    eprintln!("999 refused registrations took {:?}", started.elapsed());
    assert_eq!(peer_urls(&teacher), listed);
    let someone = format!("http://{}:5000", net.unused_ip(7));
    owner_ok(
        &teacher,
        "POST",
        "/nodes/register",
        Some(&json!({ "nodes": [someone] })),
        201,
    );
    assert_eq!(kind_of(&teacher, &someone).as_deref(), Some("owner"));

    // The owner registers two of the classmate's services that answer with words meant
    // to travel: an HTTP 500 with a secret, a 200 with the wrong types. The teacher calls
    // them, and none of its answers repeat their words.
    let failing = Hostile::start(
        me,
        "500 Internal Server Error",
        r#"{"error":"internal admin: S3CRET-123"}"#,
    );
    let mistyped = Hostile::start(me, "200 OK", r#"{"node_id":"S3CRET-456"}"#);
    owner_ok(
        &teacher,
        "POST",
        "/nodes/register",
        Some(&json!({ "nodes": [failing.url, mistyped.url] })),
        201,
    );
    let getblocks = raw(&teacher, "GET", "/getblocks");
    let resolve = raw(&teacher, "POST", "/nodes/resolve");
    let nodes = raw(&teacher, "GET", "/nodes");
    assert!(
        failing.hits() > 0 && mistyped.hits() > 0,
        "the teacher called both services: {} and {} requests",
        failing.hits(),
        mistyped.hits()
    );
    for (what, text) in [
        ("GET /getblocks", &getblocks),
        ("POST /nodes/resolve", &resolve),
        ("GET /nodes", &nodes),
        ("the teacher's log", &teacher.stderr()),
    ] {
        assert!(
            !text.to_lowercase().contains("s3cret"),
            "{what} repeats a service's words: {text}"
        );
    }
    let resolve: Value = serde_json::from_str(&resolve).unwrap();
    for service in [&failing.url, &mistyped.url] {
        let entry = resolve["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|peer| peer["node"] == service.as_str())
            .unwrap_or_else(|| panic!("resolve reports {service}: {resolve}"));
        assert_eq!(
            entry["status"], "invalid",
            "an answer that cannot be used is invalid (SPEC §9): {entry}"
        );
    }

    // The owner forgets one of the classmate's ports: the classmate cannot bring it
    // back, not even after the teacher's node restarts.
    let forgotten = mine(6001);
    owner_ok(
        &teacher,
        "DELETE",
        "/nodes/register",
        Some(&json!({ "nodes": [forgotten] })),
        200,
    );
    assert!(!peer_urls(&teacher).contains(&forgotten));
    let refused = classmate_registers(&teacher, std::slice::from_ref(&forgotten));
    assert_error("registering a forgotten address", &refused, 403);
    assert!(
        refused.1["error"].as_str().unwrap().contains("forgot"),
        "the refusal names the rule: {}",
        refused.1
    );
    let before_restart = peer_urls(&teacher);
    teacher.restart();
    assert_eq!(
        peer_urls(&teacher),
        before_restart,
        "the peer list survives a restart"
    );
    assert_error(
        "registering a forgotten address after a restart",
        &classmate_registers(&teacher, std::slice::from_ref(&forgotten)),
        403,
    );
    assert!(!peer_urls(&teacher).contains(&forgotten));
    for port in 6002..=6004 {
        assert_eq!(kind_of(&teacher, &mine(port)).as_deref(), Some("learned"));
    }
    assert_eq!(kind_of(&teacher, &someone).as_deref(), Some("owner"));
}

#[test]
fn peer_exchange_spreads_real_peers_but_not_loopback_or_forgotten() {
    let Some(net) = Net::create(3) else { return };
    let a = net.start_node(0, &[]);
    // A's owner also lists a node of its own machine (`127.0.0.1:5001`, and the cloud
    // metadata address for good measure). On B's machine `127.0.0.1:5001` is B's own
    // second node, on the same network: were the address handed on, B would probe it,
    // find a node, and keep it as a peer.
    let local = "http://127.0.0.1:5001";
    owner_ok(
        &a,
        "POST",
        "/nodes/register",
        Some(&json!({ "nodes": [local, "http://169.254.169.254:80"] })),
        201,
    );
    let b_local = net.start_in(1, 5001, &["--no-relay"]);
    let a_address = format!("{}:{NODE_PORT}", net.ip(0));
    let b = net.start_node(1, &["--peer", &a_address]);
    let c = net.start_node(2, &["--peer", &a_address]);
    let all: [&TestNode; 3] = [&a, &b, &c];

    // B and C were told only of A; peer exchange makes them know each other, and only
    // each other: A's loopback and link-local entries stay A's.
    wait_for("B and C learn of each other", &all, || {
        kind_of(&b, &c.url).as_deref() == Some("learned")
            && kind_of(&c, &b.url).as_deref() == Some("learned")
    });
    assert_eq!(kind_of(&b, &a.url).as_deref(), Some("owner"));
    assert_eq!(kind_of(&c, &a.url).as_deref(), Some("owner"));
    assert!(
        peer_urls(&a).iter().any(|peer| peer == local),
        "A lists {local}"
    );
    for node in [&b, &c] {
        assert_eq!(
            peer_urls(node).len(),
            2,
            "{} lists A and one other: {:?}",
            node.url,
            nodes_view(node)
        );
    }
    assert_no_loopback(&[&b, &c]);

    // B's owner forgets C. A still lists C, so each of B's sync rounds reads a list that
    // names it (B has no other peer to read), and C still knows B: for several rounds C
    // must stay gone. The one bounded wait for something not to happen: it fails as soon
    // as C is back.
    owner_ok(
        &b,
        "DELETE",
        "/nodes/register",
        Some(&json!({ "nodes": [c.url] })),
        200,
    );
    let rounds_before = answered(&a, Some(net.ip(1)), "GET /nodes/register");
    let watch = Duration::from_millis(5 * 1000 + 500);
    let end = Instant::now() + watch;
    while Instant::now() < end {
        assert!(
            !peer_urls(&b).contains(&c.url),
            "B lists C again after its owner forgot it: {:?}\nB's log:\n{}",
            nodes_view(&b),
            tail(&b.stderr(), 4000)
        );
        thread::sleep(Duration::from_millis(250));
    }
    // The watch was not idle: B read A's list (which names C) in several rounds.
    let rounds = answered(&a, Some(net.ip(1)), "GET /nodes/register") - rounds_before;
    assert!(
        rounds >= 2,
        "B read A's peer list {rounds} times in {watch:?}; the test proves nothing"
    );
    assert!(peer_urls(&a).contains(&c.url), "A still lists C");
    assert_no_loopback(&[&b, &c]);
    // B's local node (reachable only inside B's machine) was never even asked.
    assert_eq!(
        answered(&b_local, None, ""),
        0,
        "B's local node answered requests:\n{}",
        tail(&b_local.stderr(), 3000)
    );
}

#[test]
fn a_payment_reaches_a_peer_that_was_down() {
    let a = TestNode::start(&["--sync-interval-ms", "1000", "--miner", "alice"]);
    let mut b = TestNode::start(&["--sync-interval-ms", "1000", "--peer", &a.url]);
    wait_for("A and B list each other", &[&a, &b], || {
        peer_urls(&a).contains(&b.url) && peer_urls(&b).contains(&a.url)
    });
    // Two blocks pay alice 100 coins; B has them before it goes down.
    a.mine();
    a.mine();
    wait_for("B has A's blocks", &[&a, &b], || chain_length(&b) == 3);

    b.kill9();
    let mut ids: Vec<String> = (0..100)
        .map(|_| {
            let tx = a.pay_ok("alice", "bob", 1);
            tx["id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();

    b.restart();
    wait_for(
        "B's pool catches up with A's 100 payments",
        &[&a, &b],
        || {
            let mut pooled = pool_ids(&b);
            pooled.sort();
            pooled == ids
        },
    );
    assert_nobody_resolved(&[&a, &b]);
}
