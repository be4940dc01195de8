//! SPEC §6c, "a stranger cannot exhaust connections or memory", against the real binary:
//! one client address holds at most a quarter of `--max-connections`, loopback keeps 64
//! connections beyond the cap, and request bodies being read hold at most
//! `--max-body-buffer-mb` in all. The stranger is this machine's own non-loopback address
//! (as in `owner`); without one, those parts are skipped with a note.

use crate::hardening::{Raw, read_answer, unanswered};
use crate::util::*;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::thread;
use std::time::Duration;

/// `--request-timeout-ms` long enough that no held connection is closed for idleness
/// while a test looks at it.
const HOLD_MS: &str = "60000";
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// A body of exactly the body cap (1 MiB), announced.
const UPLOAD_HEAD: &[u8] = b"POST /transactions/new HTTP/1.1\r\nHost: x\r\n\
    Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n";
const UPLOAD_BYTES: usize = 1_048_576;
/// The same, asking for `100 Continue` before the body is sent.
const UPLOAD_HEAD_EXPECTING_100: &[u8] = b"POST /transactions/new HTTP/1.1\r\nHost: x\r\n\
    Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 1048576\r\n\r\n";

/// A new connection from `from` (this machine's loopback or LAN address) to the node.
fn open(from: IpAddr, node: &TestNode) -> TcpStream {
    let stream = TcpStream::connect((from, node.port)).expect("the node accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// `GET /chain` on a new connection from `from`, closed after the answer.
fn get_chain(from: IpAddr, node: &TestNode) -> Raw {
    let mut stream = open(from, node);
    stream
        .write_all(b"GET /chain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    read_answer(&mut stream, false)
}

/// A 503 for want of room: JSON `error` saying `why`, and `Retry-After`.
fn assert_busy(answer: &Raw, why: &str) {
    assert_eq!(answer.status, 503, "{answer:?}");
    let error = answer.json()["error"].as_str().unwrap_or("").to_string();
    assert!(error.contains(why), "{why:?} not in {error:?}");
    let retry: u32 = answer
        .header("Retry-After")
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in seconds: {answer:?}"));
    assert!((1..=10).contains(&retry), "Retry-After {retry}");
}

/// Some line of the node's log names `client` first and says `what` (waited for: the log
/// reaches the test through a pipe).
fn logged(node: &TestNode, client: IpAddr, what: &str) -> bool {
    wait_until(Duration::from_secs(10), || {
        node.stderr()
            .lines()
            .any(|line| line.contains(&format!("] {client}:")) && line.contains(what))
    })
}

#[test]
fn one_address_holds_a_quarter_of_the_connections_and_the_owner_still_gets_in() {
    let test = "one_address_holds_a_quarter_of_the_connections_and_the_owner_still_gets_in";
    let Some(lan) = lan_or_skip(test) else {
        return;
    };
    let node = TestNode::start(&[
        "--host",
        "0.0.0.0",
        "--max-connections",
        "40",
        "--request-timeout-ms",
        HOLD_MS,
    ]);
    // 40 idle connections from one address: the cap, all of it.
    let mut idle: Vec<Option<TcpStream>> = (0..40).map(|_| Some(open(lan, &node))).collect();
    let mut refused = Vec::new();
    let quarter_refused = wait_until(Duration::from_secs(20), || {
        for slot in idle.iter_mut() {
            if slot.as_ref().is_some_and(|stream| !unanswered(stream)) {
                let mut stream = slot.take().unwrap();
                refused.push(read_answer(&mut stream, false));
            }
        }
        refused.len() >= 30
    });
    assert!(
        quarter_refused,
        "only {} of 40 idle connections from {lan} were refused; the quarter is 10",
        refused.len()
    );
    for answer in &refused {
        assert_busy(answer, "a quarter");
    }
    let held: Vec<TcpStream> = idle.into_iter().flatten().collect();
    assert_eq!(held.len(), 10, "the node keeps a quarter of 40 for {lan}");
    // Meanwhile the owner, on loopback, is served every time.
    for _ in 0..20 {
        let chain = get_chain(LOOPBACK, &node);
        assert_eq!(chain.status, 200, "{chain:?}");
        node.mine();
    }
    assert_eq!(node.chain().len(), 21);
    assert!(
        held.iter().all(unanswered),
        "the 10 connections within the quarter were kept open"
    );
    assert!(
        logged(&node, lan, "connection refused -> 503"),
        "the refusals are logged naming the client first:\n{}",
        tail(&node.stderr(), 4000)
    );
    // The address's places come back as its connections close.
    drop(held);
    assert!(
        wait_until(Duration::from_secs(10), || get_chain(lan, &node).status
            == 200),
        "{lan} was not served again after closing its connections"
    );
}

#[test]
fn loopback_keeps_64_connections_beyond_the_cap() {
    let lan = lan_or_skip("loopback_keeps_64_connections_beyond_the_cap (its stranger part)");
    let host = if lan.is_some() {
        "0.0.0.0"
    } else {
        "127.0.0.1"
    };
    let node = TestNode::start(&[
        "--host",
        host,
        "--max-connections",
        "8",
        "--request-timeout-ms",
        HOLD_MS,
    ]);
    let mut held: Vec<TcpStream> = (0..8).map(|_| open(LOOPBACK, &node)).collect();
    if let Some(lan) = lan {
        // Each held connection counts once the front has accepted it; until then a
        // stranger may still get in, so ask until the cap answers.
        assert!(
            wait_until(Duration::from_secs(10), || get_chain(lan, &node).status
                == 503),
            "a stranger was served past the cap of 8"
        );
        assert_busy(&get_chain(lan, &node), "its limit");
    }
    held.extend((0..64).map(|_| open(LOOPBACK, &node)));
    assert!(
        wait_until(Duration::from_secs(10), || get_chain(LOOPBACK, &node)
            .status
            == 503),
        "loopback was served past the cap and its reserve of 64"
    );
    assert_busy(&get_chain(LOOPBACK, &node), "kept for this machine");
    assert!(
        held.iter().all(unanswered),
        "a loopback connection within the cap and its reserve (72) was refused"
    );
    drop(held);
    assert!(
        wait_until(Duration::from_secs(10), || get_chain(LOOPBACK, &node)
            .status
            == 200),
        "the node did not serve loopback again after the held connections closed"
    );
    if let Some(lan) = lan {
        assert!(
            wait_until(Duration::from_secs(10), || get_chain(lan, &node).status
                == 200),
            "the node did not serve {lan} again after the held connections closed"
        );
    }
}

/// The status line's code of the first answer on `stream` (its head only).
fn first_status(stream: &mut TcpStream) -> u16 {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            return 0;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head)
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Sends `request` then `body` on a thread of its own (the node may stop reading once it
/// has refused) and reads the answer.
fn upload(node: &TestNode, request: &'static [u8], body: Vec<u8>) -> Raw {
    let mut stream = open(LOOPBACK, node);
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let _ = writer.write_all(request);
        let _ = writer.write_all(&body);
    });
    let answer = read_answer(&mut stream, false);
    drop(stream);
    let _ = sender.join();
    answer
}

#[test]
fn stalled_uploads_hold_at_most_the_body_budget() {
    // 3 MiB: three stalled 1 MiB uploads fill it; a fourth does not fit (nor 1 byte).
    let node = TestNode::start(&[
        "--miner",
        "alice",
        "--max-body-buffer-mb",
        "3",
        "--request-timeout-ms",
        "20000",
    ]);
    node.mine();
    // Each stalled upload asks for `100 Continue`, so it is known to hold its 1 MiB of
    // the budget (reserved before that answer) when it sends all but one byte.
    let stalled: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = open(LOOPBACK, &node);
            stream.write_all(UPLOAD_HEAD_EXPECTING_100).unwrap();
            assert_eq!(
                first_status(&mut stream),
                100,
                "a stalled upload was refused"
            );
            stream.write_all(&vec![b' '; UPLOAD_BYTES - 1]).unwrap();
            stream
        })
        .collect();
    let fourth = upload(&node, UPLOAD_HEAD, vec![b' '; UPLOAD_BYTES]);
    assert_busy(&fourth, "busy reading other uploads");
    assert_eq!(fourth.header("Retry-After").as_deref(), Some("1"));
    let chunked = upload(
        &node,
        b"POST /transactions/new HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"400\r\n".iter().chain(&[b' '; 1024]).copied().collect(),
    );
    assert_busy(&chunked, "busy reading other uploads");
    assert!(
        stalled.iter().all(unanswered),
        "a stalled upload within the budget was refused"
    );
    assert!(
        logged(&node, LOOPBACK, "request refused before routing -> 503"),
        "the refusal is logged naming the client first:\n{}",
        tail(&node.stderr(), 4000)
    );

    // Closed, they give their budget back: payments are accepted again, and 1 MiB
    // bodies one after another (4 MiB in all) each get their turn.
    drop(stalled);
    assert!(
        wait_until(Duration::from_secs(10), || node.pay("alice", "bob", 1).0
            == 201),
        "no payment was accepted after the stalled uploads closed"
    );
    let mut payment = br#"{"sender": "alice", "recipient": "bob", "amount": 1}"#.to_vec();
    payment.resize(UPLOAD_BYTES, b' ');
    for _ in 0..4 {
        let reply = node.post_raw(
            "/transactions/new",
            payment.clone(),
            Some("application/json"),
        );
        assert_eq!(reply.status, 201, "{:?}", reply.json("a 1 MiB payment"));
    }
}
