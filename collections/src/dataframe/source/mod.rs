//! The sources a partition task reads at run time: blocks of CSV / NDJSON files
//! (with the diagnosis of their parser errors), Parquet files and row groups, and
//! the files they name. The readers in `read.rs` plan them; the per-partition plan
//! (`plan.rs`) runs them.
//!
//! - `source.rs`: [`Source`], where a partition's rows come from;
//! - `file_ref.rs`: [`FileRef`], a file as a task names it;
//! - `text.rs`: [`TextBlock`], a block of a CSV or NDJSON file, parsed or counted;
//! - `records.rs`: where a CSV block's records and fields are, without parsing;
//! - `diagnose.rs`: the file, line, column and value of a text block's parser error;
//! - `parquet.rs`: [`ParquetPart`] and scans over whole Parquet files.

mod diagnose;
mod file_ref;
mod parquet;
mod records;
#[allow(clippy::module_inception)] // the folder's type lives in a file named after it
mod source;
mod text;

pub(crate) use file_ref::FileRef;
pub(crate) use parquet::{scan_parquet, scan_parquet_files, ParquetPart};
pub(crate) use records::preamble_bytes;
pub(crate) use source::Source;
pub(crate) use text::{ends_in_lone_quote, null_values, CsvParse, TextBlock, TextFormat};
