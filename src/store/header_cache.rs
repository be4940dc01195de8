//! The light client's header cache (`minichain wallet verify`, SPEC §5b): one file per
//! network holding the 92-byte canonical headers of the best chain it checked, in order.
//! It only saves fetching them again: every header is checked again when it is read.

use super::StoreError;
use crate::core::block::Header;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The cache file of the network whose genesis hash is `genesis_hex`, under `dir`.
pub fn path_for(dir: &Path, genesis_hex: &str) -> PathBuf {
    dir.join(format!("headers-{genesis_hex}.bin"))
}

/// The cached headers, genesis first; none when the file does not exist. A trailing
/// partial record (a write cut short) is left out.
pub fn load(path: &Path) -> Result<Vec<Header>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    Ok(bytes
        .chunks_exact(Header::SIZE)
        .map(|record| Header::from_bytes(record.try_into().expect("chunks of Header::SIZE")))
        .collect())
}

/// Replaces the cache with `headers`: written to a temporary file, fsync'd, renamed over
/// the old one, so a crash leaves the old cache or the new one.
pub fn save(path: &Path, headers: &[Header]) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let temporary = path.with_extension("bin.tmp");
    let mut bytes = Vec::with_capacity(headers.len() * Header::SIZE);
    for header in headers {
        bytes.extend_from_slice(&header.to_bytes());
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)
        .map_err(io)?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    fs::rename(&temporary, path).map_err(io)?;
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::block::genesis;

    #[test]
    fn saves_and_loads_headers_and_drops_a_partial_record() {
        let dir = std::env::temp_dir().join(format!("header-cache-{}", std::process::id()));
        let path = path_for(&dir, "ab");
        assert!(load(&path).unwrap().is_empty());
        let headers = vec![genesis(8).header, genesis(9).header];
        save(&path, &headers).unwrap();
        assert_eq!(load(&path).unwrap(), headers);
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(&[1, 2, 3]);
        fs::write(&path, bytes).unwrap();
        assert_eq!(load(&path).unwrap(), headers);
        let _ = fs::remove_dir_all(&dir);
    }
}
