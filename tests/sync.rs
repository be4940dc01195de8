//! Several nodes at once (SPEC §5-6, §9): joining, `/getblocks`, `/nodes/resolve` and
//! reorganisation between real nodes; peers played by the test that lie (a longer chain
//! breaking one rule of §4), die, hang, talk garbage or far too much; two nodes resolving
//! against each other at once; a node meeting itself under another address; `/inv` paging.

use crate::sync_util::{
    DIFFICULTY, FORGER, FakePeer, Forge, PeerAnswer, REWARD, assert_only_block_is_bad,
    break_proof_of_work, chain_answer, chain_page, child_block, fake_node_id, foreign_genesis,
    inv_answer, not_found, now_ms, reseal,
};
use crate::util::*;
use minichain::core::block::{Block, Transaction};
use minichain::core::hash::BlockHash;
use serde_json::{Value, json};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

/// How long joining (the `--peer` announcement, which runs after start-up) may take.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// Real nodes agreeing.

#[test]
fn joined_nodes_converge_on_resolve_and_getblocks_lists_exactly_what_we_lack() {
    let a = TestNode::start(&["--no-relay"]);
    let b = TestNode::start(&["--no-relay", "--peer", &a.url]);
    let c = TestNode::start(&["--no-relay", "--peer", &a.url, "--peer", &b.url]);
    // `--peer` registers the peer here and this node with the peer.
    assert_eq!(peer_urls(&b), [a.url.as_str()]);
    assert_eq!(peer_urls(&c), [a.url.as_str(), b.url.as_str()]);
    assert!(
        wait_until(JOIN_DEADLINE, || {
            let peers = peer_urls(&a);
            peers.contains(&b.url) && peers.contains(&c.url) && peer_urls(&b).contains(&c.url)
        }),
        "joining is mutual: A lists {:?}, B lists {:?}",
        peer_urls(&a),
        peer_urls(&b)
    );

    // A mines two blocks and pools a payment; B and C have genesis only.
    a.mine();
    a.mine();
    let pending = a.pay_from_wallet("bob", 5);
    let a_chain = a.chain();
    let b_chain = b.chain();

    let inventory = getblocks(&b);
    let from_a = inventory_for(&inventory, &a.url);
    assert_eq!(
        strings(&from_a["blocks"]),
        block_hashes(&a_chain[1..]),
        "blocks A has and B lacks: {inventory}"
    );
    assert_eq!(
        strings(&from_a["transactions"]),
        [pending["id"].as_str().unwrap()],
        "pooled ids A has and B lacks: {inventory}"
    );
    assert_eq!(from_a["length"], 3, "{inventory}");
    assert_eq!(from_a["tip"], a_chain[2]["hash"], "{inventory}");
    let from_c = inventory_for(&inventory, &c.url);
    assert_eq!(
        (strings(&from_c["blocks"]), strings(&from_c["transactions"])),
        (vec![], vec![]),
        "C has nothing B lacks: {inventory}"
    );
    assert_eq!(b.chain(), b_chain, "/getblocks changes nothing");

    // The payment goes into A's next block; then B and C resolve.
    a.mine();
    let a_chain = a.chain();
    let report = resolve(&b);
    assert_eq!(
        outcome_for(&report, &a.url)["status"],
        "adopted",
        "{report}"
    );
    assert_eq!(
        outcome_for(&report, &c.url)["status"],
        "not longer",
        "{report}"
    );
    assert_eq!(report["replaced"], true, "{report}");
    assert_eq!(report["length"], 4, "{report}");
    assert_eq!(report["tip"], a_chain[3]["hash"], "{report}");
    // C asks A and B at once (in parallel): whichever answers first is adopted, the
    // other is then not longer.
    let report = resolve(&c);
    let mut statuses = [&a.url, &b.url].map(|peer| outcome_for(&report, peer)["status"].clone());
    statuses.sort_by_key(|status| status.to_string());
    assert_eq!(statuses, ["adopted", "not longer"], "{report}");
    assert_eq!(report["replaced"], true, "{report}");
    let report = resolve(&a);
    assert_eq!(
        report["replaced"], false,
        "A has the longest chain: {report}"
    );
    for node in [&b, &c] {
        assert_eq!(node.chain(), a_chain, "every node holds A's chain");
    }

    // Nothing is left to fetch...
    let inventory = getblocks(&b);
    for peer in [&a.url, &c.url] {
        let entry = inventory_for(&inventory, peer);
        assert_eq!(
            (strings(&entry["blocks"]), strings(&entry["transactions"])),
            (vec![], vec![]),
            "after the resolve B lacks nothing from {peer}: {inventory}"
        );
    }
    // ...until A mines again: then exactly that block, found from B's locator.
    let block = a.mine();
    let inventory = getblocks(&b);
    assert_eq!(
        strings(&inventory_for(&inventory, &a.url)["blocks"]),
        [block["hash"].as_str().unwrap()],
        "{inventory}"
    );
    assert_eq!(
        strings(&inventory_for(&inventory, &c.url)["blocks"]),
        Vec::<String>::new(),
        "{inventory}"
    );
}

