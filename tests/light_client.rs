//! Issue 21 (SPEC §5b): `minichain wallet verify`, the header-only light client, against
//! an honest node, beside a node serving a longer chain with too little work, and beside
//! one serving a merkle branch that does not reach its header.

use crate::util::{
    FailedStart, HTTP_TIMEOUT, TestNode, fresh_dir, header_bytes, leading_zero_bits, run_to_exit,
    send, sha256, to_hex,
};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::thread;

/// How a fake node changes the honest node's answer to `path`.
type Lie = fn(honest: &str, path: &str, status: u16, body: Value) -> (u16, Value);

/// A node that answers every GET by asking the honest node and changing the answer with
/// its `Lie`: it agrees on everything else, so only the lie can give it away.
struct LyingNode {
    url: String,
}

impl LyingNode {
    fn start(honest: &str, lie: Lie) -> LyingNode {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let honest = honest.to_string();
        // The thread ends with the test process; each connection is one request.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let honest = honest.clone();
                thread::spawn(move || serve(stream, &honest, lie));
            }
        });
        LyingNode { url }
    }
}

fn serve(mut stream: TcpStream, honest: &str, lie: Lie) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or("").to_string();
    let path = words.next().unwrap_or("/").to_string();
    let (status, body) = match send("GET", &format!("{honest}{path}"), None, None, HTTP_TIMEOUT) {
        Ok(reply) => {
            let body = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            lie(honest, &path, reply.status, body)
        }
        Err(error) => (502, json!({ "error": error.to_string() })),
    };
    let body = body.to_string();
    let mut answer = format!(
        "HTTP/1.1 {status} Lie\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        answer.push_str(&body);
    }
    let _ = stream.write_all(answer.as_bytes());
}

/// Three headers on top of the honest tip at difficulty 1 instead of 8: a longer chain
/// with far too little work.
fn longer_with_too_little_work(
    honest: &str,
    path: &str,
    status: u16,
    mut body: Value,
) -> (u16, Value) {
    if !path.starts_with("/headers") || status != 200 {
        return (status, body);
    }
    let length = body["length"].as_u64().unwrap();
    let tip = send(
        "GET",
        &format!("{honest}/headers?from={length}&limit=1"),
        None,
        None,
        HTTP_TIMEOUT,
    )
    .unwrap();
    let tip: Value = serde_json::from_slice(&tip.body).unwrap();
    let mut parent = tip["headers"][0].clone();
    let headers = body["headers"].as_array_mut().unwrap();
    for _ in 0..3 {
        let index = parent["index"].as_u64().unwrap() + 1;
        let timestamp = parent["timestamp"].as_u64().unwrap() + 1;
        let previous = parent["hash"].as_str().unwrap().to_string();
        let root = to_hex(&sha256(b"nothing"));
        let (proof, hash) = (0u64..)
            .map(|proof| {
                let bytes = header_bytes(index, timestamp, &previous, &root, 1, proof);
                (proof, to_hex(&sha256(&bytes)))
            })
            .find(|(_, hash)| leading_zero_bits(hash) >= 1)
            .unwrap();
        let header = json!({
            "index": index, "timestamp": timestamp, "previous_hash": previous,
            "merkle_root": root, "difficulty": 1, "proof": proof, "hash": hash,
        });
        headers.push(header.clone());
        parent = header;
    }
    body["length"] = json!(length + 3);
    (status, body)
}

/// The honest chain, but every proof's first branch hash changed by one hex digit.
fn branch_that_misses(_: &str, path: &str, status: u16, mut body: Value) -> (u16, Value) {
    if path.ends_with("/proof") && status == 200 {
        let hash = body["branch"][0]["hash"].as_str().unwrap().to_string();
        let last = if hash.ends_with('0') { "1" } else { "0" };
        body["branch"][0]["hash"] = json!(format!("{}{last}", &hash[..63]));
    }
    (status, body)
}

fn verify(id: &str, cache: &Path, nodes: &[&str]) -> FailedStart {
    let cache = cache.display().to_string();
    let mut args = vec![
        "wallet",
        "verify",
        id,
        "--difficulty",
        "8",
        "--data-dir",
        &cache,
    ];
    for node in nodes {
        args.extend(["--node", node]);
    }
    run_to_exit(&args)
}

fn output(run: &FailedStart) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        run.command_line, run.stdout, run.stderr
    )
}

