//! The registered ops of array tasks: serde parameters naming a kernel and the
//! element type, so that a worker process rebuilds each task from its name and
//! bytes. `call` dispatches on the dtype and runs a kernel of
//! [`super::kernels`] or [`super::reduce_kernels`].
//!
//! One file per family: [`elementwise`] and [`chain`] (arithmetic), [`select`]
//! (indexing), [`reduce`] (tree reductions, cumsum), [`create`] (with the seeded
//! generator of [`rng`]), [`shape`] (rechunk, transpose, reshape) and [`linalg`]
//! (tensordot); [`common`] holds the registration macro and the input checks.

mod chain;
mod common;
mod create;
mod elementwise;
mod linalg;
mod reduce;
mod rng;
mod select;
mod shape;

pub(crate) use chain::Chain;
pub(crate) use create::{Create, Fill};
pub(crate) use elementwise::{Elementwise, Kernel};
pub(crate) use linalg::Tensordot;
pub(crate) use reduce::{Reduce, Scan, Stage};
pub(crate) use rng::Dist;
pub(crate) use select::{Masked, Select, Take};
pub(crate) use shape::{Assemble, ChunkShape, Reshape, Transpose};
