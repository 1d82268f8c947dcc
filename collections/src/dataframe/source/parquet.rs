//! Parquet as a partition's source: one file or one row group of it, and one scan
//! over several whole files (a fused reduction's first level).

use super::file_ref::FileRef;
use crate::error;
use brisk_core::Result;
use brisk_io::objects;
use polars::prelude as pl;
use serde::{Deserialize, Serialize};

/// A Parquet file, or rows `offset..offset + rows` of it (one row group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ParquetPart {
    pub file: FileRef,
    pub rows: Option<(u64, u64)>,
    /// A reduction may read this file in one scan with others of the same frame
    /// ([`ParquetOptions::aggregate_files`](crate::dataframe::ParquetOptions::aggregate_files)).
    pub aggregate_files: bool,
}

impl ParquetPart {
    pub(crate) fn lazy(&self) -> Result<pl::LazyFrame> {
        let lf = scan_parquet(&self.file)?;
        Ok(match self.rows {
            Some((offset, rows)) => lf.slice(offset as i64, rows as pl::IdxSize),
            None => lf,
        })
    }
}

/// One scan over one whole Parquet file.
pub(crate) fn scan_parquet(file: &FileRef) -> Result<pl::LazyFrame> {
    scan_parquet_files(std::slice::from_ref(file))
}

/// One scan over whole Parquet files, in order (their schemas must match).
pub(crate) fn scan_parquet_files(files: &[FileRef]) -> Result<pl::LazyFrame> {
    let mut args = pl::ScanArgsParquet::default();
    // Brisk expands globs and cuts the files itself: no second expansion (a file
    // whose name holds `[` or `*` is that file), no hive partitions from paths.
    args.glob = false;
    args.hive_options.enabled = Some(false);
    let named = |e: pl::PolarsError| {
        let urls: Vec<&str> = files.iter().map(|f| f.url.as_str()).collect();
        error::polars(format!("reading {}", urls.join(", ")), e)
    };
    let paths: Option<Vec<pl::PlRefPath>> = files
        .iter()
        .map(|f| f.local_path().map(pl::PlRefPath::new))
        .collect();
    let sources = match paths {
        Some(paths) => pl::ScanSources::Paths(paths.into_iter().collect()),
        None => {
            let mut buffers = Vec::with_capacity(files.len());
            for f in files {
                buffers.push(polars_buffer::Buffer::from(objects::get(&f.url, &f.store)?));
            }
            pl::ScanSources::Buffers(buffers.into())
        }
    };
    pl::LazyFrame::scan_parquet_sources(sources, args).map_err(named)
}
