//! # Brisk
//!
//! Parallel and distributed data analysis on lazy, content-hashed task graphs: Dask,
//! rebuilt in Rust. Build lazy collections, then `compute()` them on the local rayon
//! scheduler (or `persist` them on a [`LocalCluster`] through a [`Client`]):
//!
//! - [`delayed`]: lazy calls of `#[brisk::task]` functions and closures ([`Delayed`],
//!   Dask's `dask.delayed`);
//! - [`bag`]: partitioned collections of items, with element-wise methods and tree
//!   reductions ([`Bag`](bag::Bag), Dask's `dask.bag`);
//! - [`dataframe`]: partitions of Polars DataFrames, with blockwise plans, group-bys
//!   and shuffles ([`DataFrame`](dataframe::DataFrame), Dask's `dask.dataframe`);
//! - [`array`]: chunked n-dimensional arrays of ndarray blocks, with broadcasting math,
//!   reductions and slicing ([`Array`](array::Array), Dask's `dask.array`).
//!
//! ```
//! #[brisk::task]
//! fn inc(x: i64) -> i64 {
//!     x + 1
//! }
//!
//! #[brisk::task]
//! fn add(x: i64, y: i64) -> i64 {
//!     x + y
//! }
//!
//! fn main() -> brisk::Result<()> {
//!     brisk::init();
//!     let a = inc::delayed(1)?;
//!     let b = inc::delayed(2)?;
//!     let total = add::delayed(&a, &b)?;
//!     assert_eq!(total.compute()?, 5);
//!     let (x, y) = brisk::compute((&a, &total))?;
//!     assert_eq!((x, y), (2, 5));
//!     Ok(())
//! }
//! ```
//!
//! A DataFrame and an Array, with the names of the [`prelude`]:
//!
//! ```
//! use brisk::prelude::*;
//! use brisk::array::ndarray::{ArrayD, IxDyn};
//! use brisk::dataframe::polars::prelude::df;
//!
//! fn main() -> brisk::Result<()> {
//!     brisk::init();
//!     let pdf = df!("k" => ["a", "b", "a", "b"], "x" => [1i64, 2, 3, 4]).unwrap();
//!     let ddf: DataFrame = brisk::dataframe::from_polars(&pdf, 2)?;
//!     let sums = ddf
//!         .filter(col("x").gt(lit(1)))?
//!         .groupby([col("k")])
//!         .agg(&[Agg::sum("x")])?
//!         .compute()?;
//!     assert_eq!(sums.column("x").unwrap().i64().unwrap().to_vec(), [Some(3), Some(6)]);
//!
//!     let x = ArrayD::from_shape_fn(IxDyn(&[4, 6]), |i| (i[0] * 6 + i[1]) as f64);
//!     let a: Array<f64> = brisk::array::from_array(&x, &[2, 3])?;
//!     let total = a.sum(&[0, 1], false)?.compute()?;
//!     assert_eq!(total.sum(), x.sum());
//!     Ok(())
//! }
//! ```
//!
//! The crates behind the facade: [`core`] (keys, tokens, values, ops, graphs,
//! ordering), [`io`], [`collections`], [`scheduler`].
#![warn(missing_docs)]

extern crate self as brisk;

pub use brisk_collections as collections;
pub use brisk_core as core;
pub use brisk_io as io;
pub use brisk_scheduler as scheduler;

/// Estimators, pipelines and grid search as task graphs (the `ml` feature).
#[cfg(feature = "ml")]
pub use brisk_ml as ml;

// The collections by their Dask names: `brisk::bag` is `dask.bag`, and so on. The
// dataframe module is there because the facade takes brisk-collections with its
// default features (`dataframe` among them).
pub use brisk_collections::delayed::{self, compute, compute_with, Delayed};
pub use brisk_collections::{array, bag, dataframe};
pub use brisk_core::{serde_data, Error, Result};
pub use brisk_macros::task;
pub use brisk_scheduler::distributed::client::{wait, AsCompleted, ReturnWhen};
pub use brisk_scheduler::distributed::{Client, Future, LocalCluster};
pub use brisk_scheduler::{LocalScheduler, SyncScheduler};

/// Progress bars and performance reports (Dask's `ProgressBar`, `progress` and
/// `performance_report`): see [`brisk_scheduler::diagnostics`]. The cluster's
/// dashboard is served by its scheduler ([`LocalCluster::dashboard_link`]).
pub mod diagnostics {
    pub use brisk_scheduler::diagnostics::progress::{enabled as progress_enabled, PROGRESS_ENV};
    pub use brisk_scheduler::diagnostics::{performance_report, progress};
    pub use brisk_scheduler::distributed::observe::{init_logging, StoryEntry, LOG_ENV};
}

/// The names most programs need.
pub mod prelude {
    pub use crate::collections::array::Array;
    pub use crate::collections::bag::{Bag, Json, JsonValueTrait};
    pub use crate::collections::dataframe::{col, lit, Agg, DataFrame};
    pub use crate::collections::delayed::{self, Delayed};
    pub use crate::{compute, task, Client, LocalCluster, LocalScheduler, SyncScheduler};
}

/// Call first thing in `main`. When the program's first argument is
/// `brisk-worker` or `brisk-scheduler`, it runs a worker or a scheduler with the
/// rest of the command line (the options of the stock binaries; see
/// [`scheduler::distributed::cli`]) and exits, so the rest of `main` never runs
/// there; otherwise it returns at once. This is how a [`LocalCluster`] starts its
/// workers, and how a worker of your program, which knows your `#[brisk::task]`
/// functions, runs on any host:
///
/// ```text
/// myprog brisk-worker tcp://scheduler-host:8786 --nthreads 4 --memory-limit 8GiB
/// ```
///
/// It also installs Brisk's logger when the program has none yet, filtered by
/// `BRISK_LOG` (warnings only by default).
pub fn init() {
    brisk_scheduler::distributed::cluster::worker_main_if_requested();
    brisk_scheduler::distributed::observe::init_logging(None, "warn");
}

#[doc(hidden)]
pub mod __private {
    pub use brisk_collections::__private::*;
}
