//! Aggregations: tree reductions over partitions.
//!
//! ```text
//!   part_0  part_1 … part_7   part_8 …        one task per partition
//!      \      |      /           |
//!       combine (≤ split_every inputs)  …      levels until one is left
//!                 \        /
//!                  result: a one-partition bag (or a Scalar)
//! ```

use super::{layer_name, part, Bag, Item, Partition, SPLIT_EVERY};
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::Graph;
use brisk_core::op::{ClosureOp, Op};
use brisk_core::{Error, Key, Result, Value};
use rustc_hash::FxHashMap;
use std::hash::Hash;
use std::sync::Arc;

/// A lazy single value computed from a bag.
pub struct Scalar<A> {
    bag: Bag<A>,
    /// What the value is, for the error when there is none (a `max` of nothing).
    what: String,
}

impl<A: Item> Scalar<A> {
    /// The key of the value.
    pub fn key(&self) -> Key {
        self.bag.key(0)
    }

    /// The graph that computes it.
    pub fn graph(&self) -> &Graph {
        self.bag.graph()
    }

    /// Computes the value on the default executor.
    pub fn compute(&self) -> Result<A> {
        self.compute_with(default_executor()?.as_ref())
    }

    /// Computes the value on `executor`.
    pub fn compute_with(&self, executor: &dyn Executor) -> Result<A> {
        let v = executor.get(self.bag.graph(), &[self.key()])?;
        part::<A>(&v[0])?
            .first()
            .cloned()
            .ok_or_else(|| Error::user(format!("{} of an empty bag", self.what)))
    }
}

/// A token of a fold's initial value, so folds from different starts differ.
pub(crate) fn init_token<A: Item>(init: &A) -> Result<brisk_core::Token> {
    let bytes = rmp_serde::to_vec(init).map_err(|e| Error::Tokenize {
        what: "the initial value of a fold".into(),
        reason: e.to_string(),
    })?;
    brisk_core::tokenize(&(A::PARTITION_TAG, brisk_core::token::Bytes(&bytes)))
}

impl<T: Item> Bag<T> {
    /// A tree reduction: `per_partition` on each partition, then `combine` on groups
    /// of at most `split_every` results until one is left. The result is a bag of one
    /// partition.
    pub fn tree_reduce<A: Item>(
        &self,
        name: &str,
        per_partition: impl Fn(&[T]) -> Result<Vec<A>> + Send + Sync + 'static,
        combine: impl Fn(&[&[A]]) -> Result<Vec<A>> + Send + Sync + 'static,
        split_every: usize,
    ) -> Result<Bag<A>> {
        let split_every = split_every.max(2);
        let first = self.map_partitions(&format!("{name}-partition"), per_partition)?;
        let combine: Arc<dyn Op> = Arc::new(ClosureOp::new(
            format!("{name}-aggregate"),
            move |xs: &[Value]| {
                let parts: Vec<&[A]> = xs.iter().map(part::<A>).collect::<Result<_>>()?;
                Ok(Arc::new(Partition(combine(&parts)?)) as Value)
            },
        ));
        let (name, graph) = crate::layers::tree(
            first.graph().clone(),
            first.keys(),
            split_every,
            |depth| {
                layer_name(
                    &format!("{name}-aggregate"),
                    &[&first.name(), &depth, &split_every],
                )
            },
            |_| combine.clone(),
        )?;
        Ok(Bag::from_parts(name, 1, graph))
    }

    /// A reduction to one value: `per_partition` on each partition, `aggregate` on
    /// groups of partial results.
    pub fn reduction<A: Item>(
        &self,
        name: &str,
        per_partition: impl Fn(&[T]) -> Result<A> + Send + Sync + 'static,
        aggregate: impl Fn(Vec<A>) -> Result<A> + Send + Sync + 'static,
        split_every: usize,
    ) -> Result<Scalar<A>> {
        let bag = self.tree_reduce(
            name,
            move |xs| Ok(vec![per_partition(xs)?]),
            move |parts| {
                Ok(vec![aggregate(
                    parts.iter().flat_map(|p| p.iter().cloned()).collect(),
                )?])
            },
            split_every,
        )?;
        Ok(Scalar {
            bag,
            what: name.to_string(),
        })
    }

