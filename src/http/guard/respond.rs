//! Writing a route's answer to the client: rouille builds the [`Response`], the front
//! writes it as HTTP/1.1 itself (status line, the route's fields, a `Content-Length`,
//! our own `Connection`), so no second server sits between the socket and the routes.

use rouille::Response;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// Answers up to this size are written in one piece: a client never sees a head whose
/// body the process did not live to send (`kill -9` between the two).
pub const WHOLE_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// Copy buffer for the body of a larger answer.
const COPY_CHUNK: usize = 64 * 1024;

/// Fields rouille leaves to the transport (see [`Response::headers`]); the front writes
/// its own `Content-Length` and `Connection`.
const TRANSPORT_FIELDS: [&str; 7] = [
    "Accept-Ranges",
    "Connection",
    "Content-Length",
    "Content-Range",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
];

/// Writes `response` to `client`. `head_only`: the request was a `HEAD`, so the body is
/// left out (its length still announced). `connection`: the `Connection` field to send,
/// if any. Returns whether the connection can carry another request.
pub fn write_response(
    client: &mut TcpStream,
    response: Response,
    head_only: bool,
    connection: Option<&str>,
    deadline: Instant,
) -> io::Result<bool> {
    let status = response.status_code;
    let (mut body, length) = response.data.into_reader_and_size();
    let no_body = matches!(status, 100..=199 | 204 | 304);
    // Every answer the routes build has a known length; an unknown one is read whole.
    let mut unsized_body = Vec::new();
    let length = match length {
        Some(length) => length,
        None => {
            body.read_to_end(&mut unsized_body)?;
            body = Box::new(io::empty());
            unsized_body.len()
        }
    };

    let mut out = Vec::with_capacity(256 + length.min(WHOLE_ANSWER_BYTES));
    write!(out, "HTTP/1.1 {status} {}\r\n", reason(status))?;
    for (name, value) in &response.headers {
        if TRANSPORT_FIELDS
            .iter()
            .any(|field| name.eq_ignore_ascii_case(field))
        {
            continue;
        }
        write!(out, "{name}: {value}\r\n")?;
    }
    if !no_body {
        write!(out, "Content-Length: {length}\r\n")?;
    }
    if let Some(value) = connection {
        write!(out, "Connection: {value}\r\n")?;
    }
    out.extend_from_slice(b"\r\n");

    if head_only || no_body {
        write_by(client, &out, deadline)?;
    } else if !unsized_body.is_empty() || length <= WHOLE_ANSWER_BYTES {
        out.extend_from_slice(&unsized_body);
        let start = out.len();
        out.resize(start + length - unsized_body.len(), 0);
        body.read_exact(&mut out[start..])?;
        write_by(client, &out, deadline)?;
    } else {
        write_by(client, &out, deadline)?;
        drop(out);
        let mut left = length;
        let mut chunk = vec![0u8; COPY_CHUNK];
        while left > 0 {
            let n = body.read(&mut chunk[..left.min(COPY_CHUNK)])?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            write_by(client, &chunk[..n], deadline)?;
            left -= n;
        }
    }
    Ok(connection != Some("close"))
}

/// Writes all of `bytes`, as `write_all` does (each call hands the kernel what it takes),
/// but gives up at `deadline`: a client that reads an answer a trickle at a time holds
/// its connection thread no longer than that (the socket's write timeout bounds each
/// call; this bounds the whole answer).
fn write_by(client: &mut TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read the answer in time",
            ));
        }
        match client.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// The reason phrase of every status a node answers.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Writes `response` through a real socket pair and returns what the client read.
    fn written(response: Response, head_only: bool, connection: Option<&str>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut reader = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut writer, _) = listener.accept().unwrap();
        let connection = connection.map(str::to_string);
        // Written on its own thread: a large answer fills the socket before it is read.
        let writing = std::thread::spawn(move || {
            let deadline = Instant::now() + std::time::Duration::from_secs(30);
            write_response(
                &mut writer,
                response,
                head_only,
                connection.as_deref(),
                deadline,
            )
            .unwrap();
        });
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        writing.join().unwrap();
        text
    }

    #[test]
    fn writes_status_fields_length_and_body_in_order() {
        let response = Response::from_data("application/json", "{\"a\":1}")
            .with_status_code(201)
            .with_additional_header("Allow", "GET");
        let text = written(response, false, None);
        assert!(text.starts_with("HTTP/1.1 201 Created\r\n"), "{text}");
        assert!(text.contains("Content-Type: application/json\r\n"));
        assert!(text.contains("Allow: GET\r\n"));
        assert!(
            text.ends_with("Content-Length: 7\r\n\r\n{\"a\":1}"),
            "{text}"
        );
    }

    #[test]
    fn head_announces_the_length_without_the_body() {
        let response = Response::from_data("application/json", "{\"a\":1}");
        let text = written(response, true, Some("close"));
        assert!(
            text.ends_with("Content-Length: 7\r\nConnection: close\r\n\r\n"),
            "{text}"
        );
    }

    #[test]
    fn no_content_has_no_length_and_transport_fields_are_ours() {
        let response = Response::empty_204()
            .with_additional_header("Connection", "upgrade")
            .with_additional_header("Content-Length", "99");
        let text = written(response, false, Some("keep-alive"));
        assert_eq!(
            text,
            "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn a_client_reading_a_trickle_is_given_up_on_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut reader = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut writer, _) = listener.accept().unwrap();
        writer
            .set_write_timeout(Some(std::time::Duration::from_secs(1)))
            .unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let trickle = std::thread::spawn(move || {
            let mut byte = [0u8; 1024];
            while !stopped.load(std::sync::atomic::Ordering::SeqCst)
                && reader.read(&mut byte).unwrap_or(0) > 0
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        let started = Instant::now();
        let body = "x".repeat(64 * 1024 * 1024);
        let deadline = started + std::time::Duration::from_millis(500);
        let result = write_response(&mut writer, Response::text(body), false, None, deadline);
        assert!(
            result.is_err(),
            "a 64 MiB answer cannot reach a trickle reader in time"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "given up after {:?}",
            started.elapsed()
        );
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        drop(writer);
        trickle.join().unwrap();
    }

    #[test]
    fn large_answers_are_streamed_whole() {
        let body = "x".repeat(WHOLE_ANSWER_BYTES + 10);
        let text = written(Response::text(body.clone()), false, None);
        assert!(text.ends_with(&body));
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
