//! The key-and-accumulator steps of a registered `foldby`, for a pair item type
//! `(K, A)`.
//!
//! A registered `foldby` runs three functions of different types: the key
//! (`T -> K`), the fold step (`(A, T) -> A`) and the combine (`(A, A) -> A`).
//! None of them knows all three types, so each does only what its own types allow,
//! and what joins them knows `K` and `A` together: the output item type `(K, A)`.
//! [`crate::bag_item!`] registers, for every pair type whose parts are items with
//! an ordered key, how to group items by their keys ([`KeyedOps::group`]), how to
//! pull apart partial results to merge them ([`KeyedOps::split`]), and how to pair
//! keys with accumulators ([`KeyedOps::zip`]). Between the steps, groups travel as
//! lists of item positions ([`Groups`]).

use super::partition::{part, Item, Partition};
use crate::error;
use brisk_core::value::{Data, Encoded};
use brisk_core::{Result, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// The positions of the items of each group, in the order of the groups' keys;
/// passed between the steps of one task, never sent.
pub struct Groups(pub Vec<Vec<u32>>);

impl Data for Groups {
    fn nbytes(&self) -> usize {
        self.0.iter().map(|g| 24 + 4 * g.len()).sum()
    }
    fn type_tag(&self) -> &'static str {
        "bag-groups"
    }
    fn encode(&self) -> Result<Encoded> {
        Err(error::malformed(
            "the groups of one foldby step are never sent",
        ))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The groups a step was handed.
pub(crate) fn groups_of(v: &Value) -> Result<&[Vec<u32>]> {
    Ok(&v.expect_ref::<Groups>()?.0)
}

/// What a registered `foldby` does with keys and accumulators of one pair type.
#[derive(Clone, Copy)]
pub struct KeyedOps {
    /// A partition of keys (one per item) to the distinct keys, sorted, and the
    /// positions of each key's items.
    pub group: fn(&Value) -> Result<(Value, Value)>,
    /// Partitions of `(key, accumulator)` pairs to the distinct keys, sorted, all
    /// the accumulators in one partition, and the positions of each key's
    /// accumulators among them.
    pub split: fn(&[Value]) -> Result<(Value, Value, Value)>,
    /// Distinct keys and one accumulator for each to a partition of pairs.
    pub zip: fn(&Value, &Value) -> Result<Value>,
}

/// The [`KeyedOps`] of one pair type, as [`crate::bag_item!`] registers them.
pub struct KeyedRegistration {
    /// The pair type's partition tag.
    pub tag: &'static str,
    /// Its ops, if its parts are items with an ordered key.
    pub ops: fn() -> Option<KeyedOps>,
}

inventory::collect!(KeyedRegistration);

/// The ops of the pair type whose partitions are tagged `tag`, or an error saying
/// what the type lacks.
pub(crate) fn keyed_ops(tag: &str) -> Result<KeyedOps> {
    static TABLE: OnceLock<HashMap<&'static str, fn() -> Option<KeyedOps>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        inventory::iter::<KeyedRegistration>
            .into_iter()
            .map(|r| (r.tag, r.ops))
            .collect()
    });
    table.get(tag).and_then(|ops| ops()).ok_or_else(|| {
        error::invalid(format!(
            "a registered foldby makes {tag} items: its key and accumulator must each be \
             a bag item (bag_item!) and the key ordered"
        ))
    })
}

/// The ops of `(K, A)`.
pub fn keyed<K: Item + Ord, A: Item>() -> KeyedOps
where
    (K, A): Item,
{
    KeyedOps {
        group: group::<K>,
        split: split::<K, A>,
        zip: zip::<K, A>,
    }
}

fn position(i: usize) -> Result<u32> {
    u32::try_from(i)
        .map_err(|_| error::invalid(format!("a foldby partition of over {} items", u32::MAX)))
}

fn group<K: Item + Ord>(keys: &Value) -> Result<(Value, Value)> {
    let mut groups: BTreeMap<&K, Vec<u32>> = BTreeMap::new();
    for (i, k) in part::<K>(keys)?.iter().enumerate() {
        groups.entry(k).or_default().push(position(i)?);
    }
    let (distinct, positions): (Vec<K>, Vec<Vec<u32>>) =
        groups.into_iter().map(|(k, g)| (k.clone(), g)).unzip();
    Ok((Arc::new(Partition(distinct)), Arc::new(Groups(positions))))
}

fn split<K: Item + Ord, A: Item>(parts: &[Value]) -> Result<(Value, Value, Value)>
where
    (K, A): Item,
{
    let mut groups: BTreeMap<&K, Vec<u32>> = BTreeMap::new();
    let mut accs: Vec<A> = Vec::new();
    for p in parts {
        for (k, a) in part::<(K, A)>(p)? {
            groups.entry(k).or_default().push(position(accs.len())?);
            accs.push(a.clone());
        }
    }
    let (distinct, positions): (Vec<K>, Vec<Vec<u32>>) =
        groups.into_iter().map(|(k, g)| (k.clone(), g)).unzip();
    Ok((
        Arc::new(Partition(distinct)),
        Arc::new(Partition(accs)),
        Arc::new(Groups(positions)),
    ))
}

fn zip<K: Item + Ord, A: Item>(keys: &Value, accs: &Value) -> Result<Value>
where
    (K, A): Item,
{
    let (keys, accs) = (part::<K>(keys)?, part::<A>(accs)?);
    if keys.len() != accs.len() {
        return Err(error::malformed(format!(
            "a foldby step made {} accumulators for {} keys",
            accs.len(),
            keys.len()
        )));
    }
    let pairs: Vec<(K, A)> = keys.iter().cloned().zip(accs.iter().cloned()).collect();
    Ok(Arc::new(Partition(pairs)))
}

/// Finds at compile time whether an item type is a pair with an ordered key
/// (autoref specialisation). Only [`crate::bag_item!`] uses it.
pub mod probe {
    use super::*;

    /// Stands for the item type `T`.
    pub struct KeyedProbe<T>(std::marker::PhantomData<T>);

    impl<T> KeyedProbe<T> {
        /// The probe.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            KeyedProbe(std::marker::PhantomData)
        }
    }

    /// A pair of items with an ordered key.
    pub trait IsKeyed {
        /// Its ops.
        fn keyed(&self) -> Option<KeyedOps>;
    }

    impl<K: Item + Ord, A: Item> IsKeyed for KeyedProbe<(K, A)>
    where
        (K, A): Item,
    {
        fn keyed(&self) -> Option<KeyedOps> {
            Some(super::keyed::<K, A>())
        }
    }

    /// Any other type.
    pub trait NotKeyed {
        /// None.
        fn keyed(&self) -> Option<KeyedOps>;
    }

    impl<T> NotKeyed for &KeyedProbe<T> {
        fn keyed(&self) -> Option<KeyedOps> {
            None
        }
    }
}
