//! `minichain wallet …`: a key that no node holds (SPEC §2, §3a).
//!
//! `new` makes a key file, `address` prints its key address, `sign` prints a signed
//! transaction (for Postman or curl), `send` signs and posts it to a node. The key file
//! records the next leaf and is rewritten durably **before** a signature leaves this
//! process, so a crash can waste a leaf but never use one twice. Given `--node`, the
//! wallet also refuses to sign with a leaf at or below the highest one the node has seen
//! this key use (`last_leaf`), which is what a stale copy of a key file would do.

use crate::core::block::{MAX_AMOUNT, Transaction, check_address, genesis};
use crate::core::hash::BlockHash;
use crate::core::signed::{Signature, signing_message};
use crate::crypto::{LmsType, PrivateKey, PublicKey, SignError};
use crate::flags::FlagError;
use crate::node::now_ms;
use crate::store::StoreError;
use crate::store::keyfile::{self, KeyRecord};
use crate::wallet::keys;
use crate::wire::address::normalize_peer;
use crate::wire::client::{PeerClient, PeerError};
use crate::wire::protocol::InvAnswer;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The text `minichain wallet --help` prints.
pub const USAGE: &str = "\
usage: minichain wallet new     --key FILE [--height 5|10|15]
       minichain wallet address --key FILE
       minichain wallet sign    --key FILE --to ADDR --amount N (--node URL | --difficulty N)
                                [--timestamp MS] [--use-last-leaf]
       minichain wallet send    --key FILE --to ADDR --amount N --node URL
                                [--timestamp MS] [--use-last-leaf]
       minichain wallet verify  ID --node URL [--node URL ...] [--difficulty N]
                                [--data-dir DIR]

A wallet for a key that no node holds. The key file is a secret (mode 0600): whoever has
it can spend the key's coins, and a copy used twice signs two transactions with one leaf,
which lets anyone forge with that leaf. Keep one copy, never a second live one.

  new            make a key (LMS_SHA256_M32_H<height> / LMOTS_SHA256_N32_W4) in FILE;
                 refuses to overwrite; prints its key address
  address        print the key address (112 hex characters) of FILE
  sign           print the signed transaction JSON, ready for POST /transactions/new
  send           sign, post it to the node, print the node's answer, its signature
                 shortened (exit 1 unless 201)
  verify         is payment ID in a block of the chain with the most work? a light client
                 that checks headers and the merkle proof (minichain wallet verify --help)
  --height H     tree height: 2^H - 1 spendable signatures (default 10: 1,023)
  --to ADDR      the recipient: a key address or a name
  --amount N     whole coins, 1 to 2^53 - 1
  --node URL     the node: gives the network's genesis hash (its /inv) and the highest
                 leaf it has seen this key use (its /balances?address=)
  --difficulty N instead of --node: compute the genesis hash offline (no leaf check)
  --timestamp MS the transaction's timestamp (default: now), fixing its id
  --use-last-leaf  sign with the key's last leaf, kept to move the whole balance to a
                 new key (send everything to a fresh key's address with it)";

/// How long the wallet waits for the node on each call.
const NODE_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong: `Usage` (a bad command line, exit 2) or `Failed` (exit 1); `Help`
/// asks for the usage (exit 0).
#[derive(Debug)]
pub enum WalletError {
    /// `--help`, `-h` or `help`: print the usage.
    Help,
    /// The command line cannot be understood; printed with the usage.
    Usage(FlagError),
    /// The command was understood and could not be done.
    Failed(WalletFailure),
}

impl From<FlagError> for WalletError {
    fn from(error: FlagError) -> WalletError {
        WalletError::Usage(error)
    }
}

impl From<WalletFailure> for WalletError {
    fn from(failure: WalletFailure) -> WalletError {
        WalletError::Failed(failure)
    }
}

impl From<StoreError> for WalletError {
    fn from(error: StoreError) -> WalletError {
        WalletError::Failed(WalletFailure::KeyFile(error))
    }
}

/// Why an understood wallet command could not be done: each names the file or the node.
#[derive(Debug)]
pub enum WalletFailure {
    /// `/dev/urandom` cannot be read (a new key needs it).
    Random(std::io::Error),
    /// The key file cannot be created, read or written.
    KeyFile(StoreError),
    /// The key file holds something that is not a usable key.
    DamagedKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong in it.
        what: &'static str,
    },
    /// The node has seen this key use the file's next leaf or a later one: an old copy.
    StaleKey {
        /// The key file.
        path: PathBuf,
        /// The file's next leaf.
        next_leaf: u32,
        /// The node asked.
        node: String,
        /// The highest leaf the node has seen.
        seen: u64,
    },
    /// Every leaf but the last is used, and `--use-last-leaf` was not given (or it is used too).
    LeavesUsed {
        /// The key file.
        path: PathBuf,
        /// Leaves used (capped at the last one).
        used: u32,
        /// Leaves in the tree.
        leaves: u64,
    },
    /// The signature could not be made.
    Sign(SignError),
    /// A call to the node failed; `path` is what was asked (`""` for the payment's post).
    Node {
        /// The node called.
        node: String,
        /// The path called, as the message names it: `""`, `/inv` or `/balances`.
        path: &'static str,
        /// How the call failed.
        error: PeerError,
    },
    /// The node answered the payment with a refusal: its status and answer.
    Refused {
        /// The node called.
        node: String,
        /// The HTTP status (not 201).
        status: u16,
        /// Its answer, pretty-printed JSON.
        answer: String,
    },
}

