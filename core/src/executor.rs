//! The trait a scheduler implements, and the process-wide default.
//!
//! Collections never depend on a scheduler crate: they call [`get`] with their graph,
//! and the scheduler linked into the executable answers. A scheduler crate registers
//! a factory with [`ExecutorRegistration`]; the one with the highest `rank` is the
//! default. [`set_default`] overrides it (for example with a distributed client).

use crate::error::{Error, Result};
use crate::graph::{Graph, Task};
use crate::key::Key;
use crate::op::LiteralOp;
use crate::value::Value;
use std::sync::{Arc, OnceLock, RwLock};

/// Something that computes keys of a graph.
pub trait Executor: Send + Sync {
    /// Computes `keys` (repeats allowed) and returns their values in the same order.
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>>;

    /// Computes `keys` and calls `each(position, value)` for every one of them, on
    /// the calling thread, as soon as its value is ready (in any order), so the
    /// caller can consume results while the rest is computed and they need not all
    /// be held at once. `each` must not wait for the executor's own threads (the local
    /// scheduler's pool may be busy handing it results). An error from `each` stops
    /// the computation and is returned. By default: [`Executor::get`], then each in
    /// order.
    fn get_each(
        &self,
        graph: &Graph,
        keys: &[Key],
        each: &mut dyn FnMut(usize, Value) -> Result<()>,
    ) -> Result<()> {
        for (i, v) in self.get(graph, keys)?.into_iter().enumerate() {
            each(i, v)?;
        }
        Ok(())
    }

    /// Like [`Executor::get_each`], but `each` may run on the executor's own threads,
    /// several calls at once, right where each value was computed: for consumers
    /// that can work in parallel (an array's blocks copied into disjoint parts of
    /// the result). An error from `each` stops the computation and is returned. By
    /// default: [`Executor::get_each`] on the calling thread.
    fn get_each_concurrent(
        &self,
        graph: &Graph,
        keys: &[Key],
        each: &(dyn Fn(usize, Value) -> Result<()> + Sync),
    ) -> Result<()> {
        self.get_each(graph, keys, &mut |i, v| each(i, v))
    }

    /// Computes `keys` and returns a graph that produces them without recomputing:
    /// by default the values themselves, brought into this process; a distributed
    /// client returns tasks that stand for results kept on its workers.
    fn persist(&self, graph: &Graph, keys: &[Key]) -> Result<Graph> {
        let values = self.get(graph, keys)?;
        let tasks = keys
            .iter()
            .zip(values)
            .map(|(k, v)| {
                let token = crate::tokenize(k)?;
                Ok(Task::new(
                    k.clone(),
                    Arc::new(LiteralOp::new(v, token)),
                    vec![],
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let name = match keys.first() {
            Some(k) => format!("persisted-{}", k.name()),
            None => "persisted".to_string(),
        };
        Ok(Graph::from_tasks(name, tasks))
    }
}

/// A lazy result: the key of a value of type `Output` and the graph that makes it.
/// Implemented by `Delayed` and by a distributed client's futures, so a client can
/// submit either.
pub trait Lazy {
    /// The type of the value.
    type Output;
    /// Its key.
    fn key(&self) -> &Key;
    /// The graph that computes it.
    fn graph(&self) -> &Graph;
}

/// A link-time registration of a default executor.
pub struct ExecutorRegistration {
    /// Higher wins.
    pub rank: i32,
    /// A short name, e.g. `"threads"`.
    pub name: &'static str,
    /// Makes the executor.
    pub make: fn() -> Arc<dyn Executor>,
}

inventory::collect!(ExecutorRegistration);

static OVERRIDE: RwLock<Option<Arc<dyn Executor>>> = RwLock::new(None);

/// Makes `executor` the default for this process (`None` restores the registered one).
pub fn set_default(executor: Option<Arc<dyn Executor>>) {
    match OVERRIDE.write() {
        Ok(mut g) => *g = executor,
        Err(poisoned) => *poisoned.into_inner() = executor,
    }
}

/// The executor that `compute()` uses when none is given.
pub fn default_executor() -> Result<Arc<dyn Executor>> {
    if let Ok(g) = OVERRIDE.read() {
        if let Some(e) = g.as_ref() {
            return Ok(e.clone());
        }
    }
    static REGISTERED: OnceLock<Option<Arc<dyn Executor>>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            inventory::iter::<ExecutorRegistration>
                .into_iter()
                .max_by_key(|r| r.rank)
                .map(|r| (r.make)())
        })
        .clone()
        .ok_or(Error::NoExecutor)
}

/// Computes `keys` of `graph` on the default executor.
pub fn get(graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
    default_executor()?.get(graph, keys)
}
