//! `minichain wallet verify ID --node URL [--node URL ...]`: is this payment in a block of
//! the chain with the most work, and how deep? (SPEC §5b.)
//!
//! 1. Load the header cache of the network `--difficulty` names (its genesis hash), and
//!    check it again.
//! 2. Ask each node `GET /headers?locator=…` from the best chain known so far, page by
//!    page, checking every header; a node whose headers fail is named and set aside.
//! 3. Take the chain with the most work; the nodes whose tip is its tip agree.
//! 4. Ask the agreeing nodes, one after the other, `GET /transactions/ID/proof` until a
//!    proof checks: the transaction hashes to ID, its leaf hash is right, the header is
//!    the best chain's header at that index, and the branch climbs to its merkle root.
//! 5. Save the best chain to the cache; print the result and the bytes fetched.

use crate::clock::now_ms;
use crate::core::block::{Transaction, genesis};
use crate::core::hash::{BlockHash, MerkleNode, MerkleRoot, TxId};
use crate::core::merkle;
use crate::flags::FlagError;
use crate::light::headers::{HeaderChain, HeaderError};
use crate::store::StoreError;
use crate::store::header_cache;
use crate::wire::address::{PeerUrl, normalize_peer};
use crate::wire::client::{PeerClient, PeerError};
use crate::wire::lookup::{HeadersAnswer, MAX_HEADERS, ProofAnswer};
use std::fmt;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// The text `minichain wallet verify --help` prints.
pub const USAGE: &str = "\
usage: minichain wallet verify ID --node URL [--node URL ...] [--difficulty N] [--data-dir DIR]

A light client (SPEC §5b): keeps only block headers, checks each one (link, difficulty,
proof of work) from the genesis of the network's difficulty, takes the chain with the most
work among the nodes, and checks the payment's merkle branch against that chain's header.
A node whose headers or branch fail is named; the payment can still be proven by another.

  ID             the payment's id (64 hex characters)
  --node URL     a node to ask (repeatable)
  --difficulty N the network's difficulty, which gives its genesis (default 20, as the node)
  --data-dir DIR where headers are cached, one file per network (default data/wallet)

Exit status: 0 when the payment is proven in a block of the best chain, 1 when not (not
mined, unknown, or no node gave a proof that checks), 2 for a bad command line.";

/// How long each call to a node may take.
const NODE_TIMEOUT: Duration = Duration::from_secs(30);
/// The node's default difficulty (SPEC §2), so a bare `--node` works on a default network.
const DEFAULT_DIFFICULTY: u32 = 20;

/// The parsed command line.
struct Flags {
    id: TxId,
    nodes: Vec<PeerUrl>,
    difficulty: u32,
    data_dir: PathBuf,
}

/// What one node's headers gave.
enum NodeChain {
    /// Its checked chain (built on the best chain known when it was asked).
    Checked(HeaderChain),
    /// Why it was set aside: its headers failed, or it did not answer usably.
    Failed(NodeFailure),
}

/// Why the command could not give a verdict at all: the header cache could not be read or
/// written (a node's failure only sets that node aside).
#[derive(Debug)]
enum VerifyError {
    /// Reading or writing the header cache file.
    Cache(StoreError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Cache(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::Cache(error) => Some(error),
        }
    }
}

impl From<StoreError> for VerifyError {
    fn from(error: StoreError) -> VerifyError {
        VerifyError::Cache(error)
    }
}

/// What one node did wrong: its headers or its proof failed, or it did not answer usably.
/// The report names the node with these words.
#[derive(Debug)]
enum NodeFailure {
    /// `GET /headers` failed.
    HeadersCall(PeerError),
    /// A header failed its check.
    Headers(HeaderError),
    /// It claims a longer chain than the headers it sent.
    ClaimsMore {
        /// The length it claims.
        claimed: u64,
        /// The length of the chain it was asked about.
        ours: u64,
    },
    /// It sent more pages than its claimed length can fill.
    SendsPast {
        /// The length it claims.
        claimed: u64,
    },
    /// `GET /transactions/ID/proof` failed.
    ProofCall {
        /// The payment asked about.
        id: TxId,
        /// How the call failed.
        error: PeerError,
    },
    /// The proof request answered a status of neither SPEC §5b's answers.
    ProofStatus(u16),
    /// The proof is not the JSON of SPEC §5b.
    ProofNotJson,
    /// The proof's transaction hashes to another id.
    ProofForAnother(TxId),
    /// The proof's leaf is not the transaction's leaf hash.
    ProofLeaf,
    /// The proof's header is not the best chain's header at its index.
    ProofHeaderOff {
        /// The index it claims.
        index: u64,
        /// Its computed hash.
        hash: BlockHash,
    },
    /// The branch climbs to another root than the header's merkle root.
    BranchMisses {
        /// The header's index.
        index: u64,
        /// Where the branch climbs instead.
        climbs_to: MerkleRoot,
    },
}

