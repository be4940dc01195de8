//! `?brief=1`: answers for a person at a terminal. A signed payment carries about 5 KB
//! of signature hex, which buries what `/mine`, `/pool` or `/chain` shows; with `brief`
//! each `"signature"` is written as one short line naming its leaf and size, and each key
//! address (112 hex characters) as its short form, [`short_key`]. Peers, checkers and
//! scripts never ask for it, so what they get is unchanged.
//!
//! Signatures are shortened as a way of serialising the same typed answer
//! (`core::signed::with_short_signatures`), never by editing JSON text. Key addresses are
//! plain strings in every answer (senders, recipients, balance keys, the wallet), so for
//! them the written text is passed once more ([`shorten_keys`]).

use crate::core::signed::{Signature, with_short_signatures};
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

/// Runs `write` (the serialisation of an answer) with signatures in their brief form when
/// `brief` asks for any, whole otherwise.
pub fn written<R>(brief: Option<Brief>, write: impl FnOnce() -> R) -> R {
    match brief {
        Some(_) => with_short_signatures(summary, write),
        None => write(),
    }
}

/// The JSON text `write` makes, as `brief` asks: signatures by [`written`], and key
/// addresses too for [`Brief::All`].
pub fn answer_text(brief: Option<Brief>, write: impl FnOnce() -> String) -> String {
    let text = written(brief, write);
    match brief {
        Some(Brief::All) => shorten_keys(&text),
        _ => text,
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

/// Every JSON string that is a key address (a value or an object key), as [`short_key`]
/// writes it; everything else as it was, in the same order.
pub fn shorten_keys(json: &str) -> String {
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

/// `0000000300000003…9c1f2e0a (leaf 3, 2508 bytes; …)`: the leaf is the signature's first
/// 4 bytes (RFC 8554 §5.4, `q`). A signature too short to shorten is written whole.
fn summary(signature: &Signature) -> String {
    let hex = signature.to_hex();
    if hex.len() <= 2 * KEPT {
        return hex;
    }
    let leaf = signature
        .leaf()
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
    use crate::core::block::Transaction;
    use serde_json::Value;

    #[test]
    fn shortens_signatures_at_any_depth_and_nothing_else() {
        let mut tx = Transaction::new("k", "bob", 5, 1);
        let mut bytes = vec![0, 0, 0, 7];
        bytes.extend(std::iter::repeat_n(0xab, 1250));
        tx.signature = Some(Signature(bytes));
        let mut short = Transaction::new("k", "carol", 5, 1);
        short.signature = Some(Signature(vec![1, 2]));
        let text = written(Some(Brief::All), || serde_json::to_string(&tx).unwrap());
        let brief: Value = serde_json::from_str(&text).unwrap();
        let signature = brief["signature"].as_str().unwrap();
        assert!(signature.starts_with("00000007abababab…"), "{signature}");
        assert!(signature.contains("leaf 7, 1254 bytes"), "{signature}");
        assert_eq!(brief["recipient"], "bob");
        let short_text = written(Some(Brief::All), || serde_json::to_string(&short).unwrap());
        assert!(short_text.contains(r#""signature":"0102""#), "{short_text}");
        let whole = written(None, || serde_json::to_string(&tx).unwrap());
        assert_eq!(whole, serde_json::to_string(&tx).unwrap());
        assert!(
            !whole.contains('…'),
            "the whole form is back after a brief one"
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
        let signatures_only = answer_text(Some(Brief::Signatures), || answer.clone());
        assert!(
            signatures_only.contains(&key),
            "brief=signatures keeps keys whole"
        );
        let brief: Value =
            serde_json::from_str(&answer_text(Some(Brief::All), || answer.clone())).unwrap();
        assert_eq!(brief["sender"], short.as_str());
        assert_eq!(brief["recipient"], "alice");
        assert_eq!(brief["id"], "ab".repeat(32), "a hash is not a key");
        assert_eq!(brief["balances"][short.as_str()], 80);
        assert_eq!(short_key("alice"), "alice");
        let longer = format!("\"{key}0\"");
        assert_eq!(
            shorten_keys(&longer),
            longer,
            "113 hex characters are not a key"
        );
    }
}
