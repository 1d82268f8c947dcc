//! [`Bag`]: the type, its constructors, its element-wise methods and `compute`.

use super::partition::{part, Item, Partition};
use super::task_fn::{self, TaskFn};
use crate::layers::layer_name;
use crate::user_fn::{Code, IntoCode, OnItem, OnPartition};
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::{Graph, Task};
use brisk_core::op::{ClosureOp, LiteralOp, Op};
use brisk_core::token::Bytes;
use brisk_core::{Error, Key, Result, Value};
use std::marker::PhantomData;
use std::sync::Arc;

/// A lazy, partitioned collection of `T`.
pub struct Bag<T> {
    pub(super) name: String,
    pub(super) npartitions: usize,
    pub(super) graph: Graph,
    pub(super) _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Bag<T> {
    fn clone(&self) -> Self {
        Bag {
            name: self.name.clone(),
            npartitions: self.npartitions,
            graph: self.graph.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Bag<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Bag<{}>({}, npartitions={})",
            std::any::type_name::<T>(),
            self.name,
            self.npartitions
        )
    }
}

impl<T> Bag<T> {
    /// A bag over existing partition keys `(name, 0..npartitions)` of `graph`.
    pub fn from_parts(name: String, npartitions: usize, graph: Graph) -> Self {
        Bag {
            name,
            npartitions,
            graph,
            _t: PhantomData,
        }
    }

    /// The number of partitions.
    pub fn npartitions(&self) -> usize {
        self.npartitions
    }

    /// The layer name of the partitions.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key of partition `i`.
    pub fn key(&self, i: usize) -> Key {
        Key::new(self.name.as_str(), &[i as u32])
    }

    /// The keys of every partition.
    pub fn keys(&self) -> Vec<Key> {
        (0..self.npartitions).map(|i| self.key(i)).collect()
    }

