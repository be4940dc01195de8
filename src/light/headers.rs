//! A checked chain of headers from the genesis that `--difficulty` gives (SPEC §5b): what
//! a light client keeps instead of blocks. Every header is checked against the one before
//! it (index, link, the network's difficulty, its hash recomputed, proof of work,
//! timestamp), so a chain of headers proves the work behind it without a single
//! transaction.

use crate::core::block::{Header, genesis};
use crate::core::chain::{MAX_FUTURE_MS, locator_indexes};
use crate::core::hash::BlockHash;
use crate::core::pow::{leading_zero_bits, meets_difficulty};
use crate::wire::lookup::HeaderJson;
use std::collections::HashMap;
use std::fmt;

/// Headers from genesis, each checked against the one before.
#[derive(Clone, Debug)]
pub struct HeaderChain {
    /// The network's difficulty: every header carries it.
    difficulty: u32,
    /// `headers[i]` has index `i + 1`; never empty (genesis first).
    headers: Vec<Header>,
    /// The computed hash of each header, in the same order.
    hashes: Vec<BlockHash>,
    /// Index of every header by hash, to find where a node's headers attach.
    by_hash: HashMap<BlockHash, u64>,
}

/// Why a node's headers were refused: which header and which rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError {
    /// The index the offending header claims.
    pub index: u64,
    /// What is wrong with it.
    pub reason: HeaderFault,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "header {}: {}", self.index, self.reason)
    }
}

impl std::error::Error for HeaderError {}

/// Which rule a header breaks (the checks of SPEC §5b, in the order they are made).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderFault {
    /// A first header whose hash is not this network's genesis.
    OtherGenesis {
        /// Its hash.
        hash: BlockHash,
        /// This network's genesis hash.
        genesis: BlockHash,
        /// This network's difficulty, which gives its genesis.
        difficulty: u32,
    },
    /// The first header's parent is not a header of the chain the locator described.
    UnknownParent(BlockHash),
    /// The index does not follow the parent's.
    Index {
        /// The index it claims.
        found: u64,
        /// The parent's index + 1.
        expected: u64,
    },
    /// `previous_hash` is not the parent's hash.
    Link {
        /// The `previous_hash` it carries.
        previous_hash: BlockHash,
        /// The parent's index.
        parent_index: u64,
        /// The parent's hash.
        parent_hash: BlockHash,
    },
    /// Another difficulty than the network's.
    Difficulty {
        /// The difficulty it carries.
        found: u32,
        /// The network's.
        network: u32,
    },
    /// The hash the node sent is not the header's.
    Hash {
        /// The hash sent.
        claimed: BlockHash,
        /// The hash computed.
        computed: BlockHash,
    },
    /// The hash does not meet the difficulty.
    Work {
        /// The network's difficulty.
        difficulty: u32,
        /// Leading zero bits of the hash.
        zeros: u32,
    },
    /// The timestamp is not later than the parent's.
    NotLater {
        /// Its timestamp.
        timestamp: u64,
        /// The parent's.
        previous: u64,
    },
    /// The timestamp is more than 2 hours ahead of this clock.
    Ahead {
        /// Its timestamp.
        timestamp: u64,
        /// This clock.
        now: u64,
    },
}

impl fmt::Display for HeaderFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderFault::OtherGenesis {
                hash,
                genesis,
                difficulty,
            } => write!(
                f,
                "its genesis {hash} is not the genesis {genesis} of difficulty {difficulty} (another network)"
            ),
            HeaderFault::UnknownParent(parent) => write!(
                f,
                "its parent {parent} is not a header of the chain asked about (the answer does not follow the locator)"
            ),
            HeaderFault::Index { found, expected } => {
                write!(f, "index is {found}, expected {expected}")
            }
            HeaderFault::Link {
                previous_hash,
                parent_index,
                parent_hash,
            } => write!(
                f,
                "previous_hash {previous_hash} is not the hash of header {parent_index} ({parent_hash})"
            ),
            HeaderFault::Difficulty { found, network } => write!(
                f,
                "difficulty is {found}, but this network's difficulty is {network} (too little work)"
            ),
            HeaderFault::Hash { claimed, computed } => {
                write!(f, "hash {claimed} is not the header's hash ({computed})")
            }
            HeaderFault::Work { difficulty, zeros } => write!(
                f,
                "proof of work does not meet difficulty {difficulty} (the hash has {zeros} leading zero bits)"
            ),
            HeaderFault::NotLater {
                timestamp,
                previous,
            } => write!(
                f,
                "timestamp {timestamp} is not later than the previous header's {previous}"
            ),
            HeaderFault::Ahead { timestamp, now } => write!(
                f,
                "timestamp {timestamp} is more than 2 hours ahead of this clock ({now})"
            ),
        }
    }
}

