//! The front's side of the internal server: a pool of keep-alive connections to the
//! rouille server on loopback, one complete request at a time on each, and the answer
//! streamed back to the client.
//!
//! Requests go upstream as HTTP/1.0 with `Connection: keep-alive`: tiny_http then answers
//! with a `Content-Length` (never chunked), which is all this side needs to read.
//!
//! tiny_http gives each connection a thread from a pool that can lose a wake-up when two
//! connections arrive at once, leaving one queued behind connections that never end (ours
//! are kept alive): its requests would hang. So new connections are opened one at a time,
//! and each is handed out only once a first small request (a probe) came back on it,
//! which proves tiny_http picked it up.
//!
//! tiny_http writes an answer in 1 KiB pieces; on a kept-alive connection Nagle's rule
//! holds the second piece until the first is acknowledged, and the kernel delays that
//! acknowledgement 40 ms. On Linux the front asks for immediate acknowledgements
//! (`TCP_QUICKACK`, re-armed before every read); elsewhere it does not keep upstream
//! connections (a fresh connection acknowledges at once).

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;

/// The internal server's answer head is small; a bigger one is a fault.
const MAX_ANSWER_HEAD: usize = 64 * 1024;
/// Copy buffer for answer bodies that did not come with their head.
const COPY_CHUNK: usize = 64 * 1024;
/// Idle connections kept for reuse; more are closed (none where [`quick_ack`] is a no-op).
const MAX_IDLE: usize = if cfg!(target_os = "linux") { 256 } else { 0 };
/// The probe: answered by the routes without touching the node (an `OPTIONS`), and
/// logged at debug level only.
const PROBE: &[u8] =
    b"OPTIONS /chain HTTP/1.0\r\nConnection: keep-alive\r\nX-Minichain-Probe: 1\r\n\r\n";

/// Why forwarding failed.
#[derive(Debug)]
pub enum ForwardError {
    /// The client could not be written to: drop the connection.
    Client,
    /// The internal server did not answer properly: tell the client (502).
    Upstream(String),
}

/// Connections to the internal server.
pub struct Upstream {
    address: SocketAddr,
    idle: Mutex<Vec<TcpStream>>,
    /// Held while a new connection is opened and probed (see the module notes).
    opening: Mutex<()>,
}

/// An answer head read from upstream.
struct Answer {
    /// Bytes read so far: the head, then the start of the body.
    bytes: Vec<u8>,
    /// Where the body starts in `bytes`.
    head_len: usize,
    /// Body bytes to pass on; `None`: until the internal server closes.
    body_len: Option<usize>,
}

impl Upstream {
    /// Connections will go to `address` (the internal rouille server).
    pub fn new(address: SocketAddr) -> Upstream {
        Upstream {
            address,
            idle: Mutex::new(Vec::new()),
            opening: Mutex::new(()),
        }
    }

