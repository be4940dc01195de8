//! Reading a block's JSON (SPEC §3): a [`Header`]'s fields and the block's own in one
//! object, read as they come. The header's fields are read by `Header`'s own
//! `Deserialize` (they are written once, on `Header`); the block's own fields are taken
//! out of the stream on the way, so nothing is buffered (serde's `flatten` buffers the
//! header's values, at several times the cost of reading a small block). A compact block
//! (`wire::protocol`) and a header with its hash (`wire::lookup`) are read the same way,
//! each naming only its own fields ([`OwnFields`]). Writing needs no help: `#[serde(flatten)]`
//! writes the header's fields first, at no cost.

use crate::core::block::{Block, Header, Transaction};
use crate::core::hash::BlockHash;
use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor,
};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// The fields of an object besides its header's: each read when its key comes, then
/// put together with the header into the object.
pub trait OwnFields<'de>: Default {
    /// The object read: a block, a compact block, a header with its hash.
    type Object;
    /// What the object is called in serde's "invalid type" messages ("a block").
    const EXPECTING: &'static str;
    /// Reads the value of `key` if it is one of these fields (`Ok(false)` if it is not:
    /// then it belongs to the header, or is unknown).
    fn read<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
    /// The object from its header and these fields, once every key is read (a missing
    /// field is refused here).
    fn finish<E: de::Error>(self, header: Header) -> Result<Self::Object, E>;
}

/// Reads an object of a header's fields and `O`'s, in any order, refusing unknown,
/// repeated and missing ones: the whole of such an object's `Deserialize`.
pub fn deserialize_with_header<'de, D: Deserializer<'de>, O: OwnFields<'de>>(
    deserializer: D,
) -> Result<O::Object, D::Error> {
    deserializer.deserialize_map(WithHeader::<O>(PhantomData))
}

/// Reads an object's header through `Header`'s `Deserialize`, handing every other field
/// to `own` as it comes; a key neither knows is refused by the header's
/// `deny_unknown_fields`.
fn read_with_header<'de, A: MapAccess<'de>, O: OwnFields<'de>>(
    map: A,
    own: &mut O,
) -> Result<Header, A::Error> {
    Header::deserialize(HeaderView {
        map,
        own,
        lifetime: PhantomData,
    })
}

/// The visitor behind [`deserialize_with_header`].
struct WithHeader<O>(PhantomData<O>);

impl<'de, O: OwnFields<'de>> Visitor<'de> for WithHeader<O> {
    type Value = O::Object;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(O::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<O::Object, A::Error> {
        let mut own = O::default();
        let header = read_with_header(map, &mut own)?;
        own.finish(header)
    }
}

/// Reads the next value into `slot`, refusing a second one.
pub fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The value of a field that must be there.
pub fn required<T, E: de::Error>(value: Option<T>, name: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(name))
}

/// The object as the header's `Deserialize` sees it: only the keys `own` does not take.
struct HeaderView<'o, 'de, A, O> {
    map: A,
    own: &'o mut O,
    lifetime: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>, O: OwnFields<'de>> MapAccess<'de> for HeaderView<'_, 'de, A, O> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(Key(key)) = self.map.next_key()? {
            if !self.own.read(&key, &mut self.map)? {
                return match key {
                    Cow::Borrowed(key) => seed.deserialize(BorrowedStrDeserializer::new(key)),
                    Cow::Owned(key) => {
                        let key: StringDeserializer<A::Error> = key.into_deserializer();
                        seed.deserialize(key)
                    }
                }
                .map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

impl<'de, A: MapAccess<'de>, O: OwnFields<'de>> Deserializer<'de> for HeaderView<'_, 'de, A, O> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// A key as the input holds it: borrowed when it has no escapes, so reading a key
/// allocates nothing.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Takes a key borrowed if the input lends it, copied otherwise.
struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_string())))
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key)))
    }
}

/// A block's own fields: its hash and transactions.
#[derive(Default)]
struct BlockOwn {
    hash: Option<BlockHash>,
    transactions: Option<Vec<Transaction>>,
}

impl<'de> OwnFields<'de> for BlockOwn {
    type Object = Block;
    const EXPECTING: &'static str = "a block";

    fn read<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "hash" => once(&mut self.hash, "hash", map)?,
            "transactions" => once(&mut self.transactions, "transactions", map)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish<E: de::Error>(self, header: Header) -> Result<Block, E> {
        Ok(Block {
            header,
            hash: required(self.hash, "hash")?,
            transactions: required(self.transactions, "transactions")?,
        })
    }
}

impl<'de> Deserialize<'de> for Block {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Block, D::Error> {
        deserialize_with_header::<D, BlockOwn>(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use crate::core::block::{Block, genesis};

    #[test]
    fn reads_what_it_writes_and_refuses_unknown_repeated_and_missing_fields() {
        let block = genesis(8);
        let text = serde_json::to_string(&block).unwrap();
        assert_eq!(serde_json::from_str::<Block>(&text).unwrap(), block);
        let reordered = r#"{"transactions":[],"hash":"H","proof":0,"difficulty":8,"merkle_root":"Z","previous_hash":"Z","timestamp":0,"index":1}"#
            .replace('H', &block.hash.to_hex())
            .replace('Z', &"0".repeat(64));
        assert_eq!(serde_json::from_str::<Block>(&reordered).unwrap(), block);
        let mut value = serde_json::to_value(&block).unwrap();
        value["extra"] = 1.into();
        let error = serde_json::from_value::<Block>(value).unwrap_err();
        assert!(
            error.to_string().starts_with("unknown field `extra`"),
            "{error}"
        );
        for (twice, field) in [
            ("{\"index\":1,", "index"),
            ("\"transactions\":[]", "transactions"),
        ] {
            let doubled = text.replacen(
                twice,
                &format!(
                    "{twice}{}",
                    if field == "index" {
                        "\"index\":1,"
                    } else {
                        ",\"transactions\":[]"
                    }
                ),
                1,
            );
            let error = serde_json::from_str::<Block>(&doubled).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("duplicate field `{field}`")),
                "{error}"
            );
        }
        for field in ["\"proof\":0,", ",\"transactions\":[]"] {
            let missing = text.replacen(field, "", 1);
            let error = serde_json::from_str::<Block>(&missing).unwrap_err();
            assert!(error.to_string().starts_with("missing field"), "{error}");
        }
    }
}