/// Why a cache file was kept only in part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheProblem {
    /// Its first header is another network's genesis.
    ForeignGenesis,
    /// A header after genesis fails its check.
    Header(HeaderError),
}

impl fmt::Display for CacheProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheProblem::ForeignGenesis => {
                write!(f, "its first header is not this network's genesis")
            }
            CacheProblem::Header(error) => error.fmt(f),
        }
    }
}

impl HeaderChain {
    /// The genesis header of `difficulty` alone.
    pub fn new(difficulty: u32) -> HeaderChain {
        let first = genesis(difficulty);
        HeaderChain {
            difficulty,
            headers: vec![first.header],
            hashes: vec![first.hash],
            by_hash: HashMap::from([(first.hash, 1)]),
        }
    }

    /// The chain a cache file held, checked again from genesis; the checked prefix is
    /// kept, and the reason the rest was dropped is returned (a damaged or foreign file).
    pub fn from_cache(
        difficulty: u32,
        cached: &[Header],
        now: u64,
    ) -> (HeaderChain, Option<CacheProblem>) {
        let mut chain = HeaderChain::new(difficulty);
        let Some((first, rest)) = cached.split_first() else {
            return (chain, None);
        };
        if first.block_hash() != chain.hashes[0] {
            return (chain, Some(CacheProblem::ForeignGenesis));
        }
        for header in rest {
            if let Err(error) = chain.push(header, None, now) {
                return (chain, Some(CacheProblem::Header(error)));
            }
        }
        (chain, None)
    }

    /// Number of headers, genesis included; also the tip's index.
    pub fn len(&self) -> u64 {
        self.headers.len() as u64
    }

    /// Never true: a chain always holds its genesis.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Every header, genesis first (what the cache keeps).
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The header at `index` and its hash, if this chain is that long.
    pub fn at(&self, index: u64) -> Option<(&Header, BlockHash)> {
        let position = usize::try_from(index.checked_sub(1)?).ok()?;
        Some((self.headers.get(position)?, self.hashes[position]))
    }

    /// The tip's hash.
    pub fn tip_hash(&self) -> BlockHash {
        *self
            .hashes
            .last()
            .expect("a chain always holds its genesis")
    }

    /// The genesis hash: names the network.
    pub fn genesis_hash(&self) -> BlockHash {
        self.hashes[0]
    }

    /// The work behind the chain: 2^difficulty expected hashes per header after genesis.
    pub fn work(&self) -> u128 {
        (self.len() as u128 - 1) << self.difficulty.min(127)
    }

    /// Whether `hash` is one of this chain's headers.
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Hashes that let a node find where its chain and ours part (SPEC §6): the tip, the
    /// 9 before it, then steps of 2, 4, 8, … back, ending with genesis.
    pub fn locator(&self) -> Vec<BlockHash> {
        locator_indexes(self.len())
            .into_iter()
            .map(|index| self.hashes[(index - 1) as usize])
            .collect()
    }

    /// The first `length` headers (the chain of a node that is behind on this one).
    pub fn truncated(&self, length: u64) -> HeaderChain {
        let keep = length.clamp(1, self.len()) as usize;
        let mut chain = self.clone();
        for hash in chain.hashes.drain(keep..) {
            chain.by_hash.remove(&hash);
        }
        chain.headers.truncate(keep);
        chain
    }

    /// This chain cut back to where `headers` attach (the header before the first one),
    /// then `headers` appended, each checked. A node's headers that start at genesis must
    /// start with ours (another genesis is another network).
    pub fn extended(&self, headers: &[HeaderJson], now: u64) -> Result<HeaderChain, HeaderError> {
        let Some(first) = headers.first() else {
            return Ok(self.clone());
        };
        let mut rest = headers;
        let parent = if first.header.index == 1 {
            let hash = first.header.block_hash();
            if hash != self.genesis_hash() {
                return Err(HeaderError {
                    index: 1,
                    reason: HeaderFault::OtherGenesis {
                        hash,
                        genesis: self.genesis_hash(),
                        difficulty: self.difficulty,
                    },
                });
            }
            rest = &headers[1..];
            1
        } else {
            match self.by_hash.get(&first.header.previous_hash) {
                Some(&index) if index + 1 == first.header.index => index,
                _ => {
                    return Err(HeaderError {
                        index: first.header.index,
                        reason: HeaderFault::UnknownParent(first.header.previous_hash),
                    });
                }
            }
        };
        let mut chain = self.truncated(parent);
        for header in rest {
            chain.push(&header.header, Some(header.hash), now)?;
        }
        Ok(chain)
    }

