//! Seeded generators of realistic data sets (like `dask.datasets`), written to files
//! so that the readers are exercised too.
//!
//! - [`github_events`]: hourly gzipped NDJSON files shaped like the GitHub archive.

mod github;
mod rng;

pub use github::github_events;
pub use rng::Rng;
