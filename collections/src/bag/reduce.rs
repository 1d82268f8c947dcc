//! Aggregations: tree reductions over partitions.
//!
//! ```text
//!   part_0  part_1 … part_7   part_8 …        one task per partition
//!      \      |      /           |
//!       combine (≤ split_every inputs)  …      levels until one is left
//!                 \        /
//!                  result: a one-partition bag (or a Scalar)
//! ```

use super::hash::init_token;
use super::item_ops::{self, Finish, ReduceSpec, Reduction, Stage, Stages};
use super::task_fn::Apply;
use super::task_fn2::Apply2;
use super::{layer_name, part, Bag, Item, Partition, Summable, SPLIT_EVERY};
use crate::user_fn::{
    Aggregate, Code, Code2, Combine, FoldStep, IntoCode, IntoCode2, OnItem, OnPartition, OnParts,
    Reduce,
};
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::Graph;
use brisk_core::op::{ClosureOp, Op};
use brisk_core::spec_op::SpecOp;
use brisk_core::{Key, Result, Value};
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
        part::<A>(&v[0])?.first().cloned().ok_or_else(|| {
            crate::Error::EmptyBag {
                reduction: self.what.clone(),
            }
            .into()
        })
    }
}

impl<T: Item> Bag<T> {
    /// A tree reduction: `per_partition` on each partition, then `combine` on
    /// groups of at most `split_every` results until one is left; a bag of one
    /// partition. `per_partition` is a registered function of a partition (`fn(xs:
    /// &[T]) -> Vec<A>`) or a named closure `("name", |xs: &[T]| -> Result<Vec<A>>)`;
    /// `combine` a registered function of the concatenated results (`fn(xs: &[A])
    /// -> Vec<A>`) or a named closure of the results one by one (`("name", |parts:
    /// &[&[A]]| -> Result<Vec<A>>)`). Registered functions run on any scheduler.
    pub fn tree_reduce<A: Item, M1, M2>(
        &self,
        per_partition: impl IntoCode<Vec<T>, Vec<A>, OnPartition<T, A>, M1>,
        combine: impl IntoCode<Vec<A>, Vec<A>, OnParts<A>, M2>,
        split_every: usize,
    ) -> Result<Bag<A>> {
        let first: Bag<A> = self.map_partitions(per_partition)?;
        let (name, combine): (String, Arc<dyn Op>) = match combine.into_code() {
            Code::Registered(g) => (
                format!("tree-{}", g.token(Apply::Concat)?),
                g.apply_op(Apply::Concat)?,
            ),
            Code::Closure(name, g) => (name.clone(), parts_op(&name, move |p| g(p))),
        };
        first.tree_of(&name, combine, split_every)
    }

    /// [`Bag::tree_reduce`] of two closures, named `name`.
    pub(crate) fn tree_reduce_closures<A: Item>(
        &self,
        name: &str,
        per_partition: impl Fn(&[T]) -> Result<Vec<A>> + Send + Sync + 'static,
        combine: impl Fn(&[&[A]]) -> Result<Vec<A>> + Send + Sync + 'static,
        split_every: usize,
    ) -> Result<Bag<A>> {
        let first = self.map_partitions_closure(&format!("{name}-partition"), per_partition)?;
        first.tree_of(name, parts_op(name, combine), split_every)
    }

    /// A reduction to one value (Dask's `reduction`): `per_partition` turns each
    /// partition into one value, `aggregate` turns groups of at most
    /// `split_every` values into one, level by level. Each is a registered
    /// function (`fn(xs: &[T]) -> A` and `fn(values: Vec<A>) -> A`, as
    /// `f::task_fn()`; runs on any scheduler) or a named closure (`("name", |xs:
    /// &[T]| -> Result<A>)`, `("name", |values: Vec<A>| -> Result<A>)`; local only).
    pub fn reduction<A: Item, M1, M2>(
        &self,
        per_partition: impl IntoCode<Vec<T>, A, Reduce<T, A>, M1>,
        aggregate: impl IntoCode<Vec<A>, A, Aggregate<A>, M2>,
        split_every: usize,
    ) -> Result<Scalar<A>> {
        let (first_name, first_op): (String, Arc<dyn Op>) = match per_partition.into_code() {
            Code::Registered(f) => (
                f.token(Apply::Reduce)?.to_string(),
                f.apply_op(Apply::Reduce)?,
            ),
            Code::Closure(name, f) => {
                let op = Arc::new(ClosureOp::new(
                    format!("reduction:{name}"),
                    move |xs: &[Value]| {
                        Ok(Arc::new(Partition(vec![f(part::<T>(&xs[0])?)?])) as Value)
                    },
                ));
                (name, op)
            }
        };
        let (agg_name, agg_op): (String, Arc<dyn Op>) = match aggregate.into_code() {
            Code::Registered(g) => (
                g.token(Apply::Aggregate)?.to_string(),
                g.apply_op(Apply::Aggregate)?,
            ),
            Code::Closure(name, g) => {
                let op = Arc::new(ClosureOp::new(
                    format!("aggregate:{name}"),
                    move |xs: &[Value]| {
                        let mut values = Vec::new();
                        for x in xs {
                            values.extend(part::<A>(x)?.iter().cloned());
                        }
                        Ok(Arc::new(Partition(vec![g(values)?])) as Value)
                    },
                ));
                (name, op)
            }
        };
        let layer = layer_name("reduction", &[&self.name(), &first_name, &agg_name])?;
        let first: Bag<A> = self.blockwise(layer, first_op);
        Ok(Scalar {
            bag: first.tree_of("reduction", agg_op, split_every)?,
            what: "reduction".to_string(),
        })
    }

