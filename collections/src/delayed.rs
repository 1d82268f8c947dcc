//! Delayed: lazy function calls.
//!
//! A [`Delayed<T>`] is the key of a future result of type `T` plus the graph that
//! computes it. Calls of functions registered with `#[brisk::task]` (through the
//! generated `f::delayed(..)`) and of closures ([`Delayed::then`], [`closure_call`])
//! build the graph; [`Delayed::compute`] and [`compute`] run it.
//!
//! Keys are content tokens of the op, its bound parameters and its inputs: identical
//! calls make identical keys, so they are one task and run once, even across
//! separately built pieces of a pipeline.
//!
//! ```
//! use brisk_collections::delayed::{self, compute};
//! use brisk_scheduler as _; // links the default (local) scheduler
//! let x = delayed::value(3_i64).unwrap();
//! let y = x.then(("square", |v: &i64| v * v)).unwrap();
//! let z = x.then(("square", |v: &i64| v * v)).unwrap();
//! assert_eq!(y.key(), z.key()); // same work, same key
//! assert_eq!(compute((&y, &z)).unwrap(), (9, 9));
//! ```

use crate::user_fn::{Code, IntoCode, OnItem};
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{ClosureOp, LiteralOp, Op};
use brisk_core::value::take;
use brisk_core::{tokenize, Data, Key, Result, Tokenize, Value};
use std::marker::PhantomData;
use std::sync::Arc;

/// A lazy result of type `T`.
pub struct Delayed<T> {
    key: Key,
    graph: Graph,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed {
            key: self.key.clone(),
            graph: self.graph.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Delayed({})", self.key)
    }
}

impl<T> Delayed<T> {
    /// Wraps an existing key and the graph that produces it.
    pub fn from_parts(key: Key, graph: Graph) -> Self {
        Delayed {
            key,
            graph,
            _t: PhantomData,
        }
    }

    /// The key of the result.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The graph that computes it.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

impl<T> brisk_core::Lazy for Delayed<T> {
    type Output = T;
    fn key(&self) -> &Key {
        &self.key
    }
    fn graph(&self) -> &Graph {
        &self.graph
    }
}

impl<T> Delayed<T> {
    /// A `Delayed` standing for any lazy result, for example a distributed client's
    /// future, so it can be the input of further delayed calls.
    pub fn of<L: brisk_core::Lazy<Output = T>>(x: &L) -> Delayed<T> {
        Delayed::from_parts(x.key().clone(), x.graph().clone())
    }
}

impl<T: Data + Clone> Delayed<T> {
    /// Computes the result on the default executor.
    pub fn compute(&self) -> Result<T> {
        self.compute_with(default_executor()?.as_ref())
    }

    /// Computes the result on `executor`.
    pub fn compute_with(&self, executor: &dyn Executor) -> Result<T> {
        let values = executor.get(&self.graph, std::slice::from_ref(&self.key))?;
        take(&values[0])
    }

    /// Computes the result and returns a `Delayed` with the same key whose graph holds
    /// the value itself, so later computations start from it.
    pub fn persist(&self) -> Result<Delayed<T>> {
        self.persist_with(default_executor()?.as_ref())
    }

