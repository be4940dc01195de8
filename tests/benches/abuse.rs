//! `cargo bench --bench abuse`: what stalled and oversized clients cost a node, and what
//! the front (`http::guard`) costs a well-behaved one.
//!
//! Starts a real node, then: GET /chain latency (the front reads the request and runs the
//! route in-process), kept-alive and on new connections; the same latency while thousands of connections stall (half
//! heads, stalled Content-Length and chunked bodies, idle keep-alive), and what each kind
//! costs in RSS; RSS before and after 16 concurrent 10 MiB heads and targets; payments per
//! second from 16 keep-alive clients. Then, on fresh nodes (SPEC §6c): 500 uploads that
//! each stall one byte short of a 1 MiB body, at the default `--max-body-buffer-mb` and at
//! 64 (RSS before, during, after; how many the budget refused); and 4,200 idle sockets
//! from one non-loopback address of this machine against the owner's `GET /chain` from
//! loopback. Prints figures, not pass/fail.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Stalled connections of each kind.
const EACH_KIND: usize = 500;
/// GET /chain samples per measurement.
const SAMPLES: usize = 300;
/// Uploads that stall one byte short of their 1 MiB body.
const UPLOADS: usize = 500;
const UPLOAD_BYTES: usize = 1024 * 1024;
/// Idle sockets one stranger opens (the default cap is 4,096; a quarter is 1,024).
const FLOOD: usize = 4200;
/// The owner's GET /chain tries during the flood.
const OWNER_TRIES: usize = 200;
/// Time given to the node to take in what was just sent before RSS is read.
const SETTLE: Duration = Duration::from_millis(500);

fn main() {
    let dir = scratch("main");
    let mut node = Node::start(&dir, &[]);
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
    let mut opening = Duration::ZERO;
    let mut per_kind = Vec::new();
    for (kind, opening_bytes) in [
        (
            "half head",
            &b"GET /chain HTTP/1.1\r\nHost: x\r\nX-Slow: "[..],
        ),
        (
            "Content-Length body",
            b"POST /transactions/new HTTP/1.1\r\nContent-Length: 2000\r\n\r\n{\"sender\":",
        ),
        (
            "chunked body",
            b"POST /transactions/new HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n{\"a\"",
        ),
        ("idle keep-alive", b"GET /pool HTTP/1.1\r\nHost: x\r\n\r\n"),
    ] {
        let rss_before = node.rss_kib();
        let opened = Instant::now();
        for _ in 0..EACH_KIND {
            let mut stream = TcpStream::connect(node.front).expect("connect");
            stream.write_all(opening_bytes).expect("send the opening");
            if kind == "idle keep-alive" {
                read_answer(&mut stream);
            }
            stalled.push(stream);
        }
        opening += opened.elapsed();
        thread::sleep(SETTLE);
        per_kind.push(format!(
            "{kind} {:.1}",
            node.rss_kib().saturating_sub(rss_before) as f64 / EACH_KIND as f64
        ));
    }
    println!(
        "RSS per stalled connection ({EACH_KIND} of each kind, KiB): {}",
        per_kind.join(", ")
    );
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

    stalled_uploads("default --max-body-buffer-mb (256)", &[]);
    stalled_uploads("--max-body-buffer-mb 64", &["--max-body-buffer-mb", "64"]);
    one_address_flood();
}