    /// Sends `request` (a complete HTTP/1.0 keep-alive request) and writes the answer to
    /// `client`, with `connection` as its `Connection` field if any. `head_only`: the
    /// request was a HEAD, the answer has no body. Returns whether the client connection
    /// can carry another request.
    pub fn forward(
        &self,
        request: &[u8],
        head_only: bool,
        client: &mut TcpStream,
        connection: Option<&str>,
    ) -> Result<bool, ForwardError> {
        let (mut conn, answer) = self.exchange(request, head_only)?;
        let Answer {
            mut bytes,
            head_len,
            body_len,
        } = answer;
        let mut out = client_head(&bytes[..head_len], connection, body_len.is_none())?;
        let have = bytes.len() - head_len;
        let mut first = body_len.map_or(have, |length| length.min(have));
        out.extend_from_slice(&bytes[head_len..head_len + first]);
        bytes.clear();
        // A whole answer of known, modest size leaves in one write: a client never sees a
        // head whose body the process did not live to send (kill -9 between the two).
        if let Some(length) = body_len.filter(|&length| length <= WHOLE_ANSWER_BYTES) {
            let mut filled = out.len();
            out.resize(filled + (length - first), 0);
            while filled < out.len() {
                quick_ack(&conn);
                match conn.read(&mut out[filled..]) {
                    Ok(0) => return Err(ForwardError::Client),
                    Ok(n) => filled += n,
                    Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                    Err(_) => return Err(ForwardError::Client),
                }
            }
            first = length;
        }
        if client.write_all(&out).is_err() {
            if body_len == Some(first) {
                self.put_back(conn);
            }
            return Err(ForwardError::Client);
        }
        drop(out);
        let mut left = body_len.map(|length| length - first);
        if left != Some(0) {
            let mut chunk = vec![0u8; COPY_CHUNK];
            loop {
                let want = left.map_or(COPY_CHUNK, |left| left.min(COPY_CHUNK));
                if want == 0 {
                    break;
                }
                quick_ack(&conn);
                let n = match conn.read(&mut chunk[..want]) {
                    Ok(0) if left.is_none() => break,
                    Ok(0) => return Err(ForwardError::Client), // the client already has a head
                    Ok(n) => n,
                    Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                    Err(_) => return Err(ForwardError::Client),
                };
                if client.write_all(&chunk[..n]).is_err() {
                    return Err(ForwardError::Client);
                }
                left = left.map(|left| left - n);
            }
        }
        match body_len {
            Some(_) => {
                self.put_back(conn);
                Ok(connection != Some("close"))
            }
            None => Ok(false),
        }
    }

    /// Writes the request and reads the answer head; a reused connection that turns out
    /// closed (nothing was processed on it) is replaced once.
    fn exchange(
        &self,
        request: &[u8],
        head_only: bool,
    ) -> Result<(TcpStream, Answer), ForwardError> {
        let mut first_try = true;
        loop {
            let (mut conn, reused) = self.take()?;
            let retry = reused && first_try;
            first_try = false;
            if let Err(error) = conn.write_all(request) {
                if retry {
                    continue;
                }
                return Err(ForwardError::Upstream(format!(
                    "cannot send to the internal server: {error}"
                )));
            }
            match read_answer(&mut conn, head_only) {
                Ok(answer) => return Ok((conn, answer)),
                Err(error) if retry && error.kind() == ErrorKind::UnexpectedEof => continue,
                Err(error) => {
                    return Err(ForwardError::Upstream(format!(
                        "the internal server did not answer: {error}"
                    )));
                }
            }
        }
    }

    /// An idle connection (`true`: reused), or a new one, opened one at a time and probed.
    fn take(&self) -> Result<(TcpStream, bool), ForwardError> {
        if let Some(conn) = self.pop_idle() {
            return Ok((conn, true));
        }
        let _one_at_a_time = self.opening.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = self.pop_idle() {
            return Ok((conn, true));
        }
        self.open().map(|conn| (conn, false)).map_err(|error| {
            ForwardError::Upstream(format!("cannot reach the internal server: {error}"))
        })
    }

    fn open(&self) -> io::Result<TcpStream> {
        let mut conn = TcpStream::connect(self.address)?;
        conn.set_nodelay(true)?;
        conn.write_all(PROBE)?;
        let answer = read_answer(&mut conn, false)?;
        let mut left = answer.body_len.unwrap_or(0) - (answer.bytes.len() - answer.head_len);
        let mut sink = [0u8; 1024];
        while left > 0 {
            quick_ack(&conn);
            match conn.read(&mut sink[..left.min(1024)])? {
                0 => return Err(ErrorKind::UnexpectedEof.into()),
                n => left -= n,
            }
        }
        Ok(conn)
    }

