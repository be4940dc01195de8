//! `cargo bench --bench abuse`: what stalled and oversized clients cost a node, and what
//! the front (`http::guard`) costs a well-behaved one.
//!
//! Starts a real node, then: GET /chain latency (the front reads the request and runs the
//! route in-process), kept-alive and on new connections; the same latency while thousands of connections stall (half
//! heads, stalled Content-Length and chunked bodies, idle keep-alive); RSS before and after
//! 16 concurrent 10 MiB heads and targets; payments per second from 16 keep-alive clients.
//! Prints figures, not pass/fail.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Stalled connections of each kind.
const EACH_KIND: usize = 500;
/// GET /chain samples per measurement.
const SAMPLES: usize = 300;

fn main() {
    let dir = std::env::temp_dir().join(format!("minichain-abuse-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut node = Node::start(&dir);
    call(node.front, "POST /mine HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    for _ in 0..5 {
        call(node.front, "POST /mine HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    }

    for (label, keep_alive) in [("keep-alive", true), ("new connection", false)] {
        let times = latencies(node.front, SAMPLES, keep_alive);
        println!(
            "GET /chain, {label:<15}: median {:>6.3} ms max {:>6.3} ms",
            median(&times),
            max(&times)
        );
    }
    for (label, keep_alive) in [("keep-alive", true), ("new connection each", false)] {
        let rate = rate(node.front, 16, Duration::from_secs(2), keep_alive);
        println!("GET /pool from 16 clients, {label:<19}: {rate:>7.0} req/s");
    }

    let rss_start = node.rss_kib();
    let mut stalled = Vec::new();
    let opened = Instant::now();
    for opening in [
        &b"GET /chain HTTP/1.1\r\nHost: x\r\nX-Slow: "[..],
        b"POST /transactions/new HTTP/1.1\r\nContent-Length: 2000\r\n\r\n{\"sender\":",
        b"POST /transactions/new HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n{\"a\"",
    ] {
        for _ in 0..EACH_KIND {
            let mut stream = TcpStream::connect(node.front).expect("connect");
            stream.write_all(opening).expect("send the opening");
            stalled.push(stream);
        }
    }
    for _ in 0..EACH_KIND {
        let mut stream = TcpStream::connect(node.front).expect("connect");
        stream
            .write_all(b"GET /pool HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        read_answer(&mut stream);
        stalled.push(stream);
    }
    let opening = opened.elapsed();
    let during = latencies(node.front, SAMPLES, false);
    let still_open = stalled.iter().filter(|s| unanswered(s)).count();
    println!(
        "{} stalled connections ({EACH_KIND} each: half heads, Content-Length bodies, chunked bodies, idle keep-alive), opened in {:.0} ms",
        stalled.len(),
        opening.as_secs_f64() * 1000.0
    );
    println!(
        "GET /chain meanwhile (new connection each): median {:>6.3} ms, p99 {:>6.3} ms, max {:>6.3} ms; {} of {} stalled still held open; RSS {} -> {} KiB",
        median(&during),
        percentile(&during, 0.99),
        max(&during),
        still_open,
        stalled.len(),
        rss_start,
        node.rss_kib()
    );
    drop(stalled);
    thread::sleep(Duration::from_millis(500));

    let before = node.rss_kib();
    let huge = "a".repeat(10 * 1024 * 1024);
    let statuses: Vec<u16> = thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let request = if i % 2 == 0 {
                    format!("GET /chain HTTP/1.1\r\nX-Huge: {huge}\r\n\r\n")
                } else {
                    format!("GET /chain?x={huge} HTTP/1.1\r\n\r\n")
                };
                let front = node.front;
                scope.spawn(move || {
                    let mut stream = TcpStream::connect(front).expect("connect");
                    let mut writer = stream.try_clone().unwrap();
                    let sender = thread::spawn(move || {
                        let _ = writer.write_all(request.as_bytes());
                    });
                    let status = read_answer(&mut stream).0;
                    let _ = sender.join();
                    status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let after = node.rss_kib();
    println!(
        "16 concurrent 10 MiB requests (8 heads, 8 targets): statuses {:?}; RSS before {before} KiB, after {after} KiB",
        {
            let mut seen = statuses.clone();
            seen.sort();
            seen.dedup();
            seen
        }
    );

    let (count, elapsed) = payments(node.front, 16, Duration::from_secs(2));
    println!(
        "payments, 16 keep-alive clients for {:.1} s: {count} answered 201 = {:.0} tx/s (each fsync'd)",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A node started for the bench; killed at the end.
struct Node {
    child: Child,
    front: SocketAddr,
}

impl Node {
    fn start(dir: &std::path::Path) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_minichain"))
            .args([
                "--port",
                "0",
                "--difficulty",
                "8",
                "--miner",
                "alice",
                "--reward",
                "1000000000",
                "--request-timeout-ms",
                "60000",
                "--data-dir",
            ])
            .arg(dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("listening line");
        let front: SocketAddr = line
            .trim()
            .trim_start_matches("listening on http://")
            .parse()
            .expect("an address");
        // stderr is drained so the node never blocks on its log.
        let stderr = child.stderr.take().unwrap();
        thread::spawn(move || for _ in BufReader::new(stderr).lines().map_while(Result::ok) {});
        Node { child, front }
    }

    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on a new connection; returns the status.
fn call(address: SocketAddr, request: &str) -> u16 {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    read_answer(&mut stream).0
}

/// `count` GET /chain timings in ms, on one kept-alive connection or a new one each.
fn latencies(address: SocketAddr, count: usize, keep_alive: bool) -> Vec<f64> {
    let request = b"GET /chain HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut kept = None;
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let mut stream = match kept.take() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(address).expect("connect");
                stream.set_nodelay(true).unwrap();
                stream
            }
        };
        stream.write_all(request).expect("send");
        let (status, _) = read_answer(&mut stream);
        assert_eq!(status, 200);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if keep_alive {
            kept = Some(stream);
        }
    }
    times.sort_by(f64::total_cmp);
    times
}

/// GET /pool answers per second from `clients` clients for `span`.
fn rate(address: SocketAddr, clients: usize, span: Duration, keep_alive: bool) -> f64 {
    let started = Instant::now();
    let end = started + span;
    let total: usize = thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(move || {
                    let mut kept: Option<TcpStream> = None;
                    let mut done = 0;
                    while Instant::now() < end {
                        let mut stream = match kept.take() {
                            Some(stream) => stream,
                            None => {
                                let stream = TcpStream::connect(address).expect("connect");
                                stream.set_nodelay(true).unwrap();
                                stream
                            }
                        };
                        stream
                            .write_all(b"GET /pool HTTP/1.1\r\nHost: x\r\n\r\n")
                            .expect("send");
                        if read_answer(&mut stream).0 == 200 {
                            done += 1;
                        }
                        if keep_alive {
                            kept = Some(stream);
                        }
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

/// Payments from `clients` keep-alive connections for `span`: how many got 201.
fn payments(address: SocketAddr, clients: usize, span: Duration) -> (usize, Duration) {
    let started = Instant::now();
    let end = started + span;
    let counts: Vec<usize> = thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(move || {
                    let body = r#"{"sender": "alice", "recipient": "bob", "amount": 1}"#;
                    let request = format!(
                        "POST /transactions/new HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let mut stream = TcpStream::connect(address).expect("connect");
                    stream.set_nodelay(true).unwrap();
                    let mut ok = 0;
                    while Instant::now() < end && ok < 9_000 / clients {
                        stream.write_all(request.as_bytes()).expect("send");
                        if read_answer(&mut stream).0 == 201 {
                            ok += 1;
                        }
                    }
                    ok
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (counts.iter().sum(), started.elapsed())
}

/// Reads one answer (head, then Content-Length bytes): status and body.
fn read_answer(stream: &mut TcpStream) -> (u16, Vec<u8>) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_len = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            return (0, Vec::new());
        }
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_len]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("Content-Length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = bytes[head_len..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    (status, body)
}

/// Nothing has come back on `stream` yet.
fn unanswered(stream: &TcpStream) -> bool {
    let _ = stream.set_nonblocking(true);
    let mut byte = [0u8; 1];
    let waiting = matches!(stream.peek(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
    let _ = stream.set_nonblocking(false);
    waiting
}

fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn max(sorted: &[f64]) -> f64 {
    sorted[sorted.len() - 1]
}
