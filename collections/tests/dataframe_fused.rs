//! With `aggregate_files`, reductions over Parquet files that read few of the
//! columns scan several whole files in one task (Dask's fused Parquet reads). The results are those of eager
//! Polars on the files concatenated in order; steps whose result depends on where
//! the partitions end keep one task per file; a bad file is still named.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::{read_parquet, Agg, DataFrame, ParquetOptions};
use brisk_collections::datasets::{nyc_taxi, TaxiFormat};
use brisk_scheduler as _;
use polars::prelude::*;
use std::path::{Path, PathBuf};

mod frames;
use frames::{eager_parquet, tempdir};

/// Nine taxi Parquet files and eager Polars' frame of all of them, in file order.
fn nine_files(tag: &str) -> (PathBuf, DataFrame, polars::prelude::DataFrame) {
    let dir = tempdir(tag);
    let paths = nyc_taxi(9 * 700, 9, 11, &dir, TaxiFormat::Parquet).unwrap();
    let want = eager_parquet(&paths);
    let ddf = read_parquet(&[&pattern(&dir)], &aggregated()).unwrap();
    assert_eq!(ddf.npartitions(), 9);
    (dir, ddf, want)
}

fn aggregated() -> ParquetOptions {
    ParquetOptions {
        aggregate_files: true,
        ..Default::default()
    }
}

/// The files of `dir`, sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn pattern(dir: &Path) -> String {
    format!("{}/*.parquet", dir.display())
}

/// The tasks of each layer whose name contains `part`.
fn tasks_in_layers(ddf: &DataFrame, part: &str) -> Vec<usize> {
    let (graph, _) = ddf.to_graph().unwrap();
    graph
        .layers()
        .iter()
        .filter(|l| l.name.contains(part))
        .map(|l| l.tasks.len())
        .collect()
}

fn assert_close(got: &polars::prelude::DataFrame, want: &polars::prelude::DataFrame) {
    assert_eq!(got.schema(), want.schema());
    assert_eq!(got.height(), want.height());
    for (g, w) in got.columns().iter().zip(want.columns()) {
        if g.dtype().is_float() {
            let (g, w) = (g.f64().unwrap(), w.f64().unwrap());
            for (a, b) in g.iter().zip(w.iter()) {
                match (a, b) {
                    (Some(a), Some(b)) => {
                        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}")
                    }
                    (a, b) => assert_eq!(a, b),
                }
            }
        } else {
            assert!(g.equals_missing(w), "{g:?} vs {w:?}");
        }
    }
}

