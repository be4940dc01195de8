//! `?brief=1`: answers for a person at a terminal. A signed payment carries about 5 KB
//! of signature hex, which buries what `/mine`, `/pool` or `/chain` shows; with `brief`
//! each `"signature"` becomes one short line naming its leaf and size, and each key
//! address (112 hex characters) its short form, [`short_key`]. Peers, checkers and
//! scripts never ask for it, so what they get is unchanged.

use rouille::Request;

/// The hex characters of a signature's start and end kept in its brief form.
const KEPT: usize = 16;

/// How much a brief answer shortens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brief {
    /// `?brief=signatures`: signatures only, key addresses whole (the explorer page reads
    /// the chain so: it labels and compares whole keys).
    Signatures,
    /// `?brief=1` (any other value): signatures and key addresses, for a person.
    All,
}

/// Whether the request asks for brief answers (`brief`, `brief=1`, `brief=true`, or
/// `brief=signatures`), and which.
pub fn wanted(request: &Request) -> Option<Brief> {
    match request.get_param("brief")?.as_str() {
        "0" | "false" | "no" => None,
        "signatures" => Some(Brief::Signatures),
        _ => Some(Brief::All),
    }
}

/// The answer shortened as `brief` asks.
pub fn shorten_for(json: &str, brief: Brief) -> String {
    match brief {
        Brief::Signatures => shorten_signatures(json),
        Brief::All => shorten(json),
    }
}

/// Hex characters of a key address: an LMS public key of 56 bytes (SPEC §3a).
const KEY_HEX: usize = 112;

/// A key address as a person reads it: the 8 hex digits after the 16 that every key of
/// its tree height shares, and its last 6 (`763e1783…30c00e`), as the explorer page
/// shows it; anything else is returned as it is. For `?brief=1` and the log.
pub fn short_key(address: &str) -> String {
    if is_key(address) {
        format!("{}…{}", &address[16..24], &address[KEY_HEX - 6..])
    } else {
        address.to_string()
    }
}

/// Whether `text` is a key address: exactly 112 lowercase hex characters.
fn is_key(text: &str) -> bool {
    text.len() == KEY_HEX && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The answer's JSON text with every long `"signature"` and every key address (a string
/// value or an object key) shortened, everything else as it was, in the same order. Both
/// are plain hex, so they are found and cut in the text itself.
pub fn shorten(json: &str) -> String {
    shorten_keys(&shorten_signatures(json))
}

/// Every JSON string that is a key address, as [`short_key`] writes it.
fn shorten_keys(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(at) = rest.find('"') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let candidate = rest.get(..KEY_HEX).filter(|text| is_key(text));
        match candidate {
            Some(key) if rest[KEY_HEX..].starts_with('"') => {
                out.push_str(&short_key(key));
                out.push('"');
                rest = &rest[KEY_HEX + 1..];
            }
            _ => {}
        }
    }
    out.push_str(rest);
    out
}

/// Every long `"signature"` as one line: its start and end, leaf and size.
fn shorten_signatures(json: &str) -> String {
    const KEY: &str = "\"signature\":\"";
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(at) = rest.find(KEY) {
        let value_start = at + KEY.len();
        out.push_str(&rest[..value_start]);
        rest = &rest[value_start..];
        let end = rest.find('"').unwrap_or(rest.len());
        let value = &rest[..end];
        if value.len() > 2 * KEPT && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push_str(&summary(value));
        } else {
            out.push_str(value);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
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
    use serde_json::Value;

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
        let unsorted = format!(r#"{{"z":1,"signature":"{signature}","a":2}}"#);
        let shortened = shorten(&unsorted);
        assert!(
            shortened.starts_with(r#"{"z":1,"signature":"00000007abababab…"#),
            "{shortened}"
        );
        assert!(
            shortened.ends_with(r#"","a":2}"#),
            "the order and the rest are kept"
        );
    }

    #[test]
    fn shortens_key_addresses_as_values_and_keys_and_nothing_shorter() {
        let key = format!("0000000600000003763e1783{}30c00e", "a".repeat(82));
        assert_eq!(key.len(), 112);
        let short = short_key(&key);
        assert_eq!(short, "763e1783…30c00e");
        let answer = serde_json::json!({
            "sender": key,
            "recipient": "alice",
            "id": "ab".repeat(32),
            "balances": { key.clone(): 80, "alice": 20 },
        })
        .to_string();
        let signatures_only = shorten_for(&answer, Brief::Signatures);
        assert!(
            signatures_only.contains(&key),
            "brief=signatures keeps keys whole"
        );
        let brief: Value = serde_json::from_str(&shorten_for(&answer, Brief::All)).unwrap();
        assert_eq!(brief["sender"], short.as_str());
        assert_eq!(brief["recipient"], "alice");
        assert_eq!(brief["id"], "ab".repeat(32), "a hash is not a key");
        assert_eq!(brief["balances"][short.as_str()], 80);
        assert_eq!(short_key("alice"), "alice");
        let longer = format!("\"{key}0\"");
        assert_eq!(shorten(&longer), longer, "113 hex characters are not a key");
    }
}
