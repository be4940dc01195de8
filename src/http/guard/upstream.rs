//! The front's side of the internal server: each complete request goes to the rouille
//! server on loopback over a connection of its own, and the answer is streamed back.
//!
//! Requests go upstream as HTTP/1.0 without keep-alive. tiny_http then answers with a
//! `Content-Length` (never chunked), and its thread for the connection is free as soon as
//! the request is parsed. Kept-alive upstream connections were tried and dropped: each
//! pins one thread of tiny_http's pool for good, and that pool can leave a new
//! connection queued behind them (a wake-up lost when two arrive at once), which hung
//! requests; a loopback connection per request costs tens of microseconds.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

/// The internal server's answer head is small; a bigger one is a fault.
const MAX_ANSWER_HEAD: usize = 64 * 1024;
/// Copy buffer for answer bodies that did not come with their head.
const COPY_CHUNK: usize = 64 * 1024;

/// Why forwarding failed.
#[derive(Debug)]
pub enum ForwardError {
    /// The client could not be written to: drop the connection.
    Client,
    /// The internal server did not answer properly: tell the client (502).
    Upstream(String),
}

/// Where the internal server listens.
pub struct Upstream {
    address: SocketAddr,
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
        Upstream { address }
    }

    /// Sends `request` (a complete HTTP/1.0 request) and writes the answer to
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
        let first = body_len.map_or(have, |length| length.min(have));
        out.extend_from_slice(&bytes[head_len..head_len + first]);
        bytes.clear();
        if client.write_all(&out).is_err() {
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
        Ok(body_len.is_some() && connection != Some("close"))
    }

    /// Connects, writes the request and reads the answer head.
    fn exchange(
        &self,
        request: &[u8],
        head_only: bool,
    ) -> Result<(TcpStream, Answer), ForwardError> {
        let mut conn = TcpStream::connect(self.address).map_err(|error| {
            ForwardError::Upstream(format!("cannot reach the internal server: {error}"))
        })?;
        let _ = conn.set_nodelay(true);
        conn.write_all(request).map_err(|error| {
            ForwardError::Upstream(format!("cannot send to the internal server: {error}"))
        })?;
        let answer = read_answer(&mut conn, head_only).map_err(|error| {
            ForwardError::Upstream(format!("the internal server did not answer: {error}"))
        })?;
        Ok((conn, answer))
    }
}

/// Reads an answer head (and whatever of the body came with it). An end of stream before
/// any byte is `UnexpectedEof`.
fn read_answer(conn: &mut TcpStream, head_only: bool) -> io::Result<Answer> {
    let mut bytes = Vec::with_capacity(8 * 1024);
    let mut chunk = [0u8; 8 * 1024];
    loop {
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
