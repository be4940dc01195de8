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

impl From<Transaction> for NewTransaction {
    /// A whole transaction in its relayed form (every stored field): admitted as it is,
    /// its id checked against its fields.
    fn from(tx: Transaction) -> NewTransaction {
        NewTransaction {
            sender: tx.sender,
            recipient: tx.recipient,
            amount: tx.amount,
            timestamp: Some(tx.timestamp),
            id: Some(tx.id),
            signature: tx.signature,
        }
    }
}

/// Who handed the node a transaction: decides what the listener (the relay) hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// A client, or this node's own wallet: the listener relays it to the peers.
    Client,
    /// A peer (its registered URL) that announced it and sent it on request: relayed to
    /// the other peers; if refused, the listener may hold it for one more try (its block
    /// may still be on the way).
    Peer(&'a str),
    /// A held relayed transaction tried once more: relayed if admitted, dropped if not.
    Retry(&'a str),
}

impl Node {
    /// Admits a transaction to the pool and stores it, then tells the listener (which
    /// relays it); returns it with the index of the block it should land in.
    pub fn add_transaction(
        &self,
        request: NewTransaction,
        source: Source,
    ) -> Result<(Transaction, u64), NodeError> {
        let held = matches!(source, Source::Peer(_)).then(|| request.clone());
        let result = self.admit(request);
        let Some(listener) = self.listener() else {
            return result;
        };
        match (&result, source) {
            (Ok((tx, _)), Source::Client) => listener.pooled(self, std::slice::from_ref(tx), None),
            (Ok((tx, _)), Source::Peer(from) | Source::Retry(from)) => {
                listener.pooled(self, std::slice::from_ref(tx), Some(from))
            }
            (Err(error @ NodeError::BadRequest(_)), Source::Peer(from)) => {
                if let Some(request) = held {
                    listener.refused(self, request, from, &error.to_string());
                }
            }
            _ => {}
        }
        result
    }

    /// Admits a transaction to the pool and stores it (the group commit); no one is told.
    fn admit(&self, request: NewTransaction) -> Result<(Transaction, u64), NodeError> {
        if request.id.is_some() && request.timestamp.is_none() {
            return Err(NodeError::BadRequest(
                "an id needs its timestamp: send both, or neither".into(),
            ));
        }
        let request = self.signed_by_wallet(request)?;
        let mut state = self.lock();
        let now = now_ms();
        // A stamp this node chooses starts where the last identical payment's stopped
        // (`stamps`), so finding it costs the same however many came before (SPEC §9).
        let mut fresh = None;
        let timestamp = match request.timestamp {
            Some(timestamp) => timestamp,
            None => {
                let triple = (
                    request.sender.clone(),
                    request.recipient.clone(),
                    request.amount,
                );
                let timestamp = state.stamps.pick(&triple, now, |timestamp| {
                    state.knows_transaction(&Transaction::compute_id(
                        &request.sender,
                        &request.recipient,
                        request.amount,
                        timestamp,
                    ))
                });
                fresh = Some(triple);
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
        let State {
            chain,
            pool,
            stamps,
            ..
        } = &mut *state;
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
        if let Some(triple) = fresh {
            stamps.used(triple, timestamp, now);
        }
        // Durable (or rolled back) by the group commit, without the chain mutex.
        let ticket = self.shared.ingest.enqueue(tx.clone());
        drop(state);
        ticket.wait()?;
        debug!("pooled transaction {}", tx.id);
        Ok((tx, index))
    }
}
