//! The node's own key (`wallet.db`): who its coinbases pay, `GET /wallet`
//! ([`WalletInfo`]), rotation, and signing payments that name no sender. Lock order: the
//! wallet before the chain.

use super::transactions::{Draft, PaymentError};
use super::{Node, NodeError, Source, now_ms};
use crate::core::block::{Transaction, check_payment};
use crate::core::pool::Checks;
use crate::wallet::node_wallet::NodeWallet;
use crate::wire::protocol::NewTransaction;
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
            let sweep = wallet
                .rotate(&genesis, spendable, now_ms())
                .map_err(NodeError::Wallet)?;
            info!(
                "wallet rotated: new key {}…, old key {}… retired",
                &wallet.address()[..16],
                &address[..16]
            );
            sweep
        };
        if let Some(tx) = &sweep {
            let draft = Draft::Whole(tx.clone(), Checks::SignedHere);
            self.admit_and_tell(draft, Source::Client)?;
        }
        Ok(sweep)
    }

    /// The wallet, locked, when `request` is for it to sign: no signature, and no sender
    /// or the wallet's own address (an owner action, SPEC §5a).
    pub(super) fn wallet_to_sign(
        &self,
        request: &NewTransaction,
    ) -> Option<MutexGuard<'_, NodeWallet>> {
        if request.signature.is_some() {
            return None;
        }
        let wallet = self.wallet();
        let own = request
            .sender
            .as_deref()
            .is_none_or(|sender| sender == wallet.address());
        own.then_some(wallet)
    }

    /// Signs the payment `request` names with the node's key (the `wallet` locked by
    /// [`Node::wallet_to_sign`]). Refuses before using a leaf what would be refused anyway
    /// (malformed, a known id, overspend); the id is computed once, here or in the wallet.
    pub(super) fn sign_payment(
        &self,
        mut wallet: MutexGuard<'_, NodeWallet>,
        request: NewTransaction,
    ) -> Result<Transaction, NodeError> {
        let address = wallet.address().to_string();
        check_payment(&address, &request.recipient, request.amount)
            .map_err(NodeError::Transaction)?;
        // A client's own timestamp fixes the id: a second send is a safe retry (409), and
        // a claimed id must match; both are checked before a leaf is used.
        let unsigned = request.timestamp.map(|timestamp| {
            Transaction::new(&address, &request.recipient, request.amount, timestamp)
        });
        if let (Some(claimed), Some(unsigned)) = (request.id, &unsigned)
            && claimed != unsigned.id
        {
            let computed = unsigned.id;
            return Err(PaymentError::WrongId { claimed, computed }.into());
        }
        let genesis = {
            let state = self.lock();
            if let Some(unsigned) = &unsigned
                && state.knows_transaction(&unsigned.id)
            {
                return Err(PaymentError::AlreadyKnown { id: unsigned.id }.into());
            }
            let spendable = state.pool.balance(state.chain.ledger(), &address);
            if spendable < i128::from(request.amount) {
                return Err(PaymentError::WalletCannotPay {
                    address,
                    spendable,
                    amount: request.amount,
                }
                .into());
            }
            state.chain.genesis().hash
        };
        let tx = match unsigned {
            Some(unsigned) => wallet.sign(&genesis, unsigned),
            None => wallet.sign_payment(&genesis, &request.recipient, request.amount, now_ms()),
        }
        .map_err(NodeError::Wallet)?;
        if let Some(warning) = wallet.warning() {
            warn!("{warning}");
        }
        Ok(tx)
    }
}
