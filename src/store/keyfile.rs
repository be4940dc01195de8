//! The command-line wallet's key file (SPEC §2, §3a): one LMS key and its next leaf, kept
//! as a pickledb file like everything else a node stores.
//!
//! A key file is a secret: it is created mode 0600, never overwritten by `wallet new`, and
//! rewritten whole (side file, fsync, rename, fsync the directory) every time its next
//! leaf moves, so a crash leaves the old record or the new one, never a torn one.
//! Callers write the next leaf **before** they release a signature made with the
//! previous one: a crash can waste a leaf, never use one twice.

use super::durable::{self, parent_dir};
use super::error::{StoreError, io_error};
use super::file::{StoredFile, set};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::{self, DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Everything a key file holds; the secret is `seed` (with the types and `identifier`, it
/// is the whole private key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// RFC 8554 LMS typecode (5–9: tree height 5–25).
    pub lms_type: u32,
    /// RFC 8554 LM-OTS typecode (1–4: Winternitz 1, 2, 4, 8).
    pub ots_type: u32,
    /// `I`, 16 bytes as hex.
    pub identifier: String,
    /// `SEED`, 32 bytes as hex: the secret.
    pub seed: String,
    /// The first leaf never handed out; every leaf below it may already have signed.
    pub next_leaf: u32,
    /// The key address, for a person reading the file (recomputed, never trusted).
    pub address: String,
}

/// The pickledb entry the record is kept under.
const RECORD_KEY: &str = "key";

/// Creates `path` holding `record`, mode 0600 (and its folder, 0700, if missing). Refuses (and changes nothing) when the file
/// already exists: an overwritten key file loses the coins its key holds.
pub fn create(path: &Path, record: &KeyRecord) -> Result<(), StoreError> {
    // A missing folder (`data/keys/`) is made, private to the user.
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(io_error(parent))?;
    }
    // Claim the name exclusively first, so two `wallet new` cannot both win.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                StoreError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        source.kind(),
                        "a key file is already there; it was left untouched (pick another --key; \
                         overwriting a key file loses the coins its key holds)",
                    ),
                }
            } else {
                StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
    save(path, record).inspect_err(|_| {
        let _ = fs::remove_file(path);
    })
}

/// Reads a key file; a file that is not a key file is `Damaged`, naming it.
pub fn load(path: &Path) -> Result<KeyRecord, StoreError> {
    load_private(path, RECORD_KEY)
}

/// Rewrites `path` with `record` durably (mode 0600): when this returns, the record is on
/// disk and survives a crash or power loss.
pub fn save(path: &Path, record: &KeyRecord) -> Result<(), StoreError> {
    save_private(path, RECORD_KEY, record)
}

/// Reads entry `key` of a private pickledb file (a key file, the node's `wallet.db`).
pub fn load_private<T: DeserializeOwned>(path: &Path, key: &str) -> Result<T, StoreError> {
    StoredFile::read(path)?.require(key)
}

/// Writes a private pickledb file holding `value` under `key`, durably and mode 0600
/// (side file in a 0700 directory, fsync, rename, fsync the directory).
pub fn save_private<T: Serialize>(path: &Path, key: &str, value: &T) -> Result<(), StoreError> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".into());
    // pickledb dumps through a temporary file of its own, created with the process's
    // umask; inside a private (0700) directory nobody else can read it meanwhile.
    let private = dir.join(format!(".{name}.new.d"));
    let _ = fs::remove_dir_all(&private);
    DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .map_err(io_error(&private))?;
    let target = durable::Target {
        side: private.join("key.db"),
        path,
        private: true,
    };
    let result = durable::write(target, |db, side| set(db, side, key, value));
    let _ = fs::remove_dir_all(&private);
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("minichain-keyfile-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("can create a scratch directory");
        dir
    }

    fn record(next_leaf: u32) -> KeyRecord {
        KeyRecord {
            lms_type: 5,
            ots_type: 3,
            identifier: "00".repeat(16),
            seed: "11".repeat(32),
            next_leaf,
            address: "address".into(),
        }
    }

    #[test]
    fn a_key_file_is_private_and_comes_back_as_written() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("alice.key");
        create(&path, &record(0)).expect("creates");
        let mode = fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&path).expect("loads"), record(0));
        save(&path, &record(7)).expect("saves");
        assert_eq!(load(&path).expect("loads").next_leaf, 7);
        let mode = fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            fs::read_dir(&dir).expect("lists").count(),
            1,
            "no side files left"
        );
    }

    #[test]
    fn creating_over_an_existing_file_is_refused_and_leaves_it_alone() {
        let dir = temp_dir("overwrite");
        let path = dir.join("alice.key");
        create(&path, &record(3)).expect("creates");
        let error = create(&path, &record(0)).expect_err("refused");
        assert!(error.to_string().contains("already there"), "{error}");
        assert_eq!(load(&path).expect("loads").next_leaf, 3);
    }

    #[test]
    fn a_file_that_is_not_a_key_file_is_named_as_damaged() {
        let dir = temp_dir("damaged");
        let path = dir.join("notes.txt");
        fs::write(&path, "hello").expect("writes");
        let error = load(&path).expect_err("refused");
        assert!(error.to_string().contains("notes.txt"), "{error}");
    }
}