/// Bytes the light client says it fetched.
fn fetched(run: &FailedStart) -> u64 {
    let line = run
        .stdout
        .lines()
        .find(|line| line.starts_with("fetched "))
        .unwrap_or_else(|| panic!("no fetched line: {}", output(run)));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// An honest node with a mined payment (position 1 of a block of 3) and a few blocks on top.
fn honest_node_with_payment() -> (TestNode, String, u64) {
    let node = TestNode::start(&["--no-relay", "--miner", "alice"]);
    node.mine();
    let tx = node.pay_ok("alice", "bob", 5);
    node.pay_ok("alice", "carol", 6);
    let block = node.mine();
    for _ in 0..3 {
        node.mine();
    }
    let index = block["index"].as_u64().unwrap();
    (node, tx["id"].as_str().unwrap().to_string(), index)
}

#[test]
fn verifies_a_payment_against_an_honest_node_and_fetches_only_new_headers_later() {
    let (node, id, index) = honest_node_with_payment();
    let cache = fresh_dir("light");
    let first = verify(&id, &cache, &[&node.url]);
    assert!(first.status.success(), "{}", output(&first));
    let length = node.chain().len() as u64;
    assert!(
        first.stdout.contains(&format!(
            "MINED in block {index} ({}), {} confirmations",
            node.chain()[index as usize - 1]["hash"].as_str().unwrap(),
            length - index + 1
        )),
        "{}",
        output(&first)
    );
    assert!(
        first
            .stdout
            .contains(&format!("agreed on the best chain: {}", node.url))
    );
    assert!(
        first
            .stdout
            .contains(&format!("{} headers beyond the 1 cached", length - 1))
    );

    let again = verify(&id, &cache, &[&node.url]);
    assert!(again.status.success(), "{}", output(&again));
    assert!(
        again.stdout.contains("0 headers beyond"),
        "{}",
        output(&again)
    );
    node.mine();
    let later = verify(&id, &cache, &[&node.url]);
    assert!(
        later.stdout.contains("1 headers beyond"),
        "{}",
        output(&later)
    );
    assert!(
        later
            .stdout
            .contains(&format!("{} confirmations", length - index + 2)),
        "{}",
        output(&later)
    );
    assert!(fetched(&later) < fetched(&first), "{}", output(&later));

    // A pooled payment is not proven (exit 1), and the node's words say why.
    let pending = node.pay_ok("alice", "dave", 1);
    let pooled = verify(pending["id"].as_str().unwrap(), &cache, &[&node.url]);
    assert_eq!(pooled.status.code(), Some(1), "{}", output(&pooled));
    assert!(pooled.stdout.contains("NOT PROVEN"), "{}", output(&pooled));
    assert!(pooled.stdout.contains("in its pool"), "{}", output(&pooled));

    // Another network's genesis: the node is refused, nothing is proven.
    let other = run_to_exit(&[
        "wallet",
        "verify",
        &id,
        "--difficulty",
        "9",
        "--data-dir",
        &cache.display().to_string(),
        "--node",
        &node.url,
    ]);
    assert_eq!(other.status.code(), Some(1), "{}", output(&other));
    assert!(
        other.stdout.contains("another network"),
        "{}",
        output(&other)
    );

    let bad = run_to_exit(&["wallet", "verify", "not-an-id", "--node", &node.url]);
    assert_eq!(bad.status.code(), Some(2), "{}", output(&bad));
    let no_node = run_to_exit(&["wallet", "verify", &id]);
    assert_eq!(no_node.status.code(), Some(2), "{}", output(&no_node));
}

#[test]
fn a_longer_chain_with_too_little_work_is_named_and_the_payment_verified_through_the_honest_node() {
    let (node, id, index) = honest_node_with_payment();
    let liar = LyingNode::start(&node.url, longer_with_too_little_work);
    let cache = fresh_dir("light");
    let run = verify(&id, &cache, &[&liar.url, &node.url]);
    assert!(run.status.success(), "{}", output(&run));
    let length = node.chain().len() as u64;
    assert!(
        run.stdout.contains(&format!(
            "REFUSED {}: header {}: difficulty is 1, but this network's difficulty is 8",
            liar.url,
            length + 1
        )),
        "{}",
        output(&run)
    );
    assert!(
        run.stdout.contains(&format!("MINED in block {index}")),
        "{}",
        output(&run)
    );
    assert!(
        run.stdout.contains(&format!("proof from {}", node.url)),
        "{}",
        output(&run)
    );
    assert!(
        run.stdout
            .contains(&format!("best chain: {length} headers")),
        "{}",
        output(&run)
    );
}

#[test]
fn a_branch_that_does_not_reach_its_header_is_named_and_the_honest_node_proves_the_payment() {
    let (node, id, index) = honest_node_with_payment();
    let liar = LyingNode::start(&node.url, branch_that_misses);
    let cache = fresh_dir("light");
    let run = verify(&id, &cache, &[&liar.url, &node.url]);
    assert!(run.status.success(), "{}", output(&run));
    assert!(
        run.stdout.contains(&format!(
            "LYING NODE {}: its branch does not reach the merkle root of header {index}",
            liar.url
        )),
        "{}",
        output(&run)
    );
    assert!(
        run.stdout.contains(&format!("proof from {}", node.url)),
        "{}",
        output(&run)
    );
    // Asked alone, the liar proves nothing.
    let alone = verify(&id, &cache, &[&liar.url]);
    assert_eq!(alone.status.code(), Some(1), "{}", output(&alone));
    assert!(alone.stdout.contains("LYING NODE"), "{}", output(&alone));
}
