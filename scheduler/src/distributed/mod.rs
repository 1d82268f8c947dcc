//! The distributed runtime: a scheduler process, worker processes and clients.
//!
//! The logic lives in two pure state machines, [`scheduler_state`] and
//! [`worker_state`]; the servers around them only move bytes.

pub mod address;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod comm;
pub mod dashboard;
pub mod ids;
pub mod messages;
pub mod nanny;
pub mod observe;
pub mod scheduler_server;
pub mod scheduler_state;
mod state_check;
mod supervision;
pub mod tls;
mod waits;
mod work_dir;
pub mod worker_info;
pub mod worker_memory;
pub mod worker_server;
pub mod worker_state;

pub use client::{Client, ClientOptions, Future, Submit};
pub use cluster::LocalCluster;
pub use ids::{ClientId, NewTask, Priority, StimulusId, StoryLine, TaskSpec, WorkerId};
pub use worker_info::{WorkerInfo, WorkerMetrics};
