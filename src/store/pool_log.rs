//! The pool on disk: a base file plus append-only log files, so that admitting a batch of
//! transactions writes O(the batch), never O(the pool) (issue 8, SPEC §7).
//!
//! - `pool.db` — the **base**: `transactions`, the pool when it was last compacted, and
//!   `through`, the highest log sequence number folded into it.
//! - `pool-log-FFFFFFFFFFFF-LLLLLLLLLLLL.db` — a **log file**: `transactions` admitted by the
//!   batches numbered `F..=L`, in arrival order. Each group-commit batch writes one new file
//!   (`F == L`). When the last [`MERGE_FANOUT`] files are of the same level they are merged
//!   into one of the next level, so a directory holds at most a few dozen log files and each
//!   transaction is rewritten O(log n) times in all (amortised, off the chain mutex).
//!
//! Every file is written whole, once (side file, fsync, rename, fsync the directory) and
//! never changed. The stored pool is the base followed by the log files after `through` in
//! sequence order. A file covered by another (a merge or compaction interrupted before it
//! deleted its inputs) is skipped, so a crash at any moment leaves the old files or the new
//! ones, with the same transactions either way.
//!
//! Removals are never logged: every change that removes pooled transactions (mining, a
//! chain switch, restart) rewrites the base (**compaction**: base first, then the log files
//! are deleted), a cost that already grows with what it removes. Those changes first write
//! every queued batch, so the pool they compact holds nothing that is not yet on disk.

use super::durable::{WriteError, sync_dir, write_whole};
use super::error::{StoreError, io_error};
use super::file::{StoredFile, remove_if_present, set};
use crate::core::block::Transaction;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// The base file's name.
pub const BASE_FILE: &str = "pool.db";
/// How many log files of one level are merged into one of the next.
pub const MERGE_FANOUT: usize = 16;

const LOG_PREFIX: &str = "pool-log-";

/// The pool's log files, owned by whoever holds the lock around it (the group commit):
/// appends, merges and compactions.
#[derive(Debug, Default)]
pub struct PoolLog {
    dir: PathBuf,
    /// Live log files after the base, in sequence order.
    files: Vec<LogFile>,
    /// The number the next batch's file gets. Every log file on disk has a lower one, so a
    /// base folding `next_seq - 1` covers them all.
    next_seq: u64,
    /// Log files left from an interrupted merge or compaction: the next compaction removes them.
    stale_files: usize,
}

/// One live log file.
#[derive(Clone, Debug)]
struct LogFile {
    first: u64,
    last: u64,
    /// 0 for a batch; a merge of [`MERGE_FANOUT`] files of level `k` has level `k + 1`.
    level: u32,
    path: PathBuf,
}

impl PoolLog {
    /// Durably appends one batch as a new log file. On an error nothing was added: the file
    /// is absent (or removed again), and the next append reuses its number.
    pub fn append<T: Serialize>(&mut self, transactions: &[T]) -> Result<(), StoreError> {
        let seq = self.next_seq;
        let name = log_file_name(seq, seq);
        match write_whole(&self.dir, &name, |db, path| {
            set(db, path, "transactions", transactions)
        }) {
            Ok(path) => {
                self.files.push(LogFile {
                    first: seq,
                    last: seq,
                    level: 0,
                    path,
                });
                self.next_seq += 1;
                Ok(())
            }
            Err(WriteError { error, renamed }) => {
                if renamed {
                    // In place but perhaps not durable, and its requests are failed: take it
                    // away. Should that fail too, skip its number so that the next
                    // compaction covers it.
                    let path = self.dir.join(&name);
                    if remove_if_present(&path)
                        .and_then(|()| sync_dir(&self.dir))
                        .is_err()
                    {
                        log::error!(
                            "{} holds a batch that was refused and could not be removed; the next compaction drops it",
                            path.display()
                        );
                        self.next_seq += 1;
                    }
                }
                Err(error)
            }
        }
    }