    /// Folds each partition from `init` with `binop`, then merges the partial results
    /// with `combine` (Dask's `fold`).
    pub fn fold<A: Item>(
        &self,
        name: &str,
        init: A,
        binop: impl Fn(A, &T) -> A + Send + Sync + 'static,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
    ) -> Result<Scalar<A>> {
        let init2 = init.clone();
        let name = format!("{name}-init{}", init_token(&init)?);
        self.reduction(
            &name,
            move |xs| Ok(xs.iter().fold(init.clone(), &binop)),
            move |parts| Ok(parts.into_iter().fold(init2.clone(), &combine)),
            SPLIT_EVERY,
        )
    }

    /// The number of items.
    pub fn count(&self) -> Result<Scalar<u64>> {
        self.reduction(
            "count",
            |xs| Ok(xs.len() as u64),
            |ns| Ok(ns.into_iter().sum()),
            SPLIT_EVERY,
        )
    }

    /// The sum of the items.
    pub fn sum(&self) -> Result<Scalar<T>>
    where
        T: std::iter::Sum<T>,
    {
        self.reduction(
            "sum",
            |xs| Ok(xs.iter().cloned().sum()),
            |ps| Ok(ps.into_iter().sum()),
            SPLIT_EVERY,
        )
    }

    /// The smallest item; an empty bag is an error.
    pub fn min(&self) -> Result<Scalar<T>>
    where
        T: PartialOrd,
    {
        self.extreme("min", |a, b| b < a)
    }

    /// The largest item; an empty bag is an error.
    pub fn max(&self) -> Result<Scalar<T>>
    where
        T: PartialOrd,
    {
        self.extreme("max", |a, b| b > a)
    }

