//! The local scheduler under a memory limit: a z-score over 600 MB of chunks,
//! whose chunks all stay alive until the mean and the standard deviation are
//! known, completes under a 100 MB limit by spilling, with the right answer and
//! far less resident memory than the chunks take. (One test in this executable,
//! so its peak resident memory is this computation's.)

use brisk_collections::array;
use brisk_core::executor::Executor;
use brisk_scheduler::LocalScheduler;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const MB: u64 = 1 << 20;

/// This process's peak resident memory (`VmHWM`), bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn a_z_score_over_600_mb_completes_under_a_100_mb_limit() {
    let n: usize = 600 * MB as usize / 8;
    let x = array::arange::<f64>(0.0, n as f64, 1.0, n / 60).unwrap();
    let z = x
        .sub(&x.mean(&[0], false).unwrap())
        .unwrap()
        .div(&x.std(&[0], 0, false).unwrap())
        .unwrap();
    let sum = z.sum(&[0], false).unwrap();
    let squares = z.mul(&z).unwrap().sum(&[0], false).unwrap();

    let dir = std::env::temp_dir().join(format!("brisk-local-spill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saw_files = Arc::new(AtomicBool::new(false));
    let seen = saw_files.clone();
    let watched = dir.clone();
    let scheduler = LocalScheduler::with_threads(2)
        .memory_limit(100 * MB)
        .spill_directory(&dir)
        .on_progress(move |_| {
            if !seen.load(Ordering::Relaxed) {
                let any = std::fs::read_dir(&watched)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|run| std::fs::read_dir(run.path()).into_iter().flatten().count() > 0);
                seen.store(any, Ordering::Relaxed);
            }
        });
    let keys = [sum.keys()[0].clone(), squares.keys()[0].clone()];
    let graph = brisk_core::Graph::merge([sum.graph(), squares.graph()]);
    let out = scheduler.get(&graph, &keys).unwrap();
    let got: Vec<f64> = out
        .iter()
        .map(|v| {
            v.downcast_ref::<ndarray::ArrayD<f64>>()
                .expect("a 0-d array")
                .iter()
                .copied()
                .next()
                .unwrap()
        })
        .collect();
    // Hand-computed: the z-scores of 0..n sum to 0 and their squares to n.
    assert!(got[0].abs() < 1e-6 * n as f64, "sum of z {}", got[0]);
    assert!(
        (got[1] - n as f64).abs() < 1e-6 * n as f64,
        "sum of z² {} for n {n}",
        got[1]
    );
    assert!(saw_files.load(Ordering::Relaxed), "it spilled");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert!(left.is_empty(), "the run's spill folder is gone: {left:?}");
    let peak = peak_rss();
    println!(
        "peak resident memory {} MiB for 600 MiB of chunks",
        peak / MB
    );
    assert!(peak < 400 * MB, "peak resident memory {peak} bytes");
    std::fs::remove_dir_all(&dir).unwrap();
}