    /// [`Delayed::persist`] on `executor`.
    pub fn persist_with(&self, executor: &dyn Executor) -> Result<Delayed<T>> {
        let graph = executor.persist(&self.graph, std::slice::from_ref(&self.key))?;
        Ok(Delayed::from_parts(self.key.clone(), graph))
    }
}

impl<T: Data> Delayed<T> {
    /// Applies `f` lazily to the result: a registered function of one input
    /// (`f::task_fn(bound…)`, runs on any scheduler) or a named closure `("name",
    /// |x: &T| -> U)` (local scheduler only).
    ///
    /// A closure's code and captured values cannot be hashed, so its name stands
    /// for them in the key: the same name on the same input is taken to be the
    /// same work and runs once. Give closures that capture different values
    /// different names (`format!("scale-by-{k}")`), or register a function with
    /// `#[brisk::task]` and pass the values as `#[bound]` parameters, which are
    /// hashed.
    pub fn then<U: Data, M>(&self, f: impl IntoCode<T, U, OnItem<T, U>, M>) -> Result<Delayed<U>> {
        match f.into_code() {
            Code::Registered(f) => delayed_call(f.op().clone(), vec![self.into_arg()?]),
            Code::Closure(name, f) => {
                closure_call(&name, vec![self.into_arg()?], move |inputs: &[Value]| {
                    Ok(Arc::new(f(inputs[0].expect_ref::<T>()?)) as Value)
                })
            }
        }
    }
}

/// A literal value as a `Delayed`; its key is the value's content token.
pub fn value<T: Data + Tokenize>(x: T) -> Result<Delayed<T>> {
    let token = tokenize(&x)?;
    let task = Task::new(
        Key::from_token("value", &token, &[]),
        Arc::new(LiteralOp::new(Arc::new(x), token)),
        vec![],
    );
    let key = task.key.clone();
    Ok(Delayed::from_parts(
        key.clone(),
        Graph::from_tasks(key.name().to_string(), vec![task]),
    ))
}

/// An untyped argument of a delayed call: a key and the graph that produces it.
pub struct Arg {
    key: Key,
    graph: Graph,
}

/// What can be an input of a delayed call returning `T`: a `Delayed<T>` (by value or
/// reference) or a plain value, which becomes a literal task.
pub trait IntoArg<T> {
    /// The argument's key and graph.
    fn into_arg(self) -> Result<Arg>;
}

impl<T> IntoArg<T> for Delayed<T> {
    fn into_arg(self) -> Result<Arg> {
        Ok(Arg {
            key: self.key,
            graph: self.graph,
        })
    }
}

impl<T> IntoArg<T> for &Delayed<T> {
    fn into_arg(self) -> Result<Arg> {
        Ok(Arg {
            key: self.key.clone(),
            graph: self.graph.clone(),
        })
    }
}

impl<T: Data + Tokenize> IntoArg<T> for T {
    fn into_arg(self) -> Result<Arg> {
        value(self)?.into_arg()
    }
}

/// One call of `op` on `args`, as a `Delayed`. Used by the code `#[brisk::task]`
/// generates.
pub fn delayed_call<T>(op: Arc<dyn Op>, args: Vec<Arg>) -> Result<Delayed<T>> {
    let prefix = op.name().rsplit("::").next().unwrap_or("call").to_string();
    let inputs: Vec<Key> = args.iter().map(|a| a.key.clone()).collect();
    let task = Task::tokenized(&prefix, op, inputs)?;
    let key = task.key.clone();
    let layer = Layer {
        name: key.name().to_string(),
        tasks: vec![task],
    };
    let graph = Graph::from_layer(layer, args.iter().map(|a| &a.graph));
    Ok(Delayed::from_parts(key, graph))
}

/// One call of a closure on `args` (local-only; see [`Delayed::then`]).
pub fn closure_call<T>(
    name: &str,
    args: Vec<Arg>,
    f: impl Fn(&[Value]) -> Result<Value> + Send + Sync + 'static,
) -> Result<Delayed<T>> {
    delayed_call(Arc::new(ClosureOp::new(name, f)), args)
}

/// Several results computed together in one graph run.
pub trait ComputeMany {
    /// The computed values.
    type Output;
    /// Computes them on `executor`.
    fn compute_with(self, executor: &dyn Executor) -> Result<Self::Output>;
}

macro_rules! compute_tuple {
    ($($name:ident $idx:tt),+) => {
        impl<'a, $($name: Data + Clone),+> ComputeMany for ($(&'a Delayed<$name>,)+) {
            type Output = ($($name,)+);
            fn compute_with(self, executor: &dyn Executor) -> Result<Self::Output> {
                let graph = Graph::merge([$(&self.$idx.graph),+]);
                let keys = [$(self.$idx.key.clone()),+];
                let values = executor.get(&graph, &keys)?;
                Ok(($(take::<$name>(&values[$idx])?,)+))
            }
        }
    };
}

compute_tuple!(A 0);
compute_tuple!(A 0, B 1);
compute_tuple!(A 0, B 1, C 2);
compute_tuple!(A 0, B 1, C 2, D 3);
compute_tuple!(A 0, B 1, C 2, D 3, E 4);
compute_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

impl<T: Data + Clone> ComputeMany for &[Delayed<T>] {
    type Output = Vec<T>;
    fn compute_with(self, executor: &dyn Executor) -> Result<Vec<T>> {
        let graph = Graph::merge(self.iter().map(|d| &d.graph));
        let keys: Vec<Key> = self.iter().map(|d| d.key.clone()).collect();
        executor.get(&graph, &keys)?.iter().map(take::<T>).collect()
    }
}

impl<T: Data + Clone> ComputeMany for &Vec<Delayed<T>> {
    type Output = Vec<T>;
    fn compute_with(self, executor: &dyn Executor) -> Result<Vec<T>> {
        self.as_slice().compute_with(executor)
    }
}

/// Computes several results in one run: shared work runs once.
///
/// ```
/// use brisk_collections::delayed::{self, compute};
/// use brisk_scheduler as _; // links the default (local) scheduler
/// let x = delayed::value(2_i64).unwrap();
/// let y = x.then(("inc", |v: &i64| v + 1)).unwrap();
/// assert_eq!(compute((&x, &y)).unwrap(), (2, 3));
/// let parts = vec![x.clone(), y.clone()];
/// assert_eq!(compute(&parts).unwrap(), vec![2, 3]);
/// ```
pub fn compute<C: ComputeMany>(collections: C) -> Result<C::Output> {
    collections.compute_with(default_executor()?.as_ref())
}

/// [`compute`] on a given executor.
pub fn compute_with<C: ComputeMany>(collections: C, executor: &dyn Executor) -> Result<C::Output> {
    collections.compute_with(executor)
}
