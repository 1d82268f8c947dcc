//! Spill to disk: results held beyond a memory budget go to files and come back
//! when needed, least recently used first. Used by the worker (under its memory
//! manager) and by the local scheduler (under `LocalScheduler::memory_limit`).
//!
//! - [`file`]: one value in one file, in its own frame encoding (LZ4 where a
//!   sample compresses), checksummed: a truncated or corrupt file is an error
//!   naming it, never a wrong value.
//! - [`SpillBuffer`]: the bookkeeping (what is in memory, what is in which file,
//!   which to spill next), without I/O.
//! - [`Spiller`]: a buffer behind a lock and a folder of files, doing the I/O
//!   outside the lock; the folder goes when the spiller is dropped.
//!
//! ```
//! use brisk_scheduler::spill::Spiller;
//! use brisk_core::Value;
//! use std::sync::Arc;
//!
//! let dir = std::env::temp_dir().join(format!("spill-doc-{}", std::process::id()));
//! let s: Spiller<u32> = Spiller::new(&dir).unwrap();
//! for i in 0..4u32 {
//!     s.insert(i, Arc::new(vec![i as u8; 1000]) as Value);
//! }
//! let report = s.spill_until(2000);
//! assert_eq!((report.values, s.memory_bytes()), (2, 2000));
//! // A spilled value reads back transparently.
//! let v = s.get(&0).unwrap().unwrap();
//! assert_eq!(v.as_bytes().unwrap(), &[0u8; 1000][..]);
//! drop(s);
//! assert!(!dir.exists());
//! ```

mod buffer;
pub mod file;

pub use buffer::{Lookup, SpillBuffer};

use crate::error::{Error, Result};
use brisk_core::Value;
use std::fmt::Display;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// What one [`Spiller::spill_until`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpillReport {
    /// Values written.
    pub values: u64,
    /// Their in-memory bytes.
    pub bytes: u64,
    /// Writes that failed (the values stay in memory).
    pub failed: u64,
}

/// Totals of a spiller's I/O, for throughput figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpillTotals {
    /// Bytes written to spill files.
    pub written: u64,
    /// Bytes read back from them.
    pub read: u64,
    /// Seconds spent writing (encoding, compressing, writing).
    pub write_seconds: f64,
    /// Seconds spent reading back (reading, checking, decoding).
    pub read_seconds: f64,
}

#[derive(Default)]
struct Totals {
    written: AtomicU64,
    read: AtomicU64,
    write_nanos: AtomicU64,
    read_nanos: AtomicU64,
}

/// A [`SpillBuffer`] behind a lock, with its folder of spill files.
pub struct Spiller<K> {
    buffer: Mutex<SpillBuffer<K>>,
    dir: PathBuf,
    next_file: AtomicU64,
    totals: Totals,
}

impl<K: Hash + Eq + Clone + Display> Spiller<K> {
    /// A spiller writing into `dir` (made now, removed with everything in it when
    /// the spiller is dropped).
    pub fn new(dir: &Path) -> Result<Spiller<K>> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Config {
            reason: format!("cannot make the spill folder {}: {e}", dir.display()),
        })?;
        Ok(Spiller {
            buffer: Mutex::new(SpillBuffer::new()),
            dir: dir.to_path_buf(),
            next_file: AtomicU64::new(0),
            totals: Totals::default(),
        })
    }

    /// The folder of the spill files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The buffer, locked (a panic elsewhere does not poison it for good).
    pub fn lock(&self) -> MutexGuard<'_, SpillBuffer<K>> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds `value` under `k`, in memory.
    pub fn insert(&self, k: K, value: Value) {
        let old = self.lock().insert(k, value);
        remove_file(old);
    }

    /// Drops `k` (and its file).
    pub fn remove(&self, k: &K) {
        let old = self.lock().remove(k);
        remove_file(old);
    }

    /// Drops everything.
    pub fn clear(&self) {
        let files = self.lock().clear();
        for f in files {
            remove_file(Some(f));
        }
    }

    /// Whether `k` is held.
    pub fn contains(&self, k: &K) -> bool {
        self.lock().contains(k)
    }

    /// Bytes held in memory.
    pub fn memory_bytes(&self) -> u64 {
        self.lock().memory_bytes()
    }

    /// In-memory bytes of the spilled values.
    pub fn spilled_bytes(&self) -> u64 {
        self.lock().spilled_bytes()
    }

    /// The I/O so far.
    pub fn totals(&self) -> SpillTotals {
        let t = &self.totals;
        SpillTotals {
            written: t.written.load(Ordering::Relaxed),
            read: t.read.load(Ordering::Relaxed),
            write_seconds: t.write_nanos.load(Ordering::Relaxed) as f64 * 1e-9,
            read_seconds: t.read_nanos.load(Ordering::Relaxed) as f64 * 1e-9,
        }
    }

    /// The value of `k`, read back from its file if spilled (and then held in
    /// memory again, the most recently used); `None` if not held. A spill file
    /// that cannot be read is an error naming the key and the file, and the value
    /// is dropped (the caller recomputes it).
    pub fn get(&self, k: &K) -> Result<Option<Value>> {
        let path = match self.lock().lookup(k) {
            None => return Ok(None),
            Some(Lookup::Memory(v)) => return Ok(Some(v)),
            Some(Lookup::Spilled(path)) => path,
        };
        let start = Instant::now();
        match file::read(&path) {
            Ok(value) => {
                let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                self.count(&self.totals.read, &self.totals.read_nanos, bytes, start);
                let stale = self.lock().unspilled(k, &path, value.clone());
                remove_file(stale);
                Ok(Some(value))
            }
            Err(Error::Spill { path, reason, .. }) => {
                let mut b = self.lock();
                if matches!(b.lookup(k), Some(Lookup::Spilled(p)) if p == path) {
                    b.remove(k);
                    drop(b);
                    remove_file(Some(path.clone()));
                }
                Err(Error::Spill {
                    what: format!("key {k}"),
                    path,
                    reason,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Spills least recently used values until at most `target` bytes are in
    /// memory (or nothing is left to spill). A failed write (a full disk) keeps
    /// the value in memory, logs a warning and stops this round.
    pub fn spill_until(&self, target: u64) -> SpillReport {
        let mut report = SpillReport::default();
        loop {
            let (k, value) = {
                let mut b = self.lock();
                if b.memory_bytes() <= target {
                    break;
                }
                match b.victim() {
                    Some(v) => v,
                    None => break,
                }
            };
            let n = self.next_file.fetch_add(1, Ordering::Relaxed);
            let path = self.dir.join(format!("{n}.spill"));
            let start = Instant::now();
            match file::write(&path, &value) {
                Ok(disk) => {
                    self.count(&self.totals.written, &self.totals.write_nanos, disk, start);
                    let nbytes = value.nbytes() as u64;
                    let stale = self.lock().spilled(&k, &value, path, disk);
                    if stale.is_none() {
                        report.values += 1;
                        report.bytes += nbytes;
                    }
                    remove_file(stale);
                }
                Err(e) => {
                    self.lock().spill_failed(&k);
                    report.failed += 1;
                    tracing::warn!(target: "brisk::spill", "could not spill {k}; it stays in memory: {e}");
                    break;
                }
            }
        }
        report
    }

    fn count(&self, bytes: &AtomicU64, nanos: &AtomicU64, n: u64, start: Instant) {
        bytes.fetch_add(n, Ordering::Relaxed);
        nanos.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

impl<K> Drop for Spiller<K> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn remove_file(path: Option<PathBuf>) {
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
    }
}
