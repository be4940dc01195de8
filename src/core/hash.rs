//! 32-byte SHA-256 digests as typed values: [`BlockHash`] and [`TxId`] can never be mixed
//! up, and both travel as 64 lowercase hex characters.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Why a string is not a 64-character hex hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseHashError(String);

impl fmt::Display for ParseHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a hash: expected 64 hex characters",
            truncate_for_message(&self.0)
        )
    }
}

impl std::error::Error for ParseHashError {}

/// SHA-256 of `bytes`; the one hashing primitive everything else builds on.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// All zero bytes: the genesis block's parent, and the merkle root of no transactions.
            pub const ZERO: $name = $name([0; 32]);

            /// The raw 32 bytes, as they enter a header or a merkle pair.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Lowercase hex, the form used on the wire and in files.
            pub fn to_hex(&self) -> String {
                to_hex(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = ParseHashError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex32(s).map($name).ok_or_else(|| ParseHashError(s.to_string()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hash_newtype!(
    /// The hash of a block's 92-byte header; identifies a block.
    BlockHash
);
hash_newtype!(
    /// The hash of a transaction's canonical bytes; identifies a transaction.
    TxId
);
hash_newtype!(
    /// The merkle root over a block's transaction ids; commits the header to them.
    MerkleRoot
);
hash_newtype!(
    /// A hash inside a merkle tree: a transaction's leaf hash or the hash of a pair; what a
    /// merkle branch (SPEC §5b) is made of.
    MerkleNode
);

/// Lowercase hex of any bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[(byte >> 4) as usize] as char);
        text.push(DIGITS[(byte & 0x0f) as usize] as char);
    }
    text
}

/// Parses exactly 64 hex digits (either case) into 32 bytes.
fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let high = (pair[0] as char).to_digit(16)?;
        let low = (pair[1] as char).to_digit(16)?;
        out[i] = (high * 16 + low) as u8;
    }
    Some(out)
}

/// Keeps error messages short when a client sends a huge bogus value.
fn truncate_for_message(text: &str) -> String {
    if text.len() <= 80 {
        return text.to_string();
    }
    let mut end = 80;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let hash = BlockHash([0xab; 32]);
        assert_eq!(hash.to_hex(), "ab".repeat(32));
        assert_eq!(hash.to_hex().parse::<BlockHash>().unwrap(), hash);
        assert_eq!("AB".repeat(32).parse::<BlockHash>().unwrap(), hash);
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        assert!("abc".parse::<TxId>().is_err());
        assert!("zz".repeat(32).parse::<TxId>().is_err());
        assert!("é".repeat(32).parse::<TxId>().is_err());
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_answer() {
        assert_eq!(
            to_hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
