//! Reading a request at the edge: the JSON body (strict, capped) as its message type
//! (`wire::protocol`), and whole-number query parameters; each refusal says what to send
//! instead.

use crate::http::json::from_slice;
use crate::http::reply::{ApiError, MAX_BODY_BYTES};
use rouille::Request;
use serde::de::DeserializeOwned;
use std::io::Read;

/// Reads the body as the message `T` whatever its Content-Type (strict JSON, duplicate
/// keys refused), refusing more than 1 MiB.
pub(super) fn read_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    Ok(from_slice(&read_bytes(request)?)?)
}

/// The body's bytes, refusing more than 1 MiB.
pub(super) fn read_bytes(request: &Request) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    if let Some(data) = request.data() {
        data.take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|error| ApiError::BadRequest(format!("could not read the body: {error}")))?;
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge);
    }
    Ok(body)
}

/// A whole-number query parameter; any run of digits is a number, however long: past
/// `u64::MAX` it reads as `u64::MAX`, which every caller then cuts to its maximum.
pub(super) fn query_number(request: &Request, name: &str) -> Result<Option<u64>, ApiError> {
    match request.get_param(name) {
        None => Ok(None),
        Some(text) => {
            let digits = text.trim();
            match digits.parse::<u64>() {
                Ok(number) => Ok(Some(number)),
                Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Some(u64::MAX))
                }
                Err(_) => Err(ApiError::BadRequest(format!(
                    "query parameter {name} must be a whole number, got {text:?}"
                ))),
            }
        }
    }
}
