//! `?brief=1`: answers for a person at a terminal. A signed payment carries about 5 KB
//! of signature hex, which buries what `/mine`, `/pool` or `/chain` shows; with `brief`
//! each `"signature"` becomes one short line naming its leaf and size. Peers, checkers
//! and scripts never ask for it, so what they get is unchanged.

use rouille::Request;

/// The hex characters of a signature's start and end kept in its brief form.
const KEPT: usize = 16;

/// Whether the request asks for brief answers (`brief`, `brief=1`, `brief=true`).
pub fn wanted(request: &Request) -> bool {
    request
        .get_param("brief")
        .is_some_and(|value| !matches!(value.as_str(), "0" | "false" | "no"))
}

/// The answer's JSON text with every long `"signature"` shortened, everything else as
/// it was, in the same order. A signature is plain hex, so it is found and cut in the
/// text itself.
pub fn shorten(json: &str) -> String {
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
}
