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
    /// Seconds after which the same request may well succeed (`Retry-After`): a node
    /// that is busy (503), not a request that is wrong.
    pub retry_after: Option<u32>,
}

impl Refusal {
    /// A refusal with its status and message.
    pub fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same refusal telling the client when to try again.
    pub fn retry_after(mut self, seconds: u32) -> Refusal {
        self.retry_after = Some(seconds);
        self
    }

    /// The whole answer as sent: head (with `Connection: close`) and JSON body.
    pub fn answer(&self) -> String {
        let body = format!("{}\n", serde_json::json!({ "error": self.message }));
        let retry = self.retry_after.map_or(String::new(), |seconds| {
            format!("Retry-After: {seconds}\r\n")
        });
        format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n{body}",
            self.status,
            super::respond::reason(self.status),
            body.len()
        )
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

    /// Reads once more into the read-ahead buffer, waiting no later than `deadline`;
    /// returns how many bytes came.
    pub fn fill(&mut self, deadline: Instant) -> Result<usize, Stop> {
        let mut chunk = [0u8; READ_CHUNK];
        let got = self.read_some(&mut chunk, deadline)?;
        self.forget_used();
        self.buf.extend_from_slice(&chunk[..got]);
        Ok(got)
    }

    /// Moves up to `n` pending bytes to the end of `out` (grown by [`append`], never
    /// past `capacity`); returns how many.
    pub fn take_into(&mut self, out: &mut Vec<u8>, n: usize, capacity: usize) -> usize {
        let n = n.min(self.pending().len());
        append(out, &self.buf[self.used..self.used + n], capacity);
        self.consume(n);
        n
    }

    /// Reads at most `n` bytes from the socket straight to the end of `out` (grown by
    /// [`append`], never past `capacity`), waiting no later than `deadline`: a body is
    /// held once, not also in the read-ahead buffer, and nothing after it is read.
    pub fn read_into(
        &mut self,
        out: &mut Vec<u8>,
        n: usize,
        capacity: usize,
        deadline: Instant,
    ) -> Result<usize, Stop> {
        let mut chunk = [0u8; READ_CHUNK];
        let got = self.read_some(&mut chunk[..n.min(READ_CHUNK)], deadline)?;
        append(out, &chunk[..got], capacity);
        Ok(got)
    }

    /// One read from the socket into `into` (not empty), waiting no later than `deadline`.
    fn read_some(&mut self, into: &mut [u8], deadline: Instant) -> Result<usize, Stop> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stop::TimedOut);
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|_| Stop::Gone)?;
        loop {
            return match self.stream.read(into) {
                Ok(0) => Err(Stop::Gone),
                Ok(n) => Ok(n),
                Err(error) => match error.kind() {
                    ErrorKind::Interrupted => continue,
                    ErrorKind::WouldBlock | ErrorKind::TimedOut => Err(Stop::TimedOut),
                    _ => Err(Stop::Gone),
                },
            };
        }
    }

    /// Drops the used bytes at the front of the buffer once there are many, so that it
    /// holds what is pending, not everything read since the request began (a chunked
    /// body of tiny chunks passes through it line by line).
    fn forget_used(&mut self) {
        if self.used >= READ_CHUNK || self.used == self.buf.len() {
            self.buf.drain(..self.used);
            self.used = 0;
        }
    }

    /// Answers with the front's own JSON error, then closes: stops sending, reads and
    /// drops what the client still sends for a moment, and lets go.
    pub fn refuse(mut self, refusal: &Refusal) {
        if self.stream.write_all(refusal.answer().as_bytes()).is_err() {
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

/// Appends `bytes` to `out`, growing it geometrically (few copies) but never past
/// `capacity`, what the body announced or reserved: a stalled upload holds at most what
/// it announced, and about what it sent once most of it has arrived.
fn append(out: &mut Vec<u8>, bytes: &[u8], capacity: usize) {
    let needed = out.len() + bytes.len();
    if needed > out.capacity() {
        let target = (out.capacity() * 2)
            .max(READ_CHUNK)
            .min(capacity)
            .max(needed);
        out.reserve_exact(target - out.len());
    }
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_grows_with_what_came_and_never_past_what_it_announced() {
        let mut body = Vec::new();
        let capacity = 1024 * 1024;
        let piece = [7u8; READ_CHUNK];
        while body.len() + READ_CHUNK < capacity {
            append(&mut body, &piece, capacity);
            assert!(body.capacity() <= capacity);
            assert!(body.capacity() <= 2 * body.len().max(READ_CHUNK));
        }
        let last = capacity - body.len() - 1;
        append(&mut body, &piece[..last], capacity);
        assert_eq!(body.len(), capacity - 1);
        assert_eq!(body.capacity(), capacity);
    }
}
