//! Calls to other nodes, over blocking HTTP with a time limit and a size cap on every call.
//! A peer is never trusted: whatever it answers is turned into a typed value or a
//! [`PeerError`] that says what went wrong.
//!
//! **Invariant:** the only module that imports attohttpc. Callers hold no lock while
//! calling into it.

use attohttpc::{ErrorKind, Method, ProxySettings};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::io::Read;
use std::time::{Duration, Instant};

/// Largest answer read from a peer: 64 MiB (SPEC §9).
pub const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// Most characters of a peer's own `error` text this node repeats, and only for a peer
/// that answered `/inv` as a node of this network (SPEC §6c: a peer's words stay its own).
pub const PEER_WORDS: usize = 200;

/// A peer's `error` text as this node may repeat it: one line, at most [`PEER_WORDS`]
/// characters.
pub fn cut_words(words: &str) -> String {
    let line: String = words
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(PEER_WORDS + 1)
        .collect();
    if line.chars().count() > PEER_WORDS {
        format!("{}…", line.chars().take(PEER_WORDS).collect::<String>())
    } else {
        line
    }
}

/// How to reach peers: one time limit for each whole call, one size cap for each answer.
#[derive(Clone, Copy, Debug)]
pub struct PeerClient {
    /// Bounds connect, request and answer together.
    pub timeout: Duration,
    /// Answers longer than this are refused.
    pub max_answer_bytes: u64,
}