    /// Merges the last [`MERGE_FANOUT`] log files while they are of one level. A failed merge
    /// changes nothing that matters (the inputs stay live) and is only reported.
    pub fn merge_if_due(&mut self) -> Result<(), StoreError> {
        while self.files.len() >= MERGE_FANOUT {
            let start = self.files.len() - MERGE_FANOUT;
            let level = self.files[start].level;
            if self.files[start..].iter().any(|file| file.level != level) {
                break;
            }
            let inputs = &self.files[start..];
            let mut transactions: Vec<serde_json::Value> = Vec::new();
            for file in inputs {
                let stored = StoredFile::read(&file.path)?;
                let batch: Vec<serde_json::Value> = stored.require("transactions")?;
                transactions.extend(batch);
            }
            let (first, last) = (inputs[0].first, inputs[MERGE_FANOUT - 1].last);
            let path = write_whole(&self.dir, &log_file_name(first, last), |db, path| {
                set(db, path, "transactions", &transactions)
            })
            .map_err(|failed| failed.error)?;
            let inputs: Vec<LogFile> = self.files.drain(start..).collect();
            self.files.push(LogFile {
                first,
                last,
                level: level + 1,
                path,
            });
            // The merged file covers its inputs, so removing them may fail or be cut short.
            for input in inputs {
                remove_if_present(&input.path)?;
            }
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Rewrites the base as `pool` and deletes every log file. The caller guarantees that
    /// `pool` holds every logged transaction still pending (all queued batches written).
    /// Once the base is durable the compaction has happened; a failure to delete a log file
    /// after that is only reported (the file is covered and skipped at start-up).
    pub fn compact(&mut self, pool: &[Transaction]) -> Result<(), StoreError> {
        let through = self.next_seq.saturating_sub(1);
        write_base(&self.dir, pool, through)?;
        self.logs_folded_into_base();
        if let Err(error) = delete_logs_through(&self.dir, through) {
            log::warn!("compacted the pool but could not delete an old log file: {error}");
        }
        Ok(())
    }

    /// Forgets the log files: a chain switch or restart folded them into the base (see
    /// `last_log_seq`).
    pub fn logs_folded_into_base(&mut self) {
        self.files.clear();
        self.stale_files = 0;
    }

    /// Whether start-up should compact: log files to fold, or stale ones to remove.
    pub fn needs_compaction(&self) -> bool {
        !self.files.is_empty() || self.stale_files > 0
    }

    /// Live log files (for tests and logging).
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Where the next batch's file goes (tests put an obstacle there).
    pub fn next_file_path(&self) -> PathBuf {
        self.dir.join(log_file_name(self.next_seq, self.next_seq))
    }
}

/// Reads the stored pool: the base, then the log files after it in sequence order.
pub(super) fn load(dir: &Path) -> Result<(Vec<Transaction>, PoolLog), StoreError> {
    let (mut pool, through) = match StoredFile::read_if_present(&dir.join(BASE_FILE))? {
        Some(file) => (
            file.require::<Vec<Transaction>>("transactions")?,
            file.get::<u64>("through")?.unwrap_or(0),
        ),
        None => (Vec::new(), 0),
    };
    let mut on_disk = log_files(dir)?;
    // Covering files (wider ranges) first, so the files they cover are skipped.
    on_disk.sort_by_key(|(first, last, _)| (*first, std::cmp::Reverse(*last)));
    let mut covered = through;
    let mut files = Vec::new();
    let mut stale_files = 0;
    for (first, last, path) in on_disk {
        if last <= covered {
            stale_files += 1;
            continue;
        }
        if first <= covered {
            return Err(StoreError::Damaged {
                path,
                reason: format!(
                    "log file overlaps batches already read (up to {covered}); it was not written by this node"
                ),
            });
        }
        let transactions: Vec<Transaction> = StoredFile::read(&path)?.require("transactions")?;
        pool.extend(transactions);
        covered = last;
        files.push(LogFile {
            first,
            last,
            level: level_of(last - first + 1),
            path,
        });
    }
    let log = PoolLog {
        dir: dir.to_path_buf(),
        files,
        next_seq: covered + 1,
        stale_files,
    };
    Ok((pool, log))
}

/// The highest batch number of any log file on disk (0 if none): a journal that replaces
/// the pool records it, so that applying the journal folds exactly those files.
pub(super) fn last_log_seq(dir: &Path) -> Result<u64, StoreError> {
    Ok(log_files(dir)?
        .into_iter()
        .map(|(_, last, _)| last)
        .max()
        .unwrap_or(0))
}

/// Durably writes the base: `pool`, folding every log file up to `through`.
pub(super) fn write_base(dir: &Path, pool: &[Transaction], through: u64) -> Result<(), StoreError> {
    write_whole(dir, BASE_FILE, |db, path| {
        set(db, path, "transactions", pool)?;
        set(db, path, "through", &through)
    })
    .map(|_| ())
    .map_err(|failed| failed.error)
}

/// Deletes the log files a base with `through` covers.
pub(super) fn delete_logs_through(dir: &Path, through: u64) -> Result<(), StoreError> {
    for (_, last, path) in log_files(dir)? {
        if last <= through {
            remove_if_present(&path)?;
        }
    }
    sync_dir(dir)
}

/// The file name of the log file for batches `first..=last`.
pub fn log_file_name(first: u64, last: u64) -> String {
    format!("{LOG_PREFIX}{first:012}-{last:012}.db")
}

/// Log files on disk: (first, last, path), unordered.
fn log_files(dir: &Path) -> Result<Vec<(u64, u64, PathBuf)>, StoreError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(range) = name
            .strip_prefix(LOG_PREFIX)
            .and_then(|rest| rest.strip_suffix(".db"))
        else {
            continue;
        };
        match range
            .split_once('-')
            .and_then(|(first, last)| Some((first.parse().ok()?, last.parse().ok()?)))
        {
            Some((first, last)) if first <= last => files.push((first, last, entry.path())),
            _ => {
                return Err(StoreError::Damaged {
                    path: entry.path(),
                    reason: "the name is not pool-log-FIRST-LAST.db".into(),
                });
            }
        }
    }
    Ok(files)
}

