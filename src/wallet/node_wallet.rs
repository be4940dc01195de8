//! The node's own wallet (SPEC §3a, §5 `/wallet`): the key a node mines to by default and
//! signs with when a client leaves `sender` out, kept in `wallet.db` in its data directory.
//!
//! One key is active; rotated keys are kept as retired (their coins were swept to the
//! new key). The next leaf is written durably **before** a signature is made, so a crash
//! can waste a leaf but never use one twice. The last leaf of every key is reserved for
//! the sweep of a rotation. `/restart` never touches this file.

use super::keys;
use crate::core::block::Transaction;
use crate::core::hash::BlockHash;
use crate::core::signed::{Signature, signing_message};
use crate::crypto::{LmsType, PrivateKey};
use crate::store::StoreError;
use crate::store::keyfile::{KeyRecord, load_private, save_private};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The file the wallet lives in, inside the node's data directory.
pub const WALLET_FILE: &str = "wallet.db";

/// The pickledb entry holding the [`WalletRecord`].
const WALLET_ENTRY: &str = "wallet";

/// What `wallet.db` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WalletRecord {
    /// Tree height of the keys this wallet makes (`--wallet-height` when it was created).
    pub height: u32,
    /// The key that signs and receives.
    pub active: KeyRecord,
    /// Earlier keys, oldest first; their last leaf swept their coins to the next one.
    pub retired: Vec<KeyRecord>,
}

/// Why the wallet cannot do what was asked.
#[derive(Debug)]
pub enum WalletError {
    /// `wallet.db` cannot be read or written.
    Store(StoreError),
    /// Every leaf but the reserved last one is used.
    Exhausted { address: String },
    /// `/dev/urandom` cannot be read.
    Random(std::io::Error),
    /// `wallet.db` holds something that is not a usable key.
    Damaged { path: PathBuf, what: &'static str },
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletError::Store(error) => error.fmt(f),
            WalletError::Exhausted { address } => write!(
                f,
                "the node's key {}… has signed with every leaf but the last, which is kept to move its coins: POST /wallet/rotate",
                &address[..16]
            ),
            WalletError::Random(error) => write!(f, "cannot read /dev/urandom: {error}"),
            WalletError::Damaged { path, what } => write!(
                f,
                "{}: damaged wallet file ({what}); the file was left unchanged",
                path.display()
            ),
        }
    }
}

impl std::error::Error for WalletError {}

impl From<StoreError> for WalletError {
    fn from(error: StoreError) -> WalletError {
        WalletError::Store(error)
    }
}

/// The node's wallet, its active key's tree kept in memory so signing is cheap.
pub struct NodeWallet {
    path: PathBuf,
    record: WalletRecord,
    key: PrivateKey,
    /// The last timestamp this wallet signed with: each payment gets a later one, so two
    /// identical payments have two ids.
    last_timestamp: u64,
}

impl NodeWallet {
    /// Opens `dir/wallet.db`, creating it with a fresh key of tree height `height` (5, 10
    /// or 15) the first time.
    pub fn open_or_create(dir: &Path, height: u32) -> Result<NodeWallet, WalletError> {
        let path = dir.join(WALLET_FILE);
        let record = if path.exists() {
            load_private::<WalletRecord>(&path, WALLET_ENTRY)?
        } else {
            let record = WalletRecord {
                height,
                active: fresh_key(height)?.1,
                retired: Vec::new(),
            };
            save_private(&path, WALLET_ENTRY, &record)?;
            record
        };
        let key = private_key(&path, &record.active)?;
        Ok(NodeWallet {
            path,
            record,
            key,
            last_timestamp: 0,
        })
    }

    /// The active key address: where this node's coinbases go unless `--miner` says else.
    pub fn address(&self) -> &str {
        &self.record.active.address
    }

    /// The active key's tree height.
    pub fn height(&self) -> u32 {
        self.key.public_key().lms.height()
    }

