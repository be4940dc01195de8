//! `?brief=1`: answers for a person at a terminal. A signed payment carries about 5 KB
//! of signature hex, which buries what `/mine`, `/pool` or `/chain` shows; with `brief`
//! each `"signature"` becomes one short line naming its leaf and size. Peers, checkers
//! and scripts never ask for it, so what they get is unchanged.

use rouille::Request;
use serde_json::Value;

/// The hex characters of a signature's start and end kept in its brief form.
const KEPT: usize = 16;

/// Whether the request asks for brief answers (`brief`, `brief=1`, `brief=true`).
pub fn wanted(request: &Request) -> bool {
    request
        .get_param("brief")
        .is_some_and(|value| !matches!(value.as_str(), "0" | "false" | "no"))
}

/// The answer's JSON text with every long `"signature"` shortened; anything that is not
/// JSON is returned as it was.
pub fn shorten(json: &str) -> String {
    match serde_json::from_str::<Value>(json) {
        Ok(mut value) => {
            shorten_value(&mut value);
            serde_json::to_string(&value).unwrap_or_else(|_| json.to_string())
        }
        Err(_) => json.to_string(),
    }
}

fn shorten_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                match field {
                    Value::String(text) if key == "signature" && text.len() > 2 * KEPT => {
                        *text = summary(text);
                    }
                    other => shorten_value(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(shorten_value),
        _ => {}
    }
}

/// `0000000300000003…9c1f2e0a (leaf 3, 2508 bytes)`: the leaf is the signature's first 4
/// bytes (RFC 8554 §5.4, `q`).
fn summary(hex: &str) -> String {
    let leaf = hex
        .get(..8)
        .and_then(|q| u32::from_str_radix(q, 16).ok())
        .map_or_else(|| "?".to_string(), |q| q.to_string());
    format!(
        "{}…{} (leaf {leaf}, {} bytes; leave out ?brief for the whole signature)",
        &hex[..KEPT],
        &hex[hex.len() - 8..],
        hex.len() / 2
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_signatures_at_any_depth_and_nothing_else() {
        let signature = format!("00000007{}", "ab".repeat(1250));
        let answer = serde_json::json!({
            "message": "ok",
            "transactions": [{"id": "x", "sender": "k", "signature": signature}],
            "pool": [{"signature": "short"}],
        })
        .to_string();
        let brief: Value = serde_json::from_str(&shorten(&answer)).unwrap();
        let text = brief["transactions"][0]["signature"].as_str().unwrap();
        assert!(text.starts_with("00000007abababab…"), "{text}");
        assert!(text.contains("leaf 7, 1254 bytes"), "{text}");
        assert_eq!(brief["pool"][0]["signature"], "short");
        assert_eq!(brief["message"], "ok");
        assert_eq!(shorten("not json"), "not json");
    }
}
