//! Everything on disk, through pickledb (SPEC §7).
//!
//! Layout of a data directory:
//! - `lock` — held (advisory lock) by the running node, and holding its pid;
//! - `meta.db` — node id, difficulty and reward the directory was made with;
//! - `blocks-NNNNNN.db` — segment `N` holds the blocks with index `N*100 ..= N*100+99`
//!   (genesis, index 1, is never stored), so a new block rewrites one bounded file;
//! - `pool.db` and `pool-log-*.db` — pending transactions: a base and append-only log
//!   files, so admitting a batch writes O(the batch) ([`pool_log`]);
//! - `peers.db` — peers;
//! - `journal.db` — only while a chain switch or restart is being written: the whole
//!   change, written first, so that a crash leaves the old state or the new one.
//!
//! Every write is durable before it returns: pickledb dumps to a side file, which is
//! fsync'd and then renamed over the real one, and the directory is fsync'd.
//!
//! **Invariant:** the only module that imports pickledb. It stores and checks file
//! integrity, never consensus rules.

pub mod keyfile;
pub mod owner_token;
pub mod pool_log;

use crate::core::block::{Block, Transaction};
use pickledb::{PickleDb, PickleDbDumpPolicy, SerializationMethod};
use pool_log::PoolLog;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Blocks per segment file.
pub const BLOCKS_PER_SEGMENT: u64 = 100;

const META_FILE: &str = "meta.db";
const PEERS_FILE: &str = "peers.db";
const JOURNAL_FILE: &str = "journal.db";
const LOCK_FILE: &str = "lock";

/// A node's data directory, locked for as long as this value lives.
pub struct Store {
    dir: PathBuf,
    /// Holds the advisory lock; the OS releases it when the process ends, even on `kill -9`.
    _lock: File,
    /// A durable journal whose application failed part-way (e.g. disk full): the change is
    /// committed, and every later write must finish it first, or a restart would replay it
    /// over what came after.
    journal_pending: bool,
}

/// What a data directory held at start-up, before consensus rules are checked.
#[derive(Debug, Default)]
pub struct Loaded {
    /// This directory's node id, made once and kept.
    pub node_id: String,
    /// Stored blocks (index 2 onwards) in order, each with the file it came from.
    pub blocks: Vec<(PathBuf, Block)>,
    /// Pending transactions in arrival order.
    pub pool: Vec<Transaction>,
    /// The pool's log files, for the group commit to append to.
    pub pool_log: PoolLog,
    /// Registered peers, their kinds and the forgotten addresses.
    pub peers: StoredPeers,
}

/// `peers.db`: the peer list as kept on disk (SPEC §6c). A file from before kinds holds
/// only `peers`: every peer in it is the owner's.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredPeers {
    /// Every peer, in registration order.
    pub peers: Vec<String>,
    /// The learned ones, each with who told this node of it; the rest are the owner's.
    pub learned: std::collections::BTreeMap<String, String>,
    /// Addresses the owner forgot: peer exchange and strangers do not bring them back.
    pub forgotten: Vec<String>,
}

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
                "{}: this data directory was made with --{setting} {stored}, not {given}; start with --{setting} {stored} to keep its chain, or start over with `rm -rf {}` (this deletes the node's chain, pool and peers), or use another --data-dir",
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

/// One pickledb file as read from disk, with its raw entries kept to explain bad values.
struct StoredFile {
    path: PathBuf,
    db: PickleDb,
    raw: HashMap<String, String>,
}

