//! The command-line wallet (`minichain wallet …`, SPEC §2, §3a) against a real node: a key
//! no node holds receives coins, spends them, and can never sign twice with one leaf.

use crate::util::{TestNode, binary, fresh_dir};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `minichain wallet ARGS…` and returns its output.
fn wallet(args: &[&str]) -> Output {
    Command::new(binary())
        .arg("wallet")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// Makes an H5 key (fast) and returns its address.
fn new_key(path: &Path) -> String {
    let output = wallet(&["new", "--key", path.to_str().unwrap(), "--height", "5"]);
    assert!(output.status.success(), "wallet new: {}", stderr(&output));
    stdout(&output)
}

fn next_leaf(path: &Path) -> u64 {
    let file: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let record: Value = serde_json::from_str(file[0]["key"].as_str().unwrap()).unwrap();
    record["next_leaf"].as_u64().unwrap()
}

#[test]
fn a_key_file_is_private_never_overwritten_and_names_its_address() {
    let dir = fresh_dir("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("alice.key");
    let address = new_key(&key);
    assert_eq!(address.len(), 112, "{address}");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(&key).unwrap();
    let again = wallet(&["new", "--key", key.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already there"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "the key file is untouched"
    );
    let shown = wallet(&["address", "--key", key.to_str().unwrap()]);
    assert_eq!(stdout(&shown), address);
    let bad = wallet(&["sign", "--key", key.to_str().unwrap(), "--to", "bob"]);
    assert_eq!(bad.status.code(), Some(2), "a bad command line exits 2");
}

#[test]
fn a_key_no_node_holds_receives_and_spends_and_a_stale_copy_cannot_sign() {
    let dir = fresh_dir("spend");
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("alice.key");
    let address = new_key(&key);
    let node = TestNode::start(&["--miner", &address, "--no-relay"]);
    node.mine();
    let copy = dir.join("copy.key");
    std::fs::copy(&key, &copy).unwrap();

    let key_arg = key.to_str().unwrap();
    let sent = wallet(&[
        "send", "--key", key_arg, "--to", "bob", "--amount", "7", "--node", &node.url,
    ]);
    assert!(sent.status.success(), "wallet send: {}", stderr(&sent));
    let answer: Value = serde_json::from_str(&stdout(&sent)).unwrap();
    assert_eq!(answer["transaction"]["sender"], address.as_str());
    assert!(answer["transaction"]["signature"].is_string());
    assert_eq!(next_leaf(&key), 1);

    // The copy still says leaf 0, which the node has seen used: refused, nothing signed.
    let stale = wallet(&[
        "send",
        "--key",
        copy.to_str().unwrap(),
        "--to",
        "carol",
        "--amount",
        "1",
        "--node",
        &node.url,
    ]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        stderr(&stale).contains("has seen this key use leaf 0"),
        "{}",
        stderr(&stale)
    );
    assert_eq!(next_leaf(&copy), 0, "nothing was signed with the copy");

    // Signed offline for another network: the node refuses it with the reason.
    let other = wallet(&[
        "sign",
        "--key",
        key_arg,
        "--to",
        "bob",
        "--amount",
        "1",
        "--difficulty",
        "9",
    ]);
    assert!(other.status.success(), "{}", stderr(&other));
    let forged: Value = serde_json::from_str(&stdout(&other)).unwrap();
    let (status, refusal) = node.post("/transactions/new", &forged);
    assert_eq!(status, 400, "{refusal}");
    assert!(
        refusal["error"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{refusal}"
    );

    node.mine();
    let (_, balances) = node.get("/balances");
    assert_eq!(balances["balances"]["bob"], 7);
    assert_eq!(balances["balances"][address.as_str()], 2 * 50 - 7);
    let (_, mine) = node.get(&format!("/balances?address={address}"));
    assert_eq!(mine["last_leaf"], 0);
}

#[test]
fn a_signature_that_never_left_the_wallet_still_used_up_its_leaf() {
    let dir = fresh_dir("crash");
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("alice.key");
    new_key(&key);
    let key_arg = key.to_str().unwrap();
    // stdout closed: the wallet dies trying to print, after the key file moved on.
    let mut child = Command::new(binary())
        .args([
            "wallet",
            "sign",
            "--key",
            key_arg,
            "--to",
            "bob",
            "--amount",
            "1",
            "--difficulty",
            "8",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(!status.success(), "printing to a closed pipe fails");
    assert_eq!(next_leaf(&key), 1, "leaf 0 is spent although nobody saw it");
    let signed = wallet(&[
        "sign",
        "--key",
        key_arg,
        "--to",
        "bob",
        "--amount",
        "1",
        "--difficulty",
        "8",
    ]);
    let tx: Value = serde_json::from_str(&stdout(&signed)).unwrap();
    let signature = tx["signature"].as_str().unwrap();
    assert_eq!(
        &signature[..8],
        "00000001",
        "the next signature uses leaf 1"
    );
}
