//! The distributed runtime: a scheduler process, worker processes and clients.
//!
//! The logic lives in two pure state machines, [`scheduler_state`] and
//! [`worker_state`]; the servers around them only move bytes.

pub mod ids;
pub mod scheduler_state;
pub mod worker_state;

pub use ids::{ClientId, Priority, TaskSpec, WorkerId};
