//! Issues 16 and 22: logs a person can read. At the default level (`RUST_LOG` unset) a node
//! logs what changed and what it refused (with the reason), not the polling of an open
//! explorer tab, a peer's sync or relay chatter; a payment names its amount; a block it
//! mined and then lost to a longer chain is named as orphaned.

use crate::util::{TestNode, wait_until};
use serde_json::json;
use std::time::Duration;

/// The HTTP status of a request line (`… POST /mine -> 403 (0 ms): …`), if it is one.
fn status_of(line: &str) -> Option<u16> {
    let after = &line[line.find(" -> ")? + 4..];
    after.get(..3)?.parse().ok()
}

/// Sends a request the node refuses (so it is logged at every level) and waits for its
/// line; returns the log up to and including it.
fn log_through_marker(node: &TestNode, marker: &str) -> String {
    let path = format!("/log-marker-{marker}");
    let (status, _) = node.get(&path);
    assert_eq!(status, 404);
    assert!(
        wait_until(Duration::from_secs(10), || node.stderr().contains(&path)),
        "the refused {path} was not logged:\n{}",
        node.stderr()
    );
    let log = node.stderr();
    let end = log.find(&path).unwrap();
    let end = end + log[end..].find('\n').map_or(log.len() - end, |n| n + 1);
    log[..end].to_string()
}

/// The log lines after `before` (a prefix of `after`).
fn lines_between(before: &str, after: &str) -> Vec<String> {
    assert!(after.starts_with(before), "the log only grows");
    after[before.len()..].lines().map(str::to_string).collect()
}

#[test]
fn at_the_default_level_polling_logs_nothing_and_a_mined_block_does() {
    let node = TestNode::start_with_default_log(&["--no-relay", "--miner", "m"]);
    // The last line of the start (written after the `listening on` the test waited for).
    assert!(
        wait_until(Duration::from_secs(10), || node
            .stderr()
            .contains("explorer page: open")),
        "{}",
        node.stderr()
    );
    let first = log_through_marker(&node, "1");
    // What an open explorer tab and a peer's background sync ask, over and over.
    for path in [
        "/chain",
        "/chain?from=1&limit=10",
        "/pool",
        "/inv?limit=1",
        "/nodes",
        "/nodes/register",
        "/wallet",
        "/balances",
    ] {
        for _ in 0..3 {
            let (status, answer) = node.get(path);
            assert_eq!(status, 200, "GET {path}: {answer}");
        }
    }
    let polled = log_through_marker(&node, "2");
    let marker = "/log-marker-2";
    let lines: Vec<String> = lines_between(&first, &polled)
        .into_iter()
        .filter(|line| !line.contains(marker))
        .collect();
    assert_eq!(lines, Vec::<String>::new(), "polling printed lines");

    let block = node.mine();
    let mined = log_through_marker(&node, "3");
    let lines = lines_between(&polled, &mined);
    let about_block: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("mined block 2"))
        .collect();
    assert_eq!(
        about_block.len(),
        1,
        "one line for the mined block: {lines:?}"
    );
    assert!(
        about_block[0].contains(block["hash"].as_str().unwrap()),
        "{about_block:?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("127.0.0.1:") && line.contains("POST /mine -> 200")),
        "the action's request line, naming the client first: {lines:?}"
    );

    // A payment changes the pool: its request line stays at the default level; so does
    // every refusal.
    node.pay_ok("m", "bob", 1);
    let (status, _) = node.pay("nobody", "bob", 1);
    assert_eq!(status, 400);
    // Refused by the front before any route sees it: logged too, the client first.
    let reply = node.post_raw(
        "/transactions/new",
        vec![b' '; 1_048_577],
        Some("application/json"),
    );
    assert_eq!(reply.status, 413);
    let paid = log_through_marker(&node, "4");
    let lines = lines_between(&mined, &paid);
    for answer in [
        "paid: m -> bob, 1 coin (id ",
        "POST /transactions/new -> 400 (",
    ] {
        assert!(
            lines.iter().any(|line| line.contains(answer)),
            "{answer} is logged: {lines:?}"
        );
    }
    assert!(
        !lines
            .iter()
            .any(|line| line.contains("POST /transactions/new -> 201")),
        "the payment line says it; its request line is for RUST_LOG=debug: {lines:?}"
    );
    assert!(
        lines.iter().any(|line| line.contains(" 127.0.0.1:")
            && line.contains(" request refused before routing -> 413")),
        "the front's refusal is logged, the client first: {lines:?}"
    );
}