#[test]
fn a_whole_frame_aggregation_reads_three_files_a_task_and_matches_eager_polars() {
    let (dir, ddf, want) = nine_files("agg");
    let tipped = ddf
        .filter(col("tip_amount").gt(lit(0.0)))
        .unwrap()
        .with_columns([(col("tip_amount") / col("fare_amount")).alias("tip_fraction")])
        .unwrap();
    let got = tipped
        .agg(&[
            Agg::size(),
            Agg::sum("passenger_count"),
            Agg::mean("tip_fraction"),
            Agg::std("trip_distance", 1),
            Agg::min("tpep_pickup_datetime"),
            Agg::max("fare_amount"),
            Agg::first("trip_distance").alias("first"),
            Agg::last("trip_distance").alias("last"),
            Agg::nunique("payment_type"),
        ])
        .unwrap();
    // Six of nineteen columns read: ⌈√9⌉ = 3 files a task, so three tasks.
    assert_eq!(tasks_in_layers(&got, "read-parquet-fused"), [3]);
    let eager = want
        .lazy()
        .filter(col("tip_amount").gt(lit(0.0)))
        .with_columns([(col("tip_amount") / col("fare_amount")).alias("tip_fraction")])
        .select([
            len().alias("size"),
            col("passenger_count").sum(),
            col("tip_fraction").mean(),
            col("trip_distance").std(1),
            col("tpep_pickup_datetime").min(),
            col("fare_amount").max(),
            col("trip_distance").first().alias("first"),
            col("trip_distance").last().alias("last"),
            col("payment_type").n_unique(),
        ])
        .collect()
        .unwrap();
    assert_close(&got.compute().unwrap(), &eager);
    assert_eq!(ddf.len().unwrap(), 9 * 700);
    // Without `aggregate_files`, one task per file and the same values.
    let apart = read_parquet(&[&pattern(&dir)], &ParquetOptions::default())
        .unwrap()
        .filter(col("tip_amount").gt(lit(0.0)))
        .unwrap()
        .agg(&[Agg::size(), Agg::sum("passenger_count")])
        .unwrap();
    assert!(tasks_in_layers(&apart, "fused").is_empty());
    let apart = apart.compute().unwrap();
    assert_close(&apart, &eager.select(["size", "passenger_count"]).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn group_by_aggregations_over_fused_files_match_eager_polars() {
    let (dir, ddf, want) = nine_files("groupby");
    let aggs = [
        Agg::size().alias("rides"),
        Agg::mean("tip_amount"),
        Agg::first("trip_distance").alias("first"),
        Agg::last("trip_distance").alias("last"),
    ];
    let keys = || [col("tpep_pickup_datetime").dt().hour().alias("hour")];
    let one = ddf.groupby(keys()).agg(&aggs).unwrap();
    assert_eq!(tasks_in_layers(&one, "read-parquet-fused"), [3]);
    let split = ddf.groupby(keys()).split_out(3).agg(&aggs).unwrap();
    assert_eq!(split.npartitions(), 3);
    let eager = want
        .lazy()
        .group_by([col("tpep_pickup_datetime").dt().hour().alias("hour")])
        .agg([
            len().alias("rides"),
            col("tip_amount").mean(),
            col("trip_distance").first().alias("first"),
            col("trip_distance").last().alias("last"),
        ])
        .sort(["hour"], Default::default())
        .collect()
        .unwrap();
    assert_close(&one.compute().unwrap(), &eager);
    let split = split
        .compute()
        .unwrap()
        .sort(["hour"], Default::default())
        .unwrap();
    assert_close(&split, &eager);
    let counts = ddf.value_counts("payment_type").unwrap().compute().unwrap();
    let total: u64 = counts
        .column("count")
        .unwrap()
        .cast(&DataType::UInt64)
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .sum();
    assert_eq!(total, 9 * 700);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn steps_that_read_across_rows_are_refused_and_every_column_keeps_one_task_per_file() {
    let (dir, ddf, _) = nine_files("per-file");
    // A running sum or a maximum computed partition by partition would be one answer
    // per file, not the frame's: the blockwise methods refuse them (so a fused scan,
    // which would change where partitions end, never sees them).
    let running = ddf.with_columns([col("passenger_count").cum_sum(false).alias("running")]);
    let message = running.unwrap_err().to_string();
    assert!(
        message.starts_with("with_columns runs on each partition alone"),
        "{message}"
    );
    assert!(message.contains("cum_sum"), "{message}");
    let top = ddf.select([col("fare_amount").max().alias("top")]);
    assert!(top.unwrap_err().to_string().contains("max()"));
    // Reading every column: one file a task.
    let everything = ddf
        .agg(
            &ddf.columns()
                .iter()
                .map(|c| Agg::count(c))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    assert!(tasks_in_layers(&everything, "fused").is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_file_among_fused_files_is_named_in_the_error() {
    let (dir, ddf, _) = nine_files("corrupt");
    let sum = ddf.agg(&[Agg::sum("passenger_count")]).unwrap();
    assert_eq!(tasks_in_layers(&sum, "read-parquet-fused"), [3]);
    let files = files_in(&dir);
    let victim = &files[4];
    // Same size, garbage where the column chunks are (the footer kept).
    let mut bytes = std::fs::read(victim).unwrap();
    let len = bytes.len();
    for b in &mut bytes[4..len / 2] {
        *b = 0xAB;
    }
    std::fs::write(victim, &bytes).unwrap();
    let err = sum.compute().unwrap_err().to_string();
    let name = victim.file_name().unwrap().to_str().unwrap();
    assert!(err.contains(name), "{err}");
    for other in files.iter().filter(|f| *f != victim) {
        let other = other.file_name().unwrap().to_str().unwrap();
        assert!(!err.contains(other), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