impl StoredFile {
    /// Reads a file after checking what pickledb would panic on (non-UTF-8) or silently
    /// misread (a wrong shape).
    fn read(path: &Path) -> Result<StoredFile, StoreError> {
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
    fn read_if_present(path: &Path) -> Result<Option<StoredFile>, StoreError> {
        if path.exists() {
            StoredFile::read(path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Decodes one entry; `Ok(None)` when absent, `Damaged` (with the reason pickledb's
    /// `get` does not give) when present but unreadable.
    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
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
    fn require<T: DeserializeOwned>(&self, key: &str) -> Result<T, StoreError> {
        self.get(key)?.ok_or_else(|| StoreError::Damaged {
            path: self.path.clone(),
            reason: format!("no {key:?} entry"),
        })
    }
}

impl Store {
    /// Creates (if needed) and locks `dir`, finishes an interrupted chain switch, and
    /// reads everything back. `new_node_id` is called only for a new directory.
    pub fn open(
        dir: &Path,
        difficulty: u32,
        reward: u64,
        new_node_id: impl FnOnce() -> String,
    ) -> Result<(Store, Loaded), StoreError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let lock = lock_directory(dir)?;
        let mut store = Store {
            dir: dir.to_path_buf(),
            _lock: lock,
            journal_pending: true,
        };
        store.remove_leftover_side_files()?;
        let node_id = store.load_meta(difficulty, reward, new_node_id)?;
        store.finish_pending_journal()?;
        let (pool, pool_log) = pool_log::load(&store.dir)?;
        let peers = match StoredFile::read_if_present(&store.path(PEERS_FILE))? {
            Some(file) => StoredPeers {
                peers: file.require("peers")?,
                learned: file.get("learned")?.unwrap_or_default(),
                forgotten: file.get("forgotten")?.unwrap_or_default(),
            },
            None => StoredPeers::default(),
        };
        let loaded = Loaded {
            node_id,
            blocks: store.load_blocks()?,
            pool,
            pool_log,
            peers,
        };
        Ok((store, loaded))
    }

    /// The directory this store owns.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Durably stores a block appended at the tip: rewrites its one segment only.
    pub fn append_block(&mut self, block: &Block) -> Result<(), StoreError> {
        self.finish_pending_journal()?;
        self.rewrite_segments(block.header.index, std::slice::from_ref(block))?;
        self.sync_dir()
    }

    /// Durably replaces the peer list, its kinds and the forgotten addresses.
    pub fn save_peers(&mut self, peers: &StoredPeers) -> Result<(), StoreError> {
        self.finish_pending_journal()?;
        let mut db = self.new_db(PEERS_FILE);
        let path = self.path(PEERS_FILE);
        set(&mut db, &path, "peers", &peers.peers)?;
        set(&mut db, &path, "learned", &peers.learned)?;
        set(&mut db, &path, "forgotten", &peers.forgotten)?;
        self.dump_durably(&mut db, PEERS_FILE)
    }

    /// Durably and atomically makes the stored chain `stored[..from] + blocks` and the
    /// pool `pool`: a chain switch (`from` = fork + 1) or a restart (`from` = 2, no blocks).
    /// `pool` replaces the pool base and every pool log file now on disk, so the caller
    /// holds the pool log's lock with no batch queued (then [`PoolLog::logs_folded_into_base`]).
    ///
    /// The change is committed once its journal is durable: an error before that means
    /// nothing changed; after it, a failure to apply the journal is kept pending and
    /// finished before any later write (or at the next start), so a crash leaves the old
    /// state or the new one, never a mix.
    pub fn replace_chain(
        &mut self,
        from: u64,
        blocks: &[Block],
        pool: &[Transaction],
    ) -> Result<(), StoreError> {
        self.finish_pending_journal()?;
        self.write_journal(from, blocks, pool)?;
        self.journal_pending = true;
        if let Err(error) = self.finish_pending_journal() {
            log::error!("chain change committed to its journal but not yet applied: {error}");
        }
        Ok(())
    }

    /// Durably records a whole chain change before any segment is touched.
    fn write_journal(
        &self,
        from: u64,
        blocks: &[Block],
        pool: &[Transaction],
    ) -> Result<(), StoreError> {
        let path = self.path(JOURNAL_FILE);
        let mut journal = self.new_db(JOURNAL_FILE);
        set(&mut journal, &path, "from", &from)?;
        set(&mut journal, &path, "blocks", &blocks)?;
        set(&mut journal, &path, "pool", &pool)?;
        let pool_through = pool_log::last_log_seq(&self.dir)?;
        set(&mut journal, &path, "pool_through", &pool_through)?;
        self.dump_durably(&mut journal, JOURNAL_FILE)
    }

    /// Applies a journal left by an interrupted or failed change, then removes it; the
    /// directory is fsync'd before later writes, so the journal cannot come back.
    fn finish_pending_journal(&mut self) -> Result<(), StoreError> {
        if !self.journal_pending {
            return Ok(());
        }
        let path = self.path(JOURNAL_FILE);
        if let Some(journal) = StoredFile::read_if_present(&path)? {
            let from: u64 = journal.require("from")?;
            let blocks: Vec<Block> = journal.require("blocks")?;
            let pool: Vec<Transaction> = journal.require("pool")?;
            let pool_through: u64 = journal.get("pool_through")?.unwrap_or(0);
            self.rewrite_segments(from, &blocks)?;
            self.delete_segments_after(from - 1 + blocks.len() as u64)?;
            pool_log::write_base(&self.dir, &pool, pool_through)?;
            pool_log::delete_logs_through(&self.dir, pool_through)?;
            fs::remove_file(&path).map_err(io_error(&path))?;
        }
        self.sync_dir()?;
        self.journal_pending = false;
        Ok(())
    }

    /// Rewrites the segments holding indexes `from ..` so they end with `blocks` (which
    /// start at index `from`); entries before `from` in the first segment are kept.
    fn rewrite_segments(&self, from: u64, blocks: &[Block]) -> Result<(), StoreError> {
        let from = from.max(2);
        let new_tip = from - 1 + blocks.len() as u64;
        let first_segment = from / BLOCKS_PER_SEGMENT;
        for segment in first_segment..=new_tip / BLOCKS_PER_SEGMENT {
            let name = segment_file_name(segment);
            let path = self.path(&name);
            let mut db = self.new_db(&name);
            if segment == first_segment
                && let Some(existing) = StoredFile::read_if_present(&path)?
            {
                for key in existing.db.get_all() {
                    if key.parse::<u64>().is_ok_and(|index| index < from) {
                        let value: serde_json::Value = existing.require(&key)?;
                        set(&mut db, &path, &key, &value)?;
                    }
                }
            }
            for block in blocks
                .iter()
                .filter(|block| block.header.index / BLOCKS_PER_SEGMENT == segment)
            {
                set(&mut db, &path, &block.header.index.to_string(), block)?;
            }
            if db.total_keys() == 0 {
                remove_if_present(&path)?;
            } else {
                self.dump_durably(&mut db, &name)?;
            }
        }
        Ok(())
    }

    /// Deletes the segments holding only blocks after `tip` (a shorter chain: restart).
    fn delete_segments_after(&self, tip: u64) -> Result<(), StoreError> {
        for (segment, path) in self.segment_files()? {
            if segment > tip / BLOCKS_PER_SEGMENT {
                remove_if_present(&path)?;
            }
        }
        Ok(())
    }

    /// Reads every segment in order, checking that indexes run 2, 3, 4, … without gaps.
    fn load_blocks(&self) -> Result<Vec<(PathBuf, Block)>, StoreError> {
        let mut blocks = Vec::new();
        for (segment, path) in self.segment_files()? {
            let file = StoredFile::read(&path)?;
            let mut indexes = Vec::new();
            for key in file.db.get_all() {
                match key.parse::<u64>() {
                    Ok(index) if index / BLOCKS_PER_SEGMENT == segment && index >= 2 => {
                        indexes.push(index)
                    }
                    _ => {
                        return Err(StoreError::Damaged {
                            path,
                            reason: format!("key {key:?} is not a block index of this segment"),
                        });
                    }
                }
            }
            indexes.sort_unstable();
            for index in indexes {
                let expected = blocks.len() as u64 + 2;
                if index != expected {
                    return Err(StoreError::Damaged {
                        path,
                        reason: format!("block {expected} is missing (found block {index})"),
                    });
                }
                let block: Block = file.require(&index.to_string())?;
                if block.header.index != index {
                    return Err(StoreError::Damaged {
                        path,
                        reason: format!(
                            "the entry for block {index} holds block {}",
                            block.header.index
                        ),
                    });
                }
                blocks.push((path.clone(), block));
            }
        }
        Ok(blocks)
    }

    /// Reads or creates `meta.db`, refusing a directory made for another network.
    fn load_meta(
        &self,
        difficulty: u32,
        reward: u64,
        new_node_id: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let path = self.path(META_FILE);
        let Some(meta) = StoredFile::read_if_present(&path)? else {
            let node_id = new_node_id();
            let mut db = self.new_db(META_FILE);
            set(&mut db, &path, "node_id", &node_id)?;
            set(&mut db, &path, "difficulty", &difficulty)?;
            set(&mut db, &path, "reward", &reward)?;
            self.dump_durably(&mut db, META_FILE)?;
            return Ok(node_id);
        };
        for (setting, given) in [("difficulty", difficulty as u64), ("reward", reward)] {
            let stored: u64 = meta.require(setting)?;
            if stored != given {
                return Err(StoreError::Mismatch {
                    path,
                    setting,
                    stored,
                    given,
                });
            }
        }
        meta.require("node_id")
    }

    /// An empty database whose dump goes to the side file of `name`
    /// (see [`Store::dump_durably`]).
    fn new_db(&self, name: &str) -> PickleDb {
        PickleDb::new(
            self.side_path(name),
            PickleDbDumpPolicy::DumpUponRequest,
            SerializationMethod::Json,
        )
    }

    /// Dumps a [`Store::new_db`] database to its side file, fsyncs it, renames it over
    /// `name` and fsyncs the directory: the file is the old one or the new one, durably.
    fn dump_durably(&self, db: &mut PickleDb, name: &str) -> Result<(), StoreError> {
        let side = self.side_path(name);
        let target = self.path(name);
        db.dump().map_err(pickle_error(&side))?;
        File::open(&side)
            .and_then(|file| file.sync_all())
            .map_err(io_error(&side))?;
        fs::rename(&side, &target).map_err(io_error(&target))?;
        self.sync_dir()
    }

    /// Existing segment files, by segment number.
    fn segment_files(&self) -> Result<Vec<(u64, PathBuf)>, StoreError> {
        let mut segments = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let entry = entry.map_err(io_error(&self.dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(number) = name
                .strip_prefix("blocks-")
                .and_then(|rest| rest.strip_suffix(".db"))
                .and_then(|digits| digits.parse::<u64>().ok())
            {
                segments.push((number, entry.path()));
            }
        }
        segments.sort();
        Ok(segments)
    }

    /// Side files of an interrupted write are incomplete by definition: remove them.
    fn remove_leftover_side_files(&self) -> Result<(), StoreError> {
        for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let entry = entry.map_err(io_error(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".db.new") || name.contains(".db.new.temp.") {
                remove_if_present(&entry.path())?;
            }
        }
        Ok(())
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error(&self.dir))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn side_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.new"))
    }
}

/// The file name of segment `number`.
pub fn segment_file_name(number: u64) -> String {
    format!("blocks-{number:06}.db")
}

/// Takes the directory's lock or names the process holding it.
fn lock_directory(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "pid unknown".to_string(),
                pid => format!("pid {pid}"),
            };
            return Err(StoreError::Locked {
                dir: dir.to_path_buf(),
                holder,
            });
        }
        Err(TryLockError::Error(source)) => return Err(StoreError::Io { path, source }),
    }
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .and_then(|()| file.sync_all())
        .map_err(io_error(&path))?;
    Ok(file)
}

fn set<T: Serialize + ?Sized>(
    db: &mut PickleDb,
    path: &Path,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    db.set(key, &value).map_err(pickle_error(path))
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn pickle_error(path: &Path) -> impl FnOnce(pickledb::error::Error) -> StoreError + '_ {
    move |error| StoreError::Io {
        path: path.to_path_buf(),
        source: io::Error::other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::{Header, genesis, merkle_root_of};

    /// Blocks with consecutive indexes from 2; the store checks shape, not consensus.
    fn blocks(count: u64, tag: &str) -> Vec<Block> {
        let mut parent = genesis(8);
        (0..count)
            .map(|_| {
                let transactions =
                    vec![Transaction::coinbase(tag, 50, parent.header.timestamp + 1)];
                let header = Header {
                    index: parent.header.index + 1,
                    timestamp: parent.header.timestamp + 1,
                    previous_hash: parent.hash,
                    merkle_root: merkle_root_of(&transactions),
                    difficulty: 8,
                    proof: 0,
                };
                parent = Block::from_header(header, transactions);
                parent.clone()
            })
            .collect()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("minichain-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn open(dir: &Path) -> (Store, Loaded) {
        Store::open(dir, 8, 50, || "test-node".into()).unwrap()
    }

    fn stored(loaded: &Loaded) -> Vec<Block> {
        loaded
            .blocks
            .iter()
            .map(|(_, block)| block.clone())
            .collect()
    }

    #[test]
    fn appended_blocks_pool_and_peers_come_back_across_segments() {
        let dir = temp_dir("roundtrip");
        let chain = blocks(250, "a");
        {
            let (mut store, loaded) = open(&dir);
            assert_eq!(loaded.node_id, "test-node");
            for block in &chain {
                store.append_block(block).unwrap();
            }
            let mut pool_log = loaded.pool_log;
            pool_log
                .append(&[Transaction::new("a", "b", 1, 1)])
                .unwrap();
            store
                .save_peers(&StoredPeers {
                    peers: vec!["http://127.0.0.1:5001".into()],
                    ..StoredPeers::default()
                })
                .unwrap();
        }
        let (_store, loaded) = open(&dir);
        assert_eq!(stored(&loaded), chain);
        assert_eq!(loaded.pool.len(), 1);
        assert_eq!(loaded.peers.peers, ["http://127.0.0.1:5001"]);
        assert!(dir.join("blocks-000002.db").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replace_chain_switches_branches_and_restart_empties() {
        let dir = temp_dir("replace");
        let old = blocks(150, "a");
        let new = blocks(220, "b");
        let (mut store, _) = open(&dir);
        store.replace_chain(2, &old, &[]).unwrap();
        store.replace_chain(101, &new[99..], &[]).unwrap();
        drop(store);
        let (mut store, loaded) = open(&dir);
        let expected: Vec<Block> = old[..99].iter().chain(&new[99..]).cloned().collect();
        assert_eq!(stored(&loaded), expected);
        store.replace_chain(2, &[], &[]).unwrap();
        drop(store);
        let (_store, loaded) = open(&dir);
        assert!(loaded.blocks.is_empty());
        assert!(!dir.join("blocks-000000.db").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_journal_left_by_a_crash_is_finished_at_start() {
        let dir = temp_dir("journal");
        let old = blocks(5, "a");
        let new = blocks(7, "b");
        let (mut store, _) = open(&dir);
        store.replace_chain(2, &old, &[]).unwrap();
        // Crash after the journal is durable but before any segment is rewritten.
        store.write_journal(4, &new[2..], &[]).unwrap();
        drop(store);
        let (_store, loaded) = open(&dir);
        let expected: Vec<Block> = old[..2].iter().chain(&new[2..]).cloned().collect();
        assert_eq!(stored(&loaded), expected);
        assert!(!dir.join(JOURNAL_FILE).exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_second_store_on_the_same_directory_names_the_holder() {
        let dir = temp_dir("lock");
        let (_store, _) = open(&dir);
        match Store::open(&dir, 8, 50, || "other".into()) {
            Err(StoreError::Locked { holder, .. }) => {
                assert_eq!(holder, format!("pid {}", std::process::id()))
            }
            other => panic!("expected a lock error, got {:?}", other.err()),
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damaged_files_are_reported_by_name_and_left_unchanged() {
        let dir = temp_dir("damaged");
        {
            let (mut store, _) = open(&dir);
            store.replace_chain(2, &blocks(3, "a"), &[]).unwrap();
        }
        let segment = dir.join("blocks-000000.db");
        for garbage in [
            &b"\xff\xfe not utf-8"[..],
            b"{\"not\": \"pickledb\"}",
            b"[{\"2\": \"{}\"}, {}]",
        ] {
            fs::write(&segment, garbage).unwrap();
            let error = Store::open(&dir, 8, 50, || "x".into()).err().unwrap();
            assert!(matches!(error, StoreError::Damaged { .. }), "{error}");
            assert!(error.to_string().contains("blocks-000000.db"), "{error}");
            assert_eq!(fs::read(&segment).unwrap(), garbage);
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_a_directory_made_with_another_difficulty() {
        let dir = temp_dir("mismatch");
        drop(open(&dir));
        let error = Store::open(&dir, 9, 50, || "x".into()).err().unwrap();
        assert!(matches!(
            error,
            StoreError::Mismatch {
                setting: "difficulty",
                stored: 8,
                given: 9,
                ..
            }
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