    fn extreme(&self, name: &'static str, better: fn(&T, &T) -> bool) -> Result<Scalar<T>>
    where
        T: PartialOrd,
    {
        let pick = move |xs: &[T]| -> Vec<T> {
            let mut best: Option<&T> = None;
            for x in xs {
                if x.partial_cmp(x).is_none() {
                    // An unordered value (NaN) wins wherever it is, as in NumPy.
                    return vec![x.clone()];
                }
                if best.is_none_or(|b| better(b, x)) {
                    best = Some(x);
                }
            }
            best.cloned().into_iter().collect()
        };
        let bag = self.tree_reduce(
            name,
            move |xs| Ok(pick(xs)),
            move |parts| {
                let all: Vec<T> = parts.iter().flat_map(|p| p.iter().cloned()).collect();
                Ok(pick(&all))
            },
            SPLIT_EVERY,
        )?;
        Ok(Scalar {
            bag,
            what: name.to_string(),
        })
    }

    /// The mean of the items as `f64`.
    pub fn mean(&self) -> Result<Scalar<f64>>
    where
        T: Into<f64> + Copy,
    {
        let moments = self.moments()?;
        let bag = moments.map(
            "mean",
            |&(n, mean, _)| if n == 0.0 { f64::NAN } else { mean },
        )?;
        Ok(Scalar {
            bag,
            what: "mean".into(),
        })
    }

    /// The standard deviation of the items with `ddof` delta degrees of freedom.
    pub fn std(&self, ddof: u32) -> Result<Scalar<f64>>
    where
        T: Into<f64> + Copy,
    {
        let moments = self.moments()?;
        let bag = moments.map(&format!("std-ddof{ddof}"), move |&(n, _, m2)| {
            let dof = n - ddof as f64;
            if dof > 0.0 {
                (m2 / dof).sqrt()
            } else {
                f64::NAN
            }
        })?;
        Ok(Scalar {
            bag,
            what: "std".into(),
        })
    }

    /// `(count, mean, sum of squared deviations)`, merged with Chan's formula so the
    /// result is stable whatever the partitioning.
    fn moments(&self) -> Result<Bag<(f64, f64, f64)>>
    where
        T: Into<f64> + Copy,
    {
        self.tree_reduce(
            "moments",
            |xs| {
                let n = xs.len() as f64;
                let mean = xs.iter().map(|&x| x.into()).sum::<f64>() / n.max(1.0);
                let m2 = xs.iter().map(|&x| (x.into() - mean).powi(2)).sum::<f64>();
                Ok(vec![(n, mean, m2)])
            },
            |parts| {
                let mut acc = (0.0f64, 0.0f64, 0.0f64);
                for &(n, mean, m2) in parts.iter().flat_map(|p| p.iter()) {
                    if n == 0.0 {
                        continue;
                    }
                    let total = acc.0 + n;
                    let delta = mean - acc.1;
                    acc = (
                        total,
                        acc.1 + delta * n / total,
                        acc.2 + m2 + delta * delta * acc.0 * n / total,
                    );
                }
                Ok(vec![acc])
            },
            SPLIT_EVERY,
        )
    }

    /// How often each distinct item occurs: `(item, count)` pairs, most frequent first
    /// (ties by item), in one partition.
    pub fn frequencies(&self) -> Result<Bag<(T, u64)>>
    where
        T: Eq + Hash + Ord,
        (T, u64): Item,
    {
        fn sorted<T: Ord>(m: impl IntoIterator<Item = (T, u64)>) -> Vec<(T, u64)> {
            let mut v: Vec<(T, u64)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        }
        self.tree_reduce(
            "frequencies",
            // Count by reference: an item is cloned once per distinct value, not per item.
            move |xs| {
                let mut m: FxHashMap<&T, u64> = FxHashMap::default();
                for x in xs {
                    *m.entry(x).or_insert(0) += 1;
                }
                Ok(sorted(m.into_iter().map(|(k, n)| (k.clone(), n))))
            },
            move |parts| {
                let mut m: FxHashMap<T, u64> = FxHashMap::default();
                for (k, n) in parts.iter().flat_map(|p| p.iter().cloned()) {
                    *m.entry(k).or_insert(0) += n;
                }
                Ok(sorted(m))
            },
            SPLIT_EVERY,
        )
    }

    /// The `k` items with the largest `key`, largest first, in one partition.
    pub fn topk<K: Ord>(
        &self,
        name: &str,
        k: usize,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Result<Bag<T>> {
        let key = Arc::new(key);
        let top = move |items: &mut dyn Iterator<Item = &T>| -> Vec<T> {
            let mut v: Vec<&T> = items.collect();
            v.sort_by(|a, b| key(b).cmp(&key(a)));
            v.truncate(k);
            v.into_iter().cloned().collect()
        };
        let top2 = top.clone();
        self.tree_reduce(
            &format!("topk-{k}:{name}"),
            move |xs| Ok(top(&mut xs.iter())),
            move |parts| Ok(top2(&mut parts.iter().flat_map(|p| p.iter()))),
            SPLIT_EVERY,
        )
    }

    /// The distinct items, sorted, in one partition.
    pub fn distinct(&self) -> Result<Bag<T>>
    where
        T: Ord,
    {
        let uniq = |items: &mut dyn Iterator<Item = &T>| -> Vec<T> {
            let set: std::collections::BTreeSet<&T> = items.collect();
            set.into_iter().cloned().collect()
        };
        self.tree_reduce(
            "distinct",
            move |xs| Ok(uniq(&mut xs.iter())),
            move |parts| Ok(uniq(&mut parts.iter().flat_map(|p| p.iter()))),
            SPLIT_EVERY,
        )
    }
}
