//! The worker's results, shared by the task threads, the core and the peer server:
//! in memory or spilled to files under the worker's local directory (see
//! [`crate::spill`]).

use crate::spill::Spiller;
use brisk_core::{Key, Value};
use std::sync::Arc;

/// The results held, by key.
pub(super) type Store = Arc<Spiller<Key>>;

/// What a fetch brought: the values the peer had, and the keys it did not.
pub(super) type Fetched = (Vec<(Key, Value)>, Vec<Key>);
