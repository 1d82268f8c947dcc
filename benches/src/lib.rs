//! Shared helpers of the Brisk benchmark programs: JSON-lines output, timing, and the
//! process's peak memory.

use serde_json::{Map, Value};
use std::time::Instant;

/// Resets the kernel's record of this process's peak resident set (Linux), so the
/// next [`peak_rss_mb`] reading covers only what follows.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set of this process in MiB (`VmHWM`), or 0 where unknown.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `default` repetitions, or as many as `BRISK_BENCH_REPS` says.
pub fn reps(default: usize) -> usize {
    std::env::var("BRISK_BENCH_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// Runs `f` `reps` times and returns the median wall time in seconds
/// (`BRISK_BENCH_EACH` prints every time).
pub fn median_seconds<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        let out = f();
        times.push(t.elapsed().as_secs_f64());
        last = Some(out);
        if std::env::var_os("BRISK_BENCH_EACH").is_some() {
            eprintln!("rep {:.4} s", times[times.len() - 1]);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    (
        times[times.len() / 2],
        last.expect("at least one repetition"),
    )
}

/// Prints one JSON object per line: `bench` first, then the fields in order.
pub fn emit(bench: &str, fields: &[(&str, Value)]) {
    let mut m = Map::new();
    m.insert("bench".into(), Value::from(bench));
    for (k, v) in fields {
        m.insert((*k).into(), v.clone());
    }
    println!("{}", Value::Object(m));
}

/// Rounds for display.
pub fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// The allocator setting the array and dataframe groups run with: mimalloc keeps
/// freed memory instead of returning it to the kernel after 10 ms, so the 16–64 MB
/// blocks that every task allocates are reused rather than faulted in (and zeroed by
/// the kernel) again. Python Polars' jemalloc keeps freed memory the same way.
pub const ALLOCATOR_ENV: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "-1");

/// Re-executes this program with [`ALLOCATOR_ENV`] set (mimalloc reads it when the
/// process starts), unless it is set already or `BRISK_BENCH_DEFAULT_ALLOCATOR` asks
/// for the default. Returns only when no re-execution was needed.
pub fn with_allocator_setting() -> anyhow::Result<()> {
    if std::env::var_os(ALLOCATOR_ENV.0).is_some()
        || std::env::var_os("BRISK_BENCH_DEFAULT_ALLOCATOR").is_some()
    {
        return Ok(());
    }
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(ALLOCATOR_ENV.0, ALLOCATOR_ENV.1)
        .exec();
    anyhow::bail!("cannot re-execute the benchmark: {err}")
}

/// The allocator setting in force, for the JSON lines.
pub fn allocator_setting() -> String {
    std::env::var(ALLOCATOR_ENV.0).unwrap_or_else(|_| "default".into())
}
