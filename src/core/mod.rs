//! The pure core: hashes, blocks, proof of work, the ledger, the chain rules and the pool.
//!
//! **Invariant:** nothing under `core` does I/O — no HTTP, no disk, no clock. Callers pass
//! `now`, so every consensus rule is a fast unit test.

pub mod block;
pub mod chain;
pub mod hash;
pub mod header_json;
pub mod index;
pub mod ledger;
pub mod merkle;
pub mod pool;
pub mod pow;
pub mod signature_rule;
pub mod signed;

/// `impl From<Inner> for Outer` for each `Variant(Inner)` listed: an error enum that wraps
/// the errors of the parts below it says so once, and `?` converts.
macro_rules! error_from {
    ($outer:ident { $($variant:ident($inner:ty)),+ $(,)? }) => {
        $(
            impl From<$inner> for $outer {
                fn from(error: $inner) -> $outer {
                    $outer::$variant(error)
                }
            }
        )+
    };
}
pub(crate) use error_from;
