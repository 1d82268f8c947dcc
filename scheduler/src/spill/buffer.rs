//! [`SpillBuffer`]: held results, some in memory and some in files, with the
//! bookkeeping of which to spill next (least recently used first).
//!
//! The buffer does no file I/O itself, so callers can keep it under a lock and
//! write or read files outside it: [`SpillBuffer::victim`] hands out the value to
//! write next, [`SpillBuffer::spilled`] records that it was written (unless it
//! changed meanwhile), [`SpillBuffer::lookup`] says where a value is, and
//! [`SpillBuffer::unspilled`] takes a value read back into memory. [`Spiller`]
//! does the I/O around a locked buffer.
//!
//! ```
//! use brisk_scheduler::spill::SpillBuffer;
//! use brisk_core::Value;
//! use std::sync::Arc;
//!
//! let mut b: SpillBuffer<&str> = SpillBuffer::new();
//! b.insert("x", Arc::new(vec![0u8; 100]) as Value);
//! b.insert("y", Arc::new(vec![0u8; 50]) as Value);
//! assert_eq!(b.memory_bytes(), 150);
//! // The least recently used goes first.
//! let (key, value) = b.victim().unwrap();
//! assert_eq!(key, "x");
//! b.spilled(&key, &value, "/tmp/x.spill".into(), 100);
//! assert_eq!((b.memory_bytes(), b.spilled_bytes()), (50, 100));
//! ```

use brisk_core::Value;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::hash::Hash;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a held value is.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// In memory.
    Memory(Value),
    /// In this file (read it with [`super::file::read`]).
    Spilled(PathBuf),
}

struct Fast {
    value: Value,
    nbytes: u64,
    /// When it was last used (a key of `lru`).
    tick: u64,
    /// Handed out by `victim` and not yet written.
    spilling: bool,
}

struct Slow {
    path: PathBuf,
    /// Its size in memory.
    nbytes: u64,
    /// Its size on disk.
    disk_bytes: u64,
}

/// Held results by key, in memory or spilled to files.
pub struct SpillBuffer<K> {
    fast: FxHashMap<K, Fast>,
    slow: FxHashMap<K, Slow>,
    /// Values in memory not being spilled, by last use.
    lru: BTreeMap<u64, K>,
    tick: u64,
    memory_bytes: u64,
    spilled_bytes: u64,
    disk_bytes: u64,
}

impl<K> Default for SpillBuffer<K> {
    fn default() -> Self {
        SpillBuffer {
            fast: FxHashMap::default(),
            slow: FxHashMap::default(),
            lru: BTreeMap::new(),
            tick: 0,
            memory_bytes: 0,
            spilled_bytes: 0,
            disk_bytes: 0,
        }
    }
}

