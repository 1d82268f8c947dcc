//! # brisk-core
//!
//! The pieces every Brisk collection and scheduler stands on:
//!
//! - [`Key`]: the name of a task result, carrying a content token and a chunk index;
//! - [`token`]: the versioned content hash behind every key (same work, same key);
//! - [`value`]: type-erased results ([`Value`] = `Arc<dyn Data>`) with a cheap `nbytes`
//!   and an encoding into frames, decoded by type tag;
//! - [`op`]: the code of a task, registered by a stable name so another process can
//!   rebuild it;
//! - [`graph`]: high-level graphs of layers, merged by key, lowered into an interned
//!   [`TaskGraph`] (culled, checked for cycles and missing dependencies), and fused;
//! - [`order()`]: static memory-aware priorities shared by every scheduler;
//! - [`executor`]: the trait a scheduler implements, so collections never depend on
//!   a scheduler crate;
//! - `shapes` (feature `testing`, off by default): graph shapes for tests and
//!   benchmarks.
//!
//! ```
//! use brisk_core::{graph::{Graph, Task}, op::ClosureOp, Key, Value};
//! use std::sync::Arc;
//!
//! let one = Arc::new(ClosureOp::new("one", |_| Ok(Arc::new(1_i64) as Value)));
//! let double = Arc::new(ClosureOp::new("double", |xs| {
//!     let x = xs[0].expect_ref::<i64>()?;
//!     Ok(Arc::new(x * 2) as Value)
//! }));
//! let a = Task::tokenized("one", one, vec![]).unwrap();
//! let b = Task::tokenized("double", double, vec![a.key.clone()]).unwrap();
//! let (ka, kb) = (a.key.clone(), b.key.clone());
//! let graph = Graph::from_tasks("example", vec![a, b]);
//! let tg = graph.lower(&[kb.clone()]).unwrap();
//! assert_eq!(tg.len(), 2);
//! let prio = brisk_core::order(&tg);
//! assert!(prio[tg.id_of(&ka).unwrap().idx()] < prio[tg.id_of(&kb).unwrap().idx()]);
//! ```
//!
//! Why this shape: keys are content hashes so that identical work is shared across
//! calls, clients and grid-search branches; ops are found by name so that graphs can
//! be sent to workers without shipping code; and ordering is static so that the local
//! and distributed schedulers make the same memory-friendly choices.
#![warn(missing_docs)]

pub mod error;
pub mod executor;
pub mod graph;
pub mod key;
pub mod op;
pub mod order;
#[cfg(feature = "testing")]
pub mod shapes;
pub mod spec_op;
pub mod token;
pub mod value;

pub use error::{Error, Result};
pub use executor::{Executor, Lazy};
pub use graph::{Graph, Layer, Task, TaskGraph};
pub use key::{Key, TaskId};
pub use op::Op;
pub use order::order;
pub use token::{tokenize, Token, Tokenize};
pub use value::{Data, Value};

#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use rmp_serde;
    pub use serde;
}
