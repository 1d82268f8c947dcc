//! Where a partition's rows come from: the task's inputs, a text block, Parquet rows,
//! or several whole Parquet files read by one scan.

use super::file_ref::FileRef;
use super::parquet::ParquetPart;
use super::text::TextBlock;
use serde::{Deserialize, Serialize};

/// Where a partition's rows come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Source {
    /// The task's inputs, concatenated in order (none: an empty frame of `schema`).
    Inputs,
    /// A block of a CSV or NDJSON file.
    Text(TextBlock),
    /// Some rows of a Parquet file.
    Parquet(ParquetPart),
    /// Whole Parquet files read by one scan, in order: the partitions of a
    /// reduction's first level fused into one task (see `fuse.rs`).
    ParquetFiles(Vec<FileRef>),
}
