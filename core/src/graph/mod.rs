//! Task graphs.
//!
//! A [`Graph`] is what collections build: a DAG of named [`Layer`]s (one per
//! collection method), shared between collections through `Arc`s so that adding a
//! method is O(1) whatever the size of the history. Graphs merge by key: a layer's
//! name carries the content token of the work it holds, so the same layer reached
//! twice is taken once.
//!
//! A scheduler asks for a [`TaskGraph`] with [`Graph::lower`]: the tasks needed for the
//! requested keys (culled), with keys interned to dense [`TaskId`](crate::TaskId)s,
//! dependencies and dependents in flat arrays, and a topological order. Lowering is
//! where a cycle or a missing dependency is found and reported by key.
//! Lowering also inlines the roots that are cheaper to compute again than to hold
//! ([`inline_roots`]). [`fuse_linear`] folds linear chains into single tasks.

mod fuse;
mod highlevel;
mod inline;
mod layer;
mod lower;
mod task;
mod wrappers;

pub use fuse::{fuse_linear, FusedOp};
pub use highlevel::Graph;
pub use inline::{inline_roots, Arg, InlinedOp};
pub use layer::Layer;
pub use lower::TaskGraph;
pub use task::Task;