/// A fresh scratch directory for one node of this bench.
fn scratch(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "minichain-abuse-bench-{}-{label}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// [`UPLOADS`] connections that each send all but the last byte of a 1 MiB body and
/// stall, on a fresh node started with `flags`: RSS before, while they stall and after
/// they close; how many the front held and how many it refused for the body budget.
fn stalled_uploads(label: &str, flags: &[&str]) {
    let dir = scratch("uploads");
    let mut node = Node::start(&dir, flags);
    let before = node.rss_kib();
    let head = format!(
        "POST /transactions/new HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {UPLOAD_BYTES}\r\n\r\n"
    );
    let body = vec![b' '; UPLOAD_BYTES - 1];
    let started = Instant::now();
    let mut uploads: Vec<TcpStream> = (0..UPLOADS)
        .map(|_| {
            let mut stream = TcpStream::connect(node.front).expect("connect");
            // A refused upload may be closed before all of it is written.
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            stream
        })
        .collect();
    let sent = started.elapsed();
    thread::sleep(SETTLE);
    let during = node.rss_kib();
    let (mut held, mut busy, mut other) = (0, 0, 0);
    for stream in &mut uploads {
        if unanswered(stream) {
            held += 1;
        } else if read_answer(stream).0 == 503 {
            busy += 1;
        } else {
            other += 1;
        }
    }
    drop(uploads);
    thread::sleep(Duration::from_secs(1));
    let after = node.rss_kib();
    println!(
        "{UPLOADS} uploads stalled 1 byte short of 1 MiB, {label}: sent in {:.1} s; {held} held, {busy} refused 503 (budget), {other} other; RSS before {before} KiB, during {during} KiB ({:.0} KiB per held upload), 1 s after they closed {after} KiB",
        sent.as_secs_f64(),
        during.saturating_sub(before) as f64 / held.max(1) as f64
    );
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// [`FLOOD`] idle sockets from this machine's non-loopback address (a classmate) while
/// the owner asks `GET /chain` from loopback [`OWNER_TRIES`] times.
fn one_address_flood() {
    let Some(lan) = lan_address() else {
        println!("one-address flood skipped: this machine has no non-loopback address");
        return;
    };
    let dir = scratch("flood");
    let mut node = Node::start(&dir, &["--host", "0.0.0.0"]);
    let stranger = SocketAddr::new(lan, node.front.port());
    let started = Instant::now();
    let sockets: Vec<TcpStream> = (0..FLOOD)
        .filter_map(|_| TcpStream::connect(stranger).ok())
        .collect();
    let opened = started.elapsed();
    // Refusals are written as the accept loop gets to them: count until the count holds.
    let mut held = usize::MAX;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        thread::sleep(SETTLE);
        let now = sockets.iter().filter(|s| unanswered(s)).count();
        if now == held || Instant::now() > deadline {
            break;
        }
        held = now;
    }
    let mut times = Vec::new();
    for _ in 0..OWNER_TRIES {
        let started = Instant::now();
        if owner_get_chain(node.front) == 200 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} idle sockets from {lan} (opened in {:.1} s): {held} held by the node, {} refused; owner's GET /chain from 127.0.0.1 meanwhile: {} of {OWNER_TRIES} answered 200, median {:.3} ms, max {:.3} ms",
        sockets.len(),
        opened.as_secs_f64(),
        sockets.len() - held,
        times.len(),
        if times.is_empty() {
            f64::NAN
        } else {
            median(&times)
        },
        if times.is_empty() {
            f64::NAN
        } else {
            max(&times)
        }
    );
    drop(sockets);
    node.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// One GET /chain from loopback on a new connection; its status (0: no answer in 5 s).
fn owner_get_chain(front: SocketAddr) -> u16 {
    let Ok(mut stream) = TcpStream::connect(front) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /chain HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return 0;
    }
    read_answer(&mut stream).0
}

/// This machine's address as another machine on its network would reach it (a UDP
/// `connect` only looks up the route; no packet is sent).
fn lan_address() -> Option<IpAddr> {
    ["198.51.100.1:9", "10.255.255.1:9", "192.0.2.1:9"]
        .iter()
        .find_map(|probe| {
            let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
            socket.connect(probe).ok()?;
            let local = socket.local_addr().ok()?.ip();
            (!local.is_loopback() && !local.is_unspecified()).then_some(local)
        })
}

/// A node started for the bench; killed at the end.
struct Node {
    child: Child,
    front: SocketAddr,
}

impl Node {
    /// Starts the node on `dir` with the bench's flags and `flags`.
    fn start(dir: &std::path::Path, flags: &[&str]) -> Node {
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
            .args(flags)
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