/// Why a call to a peer gave nothing usable; maps to the `unreachable` and `invalid`
/// statuses of `/nodes/resolve`. Always this node's own words (the status, the size, the
/// position of a JSON error), never text from the answer (SPEC §6c): an address may be
/// any service on the owner's network, and its answer is not ours to hand on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerError {
    /// No answer: refused, reset, timed out.
    Unreachable(String),
    /// An answer that cannot be used: HTTP error, not JSON, wrong types.
    Invalid(String),
    /// An answer over the size cap (a `/chain` page may be asked again, smaller).
    TooLarge(String),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::Unreachable(reason)
            | PeerError::Invalid(reason)
            | PeerError::TooLarge(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for PeerError {}

impl PeerClient {
    /// A client with SPEC's size cap.
    pub fn new(timeout: Duration) -> PeerClient {
        PeerClient {
            timeout,
            max_answer_bytes: MAX_ANSWER_BYTES,
        }
    }

    /// `GET url`, decoding a JSON answer into `T`.
    pub fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, PeerError> {
        self.get_sized(url).map(|(value, _)| value)
    }

    /// `GET url`, decoding a JSON answer into `T`, with the answer's size in bytes.
    pub fn get_sized<T: DeserializeOwned>(&self, url: &str) -> Result<(T, usize), PeerError> {
        let started = Instant::now();
        let answer = self
            .request(Method::GET, url)?
            .send()
            .map_err(|error| self.transport_error(&error, started))?;
        let body = self.read_body(answer, started)?;
        Ok((parse_json(&body)?, body.len()))
    }

    /// `GET url` for a person-facing client (the light client): any HTTP answer is a
    /// success here, returned as its status, its body (at most the size cap) and its size.
    pub fn get_answer(&self, url: &str) -> Result<(u16, Vec<u8>), PeerError> {
        let started = Instant::now();
        let answer = self
            .request(Method::GET, url)?
            .send()
            .map_err(|error| self.transport_error(&error, started))?;
        let (status, _headers, reader) = answer.split();
        let mut body = Vec::new();
        if let Err(error) = reader.take(self.max_answer_bytes).read_to_end(&mut body) {
            return Err(self.io_error(&error, started));
        }
        Ok((status.as_u16(), body))
    }

    /// `HEAD url`: the `Content-Length` a `GET` would answer, without its body (how the
    /// light client learns the size of a whole chain it never downloads).
    pub fn content_length(&self, url: &str) -> Result<u64, PeerError> {
        let started = Instant::now();
        let answer = self
            .request(Method::HEAD, url)?
            .send()
            .map_err(|error| self.transport_error(&error, started))?;
        if !answer.status().is_success() {
            return Err(PeerError::Invalid(format!(
                "answered HTTP {}",
                answer.status().as_u16()
            )));
        }
        answer
            .headers()
            .get("content-length")
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| PeerError::Invalid("answer has no Content-Length".into()))
    }

    /// `POST url` with a JSON body, decoding a JSON answer into `T`.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<T, PeerError> {
        let started = Instant::now();
        let body = serde_json::to_vec(body).expect("request bodies always serialise");
        let answer = self
            .request(Method::POST, url)?
            .header("Content-Type", "application/json")
            .bytes(body)
            .send()
            .map_err(|error| self.transport_error(&error, started))?;
        parse_json(&self.read_body(answer, started)?)
    }

    /// `POST url` with a JSON body and extra headers, for relay and announcements: any
    /// HTTP answer is a success here, returned as its status and its `error` text (if
    /// any), so the caller can tell a 409 (already known) from a 400 (refused).
    pub fn post_status<B: Serialize>(
        &self,
        url: &str,
        body: &B,
        headers: &[(&'static str, &str)],
    ) -> Result<(u16, Option<String>), PeerError> {
        let (status, text) = self.post_raw(url, body, headers, 64 * 1024)?;
        let detail = serde_json::from_slice::<serde_json::Value>(&text)
            .ok()
            .and_then(|json| json.get("error")?.as_str().map(str::to_string));
        Ok((status, detail))
    }

    /// `POST url` with a JSON body, for the command-line wallet: any HTTP answer is a
    /// success here, returned as its status and its JSON body (which a person reads).
    pub fn post_answer<B: Serialize>(
        &self,
        url: &str,
        body: &B,
    ) -> Result<(u16, serde_json::Value), PeerError> {
        let (status, text) = self.post_raw(url, body, &[], self.max_answer_bytes)?;
        Ok((status, parse_json(&text)?))
    }

    /// Sends a JSON `POST` and reads at most `cap` bytes of whatever it answers.
    fn post_raw<B: Serialize>(
        &self,
        url: &str,
        body: &B,
        headers: &[(&'static str, &str)],
        cap: u64,
    ) -> Result<(u16, Vec<u8>), PeerError> {
        let started = Instant::now();
        let body = serde_json::to_vec(body).expect("request bodies always serialise");
        let mut request = self
            .request(Method::POST, url)?
            .header("Content-Type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request
            .bytes(body)
            .send()
            .map_err(|error| self.transport_error(&error, started))?;
        let (status, _headers, reader) = answer.split();
        let mut text = Vec::new();
        if let Err(error) = reader.take(cap).read_to_end(&mut text) {
            return Err(self.io_error(&error, started));
        }
        Ok((status.as_u16(), text))
    }

    /// A request with our limits; an address attohttpc cannot parse is an error, not a panic.
    fn request(&self, method: Method, url: &str) -> Result<attohttpc::RequestBuilder, PeerError> {
        let request = attohttpc::RequestBuilder::try_new(method, url)
            .map_err(|error| PeerError::Unreachable(format!("bad address {url}: {error}")))?;
        Ok(request
            .connect_timeout(self.timeout)
            .read_timeout(self.timeout)
            .timeout(self.timeout)
            .follow_redirects(false)
            .proxy_settings(ProxySettings::builder().build()))
    }

    /// Reads a successful answer's body, at most `max_answer_bytes` of it.
    fn read_body(
        &self,
        answer: attohttpc::Response,
        started: Instant,
    ) -> Result<Vec<u8>, PeerError> {
        let (status, _headers, reader) = answer.split();
        let mut body = Vec::new();
        let read = reader
            .take(self.max_answer_bytes + 1)
            .read_to_end(&mut body);
        if let Err(error) = read {
            return Err(self.io_error(&error, started));
        }
        if body.len() as u64 > self.max_answer_bytes {
            return Err(PeerError::TooLarge(format!(
                "answer is larger than the {} MiB limit",
                self.max_answer_bytes / (1024 * 1024)
            )));
        }
        if !status.is_success() {
            return Err(PeerError::Invalid(format!(
                "answered HTTP {}",
                status.as_u16()
            )));
        }
        Ok(body)
    }

    fn transport_error(&self, error: &attohttpc::Error, started: Instant) -> PeerError {
        match error.kind() {
            ErrorKind::Io(io) => self.io_error(io, started),
            ErrorKind::ConnectError { .. } => {
                self.timeout_or(started, || "cannot connect".to_string())
            }
            ErrorKind::InvalidUrlHost | ErrorKind::InvalidUrlPort | ErrorKind::InvalidBaseUrl => {
                PeerError::Unreachable(format!("bad address: {error}"))
            }
            _ => PeerError::Invalid(format!("answer is not valid HTTP: {error}")),
        }
    }

    fn io_error(&self, error: &std::io::Error, started: Instant) -> PeerError {
        use std::io::ErrorKind as Io;
        match error.kind() {
            Io::TimedOut | Io::WouldBlock => self.timed_out(),
            Io::ConnectionRefused => PeerError::Unreachable("connection refused".into()),
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
                self.timeout_or(started, || format!("connection closed ({error})"))
            }
            _ => self.timeout_or(started, || format!("connection failed ({error})")),
        }
    }

    fn timeout_or(&self, started: Instant, otherwise: impl FnOnce() -> String) -> PeerError {
        if started.elapsed() >= self.timeout {
            self.timed_out()
        } else {
            PeerError::Unreachable(otherwise())
        }
    }

    fn timed_out(&self) -> PeerError {
        PeerError::Unreachable(format!("timed out after {} ms", self.timeout.as_millis()))
    }
}

/// Decodes an answer; an error says where and what kind, never the answer's own text
/// (serde's message quotes the values it met).
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, PeerError> {
    serde_json::from_slice(body).map_err(|error| {
        use serde_json::error::Category;
        let kind = match error.classify() {
            Category::Data => "a field is missing or has the wrong type",
            Category::Syntax => "not JSON",
            Category::Eof => "JSON cut short",
            Category::Io => "unreadable",
        };
        PeerError::Invalid(format!(
            "answer is not the expected JSON ({kind} at line {}, column {})",
            error.line(),
            error.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_never_quotes_the_answer() {
        let error = parse_json::<u64>(br#""S3CRET-value""#)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("S3CRET"), "{error}");
        assert!(error.contains("wrong type"), "{error}");
    }

    #[test]
    fn words_are_cut_to_one_short_line() {
        assert_eq!(cut_words("a\nb"), "a b");
        let long = "x".repeat(500);
        assert_eq!(cut_words(&long).chars().count(), PEER_WORDS + 1);
    }
}
