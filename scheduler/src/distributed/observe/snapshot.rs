//! What the dashboard, `/metrics`, performance reports and clients read of the
//! cluster: plain serialisable structs, built on the scheduler's thread from
//! its state and turned into JSON elsewhere. Each is bounded in size whatever
//! the number of tasks: at most [`MAX_GROUPS`] groups and a caller-given
//! number of stream records.

use serde::{Deserialize, Serialize};

/// Task groups a snapshot carries at most (the largest by tasks).
pub const MAX_GROUPS: usize = 200;

/// The cluster at one moment (`/api/v1/status`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusSnapshot {
    /// The scheduler's clock, seconds since it started.
    pub time: f64,
    /// Tasks the scheduler knows now.
    pub tasks: u64,
    /// The number of the newest task-stream record.
    pub stream_seq: u64,
    /// Task-stream records newer than asked, oldest first.
    pub stream: Vec<StreamEntry>,
    /// Task groups, by prefix.
    pub groups: Vec<GroupSnapshot>,
    /// Workers, by id.
    pub workers: Vec<WorkerSnapshot>,
    /// Events the scheduler handled so far.
    pub events: u64,
    /// Seconds the scheduler spent handling them.
    pub event_seconds: f64,
}

/// One task-stream record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEntry {
    /// Its number.
    pub seq: u64,
    /// The worker's address.
    pub worker: String,
    /// The worker's thread.
    pub thread: u32,
    /// The task's key (empty for transfers and spills).
    pub key: String,
    /// The task's prefix (the kind, for transfers and spills).
    pub prefix: String,
    /// Start, scheduler seconds.
    pub start: f64,
    /// Stop, scheduler seconds.
    pub stop: f64,
    /// `compute`, `transfer`, `spill` or `unspill`.
    pub kind: String,
    /// Bytes made or moved.
    pub nbytes: u64,
}

/// The tasks of one prefix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    /// The prefix.
    pub prefix: String,
    /// Tasks ever added.
    pub total: u64,
    /// Tasks released now.
    pub released: u64,
    /// Waiting for inputs.
    pub waiting: u64,
    /// Held back until a worker has room.
    pub queued: u64,
    /// Ready with no worker.
    pub no_worker: u64,
    /// On a worker.
    pub processing: u64,
    /// Results held.
    pub memory: u64,
    /// Failed.
    pub erred: u64,
    /// Dropped so far.
    pub forgotten: u64,
    /// Reached memory so far.
    pub finished: u64,
    /// Seconds of compute so far.
    pub duration: f64,
    /// Bytes of results so far.
    pub nbytes: u64,
    /// Prefixes its tasks read.
    pub dependencies: Vec<String>,
}

/// One worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerSnapshot {
    /// Its id in this scheduler.
    pub id: u32,
    /// Where peers reach it.
    pub address: String,
    /// Its name.
    pub name: String,
    /// Threads.
    pub nthreads: u32,
    /// Memory limit, bytes (0: none).
    pub memory_limit: u64,
    /// Bytes of results held in memory.
    pub managed: u64,
    /// Process memory not taken by results.
    pub unmanaged: u64,
    /// Bytes of results on disk (as held in memory).
    pub spilled: u64,
    /// Tasks sent to it, not finished.
    pub processing: u64,
    /// Results it holds.
    pub held: u64,
    /// Their bytes, as the scheduler counts them.
    pub held_bytes: u64,
    /// CPU, percent of one core.
    pub cpu: f64,
    /// Paused by its memory manager.
    pub paused: bool,
    /// Bytes received from peers.
    pub bytes_in: u64,
    /// Bytes sent to peers and clients.
    pub bytes_out: u64,
    /// Values received.
    pub transfers_in: u64,
    /// Values sent.
    pub transfers_out: u64,
    /// Tasks run.
    pub executed: u64,
    /// Bytes written to spill files so far.
    pub spill_written: u64,
    /// Bytes read back so far.
    pub spill_read: u64,
    /// Seconds since its last heartbeat.
    pub last_seen: f64,
}

/// One line of a key's story, from the scheduler or a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryEntry {
    /// The key.
    pub key: String,
    /// `scheduler`, or the worker's address.
    pub source: String,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// The kind of event.
    pub stimulus: String,
    /// The event's id (`s12` from the scheduler, `w3` from a worker itself).
    pub stimulus_id: String,
}

/// A worker's recent log lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerLogs {
    /// Its id.
    pub id: u32,
    /// Its address.
    pub address: String,
    /// Oldest first.
    pub lines: Vec<String>,
}

/// Samples of a worker's memory over time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemorySeries {
    /// The worker's address.
    pub worker: String,
    /// `[time, managed, unmanaged, spilled]`, scheduler seconds and bytes.
    pub samples: Vec<[f64; 4]>,
}