#[test]
fn reorg_returns_cut_payments_to_the_pool_and_drops_pooled_ones_now_in_the_chain() {
    // Same miner address on both, so "m" owns coins on both branches.
    let a = TestNode::start(&["--no-relay", "--miner", "m"]);
    let b = TestNode::start(&["--no-relay", "--miner", "m"]);
    register(&a, &b.url);
    register(&b, &a.url);

    // A shared block 2 pays m 50.
    a.mine();
    let report = resolve(&b);
    assert_eq!(
        outcome_for(&report, &a.url)["status"],
        "adopted",
        "{report}"
    );

    // Apart: A mines a block holding a payment from m...
    let payment = a.pay_ok("m", "alice", 5);
    let a_block = a.mine();
    assert_eq!(a_block["transactions"][1]["id"], payment["id"]);
    // ...and both pool the same relayed payment, which only B mines (B: two blocks).
    let shared = relayed("m", "carol", 7, now_ms());
    for node in [&a, &b] {
        let (status, answer) = node.post("/transactions/new", &shared);
        assert_eq!(status, 201, "relayed payment to {}: {answer}", node.url);
    }
    let b_block = b.mine();
    assert_eq!(b_block["transactions"][1]["id"], shared["id"]);
    b.mine();
    assert_eq!(pool_ids(&a), [shared["id"].as_str().unwrap()]);

    let report = resolve(&a);
    let outcome = outcome_for(&report, &b.url);
    assert_eq!(outcome["status"], "adopted", "{report}");
    assert_eq!(outcome["length"], 4, "{report}");
    assert_eq!(report["replaced"], true, "{report}");
    let b_chain = b.chain();
    assert_eq!(report["tip"], b_chain[3]["hash"], "{report}");
    assert_eq!(a.chain(), b_chain, "A now holds B's chain");
    // A's cut payment is still valid on B's chain, so it waits again; the shared one is
    // mined on B's chain, so it leaves the pool; the cut coinbase is gone for good.
    assert_eq!(
        pool_ids(&a),
        [payment["id"].as_str().unwrap()],
        "A's pool after the reorg: {:?}",
        a.pool()
    );
    assert_eq!(a.get("/balances"), b.get("/balances"));
}

#[test]
fn two_nodes_resolving_against_each_other_at_once_both_finish_on_one_chain() {
    let a = TestNode::start(&["--no-relay"]);
    let b = TestNode::start(&["--no-relay"]);
    for _ in 0..3 {
        a.mine();
    }
    b.mine();
    register(&a, &b.url);
    register(&b, &a.url);

    let start = Barrier::new(2);
    let answers: Vec<(u16, Value, Duration)> = thread::scope(|scope| {
        let calls: Vec<_> = [&a, &b]
            .into_iter()
            .map(|node| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    let began = Instant::now();
                    let reply = send(
                        "POST",
                        &format!("{}/nodes/resolve", node.url),
                        None,
                        None,
                        Duration::from_secs(20),
                    )
                    .unwrap_or_else(|e| panic!("POST {}/nodes/resolve: no answer: {e}", node.url));
                    let json = reply.json("POST /nodes/resolve");
                    (reply.status, json, began.elapsed())
                })
            })
            .collect();
        calls.into_iter().map(|call| call.join().unwrap()).collect()
    });
    for (status, answer, took) in &answers {
        assert_eq!(*status, 200, "{answer}");
        assert!(
            *took < Duration::from_secs(10),
            "resolve took {took:?}: {answer}"
        );
    }
    let a_chain = a.chain();
    assert_eq!(a_chain.len(), 4, "the longer chain wins");
    assert_eq!(b.chain(), a_chain, "both end on the same chain");
}

