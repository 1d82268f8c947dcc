//! Hashes a bag needs to be the same in every process: the bucket of a key in a
//! shuffle, and the token of a fold's initial value.

use super::partition::Item;
use brisk_core::{Error, Result};
use std::hash::{Hash, Hasher};

/// A hash that is the same in every process (unlike `std`'s randomly seeded one), so
/// that every worker sends a key to the same bucket.
pub(crate) fn stable_hash<K: Hash>(k: &K) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    k.hash(&mut h);
    h.finish()
}

/// A token of a fold's initial value, so folds from different starts differ.
pub(crate) fn init_token<A: Item>(init: &A) -> Result<brisk_core::Token> {
    let bytes = rmp_serde::to_vec(init).map_err(|e| Error::Tokenize {
        what: "the initial value of a fold".into(),
        reason: e.to_string(),
    })?;
    brisk_core::tokenize(&(A::PARTITION_TAG, brisk_core::token::Bytes(&bytes)))
}
