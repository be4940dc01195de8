//! The parameter sets of RFC 8554 §4.1 and §5.1 this crate speaks: LMS types 5–9
//! (SHA-256, m = 32, tree heights 5…25) and LM-OTS types 1–4 (SHA-256, n = 32, Winternitz
//! widths 1, 2, 4, 8), with their typecodes and the derived `p` and `ls` values.

use std::fmt;

/// Bytes in every hash value: n = m = 32 for all the SHA-256 parameter sets.
pub const N: usize = 32;

/// An LMS tree parameter set (RFC 8554 Table 2, SHA-256 with m = 32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LmsType {
    /// LMS_SHA256_M32_H5, typecode 5: 32 leaves.
    H5,
    /// LMS_SHA256_M32_H10, typecode 6: 1,024 leaves.
    H10,
    /// LMS_SHA256_M32_H15, typecode 7: 32,768 leaves.
    H15,
    /// LMS_SHA256_M32_H20, typecode 8: 2^20 leaves (verification only in practice).
    H20,
    /// LMS_SHA256_M32_H25, typecode 9: 2^25 leaves (verification only in practice).
    H25,
}

impl LmsType {
    /// Every supported type, by typecode.
    pub const ALL: [LmsType; 5] = [
        LmsType::H5,
        LmsType::H10,
        LmsType::H15,
        LmsType::H20,
        LmsType::H25,
    ];

    /// The RFC 8554 typecode (5–9).
    pub fn typecode(self) -> u32 {
        match self {
            LmsType::H5 => 5,
            LmsType::H10 => 6,
            LmsType::H15 => 7,
            LmsType::H20 => 8,
            LmsType::H25 => 9,
        }
    }

    /// The type for a typecode, or `None` when it is not one of 5–9.
    pub fn from_typecode(code: u32) -> Option<LmsType> {
        Self::ALL.into_iter().find(|t| t.typecode() == code)
    }

    /// The type for a tree height (5, 10, 15, 20, 25).
    pub fn from_height(height: u32) -> Option<LmsType> {
        Self::ALL.into_iter().find(|t| t.height() == height)
    }

    /// Tree height `h`: the key has 2^h leaves and a signature carries h path nodes.
    pub fn height(self) -> u32 {
        5 * (self.typecode() - 4)
    }

    /// Number of leaves (one-time keys), 2^h.
    pub fn leaves(self) -> u64 {
        1u64 << self.height()
    }
}

impl fmt::Display for LmsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LMS_SHA256_M32_H{}", self.height())
    }
}

/// An LM-OTS one-time signature parameter set (RFC 8554 Table 1, SHA-256 with n = 32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OtsType {
    /// LMOTS_SHA256_N32_W1, typecode 1.
    W1,
    /// LMOTS_SHA256_N32_W2, typecode 2.
    W2,
    /// LMOTS_SHA256_N32_W4, typecode 3 (the wallet's default).
    W4,
    /// LMOTS_SHA256_N32_W8, typecode 4.
    W8,
}

impl OtsType {
    /// Every supported type, by typecode.
    pub const ALL: [OtsType; 4] = [OtsType::W1, OtsType::W2, OtsType::W4, OtsType::W8];

    /// The RFC 8554 typecode (1–4).
    pub fn typecode(self) -> u32 {
        match self {
            OtsType::W1 => 1,
            OtsType::W2 => 2,
            OtsType::W4 => 3,
            OtsType::W8 => 4,
        }
    }

    /// The type for a typecode, or `None` when it is not one of 1–4.
    pub fn from_typecode(code: u32) -> Option<OtsType> {
        Self::ALL.into_iter().find(|t| t.typecode() == code)
    }

    /// Winternitz width `w` in bits: each chain is 2^w − 1 hashes long.
    pub fn w(self) -> u32 {
        match self {
            OtsType::W1 => 1,
            OtsType::W2 => 2,
            OtsType::W4 => 4,
            OtsType::W8 => 8,
        }
    }

    /// Number of chains `p` (message digits plus checksum digits), RFC 8554 Table 1.
    pub fn p(self) -> usize {
        match self {
            OtsType::W1 => 265,
            OtsType::W2 => 133,
            OtsType::W4 => 67,
            OtsType::W8 => 34,
        }
    }

    /// Left shift `ls` that places the checksum in the top bits of its 16-bit field.
    pub fn ls(self) -> u32 {
        match self {
            OtsType::W1 => 7,
            OtsType::W2 => 6,
            OtsType::W4 => 4,
            OtsType::W8 => 0,
        }
    }

    /// The last value a chain can reach, 2^w − 1.
    pub fn max_digit(self) -> u32 {
        (1 << self.w()) - 1
    }

    /// Bytes of an LM-OTS signature: typecode, C and p chain values.
    pub fn signature_len(self) -> usize {
        4 + N * (self.p() + 1)
    }
}

impl fmt::Display for OtsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LMOTS_SHA256_N32_W{}", self.w())
    }
}

/// Bytes of a whole LMS signature: q, the LM-OTS signature, the LMS typecode and h path nodes.
pub fn lms_signature_len(lms: LmsType, ots: OtsType) -> usize {
    4 + ots.signature_len() + 4 + N * lms.height() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_and_ls_follow_rfc8554_appendix_b() {
        // p = u + v with u = ceil(8n/w), v = ceil((floor(log2((2^w-1)u))+1)/w), ls = 16 - v*w.
        for ots in OtsType::ALL {
            let w = ots.w() as usize;
            let u = (8 * N).div_ceil(w);
            let max_sum = ((1usize << w) - 1) * u;
            let bits = usize::BITS - max_sum.leading_zeros();
            let v = (bits as usize).div_ceil(w);
            assert_eq!(ots.p(), u + v, "{ots}");
            assert_eq!(ots.ls() as usize, 16 - v * w, "{ots}");
        }
    }

    #[test]
    fn typecodes_round_trip_and_default_sizes_match_the_spec() {
        for lms in LmsType::ALL {
            assert_eq!(LmsType::from_typecode(lms.typecode()), Some(lms));
        }
        assert_eq!(LmsType::from_typecode(4), None);
        assert_eq!(OtsType::from_typecode(5), None);
        assert_eq!(lms_signature_len(LmsType::H10, OtsType::W4), 2508);
    }
}
