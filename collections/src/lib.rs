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
//! ```
//! use brisk_collections::delayed::{self, Delayed};
//! let a = delayed::value(20_i64).unwrap();
//! let b = a.then("add-one", |x: &i64| x + 1).unwrap();
//! # let _ = b;
//! ```
#![warn(missing_docs)]

extern crate self as brisk_collections;

pub mod array;
pub mod bag;
#[cfg(feature = "dataframe")]
pub mod dataframe;
pub mod datasets;
pub mod delayed;
mod layers;

pub use array::Array;
pub use bag::Bag;
pub use delayed::{compute, Delayed};

#[doc(hidden)]
pub mod __private {
    pub use crate::bag::task_fn::{self, TaskFn};
    pub use crate::delayed::{delayed_call, IntoArg};
    pub use crate::Delayed;
    pub use brisk_core as core;
    pub use brisk_core::__private::{inventory, rmp_serde, serde};
}
