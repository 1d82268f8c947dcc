//! # Brisk
//!
//! Parallel and distributed data analysis on lazy, content-hashed task graphs: Dask,
//! rebuilt in Rust. Build lazy collections ([`Delayed`] now; Bag, DataFrame and Array
//! as they land), then `compute()` them on the local rayon scheduler.
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
//! The crates behind the facade: [`core`] (keys, tokens, values, ops, graphs,
//! ordering), [`io`], [`collections`], [`scheduler`].
#![warn(missing_docs)]

extern crate self as brisk;

pub use brisk_collections as collections;
pub use brisk_core as core;
pub use brisk_io as io;
pub use brisk_scheduler as scheduler;

pub use brisk_collections::delayed::{self, compute, compute_with, Delayed};
pub use brisk_core::{serde_data, Error, Result};
pub use brisk_macros::task;
pub use brisk_scheduler::distributed::{Client, Future, LocalCluster};
pub use brisk_scheduler::{LocalScheduler, SyncScheduler};

/// The names most programs need.
pub mod prelude {
    pub use crate::collections::bag::{Bag, Json, JsonValueTrait};
    pub use crate::collections::delayed::{self, Delayed};
    pub use crate::{compute, task, Client, LocalCluster, LocalScheduler, SyncScheduler};
}

/// Call first thing in `main`. In a process that a [`LocalCluster`] started as one of
/// its workers, it runs the worker and exits (so the rest of `main` never runs
/// there); in any other process it returns at once.
pub fn init() {
    brisk_scheduler::distributed::cluster::worker_main_if_requested();
}

#[doc(hidden)]
pub mod __private {
    pub use brisk_collections::__private::*;
}