impl fmt::Display for WalletFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletFailure::Random(error) => write!(f, "cannot read /dev/urandom: {error}"),
            WalletFailure::KeyFile(error) => write!(f, "{error}"),
            WalletFailure::DamagedKey { path, what } => {
                write!(f, "{}: not a usable key file ({what})", path.display())
            }
            WalletFailure::StaleKey {
                path,
                next_leaf,
                node,
                seen,
            } => write!(
                f,
                "{}: this key file's next leaf is {next_leaf}, but {node} has seen this key use leaf \
                 {seen}: this file is an older copy of the key. Signing with a used leaf lets \
                 anyone forge with it, so nothing was signed. Use the key file that signed leaf \
                 {seen}.",
                path.display()
            ),
            WalletFailure::LeavesUsed { path, used, leaves } => write!(
                f,
                "{}: every leaf but the last is used ({used} of {leaves}); the last one is kept to \
                 move the whole balance to a new key: `minichain wallet new --key NEW.key`, then \
                 sign here with --to <its address> --use-last-leaf",
                path.display()
            ),
            WalletFailure::Sign(error) => write!(f, "{error}"),
            WalletFailure::Node { node, path, error } => write!(f, "{node}{path}: {error}"),
            WalletFailure::Refused {
                node,
                status,
                answer,
            } => write!(f, "{node} answered {status}:\n{answer}"),
        }
    }
}

impl std::error::Error for WalletFailure {}

/// A usage error with these words.
fn usage(message: impl Into<String>) -> WalletError {
    WalletError::Usage(FlagError(message.into()))
}

/// Runs `minichain wallet ARGS…` (the arguments after `wallet`); returns the exit status
/// after printing the result or the error.
pub fn main(args: Vec<String>) -> u8 {
    if args.first().is_some_and(|command| command == "verify") {
        return crate::light::verify::main(&args[1..]);
    }
    match run(args) {
        Ok(output) => {
            println!("{output}");
            0
        }
        Err(WalletError::Help) => {
            println!("{USAGE}");
            0
        }
        Err(WalletError::Usage(message)) => {
            eprintln!("minichain wallet: {message}\n\n{USAGE}");
            2
        }
        Err(WalletError::Failed(message)) => {
            eprintln!("minichain wallet: {message}");
            1
        }
    }
}

/// Parses and performs one wallet command; `Ok` holds what to print.
pub fn run(args: Vec<String>) -> Result<String, WalletError> {
    let command = Flags::parse(args)?;
    match command.action.as_str() {
        "new" => new_key(&command),
        "address" => Ok(load_key(&command.key()?)?.1.address),
        "sign" => {
            let signed = sign(&command)?;
            Ok(serde_json::to_string_pretty(&signed).expect("a transaction serialises"))
        }
        "send" => send(&command),
        other => Err(usage(format!(
            "unknown wallet command {other:?}; use new, address, sign or send"
        ))),
    }
}

/// The parsed command line of one wallet command.
#[derive(Debug, Default)]
struct Flags {
    action: String,
    key: Option<PathBuf>,
    height: Option<u32>,
    to: Option<String>,
    amount: Option<u64>,
    node: Option<String>,
    difficulty: Option<u32>,
    timestamp: Option<u64>,
    use_last_leaf: bool,
}

impl Flags {
    fn parse(args: Vec<String>) -> Result<Flags, WalletError> {
        let mut args = crate::flags::Flags::new(args.into_iter());
        let mut flags = Flags::default();
        match args.next_word() {
            None => return Err(usage("which wallet command?")),
            Some(help) if help == "--help" || help == "-h" || help == "help" => {
                return Err(WalletError::Help);
            }
            Some(action) => flags.action = action,
        }
        while let Some(flag) = args.next_flag() {
            if flag.is_help() {
                return Err(WalletError::Help);
            }
            match flag.name.as_str() {
                "--use-last-leaf" => {
                    args.switch(&flag)?;
                    flags.use_last_leaf = true;
                }
                "--key" => flags.key = Some(PathBuf::from(args.non_empty(&flag)?)),
                "--height" => flags.height = Some(args.number(&flag, 5, 15)? as u32),
                "--to" => flags.to = Some(args.value(&flag)?),
                "--amount" => flags.amount = Some(args.number(&flag, 1, MAX_AMOUNT)?),
                "--node" => flags.node = Some(args.value(&flag)?),
                "--difficulty" => flags.difficulty = Some(args.number(&flag, 1, 64)? as u32),
                "--timestamp" => flags.timestamp = Some(args.number(&flag, 0, u64::MAX)?),
                _ => {
                    return Err(usage(format!("unknown flag {:?}", flag.written)));
                }
            }
        }
        Ok(flags)
    }