impl<K: Hash + Eq + Clone> SpillBuffer<K> {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of the values in memory (their `nbytes`).
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// In-memory bytes of the values spilled.
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled_bytes
    }

    /// Bytes of the spill files.
    pub fn disk_bytes(&self) -> u64 {
        self.disk_bytes
    }

    /// Values held, in memory and spilled.
    pub fn len(&self) -> usize {
        self.fast.len() + self.slow.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many values are spilled.
    pub fn spilled_len(&self) -> usize {
        self.slow.len()
    }

    /// Whether `k` is held.
    pub fn contains(&self, k: &K) -> bool {
        self.fast.contains_key(k) || self.slow.contains_key(k)
    }

    /// Whether `k` is spilled.
    pub fn is_spilled(&self, k: &K) -> bool {
        self.slow.contains_key(k)
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Holds `value` under `k` in memory, the most recently used; returns the file
    /// of a spilled value it replaces, for the caller to remove.
    pub fn insert(&mut self, k: K, value: Value) -> Option<PathBuf> {
        let old = self.remove(&k);
        let tick = self.next_tick();
        let nbytes = value.nbytes() as u64;
        self.memory_bytes += nbytes;
        self.lru.insert(tick, k.clone());
        self.fast.insert(
            k,
            Fast {
                value,
                nbytes,
                tick,
                spilling: false,
            },
        );
        old
    }

    /// Drops `k`; returns its spill file, for the caller to remove.
    pub fn remove(&mut self, k: &K) -> Option<PathBuf> {
        if let Some(f) = self.fast.remove(k) {
            self.memory_bytes -= f.nbytes;
            if !f.spilling {
                self.lru.remove(&f.tick);
            }
        }
        self.slow.remove(k).map(|s| {
            self.spilled_bytes -= s.nbytes;
            self.disk_bytes -= s.disk_bytes;
            s.path
        })
    }

    /// Where `k` is (a value in memory counts as used now).
    pub fn lookup(&mut self, k: &K) -> Option<Lookup> {
        if let Some(s) = self.slow.get(k) {
            return Some(Lookup::Spilled(s.path.clone()));
        }
        let tick = self.tick + 1;
        let f = self.fast.get_mut(k)?;
        let value = f.value.clone();
        if !f.spilling {
            self.lru.remove(&f.tick);
            f.tick = tick;
            self.lru.insert(tick, k.clone());
            self.tick = tick;
        }
        Some(Lookup::Memory(value))
    }

    /// The value of `k` if it is in memory, without counting a use.
    pub fn peek(&self, k: &K) -> Option<&Value> {
        self.fast.get(k).map(|f| &f.value)
    }

    /// The least recently used value in memory, to be written now; it stays in
    /// memory (and readable) until [`SpillBuffer::spilled`] or
    /// [`SpillBuffer::spill_failed`].
    pub fn victim(&mut self) -> Option<(K, Value)> {
        let (_, k) = self.lru.pop_first()?;
        let f = self.fast.get_mut(&k).expect("lru keys are in memory");
        f.spilling = true;
        Some((k, f.value.clone()))
    }

    /// `value` of `k` was written to `path`: it leaves memory, unless `k` was
    /// dropped or replaced meanwhile; then returns the file, now of nothing, for
    /// the caller to remove.
    pub fn spilled(
        &mut self,
        k: &K,
        value: &Value,
        path: PathBuf,
        disk_bytes: u64,
    ) -> Option<PathBuf> {
        match self.fast.get(k) {
            Some(f) if f.spilling && Arc::ptr_eq(&f.value, value) => {
                let f = self.fast.remove(k).expect("just seen");
                self.memory_bytes -= f.nbytes;
                self.spilled_bytes += f.nbytes;
                self.disk_bytes += disk_bytes;
                self.slow.insert(
                    k.clone(),
                    Slow {
                        path,
                        nbytes: f.nbytes,
                        disk_bytes,
                    },
                );
                None
            }
            _ => Some(path),
        }
    }

    /// Writing `k` failed: it stays in memory, as recently used (so the next
    /// victim is another value).
    pub fn spill_failed(&mut self, k: &K) {
        let tick = self.tick + 1;
        if let Some(f) = self.fast.get_mut(k) {
            if f.spilling {
                f.spilling = false;
                f.tick = tick;
                self.lru.insert(tick, k.clone());
                self.tick = tick;
            }
        }
    }

    /// `value` of `k` was read back from `path`: it is in memory again, the most
    /// recently used, unless `k` changed meanwhile. Returns the file to remove.
    pub fn unspilled(&mut self, k: &K, path: &PathBuf, value: Value) -> Option<PathBuf> {
        match self.slow.get(k) {
            Some(s) if &s.path == path => self.insert(k.clone(), value),
            _ => None,
        }
    }

    /// Drops everything; returns the spill files, for the caller to remove.
    pub fn clear(&mut self) -> Vec<PathBuf> {
        let files = self.slow.drain().map(|(_, s)| s.path).collect();
        *self = Self::default();
        files
    }

    /// The keys held, in memory and spilled.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.fast.keys().chain(self.slow.keys())
    }

    /// Checks that the byte counts and the LRU index agree with the values held.
    pub fn validate(&self) -> Result<(), String> {
        let memory: u64 = self.fast.values().map(|f| f.nbytes).sum();
        let spilled: u64 = self.slow.values().map(|s| s.nbytes).sum();
        let disk: u64 = self.slow.values().map(|s| s.disk_bytes).sum();
        if (memory, spilled, disk) != (self.memory_bytes, self.spilled_bytes, self.disk_bytes) {
            return Err(format!(
                "byte counts {:?} but the values add up to {:?}",
                (self.memory_bytes, self.spilled_bytes, self.disk_bytes),
                (memory, spilled, disk)
            ));
        }
        let listed = self.fast.values().filter(|f| !f.spilling).count();
        if listed != self.lru.len() {
            return Err(format!(
                "{} values in memory but {} in the LRU order",
                listed,
                self.lru.len()
            ));
        }
        for (tick, k) in &self.lru {
            match self.fast.get(k) {
                Some(f) if f.tick == *tick && !f.spilling => {}
                _ => return Err(format!("LRU entry {tick} is stale")),
            }
        }
        if self.fast.keys().any(|k| self.slow.contains_key(k)) {
            return Err("a value both in memory and spilled".into());
        }
        Ok(())
    }
}
