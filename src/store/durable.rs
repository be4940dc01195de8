//! The one way `store` makes a file durable: pickledb entries dumped to a side file,
//! fsync'd, renamed over the real file, and the directory fsync'd — so the file is the
//! old one or the new one, after a crash or a power loss. Every writer in `store` (block
//! segments, the journal, meta, peers, pool logs, key files) goes through here.

use super::error::{StoreError, io_error, pickle_error};
use pickledb::{PickleDb, PickleDbDumpPolicy, SerializationMethod};
use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A whole-file write that failed, and whether the new file may already be in place (the
/// rename happened, the directory's fsync did not).
pub(super) struct WriteError {
    /// What failed.
    pub error: StoreError,
    /// The new file is in place, but perhaps not durably.
    pub renamed: bool,
}

impl From<WriteError> for StoreError {
    fn from(write: WriteError) -> StoreError {
        write.error
    }
}

/// Where a durable write goes.
pub(super) struct Target<'a> {
    /// Where pickledb dumps first (it writes its own temporary beside this path).
    pub side: PathBuf,
    /// The file the side file is renamed over.
    pub path: &'a Path,
    /// Made mode 0600 before it is renamed into place (keys, the wallet).
    pub private: bool,
}

/// Writes `dir/name` whole through the side file `dir/name.new`; returns its path.
pub(super) fn write_whole(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut PickleDb, &Path) -> Result<(), StoreError>,
) -> Result<PathBuf, WriteError> {
    let path = dir.join(name);
    write(
        Target {
            side: side_path(dir, name),
            path: &path,
            private: false,
        },
        fill,
    )?;
    Ok(path)
}

/// Fills a fresh database (see [`new_db`]) and [`install`]s it.
pub(super) fn write(
    target: Target<'_>,
    fill: impl FnOnce(&mut PickleDb, &Path) -> Result<(), StoreError>,
) -> Result<(), WriteError> {
    let mut db = new_db(&target.side);
    if let Err(error) = fill(&mut db, &target.side) {
        return Err(WriteError {
            error,
            renamed: false,
        });
    }
    install(&mut db, target)
}

/// An empty database whose dump goes to `side`.
pub(super) fn new_db(side: &Path) -> PickleDb {
    PickleDb::new(
        side,
        PickleDbDumpPolicy::DumpUponRequest,
        SerializationMethod::Json,
    )
}

/// Dumps `db` (made by [`new_db`] on `target.side`) to its side file, fsyncs it, renames
/// it over `target.path` and fsyncs that file's directory. Before the rename, a failure
/// removes the side file and leaves the old file as it was.
pub(super) fn install(db: &mut PickleDb, target: Target<'_>) -> Result<(), WriteError> {
    let Target {
        side,
        path,
        private,
    } = target;
    let before_rename = |error: StoreError| {
        let _ = fs::remove_file(&side);
        WriteError {
            error,
            renamed: false,
        }
    };
    db.dump()
        .map_err(pickle_error(&side))
        .map_err(before_rename)?;
    if private {
        fs::set_permissions(&side, fs::Permissions::from_mode(0o600))
            .map_err(io_error(&side))
            .map_err(before_rename)?;
    }
    sync_file(&side).map_err(before_rename)?;
    fs::rename(&side, path)
        .map_err(io_error(path))
        .map_err(before_rename)?;
    sync_dir(&parent_dir(path)).map_err(|error| WriteError {
        error,
        renamed: true,
    })
}

/// The side file a write of `dir/name` dumps to first (removed at start if left over).
pub(super) fn side_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.new"))
}

/// Fsyncs a written file's contents.
pub(super) fn sync_file(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io_error(path))
}

/// Fsyncs a directory, so that the files created, renamed or removed in it stay so.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error(dir))
}

/// The directory holding `path` (`.` for a bare file name).
pub(super) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
