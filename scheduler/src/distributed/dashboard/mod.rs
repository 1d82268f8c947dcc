//! The dashboard the scheduler serves (Dask's `/status`): pages that show the
//! task stream, progress by task group, workers' memory and processing, the
//! workers and their logs, the graph of task groups and a key's story; a JSON
//! API; and Prometheus `/metrics`.
//!
//! It runs on a thread of its own, so serving pages never delays the
//! scheduler. It asks the scheduler's thread for a status at most every
//! [`REFRESH`] whatever the number of browsers (they share one
//! [`Mirror`](mirror::Mirror)), and what it hands out is bounded whatever the
//! graph's size: a status carries at most 5,000 task-stream records and 200
//! task groups, and the graph page draws groups, not tasks. With a token, every
//! page and API asks for it (once, then a cookie); with TLS it serves HTTPS.
//! The pages are compiled into the binary: nothing is fetched from elsewhere.

mod auth;
mod metrics;
mod mirror;
mod pages;
mod routes;
mod server;

pub use metrics::render_metrics;
pub(crate) use pages::report as report_page;
pub use server::{start, Dashboard, DashboardOptions};

/// How often at most the dashboard asks the scheduler for a status (and sends
/// live updates).
pub const REFRESH: std::time::Duration = std::time::Duration::from_millis(250);

/// The dashboard's default port (Dask's).
pub const DEFAULT_PORT: u16 = 8787;