#[test]
fn node_refuses_itself_reached_under_another_address_by_its_node_id() {
    let node = TestNode::start(&["--no-relay", "--host", "0.0.0.0"]);
    node.mine();
    let before = node.chain();
    // 127.0.0.2 reaches the wildcard-bound node through loopback, but is not its address:
    // registration asks its /inv and finds our own node_id.
    let alias = format!("http://127.0.0.2:{}", node.port);
    let answer = node.post("/nodes/register", &json!({ "nodes": [alias] }));
    assert_error("registering itself under another address", &answer, 400);
    assert!(
        answer.1["error"].as_str().unwrap().contains("node_id"),
        "the reason says it is this node (same node_id): {answer:?}"
    );
    assert!(peer_urls(&node).is_empty(), "nothing was registered");
    let report = resolve(&node);
    assert_eq!(report["replaced"], false, "{report}");
    assert_eq!(node.chain(), before, "nothing changed");
    node.mine();
    assert_eq!(node.chain().len(), 3, "the node still works");
}

#[test]
fn adopted_chain_survives_kill_9() {
    let a = TestNode::start(&["--no-relay"]);
    for _ in 0..3 {
        a.mine();
    }
    let mut b = TestNode::start(&["--no-relay"]);
    b.mine();
    register(&b, &a.url);
    let report = resolve(&b);
    assert_eq!(
        outcome_for(&report, &a.url)["status"],
        "adopted",
        "{report}"
    );

    b.restart(); // SIGKILL, then start again on the same data directory
    assert_eq!(
        b.chain(),
        a.chain(),
        "the adopted chain is back after kill -9"
    );
    assert_eq!(peer_urls(&b), [a.url.as_str()]);
}

#[test]
fn inv_starts_after_the_first_known_locator_hash_and_chain_pages_follow() {
    let node = TestNode::start(&["--no-relay", "--miner", "m"]);
    for _ in 0..29 {
        node.mine();
    }
    let chain = node.chain();
    assert_eq!(chain.len(), 30);
    let hashes = block_hashes(&chain);
    let pending = node.pay_ok("m", "bob", 1);
    let pending_id = pending["id"].as_str().unwrap().to_string();

    let inv = get_ok(&node, &format!("/inv?locator={}", hashes[19]));
    assert_eq!(inv["fork_index"], 20, "{inv}");
    assert_eq!(inv["length"], 30, "{inv}");
    assert_eq!(inv["tip"], hashes[29].as_str(), "{inv}");
    assert_eq!(inv["genesis"], hashes[0].as_str(), "{inv}");
    assert_eq!(inv["difficulty"], 8, "{inv}");
    assert!(
        inv["node_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{inv}"
    );
    assert_eq!(inv_blocks(&inv), hashes[20..], "blocks 21..30: {inv}");
    assert_eq!(inv_transactions(&inv), [pending_id.as_str()], "{inv}");

    let inv = get_ok(&node, &format!("/inv?locator={}&limit=5", hashes[19]));
    assert_eq!(inv_blocks(&inv), hashes[20..25], "blocks 21..25: {inv}");
    assert_eq!(
        inv_transactions(&inv),
        [pending_id],
        "the pool follows: {inv}"
    );

    let unknown = BlockHash([0xab; 32]).to_hex();
    let locator = [unknown.as_str(), &hashes[24], &hashes[19], &hashes[0]].join(",");
    let inv = get_ok(&node, &format!("/inv?locator={locator}"));
    assert_eq!(
        inv["fork_index"], 25,
        "the first locator hash on the chain: {inv}"
    );
    assert_eq!(inv_blocks(&inv), hashes[25..], "{inv}");

    let inv = get_ok(&node, &format!("/inv?locator={unknown}"));
    assert_eq!(inv["fork_index"], 0, "no known hash: from genesis: {inv}");
    assert_eq!(inv_blocks(&inv), hashes, "{inv}");

    let page = get_ok(&node, "/chain?from=21&limit=5");
    assert_eq!(page["length"], 30, "{page}");
    assert_eq!(page["chain"].as_array().unwrap(), &chain[20..25], "{page}");
}

#[test]
fn resolve_sends_the_locator_and_fetches_only_the_blocks_after_the_fork() {
    let victim = TestNode::start(&["--no-relay"]);
    for _ in 0..29 {
        victim.mine();
    }
    let ours = blocks_of(&victim);
    // An honest peer that has our 30 blocks and two more, built with the library.
    let mut forge = Forge::on(ours.clone());
    forge.honest_blocks(2);
    let theirs = forge.build();
    let peer = FakePeer::serving_chain(theirs.clone());
    register(&victim, &peer.url);

    let report = resolve(&victim);
    assert_eq!(
        outcome_for(&report, &peer.url)["status"],
        "adopted",
        "{report}"
    );
    assert_eq!(
        blocks_of(&victim),
        theirs,
        "the victim holds the peer's chain"
    );

    // SPEC §6: the tip and the 9 blocks before it, then steps of 2, 4, 8, …, then genesis.
    let expected_locator: Vec<String> = [30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 19, 15, 7, 1]
        .iter()
        .map(|&index: &usize| ours[index - 1].hash.to_hex())
        .collect();
    let requests = peer.requests();
    // The first /inv without a locator is registration asking who the peer is.
    let inv = requests
        .iter()
        .find(|request| request.path == "/inv" && request.param("locator").is_some())
        .unwrap_or_else(|| panic!("no /inv request: {requests:?}"));
    let locator: Vec<String> = inv
        .param("locator")
        .unwrap_or("")
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(locator, expected_locator, "the locator the node sent");
    let fetched: Vec<u64> = requests
        .iter()
        .filter(|request| request.path == "/chain")
        .map(|request| request.number("from", 1))
        .collect();
    assert_eq!(
        fetched,
        [31],
        "only the blocks after the fork are fetched: {requests:?}"
    );
}

// ---------------------------------------------------------------------------------------
// A peer offering a longer chain that breaks exactly one rule: refused, nothing adopted.

#[test]
fn refuses_a_longer_chain_with_a_block_short_of_proof_of_work() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(3);
    let mut bad = forge.next_honest(Vec::new());
    break_proof_of_work(&mut bad);
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 5, &["proof of work"]);
}