impl fmt::Display for NodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeFailure::HeadersCall(error) => write!(f, "GET /headers: {error}"),
            NodeFailure::Headers(error) => write!(f, "{error}"),
            NodeFailure::ClaimsMore { claimed, ours } => write!(
                f,
                "it claims {claimed} blocks but sent no headers after our {ours}"
            ),
            NodeFailure::SendsPast { claimed } => write!(
                f,
                "it claims {claimed} blocks but keeps sending headers past that"
            ),
            NodeFailure::ProofCall { id, error } => {
                write!(f, "GET /transactions/{id}/proof: {error}")
            }
            NodeFailure::ProofStatus(status) => {
                write!(f, "its proof request answered HTTP {status}")
            }
            NodeFailure::ProofNotJson => write!(f, "its proof is not the JSON of SPEC §5b"),
            NodeFailure::ProofForAnother(computed) => write!(
                f,
                "its proof is for another transaction (whose fields hash to {computed})"
            ),
            NodeFailure::ProofLeaf => {
                write!(f, "its proof's leaf is not the transaction's leaf hash")
            }
            NodeFailure::ProofHeaderOff { index, hash } => write!(
                f,
                "its proof's header {index} ({hash}) is not on the best chain"
            ),
            NodeFailure::BranchMisses { index, climbs_to } => write!(
                f,
                "its branch does not reach the merkle root of header {index} (it climbs to {climbs_to})"
            ),
        }
    }
}

/// Runs `minichain wallet verify ARGS…` (the arguments after `verify`); prints the result
/// and returns the exit status.
pub fn main(args: &[String]) -> u8 {
    let flags = match parse(args) {
        Ok(Some(flags)) => flags,
        Ok(None) => {
            println!("{USAGE}");
            return 0;
        }
        Err(message) => {
            eprintln!("minichain wallet verify: {message}\n\n{USAGE}");
            return 2;
        }
    };
    match verify(&flags) {
        Ok((report, proven)) => {
            print!("{report}");
            if proven { 0 } else { 1 }
        }
        Err(message) => {
            eprintln!("minichain wallet verify: {message}");
            1
        }
    }
}

/// Reads the command line with the flag reader every program shares; `None`: `--help`.
fn parse(args: &[String]) -> Result<Option<Flags>, FlagError> {
    let mut id = None;
    let mut nodes = Vec::new();
    let mut difficulty = DEFAULT_DIFFICULTY;
    let mut data_dir = PathBuf::from("data/wallet");
    let mut reader = crate::flags::Flags::new(args.iter().cloned());
    while let Some(flag) = reader.next_flag() {
        if flag.is_help() {
            return Ok(None);
        }
        if !flag.name.starts_with("--") {
            if id.is_some() {
                return Err(FlagError(format!(
                    "one payment id at a time; {:?} is a second one",
                    flag.written
                )));
            }
            id = Some(
                flag.written
                    .parse::<TxId>()
                    .map_err(|error| FlagError(format!("ID: {error}")))?,
            );
            continue;
        }
        match flag.name.as_str() {
            "--node" => {
                let value = reader.value(&flag)?;
                nodes.push(
                    normalize_peer(&value)
                        .map_err(|error| FlagError(format!("--node {value}: {error}")))?,
                )
            }
            "--difficulty" => difficulty = reader.number(&flag, 1, 64)? as u32,
            "--data-dir" => data_dir = PathBuf::from(reader.non_empty(&flag)?),
            _ => return Err(FlagError(format!("unknown flag {:?}", flag.written))),
        }
    }
    let id =
        id.ok_or_else(|| FlagError("which payment? give its id (64 hex characters)".into()))?;
    if nodes.is_empty() {
        return Err(FlagError(
            "--node URL is required (once per node to ask)".into(),
        ));
    }
    nodes.dedup();
    Ok(Some(Flags {
        id,
        nodes,
        difficulty,
        data_dir,
    }))
}

