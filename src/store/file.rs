//! One pickledb file: read back with its damage explained ([`StoredFile`]), and the
//! small helpers every writer in `store` uses.

use super::error::{StoreError, io_error, pickle_error};
use pickledb::{PickleDb, PickleDbDumpPolicy, SerializationMethod};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One pickledb file as read from disk, with its raw entries kept to explain bad values.
pub(super) struct StoredFile {
    pub(super) path: PathBuf,
    pub(super) db: PickleDb,
    raw: HashMap<String, String>,
}

impl StoredFile {
    /// Reads a file after checking what pickledb would panic on (non-UTF-8) or silently
    /// misread (a wrong shape).
    pub(super) fn read(path: &Path) -> Result<StoredFile, StoreError> {
        let bytes = fs::read(path).map_err(io_error(path))?;
        let damaged = |reason: String| StoreError::Damaged {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|error| damaged(format!("not UTF-8 text ({error})")))?;
        type Maps = (HashMap<String, String>, HashMap<String, Vec<String>>);
        let (raw, _lists): Maps = serde_json::from_str(text)
            .map_err(|error| damaged(format!("not a pickledb JSON file ({error})")))?;
        let db = PickleDb::load(
            path,
            PickleDbDumpPolicy::NeverDump,
            SerializationMethod::Json,
        )
        .map_err(|error| damaged(error.to_string()))?;
        Ok(StoredFile {
            path: path.to_path_buf(),
            db,
            raw,
        })
    }

    /// Reads the file if it exists.
    pub(super) fn read_if_present(path: &Path) -> Result<Option<StoredFile>, StoreError> {
        if path.exists() {
            StoredFile::read(path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Decodes one entry; `Ok(None)` when absent, `Damaged` (with the reason pickledb's
    /// `get` does not give) when present but unreadable.
    pub(super) fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        if !self.db.exists(key) {
            return Ok(None);
        }
        if let Some(value) = self.db.get::<T>(key) {
            return Ok(Some(value));
        }
        let reason = match self
            .raw
            .get(key)
            .map(|text| serde_json::from_str::<T>(text))
        {
            Some(Err(error)) => format!("entry {key:?} cannot be read ({error})"),
            _ => format!("entry {key:?} cannot be read"),
        };
        Err(StoreError::Damaged {
            path: self.path.clone(),
            reason,
        })
    }

    /// Decodes an entry that must be there.
    pub(super) fn require<T: DeserializeOwned>(&self, key: &str) -> Result<T, StoreError> {
        self.get(key)?.ok_or_else(|| StoreError::Damaged {
            path: self.path.clone(),
            reason: format!("no {key:?} entry"),
        })
    }
}

/// Sets one entry, naming the file if it cannot be encoded.
pub(super) fn set<T: Serialize + ?Sized>(
    db: &mut PickleDb,
    path: &Path,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    db.set(key, &value).map_err(pickle_error(path))
}

/// Removes a file; one already gone is fine.
pub(super) fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
