//! Admitting a transaction to the pool: a client's payment (`POST /transactions/new`,
//! [`Node::new_transaction`]) or a whole transaction (a peer's, the wallet's sweep:
//! [`Node::add_transaction`]), made durable by the group commit of `ingest`.

use super::{Node, NodeError, State, now_ms};
use crate::core::block::Transaction;
use crate::core::hash::TxId;
use crate::core::pool::Checks;
use crate::core::signed::Signature;
use crate::wire::address::PeerUrl;
use crate::wire::protocol::NewTransaction;
use log::debug;
use std::fmt;

/// Who handed the node a transaction: decides what the listener (the relay) hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// A client, or this node's own wallet: the listener relays it to the peers.
    Client,
    /// A peer (its registered URL) that announced it and sent it on request: relayed to
    /// the other peers; if refused, the listener may hold it for one more try (its block
    /// may still be on the way).
    Peer(&'a PeerUrl),
    /// A held relayed transaction tried once more: relayed if admitted, dropped if not.
    Retry(&'a PeerUrl),
}

/// Why a client's payment request cannot become a transaction (the pool's own refusals
/// are [`PoolError`](crate::core::pool::PoolError)s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentError {
    /// An `id` came without its `timestamp`, so it cannot be checked.
    IdWithoutTimestamp,
    /// The `id` sent is not the hash of the fields sent.
    WrongId { claimed: TxId, computed: TxId },
    /// The node's wallet was asked to sign a payment it already made (a safe retry).
    AlreadyKnown { id: TxId },
    /// The node's wallet cannot pay `amount`, counting pending transactions.
    WalletCannotPay {
        address: String,
        spendable: i128,
        amount: u64,
    },
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentError::IdWithoutTimestamp => {
                f.write_str("an id needs its timestamp: send both, or neither")
            }
            PaymentError::WrongId { claimed, computed } => write!(
                f,
                "id {claimed} does not match the transaction's fields (their hash is {computed}); leave id out to have it computed"
            ),
            PaymentError::AlreadyKnown { id } => write!(
                f,
                "transaction {id} is already in the pool or the chain (same sender, recipient, amount and timestamp)"
            ),
            PaymentError::WalletCannotPay {
                address,
                spendable,
                amount,
            } => write!(
                f,
                "the node's wallet ({address}) has {} coins (counting pending transactions) and cannot send {amount}; mine a block to earn some",
                spendable.max(&0)
            ),
        }
    }
}

impl std::error::Error for PaymentError {}

/// What the pool is handed: a whole transaction and what is left to check of it, or a
/// payment the node stamps under the lock (its id is then computed there, once).
pub(super) enum Draft {
    /// Stamped already: the transaction, and what is left to check of it.
    Whole(Transaction, Checks),
    /// Stamped by the node under the lock.
    Unstamped {
        sender: String,
        recipient: String,
        amount: u64,
        signature: Option<Signature>,
    },
}

impl Draft {
    /// A client's payment taken as sent: stamped by the node when it carries no
    /// timestamp; else whole, its id computed here and compared with a claimed one.
    fn as_sent(request: NewTransaction) -> Result<Draft, PaymentError> {
        let NewTransaction {
            id: claimed,
            sender,
            recipient,
            amount,
            timestamp,
            signature,
        } = request;
        let sender = sender.unwrap_or_default();
        let Some(timestamp) = timestamp else {
            return Ok(Draft::Unstamped {
                sender,
                recipient,
                amount,
                signature,
            });
        };
        let mut tx = Transaction::new(&sender, &recipient, amount, timestamp);
        if let Some(claimed) = claimed
            && claimed != tx.id
        {
            let computed = tx.id;
            return Err(PaymentError::WrongId { claimed, computed });
        }
        tx.signature = signature;
        Ok(Draft::Whole(tx, Checks::IdComputed))
    }
}