    /// Leaves of the active key already handed out.
    pub fn leaves_used(&self) -> u64 {
        u64::from(self.record.active.next_leaf)
    }

    /// Payments the active key can still sign (its last leaf is kept for rotation).
    pub fn leaves_left(&self) -> u64 {
        let usable = self.key.public_key().lms.leaves() - 1;
        usable.saturating_sub(self.leaves_used())
    }

    /// Retired key addresses, oldest first.
    pub fn retired(&self) -> Vec<String> {
        self.record
            .retired
            .iter()
            .map(|key| key.address.clone())
            .collect()
    }

    /// A warning when a tenth or less of the active key's leaves are left.
    pub fn warning(&self) -> Option<String> {
        let usable = self.key.public_key().lms.leaves() - 1;
        (self.leaves_left() * 10 <= usable).then(|| {
            format!(
                "only {} of {usable} signatures left on the node's key; POST /wallet/rotate moves its coins to a fresh key",
                self.leaves_left()
            )
        })
    }

    /// Signs a payment of `amount` to `recipient` from the active key on network
    /// `genesis`, stamped at least `now`. The next leaf is on disk before the signature
    /// is made.
    pub fn sign_payment(
        &mut self,
        genesis: &BlockHash,
        recipient: &str,
        amount: u64,
        now: u64,
    ) -> Result<Transaction, WalletError> {
        if self.leaves_left() == 0 {
            return Err(self.exhausted());
        }
        let timestamp = now.max(self.last_timestamp + 1);
        let unsigned = Transaction::new(self.address(), recipient, amount, timestamp);
        self.sign(genesis, unsigned)
    }

    /// Signs `unsigned`, a payment from the active key (its id already computed, its
    /// timestamp a client's own, for a safe retry: the caller has checked that its id is
    /// new). The next leaf is on disk before the signature is made.
    pub fn sign(
        &mut self,
        genesis: &BlockHash,
        mut unsigned: Transaction,
    ) -> Result<Transaction, WalletError> {
        debug_assert_eq!(unsigned.sender, self.address(), "the active key pays");
        if self.leaves_left() == 0 {
            return Err(self.exhausted());
        }
        let q = self.record.active.next_leaf;
        self.record.active.next_leaf = q + 1;
        if let Err(error) = save_private(&self.path, WALLET_ENTRY, &self.record) {
            self.record.active.next_leaf = q;
            return Err(error.into());
        }
        self.last_timestamp = self.last_timestamp.max(unsigned.timestamp);
        sign_with(&self.key, q, genesis, &mut unsigned);
        Ok(unsigned)
    }

    /// Every leaf of the active key but the reserved last one is used.
    fn exhausted(&self) -> WalletError {
        WalletError::Exhausted {
            address: self.address().to_string(),
        }
    }

    /// Makes a fresh key the active one. When the old key holds `balance` > 0 coins, its
    /// reserved last leaf signs a payment of all of them to the new key: returned, to be
    /// admitted like any payment. Durable before it returns.
    pub fn rotate(
        &mut self,
        genesis: &BlockHash,
        balance: u64,
        now: u64,
    ) -> Result<Option<Transaction>, WalletError> {
        let (new_key, new_record) = fresh_key(self.record.height)?;
        let old_key = std::mem::replace(&mut self.key, new_key);
        let mut old_record = std::mem::replace(&mut self.record.active, new_record);
        let last = (old_key.public_key().lms.leaves() - 1) as u32;
        let sweep_leaf = (balance > 0 && old_record.next_leaf <= last).then_some(last);
        old_record.next_leaf = last + 1;
        self.record.retired.push(old_record);
        if let Err(error) = save_private(&self.path, WALLET_ENTRY, &self.record) {
            // Nothing changed on disk: back to the old key.
            let old_record = self.record.retired.pop().expect("just pushed");
            self.record.active = old_record;
            self.key = old_key;
            return Err(error.into());
        }
        let timestamp = now.max(self.last_timestamp + 1);
        self.last_timestamp = timestamp;
        let old_address = self
            .record
            .retired
            .last()
            .expect("just pushed")
            .address
            .clone();
        Ok(sweep_leaf.map(|q| {
            let mut sweep = Transaction::new(&old_address, self.address(), balance, timestamp);
            sign_with(&old_key, q, genesis, &mut sweep);
            sweep
        }))
    }
}

