//! The light client of SPEC §5b (Bitcoin whitepaper §8, Simplified Payment Verification):
//! `minichain wallet verify ID --node URL …` keeps only block headers, takes the chain
//! with the most work among the nodes it asks, and checks a payment's merkle branch
//! against that chain's header. It trusts no node: a node whose headers or branch fail is
//! named, and an honest one can still prove the payment.
//!
//! | file | job |
//! |---|---|
//! | `headers` | [`headers::HeaderChain`]: headers checked from genesis (link, difficulty, proof of work), the locator, the work |
//! | `verify` | the command: flags, the header cache, asking the nodes, checking the proof, the report |
//!
//! Floors: uses `core` (headers, merkle branches), `store` (the header cache file) and
//! `wire` (the HTTP client, the answers of §5b); nothing above.

pub mod headers;
pub mod verify;