#[test]
fn refuses_a_longer_chain_with_a_tampered_transaction() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::on(blocks_of(&victim));
    // The victim's miner owns 100 coins at the fork; the amount is raised after the id was
    // computed (and the merkle root and hash over it), so only the id check can catch it.
    let mut bad = forge.next_honest(vec![Transaction::new("victim", "mallory", 5, now_ms())]);
    bad.transactions[1].amount = 90;
    let claimed_id = bad.transactions[1].id.to_hex();
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 4, &[&claimed_id, "id"]);
}

#[test]
fn refuses_a_longer_chain_with_a_wrong_merkle_root() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(1);
    let payment = Transaction::new(FORGER, "mallory", 10, now_ms());
    let mut bad = forge.next_honest(vec![payment]);
    // The root commits to the coinbase alone: a payment slipped in after sealing.
    bad.header.merkle_root = minichain::core::block::merkle_root_of(&bad.transactions[..1]);
    reseal(&mut bad);
    forge.push(bad).honest_blocks(2);
    assert_forged_chain_refused(&victim, forge.build(), 3, &["merkle"]);
}

#[test]
fn refuses_a_longer_chain_whose_hash_field_is_not_the_header_hash() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(2);
    let mut bad = forge.next_honest(Vec::new());
    // Same leading zero bits, so it still looks like work was done.
    bad.hash.0[31] ^= 0xff;
    let claimed = bad.hash.to_hex();
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 4, &["hash", &claimed]);
}

#[test]
fn refuses_a_longer_chain_that_spends_coins_the_sender_lacks_on_it() {
    // "victim" owns 100 coins on the victim's own chain, none on this branch from genesis:
    // balances must be rolled back to the fork, not read at our tip.
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(2);
    let theft = Transaction::new("victim", "mallory", 10, now_ms());
    let bad = forge.next_honest(vec![theft]);
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 4, &["coins|cannot send"]);
}

#[test]
fn refuses_a_longer_chain_with_a_second_coinbase() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(1);
    let timestamp = forge.next_timestamp();
    let extra = Transaction::coinbase("thief", REWARD, timestamp);
    let bad = forge.next_honest(vec![extra]);
    assert_eq!(bad.header.timestamp, timestamp);
    forge.push(bad).honest_blocks(2);
    assert_forged_chain_refused(&victim, forge.build(), 3, &["coinbase"]);
}

#[test]
fn refuses_a_longer_chain_whose_coinbase_pays_more_than_the_reward() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::on(blocks_of(&victim));
    forge.honest_blocks(1);
    let mut bad = forge.next_honest(Vec::new());
    bad.transactions[0] = Transaction::coinbase(FORGER, REWARD + 1, bad.header.timestamp);
    bad.header.merkle_root = minichain::core::block::merkle_root_of(&bad.transactions);
    reseal(&mut bad);
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 5, &["reward"]);
}

