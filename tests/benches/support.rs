//! What the benchmarks share: a release `minichain` process on a free port, and a TCP
//! proxy that counts the bytes crossing a link. Each bench includes this file with
//! `#[path = "support.rs"] mod support;`.

#![allow(dead_code)] // each bench uses a different subset

use sha2::block_api::compress256;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A `minichain` process; killed on drop so a failing bench leaks no process.
pub struct BenchNode {
    /// The process, for its pid (memory figures) and to stop it.
    pub child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl BenchNode {
    /// Starts `minichain --port 0 FLAGS… --data-dir DIR` (logging warnings only, to
    /// nowhere) and waits for its `listening on` line.
    pub fn start(dir: &Path, flags: &[&str]) -> BenchNode {
        BenchNode::start_logging(dir, flags, "warn", Stdio::null())
    }

    /// Like [`BenchNode::start`], with `RUST_LOG=rust_log` and its log (stderr) sent to
    /// `log` (a file, to look into a run afterwards).
    pub fn start_logging(dir: &Path, flags: &[&str], rust_log: &str, log: Stdio) -> BenchNode {
        let mut child = Command::new(env!("CARGO_BIN_EXE_minichain"))
            .args(["--port", "0"])
            .args(flags)
            .arg("--data-dir")
            .arg(dir)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start minichain");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the listening line");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        BenchNode { child, port }
    }

    /// Kills the process (as `kill -9` would) and waits for it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BenchNode {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Forwards connections to a node and counts every byte in both directions.
pub struct CountingProxy {
    /// Where clients connect.
    pub port: u16,
    /// Bytes forwarded so far, both ways.
    pub bytes: Arc<AtomicU64>,
}

impl CountingProxy {
    /// A proxy on a free port in front of `127.0.0.1:target_port`.
    pub fn start(target_port: u16) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let bytes = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&bytes);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                pump(
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                    &counter,
                );
                pump(server, client, &counter);
            }
        });
        CountingProxy { port, bytes }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, counter: &Arc<AtomicU64>) {
    let counter = Arc::clone(counter);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    counter.fetch_add(n as u64, Ordering::SeqCst);
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// A minimal blocking HTTP/1.1 call; returns status and body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// One-core rate of the bare SHA-256 compression function over `measure_for`: the
/// ceiling of the miner and of every signature check.
pub fn raw_compression_rate(measure_for: Duration) -> f64 {
    let mut block = [0u8; 64];
    let mut count = 0u64;
    let mut state = [0u32; 8];
    let started = Instant::now();
    while started.elapsed() < measure_for {
        for _ in 0..65_536 {
            block[20..28].copy_from_slice(&count.to_le_bytes());
            let mut s = [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ];
            compress256(&mut s, &[block]);
            state[0] ^= s[0];
            count += 1;
        }
    }
    black_box(state);
    count as f64 / started.elapsed().as_secs_f64()
}

/// What crossed a [`SplitProxy`]: each direction apart, and what the requests were.
#[derive(Default)]
pub struct Traffic {
    /// Request bytes: what the node behind the proxy received.
    pub requests: AtomicU64,
    /// Answer bytes: what its callers received.
    pub answers: AtomicU64,
    /// Requests (HTTP/1.1 request lines).
    pub calls: AtomicU64,
    /// `POST /inv` requests: announcements to the node behind the proxy.
    pub announcements: AtomicU64,
}

/// Forwards connections to a node, counting each direction and the requests apart, so
/// what a node receives (requests into it, answers to its own calls) is known.
pub struct SplitProxy {
    /// Where clients connect.
    pub port: u16,
    /// What crossed it so far.
    pub traffic: Arc<Traffic>,
    /// The node's port; 0 until [`SplitProxy::point_at`].
    target: Arc<AtomicU16>,
}

impl SplitProxy {
    /// A proxy on a free port in front of `127.0.0.1:target_port`.
    pub fn start(target_port: u16) -> SplitProxy {
        let proxy = SplitProxy::waiting();
        proxy.point_at(target_port);
        proxy
    }

    /// A proxy on a free port whose node is not started yet (so the node can be given
    /// the proxy's URL, e.g. `--advertise`); a connection that arrives before
    /// [`SplitProxy::point_at`] waits for it (up to 30 s).
    pub fn waiting() -> SplitProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let traffic = Arc::new(Traffic::default());
        let shared = Arc::clone(&traffic);
        let target = Arc::new(AtomicU16::new(0));
        let wanted = Arc::clone(&target);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let deadline = Instant::now() + Duration::from_secs(30);
                let mut target_port = wanted.load(Ordering::SeqCst);
                while target_port == 0 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                    target_port = wanted.load(Ordering::SeqCst);
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (up, down) = (Arc::clone(&shared), Arc::clone(&shared));
                std::thread::spawn(move || split_pump(client, server, &up, true));
                std::thread::spawn(move || split_pump(s2, c2, &down, false));
            }
        });
        SplitProxy {
            port,
            traffic,
            target,
        }
    }

    /// Forwards to `127.0.0.1:target_port` from now on.
    pub fn point_at(&self, target_port: u16) {
        self.target.store(target_port, Ordering::SeqCst);
    }

    /// `http://127.0.0.1:PORT`, to register with a node.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn split_pump(mut from: TcpStream, mut to: TcpStream, traffic: &Traffic, requests: bool) {
    let mut buffer = vec![0u8; 64 * 1024];
    // The last bytes of the previous read: a request line may straddle two reads.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if requests {
            traffic.requests.fetch_add(n as u64, Ordering::SeqCst);
            carry.extend_from_slice(&buffer[..n]);
            let count =
                |needle: &[u8]| carry.windows(needle.len()).filter(|w| *w == needle).count() as u64;
            traffic
                .calls
                .fetch_add(count(b" HTTP/1.1\r\n"), Ordering::SeqCst);
            traffic
                .announcements
                .fetch_add(count(b"POST /inv "), Ordering::SeqCst);
            let keep = carry.len().min(10);
            carry.drain(..carry.len() - keep);
        } else {
            traffic.answers.fetch_add(n as u64, Ordering::SeqCst);
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}
