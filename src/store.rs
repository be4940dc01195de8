//! Everything on disk, through pickledb (SPEC §7).
//!
//! Layout of a data directory:
//! - `lock` — held (advisory lock) by the running node, and holding its pid;
//! - `meta.db` — node id, difficulty and reward the directory was made with;
//! - `blocks-NNNNNN.db` — segment `N` holds the blocks with index `N*100 ..= N*100+99`
//!   (genesis, index 1, is never stored), so a new block rewrites one bounded file;
//! - `pool.db`, `peers.db` — pending transactions and peers, each in its own file;
//! - `journal.db` — only while a chain switch or restart is being written: the whole
//!   change, written first, so that a crash leaves the old state or the new one.
//!
//! Every write is durable before it returns: pickledb dumps to a side file, which is
//! fsync'd and then renamed over the real one, and the directory is fsync'd.
//!
//! **Invariant:** the only module that imports pickledb. It stores and checks file
//! integrity, never consensus rules.

use crate::block::{Block, Transaction};
use pickledb::{PickleDb, PickleDbDumpPolicy, SerializationMethod};
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
const POOL_FILE: &str = "pool.db";
const PEERS_FILE: &str = "peers.db";
const JOURNAL_FILE: &str = "journal.db";
const LOCK_FILE: &str = "lock";

