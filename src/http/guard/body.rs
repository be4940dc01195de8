//! Reading a request body within a deadline, the body cap and the shared body budget:
//! `Content-Length` bytes, or a chunked body decoded (chunk lines and trailers bounded
//! too). A body's bytes are reserved from the budget before they are buffered, and read
//! straight into a buffer that grows with what arrived.

use super::budget::{BodyBudget, Reservation};
use super::client::{Client, Refusal, Stop};
use super::head::{Framing, MAX_HEAD_BYTES, body_too_large};
use std::time::Instant;

/// Longest chunk-size line (size, extensions): anything longer is not a real client.
const MAX_CHUNK_LINE: usize = 1024;

/// What reading a body gave when it gave no body.
#[derive(Debug)]
pub enum Failed {
    /// The client left: close quietly.
    Gone,
    /// Answer and close (408, 413, 400, 503).
    Refuse(Refusal),
}

/// Reserves what a body announces (its `Content-Length`) before a byte of it is read or
/// `100 Continue` is sent; a chunked body reserves chunk by chunk as it is read. A 503
/// when the budget cannot hold it.
pub fn reserve<'a>(budget: &'a BodyBudget, framing: &Framing) -> Result<Reservation<'a>, Refusal> {
    let mut reservation = budget.reservation();
    match framing {
        Framing::Length(length) if !reservation.grow(*length) => Err(budget.busy()),
        _ => Ok(reservation),
    }
}

/// Reads the whole body `framing` announces by `deadline`; more than `max_body` bytes is
/// a 413 as soon as it is known. `reservation` comes from [`reserve`] and grows with a
/// chunked body.
pub fn read_body(
    client: &mut Client,
    framing: &Framing,
    deadline: Instant,
    max_body: usize,
    reservation: &mut Reservation,
) -> Result<Vec<u8>, Failed> {
    match framing {
        Framing::Empty => Ok(Vec::new()),
        Framing::Length(length) => {
            let mut body = Vec::new();
            let read_ahead = client.take_into(&mut body, *length, *length);
            // The head's bytes are not kept while the rest of the body arrives.
            client.compact();
            read_exactly(client, &mut body, *length - read_ahead, *length, deadline)?;
            Ok(body)
        }
        Framing::Chunked => read_chunked(client, deadline, max_body, reservation),
    }
}

/// Appends exactly `n` more bytes of the body to `body` (its capacity at most
/// `capacity`): what was read ahead first, then straight from the socket.
fn read_exactly(
    client: &mut Client,
    body: &mut Vec<u8>,
    n: usize,
    capacity: usize,
    deadline: Instant,
) -> Result<(), Failed> {
    let mut left = n - client.take_into(body, n, capacity);
    while left > 0 {
        left -= client
            .read_into(body, left, capacity, deadline)
            .map_err(stopped)?;
    }
    Ok(())
}

fn read_chunked(
    client: &mut Client,
    deadline: Instant,
    max_body: usize,
    reservation: &mut Reservation,
) -> Result<Vec<u8>, Failed> {
    let mut body = Vec::new();
    loop {
        let line = read_line(client, deadline, MAX_CHUNK_LINE)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = match usize::from_str_radix(size, 16) {
            _ if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) => {
                return Err(Failed::Refuse(Refusal::new(
                    400,
                    format!(
                        "chunk size {:?} is not a hex number",
                        &size[..size.len().min(40)]
                    ),
                )));
            }
            Ok(size) => size,
            Err(_) => usize::MAX,
        };
        if size == 0 {
            break;
        }
        if size > max_body - body.len() {
            return Err(Failed::Refuse(body_too_large(max_body)));
        }
        if !reservation.grow(size) {
            return Err(Failed::Refuse(reservation.busy()));
        }
        read_exactly(client, &mut body, size, reservation.bytes(), deadline)?;
        chunk_end(client, deadline)?;
    }
    // Trailer fields, read and dropped, then the empty line.
    let mut trailers = 0;
    loop {
        let line = read_line(client, deadline, MAX_HEAD_BYTES)?;
        if line.is_empty() {
            return Ok(body);
        }
        trailers += line.len();
        if trailers > MAX_HEAD_BYTES {
            return Err(Failed::Refuse(Refusal::new(
                431,
                format!("the trailer fields are larger than {MAX_HEAD_BYTES} bytes"),
            )));
        }
    }
}

/// The CRLF after a chunk's data.
fn chunk_end(client: &mut Client, deadline: Instant) -> Result<(), Failed> {
    while client.pending().len() < 2 {
        more(client, deadline)?;
    }
    if &client.pending()[..2] != b"\r\n" {
        return Err(Failed::Refuse(Refusal::new(
            400,
            "a chunk is not followed by CRLF",
        )));
    }
    client.consume(2);
    Ok(())
}

/// One CRLF- (or LF-) ended line, at most `max` bytes.
fn read_line(client: &mut Client, deadline: Instant, max: usize) -> Result<String, Failed> {
    loop {
        if let Some(end) = client.pending().iter().position(|b| *b == b'\n') {
            let raw = client.take(end + 1);
            let text = String::from_utf8_lossy(&raw[..end]);
            return Ok(text.strip_suffix('\r').unwrap_or(&text).to_string());
        }
        if client.pending().len() > max {
            return Err(Failed::Refuse(Refusal::new(
                400,
                "a chunked body line is too long",
            )));
        }
        more(client, deadline)?;
    }
}

/// Reads once more; a deadline passed is a 408.
fn more(client: &mut Client, deadline: Instant) -> Result<(), Failed> {
    client.fill(deadline).map(|_| ()).map_err(stopped)
}

/// A read that gave nothing: the deadline passed (408) or the client left.
fn stopped(stop: Stop) -> Failed {
    match stop {
        Stop::TimedOut => Failed::Refuse(Refusal::new(
            408,
            "the request body did not arrive in time; send the whole body at once",
        )),
        Stop::Gone => Failed::Gone,
    }
}