    fn key(&self) -> Result<PathBuf, WalletError> {
        self.key
            .clone()
            .ok_or_else(|| usage("--key FILE is required"))
    }

    fn required<T: Clone>(value: &Option<T>, flag: &str) -> Result<T, WalletError> {
        value
            .clone()
            .ok_or_else(|| usage(format!("{flag} is required")))
    }
}

/// `wallet new`: random `I` and `SEED`, the tree computed once for the address.
fn new_key(flags: &Flags) -> Result<String, WalletError> {
    let path = flags.key()?;
    let height = flags.height.unwrap_or(10);
    let lms = match height {
        5 | 10 | 15 => LmsType::from_height(height).expect("5, 10 and 15 are LMS heights"),
        _ => {
            return Err(usage(format!("--height {height}: choose 5, 10 or 15")));
        }
    };
    let (_, record) = keys::fresh_key(lms).map_err(WalletFailure::Random)?;
    let address = record.address.clone();
    keyfile::create(&path, &record)?;
    Ok(address)
}

/// Reads a key file and rebuilds its private key; the address is recomputed.
fn load_key(path: &Path) -> Result<(PrivateKey, KeyRecord), WalletError> {
    let mut record = keyfile::load(path)?;
    let (key, address) =
        keys::rebuild(&record).map_err(|keys::DamagedKey(what)| WalletFailure::DamagedKey {
            path: path.to_path_buf(),
            what,
        })?;
    record.address = address;
    Ok((key, record))
}

/// `wallet sign`: checks, moves the key file's next leaf durably, then signs.
fn sign(flags: &Flags) -> Result<Transaction, WalletError> {
    let path = flags.key()?;
    let to = Flags::required(&flags.to, "--to")?;
    let amount = Flags::required(&flags.amount, "--amount")?;
    check_address("recipient", &to).map_err(|error| usage(error.to_string()))?;
    let (key, mut record) = load_key(&path)?;
    if to == record.address {
        return Err(usage(
            "--to is this key's own address; sender and recipient must differ",
        ));
    }
    let client = PeerClient::new(NODE_TIMEOUT);
    let node = flags.node.as_deref().map(node_url).transpose()?;
    let genesis_hash = match (&node, flags.difficulty) {
        (Some(node), _) => network_genesis(&client, node)?,
        (None, Some(difficulty)) => genesis(difficulty).hash,
        (None, None) => {
            return Err(usage(
                "--node URL (or --difficulty N, offline) is required: a signature is tied \
                 to one network's genesis hash",
            ));
        }
    };
    let q = record.next_leaf;
    if let Some(node) = &node
        && let Some(seen) = last_leaf(&client, node, &record.address)?
        && u64::from(q) <= seen
    {
        return Err(WalletFailure::StaleKey {
            path,
            next_leaf: q,
            node: node.clone(),
            seen,
        }
        .into());
    }
    let public: PublicKey = key.public_key();
    let leaves = public.lms.leaves();
    let last = (leaves - 1) as u32;
    if u64::from(q) >= leaves || (q == last && !flags.use_last_leaf) {
        return Err(WalletFailure::LeavesUsed {
            path,
            used: q.min(last),
            leaves,
        }
        .into());
    }
    let timestamp = flags.timestamp.unwrap_or_else(now_ms);
    let mut tx = Transaction::new(&record.address, &to, amount, timestamp);
    // The next leaf is on disk before the signature exists outside this function.
    record.next_leaf = q + 1;
    keyfile::save(&path, &record)?;
    let signature = key
        .sign(q, &signing_message(&genesis_hash, &tx.id))
        .map_err(WalletFailure::Sign)?;
    tx.signature = Some(Signature(signature));
    Ok(tx)
}

