//! Known answers from outside this project, and the refusal of every single-bit flip.

use super::*;
use crate::core::hash::to_hex;
use serde_json::Value;

const RFC_VECTORS: &str = include_str!("../../tests/data/rfc8554-vectors.json");
const VECTORS: &str = include_str!("../../tests/data/vectors.json");

/// One (public key, message, signature) triple that must verify.
struct Case {
    name: String,
    key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
}

fn hex(value: &Value) -> Vec<u8> {
    from_hex(value.as_str().expect("hex string")).expect("valid hex")
}

fn rfc_cases() -> Vec<Case> {
    let vectors: Value = serde_json::from_str(RFC_VECTORS).unwrap();
    vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| Case {
            name: case["name"].as_str().unwrap().to_string(),
            key: hex(&case["public_key"]),
            message: hex(&case["message"]),
            signature: hex(&case["signature"]),
        })
        .collect()
}

fn signed_section() -> Value {
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    vectors["signed"].clone()
}

fn signed_cases() -> Vec<Case> {
    let signed = signed_section();
    signed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| Case {
            name: format!("signed leaf {}", entry["leaf"]),
            key: hex(&signed["address"]),
            message: hex(&entry["message_hex"]),
            signature: hex(&entry["transaction"]["signature"]),
        })
        .collect()
}

fn verify(key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    PublicKey::from_bytes(key)?.verify(message, signature)
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut flipped = bytes.to_vec();
    flipped[bit / 8] ^= 0x80 >> (bit % 8);
    flipped
}

#[test]
fn every_rfc8554_vector_verifies() {
    let cases = rfc_cases();
    assert_eq!(cases.len(), 4);
    for case in cases {
        assert_eq!(
            verify(&case.key, &case.message, &case.signature),
            Ok(()),
            "{}",
            case.name
        );
    }
}

#[test]
fn every_signed_vector_verifies() {
    for case in signed_cases() {
        assert_eq!(
            verify(&case.key, &case.message, &case.signature),
            Ok(()),
            "{}",
            case.name
        );
    }
}

#[test]
fn wallet_derivation_reproduces_the_signed_vectors() {
    let signed = signed_section();
    let identifier: [u8; 16] = hex(&signed["I"]).try_into().unwrap();
    let seed: [u8; 32] = hex(&signed["seed"]).try_into().unwrap();
    let lms = LmsType::from_typecode(signed["lms_type"].as_u64().unwrap() as u32).unwrap();
    let ots = OtsType::from_typecode(signed["lmots_type"].as_u64().unwrap() as u32).unwrap();
    let key = PrivateKey::generate(lms, ots, identifier, seed);
    assert_eq!(
        to_hex(&key.public_key().to_bytes()),
        signed["address"].as_str().unwrap()
    );
    for entry in signed["transactions"].as_array().unwrap() {
        let q = entry["leaf"].as_u64().unwrap() as u32;
        assert_eq!(
            to_hex(&lmots::derive(&identifier, q, lmots::D_RANDOMIZER, &seed)),
            entry["C"].as_str().unwrap()
        );
        let signature = key.sign(q, &hex(&entry["message_hex"])).unwrap();
        assert_eq!(
            to_hex(&signature),
            entry["transaction"]["signature"].as_str().unwrap()
        );
    }
}

/// Which signature bits the flip test tries: every bit of the header (`q`, the LM-OTS
/// typecode, `C`) and of the LMS typecode, and every [`SIGNATURE_STRIDE`]th bit elsewhere
/// (a stride coprime to 8 and 256, so every bit position of every byte and several bits of
/// every chain value and path node are hit). `MINICHAIN_ALL_FLIPS=1` tries every bit
/// (minutes in a debug build; it passes).
fn signature_bits(signature: &[u8]) -> Vec<usize> {
    let all = std::env::var("MINICHAIN_ALL_FLIPS").is_ok_and(|v| v == "1");
    let ots =
        OtsType::from_typecode(u32::from_be_bytes(signature[4..8].try_into().unwrap())).unwrap();
    let header_end = (8 + params::N) * 8;
    let lms_type = (4 + ots.signature_len()) * 8;
    (0..signature.len() * 8)
        .filter(|&bit| {
            all || bit < header_end
                || (lms_type..lms_type + 32).contains(&bit)
                || bit % SIGNATURE_STRIDE == 0
        })
        .collect()
}

