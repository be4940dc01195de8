//! The owner token (SPEC §5a): `<data-dir>/owner.token`, 64 lowercase hex characters
//! from the OS's random source, written once at the first start (mode 0600, fsync'd) and
//! kept across restarts and `/restart`. Whoever can read the file may command the node,
//! as with Bitcoin Core's `.cookie`.

use super::durable;
use super::error::{StoreError, io_error};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The token file's name inside the data directory.
pub const TOKEN_FILE: &str = "owner.token";

/// Bytes of randomness in a token (printed as twice as many hex characters).
const TOKEN_BYTES: usize = 32;

/// A node's owner token. Its `Debug` never shows the secret, so it cannot leak into a log.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnerToken(String);

impl OwnerToken {
    /// A token from its text: exactly 64 lowercase hex characters, else `None`.
    pub fn from_hex(text: &str) -> Option<OwnerToken> {
        (text.len() == 2 * TOKEN_BYTES
            && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| OwnerToken(text.to_string()))
    }

    /// True when `candidate` is this token; compares every byte whatever the first
    /// difference, so the time taken tells nothing about the token.
    pub fn matches(&self, candidate: &str) -> bool {
        let (ours, theirs) = (self.0.as_bytes(), candidate.as_bytes());
        if ours.len() != theirs.len() {
            return false;
        }
        ours.iter()
            .zip(theirs)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}

impl fmt::Debug for OwnerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnerToken(…)")
    }
}

/// Reads `<dir>/owner.token`, or writes a fresh one when there is none. A file that is
/// not a token is `Damaged` (named, left as it is): the node stops rather than guess.
pub fn load_or_create(dir: &Path) -> Result<(OwnerToken, PathBuf), StoreError> {
    let path = dir.join(TOKEN_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => match OwnerToken::from_hex(text.trim_end_matches(['\n', '\r'])) {
            Some(token) => Ok((token, path)),
            None => Err(StoreError::Damaged {
                path,
                reason: format!(
                    "an owner token is {} lowercase hex characters on one line",
                    2 * TOKEN_BYTES
                ),
            }),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let token = fresh_token().map_err(io_error(Path::new("/dev/urandom")))?;
            write_new(&path, &token)?;
            Ok((OwnerToken(token), path))
        }
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

/// 64 hex characters from `/dev/urandom`.
fn fresh_token() -> std::io::Result<String> {
    let mut random = [0u8; TOKEN_BYTES];
    File::open("/dev/urandom")?.read_exact(&mut random)?;
    Ok(random.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates the file (mode 0600, never over an existing one), writes and fsyncs it and
/// its directory.
fn write_new(path: &Path, token: &str) -> Result<(), StoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(path))?;
    file.write_all(format!("{token}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(path))?;
    durable::sync_dir(&durable::parent_dir(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "minichain-owner-token-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn made_once_private_and_kept() {
        let dir = temp_dir("kept");
        let (first, path) = load_or_create(&dir).unwrap();
        assert_eq!(first.0.len(), 64);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, _) = load_or_create(&dir).unwrap();
        assert_eq!(first, again);
        assert!(!format!("{first:?}").contains(&first.0));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn two_nodes_get_different_tokens() {
        let (a, b) = (temp_dir("a"), temp_dir("b"));
        assert_ne!(load_or_create(&a).unwrap().0, load_or_create(&b).unwrap().0);
        let _ = fs::remove_dir_all(&a);
        let _ = fs::remove_dir_all(&b);
    }

    #[test]
    fn a_damaged_file_is_named_and_left_alone() {
        let dir = temp_dir("damaged");
        fs::write(dir.join(TOKEN_FILE), "not a token\n").unwrap();
        let error = load_or_create(&dir).unwrap_err();
        assert!(matches!(error, StoreError::Damaged { .. }), "{error}");
        assert!(error.to_string().contains(TOKEN_FILE));
        assert_eq!(
            fs::read_to_string(dir.join(TOKEN_FILE)).unwrap(),
            "not a token\n"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn matching_needs_every_character() {
        let token = OwnerToken::from_hex(&"ab".repeat(32)).unwrap();
        assert!(OwnerToken::from_hex(&"AB".repeat(32)).is_none());
        assert!(token.matches(&"ab".repeat(32)));
        assert!(!token.matches(&format!("{}ac", "ab".repeat(31))));
        assert!(!token.matches("ab"));
        assert!(!token.matches(""));
    }
}
