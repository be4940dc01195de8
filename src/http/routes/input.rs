//! Reading a request at the edge: the JSON body (strict, capped) as its message type
//! (`wire::protocol`), and whole-number query parameters; each refusal says what to send
//! instead.

use crate::core::hash::BlockHash;
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

/// A page size of the SPEC §5b routes: `default` when left out, 400 outside 1..=`max`
/// (these routes are new, so a limit out of range is a mistake worth naming).
pub(super) fn query_limit(request: &Request, default: u64, max: u64) -> Result<u64, ApiError> {
    match query_number(request, "limit")? {
        None => Ok(default),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::BadRequest(format!(
            "query parameter limit must be from 1 to {max}, got {limit}"
        ))),
    }
}

/// `?locator=h1,h2,...` (SPEC §6): block hashes, tip first; empty when left out. At most
/// 1000 hashes; each must be 64 hex characters.
pub(super) fn query_locator(request: &Request) -> Result<Vec<BlockHash>, ApiError> {
    match request.get_param("locator") {
        None => Ok(Vec::new()),
        Some(text) if text.trim().is_empty() => Ok(Vec::new()),
        Some(text) => {
            let hashes: Result<Vec<BlockHash>, _> = text
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::parse)
                .collect();
            let hashes =
                hashes.map_err(|error| ApiError::BadRequest(format!("locator: {error}")))?;
            if hashes.len() > 1000 {
                return Err(ApiError::BadRequest(
                    "locator has more than 1000 hashes; send the tip, recent blocks and a few older ones".into(),
                ));
            }
            Ok(hashes)
        }
    }
}