#[test]
fn refuses_a_longer_chain_with_a_block_of_another_difficulty() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(2);
    let mut bad = forge.next_honest(Vec::new());
    // Sealed at 9 bits, so it also has the 8 the network needs: only the field is wrong.
    bad.header.difficulty = DIFFICULTY + 1;
    reseal(&mut bad);
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 4, &["difficulty"]);
}

#[test]
fn reports_a_longer_chain_with_another_genesis_as_other_network() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::on(vec![foreign_genesis()]);
    forge.honest_blocks(4);
    let foreign = forge.build();
    let ours = Forge::from_genesis().build();
    // Registration asks the peer's /inv and would refuse another network, so the peer
    // answers as one of ours until it is registered, then changes networks (a node
    // restarted with another chain on the same port).
    let switched = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let node_id = fake_node_id();
    let peer = {
        let switched = switched.clone();
        FakePeer::start(move |request| {
            let blocks = if switched.load(std::sync::atomic::Ordering::SeqCst) {
                &foreign
            } else {
                &ours
            };
            match request.path.as_str() {
                "/inv" => PeerAnswer::Json(inv_answer(blocks, request, &node_id)),
                "/chain" => PeerAnswer::Json(chain_answer(blocks, request)),
                _ => not_found(request),
            }
        })
    };
    register(&victim, &peer.url);
    switched.store(true, std::sync::atomic::Ordering::SeqCst);
    let outcome = resolve_against_forgery(&victim, &peer);
    assert_eq!(outcome["status"], "other network", "{outcome}");
    assert!(
        reason(&outcome).contains("genesis"),
        "the reason names the genesis: {outcome}"
    );
}

#[test]
fn refuses_a_longer_chain_whose_timestamp_goes_backwards() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(3);
    let parent_time = forge.tip().header.timestamp;
    let timestamp = parent_time - 1;
    let coinbase = Transaction::coinbase(FORGER, REWARD, timestamp);
    let bad = child_block(forge.tip(), timestamp, DIFFICULTY, vec![coinbase]);
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 5, &["timestamp"]);
}

#[test]
fn refuses_a_longer_chain_that_repeats_a_transaction_id() {
    let victim = victim_with_two_blocks();
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(1);
    let payment = Transaction::new(FORGER, "mallory", 5, now_ms());
    forge.honest(vec![payment.clone()]);
    let bad = forge.next_honest(vec![payment]);
    forge.push(bad).honest_blocks(1);
    assert_forged_chain_refused(&victim, forge.build(), 4, &["already"]);
}

// ---------------------------------------------------------------------------------------
// Peers that fail: reported in their status; the peers after them are still asked.

#[test]
fn dead_peer_is_unreachable_and_the_next_peer_is_still_used() {
    let victim = TestNode::start(&["--no-relay"]);
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    }; // dropped: nothing listens there any more
    let report = resolve_with_bad_peers_then_a_good_one(&victim, &[&dead]);
    let outcome = outcome_for(&report, &dead);
    assert_eq!(outcome["status"], "unreachable", "{report}");
    assert!(!reason(outcome).is_empty(), "{report}");
}

#[test]
fn peer_whose_chain_pages_stop_short_is_invalid_and_the_next_peer_is_still_used() {
    // Every block is valid, but the peer hands out one block per page whatever is asked:
    // a peer could otherwise keep us paging one block at a time for ever.
    let victim = TestNode::start(&["--no-relay"]);
    let mut forge = Forge::from_genesis();
    forge.honest_blocks(4);
    let blocks = forge.build();
    let node_id = fake_node_id();
    let stingy = FakePeer::start(move |request| match request.path.as_str() {
        "/inv" => PeerAnswer::Json(inv_answer(&blocks, request, &node_id)),
        "/chain" => {
            let page: Vec<&Block> = chain_page(&blocks, request).into_iter().take(1).collect();
            PeerAnswer::Json(json!({"chain": page, "length": blocks.len()}))
        }
        _ => not_found(request),
    });
    let report = resolve_with_bad_peers_then_a_good_one(&victim, &[&stingy.url]);
    let outcome = outcome_for(&report, &stingy.url);
    assert_eq!(outcome["status"], "invalid", "{report}");
    assert!(
        reason(outcome).contains("held 1 of the 4"),
        "the reason says the page was short: {report}"
    );
}