/// `wallet send`: signs, posts to the node, returns the node's answer; a refusal fails.
fn send(flags: &Flags) -> Result<String, WalletError> {
    let node = node_url(
        flags
            .node
            .as_deref()
            .ok_or_else(|| usage("send needs --node URL"))?,
    )?;
    let signed = sign(flags)?;
    let client = PeerClient::new(NODE_TIMEOUT);
    // A person reads the answer: the signature it echoes comes back as one short line
    // (`?brief=signatures`; the key addresses stay whole, to be copied).
    let (status, answer) = client
        .post_answer(
            &format!("{node}/transactions/new?brief=signatures"),
            &signed,
        )
        .map_err(|error| WalletFailure::Node {
            node: node.clone(),
            path: "",
            error,
        })?;
    let text = serde_json::to_string_pretty(&answer).expect("JSON values serialise");
    if status == 201 {
        Ok(text)
    } else {
        Err(WalletFailure::Refused {
            node,
            status,
            answer: text,
        }
        .into())
    }
}

/// A node's address as the wallet calls it (`127.0.0.1:5000` → `http://127.0.0.1:5000`).
fn node_url(input: &str) -> Result<String, WalletError> {
    normalize_peer(input)
        .map(|url| url.to_string())
        .map_err(|error| usage(format!("--node: {error}")))
}

/// The node's genesis hash, from its `/inv`.
fn network_genesis(client: &PeerClient, node: &str) -> Result<BlockHash, WalletError> {
    client
        .get::<InvAnswer>(&format!("{node}/inv?limit=0"))
        .map(|inv| inv.genesis)
        .map_err(|error| {
            WalletFailure::Node {
                node: node.to_string(),
                path: "/inv",
                error,
            }
            .into()
        })
}

/// The highest leaf the node has seen `address` use, in its chain or pool.
fn last_leaf(client: &PeerClient, node: &str, address: &str) -> Result<Option<u64>, WalletError> {
    let answer: serde_json::Value = client
        .get(&format!("{node}/balances?address={address}"))
        .map_err(|error| WalletFailure::Node {
            node: node.to_string(),
            path: "/balances",
            error,
        })?;
    Ok(answer.get("last_leaf").and_then(serde_json::Value::as_u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::from_hex;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn temp_key(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("minichain-wallet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("can create a scratch directory");
        dir.join("alice.key")
    }

    #[test]
    fn offline_signatures_verify_and_each_uses_the_next_leaf() {
        let key = temp_key("offline");
        let key_arg = key.display().to_string();
        let address = run(args(&format!("new --key {key_arg} --height 5"))).expect("new");
        assert_eq!(address.len(), 112);
        assert_eq!(
            run(args(&format!("address --key {key_arg}"))).expect("address"),
            address
        );
        let public = PublicKey::from_bytes(&from_hex(&address).expect("hex")).expect("a key");
        for expected_leaf in 0..2u32 {
            let signed = sign(
                &Flags::parse(args(&format!(
                    "sign --key {key_arg} --to bob --amount 5 --difficulty 8 --timestamp 1000"
                )))
                .expect("parses"),
            )
            .expect("signs");
            let signature = signed.signature.expect("signed").0;
            assert_eq!(
                crate::crypto::signature_leaf(&signature),
                Some(expected_leaf)
            );
            let mut message = genesis(8).hash.as_bytes().to_vec();
            message.extend_from_slice(signed.id.as_bytes());
            public.verify(&message, &signature).expect("verifies");
            assert_eq!(
                keyfile::load(&key).expect("loads").next_leaf,
                expected_leaf + 1
            );
        }
    }

    #[test]
    fn the_last_leaf_is_kept_unless_asked_for() {
        let key = temp_key("last-leaf");
        let key_arg = key.display().to_string();
        run(args(&format!("new --key {key_arg} --height 5"))).expect("new");
        let mut record = keyfile::load(&key).expect("loads");
        record.next_leaf = 31;
        keyfile::save(&key, &record).expect("saves");
        let sign_args = format!("sign --key {key_arg} --to bob --amount 5 --difficulty 8");
        let error = run(args(&sign_args)).expect_err("the last leaf is kept");
        assert!(
            matches!(&error, WalletError::Failed(m) if m.to_string().contains("--use-last-leaf"))
        );
        run(args(&format!("{sign_args} --use-last-leaf"))).expect("signs with the last leaf");
        let error = run(args(&format!("{sign_args} --use-last-leaf"))).expect_err("spent");
        assert!(matches!(error, WalletError::Failed(_)));
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for line in [
            "",
            "fly --key k",
            "sign --key k --to bob",
            "new --key k --height 7",
            "sign --key k --to bob --amount 0 --difficulty 8",
            "sign --key k --to bob --amount 5",
        ] {
            let result = run(args(line));
            assert!(
                matches!(
                    result,
                    Err(WalletError::Usage(_)) | Err(WalletError::Failed(_))
                ),
                "{line:?}: {result:?}"
            );
        }
        assert!(matches!(
            run(args("new --key k --height 7")),
            Err(WalletError::Usage(_))
        ));
    }
}
