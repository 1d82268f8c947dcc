//! `brisk-bench memory [--dir DIR]`: more data than memory.
//!
//! - `memory.persist`: 2 GiB of float64 chunks (64 MiB each) held as futures on a
//!   `LocalCluster` of 2 workers × 1 thread limited to 512 MiB each, then summed,
//!   then every chunk read again (its maximum). Fields: `seconds`, `peak_rss_mb`
//!   (the highest worker's peak resident memory), `limit_mb`, `spilled_mb`
//!   (bytes written to spill files), `spill_MB_per_s` (bytes written to and read
//!   back from spill files over the time spent doing it) and `raw_disk_MB_per_s`
//!   (the same bytes written and read back in 64 MiB files in the same folder
//!   with plain file I/O, in this run).
//! - `memory.local`: the same chunks on the local scheduler limited to 1 GiB: a
//!   graph that holds every chunk until their total is known, then reads each
//!   again.
//!
//! Spill files go under `--dir` (default: the system's temporary folder).
//! `benches/compare/dask_memory.py` runs `memory.persist` on dask.distributed.

use anyhow::{bail, Result};
use brisk::collections::array::ndarray::{self, ArrayD};
use brisk::collections::delayed::Delayed;
use brisk::core::executor::Executor;
use brisk::core::{Graph, Key};
use brisk::scheduler::distributed::cluster::LocalClusterOptions;
use brisk::{LocalCluster, LocalScheduler};
use brisk_benches::{emit, round};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MB: u64 = 1 << 20;
const CHUNK_MB: u64 = 64;
const CHUNKS: u64 = 32;

/// Chunk `i`: 64 MiB of float64 that depend on `i` and do not compress.
#[brisk::task]
fn chunk(i: u64) -> ArrayD<f64> {
    let n = (CHUNK_MB * MB / 8) as usize;
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let v: Vec<f64> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    ArrayD::from_shape_vec(ndarray::IxDyn(&[n]), v).expect("a 1-d shape")
}

#[brisk::task]
fn chunk_sum(a: &ArrayD<f64>) -> f64 {
    a.sum()
}

#[brisk::task]
fn chunk_max(a: &ArrayD<f64>) -> f64 {
    a.fold(f64::NEG_INFINITY, |m, &v| m.max(v))
}

#[brisk::task]
fn plus(a: f64, b: f64) -> f64 {
    a + b
}

/// The sum of `xs` as a tree of `plus` calls.
fn tree_sum(xs: &[Delayed<f64>]) -> brisk::Result<Delayed<f64>> {
    let mut level = xs.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [a, b] => plus::delayed(a, b),
                _ => Ok(p[0].clone()),
            })
            .collect::<brisk::Result<_>>()?;
    }
    Ok(level.remove(0))
}

/// The largest value of a chunk less the mean of all (read after the total).
#[brisk::task]
fn centred_max(a: &ArrayD<f64>, total: &f64) -> f64 {
    let mean = total / (CHUNKS * CHUNK_MB * MB / 8) as f64;
    a.fold(f64::NEG_INFINITY, |m, &v| m.max(v - mean))
}

fn dir_arg(args: &[String]) -> Result<PathBuf> {
    match args {
        [] => Ok(std::env::temp_dir()),
        [flag, d] if flag == "--dir" => Ok(PathBuf::from(d)),
        _ => bail!("usage: brisk-bench memory [--dir DIR]"),
    }
}

/// mimalloc (this program's allocator, and so its workers') gives freed memory
/// back to the system only some time after, on its next call: a paused worker
/// makes no calls. With no delay, freed memory goes back at once.
const PURGE_NOW: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "0");

