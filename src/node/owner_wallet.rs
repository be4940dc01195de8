//! The node's own key (`wallet.db`): who its coinbases pay, `GET /wallet`
//! ([`WalletInfo`]), rotation, and signing payments that name no sender. Lock order: the
//! wallet before the chain.

use super::{NewTransaction, Node, NodeError, Source, now_ms};
use crate::core::block::Transaction;
use crate::wallet::node_wallet::{NodeWallet, WalletError};
use log::{info, warn};
use serde::Serialize;
use std::sync::MutexGuard;

/// The `GET /wallet` answer (SPEC §5), in its field order.
#[derive(Clone, Debug, Serialize)]
pub struct WalletInfo {
    /// The active key address: the default `--miner`, the sender of node-signed payments.
    pub address: String,
    /// Its balance on the chain.
    pub balance: u64,
    /// Leaves of the active key already used.
    pub leaves_used: u64,
    /// Payments it can still sign (its last leaf is kept for rotation).
    pub leaves_left: u64,
    /// Its tree height.
    pub height: u32,
    /// Earlier key addresses, oldest first.
    pub retired: Vec<String>,
    /// Present when few leaves are left: rotate soon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Node {
    /// Who this node's next coinbase pays: `--miner`, else the wallet's active key.
    pub fn miner(&self) -> String {
        match &self.identity().miner {
            Some(miner) => miner.clone(),
            None => self.wallet().address().to_string(),
        }
    }

    /// Every address this node's coinbases may have paid: `--miner`, or the wallet's keys
    /// (retired ones too), to recognise the blocks it mined.
    pub(super) fn coinbase_addresses(&self) -> Vec<String> {
        match &self.identity().miner {
            Some(miner) => vec![miner.clone()],
            None => {
                let wallet = self.wallet();
                let mut addresses = wallet.retired();
                addresses.push(wallet.address().to_string());
                addresses
            }
        }
    }

    fn wallet(&self) -> MutexGuard<'_, NodeWallet> {
        self.shared
            .wallet
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `GET /wallet`: the node's key, its balance and what it has left.
    pub fn wallet_info(&self) -> WalletInfo {
        let wallet = self.wallet();
        let address = wallet.address().to_string();
        let balance = self.balance(&address);
        WalletInfo {
            address,
            balance,
            leaves_used: wallet.leaves_used(),
            leaves_left: wallet.leaves_left(),
            height: wallet.height(),
            retired: wallet.retired(),
            warning: wallet.warning(),
        }
    }

    /// `POST /wallet/rotate`: a fresh key becomes active; the old key's reserved last leaf
    /// moves everything it can spend (chain and pool) to it. Returns the sweep, if any.
    pub fn rotate_wallet(&self) -> Result<Option<Transaction>, NodeError> {
        let sweep = {
            let mut wallet = self.wallet();
            let address = wallet.address().to_string();
            let (genesis, spendable) = {
                let state = self.lock();
                let spendable = state.pool.balance(state.chain.ledger(), &address);
                (state.chain.genesis().hash, spendable.max(0) as u64)
            };
            let sweep =
                wallet
                    .rotate(&genesis, spendable, now_ms())
                    .map_err(|error| match error {
                        WalletError::Store(error) => NodeError::Storage(error),
                        other => NodeError::Wallet(other.to_string()),
                    })?;
            info!(
                "wallet rotated: new key {}…, old key {}… retired",
                &wallet.address()[..16],
                &address[..16]
            );
            sweep
        };
        if let Some(tx) = &sweep {
            self.add_transaction(NewTransaction::from(tx.clone()), Source::Client)?;
        }
        Ok(sweep)
    }

    /// Whether admitting `request` would have this node's wallet sign it (no signature,
    /// and no sender or the wallet's own address): an owner action (SPEC §5a).
    pub fn asks_wallet_to_sign(&self, request: &NewTransaction) -> bool {
        request.signature.is_none()
            && (request.sender.is_empty() || request.sender == self.wallet().address())
    }

    /// Signs `request` with the node's key when it names no sender (or the node's own
    /// key address) and carries no signature; otherwise returns it as it is. Refuses
    /// before using a leaf what would be refused anyway (malformed, overspend).
    pub(super) fn signed_by_wallet(
        &self,
        request: NewTransaction,
    ) -> Result<NewTransaction, NodeError> {
        if request.signature.is_some() {
            return Ok(request);
        }
        let mut wallet = self.wallet();
        if !request.sender.is_empty() && request.sender != wallet.address() {
            return Ok(request);
        }
        let address = wallet.address().to_string();
        let draft = Transaction::new(&address, &request.recipient, request.amount, 0);
        draft
            .check(false)
            .map_err(|error| NodeError::BadRequest(error.to_string()))?;
        // A client's own timestamp fixes the id: a second send is a safe retry (409), and
        // a claimed id must match; both are checked before a leaf is used.
        let fixed_id = request.timestamp.map(|timestamp| {
            Transaction::compute_id(&address, &request.recipient, request.amount, timestamp)
        });
        if let (Some(claimed), Some(computed)) = (request.id, fixed_id)
            && claimed != computed
        {
            return Err(NodeError::BadRequest(format!(
                "id {claimed} does not match the transaction's fields (their hash is {computed}); leave id out to have it computed"
            )));
        }
        let genesis = {
            let state = self.lock();
            if let Some(id) = fixed_id
                && state.knows_transaction(&id)
            {
                return Err(NodeError::Duplicate(format!(
                    "transaction {id} is already in the pool or the chain (same sender, recipient, amount and timestamp)"
                )));
            }
            let spendable = state.pool.balance(state.chain.ledger(), &address);
            if spendable < i128::from(request.amount) {
                return Err(NodeError::BadRequest(format!(
                    "the node's wallet ({address}) has {} coins (counting pending transactions) and cannot send {}; mine a block to earn some",
                    spendable.max(0),
                    request.amount
                )));
            }
            state.chain.genesis().hash
        };
        let signed = match request.timestamp {
            Some(timestamp) => {
                wallet.sign_payment_at(&genesis, &request.recipient, request.amount, timestamp)
            }
            None => wallet.sign_payment(&genesis, &request.recipient, request.amount, now_ms()),
        };
        let tx = signed.map_err(|error| match error {
            WalletError::Exhausted { .. } => NodeError::BadRequest(error.to_string()),
            WalletError::Store(error) => NodeError::Storage(error),
            other => NodeError::Wallet(other.to_string()),
        })?;
        if let Some(warning) = wallet.warning() {
            warn!("{warning}");
        }
        Ok(NewTransaction::from(tx))
    }
}
