//! Dask's `foldby`: groups items by a key and folds each group, with no shuffle.
//!
//! ```text
//!  part_i ─▶ (key, acc) per key of part_i ─┐
//!  part_j ─▶ (key, acc) per key of part_j ─┼─▶ merge by key (a tree) ─▶ (key, acc), sorted
//!  …                                       ┘
//! ```
//!
//! With registered functions, each task runs the three functions in turn, each on
//! what its own types allow (see [`super::keyed`]): the key function maps the
//! items to keys, the pair type groups the positions of equal keys, the fold step
//! folds each group, and the pair type pairs keys with accumulators again.

use super::hash::init_token;
use super::keyed::keyed_ops;
use super::task_fn::{self, Apply};
use super::task_fn2::{self, Apply2};
use super::{layer_name, Bag, Item, SPLIT_EVERY};
use crate::error;
use crate::user_fn::{Code, Code2, Combine, FoldStep, IntoCode, IntoCode2, OnItem};
use brisk_core::op::Op;
use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
use brisk_core::{Error, Result, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

impl<T: Item> Bag<T> {
    /// Groups items by `key` and folds each group (Dask's `foldby`): `binop` folds
    /// an item into its group's accumulator, starting from `init` in every
    /// partition, and `combine` merges accumulators of the same key from different
    /// partitions. The result is one partition of `(key, accumulator)` pairs,
    /// sorted by key.
    ///
    /// Give three registered functions (`f::task_fn(bound…)`: runs on any
    /// scheduler) or three named closures (local scheduler only).
    ///
    /// ```
    /// use brisk_collections::bag::Bag;
    /// use brisk_scheduler as _;
    ///
    /// #[brisk_macros::task]
    /// fn parity(x: &i64) -> i64 {
    ///     x % 2
    /// }
    ///
    /// #[brisk_macros::task]
    /// fn add(acc: i64, x: &i64) -> i64 {
    ///     acc + x
    /// }
    ///
    /// #[brisk_macros::task]
    /// fn plus(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// fn main() {
    ///     let b = Bag::from_sequence((1..=10_i64).collect(), 3).unwrap();
    ///     let sums = b.foldby(parity::task_fn(), 0, add::task_fn(), plus::task_fn()).unwrap();
    ///     assert_eq!(sums.compute().unwrap(), vec![(0, 30), (1, 25)]);
    ///     // The same with closures, on the local scheduler.
    ///     let local = b
    ///         .foldby(
    ///             ("parity", |x: &i64| x % 2),
    ///             0,
    ///             ("add", |acc: i64, x: &i64| acc + x),
    ///             ("plus", |a: i64, b: i64| a + b),
    ///         )
    ///         .unwrap();
    ///     assert_eq!(local.compute().unwrap(), vec![(0, 30), (1, 25)]);
    /// }
    /// ```
    pub fn foldby<K, A, M1, M2, M3>(
        &self,
        key: impl IntoCode<T, K, OnItem<T, K>, M1>,
        init: A,
        binop: impl IntoCode2<A, T, A, FoldStep<A, T>, M2>,
        combine: impl IntoCode2<A, A, A, Combine<A>, M3>,
    ) -> Result<Bag<(K, A)>>
    where
        K: Item + Ord,
        A: Item,
        (K, A): Item,
    {
        let init_tag = init_token(&init)?;
        match (key.into_code(), binop.into_code2(), combine.into_code2()) {
            (Code::Registered(key), Code2::Registered(binop), Code2::Registered(combine)) => {
                let pair = <(K, A)>::PARTITION_TAG;
                keyed_ops(pair)?;
                let init_bytes = rmp_serde::to_vec(&init).map_err(|e| Error::Tokenize {
                    what: "the initial value of a foldby".into(),
                    reason: e.to_string(),
                })?;
                let spec = |stage| -> Arc<dyn Op> {
                    Arc::new(SpecOp(FoldBySpec {
                        stage,
                        init: init_bytes.clone(),
                        pair: pair.to_string(),
                    }))
                };
                let first = spec(Stage::Partition {
                    key: FnRef::of(key.op())?,
                    binop: FnRef::of(binop.op())?,
                });
                let merge = spec(Stage::Combine {
                    combine: FnRef::of(combine.op())?,
                });
                let layer = layer_name(
                    "foldby",
                    &[
                        &self.name(),
                        &key.content_token()?,
                        &binop.label(&init)?,
                        &combine.label(&init)?,
                    ],
                )?;
                let partials: Bag<(K, A)> = self.blockwise(layer, first);
                partials.tree_of("foldby", merge, SPLIT_EVERY)
            }
            (Code::Closure(kn, key), Code2::Closure(bn, binop), Code2::Closure(cn, combine)) => {
                self.tree_reduce_closures(
                    &format!("foldby:{kn}+{bn}+{cn}-init{init_tag}"),
                    move |xs| {
                        let mut m: BTreeMap<K, A> = BTreeMap::new();
                        for x in xs {
                            let k = key(x);
                            let acc = m.remove(&k).unwrap_or_else(|| init.clone());
                            m.insert(k, binop(acc, x));
                        }
                        Ok(m.into_iter().collect())
                    },
                    move |parts| {
                        let mut m: BTreeMap<K, A> = BTreeMap::new();
                        for (k, a) in parts.iter().flat_map(|p| p.iter().cloned()) {
                            let merged = match m.remove(&k) {
                                Some(prev) => combine(prev, a),
                                None => a,
                            };
                            m.insert(k, merged);
                        }
                        Ok(m.into_iter().collect())
                    },
                    SPLIT_EVERY,
                )
            }
            _ => Err(error::invalid(
                "foldby takes three registered functions (key, binop, combine) or three \
                 named closures, not a mix",
            )),
        }
    }
}

/// A registered function by name, with its bound parameters' bytes.
#[derive(serde::Serialize, serde::Deserialize)]
struct FnRef {
    function: String,
    params: Vec<u8>,
}

impl FnRef {
    fn of(op: &Arc<dyn Op>) -> Result<FnRef> {
        Ok(FnRef {
            function: op.name().to_string(),
            params: op.params()?,
        })
    }
}

/// Which step of a foldby a task runs.
#[derive(serde::Serialize, serde::Deserialize)]
enum Stage {
    /// One partition to its `(key, accumulator)` pairs.
    Partition { key: FnRef, binop: FnRef },
    /// Partial results merged by key.
    Combine { combine: FnRef },
}

/// A task of a registered foldby.
#[derive(serde::Serialize, serde::Deserialize)]
struct FoldBySpec {
    stage: Stage,
    /// The initial accumulator's bytes.
    init: Vec<u8>,
    /// The output pair type's partition tag.
    pair: String,
}

impl Spec for FoldBySpec {
    const NAME: &'static str = "brisk::bag::foldby";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let pair = keyed_ops(&self.pair)?;
        match (&self.stage, inputs) {
            (Stage::Partition { key, binop }, [partition]) => {
                let keys = task_fn::registered(&key.function)?(Apply::Map, &key.params, partition)?;
                let (distinct, groups) = (pair.group)(&keys)?;
                let fold = task_fn2::registered(&binop.function)?;
                let accs = fold(
                    Apply2::FoldGroups,
                    &binop.params,
                    &self.init,
                    &[partition.clone(), groups],
                )?;
                (pair.zip)(&distinct, &accs)
            }
            (Stage::Combine { combine }, _) => {
                let (distinct, accs, groups) = (pair.split)(inputs)?;
                let merge = task_fn2::registered(&combine.function)?;
                let merged = merge(
                    Apply2::CombineGroups,
                    &combine.params,
                    &self.init,
                    &[accs, groups],
                )?;
                (pair.zip)(&distinct, &merged)
            }
            (Stage::Partition { .. }, _) => Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 1,
                found: inputs.len(),
            }),
        }
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration {
        name: FoldBySpec::NAME,
        rebuild: rebuild_spec::<FoldBySpec>,
    }
}
