//! Helpers for the multi-node tests of `sync.rs`:
//!
//! - [`FakePeer`]: a tiny HTTP server on a thread that plays a peer — honest, lying,
//!   silent, talking garbage or far too much — so a real node can be pointed at it.
//! - [`Forge`]: builds chains with the library (honest blocks mined at the test difficulty
//!   with `pow::search`) so a test can break exactly one rule of SPEC §4 in one block and
//!   re-seal what must stay consistent.

#![allow(dead_code)] // each test uses a different subset of the helpers

use minichain::core::block::{Block, Header, Transaction, genesis, merkle_root_of};
use minichain::core::chain::Chain;
use minichain::core::hash::{BlockHash, MerkleRoot};
use minichain::core::pow::{meets_difficulty, search};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The network the test nodes run on: `--difficulty 8`, the default reward.
pub const DIFFICULTY: u32 = 8;
pub const REWARD: u64 = 50;
/// Who the coinbases of forged blocks pay.
pub const FORGER: &str = "forger";

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as u64
}

// ---------------------------------------------------------------------------------------
// The fake peer.

/// A request as the fake peer received it.
#[derive(Clone, Debug)]
pub struct PeerRequest {
    pub method: String,
    pub path: String,
    /// Query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
}

impl PeerRequest {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A numeric query parameter, `default` when absent or unparsable.
    pub fn number(&self, name: &str, default: u64) -> u64 {
        self.param(name)
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    }
}

/// What the fake peer does with one request.
pub enum PeerAnswer {
    /// 200 with a JSON body.
    Json(Value),
    /// Any status, content type and body.
    Raw {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Reads the request and never answers; holds the connection until the caller hangs up.
    Hang,
    /// 200 with `head`, then `filler_len` bytes of `filler`, then `tail`, and the exact
    /// Content-Length; the filler is written from one reused buffer, so a body of many
    /// MiB costs no memory and streams as fast as the reader takes it.
    Padded {
        head: Vec<u8>,
        filler: u8,
        filler_len: usize,
        tail: Vec<u8>,
    },
}

type Handler = dyn Fn(&PeerRequest) -> PeerAnswer + Send + Sync;

/// A peer played by the test: an HTTP/1.1 server on `127.0.0.1:0`, one thread per
/// connection, `Connection: close`. Stops accepting when dropped.
pub struct FakePeer {
    /// `http://127.0.0.1:PORT`, the form a node keeps peer addresses in.
    pub url: String,
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<PeerRequest>>>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FakePeer {
    /// Starts serving; `handler` decides every answer.
    pub fn start(handler: impl Fn(&PeerRequest) -> PeerAnswer + Send + Sync + 'static) -> FakePeer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("can bind a port for a fake peer");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept_thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handler, requests) = (handler.clone(), requests.clone());
                    thread::spawn(move || serve_connection(stream, &*handler, &requests));
                }
            })
        };
        FakePeer {
            url: format!("http://{address}"),
            address,
            stop,
            requests,
            accept_thread: Some(accept_thread),
        }
    }

    /// A peer that serves `blocks` honestly per SPEC §5-6 (`/inv` with locator and limit,
    /// `/chain` with from and limit), whatever the blocks contain.
    pub fn serving_chain(blocks: Vec<Block>) -> FakePeer {
        let node_id = fake_node_id();
        FakePeer::start(move |request| match request.path.as_str() {
            "/inv" => PeerAnswer::Json(inv_answer(&blocks, request, &node_id)),
            "/chain" => PeerAnswer::Json(chain_answer(&blocks, request)),
            _ => not_found(request),
        })
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<PeerRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakePeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

/// A node id no real node has.
pub fn fake_node_id() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "fake-peer-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// `/inv` over `blocks` as SPEC §5 defines it: the fork point is the first locator hash on
/// the chain (0 if none), then at most `limit` block hashes after it (from genesis when
/// 0), and an empty pool.
pub fn inv_answer(blocks: &[Block], request: &PeerRequest, node_id: &str) -> Value {
    let locator: Vec<&str> = request
        .param("locator")
        .unwrap_or("")
        .split(',')
        .filter(|hash| !hash.is_empty())
        .collect();
    let fork_index = locator
        .iter()
        .find_map(|wanted| {
            blocks
                .iter()
                .find(|block| block.hash.to_hex() == *wanted)
                .map(|block| block.header.index)
        })
        .unwrap_or(0);
    let limit = request.number("limit", 500).min(2000) as usize;
    let from = if fork_index == 0 { 1 } else { fork_index + 1 };
    let values: Vec<Value> = blocks
        .iter()
        .filter(|block| block.header.index >= from)
        .take(limit)
        .map(|block| json!({"type": "block", "value": block.hash}))
        .collect();
    let tip = blocks.last().expect("a chain has a genesis");
    json!({
        "node_id": node_id,
        "length": blocks.len(),
        "tip": tip.hash,
        "genesis": blocks[0].hash,
        "difficulty": DIFFICULTY,
        "fork_index": fork_index,
        "values": values,
    })
}

/// A `/chain` page over `blocks`: index ≥ `from`, at most `limit` (≤ 500) of them.
pub fn chain_answer(blocks: &[Block], request: &PeerRequest) -> Value {
    json!({"chain": chain_page(blocks, request), "length": blocks.len()})
}

/// The blocks a `/chain` request asks for.
pub fn chain_page<'a>(blocks: &'a [Block], request: &PeerRequest) -> Vec<&'a Block> {
    let from = request.number("from", 1);
    let limit = request.number("limit", 500).min(500) as usize;
    blocks
        .iter()
        .filter(|block| block.header.index >= from)
        .take(limit)
        .collect()
}

