//! The 2016 "Introducing Dask distributed" session on GitHub-archive-like events:
//! count, type frequencies, the `jupyter/` repositories, top actors and repositories.
//!
//! ```text
//! cargo run --release --example github_events                 # generates 24 h × 10,000 events
//! cargo run --release --example github_events -- DIR          # reads DIR/*.json.gz (generates if empty)
//! cargo run --release --example github_events -- s3://bucket/prefix   # AWS_* variables set the endpoint;
//!                                                                     # uploads the files if the prefix is empty
//! cargo run --release --example github_events -- --workers 2  # on a LocalCluster of 2 worker processes
//! ```
//!
//! Every step is a registered op (the functions below are `#[brisk::task]`s), so the
//! same bag runs on the local scheduler or on a cluster's workers.

use brisk::collections::bag::{read_json, Json, JsonValueTrait, ReadOptions};
use brisk::collections::datasets::github_events;
use brisk::core::executor::{default_executor, Executor};
use brisk::io::{glob, objects, url::StoreOptions};
use std::cmp::Reverse;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn timed<T>(label: &str, f: impl FnOnce() -> brisk::Result<T>) -> brisk::Result<T> {
    let t = Instant::now();
    let out = f()?;
    println!("  ({label}: {:.3} s)", t.elapsed().as_secs_f64());
    Ok(out)
}

/// Writes the generated files into `dir` unless it already holds some.
fn generate_if_empty(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut existing: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    existing.retain(|p| p.to_string_lossy().ends_with(".json.gz"));
    if !existing.is_empty() {
        existing.sort();
        return Ok(existing);
    }
    let t = Instant::now();
    let paths = github_events(24, 10_000, 2015, dir)?;
    println!(
        "generated 24 hourly files of 10,000 events in {} ({:.2} s)",
        dir.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(paths)
}

/// Uploads the generated files under the S3 prefix `url` unless `pattern` matches
/// some objects already.
fn upload_if_empty(url: &str, pattern: &str) -> anyhow::Result<()> {
    let options = StoreOptions::default();
    match glob::expand(pattern, &options) {
        Ok(_) => Ok(()),
        Err(brisk::io::Error::NoMatch { .. }) => {
            let dir = std::env::temp_dir().join(format!("brisk-upload-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            for path in generate_if_empty(&dir)? {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                let target = format!("{}/{name}", url.trim_end_matches('/'));
                objects::put(&target, std::fs::read(&path)?, &options)?;
            }
            std::fs::remove_dir_all(&dir)?;
            println!("uploaded them to {url}");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

#[brisk::task]
fn on_jupyter(e: &Json) -> bool {
    e["repo"]["name"]
        .as_str()
        .is_some_and(|r| r.starts_with("jupyter/"))
}

#[brisk::task]
fn repo_name(e: &Json) -> String {
    e["repo"]["name"].as_str().unwrap_or("").to_string()
}

#[brisk::task]
fn actor(e: &Json) -> String {
    e["actor"]["login"].as_str().unwrap_or("").to_string()
}

/// Most frequent first, ties by name.
#[brisk::task]
fn by_count(pair: &(String, u64)) -> (u64, Reverse<String>) {
    (pair.1, Reverse(pair.0.clone()))
}

fn main() -> anyhow::Result<()> {
    brisk::init();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let workers = match args.iter().position(|a| a == "--workers") {
        Some(i) => {
            let n = args.get(i + 1).and_then(|n| n.parse::<usize>().ok());
            let n = n.ok_or_else(|| anyhow::anyhow!("--workers needs a number"))?;
            args.drain(i..i + 2);
            Some(n)
        }
        None => None,
    };
    let source = match args.first().cloned() {
        Some(url) if url.starts_with("s3://") => {
            let pattern = format!("{}/*.json.gz", url.trim_end_matches('/'));
            upload_if_empty(&url, &pattern)?;
            pattern
        }
        other => {
            let dir = other
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| std::env::temp_dir().join("brisk-github-events"));
            generate_if_empty(&dir)?;
            format!("{}/*.json.gz", dir.display())
        }
    };
    match workers {
        Some(n) => {
            let cluster = brisk::LocalCluster::new(n, 1)?;
            let client = cluster.client()?;
            println!("on a LocalCluster of {n} worker processes");
            questions(&source, &client)
        }
        None => questions(&source, default_executor()?.as_ref()),
    }
}

fn questions(source: &str, on: &dyn Executor) -> anyhow::Result<()> {
    println!("reading {source}");
    let events = read_json(&[source], &ReadOptions::default())?;
    // Keep the parsed events in memory, as the 2016 session did with persist().
    let events = timed("read + parse + persist", || events.persist_with(on))?;

    let n = timed("count", || events.count()?.compute_with(on))?;
    println!("events: {n}");

    let types = timed("type frequencies", || {
        events.pluck_str("type")?.frequencies()?.compute_with(on)
    })?;
    println!("types: {types:?}");

    let jupyter = events.filter(on_jupyter::task_fn())?;
    let jn = timed("jupyter events", || jupyter.count()?.compute_with(on))?;
    println!("events on jupyter/ repositories: {jn}");

    let repos = timed("distinct jupyter repos", || {
        jupyter
            .map(repo_name::task_fn())?
            .distinct()?
            .compute_with(on)
    })?;
    println!("jupyter repositories: {repos:?}");

    let top_actors = timed("top 10 actors", || {
        events
            .map(actor::task_fn())?
            .frequencies()?
            .topk(10, by_count::task_fn())?
            .compute_with(on)
    })?;
    println!("top 10 actors: {top_actors:?}");

    let top_jupyter_actors = timed("top 10 jupyter actors", || {
        jupyter
            .map(actor::task_fn())?
            .frequencies()?
            .topk(10, by_count::task_fn())?
            .compute_with(on)
    })?;
    println!("top 10 actors on jupyter/: {top_jupyter_actors:?}");

    let top_repos = timed("top 20 repos", || {
        events
            .map(repo_name::task_fn())?
            .frequencies()?
            .topk(20, by_count::task_fn())?
            .compute_with(on)
    })?;
    println!("top 20 repositories: {top_repos:?}");
    Ok(())
}
