//! `brisk-bench worker-state`: the worker's state machine alone, fed the events of
//! a map of `n` tiny tasks whose results stay held (the client keeps their
//! futures), as a worker of a cluster sees them.
//!
//! - `worker_state.map_<n>`: each task is computed, runs and is reported; results
//!   stay in memory;
//! - `worker_state.map_fetch_<n>`: the same, each task reading one input that a
//!   peer holds (computed, fetched, run, reported; the fetched copy dropped).
//!
//! The time per event should not grow with the number of results held: a map of
//! 40,000 tasks should cost about 8× one of 5,000.

use anyhow::{ensure, Result};
use brisk::core::Key;
use brisk::scheduler::distributed::worker_state::{WorkerEvent, WorkerInstruction, WorkerState};
use brisk::scheduler::distributed::{Priority, TaskSpec, WorkerId};
use brisk_benches::{emit, median_seconds, round};
use serde_json::json;

fn spec() -> TaskSpec {
    TaskSpec {
        op: "inc".into(),
        params: vec![],
    }
}

/// Runs a map of `n` tasks through a fresh worker; returns the instructions seen.
fn map(n: u32, fetch: bool) -> usize {
    let mut w = WorkerState::new(2);
    let mut seen = 0;
    for i in 0..n {
        let key = Key::new("inc", &[i]);
        let inputs = if fetch {
            vec![(Key::new("data", &[i]), vec![WorkerId(2 + i % 7)])]
        } else {
            Vec::new()
        };
        let out = w.handle(WorkerEvent::Compute {
            run: 0,
            key: key.clone(),
            spec: spec(),
            inputs: inputs.clone(),
            priority: Priority::new(0, 1, i),
            send_value: false,
        });
        seen += out.len();
        for i in out {
            if let WorkerInstruction::Fetch { peer, keys } = i {
                let received = keys.into_iter().map(|k| (k, 8)).collect();
                seen += w
                    .handle(WorkerEvent::FetchDone {
                        peer,
                        received,
                        missing: vec![],
                    })
                    .len();
            }
        }
        seen += w
            .handle(WorkerEvent::ExecuteDone {
                key,
                nbytes: 8,
                duration: 0.0001,
            })
            .len();
    }
    seen
}

pub fn run(_args: &[String]) -> Result<()> {
    for fetch in [false, true] {
        let mut times = Vec::new();
        for n in [5_000u32, 40_000] {
            let (secs, seen) = median_seconds(3, || map(n, fetch));
            ensure!(
                seen > n as usize,
                "the map of {n} produced {seen} instructions"
            );
            let bench = if fetch {
                "worker_state.map_fetch"
            } else {
                "worker_state.map"
            };
            emit(
                &format!("{bench}_{n}"),
                &[
                    ("tasks", json!(n)),
                    ("seconds", json!(round(secs, 4))),
                    ("us_per_task", json!(round(secs * 1e6 / n as f64, 3))),
                ],
            );
            times.push(secs);
        }
        emit(
            if fetch {
                "worker_state.map_fetch_ratio"
            } else {
                "worker_state.map_ratio"
            },
            &[("ratio_40000_to_5000", json!(round(times[1] / times[0], 2)))],
        );
    }
    Ok(())
}
