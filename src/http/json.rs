//! Strict JSON for request bodies: [`from_slice`] reads a body as its message type, like
//! `serde_json::from_slice::<T>`, but an object that names a key twice is refused instead
//! of silently keeping the last value (`{"amount":1,"amount":7}` must not be read as 7).

use crate::wire::fields::kind_of;
use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Why a request body is not the message its route takes; each says what to send.
#[derive(Debug)]
pub enum BodyError {
    /// Nothing but whitespace.
    Empty,
    /// Not JSON at all.
    Syntax(serde_json::Error),
    /// JSON that names a key twice.
    DuplicateKey(serde_json::Error),
    /// JSON, but not an object (its kind).
    NotAnObject(&'static str),
    /// An object, but not the message: a field is missing, unknown or of the wrong kind
    /// (the message type's own words).
    Fields(serde_json::Error),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Empty => f.write_str("the body is empty; send a JSON object"),
            BodyError::Syntax(error) => write!(f, "the body is not valid JSON ({error})"),
            BodyError::DuplicateKey(error) => write!(f, "the body is refused: {error}"),
            BodyError::NotAnObject(kind) => {
                write!(f, "the body must be a JSON object, got {kind}")
            }
            BodyError::Fields(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for BodyError {}

/// Reads `bytes` as a JSON object of type `T`, refusing duplicate keys at any depth.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError::Empty);
    }
    let value = match parse_strict(bytes) {
        Ok(value @ Value::Object(_)) => value,
        Ok(other) => return Err(BodyError::NotAnObject(kind_of(&other))),
        Err(error) if error.is_data() => return Err(BodyError::DuplicateKey(error)),
        Err(error) => return Err(BodyError::Syntax(error)),
    };
    T::deserialize(value).map_err(BodyError::Fields)
}

/// Parses `bytes` as one JSON value, refusing duplicate keys at any depth; the error
/// says which key (and where) in serde_json's words.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Builds a [`Value`] like serde_json's own, checking each object's keys as they come.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {key:?}; name each field once"
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Lets `serde_json::from_*` callers ask for a strict value by type.
impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        StrictValue.deserialize(deserializer).map(Strict)
    }
}

/// A [`Value`] read with duplicate keys refused; use it as a field type or with
/// `serde_json::from_slice::<Strict>` where a typed target is handier than
/// [`parse_strict`].
#[derive(Clone, Debug, PartialEq)]
pub struct Strict(pub Value);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_serde_json_reads() {
        let text = br#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": 18446744073709551615}"#;
        assert_eq!(
            parse_strict(text).unwrap(),
            serde_json::from_slice::<Value>(text).unwrap()
        );
        assert_eq!(parse_strict(b" 7 ").unwrap(), json!(7));
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        for text in [
            &br#"{"amount": 1, "amount": 7}"#[..],
            br#"{"a": {"b": 1, "b": 1}}"#,
            br#"[{"x": 1}, {"y": 1, "y": 2}]"#,
        ] {
            let error = parse_strict(text).unwrap_err().to_string();
            assert!(error.contains("duplicate key"), "{error}");
        }
        let error = serde_json::from_slice::<Strict>(br#"{"k":1,"k":2}"#).unwrap_err();
        assert!(error.to_string().contains("\"k\""), "{error}");
    }

    #[test]
    fn refuses_trailing_garbage() {
        assert!(parse_strict(br#"{"a": 1} x"#).is_err());
    }
}
