//! The journal (`journal.db`): a whole chain switch or restart written first, so that a
//! crash leaves the old state or the new one, never a mix.

use super::error::{StoreError, io_error};
use super::file::{StoredFile, set};
use super::{JOURNAL_FILE, Store, pool_log};
use crate::core::block::{Block, Transaction};
use std::fs;

impl Store {
    /// Durably records a whole chain change before any segment is touched.
    pub(super) fn write_journal(
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
    pub(super) fn finish_pending_journal(&mut self) -> Result<(), StoreError> {
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
}
