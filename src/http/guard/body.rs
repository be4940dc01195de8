//! Reading a request body within a deadline and the body cap: `Content-Length` bytes, or
//! a chunked body decoded (chunk lines and trailers bounded too).

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
    /// Answer and close (408, 413, 400).
    Refuse(Refusal),
}

/// Reads the whole body `framing` announces by `deadline`; more than `max_body` bytes is
/// a 413 as soon as it is known.
pub fn read_body(
    client: &mut Client,
    framing: &Framing,
    deadline: Instant,
    max_body: usize,
) -> Result<Vec<u8>, Failed> {
    match framing {
        Framing::Empty => Ok(Vec::new()),
        Framing::Length(length) => {
            while client.pending().len() < *length {
                more(client, deadline)?;
            }
            Ok(client.take(*length))
        }
        Framing::Chunked => read_chunked(client, deadline, max_body),
    }
}

fn read_chunked(
    client: &mut Client,
    deadline: Instant,
    max_body: usize,
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
        while client.pending().len() < size + 2 {
            more(client, deadline)?;
        }
        if &client.pending()[size..size + 2] != b"\r\n" {
            return Err(Failed::Refuse(Refusal::new(
                400,
                "a chunk is not followed by CRLF",
            )));
        }
        body.extend_from_slice(&client.pending()[..size]);
        client.consume(size + 2);
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
    match client.fill(deadline) {
        Ok(_) => Ok(()),
        Err(Stop::TimedOut) => Err(Failed::Refuse(Refusal::new(
            408,
            "the request body did not arrive in time; send the whole body at once",
        ))),
        Err(Stop::Gone) => Err(Failed::Gone),
    }
}
