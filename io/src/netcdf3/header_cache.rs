//! Parsed headers of the files opened lately, by URL and version (size,
//! modification time, entity tag), so that a task reading a file whose header was
//! parsed when its graph was built does not fetch it again.

use super::header::Header;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A file's URL, size, modification time (nanoseconds) and entity tag.
pub(super) type Version = (String, u64, Option<i64>, Option<String>);

/// Headers kept at most; the cache starts over when full (headers are small and a
/// job opens each file a few times, close together).
const CAPACITY: usize = 4096;

fn cache() -> &'static Mutex<HashMap<Version, Header>> {
    static CACHE: OnceLock<Mutex<HashMap<Version, Header>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The header of this version of the file, if parsed lately.
pub(super) fn get(version: &Version) -> Option<Header> {
    let c = cache().lock().unwrap_or_else(|p| p.into_inner());
    c.get(version).cloned()
}

/// Keeps the header of this version of the file.
pub(super) fn put(version: Version, header: &Header) {
    let mut c = cache().lock().unwrap_or_else(|p| p.into_inner());
    if c.len() >= CAPACITY {
        c.clear();
    }
    c.insert(version, header.clone());
}
