//! What the scheduler records for people as it runs, beside its state: the
//! task stream, each worker's memory over time and recent log lines, and the
//! time it spends handling events. All bounded.

use super::snapshot::{
    GroupSnapshot, MemorySeries, StatusSnapshot, StreamEntry, WorkerLogs, WorkerSnapshot,
    MAX_GROUPS,
};
use super::stream::{Activity, Record, RecordKind, TaskStream};
use crate::distributed::ids::WorkerId;
use crate::distributed::scheduler_state::SchedulerState;
use crate::distributed::worker_info::{WorkerInfo, WorkerMetrics};
use brisk_core::Key;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Memory samples kept per worker (one a heartbeat: minutes of history).
pub const MEMORY_SAMPLES: usize = 2000;

/// Log lines kept per worker.
pub const WORKER_LOG_LINES: usize = 1000;

/// The scheduler's records.
#[derive(Debug, Default)]
pub struct Observations {
    /// The task stream.
    pub stream: TaskStream,
    memory: FxHashMap<WorkerId, VecDeque<[f64; 4]>>,
    logs: FxHashMap<WorkerId, VecDeque<String>>,
    cpu: FxHashMap<WorkerId, f64>,
    /// Addresses of every worker seen (records outlive their workers).
    addresses: FxHashMap<WorkerId, String>,
    /// Events handled.
    pub events: u64,
    /// Seconds spent handling them.
    pub event_seconds: f64,
}

impl Observations {
    /// A worker joined.
    pub fn worker_joined(&mut self, worker: WorkerId, address: &str) {
        self.addresses.insert(worker, address.to_string());
    }

    /// A worker left: its memory history and logs go with it.
    pub fn worker_left(&mut self, worker: WorkerId) {
        self.memory.remove(&worker);
        self.logs.remove(&worker);
        self.cpu.remove(&worker);
    }

    /// A worker finished `key` on `thread`, `duration` seconds before `now`.
    pub fn task_finished(
        &mut self,
        worker: WorkerId,
        thread: u32,
        key: &Key,
        nbytes: u64,
        duration: f64,
        now: f64,
    ) {
        let duration = if duration.is_finite() {
            duration.max(0.0)
        } else {
            0.0
        };
        self.stream.push(Record {
            seq: 0,
            worker,
            thread,
            key: Some(key.clone()),
            start: now - duration,
            stop: now,
            kind: RecordKind::Compute,
            nbytes,
        });
    }

    /// A worker's report of transfers and spills, and its new log lines.
    pub fn worker_report(
        &mut self,
        worker: WorkerId,
        activity: Vec<Activity>,
        logs: Vec<String>,
        now: f64,
    ) {
        for a in activity {
            let ago = if a.ago.is_finite() {
                a.ago.clamp(0.0, 3600.0)
            } else {
                0.0
            };
            let duration = if a.duration.is_finite() {
                a.duration.clamp(0.0, 3600.0)
            } else {
                0.0
            };
            let stop = now - ago;
            self.stream.push(Record {
                seq: 0,
                worker,
                thread: 0,
                key: None,
                start: stop - duration,
                stop,
                kind: a.kind,
                nbytes: a.nbytes,
            });
        }
        if !logs.is_empty() {
            let kept = self.logs.entry(worker).or_default();
            for line in logs {
                if kept.len() == WORKER_LOG_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        }
    }

    /// A worker's heartbeat counters.
    pub fn worker_metrics(&mut self, worker: WorkerId, m: &WorkerMetrics, now: f64) {
        let samples = self.memory.entry(worker).or_default();
        if samples.len() == MEMORY_SAMPLES {
            samples.pop_front();
        }
        samples.push_back([now, m.managed as f64, m.unmanaged as f64, m.spilled as f64]);
        self.cpu.insert(worker, m.cpu_percent as f64);
    }

    fn address(&self, worker: WorkerId) -> String {
        self.addresses
            .get(&worker)
            .cloned()
            .unwrap_or_else(|| worker.to_string())
    }

    /// Task-stream records newer than `since` (at most the `limit` newest).
    pub fn stream_since(&self, since: u64, limit: usize) -> Vec<StreamEntry> {
        self.stream
            .since(since, limit)
            .map(|r| {
                let (key, prefix) = match &r.key {
                    Some(k) => (k.to_string(), k.prefix().to_string()),
                    None => (String::new(), r.kind.name().to_string()),
                };
                StreamEntry {
                    seq: r.seq,
                    worker: self.address(r.worker),
                    thread: r.thread,
                    key,
                    prefix,
                    start: r.start,
                    stop: r.stop,
                    kind: r.kind.name().to_string(),
                    nbytes: r.nbytes,
                }
            })
            .collect()
    }

    /// The cluster now: the records after `since` (at most `limit`), the task
    /// groups and the workers.
    pub fn status<'a>(
        &self,
        state: &SchedulerState,
        workers: impl IntoIterator<Item = &'a WorkerInfo>,
        since: u64,
        limit: usize,
        now: f64,
    ) -> StatusSnapshot {
        StatusSnapshot {
            time: now,
            tasks: state.task_count() as u64,
            stream_seq: self.stream.last_seq(),
            stream: self.stream_since(since, limit),
            groups: groups(state),
            workers: self.workers(state, workers, now),
            events: self.events,
            event_seconds: self.event_seconds,
        }
    }