    /// Checks `header` as the child of the tip and appends it; `claimed` is the hash the
    /// node sent with it, compared with the one computed.
    fn push(
        &mut self,
        header: &Header,
        claimed: Option<BlockHash>,
        now: u64,
    ) -> Result<(), HeaderError> {
        let (parent, parent_hash) = self
            .at(self.len())
            .expect("a chain always holds its genesis");
        let fail = |reason: HeaderFault| {
            Err(HeaderError {
                index: header.index,
                reason,
            })
        };
        if header.index != parent.index + 1 {
            return fail(HeaderFault::Index {
                found: header.index,
                expected: parent.index + 1,
            });
        }
        if header.previous_hash != parent_hash {
            return fail(HeaderFault::Link {
                previous_hash: header.previous_hash,
                parent_index: parent.index,
                parent_hash,
            });
        }
        if header.difficulty != self.difficulty {
            return fail(HeaderFault::Difficulty {
                found: header.difficulty,
                network: self.difficulty,
            });
        }
        let hash = header.block_hash();
        if let Some(claimed) = claimed
            && claimed != hash
        {
            return fail(HeaderFault::Hash {
                claimed,
                computed: hash,
            });
        }
        if !meets_difficulty(&hash, self.difficulty) {
            return fail(HeaderFault::Work {
                difficulty: self.difficulty,
                zeros: leading_zero_bits(&hash),
            });
        }
        if header.timestamp <= parent.timestamp {
            return fail(HeaderFault::NotLater {
                timestamp: header.timestamp,
                previous: parent.timestamp,
            });
        }
        if header.timestamp > now.saturating_add(MAX_FUTURE_MS) {
            return fail(HeaderFault::Ahead {
                timestamp: header.timestamp,
                now,
            });
        }
        self.by_hash.insert(hash, header.index);
        self.headers.push(*header);
        self.hashes.push(hash);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::{Block, Transaction, merkle_root_of};
    use crate::core::pow::search;
    use std::sync::atomic::AtomicBool;

    const NOW: u64 = 1_732_500_000_000;

    fn mined(parent: &HeaderJson, difficulty: u32) -> HeaderJson {
        let timestamp = parent.header.timestamp.max(NOW) + 1;
        let transactions = vec![Transaction::coinbase("m", 50, timestamp)];
        let mut header = Header {
            index: parent.header.index + 1,
            timestamp,
            previous_hash: parent.hash,
            merkle_root: merkle_root_of(&transactions),
            difficulty,
            proof: 0,
        };
        header.proof = search(&header, 1, &AtomicBool::new(false)).unwrap().proof;
        HeaderJson::of(&Block::from_header(header, transactions))
    }

    fn headers(count: usize, difficulty: u32) -> Vec<HeaderJson> {
        let mut list = vec![HeaderJson::of(&genesis(8))];
        for _ in 0..count {
            let next = mined(list.last().unwrap(), difficulty);
            list.push(next);
        }
        list
    }

    #[test]
    fn accepts_a_mined_chain_and_finds_where_more_headers_attach() {
        let all = headers(12, 8);
        let chain = HeaderChain::new(8).extended(&all[..8], NOW).unwrap();
        assert_eq!(chain.len(), 8);
        let longer = chain.extended(&all[8..], NOW).unwrap();
        assert_eq!(longer.len(), 13);
        assert_eq!(longer.tip_hash(), all[12].hash);
        assert!(longer.work() > chain.work());
        let (cached, problem) = HeaderChain::from_cache(8, longer.headers(), NOW);
        assert_eq!((cached.len(), problem), (13, None));
        assert_eq!(longer.truncated(5).tip_hash(), all[4].hash);
        assert_eq!(longer.locator().last(), Some(&genesis(8).hash));
    }

    #[test]
    fn refuses_too_little_work_a_wrong_hash_and_another_genesis() {
        let weak = headers(3, 1);
        let error = HeaderChain::new(8).extended(&weak, NOW).unwrap_err();
        assert_eq!(error.index, 2);
        assert!(
            error.reason.to_string().contains("difficulty is 1"),
            "{error}"
        );

        let mut all = headers(3, 8);
        all[2].hash = all[1].hash;
        let error = HeaderChain::new(8).extended(&all, NOW).unwrap_err();
        assert!(error.to_string().starts_with("header 3: hash"), "{error}");

        let mut lazy = headers(3, 8);
        lazy[3].header.proof += 1;
        lazy[3].hash = lazy[3].header.block_hash();
        if !meets_difficulty(&lazy[3].hash, 8) {
            let error = HeaderChain::new(8).extended(&lazy, NOW).unwrap_err();
            assert!(
                error.reason.to_string().contains("proof of work"),
                "{error}"
            );
        }

        let other = vec![HeaderJson::of(&genesis(9))];
        let error = HeaderChain::new(8).extended(&other, NOW).unwrap_err();
        assert!(
            error.reason.to_string().contains("another network"),
            "{error}"
        );

        let unrelated = headers(4, 8);
        let chain = HeaderChain::new(8);
        let error = chain.extended(&unrelated[3..], NOW).unwrap_err();
        assert!(
            error
                .reason
                .to_string()
                .contains("not a header of the chain"),
            "{error}"
        );
    }
}
