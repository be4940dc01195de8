//! Answers whose list stops early (SPEC §6b "Pages stay under the caps"): a `/chain` page
//! or a `/getdata` answer ends after the item that takes it past [`MAX_PAGE_JSON_BYTES`]
//! (always at least one item), so an honest answer never nears a peer's 64 MiB cap.
//!
//! The answer is still one typed value ([`crate::wire::protocol::ChainPage`],
//! [`crate::wire::protocol::GetdataAnswer`]) serialised once: its list is a [`Capped`]
//! that reads how many bytes the writer has taken so far and stops there.

use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::cell::Cell;
use std::io;

pub use crate::wire::protocol::MAX_PAGE_JSON_BYTES;

/// How many bytes of an answer [`Written::to_json`] has written so far: what the
/// [`Capped`] lists in that answer read.
#[derive(Debug, Default)]
pub struct Written(Cell<usize>);

/// A list serialised up to the cap: items are written while the answer written so far is
/// at most `cap` bytes long, so the last one is the item that passed it.
pub struct Capped<'a, T> {
    items: &'a [T],
    written: &'a Written,
    cap: usize,
}

impl<'a, T> Capped<'a, T> {
    /// `items` capped at `cap` bytes of the answer that `written` counts.
    pub fn new(items: &'a [T], written: &'a Written, cap: usize) -> Capped<'a, T> {
        Capped {
            items,
            written,
            cap,
        }
    }
}

impl<T: Serialize> Serialize for Capped<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_seq(None)?;
        for (count, item) in self.items.iter().enumerate() {
            if count > 0 && self.written.0.get() > self.cap {
                break;
            }
            list.serialize_element(item)?;
        }
        list.end()
    }
}

impl Written {
    /// The JSON text of `answer`, whose [`Capped`] lists count on `self`: one
    /// serialisation, straight into the text.
    pub fn to_json<A: Serialize>(&self, answer: &A) -> String {
        self.0.set(0);
        let mut writer = Counting {
            text: Vec::new(),
            written: &self.0,
        };
        serde_json::to_writer(&mut writer, answer).expect("answers always serialise");
        String::from_utf8(writer.text).expect("serde_json writes UTF-8")
    }
}

/// The answer's text, counting its bytes for the [`Capped`] lists in it.
struct Counting<'a> {
    text: Vec<u8>,
    written: &'a Cell<usize>,
}

impl io::Write for Counting<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(bytes);
        self.written.set(self.text.len());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str], cap: usize) -> String {
        let written = Written::default();
        written.to_json(&Capped::new(items, &written, cap))
    }

    #[test]
    fn stops_after_the_item_that_passes_the_cap_and_keeps_at_least_one() {
        let items = ["aaaa", "bbbb", "cccc"];
        assert_eq!(list(&items, 1000), r#"["aaaa","bbbb","cccc"]"#);
        assert_eq!(list(&items, 8), r#"["aaaa","bbbb"]"#);
        assert_eq!(list(&items, 0), r#"["aaaa"]"#);
        assert_eq!(list(&[], 0), "[]");
    }

    #[test]
    fn counts_the_whole_answer_around_the_list() {
        #[derive(serde::Serialize)]
        struct Page<'a> {
            chain: Capped<'a, &'a str>,
            length: u64,
        }
        let items = ["aaaa", "bbbb", "cccc"];
        let written = Written::default();
        let text = written.to_json(&Page {
            chain: Capped::new(&items, &written, 17),
            length: 3,
        });
        // `{"chain":["aaaa"` is 16 bytes; `,"bbbb"` takes it past 17.
        assert_eq!(text, r#"{"chain":["aaaa","bbbb"],"length":3}"#);
    }
}
