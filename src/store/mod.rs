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
//! | file | job |
//! |---|---|
//! | `mod.rs` | [`Store`]: open (meta, peers), append a block, save peers, replace the chain |
//! | `segments` | block segment files: rewrite from an index, read back in order |
//! | `journal` | the journal of a chain switch or restart: written first, finished at start |
//! | `durable` | the one durable write: side file, fsync, rename, fsync the directory |
//! | `file` | one pickledb file read back with its damage explained; entry helpers |
//! | `error` | [`StoreError`], each variant naming the file or the holder |
//! | `lock` | the directory's advisory lock and its holder's pid |
//! | [`pool_log`] | the pool as a base file plus append-only logs |
//! | [`keyfile`], [`owner_token`] | private (0600) files: keys, the wallet, the owner token |
//!
//! **Invariant:** the only module that imports pickledb. It stores and checks file
//! integrity, never consensus rules.

mod durable;
mod error;
mod file;
pub mod header_cache;
mod journal;
pub mod keyfile;
mod lock;
pub mod owner_token;
pub mod pool_log;
mod segments;

pub use error::StoreError;
pub use segments::segment_file_name;

use crate::core::block::{Block, Transaction};
use error::io_error;
use file::{StoredFile, remove_if_present, set};
use lock::lock_directory;
use pickledb::PickleDb;
use pool_log::PoolLog;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Blocks per segment file.
pub const BLOCKS_PER_SEGMENT: u64 = 100;

const META_FILE: &str = "meta.db";
const PEERS_FILE: &str = "peers.db";
const JOURNAL_FILE: &str = "journal.db";

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
        durable::new_db(&durable::side_path(&self.dir, name))
    }

    /// Makes a [`Store::new_db`] database the file `name`, durably ([`durable::install`]).
    fn dump_durably(&self, db: &mut PickleDb, name: &str) -> Result<(), StoreError> {
        let path = self.path(name);
        let target = durable::Target {
            side: durable::side_path(&self.dir, name),
            path: &path,
            private: false,
        };
        Ok(durable::install(db, target)?)
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
        durable::sync_dir(&self.dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::{Header, genesis};

    /// Blocks with consecutive indexes from 2; the store checks shape, not consensus.
    fn blocks(count: u64, tag: &str) -> Vec<Block> {
        let mut parent = genesis(8);
        (0..count)
            .map(|_| {
                let transactions =
                    vec![Transaction::coinbase(tag, 50, parent.header.timestamp + 1)];
                let header =
                    Header::child_of(&parent, parent.header.timestamp + 1, &transactions, 8);
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
