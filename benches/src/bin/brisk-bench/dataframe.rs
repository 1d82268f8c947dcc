//! `brisk-bench dataframe`: the 2016 NYC-taxi questions from CSV and from Parquet
//! files, each query timed from the files (read, parse, compute).

use anyhow::{bail, Result};
use brisk::collections::dataframe::{
    col, lit, polars::prelude as pl, read_csv, read_parquet, Agg, CsvOptions, DataFrame,
    ParquetOptions,
};
use brisk::collections::datasets::{nyc_taxi, TaxiFormat};
use brisk::core::executor::{default_executor, Executor};
use brisk_benches::{emit, median_seconds, peak_rss_mb, reset_peak_rss, round};
use serde_json::json;
use std::path::{Path, PathBuf};

const ROWS: usize = 4_000_000;
const FILES: usize = 8;
const REPS: usize = 3;

fn has(dir: &Path, ext: &str) -> bool {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == ext))
        })
        .unwrap_or(false)
}

pub(crate) fn data_dir(args: &[String]) -> Result<PathBuf> {
    let dir = match args {
        // `-2`: the files of `write_parquet` (amounts dictionary-encoded); the
        // directory of earlier builds holds Polars-written files.
        [] => std::env::temp_dir().join("brisk-bench-taxi-2"),
        [flag, dir] if flag == "--data" => PathBuf::from(dir),
        _ => bail!("usage: brisk-bench dataframe [--data DIR]"),
    };
    for (ext, format) in [("csv", TaxiFormat::Csv), ("parquet", TaxiFormat::Parquet)] {
        if !has(&dir, ext) {
            eprintln!(
                "generating {ROWS} trips in {FILES} {ext} files in {}",
                dir.display()
            );
            nyc_taxi(ROWS, FILES, 2015, &dir, format)?;
        }
    }
    Ok(dir)
}

/// The six questions; each returns a small frame, computed on the executor given.
pub(crate) type Query = fn(&DataFrame, &dyn Executor) -> brisk::Result<pl::DataFrame>;

fn tipped(df: &DataFrame) -> brisk::Result<DataFrame> {
    df.filter(
        col("tip_amount")
            .gt(lit(0.0))
            .and(col("fare_amount").gt(lit(0.0))),
    )?
    .with_columns([(col("tip_amount") / col("fare_amount")).alias("tip_fraction")])
}

pub(crate) const QUERIES: [(&str, Query); 6] = [
    ("rides", |df, ex| df.agg(&[Agg::size()])?.compute_with(ex)),
    ("passengers", |df, ex| {
        df.agg(&[Agg::sum("passenger_count")])?.compute_with(ex)
    }),
    ("payment_types", |df, ex| {
        df.value_counts("payment_type")?.compute_with(ex)
    }),
    ("zero_tip_payment_types", |df, ex| {
        df.filter(col("tip_amount").eq(lit(0.0)))?
            .value_counts("payment_type")?
            .compute_with(ex)
    }),
    ("tip_fraction_by_weekday", |df, ex| {
        tipped(df)?
            .groupby([col("tpep_pickup_datetime").dt().weekday().alias("weekday")])
            .agg(&[Agg::mean("tip_fraction")])?
            .compute_with(ex)
    }),
    ("tip_fraction_by_hour", |df, ex| {
        tipped(df)?
            .groupby([col("tpep_pickup_datetime").dt().hour().alias("hour")])
            .agg(&[Agg::mean("tip_fraction")])?
            .compute_with(ex)
    }),
];

/// Whether query `full` (`csv.passengers`...) runs: `BRISK_BENCH_FILTER=csv.passengers`
/// runs only the queries whose names contain it.
fn selected(full: &str) -> bool {
    std::env::var("BRISK_BENCH_FILTER").map_or(true, |f| full.contains(&f))
}

/// Polars' form of [`tipped`].
fn tipped_lazy(lf: pl::LazyFrame) -> pl::LazyFrame {
    lf.filter(
        col("tip_amount")
            .gt(lit(0.0))
            .and(col("fare_amount").gt(lit(0.0))),
    )
    .with_columns([(col("tip_amount") / col("fare_amount")).alias("tip_fraction")])
}

