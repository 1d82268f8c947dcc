//! Seeded generators of realistic data sets (like `dask.datasets`), written to files
//! so that the readers are exercised too.
//!
//! - [`github_events`]: hourly gzipped NDJSON files shaped like the GitHub archive;
//! - [`nyc_taxi`]: yellow-taxi trips with the 2015 TLC columns, as CSV or Parquet;
//! - [`temperature`]: daily NetCDF files of 2-metre temperature on a 0.25° grid.

mod github;
mod rng;
#[cfg(feature = "dataframe")]
mod taxi;
mod temperature;

pub use github::github_events;
pub use rng::Rng;
#[cfg(feature = "dataframe")]
pub use taxi::{nyc_taxi, TaxiFormat};
pub use temperature::{temperature, temperature_day, LATITUDES, LONGITUDES, STEPS_PER_DAY};
