//! The front: the part of the HTTP face that owns the public socket, so that no client can
//! stall or bloat the node.
//!
//! tiny_http (under rouille) reads request heads and bodies with no deadline and no size
//! limit, one thread per connection, and a stalled body holds one of rouille's workers.
//! The front reads every request itself — head within `--request-timeout-ms` and
//! [`head::MAX_HEAD_BYTES`], body within the same time again and the 1 MiB cap — and
//! answers 400/408/413/414/431 on its own (JSON, then closes). Only complete requests go
//! on, over reused keep-alive loopback connections, to the rouille server, which serves
//! the routes as before; its answer is streamed back.
//!
//! One thread per connection (small stacks, reused when idle), at most
//! `--max-connections` at once (beyond: 503 and close). An idle keep-alive connection is
//! closed after the same timeout, silently.

mod body;
mod client;
mod head;
mod upstream;

use crate::http::methods::{CLIENT_HEADER, PROBE_HEADER};
use client::{Client, Refusal};
use head::{Framing, Head, Outcome};
use log::{debug, warn};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use upstream::{ForwardError, Upstream};

pub use head::{MAX_HEAD_BYTES, MAX_TARGET_BYTES};

/// Stack of a connection thread: it parses and copies, all buffers are on the heap.
const STACK_BYTES: usize = 128 * 1024;
/// An idle connection thread waits this long for a new connection, then ends.
const THREAD_IDLE: Duration = Duration::from_secs(30);
/// How long the accept loop rests after the system refused a connection (e.g. no file
/// descriptors left), so it does not spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(20);

/// The bounds the front enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time for a whole request head (from the connection's first byte or the previous
    /// answer), then again for its body; and how long an idle connection is kept.
    pub request_timeout: Duration,
    /// Open client connections at once.
    pub max_connections: usize,
    /// Largest request body.
    pub max_body: usize,
}

/// The public listening socket, bound but not yet serving.
pub struct Guard {
    listener: TcpListener,
    limits: Limits,
}

