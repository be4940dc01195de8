//! The front: the part of the HTTP face that owns the public socket, so that no client can
//! stall or bloat the node, and the only server a node runs (SPEC §5a: one listening port).
//!
//! tiny_http (under rouille's own server) reads request heads and bodies with no deadline
//! and no size limit, one thread per connection. So the front reads every request itself
//! — head within `--request-timeout-ms` and [`head::MAX_HEAD_BYTES`], body within the same
//! time again and the 1 MiB cap — and answers 400/408/413/414/431 on its own (JSON, then
//! closes). A complete request is then handed to the routes in this process through
//! rouille's public door: [`rouille::Request::fake_http_from`] builds the request from
//! its parts (with the client's real address), the routes answer a [`rouille::Response`],
//! and `respond` writes it to the client.
//!
//! One thread per connection (reused when idle), at most `--max-connections` at once,
//! a quarter of them from any one address, 64 more for loopback (`admission`); beyond:
//! 503 and close. The route runs on that thread. An idle keep-alive connection is closed
//! after the same timeout, silently. Bodies being read hold at most
//! `--max-body-buffer-mb` in all (`budget`); beyond: 503.

mod admission;
mod body;
mod budget;
mod client;
mod head;
mod respond;

use admission::{Admission, Ticket};
use budget::BodyBudget;
use client::{Client, Refusal};
use head::{Framing, Head, Outcome};
use log::{debug, error, info, warn};
use rouille::{Request, Response};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub use head::{MAX_HEAD_BYTES, MAX_TARGET_BYTES};