impl Node {
    /// `POST /transactions/new`: a client's payment. The node's wallet signs it when it
    /// names no sender (or the wallet's own) and carries no signature — after
    /// `owner_allows` (SPEC §5a); otherwise it is taken as sent, the node choosing a
    /// fresh timestamp when there is none. Returns it with the index of the block it
    /// should land in.
    pub fn new_transaction<E: From<NodeError>>(
        &self,
        request: NewTransaction,
        owner_allows: impl FnOnce() -> Result<(), E>,
    ) -> Result<(Transaction, u64), E> {
        if request.id.is_some() && request.timestamp.is_none() {
            return Err(NodeError::from(PaymentError::IdWithoutTimestamp).into());
        }
        if let Some(signing) = self.wallet_to_sign(&request) {
            owner_allows()?;
            let tx = self.sign_payment(signing, request)?;
            return Ok(self.admit_and_tell(Draft::Whole(tx, Checks::SignedHere), Source::Client)?);
        }
        let draft = Draft::as_sent(request).map_err(NodeError::from)?;
        Ok(self.admit_and_tell(draft, Source::Client)?)
    }

    /// Admits a whole transaction (a peer's, or one this node made) to the pool and stores
    /// it, then tells the listener (which relays it); returns it with the index of the
    /// block it should land in.
    pub fn add_transaction(
        &self,
        tx: Transaction,
        source: Source,
    ) -> Result<(Transaction, u64), NodeError> {
        self.admit_and_tell(Draft::Whole(tx, Checks::All), source)
    }

    /// Admits `draft`, then tells the listener what `source` decides.
    pub(super) fn admit_and_tell(
        &self,
        draft: Draft,
        source: Source,
    ) -> Result<(Transaction, u64), NodeError> {
        let held = match (&draft, source) {
            (Draft::Whole(tx, _), Source::Peer(_)) => Some(tx.clone()),
            _ => None,
        };
        let result = self.admit(draft);
        let Some(listener) = self.listener() else {
            return result;
        };
        match (&result, source) {
            (Ok((tx, _)), Source::Client) => listener.pooled(self, std::slice::from_ref(tx), None),
            (Ok((tx, _)), Source::Peer(from) | Source::Retry(from)) => {
                listener.pooled(self, std::slice::from_ref(tx), Some(from))
            }
            (Err(error), Source::Peer(from)) if error.may_pass_later() => {
                if let Some(tx) = held {
                    listener.refused(self, tx, from, &error.to_string());
                }
            }
            _ => {}
        }
        result
    }

    /// Admits a transaction to the pool and stores it (the group commit); no one is told.
    fn admit(&self, draft: Draft) -> Result<(Transaction, u64), NodeError> {
        let mut state = self.lock();
        let now = now_ms();
        let (tx, checks, fresh) = match draft {
            Draft::Whole(tx, checks) => (tx, checks, None),
            Draft::Unstamped {
                sender,
                recipient,
                amount,
                signature,
            } => {
                // A stamp this node chooses starts where the last identical payment's
                // stopped (`stamps`), so finding it costs the same however many came
                // before (SPEC §9); the id found free is the transaction's.
                let triple = (sender, recipient, amount);
                let mut id = TxId([0; 32]);
                let timestamp = state.stamps.pick(&triple, now, |timestamp| {
                    id = Transaction::compute_id(&triple.0, &triple.1, triple.2, timestamp);
                    state.knows_transaction(&id)
                });
                let tx = Transaction {
                    id,
                    sender: triple.0.clone(),
                    recipient: triple.1.clone(),
                    amount,
                    timestamp,
                    signature,
                };
                (tx, Checks::IdComputed, Some(triple))
            }
        };
        let State {
            chain,
            pool,
            stamps,
            ..
        } = &mut *state;
        let genesis = chain.genesis().hash;
        let max = self.identity().pool_max;
        pool.admit_within(chain.ledger(), tx.clone(), max, &genesis, checks)?;
        let index = chain.len() + 1;
        if let Some(triple) = fresh {
            stamps.used(triple, tx.timestamp, now);
        }
        // Durable (or rolled back) by the group commit, without the chain mutex.
        let ticket = self.shared.ingest.enqueue(tx.clone());
        drop(state);
        ticket.wait()?;
        debug!("pooled transaction {}", tx.id);
        Ok((tx, index))
    }
}