/// The 404 a node would answer.
pub fn not_found(request: &PeerRequest) -> PeerAnswer {
    PeerAnswer::Raw {
        status: 404,
        content_type: "application/json",
        body: json!({"error": format!("no route {}", request.path)})
            .to_string()
            .into_bytes(),
    }
}

fn serve_connection(mut stream: TcpStream, handler: &Handler, log: &Mutex<Vec<PeerRequest>>) {
    // Never hold a thread forever, even if a caller forgets to hang up.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut request_line = text.lines().next().unwrap_or("").split_whitespace();
    let method = request_line.next().unwrap_or("").to_string();
    let target = request_line.next().unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect();
    let request = PeerRequest {
        method,
        path: path.to_string(),
        query,
    };
    log.lock().unwrap().push(request.clone());
    match handler(&request) {
        PeerAnswer::Json(value) => {
            let body = value.to_string().into_bytes();
            write_answer(&mut stream, 200, "application/json", &[&body], 0, 0);
        }
        PeerAnswer::Raw {
            status,
            content_type,
            body,
        } => write_answer(&mut stream, status, content_type, &[&body], 0, 0),
        PeerAnswer::Hang => {
            // Keep the connection open, saying nothing, until the caller gives up.
            while let Ok(n) = stream.read(&mut buffer) {
                if n == 0 {
                    break;
                }
            }
        }
        PeerAnswer::Padded {
            head,
            filler,
            filler_len,
            tail,
        } => {
            let mut parts: Vec<&[u8]> = vec![&head];
            parts.push(&tail);
            write_answer(
                &mut stream,
                200,
                "application/json",
                &parts,
                filler,
                filler_len,
            );
        }
    }
}

/// Writes a full answer: `parts[0]`, then `filler_len` filler bytes, then the other parts.
fn write_answer(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    parts: &[&[u8]],
    filler: u8,
    filler_len: usize,
) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Whatever",
    };
    let length: usize = parts.iter().map(|part| part.len()).sum::<usize>() + filler_len;
    let header = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    // A reader that stops early (a size cap) closes the connection: the writes then fail,
    // which ends this thread.
    let write = |stream: &mut TcpStream| -> std::io::Result<()> {
        stream.write_all(header.as_bytes())?;
        if let Some(first) = parts.first() {
            stream.write_all(first)?;
        }
        let chunk = vec![filler; filler_len.min(1 << 20)];
        let mut left = filler_len;
        while left > 0 {
            let n = left.min(chunk.len());
            stream.write_all(&chunk[..n])?;
            left -= n;
        }
        for part in parts.iter().skip(1) {
            stream.write_all(part)?;
        }
        stream.flush()
    };
    let _ = write(stream);
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok()),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Forging chains.

/// A chain under construction, built with the library: honest blocks are mined at the
/// test difficulty; a test takes the next honest block, breaks one rule, re-seals what must
/// stay consistent, and pushes it.
pub struct Forge {
    blocks: Vec<Block>,
    /// Timestamps start here (ten minutes ago) unless the tip is later.
    clock_start: u64,
}

impl Forge {
    /// Our network's genesis alone.
    pub fn from_genesis() -> Forge {
        Forge::on(vec![genesis(DIFFICULTY)])
    }

