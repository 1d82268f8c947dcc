//! Shared by the DataFrame file tests: scratch directories and eager Polars' frame
//! of Parquet files.
#![allow(dead_code)]

use polars::prelude::{DataFrame, ParquetReader, SerReader};
use std::path::{Path, PathBuf};

/// An empty scratch directory named after the test and the process.
pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brisk-df-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Eager Polars over each Parquet file, concatenated in order.
pub fn eager_parquet(paths: &[impl AsRef<Path>]) -> DataFrame {
    concat(paths.iter().map(|p| {
        ParquetReader::new(std::fs::File::open(p).unwrap())
            .finish()
            .unwrap()
    }))
}

/// Frames stacked in order.
pub fn concat(frames: impl IntoIterator<Item = DataFrame>) -> DataFrame {
    let mut frames = frames.into_iter();
    let mut out = frames.next().expect("no frames");
    for df in frames {
        out.vstack_mut(&df).unwrap();
    }
    out
}