    /// Folds each partition from `init` with `binop`, then merges the partial
    /// results from `init` with `combine` (Dask's `fold`). Each is a registered
    /// function of two inputs (`fn binop(acc: A, x: &T) -> A`, `fn combine(a: A,
    /// b: A) -> A`, as `f::task_fn()`; runs on any scheduler) or a named closure
    /// (`("name", |acc: A, x: &T| -> A)`, `("name", |a: A, b: A| -> A)`; local
    /// only). `init` is part of the keys.
    pub fn fold<A: Item, M1, M2>(
        &self,
        init: A,
        binop: impl IntoCode2<A, T, A, FoldStep<A, T>, M1>,
        combine: impl IntoCode2<A, A, A, Combine<A>, M2>,
    ) -> Result<Scalar<A>> {
        let tag = init_token(&init)?;
        let (first_name, first_op): (String, Arc<dyn Op>) = match binop.into_code2() {
            Code2::Registered(f) => (f.label(&init)?, f.apply_op(Apply2::Fold, &init)?),
            Code2::Closure(name, f) => {
                let init = init.clone();
                let op = Arc::new(ClosureOp::new(
                    format!("fold:{name}"),
                    move |xs: &[Value]| {
                        let mut acc = init.clone();
                        for x in part::<T>(&xs[0])? {
                            acc = f(acc, x);
                        }
                        Ok(Arc::new(Partition(vec![acc])) as Value)
                    },
                ));
                (format!("{name}-init{tag}"), op)
            }
        };
        let (combine_name, combine_op): (String, Arc<dyn Op>) = match combine.into_code2() {
            Code2::Registered(g) => (g.label(&init)?, g.apply_op(Apply2::Combine, &init)?),
            Code2::Closure(name, g) => {
                let init = init.clone();
                let op = Arc::new(ClosureOp::new(
                    format!("fold-combine:{name}"),
                    move |xs: &[Value]| {
                        let mut acc = init.clone();
                        for x in xs {
                            for a in part::<A>(x)? {
                                acc = g(acc, a.clone());
                            }
                        }
                        Ok(Arc::new(Partition(vec![acc])) as Value)
                    },
                ));
                (format!("{name}-init{tag}"), op)
            }
        };
        let layer = layer_name("fold", &[&self.name(), &first_name, &combine_name])?;
        let first: Bag<A> = self.blockwise(layer, first_op);
        Ok(Scalar {
            bag: first.tree_of("fold", combine_op, SPLIT_EVERY)?,
            what: format!("fold {first_name}"),
        })
    }

    /// A built-in aggregation as registered ops (so it runs on workers too): the
    /// partition stage on each partition, then the combine stage on groups of at
    /// most `split_every` partials until one is left.
    fn aggregate<A>(&self, reduction: Reduction, stages: Stages) -> Result<Bag<A>> {
        let name = format!("{reduction:?}").to_lowercase();
        let layer = layer_name(&format!("{name}-partition"), &[&self.name()])?;
        let first: Bag<A> = self.blockwise(
            layer,
            ReduceSpec::op::<T>(reduction, Stage::Partition, stages),
        );
        let combine: Arc<dyn Op> = ReduceSpec::op::<T>(reduction, Stage::Combine, stages);
        first.tree_of(&name, combine, SPLIT_EVERY)
    }

    fn scalar<A>(&self, reduction: Reduction, stages: Stages) -> Result<Scalar<A>> {
        Ok(Scalar {
            bag: self.aggregate(reduction, stages)?,
            what: format!("{reduction:?}").to_lowercase(),
        })
    }

    /// The number of items.
    pub fn count(&self) -> Result<Scalar<u64>> {
        self.scalar(Reduction::Count, item_ops::count::<T>())
    }

    /// The sum of the items, in a wide type for integers (see [`Summable`]): an
    /// overflow is an error, never a wrapped value.
    pub fn sum(&self) -> Result<Scalar<T::Total>>
    where
        T: Summable,
    {
        self.scalar(Reduction::Sum, item_ops::sum::<T>())
    }

