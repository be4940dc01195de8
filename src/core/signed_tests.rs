//! Who may spend, checked where it matters: known answers from an independent
//! implementation (`tests/data/vectors.json`, `signed`), and every forgery class of
//! issue 9 refused inside a block with its rule.

use crate::core::block::{Block, Header, Transaction, genesis, merkle_root};
use crate::core::chain::{Chain, Rule};
use crate::core::hash::{BlockHash, TxId};
use crate::core::ledger::LedgerError;
use crate::core::pow::search;
use crate::core::signed::{Signature, SignatureError, key_address, signing_message};
use crate::crypto::{LmsType, OtsType, PrivateKey, VerifyError, from_hex};
use serde_json::Value;
use std::sync::atomic::AtomicBool;

const DIFFICULTY: u32 = 8;
const REWARD: u64 = 50;
const NOW: u64 = 1_732_500_000_000;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../tests/data/vectors.json")).unwrap()
}

fn hex32(text: &str) -> [u8; 32] {
    from_hex(text).unwrap().try_into().unwrap()
}

/// The H5/W4 key of the `signed` vectors, or another one from `seed_byte`.
fn key(seed_byte: Option<u8>) -> PrivateKey {
    let signed = &vectors()["signed"];
    let identifier: [u8; 16] = from_hex(signed["I"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let seed = match seed_byte {
        None => hex32(signed["seed"].as_str().unwrap()),
        Some(byte) => [byte; 32],
    };
    PrivateKey::generate(LmsType::H5, OtsType::W4, identifier, seed)
}

/// A payment from `key`'s address signed with leaf `q` on the network of `network`.
fn signed(key: &PrivateKey, network: &BlockHash, to: &str, amount: u64, q: u32) -> Transaction {
    let mut tx = Transaction::new(
        &key_address(&key.public_key()),
        to,
        amount,
        NOW + u64::from(q),
    );
    let signature = key.sign(q, &signing_message(network, &tx.id)).unwrap();
    tx.signature = Some(Signature(signature));
    tx
}

fn seal(parent: &Block, miner: &str, payments: Vec<Transaction>) -> Block {
    let timestamp = parent.header.timestamp.max(NOW) + 1000;
    let mut transactions = vec![Transaction::coinbase(miner, REWARD, timestamp)];
    transactions.extend(payments);
    let header = Header::child_of(parent, timestamp, &transactions, DIFFICULTY);
    prove(Block::from_header(header, transactions))
}

fn prove(block: Block) -> Block {
    let mut header = block.header;
    header.proof = search(&header, 1, &AtomicBool::new(false)).unwrap().proof;
    Block::from_header(header, block.transactions)
}

/// A chain whose block 2 pays 50 coins to `key`'s address.
fn chain_paying(key: &PrivateKey) -> Chain {
    let mut chain = Chain::new(DIFFICULTY, REWARD);
    let block = seal(chain.tip(), &key_address(&key.public_key()), vec![]);
    chain.append(block, NOW).unwrap();
    chain
}

fn rule_of(chain: &Chain, payment: Transaction) -> Rule {
    let block = seal(chain.tip(), "miner", vec![payment]);
    chain.check_next(&block, NOW).unwrap_err().rule
}

fn bad_signature(rule: Rule) -> SignatureError {
    match rule {
        Rule::BadSignature { position: 1, error } => error,
        other => panic!("expected a bad signature in transaction 1, got {other:?}"),
    }
}

#[test]
fn signed_vectors_give_the_same_leaf_hashes_merkle_root_and_json() {
    let signed = &vectors()["signed"];
    let network = genesis(8).hash;
    assert_eq!(
        network.to_hex(),
        signed["genesis_difficulty_8"].as_str().unwrap()
    );
    let leaf_hashes: Vec<&str> = signed["merkle"]["leaf_hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hash| hash.as_str().unwrap())
        .collect();
    for (entry, expected) in signed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&leaf_hashes[1..])
    {
        let tx: Transaction = serde_json::from_value(entry["transaction"].clone()).unwrap();
        tx.check(false).unwrap();
        tx.check_signature(&network).unwrap();
        assert_eq!(crate::core::hash::to_hex(&tx.leaf_hash()), *expected);
        assert_eq!(
            serde_json::to_value(&tx).unwrap(),
            entry["transaction"],
            "the wire form is exactly the vector's"
        );
    }
    let ids: Vec<TxId> = leaf_hashes.iter().map(|hash| TxId(hex32(hash))).collect();
    assert_eq!(
        merkle_root(&ids).to_hex(),
        signed["merkle"]["root"].as_str().unwrap()
    );
}

#[test]
fn a_signed_payment_is_accepted_and_its_leaf_recorded() {
    let alice = key(None);
    let mut chain = chain_paying(&alice);
    let payment = signed(&alice, &chain.genesis().hash, "bob", 5, 0);
    let block = seal(chain.tip(), "miner", vec![payment.clone()]);
    chain.append(block, NOW).unwrap();
    let address = key_address(&alice.public_key());
    assert_eq!(chain.ledger().balance(&address), 45);
    assert_eq!(chain.ledger().last_leaf(&address), Some(0));
    assert_eq!(chain.ledger().leaf_user(&address, 0), Some(payment.id));
}

#[test]
fn every_forgery_class_is_refused_with_its_rule() {
    let alice = key(None);
    let chain = chain_paying(&alice);
    let network = chain.genesis().hash;
    let valid = signed(&alice, &network, "bob", 5, 0);

    let mut unsigned = valid.clone();
    unsigned.signature = None;
    assert_eq!(
        bad_signature(rule_of(&chain, unsigned)),
        SignatureError::Missing
    );

    // Another key signs alice's payment.
    let mallory = key(Some(7));
    let mut by_other_key = valid.clone();
    by_other_key.signature = Some(Signature(
        mallory
            .sign(0, &signing_message(&network, &valid.id))
            .unwrap(),
    ));
    assert_eq!(
        bad_signature(rule_of(&chain, by_other_key)),
        SignatureError::Invalid(VerifyError::WrongRoot)
    );

    // Signed for another network.
    let other_network = signed(&alice, &genesis(9).hash, "bob", 5, 0);
    assert_eq!(
        bad_signature(rule_of(&chain, other_network)),
        SignatureError::Invalid(VerifyError::WrongRoot)
    );

    // A signature over other fields: the amount changed after signing.
    let mut other_fields = valid.clone();
    other_fields.amount = 6;
    other_fields.id = Transaction::compute_id(
        &other_fields.sender,
        &other_fields.recipient,
        6,
        other_fields.timestamp,
    );
    assert!(matches!(
        bad_signature(rule_of(&chain, other_fields)),
        SignatureError::Invalid(_)
    ));

    // Tampered bytes, a wrong length, a wrong typecode.
    let bytes = valid.signature.clone().unwrap().0;
    let mut tampered = bytes.clone();
    tampered[100] ^= 1;
    let mut truncated = bytes.clone();
    truncated.pop();
    let mut typecode = bytes.clone();
    typecode[7] = 9;
    for forged in [tampered, truncated, typecode] {
        let mut tx = valid.clone();
        tx.signature = Some(Signature(forged));
        assert!(matches!(
            bad_signature(rule_of(&chain, tx)),
            SignatureError::Invalid(_)
        ));
    }

    // A name sender carries no signature.
    let mut on_name = Transaction::new("carol", "bob", 1, NOW);
    on_name.signature = valid.signature.clone();
    assert_eq!(
        bad_signature(rule_of(&chain, on_name)),
        SignatureError::OnName
    );

    // A merkle root over ids instead of leaf hashes.
    let mut block = seal(chain.tip(), "miner", vec![valid.clone()]);
    let ids: Vec<TxId> = block.transactions.iter().map(|tx| tx.id).collect();
    block.header.merkle_root = merkle_root(&ids);
    let block = prove(block);
    assert!(matches!(
        chain.check_next(&block, NOW).unwrap_err().rule,
        Rule::WrongMerkleRoot { .. }
    ));
}

#[test]
fn a_leaf_signs_once_even_with_a_valid_signature() {
    let alice = key(None);
    let mut chain = chain_paying(&alice);
    let network = chain.genesis().hash;
    let first = signed(&alice, &network, "bob", 5, 3);
    let again = signed(&alice, &network, "carol", 7, 3);
    again.check_signature(&network).unwrap();

    // Twice in one block.
    let block = seal(chain.tip(), "miner", vec![first.clone(), again.clone()]);
    let rule = chain.check_next(&block, NOW).unwrap_err().rule;
    assert_eq!(
        rule,
        Rule::Ledger {
            position: 2,
            error: LedgerError::LeafReused {
                leaf: 3,
                earlier: first.id
            }
        }
    );
    assert!(
        rule.to_string()
            .contains("leaf 3 of this key already signed transaction")
    );

    // In a later block.
    chain
        .append(seal(chain.tip(), "miner", vec![first.clone()]), NOW)
        .unwrap();
    assert!(matches!(
        rule_of(&chain, again),
        Rule::Ledger {
            error: LedgerError::LeafReused { leaf: 3, .. },
            ..
        }
    ));
}

#[test]
fn rolling_back_a_block_frees_its_leaves() {
    let alice = key(None);
    let mut ours = chain_paying(&alice);
    let network = ours.genesis().hash;
    let fork = ours.len();
    let mut theirs = ours.clone();
    let to_bob = signed(&alice, &network, "bob", 5, 0);
    ours.append(seal(ours.tip(), "miner", vec![to_bob]), NOW)
        .unwrap();
    // The other branch uses leaf 0 for another payment, and is longer.
    let to_carol = signed(&alice, &network, "carol", 9, 0);
    theirs
        .append(seal(theirs.tip(), "other", vec![to_carol.clone()]), NOW)
        .unwrap();
    theirs
        .append(seal(theirs.tip(), "other", vec![]), NOW)
        .unwrap();
    let branch = theirs.blocks()[fork as usize..].to_vec();
    ours.switch_to_branch(fork, branch, NOW).unwrap();
    let address = key_address(&alice.public_key());
    assert_eq!(ours.ledger().leaf_user(&address, 0), Some(to_carol.id));
    assert_eq!(ours.ledger().balance("carol"), 9);
}