/// See [`signature_bits`].
const SIGNATURE_STRIDE: usize = 53;

/// Flips every bit of key and message, and the bits of [`signature_bits`], of every vector;
/// each flip must fail.
#[test]
fn every_single_bit_flip_is_refused() {
    let mut checked = 0;
    for case in rfc_cases().into_iter().chain(signed_cases()) {
        for bit in 0..case.key.len() * 8 {
            let key = flip(&case.key, bit);
            assert!(
                verify(&key, &case.message, &case.signature).is_err(),
                "{}: key bit {bit}",
                case.name
            );
        }
        for bit in 0..case.message.len() * 8 {
            let message = flip(&case.message, bit);
            assert!(
                verify(&case.key, &message, &case.signature).is_err(),
                "{}: message bit {bit}",
                case.name
            );
        }
        for bit in signature_bits(&case.signature) {
            let signature = flip(&case.signature, bit);
            assert!(
                verify(&case.key, &case.message, &signature).is_err(),
                "{}: signature bit {bit}",
                case.name
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn malformed_keys_and_signatures_get_the_precise_reason() {
    let case = &signed_cases()[0];
    let key = PublicKey::from_bytes(&case.key).unwrap();
    assert_eq!(
        PublicKey::from_bytes(&case.key[..55]),
        Err(VerifyError::KeyLength { got: 55 })
    );
    let mut other = case.key.clone();
    other[3] = 4;
    assert_eq!(
        PublicKey::from_bytes(&other),
        Err(VerifyError::UnknownLmsType { typecode: 4 })
    );
    other[3] = 5;
    other[7] = 5;
    assert_eq!(
        PublicKey::from_bytes(&other),
        Err(VerifyError::UnknownOtsType { typecode: 5 })
    );
    let signature = &case.signature;
    assert_eq!(
        key.verify(&case.message, &signature[..7]),
        Err(VerifyError::SignatureTooShort { got: 7 })
    );
    let mut longer = signature.clone();
    longer.push(0);
    assert_eq!(
        key.verify(&case.message, &longer),
        Err(VerifyError::SignatureLength {
            expected: signature.len(),
            got: signature.len() + 1
        })
    );
    let mut wrong_ots = signature.clone();
    wrong_ots[7] = 4;
    assert_eq!(
        key.verify(&case.message, &wrong_ots),
        Err(VerifyError::OtsTypeMismatch {
            key: 3,
            signature: 4
        })
    );
    let mut wrong_leaf = signature.clone();
    wrong_leaf[3] = 32;
    assert_eq!(
        key.verify(&case.message, &wrong_leaf),
        Err(VerifyError::LeafOutOfRange { q: 32, leaves: 32 })
    );
    let lms_at = 4 + OtsType::W4.signature_len();
    let mut wrong_lms = signature.clone();
    wrong_lms[lms_at + 3] = 6;
    assert_eq!(
        key.verify(&case.message, &wrong_lms),
        Err(VerifyError::LmsTypeMismatch {
            key: 5,
            signature: 6
        })
    );
    assert_eq!(
        key.verify(b"another message", signature),
        Err(VerifyError::WrongRoot)
    );
}

#[test]
fn generated_keys_sign_and_verify_for_every_ots_type() {
    for ots in OtsType::ALL {
        let key = PrivateKey::generate(LmsType::H5, ots, [3; 16], [4; 32]);
        let public = key.public_key();
        for q in [0, 17, 31] {
            let signature = key.sign(q, b"message").unwrap();
            assert_eq!(signature.len(), lms_signature_len(LmsType::H5, ots));
            assert_eq!(signature_leaf(&signature), Some(q));
            assert_eq!(
                public.verify(b"message", &signature),
                Ok(()),
                "{ots} leaf {q}"
            );
        }
        assert_eq!(
            key.sign(32, b"message"),
            Err(SignError::LeafOutOfRange { q: 32, leaves: 32 })
        );
    }
}