pub fn run(args: &[String]) -> Result<()> {
    if std::env::var_os(PURGE_NOW.0).is_none() {
        use std::os::unix::process::CommandExt;
        let err = std::process::Command::new(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .env(PURGE_NOW.0, PURGE_NOW.1)
            .exec();
        bail!("cannot re-execute the benchmark: {err}");
    }
    let base = dir_arg(args)?.join(format!("brisk-bench-memory-{}", std::process::id()));
    std::fs::create_dir_all(&base)?;
    let raw = raw_disk(&base, CHUNKS * CHUNK_MB * MB)?;
    if selected("memory.persist") {
        persist(&base.join("cluster"), raw)?;
    }
    if selected("memory.local") {
        local(&base.join("local"), raw)?;
    }
    std::fs::remove_dir_all(&base)?;
    Ok(())
}

fn selected(name: &str) -> bool {
    std::env::var("BRISK_BENCH_FILTER").map_or(true, |f| name.contains(&f))
}

/// Plain file I/O on the same folder: `bytes` written as 64 MiB files and read
/// back, MB/s over both.
fn raw_disk(dir: &Path, bytes: u64) -> Result<f64> {
    let raw = dir.join("raw");
    std::fs::create_dir_all(&raw)?;
    let block: Vec<u8> = chunk(7)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>();
    let n = bytes / (CHUNK_MB * MB);
    let start = Instant::now();
    for i in 0..n {
        std::fs::write(raw.join(format!("{i}")), &block)?;
    }
    let mut read = 0u64;
    for i in 0..n {
        read += std::fs::read(raw.join(format!("{i}")))?.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&raw)?;
    Ok((n * CHUNK_MB * MB + read) as f64 / MB as f64 / secs)
}

/// The processes whose parent is `pid` (a nanny's worker).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

/// A process's peak resident memory (`VmHWM`), MB.
fn peak_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn persist(dir: &Path, raw: f64) -> Result<()> {
    let limit = 512 * MB;
    let cluster = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 2,
        threads_per_worker: 1,
        memory_limit: Some(limit),
        local_directory: Some(dir.to_path_buf()),
        ..Default::default()
    })?;
    let client = cluster.client()?;
    client.wait_for_workers(2, Duration::from_secs(60))?;
    let start = Instant::now();
    let chunks = (0..CHUNKS)
        .map(|i| client.submit(&chunk::delayed(i)?))
        .collect::<brisk::Result<Vec<_>>>()?;
    let sums = chunks
        .iter()
        .map(|c| client.submit(&chunk_sum::delayed(Delayed::of(c))?))
        .collect::<brisk::Result<Vec<_>>>()?;
    let total: f64 = client.gather(&sums)?.iter().sum();
    let maxes = chunks
        .iter()
        .map(|c| client.submit(&chunk_max::delayed(Delayed::of(c))?))
        .collect::<brisk::Result<Vec<_>>>()?;
    let max = client.gather(&maxes)?.into_iter().fold(f64::MIN, f64::max);
    let seconds = start.elapsed().as_secs_f64();
    if !(total > 0.0 && max < 1.0) {
        bail!("wrong answers: total {total}, max {max}");
    }
    // The counters ride on heartbeats: wait for those that show the reads.
    let mut info = client.scheduler_info()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        info = client.scheduler_info()?;
        if info.iter().map(|w| w.metrics.executed).sum::<u64>() >= 3 * CHUNKS {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let peak = cluster
        .worker_pids()
        .into_iter()
        .flat_map(children_of)
        .map(peak_mb)
        .fold(0.0, f64::max);
    let written: u64 = info.iter().map(|w| w.metrics.spill_written).sum();
    let read: u64 = info.iter().map(|w| w.metrics.spill_read).sum();
    let nanos: u64 = info.iter().map(|w| w.metrics.spill_nanos).sum();
    emit(
        "memory.persist",
        &[
            ("seconds", json!(round(seconds, 3))),
            ("peak_rss_mb", json!(round(peak, 1))),
            ("limit_mb", json!(limit / MB)),
            ("data_mb", json!(CHUNKS * CHUNK_MB)),
            ("spilled_mb", json!(round(written as f64 / MB as f64, 1))),
            ("read_back_mb", json!(round(read as f64 / MB as f64, 1))),
            (
                "spill_MB_per_s",
                json!(round(
                    (written + read) as f64 / MB as f64 / (nanos as f64 * 1e-9).max(1e-9),
                    1
                )),
            ),
            ("raw_disk_MB_per_s", json!(round(raw, 1))),
        ],
    );
    Ok(())
}

fn local(dir: &Path, raw: f64) -> Result<()> {
    let limit = 1024 * MB;
    let scheduler = LocalScheduler::with_threads(2)
        .memory_limit(limit)
        .spill_directory(dir);
    let chunks = (0..CHUNKS)
        .map(chunk::delayed)
        .collect::<brisk::Result<Vec<_>>>()?;
    let sums = chunks
        .iter()
        .map(chunk_sum::delayed)
        .collect::<brisk::Result<Vec<_>>>()?;
    let all = tree_sum(&sums)?;
    let maxes = chunks
        .iter()
        .map(|c| centred_max::delayed(c, &all))
        .collect::<brisk::Result<Vec<_>>>()?;
    let graph = Graph::merge(maxes.iter().map(|m| m.graph()));
    let keys: Vec<Key> = maxes.iter().map(|m| m.key().clone()).collect();
    brisk_benches::reset_peak_rss();
    let start = Instant::now();
    let out = scheduler.get(&graph, &keys)?;
    let seconds = start.elapsed().as_secs_f64();
    if out.len() != CHUNKS as usize {
        bail!("{} answers for {CHUNKS} chunks", out.len());
    }
    let t = scheduler.spill_totals();
    emit(
        "memory.local",
        &[
            ("seconds", json!(round(seconds, 3))),
            ("peak_rss_mb", json!(round(brisk_benches::peak_rss_mb(), 1))),
            ("limit_mb", json!(limit / MB)),
            ("data_mb", json!(CHUNKS * CHUNK_MB)),
            ("spilled_mb", json!(round(t.written as f64 / MB as f64, 1))),
            ("read_back_mb", json!(round(t.read as f64 / MB as f64, 1))),
            (
                "spill_MB_per_s",
                json!(round(
                    (t.written + t.read) as f64
                        / MB as f64
                        / (t.write_seconds + t.read_seconds).max(1e-9),
                    1
                )),
            ),
            ("raw_disk_MB_per_s", json!(round(raw, 1))),
        ],
    );
    Ok(())
}
