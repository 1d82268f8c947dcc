//! `brisk-bench distributed`, `dist.map_<n>`: a map of `n` tiny tasks whose
//! results stay on the workers (the client holds every future) and are gathered
//! at the end, on the LocalCluster of the group: wall time and the CPU time the
//! worker processes spent (from `/proc`). The workers' cost per task should not
//! grow with the results they hold: 40,000 tasks about 8× the CPU of 5,000.

use anyhow::{ensure, Result};
use brisk::{Delayed, LocalCluster};
use brisk_benches::{emit, round};
use serde_json::json;
use std::time::Instant;

#[brisk::task]
fn tick(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// User + system CPU seconds of the processes `pids`.
fn cpu_seconds(pids: &[u32]) -> Result<f64> {
    // /proc reports times in USER_HZ, 100 a second on Linux.
    let ticks = 100.0;
    let mut total = 0.0;
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces) in parentheses.
        let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        ensure!(fields.len() > 13, "short /proc/{pid}/stat");
        let utime: f64 = fields[11].parse()?;
        let stime: f64 = fields[12].parse()?;
        total += (utime + stime) / ticks;
    }
    Ok(total)
}

pub fn run(cluster: &LocalCluster, client: &brisk::Client) -> Result<()> {
    let pids = cluster.worker_pids();
    let mut cpu = Vec::new();
    for (round_no, n) in [5_000u64, 40_000].into_iter().enumerate() {
        let offset = (round_no as u64 + 1) << 32;
        let xs: Vec<Delayed<u64>> = (0..n)
            .map(|i| tick::delayed(offset + i))
            .collect::<brisk::Result<_>>()?;
        let before = cpu_seconds(&pids)?;
        let t = Instant::now();
        let futures = client.map(&xs)?;
        let out = client.gather(&futures)?;
        let wall = t.elapsed().as_secs_f64();
        let spent = cpu_seconds(&pids)? - before;
        ensure!(
            out.len() == n as usize && out[1] == (offset + 1).wrapping_mul(3),
            "wrong map result"
        );
        drop(futures);
        emit(
            &format!("dist.map_{n}"),
            &[
                ("tasks", json!(n)),
                ("seconds", json!(round(wall, 3))),
                ("worker_cpu_seconds", json!(round(spent, 3))),
            ],
        );
        cpu.push(spent);
    }
    emit(
        "dist.map_ratio",
        &[(
            "worker_cpu_40000_to_5000",
            json!(round(cpu[1] / cpu[0].max(1e-9), 2)),
        )],
    );
    Ok(())
}
