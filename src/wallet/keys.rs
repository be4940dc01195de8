//! Making a key and rebuilding one from its record: the one copy the node's wallet and
//! the wallet program share. A key's address is always recomputed from the key, never
//! trusted from the record.

use crate::core::hash::to_hex;
use crate::crypto::{LmsType, OtsType, PrivateKey, from_hex};
use crate::store::keyfile::KeyRecord;
use std::io::Read;

/// Fresh `I` (16 bytes) and `SEED` (32 bytes) for a new key, from `/dev/urandom`.
pub fn random_key_material() -> std::io::Result<([u8; 16], [u8; 32])> {
    let mut random = [0u8; 48];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let identifier = random[..16].try_into().expect("16 bytes");
    let seed = random[16..].try_into().expect("32 bytes");
    Ok((identifier, seed))
}

/// A new LMS key of tree `lms` type with LM-OTS W4, and the record that keeps it (next
/// leaf 0).
pub fn fresh_key(lms: LmsType) -> std::io::Result<(PrivateKey, KeyRecord)> {
    let (identifier, seed) = random_key_material()?;
    let key = PrivateKey::generate(lms, OtsType::W4, identifier, seed);
    let record = KeyRecord {
        lms_type: lms.typecode(),
        ots_type: OtsType::W4.typecode(),
        identifier: to_hex(&identifier),
        seed: to_hex(&seed),
        next_leaf: 0,
        address: to_hex(&key.public_key().to_bytes()),
    };
    Ok((key, record))
}

/// Which part of a key record is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DamagedKey(pub &'static str);

/// Rebuilds the private key a record describes, and the key address it really has.
pub fn rebuild(record: &KeyRecord) -> Result<(PrivateKey, String), DamagedKey> {
    let lms = LmsType::from_typecode(record.lms_type).ok_or(DamagedKey("LMS type"))?;
    let ots = OtsType::from_typecode(record.ots_type).ok_or(DamagedKey("LM-OTS type"))?;
    let identifier: [u8; 16] = from_hex(&record.identifier)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(DamagedKey("identifier"))?;
    let seed: [u8; 32] = from_hex(&record.seed)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(DamagedKey("seed"))?;
    let key = PrivateKey::generate(lms, ots, identifier, seed);
    let address = to_hex(&key.public_key().to_bytes());
    Ok((key, address))
}