    /// The graph that computes the partitions.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

impl<T: Item> Bag<T> {
    /// A bag of `items` cut into `npartitions` partitions of near-equal size (fewer
    /// when there are fewer items; at least one).
    pub fn from_sequence(items: Vec<T>, npartitions: usize) -> Result<Bag<T>> {
        let bytes = rmp_serde::to_vec(&items).map_err(|e| Error::Tokenize {
            what: "the items of from_sequence".into(),
            reason: e.to_string(),
        })?;
        let n = npartitions.clamp(1, items.len().max(1));
        let name = layer_name("from_sequence", &[&T::PARTITION_TAG, &Bytes(&bytes), &n])?;
        let len = items.len();
        let chunks: Vec<Vec<T>> = (0..n)
            .map(|i| items[i * len / n..(i + 1) * len / n].to_vec())
            .collect();
        let tasks = chunks
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let key = Key::new(name.as_str(), &[i as u32]);
                let token = brisk_core::tokenize(&key)?;
                Ok(Task::new(
                    key,
                    Arc::new(LiteralOp::new(Arc::new(Partition(c)), token)),
                    vec![],
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Bag::from_parts(
            name.clone(),
            n,
            Graph::from_tasks(name, tasks),
        ))
    }

    /// Applies `f` to every partition (one task each): a registered function of
    /// a whole partition (`fn f(xs: &[T]) -> Vec<U>`, as `f::task_fn()`) or a
    /// named closure `("name", |xs: &[T]| -> Result<Vec<U>>)` (see
    /// [`user_fn`](crate::user_fn)).
    pub fn map_partitions<U: Item, M>(
        &self,
        f: impl IntoCode<Vec<T>, Vec<U>, OnPartition<T, U>, M>,
    ) -> Result<Bag<U>> {
        match f.into_code() {
            Code::Registered(f) => {
                self.apply_task("map_partitions", &f, task_fn::Apply::Partitions)
            }
            Code::Closure(name, f) => self.map_partitions_closure(&name, move |xs| f(xs)),
        }
    }

    /// One task per partition running the closure `f`.
    pub(crate) fn map_partitions_closure<U: Item>(
        &self,
        name: &str,
        f: impl Fn(&[T]) -> Result<Vec<U>> + Send + Sync + 'static,
    ) -> Result<Bag<U>> {
        let layer = layer_name("map_partitions", &[&self.name.as_str(), &name])?;
        let op: Arc<dyn Op> = Arc::new(ClosureOp::new(name, move |xs: &[Value]| {
            Ok(Arc::new(Partition(f(part::<T>(&xs[0])?)?)) as Value)
        }));
        Ok(self.blockwise(layer, op))
    }

    /// One task per partition running `op` on it; the result is a new bag.
    pub(crate) fn blockwise<U>(&self, layer: String, op: Arc<dyn Op>) -> Bag<U> {
        let graph = crate::layers::per_partition(&self.graph, &layer, self.npartitions, &op, |i| {
            vec![self.key(i)]
        });
        Bag::from_parts(layer, self.npartitions, graph)
    }

    /// Applies `f` to every item: a registered function (`f::task_fn(bound…)`)
    /// or a named closure `("name", |x: &T| -> U)`.
    pub fn map<U: Item, M>(&self, f: impl IntoCode<T, U, OnItem<T, U>, M>) -> Result<Bag<U>> {
        match f.into_code() {
            Code::Registered(f) => self.apply_task("map", &f, task_fn::Apply::Map),
            Code::Closure(name, f) => self
                .map_partitions_closure(&format!("map:{name}"), move |xs| {
                    Ok(xs.iter().map(|x| f(x)).collect())
                }),
        }
    }

    /// Keeps the items for which `f` is true: a registered function or a named
    /// closure `("name", |x: &T| -> bool)`.
    pub fn filter<M>(&self, f: impl IntoCode<T, bool, OnItem<T, bool>, M>) -> Result<Bag<T>> {
        match f.into_code() {
            Code::Registered(f) => self.apply_task("filter", &f, task_fn::Apply::Filter),
            Code::Closure(name, f) => self
                .map_partitions_closure(&format!("filter:{name}"), move |xs| {
                    Ok(xs.iter().filter(|x| f(x)).cloned().collect())
                }),
        }
    }

    /// Applies `f` to every item and concatenates the results: a registered
    /// function returning a `Vec`, or a named closure `("name", |x: &T| -> Vec<U>)`.
    pub fn flat_map<U: Item, M>(
        &self,
        f: impl IntoCode<T, Vec<U>, OnItem<T, Vec<U>>, M>,
    ) -> Result<Bag<U>> {
        match f.into_code() {
            Code::Registered(f) => self.apply_task("flat_map", &f, task_fn::Apply::FlatMap),
            Code::Closure(name, f) => self
                .map_partitions_closure(&format!("flat_map:{name}"), move |xs| {
                    Ok(xs.iter().flat_map(|x| f(x)).collect())
                }),
        }
    }

    fn apply_task<In, Out, U>(
        &self,
        method: &str,
        f: &TaskFn<In, Out>,
        how: task_fn::Apply,
    ) -> Result<Bag<U>> {
        let layer = layer_name(method, &[&self.name.as_str(), &f.token(how)?])?;
        Ok(self.blockwise(layer, f.apply_op(how)?))
    }

    /// Computes every partition and concatenates them, in partition order.
    pub fn compute(&self) -> Result<Vec<T>> {
        self.compute_with(default_executor()?.as_ref())
    }

    /// [`Bag::compute`] on `executor`.
    pub fn compute_with(&self, executor: &dyn Executor) -> Result<Vec<T>> {
        let values = executor.get(&self.graph, &self.keys())?;
        let mut out = Vec::new();
        for v in &values {
            out.extend_from_slice(part::<T>(v)?);
        }
        Ok(out)
    }

    /// Computes the partitions and returns a bag whose graph holds them, under the
    /// same keys.
    pub fn persist(&self) -> Result<Bag<T>> {
        self.persist_with(default_executor()?.as_ref())
    }

    /// [`Bag::persist`] on `executor`.
    pub fn persist_with(&self, executor: &dyn Executor) -> Result<Bag<T>> {
        let keys = self.keys();
        let graph = executor.persist(&self.graph, &keys)?;
        Ok(Bag::from_parts(self.name.clone(), self.npartitions, graph))
    }

    /// The first `n` items, computing only as many partitions as needed (one at a
    /// time, in order).
    pub fn take(&self, n: usize) -> Result<Vec<T>> {
        self.take_with(n, default_executor()?.as_ref())
    }

    /// [`Bag::take`] on `executor`.
    pub fn take_with(&self, n: usize, executor: &dyn Executor) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for i in 0..self.npartitions {
            if out.len() >= n {
                break;
            }
            let v = executor.get(&self.graph, &[self.key(i)])?;
            out.extend(part::<T>(&v[0])?.iter().take(n - out.len()).cloned());
        }
        Ok(out)
    }
}
