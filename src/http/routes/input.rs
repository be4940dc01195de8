//! Reading a request at the edge: the JSON body (strict, capped) and its fields, and
//! whole-number query parameters; each refusal says what to send instead.

use crate::core::hash::BlockHash;
use crate::http::reply::{ApiError, MAX_BODY_BYTES};
use rouille::Request;
use serde_json::{Map, Value};
use std::io::Read;

/// Reads the body as JSON whatever its Content-Type, refusing more than 1 MiB.
pub(super) fn read_json_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    let mut body = Vec::new();
    if let Some(data) = request.data() {
        data.take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|error| ApiError::BadRequest(format!("could not read the body: {error}")))?;
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "the body is empty; send a JSON object".into(),
        ));
    }
    match crate::http::json::parse_strict(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::BadRequest(format!(
            "the body must be a JSON object, got {}",
            kind_of(&other)
        ))),
        Err(error) if error.is_data() => Err(ApiError::BadRequest(format!(
            "the body is refused: {error}"
        ))),
        Err(error) => Err(ApiError::BadRequest(format!(
            "the body is not valid JSON ({error})"
        ))),
    }
}

pub(super) fn node_list(body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let example = r#"send {"nodes": ["http://127.0.0.1:5001"]}"#;
    let Some(value) = body.get("nodes") else {
        return Err(ApiError::BadRequest(format!(
            "missing field \"nodes\"; {example}"
        )));
    };
    let Some(list) = value.as_array() else {
        return Err(ApiError::BadRequest(format!(
            "\"nodes\" must be a list of addresses; {example}"
        )));
    };
    if list.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "\"nodes\" is empty; {example}"
        )));
    }
    list.iter()
        .map(|item| {
            item.as_str().map(str::to_string).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "every entry of \"nodes\" must be a string, got {item}"
                ))
            })
        })
        .collect()
}

pub(super) fn string_field(body: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    match body.get(name) {
        Some(Value::String(text)) => Ok(text.clone()),
        None => Err(ApiError::BadRequest(format!(
            "missing field {name:?}; send sender, recipient and amount"
        ))),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{name} must be a string, got {}",
            kind_of(other)
        ))),
    }
}

pub(super) fn amount_field(body: &Map<String, Value>) -> Result<u64, ApiError> {
    let max = crate::core::block::MAX_AMOUNT;
    match body.get("amount") {
        None => Err(ApiError::BadRequest(
            "missing field \"amount\"; send sender, recipient and amount".into(),
        )),
        Some(value) => match value.as_u64() {
            Some(amount) if (1..=max).contains(&amount) => Ok(amount),
            _ => Err(ApiError::BadRequest(format!(
                "amount must be an integer from 1 to {max} (a JSON number, not a string), got {value}"
            ))),
        },
    }
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

pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
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