/// Signs `tx` (a payment from `key`'s address) with leaf `q`.
fn sign_with(key: &PrivateKey, q: u32, genesis: &BlockHash, tx: &mut Transaction) {
    let signature = key
        .sign(q, &signing_message(genesis, &tx.id))
        .expect("the leaf was checked to be in the tree");
    tx.signature = Some(Signature(signature));
}

/// A new LMS key of tree height `height` (W4) with its record.
fn fresh_key(height: u32) -> Result<(PrivateKey, KeyRecord), WalletError> {
    keys::fresh_key(LmsType::from_height(height).unwrap_or(LmsType::H10))
        .map_err(WalletError::Random)
}

/// Rebuilds a stored key; its address is recomputed, never trusted.
fn private_key(path: &Path, record: &KeyRecord) -> Result<PrivateKey, WalletError> {
    let damaged = |what| WalletError::Damaged {
        path: path.to_path_buf(),
        what,
    };
    let (key, address) = keys::rebuild(record).map_err(|keys::DamagedKey(what)| damaged(what))?;
    if address != record.address {
        return Err(damaged("the address does not match the key"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::genesis;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "minichain-node-wallet-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_next_leaf_is_on_disk_before_the_signature_and_survives_reopening() {
        let dir = temp_dir("leaves");
        let network = genesis(8).hash;
        let mut wallet = NodeWallet::open_or_create(&dir, 5).unwrap();
        let address = wallet.address().to_string();
        let first = wallet.sign_payment(&network, "bob", 1, 1000).unwrap();
        let second = wallet.sign_payment(&network, "bob", 1, 1000).unwrap();
        assert_ne!(
            first.id, second.id,
            "identical payments get distinct timestamps"
        );
        assert_eq!((first.leaf(), second.leaf()), (Some(0), Some(1)));
        first.check_signature(&network).unwrap();
        let mut reopened = NodeWallet::open_or_create(&dir, 10).unwrap();
        assert_eq!(reopened.address(), address, "the stored key, not a new one");
        assert_eq!(reopened.height(), 5);
        let third = reopened.sign_payment(&network, "bob", 1, 1000).unwrap();
        assert_eq!(third.leaf(), Some(2));
    }

    #[test]
    fn the_last_leaf_is_kept_for_the_rotation_sweep() {
        let dir = temp_dir("rotate");
        let network = genesis(8).hash;
        let mut wallet = NodeWallet::open_or_create(&dir, 5).unwrap();
        let old = wallet.address().to_string();
        for _ in 0..31 {
            wallet.sign_payment(&network, "bob", 1, 1).unwrap();
        }
        assert_eq!(wallet.leaves_left(), 0);
        assert!(wallet.warning().is_some());
        assert!(matches!(
            wallet.sign_payment(&network, "bob", 1, 1),
            Err(WalletError::Exhausted { .. })
        ));
        let sweep = wallet.rotate(&network, 40, 5).unwrap().expect("a sweep");
        assert_eq!(sweep.sender, old);
        assert_eq!(sweep.recipient, wallet.address());
        assert_eq!((sweep.amount, sweep.leaf()), (40, Some(31)));
        sweep.check_signature(&network).unwrap();
        assert_eq!(wallet.retired(), vec![old]);
        assert_eq!(wallet.leaves_left(), 31);
        let reopened = NodeWallet::open_or_create(&dir, 5).unwrap();
        assert_eq!(reopened.address(), wallet.address());
        assert_eq!(reopened.retired(), wallet.retired());
        assert_eq!(
            wallet.rotate(&network, 0, 6).unwrap(),
            None,
            "nothing to sweep"
        );
    }
}
