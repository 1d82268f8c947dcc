//! # brisk-scheduler
//!
//! Schedulers for Brisk task graphs. [`local`] runs a graph in this process on a
//! rayon pool (the default executor of every collection). [`distributed`] runs
//! graphs on a scheduler process and worker processes: its logic is two pure state
//! machines ([`distributed::scheduler_state`], [`distributed::worker_state`]), its
//! servers thin tokio shells around them, its [`distributed::Client`] an executor
//! like the local one; [`protocol`] is the wire format (frames, limits, LZ4,
//! handshake).
//!
//! ```
//! use brisk_core::{graph::{Graph, Task}, op::ClosureOp, Executor, Value};
//! use brisk_scheduler::local::LocalScheduler;
//! use std::sync::Arc;
//!
//! let one = Arc::new(ClosureOp::new("one", |_| Ok(Arc::new(1_i64) as Value)));
//! let t = Task::tokenized("one", one, vec![]).unwrap();
//! let key = t.key.clone();
//! let values = LocalScheduler::new().get(&Graph::from_tasks("g", vec![t]), &[key]).unwrap();
//! assert_eq!(values[0].downcast_ref::<i64>(), Some(&1));
//! ```
#![warn(missing_docs)]

pub mod diagnostics;
pub mod distributed;
pub mod error;
pub mod local;
pub mod protocol;
pub mod spill;

pub use local::{LocalScheduler, Progress, SyncScheduler};
