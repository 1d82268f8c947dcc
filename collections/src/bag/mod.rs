//! Bag: a lazy collection of items split into partitions (Dask's `dask.bag`).
//!
//! A `Bag<T>` is `npartitions` keys `(name, i)`, each a [`Partition<T>`] (a `Vec<T>`)
//! once computed, plus the graph that computes them. Element-wise methods add one
//! task per partition; aggregations are tree reductions whose fan-in is
//! `split_every`, ending in a [`Scalar`] or a one-partition bag.
//!
//! [`Bag::map`], [`Bag::filter`], [`Bag::flat_map`], [`Bag::map_partitions`],
//! [`Bag::topk`], [`Bag::groupby`], [`Bag::foldby`], [`Bag::reduction`],
//! [`Bag::fold`] and [`Bag::tree_reduce`] take a registered
//! `#[brisk::task]` function (`f::task_fn(bound…)`, runs on any scheduler) or a
//! named closure (`("name", |x: &T| …)`, local scheduler only): see
//! [`crate::user_fn`]. The readers, `pluck`, `repartition` and the built-in
//! aggregations (count, sum, min, max, mean, std, frequencies, distinct) are
//! registered ops already; `to_dataframe` runs on the local scheduler only.
//!
//! ```
//! use brisk_collections::bag::Bag;
//! use brisk_scheduler as _; // links the default (local) scheduler
//! let b = Bag::from_sequence((1..=10_i64).collect(), 3).unwrap();
//! let evens = b.filter(("even", |x: &i64| x % 2 == 0)).unwrap();
//! assert_eq!(evens.compute().unwrap(), vec![2, 4, 6, 8, 10]);
//! assert_eq!(evens.count().unwrap().compute().unwrap(), 5);
//! ```

#[allow(clippy::module_inception)]
mod bag;
mod foldby;
mod hash;
pub mod item_ops;
mod json;
pub mod keyed;
pub mod partition;
mod read;
mod reduce;
mod shuffle;
mod summable;
pub mod task_fn;
pub mod task_fn2;
mod write;

pub(crate) use crate::layers::layer_name;
pub use bag::Bag;
pub use json::{Json, JsonContainerTrait, JsonRecord, JsonValueTrait};
pub(crate) use partition::part;
pub use partition::{Item, Partition};
pub use read::{read_json, read_text, ReadOptions};
pub use reduce::Scalar;
pub use summable::Summable;
pub use task_fn::TaskFn;
pub use task_fn2::TaskFn2;

/// The default fan-in of a bag's tree reductions.
pub use crate::layers::SPLIT_EVERY;
