//! The worker's results, shared by the task threads, the core and the peer server.

use brisk_core::{Key, Value};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};

/// The results held, by key.
pub(super) type Store = Arc<Mutex<FxHashMap<Key, Value>>>;

/// What a fetch brought: the values the peer had, and the keys it did not.
pub(super) type Fetched = (Vec<(Key, Value)>, Vec<Key>);

/// The store, locked (a panic elsewhere does not poison it for good).
pub(super) fn lock(store: &Store) -> std::sync::MutexGuard<'_, FxHashMap<Key, Value>> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}