#[test]
fn a_block_this_node_mined_cut_away_by_a_longer_chain_is_logged_as_orphaned() {
    let a = TestNode::start_with_default_log(&["--no-relay", "--miner", "miner-a"]);
    let b = TestNode::start(&["--no-relay", "--miner", "miner-b"]);
    for (node, peer) in [(&a, &b), (&b, &a)] {
        let (status, answer) = node.post("/nodes/register", &json!({ "nodes": [peer.url] }));
        assert_eq!(status, 201, "{answer}");
    }
    // A shared block 2 (A's, kept by both), then apart: A mines block 3 with a payment,
    // B mines blocks 3 and 4.
    a.mine();
    let (status, report) = b.post("/nodes/resolve", &json!(null));
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["replaced"], true, "{report}");
    a.pay_ok("miner-a", "carol", 5);
    let lost = a.mine();
    b.mine();
    b.mine();

    let (status, report) = a.post("/nodes/resolve", &json!(null));
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["replaced"], true, "{report}");
    assert_eq!(a.pool().len(), 1, "the cut payment waits again");

    let hash = lost["hash"].as_str().unwrap();
    let log = a.stderr();
    let orphaned: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("was orphaned"))
        .collect();
    assert_eq!(orphaned.len(), 1, "one block of A's was cut: {orphaned:?}");
    let line = orphaned[0];
    for part in [
        "your block #3 (",
        &hash[..16],
        &format!("peer {}'s longer chain replaced it", b.url),
        "its payment went back to the pool",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    assert!(
        log.lines().any(|line| line.contains(&format!(
            "adopted 2 blocks from {} after block #2, replacing our block #3",
            b.url
        ))),
        "the switch is logged:\n{log}"
    );
    assert!(
        !b.stderr().contains("was orphaned"),
        "B's adoption of A's block 2 cut nothing of B's"
    );
}

/// Issue 22: a node's default log read through a walk-through (two nodes joined with
/// `--peer`, blocks, payments, and the refusals a student meets): every refusal names its
/// reason, a payment names its amount, no line is over 200 characters, and the peer that
/// only follows writes fewer than 3 lines per block.
#[test]
fn a_walk_through_log_names_reasons_and_amounts_in_short_lines_and_a_peer_stays_quiet() {
    let a = TestNode::start_with_default_log(&["--miner", "m"]);
    let b = TestNode::start_with_default_log(&["--peer", &a.url]);
    assert!(
        wait_until(Duration::from_secs(10), || a.peers().len() == 1),
        "B joined A"
    );
    let b_before = log_through_marker(&b, "b-start");

    const BLOCKS: usize = 6;
    let wallet = a.wallet_address();
    for round in 0..BLOCKS {
        a.mine();
        if round > 0 {
            a.pay_ok("m", "bob", 3);
            a.pay_ok("m", &wallet, 1);
            a.pay_from_wallet("carol", 1);
        }
    }
    let length = a.chain().len();
    assert!(
        wait_until(Duration::from_secs(20), || b.chain().len() == length),
        "relay brought B every block"
    );
    // What a student gets wrong: an overspend, a bad body, another site's Origin, a wrong
    // method, an unknown path.
    assert_eq!(a.pay("nobody", "bob", 5).0, 400);
    assert_eq!(
        a.post_raw("/transactions/new", b"{not json".to_vec(), None)
            .status,
        400
    );
    let forged = attohttpc::post(format!("{}/mine", a.url))
        .header("Origin", "http://evil.example")
        .proxy_settings(attohttpc::ProxySettings::builder().build())
        .send()
        .expect("an answer");
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(a.call("PUT", "/chain", None).0, 405);
    let a_log = log_through_marker(&a, "a-end");
    let b_after = log_through_marker(&b, "b-end");

    // The data directory is named as given; a student's is `data/5000`, a test's far longer.
    for (name, node, log) in [("A", &a, &a_log), ("B", &b, &b_after)] {
        let log = log.replace(&node.data_dir.display().to_string(), "data/5000");
        for line in log.lines() {
            assert!(
                line.chars().count() <= 200,
                "{name}: a line over 200 characters: {line}"
            );
        }
    }
    let refusals: Vec<&str> = a_log
        .lines()
        .filter(|line| status_of(line).is_some_and(|status| status >= 400))
        .collect();
    assert!(refusals.len() >= 4, "the refusals are logged: {a_log}");
    for line in &refusals {
        let reason = line.split_once(" ms): ").map(|(_, reason)| reason.trim());
        assert!(
            reason.is_some_and(|reason| reason.len() >= 10),
            "a refusal names its reason: {line}"
        );
    }
    for wanted in [
        "-> 403 (",
        "cross-site",
        "\"nobody\" has 0 coins",
        "paid: m -> bob, 3 coins (id ",
    ] {
        assert!(a_log.contains(wanted), "{wanted:?} in A's log:\n{a_log}");
    }
    assert!(
        a_log
            .lines()
            .any(|line| line.contains("-> carol, 1 coin (id ")),
        "a wallet payment names its amount:\n{a_log}"
    );
    assert!(
        !a_log.contains("minichain::"),
        "no module paths at the default level:\n{a_log}"
    );

    let peer_lines: Vec<String> = lines_between(&b_before, &b_after)
        .into_iter()
        .filter(|line| !line.contains("/log-marker-"))
        .collect();
    assert!(
        peer_lines.len() < 3 * BLOCKS,
        "B wrote {} lines for {BLOCKS} blocks: {peer_lines:#?}",
        peer_lines.len()
    );
    assert!(
        peer_lines
            .iter()
            .all(|line| !line.contains("POST /inv -> 202")),
        "relay chatter is for RUST_LOG=debug: {peer_lines:#?}"
    );
    assert!(
        peer_lines
            .iter()
            .any(|line| line.contains("adopted 1 block from")),
        "one block adopted, said in the singular: {peer_lines:#?}"
    );
}
