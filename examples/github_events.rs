//! The 2016 "Introducing Dask distributed" session on GitHub-archive-like events:
//! count, type frequencies, the `jupyter/` repositories, top actors and repositories.
//!
//! ```text
//! cargo run --release --example github_events                 # generates 24 h × 10,000 events
//! cargo run --release --example github_events -- DIR          # reads DIR/*.json.gz (generates if empty)
//! cargo run --release --example github_events -- s3://bucket/prefix   # AWS_* variables set the endpoint;
//!                                                                     # uploads the files if the prefix is empty
//! ```

use brisk::collections::bag::{read_json, Json, JsonValueTrait, ReadOptions};
use brisk::collections::datasets::github_events;
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

fn main() -> anyhow::Result<()> {
    brisk::init();
    let arg = std::env::args().nth(1);
    let source = match arg {
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
    println!("reading {source}");
    let events = read_json(&[&source], &ReadOptions::default())?;
    // Keep the parsed events in memory, as the 2016 session did with persist().
    let events = timed("read + parse + persist", || events.persist())?;

    let n = timed("count", || events.count()?.compute())?;
    println!("events: {n}");

    let types = timed("type frequencies", || {
        events.pluck_str("type")?.frequencies()?.compute()
    })?;
    println!("types: {types:?}");

    let jupyter = events.filter("jupyter", |e| {
        e["repo"]["name"]
            .as_str()
            .is_some_and(|r| r.starts_with("jupyter/"))
    })?;
    let jn = timed("jupyter events", || jupyter.count()?.compute())?;
    println!("events on jupyter/ repositories: {jn}");

    let repos = timed("distinct jupyter repos", || {
        jupyter
            .map("repo-name", |e| {
                e["repo"]["name"].as_str().unwrap_or("").to_string()
            })?
            .distinct()?
            .compute()
    })?;
    println!("jupyter repositories: {repos:?}");

    let login = |e: &Json| e["actor"]["login"].as_str().unwrap_or("").to_string();
    let top_actors = timed("top 10 actors", || {
        events
            .map("actor", login)?
            .frequencies()?
            .topk("by-count", 10, |(a, c)| (*c, Reverse(a.clone())))?
            .compute()
    })?;
    println!("top 10 actors: {top_actors:?}");

    let top_jupyter_actors = timed("top 10 jupyter actors", || {
        jupyter
            .map("actor", login)?
            .frequencies()?
            .topk("by-count", 10, |(a, c)| (*c, Reverse(a.clone())))?
            .compute()
    })?;
    println!("top 10 actors on jupyter/: {top_jupyter_actors:?}");

    let top_repos = timed("top 20 repos", || {
        events
            .map("repo-name", |e| {
                e["repo"]["name"].as_str().unwrap_or("").to_string()
            })?
            .frequencies()?
            .topk("by-count", 20, |(r, c)| (*c, Reverse(r.clone())))?
            .compute()
    })?;
    println!("top 20 repositories: {top_repos:?}");
    Ok(())
}
