//! `brisk-bench bag`: the GitHub-events queries from gzipped NDJSON files, beside a
//! hand-written single-pass loop over the same files with the same JSON parser.

use anyhow::{bail, Result};
use brisk::collections::bag::{read_json, Json, JsonValueTrait, ReadOptions};
use brisk::collections::datasets::github_events;
use brisk::io::compression::Compression;
use brisk_benches::{emit, median_seconds, peak_rss_mb, reset_peak_rss, round};
use serde_json::json;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const HOURS: u32 = 48;
const EVENTS_PER_HOUR: u32 = 20_000;
const REPS: usize = 3;

pub(crate) fn data_dir(args: &[String]) -> Result<PathBuf> {
    let dir = match args {
        [] => std::env::temp_dir().join("brisk-bench-github"),
        [flag, dir] if flag == "--data" => PathBuf::from(dir),
        _ => bail!("usage: brisk-bench bag [--data DIR]"),
    };
    let has_files = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".json.gz"))
        })
        .unwrap_or(false);
    if !has_files {
        eprintln!(
            "generating {HOURS} h × {EVENTS_PER_HOUR} events in {}",
            dir.display()
        );
        github_events(HOURS, EVENTS_PER_HOUR, 2015, &dir)?;
    }
    Ok(dir)
}

fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    v.sort();
    Ok(v)
}

/// The same three answers by one plain loop per query (single thread).
mod by_hand {
    use super::*;

    pub fn events(paths: &[PathBuf], mut f: impl FnMut(Json)) -> Result<()> {
        for p in paths {
            let raw = std::fs::read(p)?;
            let text = Compression::Gzip.decompress(&raw, &p.display().to_string())?;
            for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                f(Json::parse(line)?);
            }
        }
        Ok(())
    }

    pub fn type_frequencies(paths: &[PathBuf]) -> Result<usize> {
        let mut m: HashMap<String, u64> = HashMap::new();
        events(paths, |e| {
            if let Some(t) = e["type"].as_str() {
                *m.entry(t.to_string()).or_default() += 1;
            }
        })?;
        Ok(m.len())
    }

    pub fn count(paths: &[PathBuf]) -> Result<u64> {
        let mut n = 0;
        events(paths, |_| n += 1)?;
        Ok(n)
    }

    pub fn jupyter_top10(paths: &[PathBuf]) -> Result<Vec<(String, u64)>> {
        let mut m: HashMap<String, u64> = HashMap::new();
        events(paths, |e| {
            if e["repo"]["name"]
                .as_str()
                .is_some_and(|r| r.starts_with("jupyter/"))
            {
                *m.entry(e["actor"]["login"].as_str().unwrap_or("").to_string())
                    .or_default() += 1;
            }
        })?;
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(10);
        Ok(v)
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let dir = data_dir(args)?;
    let paths = files(&dir)?;
    let glob = format!("{}/*.json.gz", dir.display());
    let opts = ReadOptions::default();
    let records = by_hand::count(&paths)?;

    let report = |name: &str, brisk: f64, hand: f64| {
        emit(
            name,
            &[
                ("records", json!(records)),
                ("files", json!(paths.len())),
                ("seconds", json!(round(brisk, 4))),
                ("hand_loop_seconds", json!(round(hand, 4))),
                ("vs_hand_loop", json!(round(brisk / hand, 3))),
                ("peak_rss_mb", json!(round(peak_rss_mb(), 1))),
            ],
        );
        reset_peak_rss();
    };

    reset_peak_rss();
    let (s, types) = median_seconds(REPS, || -> brisk::Result<usize> {
        Ok(read_json(&[&glob], &opts)?
            .pluck_str("type")?
            .frequencies()?
            .compute()?
            .len())
    });
    let (h, hand_types) = median_seconds(REPS, || by_hand::type_frequencies(&paths));
    if types? != hand_types? {
        bail!("type frequencies disagree with the hand loop");
    }
    report("bag.type_frequencies", s, h);

    let (s, n) = median_seconds(REPS, || read_json(&[&glob], &opts)?.count()?.compute());
    let (h, hand_n) = median_seconds(REPS, || by_hand::count(&paths));
    if n? != hand_n? {
        bail!("count disagrees with the hand loop");
    }
    report("bag.count", s, h);

    let (s, top) = median_seconds(REPS, || -> brisk::Result<Vec<(String, u64)>> {
        read_json(&[&glob], &opts)?
            .filter(("jupyter", |e: &Json| {
                e["repo"]["name"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("jupyter/"))
            }))?
            .map(("actor", |e: &Json| {
                e["actor"]["login"].as_str().unwrap_or("").to_string()
            }))?
            .frequencies()?
            .topk(
                10,
                ("by-count", |(a, c): &(String, u64)| {
                    (*c, Reverse(a.clone()))
                }),
            )?
            .compute()
    });
    let (h, hand_top) = median_seconds(REPS, || by_hand::jupyter_top10(&paths));
    if top? != hand_top? {
        bail!("jupyter top-10 disagrees with the hand loop");
    }
    report("bag.jupyter_top10_actors", s, h);
    Ok(())
}
