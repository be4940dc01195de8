//! Hash-based signatures: LMS and LM-OTS (RFC 8554) on SHA-256 alone.
//!
//! A key address (SPEC §3a) is an LMS public key; a signed transaction carries an LMS
//! signature over `genesis hash ‖ id`. Verification follows RFC 8554 Algorithm 6 exactly,
//! for LMS types 5–9 and LM-OTS types 1–4; key generation and signing use the wallet
//! derivation of SPEC §3a (RFC 8554 Appendix A), so a signature is a function of the key,
//! the leaf and the message.
//!
//! **Invariant:** no I/O. Randomness (`I`, `SEED`) and the record of used leaves belong to
//! the caller (`wallet`, `store`); this module only computes.
//!
//! | file | job |
//! |---|---|
//! | `params` | typecodes, `w`, `p`, `ls`, heights, sizes |
//! | `lmots` | one-time signatures; the one-compression chain step |
//! | `lms` | public keys, Algorithm 6 verification, tree generation and signing |

pub mod lmots;
pub mod lms;
pub mod params;

pub use lms::{PrivateKey, PublicKey, SignError, VerifyError, signature_leaf};
pub use params::{LmsType, OtsType, lms_signature_len};

/// Parses lowercase or uppercase hex of any even length; `None` for anything else.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let high = (pair[0] as char).to_digit(16)?;
            let low = (pair[1] as char).to_digit(16)?;
            Some((high * 16 + low) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests;
