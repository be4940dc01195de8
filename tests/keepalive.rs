//! A keep-alive HTTP/1.1 client on a bare `TcpStream`, for tests and benchmarks that send
//! thousands of requests: one connection per client thread, no new connection per request.
//! Shared by `tests/ingest.rs` and `tests/benches/ingest.rs` (`#[path]`).

#![allow(dead_code)] // each user takes a different subset

use serde_json::Value;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One open connection to a node.
pub struct Connection {
    port: u16,
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `127.0.0.1:port`.
    pub fn open(port: u16) -> io::Result<Connection> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Connection {
            port,
            reader: BufReader::new(stream),
        })
    }

    /// Sends one request and reads the answer: status and body.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> io::Result<(u16, Vec<u8>)> {
        let body = body.unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(body);
        self.reader.get_mut().write_all(&message)?;
        self.read_answer()
    }

    /// POST with a JSON body; the answer as JSON.
    pub fn post(&mut self, path: &str, body: &Value) -> io::Result<(u16, Value)> {
        let bytes = serde_json::to_vec(body).expect("JSON serialises");
        let (status, answer) = self.request("POST", path, Some(&bytes))?;
        Ok((status, parse(&answer)?))
    }

    /// GET; the answer as JSON.
    pub fn get(&mut self, path: &str) -> io::Result<(u16, Value)> {
        let (status, answer) = self.request("GET", path, None)?;
        Ok((status, parse(&answer)?))
    }

    fn read_answer(&mut self) -> io::Result<(u16, Vec<u8>)> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding")
                    && value.eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16)
                    .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                line.clear();
                self.reader.read_line(&mut line)?;
                if size == 0 {
                    break;
                }
            }
        } else {
            body.resize(length.unwrap_or(0), 0);
            self.reader.read_exact(&mut body)?;
        }
        Ok((status, body))
    }
}

fn parse(body: &[u8]) -> io::Result<Value> {
    serde_json::from_slice(body).map_err(|error| {
        io::Error::other(format!(
            "answer is not JSON ({error}): {}",
            String::from_utf8_lossy(body)
        ))
    })
}