impl Guard {
    /// Binds the public address (`port` 0 lets the system pick).
    pub fn bind(host: &str, port: u16, limits: Limits) -> io::Result<Guard> {
        Ok(Guard {
            listener: TcpListener::bind((host, port))?,
            limits,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map_or(0, |address| address.port())
    }

    /// Accepts clients forever, forwarding their complete requests to `upstream`.
    pub fn serve(self, upstream: SocketAddr) {
        let shared = Arc::new(Shared {
            upstream: Upstream::new(upstream),
            limits: self.limits,
            open: AtomicUsize::new(0),
            waiting: Mutex::new(Waiting::default()),
            wake: Condvar::new(),
        });
        for stream in self.listener.incoming() {
            match stream {
                Ok(stream) => dispatch(&shared, stream),
                Err(error) => {
                    debug!("accept failed: {error}");
                    std::thread::sleep(ACCEPT_PAUSE);
                }
            }
        }
    }
}

/// What every connection thread shares.
struct Shared {
    upstream: Upstream,
    limits: Limits,
    /// Client connections open now.
    open: AtomicUsize,
    /// Accepted connections handed to idle threads, and how many threads are idle.
    waiting: Mutex<Waiting>,
    wake: Condvar,
}

#[derive(Default)]
struct Waiting {
    queue: VecDeque<TcpStream>,
    idle_threads: usize,
}

/// Hands a new connection to an idle thread, or to a new one; refuses it past the cap.
fn dispatch(shared: &Arc<Shared>, stream: TcpStream) {
    let open = shared.open.fetch_add(1, Ordering::SeqCst) + 1;
    if open > shared.limits.max_connections {
        shared.open.fetch_sub(1, Ordering::SeqCst);
        refuse_now(
            stream,
            &Refusal::new(
                503,
                format!(
                    "the node has {} connections open, its limit; try again shortly",
                    shared.limits.max_connections
                ),
            ),
        );
        return;
    }
    let mut waiting = shared.waiting.lock().unwrap_or_else(|e| e.into_inner());
    if waiting.idle_threads > waiting.queue.len() {
        waiting.queue.push_back(stream);
        shared.wake.notify_one();
        return;
    }
    drop(waiting);
    let worker = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("front".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let mut next = Some(stream);
            while let Some(stream) = next.take() {
                serve_connection(&worker, stream);
                worker.open.fetch_sub(1, Ordering::SeqCst);
                next = wait_for_connection(&worker);
            }
        });
    if let Err(error) = spawned {
        shared.open.fetch_sub(1, Ordering::SeqCst);
        warn!("cannot start a connection thread: {error}");
    }
}

/// An idle thread waits for the next connection; `None` when none came for a while.
fn wait_for_connection(shared: &Shared) -> Option<TcpStream> {
    let mut waiting = shared.waiting.lock().unwrap_or_else(|e| e.into_inner());
    waiting.idle_threads += 1;
    let deadline = Instant::now() + THREAD_IDLE;
    loop {
        if let Some(stream) = waiting.queue.pop_front() {
            waiting.idle_threads -= 1;
            return Some(stream);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            waiting.idle_threads -= 1;
            return None;
        }
        waiting = shared
            .wake
            .wait_timeout(waiting, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Serves one client connection: request after request while it keeps the connection.
fn serve_connection(shared: &Shared, stream: TcpStream) {
    let limits = shared.limits;
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "unknown".to_string(), |address| address.to_string());
    if stream.set_nodelay(true).is_err()
        || stream
            .set_write_timeout(Some(limits.request_timeout))
            .is_err()
    {
        return;
    }
    let mut client = Client::new(stream);
    loop {
        let head = match head::read_head(
            &mut client,
            Instant::now() + limits.request_timeout,
            limits.max_body,
        ) {
            Outcome::Head(head) => head,
            Outcome::Idle => return,
            Outcome::Refuse(refusal) => return refuse(client, &peer, &refusal),
        };
        if head.expects_continue
            && head.framing != Framing::Empty
            && client.send(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let deadline = Instant::now() + limits.request_timeout;
        let body = match body::read_body(&mut client, &head.framing, deadline, limits.max_body) {
            Ok(body) => body,
            Err(body::Failed::Gone) => return,
            Err(body::Failed::Refuse(refusal)) => return refuse(client, &peer, &refusal),
        };
        let request = upstream_request(&head, &body, &peer);
        drop(body);
        let connection = match (head.keep_alive, head.http10) {
            (false, _) => Some("close"),
            (true, true) => Some("keep-alive"),
            (true, false) => None,
        };
        let head_only = head.method == "HEAD";
        match shared
            .upstream
            .forward(&request, head_only, &mut client.stream, connection)
        {
            Ok(true) => client.compact(),
            Ok(false) => {
                let _ = client.stream.shutdown(Shutdown::Write);
                return;
            }
            Err(ForwardError::Client) => return,
            Err(ForwardError::Upstream(reason)) => {
                warn!("{} {}: {reason}", head.method, head.target);
                return refuse(client, &peer, &Refusal::new(502, reason));
            }
        }
    }
}

/// The request as the internal server gets it: HTTP/1.0 keep-alive (so it answers with a
/// length), the client's fields without hop-by-hop ones, the client's address, the
/// body with its exact length.
fn upstream_request(head: &Head, body: &[u8], peer: &str) -> Vec<u8> {
    const HOP_BY_HOP: [&str; 9] = [
        "Connection",
        "Keep-Alive",
        "Proxy-Connection",
        "Transfer-Encoding",
        "Content-Length",
        "Expect",
        "TE",
        "Trailer",
        "Upgrade",
    ];
    let mut out = Vec::with_capacity(256 + head.target.len() + body.len());
    let _ = write!(
        out,
        "{} {} HTTP/1.0\r\nConnection: keep-alive\r\n{CLIENT_HEADER}: {peer}\r\n",
        head.method, head.target
    );
    for (name, value) in &head.fields {
        if HOP_BY_HOP.iter().any(|hop| name.eq_ignore_ascii_case(hop))
            || name.eq_ignore_ascii_case(CLIENT_HEADER)
            || name.eq_ignore_ascii_case(PROBE_HEADER)
        {
            continue;
        }
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    out.extend_from_slice(body);
    out
}

fn refuse(client: Client, peer: &str, refusal: &Refusal) {
    debug!(
        "refused a request from {peer}: {} {}",
        refusal.status, refusal.message
    );
    client.refuse(refusal);
}

/// A refusal from the accept loop: never blocks it (the socket's buffer is empty).
fn refuse_now(stream: TcpStream, refusal: &Refusal) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(50)));
    let body = serde_json::json!({ "error": refusal.message }).to_string();
    let answer = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        refusal.status,
        client::reason(refusal.status),
        body.len()
    );
    let _ = (&stream).write_all(answer.as_bytes());
    let _ = stream.shutdown(Shutdown::Both);
}