    /// Continues `blocks` (for example a real node's chain).
    pub fn on(blocks: Vec<Block>) -> Forge {
        assert!(!blocks.is_empty(), "a chain starts with a genesis");
        Forge {
            blocks,
            clock_start: now_ms() - 10 * 60 * 1000,
        }
    }

    pub fn tip(&self) -> &Block {
        self.blocks.last().expect("a forge always holds a genesis")
    }

    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The next block's timestamp: one millisecond after the tip, not before the start.
    pub fn next_timestamp(&self) -> u64 {
        (self.tip().header.timestamp + 1).max(self.clock_start)
    }

    /// A valid child of the tip (not pushed): coinbase to [`FORGER`], then `payments`.
    pub fn next_honest(&self, payments: Vec<Transaction>) -> Block {
        let timestamp = self.next_timestamp();
        let mut transactions = vec![Transaction::coinbase(FORGER, REWARD, timestamp)];
        transactions.extend(payments);
        child_block(self.tip(), timestamp, DIFFICULTY, transactions)
    }

    /// Pushes a valid child of the tip.
    pub fn honest(&mut self, payments: Vec<Transaction>) -> &mut Forge {
        let block = self.next_honest(payments);
        self.push(block)
    }

    /// Pushes `count` valid blocks holding only their coinbase.
    pub fn honest_blocks(&mut self, count: usize) -> &mut Forge {
        for _ in 0..count {
            self.honest(Vec::new());
        }
        self
    }

    /// Pushes any block, valid or not.
    pub fn push(&mut self, block: Block) -> &mut Forge {
        self.blocks.push(block);
        self
    }

    pub fn build(&self) -> Vec<Block> {
        self.blocks.clone()
    }
}

/// A block on `parent` with these transactions, its merkle root computed and its header
/// mined at `difficulty`.
pub fn child_block(
    parent: &Block,
    timestamp: u64,
    difficulty: u32,
    transactions: Vec<Transaction>,
) -> Block {
    let header = Header {
        index: parent.header.index + 1,
        timestamp,
        previous_hash: parent.hash,
        merkle_root: merkle_root_of(&transactions),
        difficulty,
        proof: 0,
    };
    let mut block = Block::from_header(header, transactions);
    reseal(&mut block);
    block
}

/// Mines the block's header as it stands (at its own difficulty) and sets `proof` and
/// `hash` to match: everything else in the block is left as the test made it.
pub fn reseal(block: &mut Block) {
    let found = search(&block.header, 1, &AtomicBool::new(false))
        .expect("a search that is never cancelled finds a proof");
    block.header.proof = found.proof;
    block.hash = found.hash;
}

/// Sets a proof whose hash misses the difficulty, and the `hash` field to that true hash.
pub fn break_proof_of_work(block: &mut Block) {
    let mut header = block.header;
    header.proof = (0..)
        .find(|&proof| {
            header.proof = proof;
            !meets_difficulty(&header.block_hash(), header.difficulty)
        })
        .expect("most proofs miss the difficulty");
    block.header.proof = header.proof;
    block.hash = header.block_hash();
}

/// A genesis block of another network with the same difficulty (timestamp 1, not 0).
pub fn foreign_genesis() -> Block {
    Block::from_header(
        Header {
            index: 1,
            timestamp: 1,
            previous_hash: BlockHash::ZERO,
            merkle_root: MerkleRoot::ZERO,
            difficulty: DIFFICULTY,
            proof: 0,
        },
        Vec::new(),
    )
}

/// Checks the forgery itself with the library before a node sees it: every block before
/// `bad_index` extends our genesis validly, and block `bad_index` is refused. Returns the
/// library's reason, for messages.
pub fn assert_only_block_is_bad(blocks: &[Block], bad_index: u64) -> String {
    let mut chain = Chain::new(DIFFICULTY, REWARD);
    assert_eq!(
        &blocks[0],
        chain.genesis(),
        "a forged chain of our network starts with our genesis"
    );
    for block in &blocks[1..] {
        let result = chain.append(block.clone(), now_ms());
        if block.header.index < bad_index {
            result.unwrap_or_else(|error| {
                panic!(
                    "forgery: block {} was meant to be valid: {error}",
                    block.header.index
                )
            });
        } else {
            let error = result.expect_err("forgery: the bad block was accepted by the library");
            assert_eq!(error.index, bad_index, "forgery: {error}");
            return error.to_string();
        }
    }
    panic!("forgery: there is no block {bad_index}");
}