#[test]
fn silent_peer_times_out_at_peer_timeout_and_the_next_peer_is_still_used() {
    let victim = TestNode::start(&["--no-relay", "--peer-timeout-ms", "500"]);
    let silent = FakePeer::start(|_| PeerAnswer::Hang);
    let good = good_peer();
    let began = Instant::now();
    let report = resolve_with_bad_peers_then(&victim, &[&silent.url], &good);
    let took = began.elapsed();
    let outcome = outcome_for(&report, &silent.url);
    assert_eq!(outcome["status"], "unreachable", "{report}");
    assert!(
        reason(outcome).contains("timed out"),
        "the reason says it timed out: {report}"
    );
    // The node calls the silent peer twice (registration asks its /inv, then the
    // resolve), waiting 500 ms each: about 1 s. A node that ignored the flag would wait
    // its 3 s default each time, 6 s in all. Timed without starting the good peer (a
    // process start is what a busy machine slows most), 5 s tells the two apart.
    assert_eq!(
        silent.requests().len(),
        2,
        "the silent peer was called twice"
    );
    assert!(
        took < Duration::from_secs(5),
        "registering and resolving took {took:?} with a 500 ms peer timeout"
    );
}

#[test]
fn answers_that_are_not_json_are_invalid_and_the_next_peer_is_still_used() {
    let victim = TestNode::start(&["--no-relay"]);
    let text = FakePeer::start(|_| PeerAnswer::Raw {
        status: 200,
        content_type: "text/html",
        body: b"<html><body>It works!</body></html>".to_vec(),
    });
    let broken = FakePeer::start(|_| PeerAnswer::Raw {
        status: 500,
        content_type: "application/json",
        body: br#"{"error": "database on fire"}"#.to_vec(),
    });
    let report = resolve_with_bad_peers_then_a_good_one(&victim, &[&text.url, &broken.url]);
    for peer in [&text.url, &broken.url] {
        let outcome = outcome_for(&report, peer);
        assert_eq!(outcome["status"], "invalid", "{peer}: {report}");
        assert!(!reason(outcome).is_empty(), "{report}");
    }
}

#[test]
fn answers_with_wrong_json_types_are_invalid_and_the_next_peer_is_still_used() {
    let victim = TestNode::start(&["--no-relay"]);
    let bad_inv = FakePeer::start(|_| {
        PeerAnswer::Json(json!({
            "node_id": 7, "length": "many", "tip": null, "genesis": [], "difficulty": "8",
            "fork_index": -1, "values": {"type": "block"},
        }))
    });
    // An honest-looking /inv for a longer chain, then a /chain page of the wrong shape.
    let honest = Forge::from_genesis().honest_blocks(2).build();
    let node_id = fake_node_id();
    let bad_page = FakePeer::start(move |request| match request.path.as_str() {
        "/inv" => PeerAnswer::Json(inv_answer(&honest, request, &node_id)),
        _ => PeerAnswer::Json(json!({
            "chain": [{"index": "two", "hash": 5, "transactions": "none"}],
            "length": "three",
        })),
    });
    let report = resolve_with_bad_peers_then_a_good_one(&victim, &[&bad_inv.url, &bad_page.url]);
    for peer in [&bad_inv.url, &bad_page.url] {
        let outcome = outcome_for(&report, peer);
        assert_eq!(outcome["status"], "invalid", "{peer}: {report}");
        assert!(!reason(outcome).is_empty(), "{report}");
    }
    assert!(
        bad_page.requests().iter().any(|r| r.path == "/chain"),
        "the node asked for the blocks the inv promised"
    );
}

