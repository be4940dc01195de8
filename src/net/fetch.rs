//! Fetching a peer's blocks after the point where our chains part (SPEC §6 step 3),
//! page by page: appended a page at a time when the peer extends our chain, so memory
//! holds one page (§6b); gathered whole (within a byte cap) when it is a fork that must be
//! validated as one branch. A page may stop early only past 16 MiB of JSON.

use crate::core::block::Block;
use crate::core::hash::BlockHash;
use crate::net::network::Network;
use crate::net::outcome::{Outcome, PeerOutcome, status_of};
use crate::node::{Adoption, Node};
use crate::wire::address::PeerUrl;
use crate::wire::client::PeerError;
use crate::wire::protocol::{ChainPage, InvAnswer, short_page};
use log::{debug, warn};

/// Blocks asked for per `/chain` page (the server's maximum).
pub const PAGE_SIZE: u64 = 500;

/// Most bytes of `/chain` pages read from one peer in one resolve.
pub const MAX_BRANCH_BYTES: u64 = 256 * 1024 * 1024;

/// Appends `peer`'s blocks after our tip a page at a time, each page validated and
/// adopted (durably) before the next is asked for, up to its claimed length.
pub(crate) fn extend(
    node: &Node,
    network: &Network,
    peer: &PeerUrl,
    inv: &InvAnswer,
    fork: BlockHash,
) -> PeerOutcome {
    let outcome = |status: Outcome, reason: String| PeerOutcome {
        node: peer.clone(),
        status,
        length: Some(inv.length),
        reason: Some(reason),
        node_id: None,
        tip: None,
        asked: true,
        pooled: Vec::new(),
    };
    let start = inv.fork_index;
    let mut page_size = PAGE_SIZE;
    // Blocks this run appended (another peer's resolve may grow the chain meanwhile).
    let mut added = 0u64;
    // The first page builds on the block the peer's inv named, whatever happened since
    // (so what the peer sends is always looked at); later pages on our tip.
    let mut first = Some((start, fork));
    let (status, reason) = 'run: loop {
        let (our_length, our_tip) = first.take().unwrap_or_else(|| node.tip());
        if our_length >= inv.length {
            break if added == 0 {
                (
                    Outcome::NotLonger,
                    format!("its chain has {} blocks, ours {our_length}", inv.length),
                )
            } else {
                (Outcome::Adopted, String::new())
            };
        }
        let from = our_length + 1;
        let (page, bytes, wanted) = loop {
            let wanted = page_size.min(inv.length - our_length);
            let url = format!("{peer}/chain?from={from}&limit={wanted}");
            match network.client.get_sized::<ChainPage>(&url) {
                Ok((page, bytes)) => break (page, bytes, wanted),
                Err(PeerError::TooLarge(_)) if page_size > 1 => page_size /= 2,
                Err(error) => break 'run (status_of(&error), error.to_string()),
            }
        };
        if let Some(reason) = short_page(page.chain.len(), wanted, bytes, from, inv.length) {
            break (Outcome::Invalid, reason);
        }
        let blocks: Vec<Block> = page.chain.into_iter().take(wanted as usize).collect();
        if let Some((offset, block)) = blocks
            .iter()
            .enumerate()
            .find(|(offset, block)| block.header.index != from + *offset as u64)
        {
            break (
                Outcome::Invalid,
                format!(
                    "block {}: its /chain page sent block {} in its place",
                    from + offset as u64,
                    block.header.index
                ),
            );
        }
        match node.adopt_branch(our_length, our_tip, blocks, peer) {
            Ok(Adoption::Adopted { blocks, .. }) => added += blocks as u64,
            Ok(Adoption::NotLonger { ours, theirs }) => {
                break (
                    Outcome::NotLonger,
                    format!("its chain has {theirs} blocks, ours {ours}"),
                );
            }
            Ok(Adoption::ForkMoved) => {
                break (
                    Outcome::NotLonger,
                    "our own chain changed during the sync; resolve again".into(),
                );
            }
            Ok(Adoption::Invalid(error)) => {
                warn!("{peer} offered an invalid chain: {error}");
                break (Outcome::Invalid, error.to_string());
            }
            Err(error) => break (Outcome::Invalid, error.to_string()),
        }
    };
    if added == 0 {
        return outcome(status, reason);
    }
    // Pages already appended stay: they were valid and made our chain longer (each
    // page's switch was logged by `adopt_branch`); what stopped the rest is said too.
    let (length, _) = node.tip();
    debug!("adopted {added} blocks from {peer}, page by page; our length is now {length}");
    let stopped = if status == Outcome::Adopted {
        String::new()
    } else {
        format!(", then stopped: {status}: {reason}")
    };
    PeerOutcome {
        length: Some(length),
        ..outcome(
            Outcome::Adopted,
            format!("appended {added} of its blocks after block {start}{stopped}"),
        )
    }
}

/// Fetches the peer's blocks after `fork_index`, page by page, up to its claimed length.
/// Each page must hold every block asked for that exists; a page over the size cap is
/// asked again at half the size; all pages together may not exceed
/// [`MAX_BRANCH_BYTES`].
pub(crate) fn fetch_branch(
    network: &Network,
    peer: &PeerUrl,
    fork_index: u64,
    claimed_length: u64,
) -> Result<Vec<Block>, PeerError> {
    let mut branch: Vec<Block> = Vec::new();
    let wanted = claimed_length - fork_index;
    let mut page_size = PAGE_SIZE;
    let mut total_bytes = 0u64;
    while (branch.len() as u64) < wanted {
        let from = fork_index + 1 + branch.len() as u64;
        let url = format!("{peer}/chain?from={from}&limit={page_size}");
        let (page, bytes) = match network.client.get_sized::<ChainPage>(&url) {
            Ok(answer) => answer,
            Err(PeerError::TooLarge(_)) if page_size > 1 => {
                page_size /= 2;
                debug!("{peer}: /chain page too large; asking for {page_size} blocks");
                continue;
            }
            Err(error) => return Err(error),
        };
        total_bytes += bytes as u64;
        if total_bytes > MAX_BRANCH_BYTES {
            return Err(PeerError::TooLarge(format!(
                "its blocks after block {fork_index} exceed {} MiB",
                MAX_BRANCH_BYTES / (1024 * 1024)
            )));
        }
        let expected_count = page_size.min(wanted - branch.len() as u64);
        // A page may stop early past 16 MiB of JSON (SPEC §6b): go on from there.
        if let Some(reason) = short_page(
            page.chain.len(),
            expected_count,
            bytes,
            from,
            claimed_length,
        ) {
            return Err(PeerError::Invalid(reason));
        }
        for (offset, block) in page
            .chain
            .into_iter()
            .take(expected_count as usize)
            .enumerate()
        {
            let expected = from + offset as u64;
            if block.header.index != expected {
                return Err(PeerError::Invalid(format!(
                    "block {expected}: its /chain page sent block {} in its place",
                    block.header.index
                )));
            }
            branch.push(block);
        }
    }
    Ok(branch)
}
