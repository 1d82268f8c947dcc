//! `brisk-bench array`: the 2016 weather-array operations on daily NetCDF files of
//! 2-metre temperature, each timed from the files (read, compute).

use anyhow::{bail, Result};
use brisk::collections::array::{read_netcdf, Array, Ix, NetcdfOptions};
use brisk::collections::datasets::temperature;
use brisk_benches::{emit, median_seconds, peak_rss_mb, reset_peak_rss, round};
use serde_json::json;
use std::path::{Path, PathBuf};

const DAYS: usize = 32;
const REPS: usize = 3;

fn data_dir(args: &[String]) -> Result<PathBuf> {
    let dir = match args {
        [] => std::env::temp_dir().join("brisk-bench-temperature"),
        [flag, dir] if flag == "--data" => PathBuf::from(dir),
        _ => bail!("usage: brisk-bench array [--data DIR]"),
    };
    let has_nc = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "nc"))
        })
        .unwrap_or(false);
    if !has_nc {
        eprintln!(
            "generating {DAYS} daily temperature files in {}",
            dir.display()
        );
        temperature(DAYS, &dir)?;
    }
    Ok(dir)
}

fn open(dir: &Path) -> brisk::Result<Array<f32>> {
    read_netcdf(
        &[&format!("{}/*.nc", dir.display())],
        "t2m",
        &NetcdfOptions::default(),
    )
}

fn zscore(x: &Array<f32>) -> brisk::Result<Array<f32>> {
    x.sub(&x.mean(&[0], false)?)?.div(&x.std(&[0], 0, false)?)
}

type Op = fn(&Array<f32>) -> brisk::Result<usize>;

/// Each operation returns the number of elements it computed. `zscore` (which
/// holds the whole result) runs last so that its memory does not count against the
/// others' peaks.
const OPS: [(&str, Op); 6] = [
    ("x000", |x| {
        Ok(x.get(&[Ix::i(0), Ix::i(0), Ix::i(0)])?.compute()?.len())
    }),
    ("x0", |x| Ok(x.index(0)?.compute()?.len())),
    ("mean", |x| Ok(x.mean(&[], false)?.compute()?.len())),
    ("z100", |x| Ok(zscore(x)?.index(100)?.compute()?.len())),
    ("z_by_latitude", |x| {
        Ok(zscore(x)?.mean(&[-1], false)?.compute()?.len())
    }),
    ("zscore", |x| Ok(zscore(x)?.compute()?.len())),
];

pub fn run(args: &[String]) -> Result<()> {
    brisk_benches::with_allocator_setting()?;
    let dir = data_dir(args)?;
    let x = open(&dir)?;
    let shape = x.shape()?;
    let mb = x.nbytes()? as f64 / 1e6;
    for (name, op) in OPS {
        let full = format!("array.{name}");
        if std::env::var("BRISK_BENCH_FILTER").is_ok_and(|f| !full.contains(&f)) {
            continue;
        }
        reset_peak_rss();
        let base = peak_rss_mb();
        let (s, n) = median_seconds(brisk_benches::reps(REPS), || op(&open(&dir)?));
        let n = n?;
        let peak = peak_rss_mb();
        emit(
            &full,
            &[
                ("shape", json!(shape)),
                ("dataset_mb", json!(round(mb, 1))),
                ("seconds", json!(round(s, 4))),
                ("result_elements", json!(n)),
                ("peak_rss_mb", json!(round(peak, 1))),
                ("baseline_rss_mb", json!(round(base, 1))),
                (
                    "mimalloc_purge_delay",
                    json!(brisk_benches::allocator_setting()),
                ),
            ],
        );
    }
    Ok(())
}