/// Steps 1–5; the report and whether the payment was proven.
fn verify(flags: &Flags) -> Result<(String, bool), VerifyError> {
    let now = now_ms();
    let client = PeerClient::new(NODE_TIMEOUT);
    let genesis_hash = genesis(flags.difficulty).hash;
    let cache = header_cache::path_for(&flags.data_dir, &genesis_hash.to_hex());
    let cached = header_cache::load(&cache)?;
    let (mut best, problem) = HeaderChain::from_cache(flags.difficulty, &cached, now);
    let mut report = String::new();
    if let Some(problem) = problem {
        let _ = writeln!(
            report,
            "cache {}: kept {} checked headers, dropped the rest ({problem})",
            cache.display(),
            best.len()
        );
    }
    let cached_length = best.len();
    let mut fetched = 0usize;
    let mut new_headers = 0u64;

    // Step 2: every node's chain, each built on the best one known so far.
    let mut chains = Vec::new();
    for node in &flags.nodes {
        let chain = match node_chain(&client, node, &best, now, &mut fetched, &mut new_headers) {
            Ok(chain) => {
                if chain.work() > best.work() {
                    best = chain.clone();
                }
                NodeChain::Checked(chain)
            }
            Err(reason) => NodeChain::Failed(reason),
        };
        chains.push(chain);
    }
    // Step 3: the most work among the nodes (the cache alone proves nothing about them).
    let Some(best) = chains
        .iter()
        .filter_map(|chain| match chain {
            NodeChain::Checked(chain) => Some(chain),
            NodeChain::Failed(_) => None,
        })
        .fold(None::<&HeaderChain>, |most, chain| match most {
            Some(most) if most.work() >= chain.work() => Some(most),
            _ => Some(chain),
        })
        .cloned()
    else {
        let _ = writeln!(report, "no node gave headers that check:");
        describe_nodes(&mut report, &flags.nodes, &chains, None, &[]);
        return Ok((report, false));
    };

    // Step 4: the proof, from the agreeing nodes in turn.
    let mut liars: Vec<(PeerUrl, NodeFailure)> = Vec::new();
    let mut said = Vec::new();
    let mut proven = None;
    for (node, chain) in flags.nodes.iter().zip(&chains) {
        let NodeChain::Checked(chain) = chain else {
            continue;
        };
        if chain.tip_hash() != best.tip_hash() {
            continue;
        }
        match ask_proof(&client, node, &flags.id, &best, &mut fetched) {
            Ok(ProofOutcome::Proven(index)) => {
                proven = Some((node.clone(), index));
                break;
            }
            Ok(ProofOutcome::Says(words)) => said.push(format!("{node}: {words}")),
            Err(reason) => liars.push((node.clone(), reason)),
        }
    }

    // Step 5: cache, report.
    header_cache::save(&cache, best.headers())?;
    let (tip_index, tip_hash) = (best.len(), best.tip_hash());
    match &proven {
        Some((node, index)) => {
            let (_, hash) = best
                .at(*index)
                .expect("a proven block is on the best chain");
            let confirmations = tip_index - index + 1;
            let plural = if confirmations == 1 { "" } else { "s" };
            let _ = writeln!(
                report,
                "payment {}: MINED in block {index} ({hash}), {confirmations} confirmation{plural}",
                flags.id
            );
            let _ = writeln!(
                report,
                "proof from {node}: its branch climbs to the merkle root of header {index} of the best chain"
            );
        }
        None => {
            let _ = writeln!(
                report,
                "payment {}: NOT PROVEN mined on the best chain",
                flags.id
            );
            for words in &said {
                let _ = writeln!(report, "  {words}");
            }
        }
    }
    let _ = writeln!(
        report,
        "best chain: {tip_index} headers from genesis {} (difficulty {}), tip {tip_hash}, each header checked",
        best.genesis_hash(),
        flags.difficulty
    );
    describe_nodes(&mut report, &flags.nodes, &chains, Some(&best), &liars);
    let size = proven
        .as_ref()
        .and_then(|(node, _)| client.content_length(&format!("{node}/chain")).ok());
    let _ = write!(
        report,
        "fetched {fetched} bytes ({new_headers} headers beyond the {cached_length} cached"
    );
    match size {
        Some(size) if size > 0 => {
            let _ = writeln!(
                report,
                ", and the proof); the whole chain is {size} bytes of JSON (HEAD /chain): {:.3}%",
                fetched as f64 * 100.0 / size as f64
            );
        }
        _ => {
            let _ = writeln!(report, ")");
        }
    }
    let _ = writeln!(report, "headers cached in {}", cache.display());
    Ok((report, proven.is_some()))
}

/// One line per node: agreed, behind, on less work, or named with what failed.
fn describe_nodes(
    report: &mut String,
    nodes: &[PeerUrl],
    chains: &[NodeChain],
    best: Option<&HeaderChain>,
    liars: &[(PeerUrl, NodeFailure)],
) {
    let mut agreed = Vec::new();
    for (node, chain) in nodes.iter().zip(chains) {
        if let Some((_, reason)) = liars.iter().find(|(liar, _)| liar == node) {
            let _ = writeln!(report, "LYING NODE {node}: {reason}");
            continue;
        }
        match (chain, best) {
            (NodeChain::Failed(reason), _) => {
                let _ = writeln!(report, "REFUSED {node}: {reason}");
            }
            (NodeChain::Checked(chain), Some(best)) if chain.tip_hash() == best.tip_hash() => {
                agreed.push(node.as_str());
            }
            (NodeChain::Checked(chain), Some(best)) if best.contains(&chain.tip_hash()) => {
                let _ = writeln!(
                    report,
                    "behind: {node} ({} headers, on the best chain)",
                    chain.len()
                );
            }
            (NodeChain::Checked(chain), _) => {
                let _ = writeln!(
                    report,
                    "less work: {node} ({} headers on another branch)",
                    chain.len()
                );
            }
        }
    }
    if !agreed.is_empty() {
        let _ = writeln!(report, "agreed on the best chain: {}", agreed.join(", "));
    }
}

