//! DataFrame: a lazy frame split into partitions of Polars DataFrames (Dask's
//! `dask.dataframe`).
//!
//! The schema is known without reading the data (from a sample, for files).
//! Blockwise methods (`select`, `filter`, `with_columns`, `rename`, `drop`, `cast`)
//! add no tasks: they extend a per-partition plan that runs as one Polars LazyFrame
//! per partition, reader included, so Polars pushes column projections and filters
//! into the CSV / Parquet / NDJSON readers. The plan is serde data (expressions
//! included), so a worker process can rebuild it. Aggregations and group-by
//! aggregations are tree reductions (see [`Agg`]).
//!
//! ```
//! use brisk_collections::dataframe::{from_polars, Agg};
//! use polars::prelude::{col, df, lit};
//! # use brisk_scheduler as _;
//! let pdf = df!("k" => ["a", "b", "a", "b"], "x" => [1i64, 2, 3, 4]).unwrap();
//! let ddf = from_polars(&pdf, 2).unwrap();
//! let big = ddf.filter(col("x").gt(lit(1))).unwrap();
//! assert_eq!(big.len().unwrap(), 3);
//! let sums = big.groupby([col("k")]).agg(&[Agg::sum("x")]).unwrap().compute().unwrap();
//! assert_eq!(sums.column("x").unwrap().i64().unwrap().to_vec(), [Some(3), Some(6)]);
//! ```
//!
//! # Where things are
//!
//! The frame and what its partitions run:
//!
//! - `dataframe.rs`: the [`DataFrame`] type, its blockwise methods, `compute`,
//!   `persist`, `head`; [`from_polars`];
//! - `frame.rs`: [`Frame`], one computed partition as a task value, and stacking
//!   partitions into one frame;
//! - `step.rs`: one blockwise step of a partition's plan; `schema.rs`: schemas and
//!   the schema after some steps;
//! - `plan.rs`: the per-partition plan (a source and steps), run by each task;
//! - `source/`: what a task reads (text blocks and their error diagnosis, Parquet
//!   parts, file references); `csv_scan/`: the fast CSV block reader;
//!   `dates.rs`, `temporal.rs`: datetime parsing and accessors.
//!
//! Methods that build graphs:
//!
//! - `read.rs`: [`read_csv`], [`read_json`], [`read_parquet`] (schemas, blocks,
//!   plans); `write.rs`, `parquet_write.rs`: `to_csv`, `to_parquet`;
//! - `reduction.rs`: the tree-reduction builder (chunk / combine / aggregate);
//!   `fuse.rs`: its fused first level over Parquet files;
//! - `agg.rs`: [`Agg`] and whole-frame aggregations; `groupby.rs`: [`GroupBy`]
//!   (aggregations and `apply`); `stats.rs`: `approx_nunique`, `describe`;
//!   `series.rs`: [`Series`] and [`Scalar`]; `quantile.rs`: approximate
//!   `quantile`, `median` (and `describe`'s percentiles);
//! - `cumulative.rs`: `cumsum`, `cumprod`, `cummin`, `cummax` (a scan per partition
//!   plus a carry); `overlap.rs`: the rows of neighbouring partitions, for
//!   `shift.rs` (`shift`, `diff`) and `rolling.rs` ([`Rolling`] windows, whose
//!   per-partition work is `rolling_window.rs`);
//! - `shuffle.rs`: shuffles and `drop_duplicates`; `join.rs`: `merge`; `sort.rs`:
//!   `sort_values`, `set_index`; `repartition.rs`;
//! - `from_bag.rs`, `to_array.rs`: conversions from bags and to arrays.

mod agg;
mod csv_scan;
mod cumulative;
#[allow(clippy::module_inception)] // the folder's type lives in a file named after it
mod dataframe;
mod dates;
mod frame;
mod from_bag;
mod fuse;
mod groupby;
mod join;
mod map_overlap;
mod map_partitions;
mod overlap;
mod parquet_write;
mod plan;
mod quantile;
mod read;
mod reduction;
mod repartition;
mod rolling;
mod rolling_window;
mod row_wise;
mod schema;
mod series;
mod shift;
mod shuffle;
mod sort;
mod source;
mod stats;
mod step;
mod temporal;
mod to_array;
mod write;

pub use agg::{Agg, AggKind};
pub use dataframe::{from_polars, DataFrame, Divisions};
pub use frame::{Frame, FRAME_TAG};
pub use groupby::GroupBy;
pub use join::How;
pub use map_partitions::OnFrame;
pub use parquet_write::write_parquet;
/// The Polars build the partitions use (for expressions: `col`, `lit`, `DataType`...).
pub use polars;
pub use polars::prelude::{col, lit, DataType, Expr};
pub use read::{read_csv, read_json, read_parquet, CsvOptions, JsonOptions, ParquetOptions};
pub use rolling::Rolling;
pub use series::{Scalar, Series};
pub use shuffle::FrameBuckets;
pub use to_array::FrameToArray;