/// A node's data directory, locked for as long as this value lives.
pub struct Store {
    dir: PathBuf,
    /// Holds the advisory lock; the OS releases it when the process ends, even on `kill -9`.
    _lock: File,
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
    /// Registered peers.
    pub peers: Vec<String>,
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
                "{}: this data directory was made with --{setting} {stored}, not {given}; start with --{setting} {stored} or use another --data-dir",
                path.display()
            ),
        }
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
        let store = Store {
            dir: dir.to_path_buf(),
            _lock: lock,
        };
        store.remove_leftover_side_files()?;
        let mut loaded = Loaded {
            node_id: store.load_meta(difficulty, reward, new_node_id)?,
            ..Loaded::default()
        };
        store.finish_journal()?;
        loaded.blocks = store.load_blocks()?;
        loaded.pool = store
            .read_value(&store.path(POOL_FILE), "transactions")?
            .unwrap_or_default();
        loaded.peers = store
            .read_value(&store.path(PEERS_FILE), "peers")?
            .unwrap_or_default();
        Ok((store, loaded))
    }

    /// The directory this store owns.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Durably stores a block appended at the tip: rewrites its one segment.
    pub fn append_block(&self, block: &Block) -> Result<(), StoreError> {
        self.write_blocks_from(block.index, std::slice::from_ref(block))
    }

    /// Durably replaces the pool.
    pub fn save_pool(&self, pool: &[Transaction]) -> Result<(), StoreError> {
        self.write_file(POOL_FILE, &[("transactions", pool)])
    }

    /// Durably replaces the peer list.
    pub fn save_peers(&self, peers: &[String]) -> Result<(), StoreError> {
        self.write_file(PEERS_FILE, &[("peers", peers)])
    }

    /// Durably and atomically makes the stored chain `stored[..from] + blocks` and the
    /// pool `pool`: a chain switch (`from` = fork + 1) or a restart (`from` = 2, no blocks).
    /// A crash at any point leaves the old state or the new one, never a mix.
    pub fn replace_chain(
        &self,
        from: u64,
        blocks: &[Block],
        pool: &[Transaction],
    ) -> Result<(), StoreError> {
        self.write_journal(from, blocks, pool)?;
        self.finish_journal()
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
        self.dump_durably(&mut journal, JOURNAL_FILE)
    }

    /// Applies a complete journal, if one is present, then removes it.
    fn finish_journal(&self) -> Result<(), StoreError> {
        let path = self.path(JOURNAL_FILE);
        if !path.exists() {
            return Ok(());
        }
        let damaged = |reason: &str| StoreError::Damaged {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let from: u64 = self
            .read_value(&path, "from")?
            .ok_or_else(|| damaged("no \"from\" entry"))?;
        let blocks: Vec<Block> = self
            .read_value(&path, "blocks")?
            .ok_or_else(|| damaged("no \"blocks\" entry"))?;
        let pool: Vec<Transaction> = self
            .read_value(&path, "pool")?
            .ok_or_else(|| damaged("no \"pool\" entry"))?;
        self.write_blocks_from(from, &blocks)?;
        self.save_pool(&pool)?;
        fs::remove_file(&path).map_err(io_error(&path))?;
        self.sync_dir()
    }

    /// Rewrites the segments holding indexes `from ..` so the stored chain ends with
    /// `blocks` (which start at index `from`), and deletes segments past the new tip.
    fn write_blocks_from(&self, from: u64, blocks: &[Block]) -> Result<(), StoreError> {
        let from = from.max(2);
        let new_tip = from - 1 + blocks.len() as u64;
        let first_segment = from / BLOCKS_PER_SEGMENT;
        let last_segment = new_tip / BLOCKS_PER_SEGMENT;
        for segment in first_segment..=last_segment {
            let name = segment_file_name(segment);
            let path = self.path(&name);
            let mut db = if segment == first_segment && path.exists() {
                self.load_db(&path)?
            } else {
                self.new_db(&name)
            };
            for key in db.get_all() {
                if key.parse::<u64>().is_ok_and(|index| index >= from) {
                    db.rem(&key).map_err(pickle_error(&path))?;
                }
            }
            for block in blocks
                .iter()
                .filter(|block| block.index / BLOCKS_PER_SEGMENT == segment)
            {
                set(&mut db, &path, &block.index.to_string(), block)?;
            }
            if db.total_keys() == 0 {
                remove_if_present(&path)?;
            } else {
                self.dump_durably(&mut db, &name)?;
            }
        }
        for (segment, path) in self.segment_files()? {
            if segment > last_segment {
                remove_if_present(&path)?;
            }
        }
        self.sync_dir()
    }

    /// Reads every segment in order, checking that indexes run 2, 3, 4, … without gaps.
    fn load_blocks(&self) -> Result<Vec<(PathBuf, Block)>, StoreError> {
        let mut blocks = Vec::new();
        for (segment, path) in self.segment_files()? {
            let db = self.load_db(&path)?;
            let raw = read_raw_map(&path)?;
            let mut indexes = Vec::new();
            for key in db.get_all() {
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
                let block: Block = decode(&db, &raw, &path, &index.to_string())?;
                if block.index != index {
                    return Err(StoreError::Damaged {
                        path,
                        reason: format!("the entry for block {index} holds block {}", block.index),
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
        if !path.exists() {
            let node_id = new_node_id();
            let mut db = self.new_db(META_FILE);
            set(&mut db, &path, "node_id", &node_id)?;
            set(&mut db, &path, "difficulty", &difficulty)?;
            set(&mut db, &path, "reward", &reward)?;
            self.dump_durably(&mut db, META_FILE)?;
            return Ok(node_id);
        }
        let node_id: String =
            self.read_value(&path, "node_id")?
                .ok_or_else(|| StoreError::Damaged {
                    path: path.clone(),
                    reason: "no \"node_id\" entry".into(),
                })?;
        for (setting, given) in [("difficulty", difficulty as u64), ("reward", reward)] {
            let stored: u64 =
                self.read_value(&path, setting)?
                    .ok_or_else(|| StoreError::Damaged {
                        path: path.clone(),
                        reason: format!("no {setting:?} entry"),
                    })?;
            if stored != given {
                return Err(StoreError::Mismatch {
                    path,
                    setting,
                    stored,
                    given,
                });
            }
        }
        Ok(node_id)
    }

    /// Reads one value of a file; `Ok(None)` when the file or the key does not exist.
    fn read_value<T: DeserializeOwned>(
        &self,
        path: &Path,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let db = self.load_db(path)?;
        if !db.exists(key) {
            return Ok(None);
        }
        let raw = read_raw_map(path)?;
        decode(&db, &raw, path, key).map(Some)
    }

    /// Writes a whole small file (pool, peers) from key/value pairs.
    fn write_file<T: Serialize + ?Sized>(
        &self,
        name: &str,
        entries: &[(&str, &T)],
    ) -> Result<(), StoreError> {
        let path = self.path(name);
        let mut db = self.new_db(name);
        for (key, value) in entries {
            set(&mut db, &path, key, value)?;
        }
        self.dump_durably(&mut db, name)?;
        self.sync_dir()
    }

    /// Loads a pickledb file after checking what pickledb would panic on (non-UTF-8) or
    /// silently misread.
    fn load_db(&self, path: &Path) -> Result<PickleDb, StoreError> {
        read_raw_map(path)?;
        PickleDb::load(
            path,
            PickleDbDumpPolicy::DumpUponRequest,
            SerializationMethod::Json,
        )
        .map_err(|error| StoreError::Damaged {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })
    }

    /// An empty database that will be written to `name` by [`Store::dump_durably`].
    fn new_db(&self, name: &str) -> PickleDb {
        PickleDb::new(
            self.side_path(name),
            PickleDbDumpPolicy::DumpUponRequest,
            SerializationMethod::Json,
        )
    }

    /// Dumps `db` to the side file, fsyncs it, renames it over `name`, fsyncs the directory.
    fn dump_durably(&self, db: &mut PickleDb, name: &str) -> Result<(), StoreError> {
        let side = self.side_path(name);
        let target = self.path(name);
        let mut side_db = PickleDb::new(
            &side,
            PickleDbDumpPolicy::DumpUponRequest,
            SerializationMethod::Json,
        );
        for key in db.get_all() {
            let value: serde_json::Value = db
                .get(&key)
                .expect("a value this process stored decodes as JSON");
            set(&mut side_db, &side, &key, &value)?;
        }
        side_db.dump().map_err(pickle_error(&side))?;
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

/// The file's raw key → JSON-text map, checked the way pickledb cannot: UTF-8 first (its
/// loader panics otherwise), then the shape of its JSON.
fn read_raw_map(path: &Path) -> Result<HashMap<String, String>, StoreError> {
    let bytes = fs::read(path).map_err(io_error(path))?;
    let damaged = |reason: String| StoreError::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|error| damaged(format!("not UTF-8 text ({error})")))?;
    type Maps = (HashMap<String, String>, HashMap<String, Vec<String>>);
    let (map, _lists): Maps = serde_json::from_str(text)
        .map_err(|error| damaged(format!("not a pickledb JSON file ({error})")))?;
    Ok(map)
}

/// Decodes one value, explaining why when pickledb's `get` silently returns `None`.
fn decode<T: DeserializeOwned>(
    db: &PickleDb,
    raw: &HashMap<String, String>,
    path: &Path,
    key: &str,
) -> Result<T, StoreError> {
    if let Some(value) = db.get::<T>(key) {
        return Ok(value);
    }
    let reason = match raw.get(key).map(|text| serde_json::from_str::<T>(text)) {
        Some(Err(error)) => format!("entry {key:?} cannot be read ({error})"),
        _ => format!("entry {key:?} cannot be read"),
    };
    Err(StoreError::Damaged {
        path: path.to_path_buf(),
        reason,
    })
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
    use crate::block::{Header, genesis, merkle_root_of};

    /// Blocks with consecutive indexes from 2; the store checks shape, not consensus.
    fn blocks(count: u64, tag: &str) -> Vec<Block> {
        let mut parent = genesis(8);
        (0..count)
            .map(|_| {
                let transactions = vec![Transaction::coinbase(tag, 50, parent.timestamp + 1)];
                let header = Header {
                    index: parent.index + 1,
                    timestamp: parent.timestamp + 1,
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
            let (store, loaded) = open(&dir);
            assert_eq!(loaded.node_id, "test-node");
            for block in &chain {
                store.append_block(block).unwrap();
            }
            store
                .save_pool(&[Transaction::new("a", "b", 1, 1)])
                .unwrap();
            store.save_peers(&["http://127.0.0.1:5001".into()]).unwrap();
        }
        let (_store, loaded) = open(&dir);
        assert_eq!(stored(&loaded), chain);
        assert_eq!(loaded.pool.len(), 1);
        assert_eq!(loaded.peers, ["http://127.0.0.1:5001"]);
        assert!(dir.join("blocks-000002.db").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replace_chain_switches_branches_and_restart_empties() {
        let dir = temp_dir("replace");
        let old = blocks(150, "a");
        let new = blocks(220, "b");
        let (store, _) = open(&dir);
        store.replace_chain(2, &old, &[]).unwrap();
        store.replace_chain(101, &new[99..], &[]).unwrap();
        drop(store);
        let (store, loaded) = open(&dir);
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
        let (store, _) = open(&dir);
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
            let (store, _) = open(&dir);
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
