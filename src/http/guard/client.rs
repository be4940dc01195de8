//! One client connection as the front reads it: bytes read ahead of what was used, reads
//! with a deadline, and the front's own JSON answers (4xx/5xx) that end the connection.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// Bytes asked of the socket per read (on the thread's stack; the buffer grows only by
/// what actually came).
const READ_CHUNK: usize = 8 * 1024;
/// After a refusal, how long and how much of what the client still sends is read and
/// dropped, so that closing does not reset the connection before it reads the answer.
const DRAIN_TIME: Duration = Duration::from_secs(2);
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// Why a read gave no bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The deadline passed.
    TimedOut,
    /// The client closed its side or the connection broke.
    Gone,
}

/// An answer the front gives itself: the status and a message saying what to fix. The
/// connection is closed after it (what follows in the stream cannot be trusted).
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// The `error` text.
    pub message: String,
}

impl Refusal {
    /// A refusal with its status and message.
    pub fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

/// A client connection with the bytes read but not yet used.
pub struct Client {
    /// The socket; its write timeout is set once, reads get one per call.
    pub stream: TcpStream,
    buf: Vec<u8>,
    used: usize,
}

impl Client {
    /// Wraps an accepted socket.
    pub fn new(stream: TcpStream) -> Client {
        Client {
            stream,
            buf: Vec::new(),
            used: 0,
        }
    }

    /// Bytes read and not yet used.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.used..]
    }

    /// Marks the first `n` pending bytes as used.
    pub fn consume(&mut self, n: usize) {
        self.used = (self.used + n).min(self.buf.len());
    }

    /// Takes the first `n` pending bytes out.
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let taken = self.pending()[..n].to_vec();
        self.consume(n);
        taken
    }

    /// Forgets used bytes between requests; an idle connection keeps no buffer.
    pub fn compact(&mut self) {
        if self.used == self.buf.len() {
            self.buf = Vec::new();
        } else {
            self.buf = self.buf[self.used..].to_vec();
        }
        self.used = 0;
    }

    /// Reads once more, waiting no later than `deadline`; returns how many bytes came.
    pub fn fill(&mut self, deadline: Instant) -> Result<usize, Stop> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stop::TimedOut);
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|_| Stop::Gone)?;
        let mut chunk = [0u8; READ_CHUNK];
        let result = loop {
            match self.stream.read(&mut chunk) {
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        match result {
            Ok(0) => Err(Stop::Gone),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(error) => match error.kind() {
                ErrorKind::WouldBlock | ErrorKind::TimedOut => Err(Stop::TimedOut),
                _ => Err(Stop::Gone),
            },
        }
    }

    /// Answers with the front's own JSON error, then closes: stops sending, reads and
    /// drops what the client still sends for a moment, and lets go.
    pub fn refuse(mut self, refusal: &Refusal) {
        let body = serde_json::json!({ "error": refusal.message }).to_string();
        let answer = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            refusal.status,
            super::respond::reason(refusal.status),
            body.len()
        );
        if self.stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
        let _ = self.stream.shutdown(Shutdown::Write);
        let deadline = Instant::now() + DRAIN_TIME;
        let mut drained = 0;
        let mut sink = [0u8; 4096];
        while drained < DRAIN_BYTES {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match self.stream.read(&mut sink) {
                Ok(0) => break,
                Ok(n) => drained += n,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    /// Writes all of `bytes` to the client (bounded by the socket's write timeout).
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }
}
