//! # brisk-collections
//!
//! The lazy collections of Brisk. Every method adds tasks to a graph; nothing runs
//! until `compute()` (or `persist()`), which hands the graph to the default
//! executor (the local rayon scheduler unless another was set).
//!
//! - [`delayed`]: lazy calls of registered functions and closures, the glue for
//!   custom pipelines (Dask's `dask.delayed`).
//!
//! - [`bag`]: partitioned collections of items with element-wise methods and
//!   tree-reduction aggregations (Dask's `dask.bag`).
//!
//! - [`dataframe`]: partitions of Polars DataFrames; blockwise methods compile into
//!   one LazyFrame per partition; aggregations and group-bys are tree reductions
//!   (Dask's `dask.dataframe`).
//!
//! - [`array`]: chunked n-dimensional arrays of ndarray blocks with broadcasting
//!   math, tree reductions, slicing and NetCDF input (Dask's `dask.array`).
//!
//! How the crate is laid out: each collection is a folder whose `mod.rs` is only
//! its front door; the type lives in a file named after it (`bag/bag.rs`,
//! `dataframe/dataframe.rs`, `array/array.rs`), and the files that add methods
//! to it import it downward. What every collection shares sits in `layers.rs`
//! (layer names from content tokens, the `split_every` defaults with their
//! reasons, one-task-per-partition layers and tree reductions) and `error.rs`.
//! Graph-building code stays apart from what a task runs: `dataframe/source/`
//! (the partition sources a task reads) and `array/ops/` (the registered op
//! families) are below the methods that plan them. No two files import each
//! other, directly or around a loop (`tests/module_graph.rs` checks it).
//!
//! ```
//! use brisk_collections::delayed::{self, Delayed};
//! let a = delayed::value(20_i64).unwrap();
//! let b = a.then(("add-one", |x: &i64| x + 1)).unwrap();
//! # let _ = b;
//! ```
//!
//! ## Errors
//!
//! Methods return [`brisk_core::Result`], so that one `?` carries an error from a
//! collection, the scheduler or a user's function alike. The errors of this crate
//! are the variants of [`Error`] (one `#[non_exhaustive]` enum): each carries its
//! context as fields (the missing column and the columns present, the two files
//! whose schemas disagree, the file, line, column and value that does not parse),
//! and keeps the error of Polars, ndarray or the file system below it in its
//! `error` field. They reach `brisk_core::Error` whole as `Error::External`, with
//! the same message; a task that failed with one adds itself after the message
//! (`… (in task ('read-csv-…', 3), op '…')`), and
//! [`brisk_core::Error::external_source`] hands them back from below it. Each
//! message is said once: no error returns from `source()` what its own message
//! already says.
//!
//! ```
//! use brisk_collections::{array, Error};
//! let a = array::zeros::<f64>(&[4, 4], &[2, 2]).unwrap();
//! let e = a.sum(&[2], false).unwrap_err();
//! assert_eq!(e.to_string(), "axis 2 is out of bounds for an array of 2 axes");
//! let ours = e.external_source().and_then(|s| s.downcast_ref::<Error>());
//! assert!(matches!(ours, Some(Error::AxisOutOfBounds { axis: 2, ndim: 2 })));
//! ```
#![warn(missing_docs)]

extern crate self as brisk_collections;

pub mod array;
pub mod bag;
#[cfg(feature = "dataframe")]
pub mod dataframe;
pub mod datasets;
pub mod delayed;
mod error;
mod layers;
pub mod user_fn;

pub use array::Array;
pub use bag::Bag;
pub use delayed::{compute, Delayed};
pub use error::Error;

#[doc(hidden)]
pub mod __private {
    pub use crate::bag::task_fn::{self, TaskFn};
    pub use crate::bag::task_fn2::{self, TaskFn2};
    pub use crate::delayed::{delayed_call, IntoArg};
    pub use crate::Delayed;
    pub use brisk_core as core;
    pub use brisk_core::__private::{inventory, rmp_serde, serde};
}