#[test]
fn answer_over_64_mib_is_invalid_and_the_next_peer_is_still_used() {
    // A generous peer timeout: only the size may fail this peer.
    let victim = TestNode::start(&["--no-relay", "--peer-timeout-ms", "20000"]);
    // A valid, longer chain, padded with 65 MiB of JSON whitespace: without the size cap
    // a node would adopt it.
    let honest = Forge::from_genesis().honest_blocks(2).build();
    let node_id = fake_node_id();
    let huge = FakePeer::start(move |request| match request.path.as_str() {
        "/inv" => PeerAnswer::Json(inv_answer(&honest, request, &node_id)),
        "/chain" => PeerAnswer::Padded {
            head: format!("{{\"length\": {}, \"chain\":", honest.len()).into_bytes(),
            filler: b' ',
            filler_len: 65 << 20,
            tail: format!("{}}}", json!(chain_page(&honest, request))).into_bytes(),
        },
        _ => not_found(request),
    });
    let good = good_peer();
    let began = Instant::now();
    let report = resolve_with_bad_peers_then(&victim, &[&huge.url], &good);
    let took = began.elapsed();
    let outcome = outcome_for(&report, &huge.url);
    assert_eq!(outcome["status"], "invalid", "{report}");
    let why = reason(outcome);
    assert!(
        ["MiB", "large", "limit", "size"]
            .iter()
            .any(|word| why.contains(word)),
        "the reason names the size cap: {report}"
    );
    // The reason above tells the size cap from the 20 s peer timeout; this only says the
    // node stopped reading well before it (timed without starting the good peer).
    assert!(took < Duration::from_secs(20), "resolve took {took:?}");
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// POST /nodes/resolve: 200 with every field of SPEC §5 and a known status per peer.
fn resolve(node: &TestNode) -> Value {
    let (status, report) = node.post("/nodes/resolve", &Value::Null);
    assert_eq!(status, 200, "POST /nodes/resolve on {}: {report}", node.url);
    for field in ["message", "replaced", "length", "tip", "peers"] {
        assert!(
            report.get(field).is_some(),
            "resolve answer lacks {field}: {report}"
        );
    }
    for outcome in report["peers"].as_array().expect("peers is an array") {
        let status = outcome["status"].as_str().unwrap_or("");
        assert!(
            [
                "adopted",
                "not longer",
                "unreachable",
                "invalid",
                "other network"
            ]
            .contains(&status),
            "unknown resolve status in {outcome}"
        );
    }
    report
}

/// The entry for `peer` in a resolve report.
fn outcome_for<'a>(report: &'a Value, peer: &str) -> &'a Value {
    report["peers"]
        .as_array()
        .and_then(|peers| peers.iter().find(|outcome| outcome["node"] == peer))
        .unwrap_or_else(|| panic!("no outcome for {peer} in {report}"))
}

fn reason(outcome: &Value) -> String {
    outcome["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("no reason in {outcome}"))
        .to_string()
}

/// GET /getblocks, checking the status.
fn getblocks(node: &TestNode) -> Value {
    get_ok(node, "/getblocks")
}

/// The entry for `peer` in a `/getblocks` answer.
fn inventory_for<'a>(answer: &'a Value, peer: &str) -> &'a Value {
    answer["information"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["node"] == peer))
        .unwrap_or_else(|| panic!("no entry for {peer} in {answer}"))
}

fn get_ok(node: &TestNode, path: &str) -> Value {
    let (status, answer) = node.get(path);
    assert_eq!(status, 200, "GET {path}: {answer}");
    answer
}

fn register(node: &TestNode, peer: &str) {
    let (status, answer) = node.post("/nodes/register", &json!({ "nodes": [peer] }));
    assert_eq!(status, 201, "register {peer} on {}: {answer}", node.url);
}

fn peer_urls(node: &TestNode) -> Vec<String> {
    node.peers()
        .iter()
        .map(|peer| peer.as_str().expect("peers are strings").to_string())
        .collect()
}

fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| {
            item.as_str()
                .unwrap_or_else(|| panic!("not a string: {item}"))
                .to_string()
        })
        .collect()
}

fn block_hashes(blocks: &[Value]) -> Vec<String> {
    blocks
        .iter()
        .map(|block| {
            block["hash"]
                .as_str()
                .expect("a block has a hash")
                .to_string()
        })
        .collect()
}

fn pool_ids(node: &TestNode) -> Vec<String> {
    node.pool()
        .iter()
        .map(|tx| {
            tx["id"]
                .as_str()
                .expect("a transaction has an id")
                .to_string()
        })
        .collect()
}

/// The values of one type in an `/inv` answer, in order.
fn inv_values(inv: &Value, kind: &str) -> Vec<String> {
    inv["values"]
        .as_array()
        .unwrap_or_else(|| panic!("no values in {inv}"))
        .iter()
        .filter(|item| item["type"] == kind)
        .map(|item| {
            item["value"]
                .as_str()
                .expect("values are strings")
                .to_string()
        })
        .collect()
}

fn inv_blocks(inv: &Value) -> Vec<String> {
    inv_values(inv, "block")
}

fn inv_transactions(inv: &Value) -> Vec<String> {
    inv_values(inv, "transaction")
}

