//! JSON lists that stop early (SPEC §6b "Pages stay under the caps"): a `/chain` page or a
//! `/getdata` answer ends after the item that takes it past [`MAX_PAGE_JSON_BYTES`]
//! (always at least one item), so an honest answer never nears a peer's 64 MiB cap.

use serde::Serialize;

pub use crate::wire::protocol::MAX_PAGE_JSON_BYTES;

/// The JSON array text of `items` up to the cap, and how many went in.
pub fn json_list<T: Serialize>(items: impl IntoIterator<Item = T>, cap: usize) -> (String, usize) {
    let mut text = String::from("[");
    let mut count = 0;
    for item in items {
        if count > 0 {
            if text.len() > cap {
                break;
            }
            text.push(',');
        }
        text.push_str(&serde_json::to_string(&item).expect("answers always serialise"));
        count += 1;
    }
    text.push(']');
    (text, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_the_item_that_passes_the_cap_and_keeps_at_least_one() {
        let items = ["aaaa", "bbbb", "cccc"];
        assert_eq!(
            json_list(items, 1000),
            (r#"["aaaa","bbbb","cccc"]"#.into(), 3)
        );
        assert_eq!(json_list(items, 8), (r#"["aaaa","bbbb"]"#.into(), 2));
        assert_eq!(json_list(items, 0), (r#"["aaaa"]"#.into(), 1));
        assert_eq!(json_list(Vec::<u8>::new(), 0), ("[]".into(), 0));
    }
}