    /// The smallest item; an empty bag is an error.
    pub fn min(&self) -> Result<Scalar<T>>
    where
        T: PartialOrd,
    {
        self.scalar(Reduction::Min, item_ops::min::<T>())
    }

    /// The largest item; an empty bag is an error.
    pub fn max(&self) -> Result<Scalar<T>>
    where
        T: PartialOrd,
    {
        self.scalar(Reduction::Max, item_ops::max::<T>())
    }

    /// The mean of the items as `f64`.
    pub fn mean(&self) -> Result<Scalar<f64>>
    where
        T: Into<f64> + Copy,
    {
        self.finish_moments("mean", Finish::Mean)
    }

    /// The standard deviation of the items with `ddof` delta degrees of freedom.
    pub fn std(&self, ddof: u32) -> Result<Scalar<f64>>
    where
        T: Into<f64> + Copy,
    {
        self.finish_moments(&format!("std-ddof{ddof}"), Finish::Std { ddof })
    }

    /// `(count, mean, sum of squared deviations)` merged with Chan's formula, then
    /// `finish`.
    fn finish_moments(&self, what: &str, finish: Finish) -> Result<Scalar<f64>>
    where
        T: Into<f64> + Copy,
    {
        let moments: Bag<(f64, f64, f64)> =
            self.aggregate(Reduction::Moments, item_ops::moments::<T>())?;
        let layer = layer_name(what, &[&moments.name()])?;
        let bag = moments.blockwise(layer, Arc::new(SpecOp(finish)));
        Ok(Scalar {
            bag,
            what: what.split('-').next().unwrap_or(what).to_string(),
        })
    }

    /// How often each distinct item occurs: `(item, count)` pairs, most frequent first
    /// (ties by item), in one partition.
    pub fn frequencies(&self) -> Result<Bag<(T, u64)>>
    where
        T: Eq + Hash + Ord,
        (T, u64): Item,
    {
        self.aggregate(Reduction::Frequencies, item_ops::frequencies::<T>())
    }

    /// The `k` items with the largest `key`, largest first, in one partition:
    /// `key` is a registered function or a named closure `("name", |x: &T| -> K)`.
    pub fn topk<K: Ord + 'static, M>(
        &self,
        k: usize,
        key: impl IntoCode<T, K, OnItem<T, K>, M>,
    ) -> Result<Bag<T>> {
        match key.into_code() {
            Code::Registered(key) => {
                let op = key.apply_op(Apply::TopK { k })?;
                let name = format!("topk-{k}-{}", key.token(Apply::TopK { k })?);
                let first: Bag<T> = self.blockwise(layer_name(&name, &[&self.name()])?, op.clone());
                first.tree_of(&name, op, SPLIT_EVERY)
            }
            Code::Closure(name, key) => {
                let top = move |items: &mut dyn Iterator<Item = &T>| -> Vec<T> {
                    let mut v: Vec<&T> = items.collect();
                    v.sort_by(|a, b| key(b).cmp(&key(a)));
                    v.truncate(k);
                    v.into_iter().cloned().collect()
                };
                let top = Arc::new(top);
                let top2 = top.clone();
                self.tree_reduce_closures(
                    &format!("topk-{k}:{name}"),
                    move |xs| Ok(top(&mut xs.iter())),
                    move |parts| Ok(top2(&mut parts.iter().flat_map(|p| p.iter()))),
                    SPLIT_EVERY,
                )
            }
        }
    }

    /// The distinct items, sorted, in one partition.
    pub fn distinct(&self) -> Result<Bag<T>>
    where
        T: Ord,
    {
        self.aggregate(Reduction::Distinct, item_ops::distinct::<T>())
    }
}

/// The op of a tree's combine closure: the partitions it is given, one by one.
fn parts_op<A: Item>(
    name: &str,
    combine: impl Fn(&[&[A]]) -> Result<Vec<A>> + Send + Sync + 'static,
) -> Arc<dyn Op> {
    Arc::new(ClosureOp::new(
        format!("{name}-aggregate"),
        move |xs: &[Value]| {
            let parts: Vec<&[A]> = xs.iter().map(part::<A>).collect::<Result<_>>()?;
            Ok(Arc::new(Partition(combine(&parts)?)) as Value)
        },
    ))
}

impl<A> Bag<A> {
    /// Combines the partitions with `combine`, at most `split_every` at a time, level
    /// by level until one partition is left.
    pub(super) fn tree_of(
        &self,
        name: &str,
        combine: Arc<dyn Op>,
        split_every: usize,
    ) -> Result<Bag<A>> {
        let split_every = split_every.max(2);
        let (name, graph) = crate::layers::tree_reduction(
            self.graph().clone(),
            self.keys(),
            split_every,
            |depth| {
                layer_name(
                    &format!("{name}-aggregate"),
                    &[&self.name(), &depth, &split_every],
                )
            },
            |_| combine.clone(),
        )?;
        Ok(Bag::from_parts(name, 1, graph))
    }
}
