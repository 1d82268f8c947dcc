//! `brisk-bench cluster [--data DIR]`: the six NYC-taxi questions from CSV and from
//! Parquet and the three GitHub-event questions, on a `LocalCluster` of 2 worker
//! processes × 1 thread, each beside Brisk's local scheduler on the same files in
//! the same run. One JSON line per question, `cluster.<family>.<question>`, with
//! `seconds` (the cluster, through a client) and `local_seconds`.
//!
//! The files are those of `brisk-bench dataframe` and `brisk-bench bag` (made
//! there when missing), or the `*.csv`, `*.parquet` and `*.json.gz` of `--data DIR`.
//! `benches/compare/dask_cluster.py` asks the same questions of a dask.distributed
//! cluster of the same shape.

use super::dataframe::{csv_frame, QUERIES};
use anyhow::{bail, Result};
use brisk::collections::bag::{read_json, Json, JsonValueTrait, ReadOptions};
use brisk::collections::dataframe::polars::prelude as pl;
use brisk::collections::dataframe::{read_parquet, DataFrame, ParquetOptions};
use brisk::core::executor::{default_executor, Executor};
use brisk::scheduler::distributed::cluster::LocalClusterOptions;
use brisk::LocalCluster;
use brisk_benches::{emit, median_seconds, round};
use serde_json::json;
use std::cmp::Reverse;
use std::path::Path;

const REPS: usize = 3;

#[brisk::task]
fn in_jupyter(e: &Json) -> bool {
    e["repo"]["name"]
        .as_str()
        .is_some_and(|r| r.starts_with("jupyter/"))
}

#[brisk::task]
fn actor(e: &Json) -> String {
    e["actor"]["login"].as_str().unwrap_or("").to_string()
}

#[brisk::task]
fn by_count(pair: &(String, u64)) -> (u64, Reverse<String>) {
    (pair.1, Reverse(pair.0.clone()))
}

/// The three GitHub-event questions, each from the files; the answer's size.
type BagQuery = fn(&str, &dyn Executor) -> brisk::Result<usize>;

const BAG_QUERIES: [(&str, BagQuery); 3] = [
    ("type_frequencies", |glob, ex| {
        Ok(read_json(&[glob], &ReadOptions::default())?
            .pluck_str("type")?
            .frequencies()?
            .compute_with(ex)?
            .len())
    }),
    ("count", |glob, ex| {
        Ok(read_json(&[glob], &ReadOptions::default())?
            .count()?
            .compute_with(ex)? as usize)
    }),
    ("jupyter_top10_actors", |glob, ex| {
        Ok(read_json(&[glob], &ReadOptions::default())?
            .filter(in_jupyter::task_fn())?
            .map(actor::task_fn())?
            .frequencies()?
            .topk(10, by_count::task_fn())?
            .compute_with(ex)?
            .len())
    }),
];

/// Times `run` on the cluster and on the local scheduler (median of the
/// repetitions each), checks the answers agree, and prints the line.
fn compare<T: PartialEq + std::fmt::Debug>(
    name: &str,
    cluster: &LocalCluster,
    client: &dyn Executor,
    local: &dyn Executor,
    run: impl Fn(&dyn Executor) -> brisk::Result<T>,
) -> Result<(f64, f64)> {
    let reps = brisk_benches::reps(REPS);
    let (l, want) = median_seconds(reps, || run(local));
    // Each run computes from the files: the cluster first lets go of the last
    // run's results (a release is sent after the result arrives; a graph of the
    // same keys submitted before it lands would find them still in memory).
    let mut times = Vec::with_capacity(reps);
    let mut got = None;
    for _ in 0..reps.max(1) {
        settle(cluster)?;
        let t = std::time::Instant::now();
        got = Some(run(client));
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let s = times[times.len() / 2];
    let got = got.ok_or_else(|| anyhow::anyhow!("no run"))?;
    let (want, got) = (want?, got?);
    if want != got {
        bail!("{name}: the cluster answered {got:?}, the local scheduler {want:?}");
    }
    emit(
        name,
        &[
            ("seconds", json!(round(s, 4))),
            ("local_seconds", json!(round(l, 4))),
            ("vs_local", json!(round(s / l, 3))),
            ("workers", json!(2)),
            ("threads_per_worker", json!(1)),
        ],
    );
    Ok((s, l))
}

/// A small answer as sorted rows of numbers to 7 significant digits (sums of
/// floats taken in another order differ in the last bits).
fn rows(df: &pl::DataFrame) -> brisk::Result<Vec<Vec<String>>> {
    let columns = df
        .columns()
        .iter()
        .map(|c| {
            let f = c
                .as_materialized_series()
                .cast(&pl::DataType::Float64)
                .map_err(brisk::Error::external)?;
            let f = f.f64().map_err(brisk::Error::external)?;
            Ok(f.iter()
                .map(|v| format!("{:.6e}", v.unwrap_or(f64::NAN)))
                .collect::<Vec<_>>())
        })
        .collect::<brisk::Result<Vec<Vec<String>>>>()?;
    let mut out: Vec<Vec<String>> = (0..df.height())
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect();
    out.sort();
    Ok(out)
}

/// Waits until the scheduler holds no task.
fn settle(cluster: &LocalCluster) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while cluster.status().tasks > 0 {
        if std::time::Instant::now() > deadline {
            bail!("the scheduler still holds {} tasks", cluster.status().tasks);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Ok(())
}

fn family_total(family: &str, times: &[(f64, f64)]) {
    let (s, l): (f64, f64) = times.iter().fold((0.0, 0.0), |a, t| (a.0 + t.0, a.1 + t.1));
    emit(
        &format!("cluster.{family}.total"),
        &[
            ("seconds", json!(round(s, 4))),
            ("local_seconds", json!(round(l, 4))),
            ("vs_local", json!(round(s / l, 3))),
        ],
    );
}

fn selected(full: &str) -> bool {
    std::env::var("BRISK_BENCH_FILTER").map_or(true, |f| full.contains(&f))
}

pub fn run(args: &[String]) -> Result<()> {
    let taxi = super::dataframe::data_dir(args)?;
    let github = super::bag::data_dir(args)?;
    let cluster = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 2,
        threads_per_worker: 1,
        ..Default::default()
    })?;
    let client = cluster.client()?;
    client.wait_for_workers(2, std::time::Duration::from_secs(60))?;
    let local = default_executor()?;
    let parquet = |dir: &Path| -> brisk::Result<DataFrame> {
        read_parquet(
            &[&format!("{}/*.parquet", dir.display())],
            &ParquetOptions::default(),
        )
    };
    for (family, open) in [
        (
            "csv",
            &csv_frame as &dyn Fn(&Path) -> brisk::Result<DataFrame>,
        ),
        ("parquet", &parquet),
    ] {
        let mut times = Vec::new();
        for (name, query) in QUERIES {
            let full = format!("cluster.{family}.{name}");
            if !selected(&full) {
                continue;
            }
            times.push(compare(&full, &cluster, &client, local.as_ref(), |ex| {
                rows(&query(&open(&taxi)?, ex)?)
            })?);
        }
        family_total(family, &times);
    }
    let glob = format!("{}/*.json.gz", github.display());
    let mut times = Vec::new();
    for (name, query) in BAG_QUERIES {
        let full = format!("cluster.bag.{name}");
        if !selected(&full) {
            continue;
        }
        times.push(compare(&full, &cluster, &client, local.as_ref(), |ex| {
            query(&glob, ex)
        })?);
    }
    family_total("bag", &times);
    Ok(())
}
