//! Reading a request head (request line and header fields) within a deadline and size
//! limits, and deciding how its body is framed.

use super::client::{Client, Refusal, Stop};
use std::time::Instant;

/// Most bytes of a request head (request line and every header field together): 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most bytes of a request target (path and query): 414.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;

/// How the body after a head is delimited.
#[derive(Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes (already checked against the body cap).
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head.
#[derive(Debug)]
pub struct Head {
    /// The method, as sent.
    pub method: String,
    /// The request target, as sent.
    pub target: String,
    /// The header fields, names as sent, values trimmed.
    pub fields: Vec<(String, String)>,
    /// How the body is delimited.
    pub framing: Framing,
    /// The client wants `100 Continue` before it sends the body.
    pub expects_continue: bool,
    /// The client will send another request on this connection.
    pub keep_alive: bool,
    /// HTTP/1.0 client (keep-alive only when it asked for it).
    pub http10: bool,
}

/// What waiting for a head gave.
#[derive(Debug)]
pub enum Outcome {
    /// A complete, valid head.
    Head(Head),
    /// Nothing was sent, the client left or stayed silent past the deadline: close quietly.
    Idle,
    /// A bad, oversized or too slow head: answer and close.
    Refuse(Refusal),
}

/// Waits until a whole head has arrived (by `deadline`), refusing it as soon as it breaks
/// a limit; the head's bytes are consumed, what follows stays pending.
pub fn read_head(client: &mut Client, deadline: Instant, max_body: usize) -> Outcome {
    let mut scanned = 0;
    loop {
        // Empty lines before a request line are ignored (RFC 9112 §2.2).
        let blank = client
            .pending()
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        if blank > 0 {
            client.consume(blank);
            scanned = 0;
        }
        let pending = client.pending();
        let line = pending
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(pending.len());
        if line > MAX_TARGET_BYTES + 64 {
            return Outcome::Refuse(too_long_target());
        }
        if let Some(end) = head_end(pending, scanned) {
            if end > MAX_HEAD_BYTES + 4 {
                return Outcome::Refuse(too_large_head());
            }
            let parsed = parse(&pending[..end], max_body);
            client.consume(end);
            return match parsed {
                Ok(head) => Outcome::Head(head),
                Err(refusal) => Outcome::Refuse(refusal),
            };
        }
        scanned = pending.len();
        if pending.len() > MAX_HEAD_BYTES + 4 {
            return Outcome::Refuse(too_large_head());
        }
        let had_bytes = !pending.is_empty();
        match client.fill(deadline) {
            Ok(_) => {}
            Err(Stop::TimedOut) if had_bytes => {
                return Outcome::Refuse(Refusal::new(
                    408,
                    "the request head did not arrive in time; send the whole request at once",
                ));
            }
            Err(_) => return Outcome::Idle,
        }
    }
}

fn too_large_head() -> Refusal {
    Refusal::new(
        431,
        format!(
            "the request head (request line and headers) is larger than {MAX_HEAD_BYTES} bytes; send fewer or shorter headers"
        ),
    )
}

fn too_long_target() -> Refusal {
    Refusal::new(
        414,
        format!("the request target (path and query) is longer than {MAX_TARGET_BYTES} bytes"),
    )
}

/// The length of the head (through its empty line) if it is all there; `scanned` bytes
/// were looked at before and cannot hide the end, except for its last three.
fn head_end(bytes: &[u8], scanned: usize) -> Option<usize> {
    let from = scanned.saturating_sub(3);
    let mut i = from;
    while let Some(offset) = bytes[i..].iter().position(|b| *b == b'\n') {
        let newline = i + offset;
        match &bytes[newline + 1..] {
            [b'\n', ..] => return Some(newline + 2),
            [b'\r', b'\n', ..] => return Some(newline + 3),
            _ => i = newline + 1,
        }
    }
    None
}