/// A node's headers beyond `base`, page by page, each checked: its whole chain.
fn node_chain(
    client: &PeerClient,
    node: &str,
    base: &HeaderChain,
    now: u64,
    fetched: &mut usize,
    new_headers: &mut u64,
) -> Result<HeaderChain, NodeFailure> {
    let mut chain = base.clone();
    // A chain of length L takes at most L / 2000 + 1 pages; a node sending more is lying.
    let mut pages_left: Option<u64> = None;
    loop {
        let locator: Vec<String> = chain.locator().iter().map(|hash| hash.to_hex()).collect();
        let url = format!(
            "{node}/headers?limit={MAX_HEADERS}&locator={}",
            locator.join(",")
        );
        let (answer, size) = client
            .get_sized::<HeadersAnswer>(&url)
            .map_err(NodeFailure::HeadersCall)?;
        *fetched += size;
        let pages = pages_left.get_or_insert(answer.length / MAX_HEADERS + 2);
        *pages = pages.saturating_sub(1);
        if answer.headers.is_empty() {
            // Its tip is a header we hold: the first locator hash it knows.
            if answer.length > chain.len() {
                return Err(NodeFailure::ClaimsMore {
                    claimed: answer.length,
                    ours: chain.len(),
                });
            }
            return Ok(chain.truncated(answer.length));
        }
        let before = chain.len();
        chain = chain
            .extended(&answer.headers, now)
            .map_err(NodeFailure::Headers)?;
        *new_headers += chain.len().saturating_sub(before);
        if chain.len() >= answer.length || answer.headers.len() < MAX_HEADERS as usize {
            return Ok(chain);
        }
        if *pages == 0 {
            return Err(NodeFailure::SendsPast {
                claimed: answer.length,
            });
        }
    }
}

/// What a node's proof said, when it did not lie.
enum ProofOutcome {
    /// The proof checked: mined in the block with this index of the best chain.
    Proven(u64),
    /// No proof, and why, in the node's words.
    Says(NoProof),
}

/// Why an honest node has no proof to give.
#[derive(Clone, Copy, Debug)]
enum NoProof {
    /// It answered 404.
    Unknown,
    /// It answered 409: in its pool, not in a block yet.
    InPool,
}

impl fmt::Display for NoProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoProof::Unknown => "does not know the payment (404)",
            NoProof::InPool => "holds it in its pool, not in a block yet (409)",
        })
    }
}

/// Asks `node` for the proof of `id` and checks it against `best`; `Err` names the lie.
fn ask_proof(
    client: &PeerClient,
    node: &str,
    id: &TxId,
    best: &HeaderChain,
    fetched: &mut usize,
) -> Result<ProofOutcome, NodeFailure> {
    let (status, body) = client
        .get_answer(&format!("{node}/transactions/{id}/proof"))
        .map_err(|error| NodeFailure::ProofCall { id: *id, error })?;
    *fetched += body.len();
    match status {
        200 => {}
        404 => return Ok(ProofOutcome::Says(NoProof::Unknown)),
        409 => return Ok(ProofOutcome::Says(NoProof::InPool)),
        other => return Err(NodeFailure::ProofStatus(other)),
    }
    let proof: ProofAnswer =
        serde_json::from_slice(&body).map_err(|_| NodeFailure::ProofNotJson)?;
    let tx = &proof.transaction;
    let computed = Transaction::compute_id(&tx.sender, &tx.recipient, tx.amount, tx.timestamp);
    if computed != *id {
        return Err(NodeFailure::ProofForAnother(computed));
    }
    if proof.leaf != MerkleNode(tx.leaf_hash()) {
        return Err(NodeFailure::ProofLeaf);
    }
    let header = proof.header.header;
    let index = header.index;
    let hash = header.block_hash();
    match best.at(index) {
        Some((_, ours)) if ours == hash => {}
        _ => {
            return Err(NodeFailure::ProofHeaderOff { index, hash });
        }
    }
    if !merkle::reaches(&proof.leaf, &proof.branch, &header.merkle_root) {
        return Err(NodeFailure::BranchMisses {
            index,
            climbs_to: merkle::root_of(&proof.leaf, &proof.branch),
        });
    }
    Ok(ProofOutcome::Proven(index))
}
