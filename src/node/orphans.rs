//! What a chain switch says in the log: the switch itself, and each block this node mined
//! that it cut away ("your block #6 was orphaned"), with what became of its payments, so
//! that a `/mine` answered "New Block Forged" a moment earlier is not silently undone.

use crate::core::block::Block;
use crate::core::chain::Chain;
use crate::core::ledger::Ledger;
use crate::core::pool::Pool;
use log::info;

/// Logs a switch to `from`'s branch after our block `fork_index`, which cut away `cut`
/// (the blocks of ours that the branch replaced), now that `chain` is the new chain and
/// `pool` the rebuilt pool; `ours` are the addresses this node's coinbases pay.
pub fn log_switch(
    from: &str,
    fork_index: u64,
    adopted: usize,
    cut: &[Block],
    chain: &Chain,
    pool: &Pool,
    ours: &[String],
) {
    let replaced = match (cut.first(), cut.last()) {
        (Some(first), Some(last)) if first.header.index == last.header.index => {
            format!(", replacing our block #{}", first.header.index)
        }
        (Some(first), Some(last)) => {
            format!(
                ", replacing our blocks #{}–#{}",
                first.header.index, last.header.index
            )
        }
        _ => String::new(),
    };
    let blocks = if adopted == 1 { "block" } else { "blocks" };
    info!(
        "adopted {adopted} {blocks} from {from} after block #{fork_index}{replaced}; our length is now {}",
        chain.len()
    );
    for block in cut {
        let Some(coinbase) = block.transactions.first() else {
            continue;
        };
        if ours.contains(&coinbase.recipient) {
            info!("{}", orphan_line(from, block, chain.ledger(), pool));
        }
    }
}

/// "your block #6 (00ab…) was orphaned: …", with where its payments went.
pub fn orphan_line(from: &str, block: &Block, ledger: &Ledger, pool: &Pool) -> String {
    let payments = &block.transactions[1.min(block.transactions.len())..];
    let returned = payments
        .iter()
        .filter(|tx| pool.contains(ledger, &tx.id))
        .count();
    let in_chain = payments
        .iter()
        .filter(|tx| ledger.block_of(&tx.id).is_some())
        .count();
    let dropped = payments.len() - returned - in_chain;
    let mut fates = Vec::new();
    if returned > 0 {
        fates.push(format!("{returned} went back to the pool"));
    }
    if in_chain > 0 {
        fates.push(format!("{in_chain} are in the new chain"));
    }
    if dropped > 0 {
        fates.push(format!("{dropped} were dropped (no longer valid)"));
    }
    let payments_said = match payments.len() {
        0 => "it held no payments".to_string(),
        1 if returned == 1 => "its payment went back to the pool".to_string(),
        1 if in_chain == 1 => "its payment is in the new chain".to_string(),
        1 => "its payment was dropped (no longer valid)".to_string(),
        n => format!("of its {n} payments, {}", fates.join(", ")),
    };
    let reward = block
        .transactions
        .first()
        .map_or(0, |coinbase| coinbase.amount);
    format!(
        "your block #{} ({}…) was orphaned: peer {from}'s longer chain replaced it; its reward of {reward} is gone, and {payments_said}",
        block.header.index,
        &block.hash.to_hex()[..16],
    )
}