/// The level of a merged file covering `batches` batches: log base [`MERGE_FANOUT`].
fn level_of(batches: u64) -> u32 {
    batches.max(1).ilog(MERGE_FANOUT as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("minichain-pool-log-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn txs(range: std::ops::Range<u64>) -> Vec<Transaction> {
        range.map(|i| Transaction::new("a", "b", 1, i)).collect()
    }

    #[test]
    fn appends_merge_and_come_back_in_order() {
        let dir = temp_dir("merge");
        let (pool, mut log) = load(&dir).unwrap();
        assert!(pool.is_empty());
        let all = txs(0..600);
        for batch in all.chunks(2) {
            log.append(batch).unwrap();
            log.merge_if_due().unwrap();
        }
        // 300 batches = 1 file of 256 + 2 of 16 + 12 of 1.
        assert_eq!(log.file_count(), 15);
        assert_eq!(log_files(&dir).unwrap().len(), 15);
        let (pool, log) = load(&dir).unwrap();
        assert_eq!(pool, all);
        assert_eq!(log.next_seq, 301);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn compaction_folds_every_log_and_covered_files_are_skipped() {
        let dir = temp_dir("compact");
        let (_, mut log) = load(&dir).unwrap();
        for batch in txs(0..60).chunks(4) {
            log.append(batch).unwrap();
        }
        log.append(&txs(60..64)).unwrap();
        // A merge interrupted before deleting its inputs: both are on disk.
        let copies: Vec<(PathBuf, Vec<u8>)> = log
            .files
            .iter()
            .map(|file| (file.path.clone(), fs::read(&file.path).unwrap()))
            .collect();
        log.merge_if_due().unwrap();
        assert_eq!(log.file_count(), 1);
        for (path, bytes) in &copies {
            fs::write(path, bytes).unwrap();
        }
        let expected = txs(0..64);
        let (pool, mut log) = load(&dir).unwrap();
        assert_eq!(pool, expected);
        assert_eq!(log.file_count(), 1);
        log.compact(&pool[10..]).unwrap();
        assert!(log_files(&dir).unwrap().is_empty());
        log.append(&txs(64..65)).unwrap();
        let (pool, _) = load(&dir).unwrap();
        let expected = txs(10..65);
        assert_eq!(pool, expected);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_append_adds_nothing_and_the_next_one_reuses_its_number() {
        let dir = temp_dir("fail");
        let (_, mut log) = load(&dir).unwrap();
        log.append(&txs(0..1)).unwrap();
        // A directory where the next file goes: rename fails, even for root.
        let blocker = dir.join(log_file_name(2, 2));
        fs::create_dir_all(blocker.join("x")).unwrap();
        assert!(log.append(&txs(1..2)).is_err());
        assert!(!dir.join(format!("{}.new", log_file_name(2, 2))).exists());
        fs::remove_dir_all(&blocker).unwrap();
        log.append(&txs(2..3)).unwrap();
        let (pool, _) = load(&dir).unwrap();
        assert_eq!(pool, vec![txs(0..1)[0].clone(), txs(2..3)[0].clone()]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
