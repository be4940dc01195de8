//! [`StoreError`]: why the data directory cannot be used, each variant naming the file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why the data directory cannot be used. Every variant names the file or holder.
#[derive(Debug)]
pub enum StoreError {
    /// Reading or writing failed.
    Io { path: PathBuf, source: io::Error },
    /// A file's contents are not what this node wrote; it is left as it is.
    Damaged { path: PathBuf, reason: String },
    /// Another process holds the directory.
    Locked { dir: PathBuf, holder: String },
    /// The directory was made with other network settings.
    Mismatch {
        path: PathBuf,
        setting: &'static str,
        stored: u64,
        given: u64,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::Damaged { path, reason } => write!(
                f,
                "{}: damaged data file: {reason} (the file was left unchanged; restore it, or move it away to start from what remains)",
                path.display()
            ),
            StoreError::Locked { dir, holder } => write!(
                f,
                "data directory {} is in use by another minichain node ({holder}); stop it or pick another --data-dir",
                dir.display()
            ),
            StoreError::Mismatch {
                path,
                setting,
                stored,
                given,
            } => write!(
                f,
                "{}: this data directory was made with --{setting} {stored}, not {given}; start with --{setting} {stored} to keep its chain, or start over with `rm -rf {}` (this deletes all of it: chain, pool, peers, the node's wallet with its coins, and its owner token), or use another --data-dir",
                path.display(),
                shell_quoted(path.parent().unwrap_or(path))
            ),
        }
    }
}

/// A path as a shell word, so the `rm -rf` a refusal suggests can be pasted as it is.
fn shell_quoted(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub(super) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn pickle_error(path: &Path) -> impl FnOnce(pickledb::error::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.to_path_buf(),
        source: io::Error::other(error.to_string()),
    }
}