    /// The workers as the scheduler sees them now.
    pub fn workers<'a>(
        &self,
        state: &SchedulerState,
        workers: impl IntoIterator<Item = &'a WorkerInfo>,
        now: f64,
    ) -> Vec<WorkerSnapshot> {
        workers
            .into_iter()
            .map(|info| self.worker(state, info, now))
            .collect()
    }

    fn worker(&self, state: &SchedulerState, info: &WorkerInfo, now: f64) -> WorkerSnapshot {
        let held = state.worker(info.id);
        let m = &info.metrics;
        WorkerSnapshot {
            id: info.id.0,
            address: info.address.clone(),
            name: info.name.clone(),
            nthreads: info.nthreads,
            memory_limit: info.memory_limit,
            managed: m.managed,
            unmanaged: m.unmanaged,
            spilled: m.spilled,
            processing: held.map_or(0, |w| w.processing.len() as u64),
            held: held.map_or(0, |w| w.has_what.len() as u64),
            held_bytes: held.map_or(0, |w| w.nbytes),
            cpu: self.cpu.get(&info.id).copied().unwrap_or(0.0),
            paused: info.paused,
            bytes_in: m.bytes_in,
            bytes_out: m.bytes_out,
            transfers_in: m.transfers_in,
            transfers_out: m.transfers_out,
            executed: m.executed,
            spill_written: m.spill_written,
            spill_read: m.spill_read,
            last_seen: held.map_or(0.0, |w| (now - w.last_seen).max(0.0)),
        }
    }

    /// Each worker's recent log lines.
    pub fn logs<'a>(&self, workers: impl IntoIterator<Item = &'a WorkerInfo>) -> Vec<WorkerLogs> {
        workers
            .into_iter()
            .map(|info| WorkerLogs {
                id: info.id.0,
                address: info.address.clone(),
                lines: self
                    .logs
                    .get(&info.id)
                    .map(|l| l.iter().cloned().collect())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Each worker's memory samples since `since` (scheduler seconds).
    pub fn memory_since(&self, since: f64) -> Vec<MemorySeries> {
        let mut out: Vec<MemorySeries> = self
            .memory
            .iter()
            .map(|(w, samples)| MemorySeries {
                worker: self.address(*w),
                samples: samples.iter().filter(|s| s[0] >= since).copied().collect(),
            })
            .collect();
        out.sort_by(|a, b| a.worker.cmp(&b.worker));
        out
    }
}

/// The task groups, the largest [`MAX_GROUPS`] by tasks, ordered by prefix.
pub fn groups(state: &SchedulerState) -> Vec<GroupSnapshot> {
    let mut all: Vec<(&str, &crate::distributed::scheduler_state::TaskGroup)> =
        state.groups().iter().collect();
    if all.len() > MAX_GROUPS {
        all.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(b.0)));
        all.truncate(MAX_GROUPS);
    }
    all.sort_by(|a, b| a.0.cmp(b.0));
    all.into_iter()
        .map(|(prefix, g)| GroupSnapshot {
            prefix: prefix.to_string(),
            total: g.total,
            released: g.states[0],
            waiting: g.states[1],
            queued: g.states[2],
            no_worker: g.states[3],
            processing: g.states[4],
            memory: g.states[5],
            erred: g.states[6],
            forgotten: g.forgotten,
            finished: g.finished,
            duration: g.duration,
            nbytes: g.nbytes,
            dependencies: g.dependencies.iter().map(|d| d.to_string()).collect(),
        })
        .collect()
}