/// Stack of a connection thread, which also runs the route (JSON, validation, mining
/// set-up): the size Rust gives any spawned thread. Only the pages touched are resident.
const STACK_BYTES: usize = 2 * 1024 * 1024;
/// An idle connection thread waits this long for a new connection, then ends.
const THREAD_IDLE: Duration = Duration::from_secs(30);
/// How many `--request-timeout-ms` a client has to read a whole answer.
const ANSWER_TIMEOUTS: u32 = 3;
/// Most bytes a refusal from the accept loop reads and drops before closing.
const UNREAD_BYTES: usize = 64 * 1024;
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
    /// Bytes all request bodies being read may hold together.
    pub max_body_buffer: usize,
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

    /// Accepts clients forever, answering their complete requests with `handler`.
    pub fn serve(self, handler: Box<Handler>) {
        let shared = Arc::new(Shared {
            handler,
            limits: self.limits,
            admission: Admission::new(self.limits.max_connections),
            budget: BodyBudget::new(self.limits.max_body_buffer),
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

/// What answers a complete request: the routes.
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// What every connection thread shares.
struct Shared {
    handler: Box<Handler>,
    limits: Limits,
    /// Client connections open now, in all and per address.
    admission: Arc<Admission>,
    /// What request bodies being read hold.
    budget: BodyBudget,
    /// Accepted connections handed to idle threads, and how many threads are idle.
    waiting: Mutex<Waiting>,
    wake: Condvar,
}

#[derive(Default)]
struct Waiting {
    queue: VecDeque<Connection>,
    idle_threads: usize,
}

/// An admitted client connection: its place is given back when this is dropped.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    _ticket: Ticket,
}

/// Hands a new connection to an idle thread, or to a new one; refuses it past the caps.
fn dispatch(shared: &Arc<Shared>, stream: TcpStream) {
    let Ok(peer) = stream.peer_addr() else {
        return;
    };
    let ticket = match shared.admission.admit(peer.ip()) {
        Ok(ticket) => ticket,
        Err(refusal) => return refuse_now(stream, peer, &refusal),
    };
    let connection = Connection {
        stream,
        peer,
        _ticket: ticket,
    };
    let mut waiting = shared.waiting.lock().unwrap_or_else(|e| e.into_inner());
    if waiting.idle_threads > waiting.queue.len() {
        waiting.queue.push_back(connection);
        shared.wake.notify_one();
        return;
    }
    drop(waiting);
    let worker = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("front".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let mut next = Some(connection);
            while let Some(connection) = next.take() {
                serve_connection(&worker, connection);
                next = wait_for_connection(&worker);
            }
        });
    if let Err(error) = spawned {
        warn!("cannot start a connection thread: {error}");
    }
}

/// An idle thread waits for the next connection; `None` when none came for a while.
fn wait_for_connection(shared: &Shared) -> Option<Connection> {
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
/// Its place (the ticket) is given back when this returns, however it returns.
fn serve_connection(shared: &Shared, connection: Connection) {
    let Connection {
        stream,
        peer,
        _ticket: _place,
    } = connection;
    let limits = shared.limits;
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
            Outcome::Refuse(refusal) => return refuse(client, peer, &refusal),
        };
        // Held until the route has answered: the body lives that long.
        let mut reservation = match body::reserve(&shared.budget, &head.framing) {
            Ok(reservation) => reservation,
            Err(refusal) => return refuse(client, peer, &refusal),
        };
        if head.expects_continue
            && head.framing != Framing::Empty
            && client.send(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let deadline = Instant::now() + limits.request_timeout;
        let body = match body::read_body(
            &mut client,
            &head.framing,
            deadline,
            limits.max_body,
            &mut reservation,
        ) {
            Ok(body) => body,
            Err(body::Failed::Gone) => return,
            Err(body::Failed::Refuse(refusal)) => return refuse(client, peer, &refusal),
        };
        let connection = match (head.keep_alive, head.http10) {
            (false, _) => Some("close"),
            (true, true) => Some("keep-alive"),
            (true, false) => None,
        };
        let head_only = head.method == "HEAD";
        let response = answer(&shared.handler, request_of(head, body, peer));
        drop(reservation);
        // The whole answer within a few request timeouts, however slowly the client reads.
        let deadline = Instant::now() + limits.request_timeout * ANSWER_TIMEOUTS;
        match respond::write_response(
            &mut client.stream,
            response,
            head_only,
            connection,
            deadline,
        ) {
            Ok(true) => client.compact(),
            Ok(false) => {
                let _ = client.stream.shutdown(Shutdown::Write);
                return;
            }
            Err(_) => return,
        }
    }
}

/// The request as the routes get it: method, target and fields as the client sent them
/// (without the framing fields, the body being whole), the client's real address.
fn request_of(head: Head, body: Vec<u8>, peer: SocketAddr) -> Request {
    const FRAMING: [&str; 3] = ["Transfer-Encoding", "Content-Length", "Expect"];
    let mut fields: Vec<(String, String)> = head
        .fields
        .into_iter()
        .filter(|(name, _)| !FRAMING.iter().any(|f| name.eq_ignore_ascii_case(f)))
        .collect();
    fields.push(("Content-Length".into(), body.len().to_string()));
    Request::fake_http_from(peer, head.method, head.target, fields, body)
}

/// Runs the route; a panic in it (a bug) is a 500, never a lost connection thread.
fn answer(handler: &Handler, request: Request) -> Response {
    catch_unwind(AssertUnwindSafe(|| handler(&request))).unwrap_or_else(|_| {
        error!(
            "{} {} from {} panicked; answered 500",
            request.method(),
            request.raw_url(),
            request.remote_addr()
        );
        Response::from_data(
            "application/json",
            "{\"error\":\"the node failed on this request (a bug); nothing was acknowledged\"}\n",
        )
        .with_status_code(500)
    })
}

/// Answers a request the front refuses (and closes the connection); logged at info like
/// every refusal, naming the client first (SPEC §5a).
fn refuse(client: Client, peer: SocketAddr, refusal: &Refusal) {
    info!(
        "{peer} request refused before routing -> {}: {}",
        refusal.status, refusal.message
    );
    client.refuse(refusal);
}

/// A refusal from the accept loop, logged like any other: never blocks the loop (the
/// socket's buffer is empty, the write has a short timeout, reads do not wait).
fn refuse_now(stream: TcpStream, peer: SocketAddr, refusal: &Refusal) {
    info!(
        "{peer} connection refused -> {}: {}",
        refusal.status, refusal.message
    );
    let _ = stream.set_write_timeout(Some(Duration::from_millis(50)));
    let _ = (&stream).write_all(refusal.answer().as_bytes());
    drop_unread(&stream);
    let _ = stream.shutdown(Shutdown::Both);
}

/// Reads and drops, without waiting, what the client already sent (at most
/// [`UNREAD_BYTES`]): a socket closed with unread bytes resets the connection, and the
/// client may then lose the answer it was about to read.
fn drop_unread(stream: &TcpStream) {
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    let mut dropped = 0;
    while dropped < UNREAD_BYTES {
        match (&*stream).read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => dropped += n,
        }
    }
}
