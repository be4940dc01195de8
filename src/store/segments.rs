//! Blocks on disk: segment `N` (`blocks-NNNNNN.db`) holds the blocks with index
//! `N*100 ..= N*100+99`, so a new block rewrites one bounded file.

use super::error::{StoreError, io_error};
use super::file::{StoredFile, remove_if_present, set};
use super::{BLOCKS_PER_SEGMENT, Store};
use crate::core::block::Block;
use std::fs;
use std::path::PathBuf;

impl Store {
    /// Rewrites the segments holding indexes `from ..` so they end with `blocks` (which
    /// start at index `from`); entries before `from` in the first segment are kept.
    pub(super) fn rewrite_segments(&self, from: u64, blocks: &[Block]) -> Result<(), StoreError> {
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
    pub(super) fn delete_segments_after(&self, tip: u64) -> Result<(), StoreError> {
        for (segment, path) in self.segment_files()? {
            if segment > tip / BLOCKS_PER_SEGMENT {
                remove_if_present(&path)?;
            }
        }
        Ok(())
    }

    /// Reads every segment in order, checking that indexes run 2, 3, 4, … without gaps.
    pub(super) fn load_blocks(&self) -> Result<Vec<(PathBuf, Block)>, StoreError> {
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

    /// Existing segment files, by segment number.
    pub(super) fn segment_files(&self) -> Result<Vec<(u64, PathBuf)>, StoreError> {
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
}

/// The file name of segment `number`.
pub fn segment_file_name(number: u64) -> String {
    format!("blocks-{number:06}.db")
}