/// The six questions as Polars lazy queries, for one plan over all the Parquet files
/// with the Polars of this build: what Brisk's partitions cost over Polars itself,
/// apart from how Polars was compiled.
const POLARS_QUERIES: [(&str, fn(pl::LazyFrame) -> pl::LazyFrame); 6] = [
    ("rides", |lf| lf.select([pl::len()])),
    ("passengers", |lf| lf.select([col("passenger_count").sum()])),
    ("payment_types", |lf| {
        lf.group_by([col("payment_type")]).agg([pl::len()])
    }),
    ("zero_tip_payment_types", |lf| {
        lf.filter(col("tip_amount").eq(lit(0.0)))
            .group_by([col("payment_type")])
            .agg([pl::len()])
    }),
    ("tip_fraction_by_weekday", |lf| {
        tipped_lazy(lf)
            .group_by([col("tpep_pickup_datetime").dt().weekday()])
            .agg([col("tip_fraction").mean()])
    }),
    ("tip_fraction_by_hour", |lf| {
        tipped_lazy(lf)
            .group_by([col("tpep_pickup_datetime").dt().hour()])
            .agg([col("tip_fraction").mean()])
    }),
];

/// `dataframe.parquet_one_polars_plan.*`: [`POLARS_QUERIES`] on Polars' streaming
/// engine over all the Parquet files at once.
fn run_polars(dir: &Path) -> Result<()> {
    let pattern = format!("{}/*.parquet", dir.display());
    let mut total = 0.0;
    for (name, query) in POLARS_QUERIES {
        let full = format!("parquet_one_polars_plan.{name}");
        if !selected(&full) {
            continue;
        }
        reset_peak_rss();
        let (s, out) = median_seconds(brisk_benches::reps(REPS), || {
            let lf = pl::LazyFrame::scan_parquet(
                pl::PlRefPath::new(pattern.as_str()),
                pl::ScanArgsParquet::default(),
            )?;
            Ok::<_, pl::PolarsError>(
                query(lf)
                    .collect_with_engine(pl::Engine::Streaming)?
                    .unwrap_single(),
            )
        });
        let out = out?;
        total += s;
        emit(
            &format!("dataframe.{full}"),
            &[
                ("seconds", json!(round(s, 4))),
                ("result_rows", json!(out.height())),
                ("peak_rss_mb", json!(round(peak_rss_mb(), 1))),
            ],
        );
    }
    emit(
        "dataframe.parquet_one_polars_plan.total",
        &[("seconds", json!(round(total, 4)))],
    );
    Ok(())
}

/// The taxi CSV files of `dir`, their dates parsed.
pub(crate) fn csv_frame(dir: &Path) -> brisk::Result<DataFrame> {
    read_csv(
        &[&format!("{}/*.csv", dir.display())],
        &CsvOptions {
            parse_dates: vec![
                "tpep_pickup_datetime".into(),
                "tpep_dropoff_datetime".into(),
            ],
            ..Default::default()
        },
    )
}

pub fn run(args: &[String]) -> Result<()> {
    brisk_benches::with_allocator_setting()?;
    let dir = data_dir(args)?;
    let csv = || csv_frame(&dir);
    let parquet = |options: ParquetOptions| {
        read_parquet(&[&format!("{}/*.parquet", dir.display())], &options)
    };
    let by_file = || parquet(ParquetOptions::default());
    let by_row_group = || {
        parquet(ParquetOptions {
            split_row_groups: true,
            ..Default::default()
        })
    };
    let aggregated = || {
        parquet(ParquetOptions {
            aggregate_files: true,
            ..Default::default()
        })
    };
    for (format, open) in [
        ("csv", &csv as &dyn Fn() -> brisk::Result<DataFrame>),
        ("parquet", &by_file),
        ("parquet_row_groups", &by_row_group),
        ("parquet_aggregate_files", &aggregated),
    ] {
        let mut total = 0.0;
        for (name, query) in QUERIES {
            let full = format!("{format}.{name}");
            if !selected(&full) {
                continue;
            }
            reset_peak_rss();
            let ex = default_executor()?;
            let (s, out) =
                median_seconds(brisk_benches::reps(REPS), || query(&open()?, ex.as_ref()));
            let out = out?;
            total += s;
            emit(
                &format!("dataframe.{format}.{name}"),
                &[
                    ("rows", json!(ROWS)),
                    ("files", json!(FILES)),
                    ("seconds", json!(round(s, 4))),
                    ("result_rows", json!(out.height())),
                    ("peak_rss_mb", json!(round(peak_rss_mb(), 1))),
                    (
                        "mimalloc_purge_delay",
                        json!(brisk_benches::allocator_setting()),
                    ),
                ],
            );
        }
        emit(
            &format!("dataframe.{format}.total"),
            &[("seconds", json!(round(total, 4)))],
        );
    }
    run_polars(&dir)?;
    if selected("parquet_floor") {
        super::parquet_floor::run(&dir, brisk_benches::reps(REPS))?;
    }
    Ok(())
}