/// Parses a complete head (`bytes` ends with its empty line).
fn parse(bytes: &[u8], max_body: usize) -> Result<Head, Refusal> {
    let bad = |message: String| Refusal::new(400, message);
    if let Some(byte) = bytes
        .iter()
        .find(|b| !(b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\r' | b'\n')))
    {
        return Err(bad(format!(
            "the request head holds byte 0x{byte:02x}; only printable ASCII is allowed there"
        )));
    }
    let text = std::str::from_utf8(bytes).expect("checked to be ASCII");
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(format!(
            "the request line {:?} is not `METHOD /path HTTP/1.1`",
            cut(request_line)
        )));
    };
    if target.len() > MAX_TARGET_BYTES {
        return Err(too_long_target());
    }
    if method.is_empty() || !method.bytes().all(is_token) || target.is_empty() {
        return Err(bad(format!(
            "the request line {:?} is not `METHOD /path HTTP/1.1`",
            cut(request_line)
        )));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => {
            return Err(Refusal::new(
                505,
                format!("{:?} is not spoken here; use HTTP/1.1", cut(version)),
            ));
        }
    };

    let mut fields = Vec::new();
    for line in lines.filter(|line| !line.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err(bad("folded header lines are not allowed".into()));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(format!("header line {:?} has no colon", cut(line))));
        };
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(bad(format!("header name {:?} is not valid", cut(name))));
        }
        fields.push((
            name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }

    let values = |wanted: &'static str| {
        fields
            .iter()
            .filter(move |(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_str())
    };
    let lengths: Vec<&str> = values("Content-Length").collect();
    let codings: Vec<&str> = values("Transfer-Encoding").collect();
    let framing = if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(bad(
                "send Content-Length or Transfer-Encoding, not both".into()
            ));
        }
        if codings.len() != 1 || !codings[0].eq_ignore_ascii_case("chunked") {
            return Err(Refusal::new(
                501,
                "only `Transfer-Encoding: chunked` is understood",
            ));
        }
        Framing::Chunked
    } else if let Some(first) = lengths.first() {
        if lengths.iter().any(|other| other != first)
            || first.is_empty()
            || !first.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad(format!(
                "Content-Length {:?} is not one whole number",
                cut(&lengths.join(", "))
            )));
        }
        match first.parse::<usize>() {
            Ok(0) => Framing::Empty,
            Ok(length) if length <= max_body => Framing::Length(length),
            _ => return Err(body_too_large(max_body)),
        }
    } else {
        Framing::Empty
    };

    let expects_continue = match values("Expect").next() {
        None => false,
        Some(value) if value.eq_ignore_ascii_case("100-continue") => true,
        Some(value) => {
            return Err(Refusal::new(
                417,
                format!("Expect {:?} is not understood", cut(value)),
            ));
        }
    };
    let connection = values("Connection")
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let keep_alive = if http10 {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };
    Ok(Head {
        method: method.to_string(),
        target: target.to_string(),
        fields,
        framing,
        expects_continue,
        keep_alive,
        http10,
    })
}

/// The 413 answer.
pub fn body_too_large(max_body: usize) -> Refusal {
    Refusal::new(
        413,
        format!("request body is larger than {max_body} bytes (1 MiB); send less"),
    )
}

/// RFC 9110 token characters (method and header names).
fn is_token(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// The start of a long text, for messages.
fn cut(text: &str) -> &str {
    &text[..text.len().min(80)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Head, Refusal> {
        let end = head_end(text.as_bytes(), 0).expect("a complete head");
        parse(&text.as_bytes()[..end], 1024)
    }

    #[test]
    fn finds_the_end_of_a_head_whatever_the_line_ends() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest", 0), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\nA: b\n\nrest", 0), Some(21));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n", 0), None);
        // The end found when the bytes came in two reads.
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\n", 15), Some(18));
    }

    #[test]
    fn frames_bodies() {
        let parsed = head("POST /x HTTP/1.1\r\nContent-Length: 12\r\n\r\n").unwrap();
        assert_eq!(parsed.framing, Framing::Length(12));
        assert!(parsed.keep_alive);
        let parsed = head("POST /x HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n").unwrap();
        assert_eq!(parsed.framing, Framing::Chunked);
        let parsed = head("GET /x HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(parsed.framing, Framing::Empty);
        assert!(!parsed.keep_alive);
        let parsed = head("GET /x HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        assert!(!parsed.keep_alive);
    }

    #[test]
    fn refuses_what_cannot_be_framed_safely() {
        let status = |text: &str| head(text).unwrap_err().status;
        assert_eq!(
            status("POST /x HTTP/1.1\r\nContent-Length: 1025\r\n\r\n"),
            413
        );
        assert_eq!(
            status("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            413
        );
        assert_eq!(
            status("POST /x HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501
        );
        assert_eq!(status("GET /x HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status("GET  /x HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status("GET /x HTTP/1.1\r\nBad Name: 1\r\n\r\n"), 400);
        assert_eq!(status("GET /x HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n"), 400);
        assert_eq!(status("GET /x HTTP/1.1\r\nA: caf\u{e9}\r\n\r\n"), 400);
        assert_eq!(status("GET /x HTTP/1.1\r\nExpect: magic\r\n\r\n"), 417);
    }
}
