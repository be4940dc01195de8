//! `?brief=1`: answers for a person at a terminal. A signed payment carries about 5 KB
//! of signature hex, which buries what `/mine`, `/pool` or `/chain` shows; with `brief`
//! each `"signature"` is written as one short line naming its leaf and size. Peers,
//! checkers and scripts never ask for it, so what they get is unchanged. It is a way of
//! serialising the same typed answer (`core::signed::with_short_signatures`), not an edit
//! of JSON text.

use crate::core::signed::{Signature, with_short_signatures};
use rouille::Request;

/// The hex characters of a signature's start and end kept in its brief form.
const KEPT: usize = 16;

/// Whether the request asks for brief answers (`brief`, `brief=1`, `brief=true`).
pub fn wanted(request: &Request) -> bool {
    request
        .get_param("brief")
        .is_some_and(|value| !matches!(value.as_str(), "0" | "false" | "no"))
}

/// Runs `write` (the serialisation of an answer) with signatures in their brief form when
/// `brief`, whole otherwise.
pub fn written<R>(brief: bool, write: impl FnOnce() -> R) -> R {
    if brief {
        with_short_signatures(summary, write)
    } else {
        write()
    }
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
        let text = written(true, || serde_json::to_string(&tx).unwrap());
        let brief: Value = serde_json::from_str(&text).unwrap();
        let signature = brief["signature"].as_str().unwrap();
        assert!(signature.starts_with("00000007abababab…"), "{signature}");
        assert!(signature.contains("leaf 7, 1254 bytes"), "{signature}");
        assert_eq!(brief["recipient"], "bob");
        let short_text = written(true, || serde_json::to_string(&short).unwrap());
        assert!(short_text.contains(r#""signature":"0102""#), "{short_text}");
        let whole = written(false, || serde_json::to_string(&tx).unwrap());
        assert_eq!(whole, serde_json::to_string(&tx).unwrap());
        assert!(
            !whole.contains('…'),
            "the whole form is back after a brief one"
        );
    }
}
