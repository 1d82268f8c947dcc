//! Keys: the names of task results.
//!
//! A key is a name that carries a content token, plus a chunk index, like Dask's
//! `("read-csv-3f9a…", 7)` or `("add-…", 0, 3)`. Keys are cheap to clone (one `Arc`)
//! and cheap to hash (the hash is computed once, when the key is made).

use crate::token::Token;
use smallvec::SmallVec;
use std::fmt;
use std::hash::{Hash, Hasher as StdHasher};
use std::sync::Arc;

/// The name of one task's result: `name` (usually `prefix-token`) plus a chunk index.
///
/// ```
/// use brisk_core::{Key, token::tokenize};
/// let token = tokenize(&"some content").unwrap();
/// let k = Key::from_token("sum", &token, &[0, 3]);
/// assert!(k.name().starts_with("sum-"));
/// assert_eq!(k.index(), &[0, 3]);
/// assert_eq!(k.prefix(), "sum");
/// assert_eq!(k, Key::from_token("sum", &token, &[0, 3]));
/// ```
#[derive(Clone)]
pub struct Key(Arc<KeyInner>);

struct KeyInner {
    hash: u64,
    name: Box<str>,
    index: SmallVec<[u32; 2]>,
}

impl Key {
    /// A key with a literal name and chunk index.
    pub fn new(name: impl Into<Box<str>>, index: &[u32]) -> Key {
        let name = name.into();
        let mut h = rustc_hash::FxHasher::default();
        name.hash(&mut h);
        index.hash(&mut h);
        Key(Arc::new(KeyInner {
            hash: h.finish(),
            name,
            index: SmallVec::from_slice(index),
        }))
    }

    /// A key named `prefix-<first 32 hex digits of token>` with the given index.
    pub fn from_token(prefix: &str, token: &Token, index: &[u32]) -> Key {
        Key::new(format!("{prefix}-{}", token.to_hex()), index)
    }

    /// The full name, e.g. `"sum-1f2e…"`.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The chunk index (empty for a single result).
    pub fn index(&self) -> &[u32] {
        &self.0.index
    }

    /// The name without its trailing `-token`: what Dask calls the key prefix, used to
    /// group tasks in progress reports.
    pub fn prefix(&self) -> &str {
        match self.0.name.rsplit_once('-') {
            Some((p, tail)) if !p.is_empty() && tail.len() == 32 => p,
            _ => &self.0.name,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash
                && self.0.name == other.0.name
                && self.0.index == other.0.index)
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: StdHasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&*self.0.name, &self.0.index[..]).cmp(&(&*other.0.name, &other.0.index[..]))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.index.is_empty() {
            write!(f, "'{}'", self.0.name)
        } else {
            write!(f, "('{}'", self.0.name)?;
            for i in &self.0.index {
                write!(f, ", {i}")?;
            }
            write!(f, ")")
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

/// Keys travel between processes as `(name, index)`.
impl serde::Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        (&*self.0.name, &self.0.index[..]).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Key, D::Error> {
        let (name, index): (String, Vec<u32>) = serde::Deserialize::deserialize(d)?;
        Ok(Key::new(name, &index))
    }
}

/// A key interned to a dense integer id inside one [`crate::graph::TaskGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u32);

impl TaskId {
    /// The id as a vector index.
    #[inline]
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}
