//! Admitting a transaction to the pool: `/transactions/new` ([`NewTransaction`],
//! `Node::add_transaction`), made durable by the group commit of `ingest`.

use super::{Node, NodeError, State, now_ms};
use crate::core::block::Transaction;
use crate::core::hash::TxId;
use crate::core::pool::PoolError;
use crate::core::signed::Signature;
use log::debug;

/// A transaction as a client sends it to `/transactions/new`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTransaction {
    /// Who pays.
    pub sender: String,
    /// Who is paid.
    pub recipient: String,
    /// Coins moved.
    pub amount: u64,
    /// Set by a relaying node or a client that wants safe retries.
    pub timestamp: Option<u64>,
    /// Optional; must match the fields when given (requires `timestamp`).
    pub id: Option<TxId>,
    /// The sender key's LMS signature over `genesis hash ‖ id`: required exactly when the
    /// sender is a key address (SPEC §3a).
    pub signature: Option<Signature>,
}

impl Node {
    /// Admits a transaction to the pool and stores it; returns it with the index of the
    /// block it should land in.
    pub fn add_transaction(
        &self,
        request: NewTransaction,
    ) -> Result<(Transaction, u64), NodeError> {
        if request.id.is_some() && request.timestamp.is_none() {
            return Err(NodeError::BadRequest(
                "an id needs its timestamp: send both, or neither".into(),
            ));
        }
        let request = self.signed_by_wallet(request)?;
        let mut state = self.lock();
        let timestamp = match request.timestamp {
            Some(timestamp) => timestamp,
            None => {
                // Move forward a millisecond at a time until the id is new.
                let mut timestamp = now_ms();
                while state.knows_transaction(&Transaction::compute_id(
                    &request.sender,
                    &request.recipient,
                    request.amount,
                    timestamp,
                )) {
                    timestamp += 1;
                }
                timestamp
            }
        };
        let mut tx = Transaction::new(
            &request.sender,
            &request.recipient,
            request.amount,
            timestamp,
        );
        tx.signature = request.signature.clone();
        if let Some(claimed) = request.id
            && claimed != tx.id
        {
            return Err(NodeError::BadRequest(format!(
                "id {claimed} does not match the transaction's fields (their hash is {}); leave id out to have it computed",
                tx.id
            )));
        }
        let State { chain, pool, .. } = &mut *state;
        let genesis = chain.genesis().hash;
        pool.admit_within(
            chain.ledger(),
            tx.clone(),
            self.identity().pool_max,
            &genesis,
        )
        .map_err(|error| match error {
            PoolError::Duplicate { .. } => NodeError::Duplicate(error.to_string()),
            other => NodeError::BadRequest(other.to_string()),
        })?;
        let index = chain.len() + 1;
        // Durable (or rolled back) by the group commit, without the chain mutex.
        let ticket = self.shared.ingest.enqueue(tx.clone());
        drop(state);
        ticket.wait()?;
        debug!("pooled transaction {}", tx.id);
        Ok((tx, index))
    }
}
