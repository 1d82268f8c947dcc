//! File identity: what a source task hashes instead of a file's bytes.

use super::{tag, Hasher, Tokenize};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// A file's identity: its path, size and modification time.
///
/// Reading tasks hash this instead of the file's contents (as Git hashes an index
/// entry), so a changed file gets a new token without being read.
///
/// ```
/// use brisk_core::token::{tokenize, FileIdentity};
/// let dir = std::env::temp_dir().join("brisk-doc-file-identity");
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("a.txt");
/// std::fs::write(&path, "hello").unwrap();
/// let id = FileIdentity::of(&path).unwrap();
/// assert_eq!(id.size, 5);
/// assert_eq!(tokenize(&id).unwrap(), tokenize(&FileIdentity::of(&path).unwrap()).unwrap());
/// assert!(FileIdentity::of(dir.join("missing.txt")).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIdentity {
    /// The path as given.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
}

impl FileIdentity {
    /// Reads the identity of the file at `path`; a missing file is an error naming it.
    pub fn of(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| Error::Tokenize {
            what: format!("file {}", path.display()),
            reason: e.to_string(),
        })?;
        let mtime_ns = match meta.modified() {
            Ok(t) => match t.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_nanos() as i128,
                Err(e) => -(e.duration().as_nanos() as i128),
            },
            Err(e) => {
                return Err(Error::Tokenize {
                    what: format!("file {}", path.display()),
                    reason: format!("no modification time: {e}"),
                })
            }
        };
        Ok(FileIdentity {
            path: path.to_path_buf(),
            size: meta.len(),
            mtime_ns,
        })
    }
}

impl Tokenize for FileIdentity {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::FILE);
        self.path.tokenize(h)?;
        h.write_raw(&self.size.to_le_bytes());
        h.write_raw(&self.mtime_ns.to_le_bytes());
        Ok(())
    }
}
