//! Fields of a request body read one by one, for the messages whose refusals say what to
//! send instead (`POST /transactions/new`, `/getdata`, `/nodes/register`): each message
//! of [`super::protocol`] is deserialised from a JSON object through these, so the
//! words a client reads are the same whichever route reads the message.

use crate::core::block::MAX_AMOUNT;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A JSON object's fields, as a request message reads them.
pub type Object = Map<String, Value>;

/// A JSON value's kind as a refusal names it (`a number`, `a list`).
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Refuses the first key of `object` not in `allowed`, with `hint` saying what to send.
pub fn only(object: &Object, allowed: &[&str], hint: &str) -> Result<(), String> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(unknown) => Err(format!("unknown field {unknown:?}; {hint}")),
        None => Ok(()),
    }
}

/// A payment's string field (`sender`, `recipient`).
pub fn payment_string(object: &mut Object, name: &str) -> Result<String, String> {
    match object.remove(name) {
        Some(Value::String(text)) => Ok(text),
        None => Err(format!(
            "missing field {name:?}; send sender, recipient and amount"
        )),
        Some(other) => Err(format!("{name} must be a string, got {}", kind_of(&other))),
    }
}

/// A payment's amount: a JSON number from 1 to [`MAX_AMOUNT`].
pub fn amount(object: &mut Object) -> Result<u64, String> {
    match object.remove("amount") {
        None => Err("missing field \"amount\"; send sender, recipient and amount".into()),
        Some(value) => match value.as_u64() {
            Some(amount) if (1..=MAX_AMOUNT).contains(&amount) => Ok(amount),
            _ => Err(format!(
                "amount must be an integer from 1 to {MAX_AMOUNT} (a JSON number, not a string), got {value}"
            )),
        },
    }
}

/// An optional field read as `T`, or the refusal `what` makes of the value (or, given
/// none, `name: <serde's words>`); `null` counts as absent when `null_is_absent`.
pub fn optional<T: for<'de> Deserialize<'de>>(
    object: &mut Object,
    name: &str,
    null_is_absent: bool,
    what: impl FnOnce(&Value) -> Option<String>,
) -> Result<Option<T>, String> {
    match object.remove(name) {
        None => Ok(None),
        Some(Value::Null) if null_is_absent => Ok(None),
        Some(value) => {
            if let Some(refusal) = what(&value) {
                return Err(refusal);
            }
            T::deserialize(value)
                .map(Some)
                .map_err(|error| format!("{name}: {error}"))
        }
    }
}