    fn pop_idle(&self) -> Option<TcpStream> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn put_back(&self, conn: TcpStream) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

/// Answers up to this size are read whole from the node before the client gets any byte.
const WHOLE_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Reads an answer head (and whatever of the body came with it). An end of stream before
/// any byte is `UnexpectedEof`.
fn read_answer(conn: &mut TcpStream, head_only: bool) -> io::Result<Answer> {
    let mut bytes = Vec::with_capacity(8 * 1024);
    let mut chunk = [0u8; 8 * 1024];
    loop {
        quick_ack(conn);
        let n = match conn.read(&mut chunk) {
            Ok(n) => n,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if n == 0 {
            let kind = if bytes.is_empty() {
                ErrorKind::UnexpectedEof
            } else {
                ErrorKind::InvalidData
            };
            return Err(io::Error::new(
                kind,
                "connection closed before a whole answer head",
            ));
        }
        let scanned = bytes.len().saturating_sub(3);
        bytes.extend_from_slice(&chunk[..n]);
        if let Some(end) = bytes[scanned..].windows(4).position(|w| w == b"\r\n\r\n") {
            let head_len = scanned + end + 4;
            let head = std::str::from_utf8(&bytes[..head_len])
                .map_err(|_| io::Error::new(ErrorKind::InvalidData, "answer head is not text"))?;
            let status = status_of(head)?;
            let body_len = if head_only || matches!(status, 100..=199 | 204 | 304) {
                Some(0)
            } else {
                content_length(head)?
            };
            return Ok(Answer {
                bytes,
                head_len,
                body_len,
            });
        }
        if bytes.len() > MAX_ANSWER_HEAD {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "answer head too large",
            ));
        }
    }
}

fn status_of(head: &str) -> io::Result<u16> {
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "no status in the answer"))
}

fn content_length(head: &str) -> io::Result<Option<usize>> {
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("Content-Length")
        {
            return value
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| io::Error::new(ErrorKind::InvalidData, "bad Content-Length"));
        }
    }
    Ok(None)
}

/// The head as the client gets it: HTTP/1.1, the internal server's fields without the
/// hop-by-hop ones, and our own `Connection` (`close` when the length is unknown).
fn client_head(
    head: &[u8],
    connection: Option<&str>,
    until_close: bool,
) -> Result<Vec<u8>, ForwardError> {
    let head = std::str::from_utf8(head).expect("checked when read");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let rest = status_line
        .split_once(' ')
        .map(|(_, rest)| rest)
        .ok_or_else(|| ForwardError::Upstream("bad status line".into()))?;
    let mut out = Vec::with_capacity(head.len() + 32);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(rest.as_bytes());
    out.extend_from_slice(b"\r\n");
    for line in lines.filter(|line| !line.is_empty()) {
        let name = line.split(':').next().unwrap_or("");
        if ["Connection", "Keep-Alive", "Transfer-Encoding"]
            .iter()
            .any(|hop| name.eq_ignore_ascii_case(hop))
        {
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let connection = if until_close {
        Some("close")
    } else {
        connection
    };
    if let Some(value) = connection {
        out.extend_from_slice(format!("Connection: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// Asks the kernel to acknowledge what arrives on `conn` at once (see the module notes);
/// the setting lapses, so it is renewed before each read.
#[cfg(target_os = "linux")]
fn quick_ack(conn: &TcpStream) {
    use std::os::fd::AsRawFd;
    unsafe extern "C" {
        fn setsockopt(
            fd: i32,
            level: i32,
            name: i32,
            value: *const std::ffi::c_void,
            length: u32,
        ) -> i32;
    }
    const IPPROTO_TCP: i32 = 6;
    const TCP_QUICKACK: i32 = 12;
    let on: i32 = 1;
    // SAFETY: a valid open socket, a pointer to a live i32 and its exact size; a failure
    // only costs the 40 ms this avoids.
    unsafe {
        setsockopt(
            conn.as_raw_fd(),
            IPPROTO_TCP,
            TCP_QUICKACK,
            (&on as *const i32).cast(),
            std::mem::size_of::<i32>() as u32,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn quick_ack(_conn: &TcpStream) {}