/// A transaction as one node relays it to another: with its timestamp and id.
fn relayed(sender: &str, recipient: &str, amount: u64, timestamp: u64) -> Value {
    let tx = Transaction::new(sender, recipient, amount, timestamp);
    json!({
        "sender": sender, "recipient": recipient, "amount": amount,
        "timestamp": timestamp, "id": tx.id,
    })
}

/// A node's chain as library blocks.
fn blocks_of(node: &TestNode) -> Vec<Block> {
    serde_json::from_value(Value::Array(node.chain())).expect("a node's chain parses as blocks")
}

/// The node a lying peer tries to fool: miner "victim", two blocks of its own (length 3).
fn victim_with_two_blocks() -> TestNode {
    let victim = TestNode::start(&["--no-relay", "--miner", "victim"]);
    victim.mine();
    victim.mine();
    victim
}

/// Registers `peer` on `victim`, resolves, and checks that nothing changed; returns the
/// peer's outcome.
fn resolve_against_forgery(victim: &TestNode, peer: &FakePeer) -> Value {
    let before = victim.chain();
    register(victim, &peer.url);
    let report = resolve(victim);
    assert_eq!(report["replaced"], false, "{report}");
    assert_eq!(report["length"], before.len(), "{report}");
    assert_eq!(
        victim.chain(),
        before,
        "the victim's chain must not change: {report}"
    );
    outcome_for(&report, &peer.url).clone()
}

/// Serves `forged` (longer than the victim's chain, its only fault in block `bad_index`)
/// from a fake peer and expects the victim to refuse it as `invalid`, naming the block and
/// the rule: each keyword (alternatives split by `|`) appears in the reason.
fn assert_forged_chain_refused(
    victim: &TestNode,
    forged: Vec<Block>,
    bad_index: u64,
    keywords: &[&str],
) {
    let library_reason = assert_only_block_is_bad(&forged, bad_index);
    assert!(
        forged.len() > victim.chain().len(),
        "the forged chain must be longer than the victim's"
    );
    let peer = FakePeer::serving_chain(forged);
    let outcome = resolve_against_forgery(victim, &peer);
    assert_eq!(
        outcome["status"], "invalid",
        "expected invalid ({library_reason}): {outcome}"
    );
    let why = reason(&outcome);
    assert!(
        why.contains(&format!("block {bad_index}:")),
        "the reason names block {bad_index} ({library_reason}): {outcome}"
    );
    for keyword in keywords {
        assert!(
            keyword.split('|').any(|word| why.contains(word)),
            "the reason names the rule ({keyword:?}; {library_reason}): {outcome}"
        );
    }
}

/// Registers the `bad` peers, then a real node with a longer chain, and resolves: the good
/// peer must be adopted whatever the bad ones did. Returns the report.
fn resolve_with_bad_peers_then_a_good_one(victim: &TestNode, bad: &[&str]) -> Value {
    resolve_with_bad_peers_then(victim, bad, &good_peer())
}

/// A node with a chain two blocks longer than a fresh one's.
fn good_peer() -> TestNode {
    let good = TestNode::start(&["--no-relay"]);
    good.mine();
    good.mine();
    good
}

/// Like [`resolve_with_bad_peers_then_a_good_one`], with the good peer already started.
fn resolve_with_bad_peers_then(victim: &TestNode, bad: &[&str], good: &TestNode) -> Value {
    for peer in bad {
        register(victim, peer);
    }
    register(victim, &good.url);
    let report = resolve(victim);
    assert_eq!(
        outcome_for(&report, &good.url)["status"],
        "adopted",
        "a good peer after the bad ones is still used: {report}"
    );
    assert_eq!(report["replaced"], true, "{report}");
    assert_eq!(victim.chain(), good.chain(), "{report}");
    report
}

#[test]
fn a_resolve_that_read_no_peer_does_not_call_our_chain_authoritative() {
    let victim = TestNode::start(&["--no-relay", "--peer-timeout-ms", "500"]);
    let silent = FakePeer::start(|_| PeerAnswer::Hang);
    register(&victim, &silent.url);
    let (status, report) = victim.post("/nodes/resolve", &Value::Null);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["replaced"], false);
    assert_eq!(
        report["message"], "Our chain was kept, but no peer answered (see each peer's reason)",
        "{report}"
    );
    let honest = TestNode::start(&["--no-relay"]);
    register(&victim, &honest.url);
    let (_, report) = victim.post("/nodes/resolve", &Value::Null);
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .starts_with("Our chain is authoritative"),
        "{report}"
    );
}
