//! What the scheduler knows of each worker for people (Dask's
//! `Client.scheduler_info()["workers"]`): who it is, and the counters it
//! reports with its heartbeats.

use std::sync::atomic::{AtomicU64, Ordering};

/// A worker's counters, sent with its heartbeats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkerMetrics {
    /// Values received from other workers.
    pub transfers_in: u64,
    /// Their bytes (as held in memory).
    pub bytes_in: u64,
    /// Values sent to other workers and clients from the peer port.
    pub transfers_out: u64,
    /// Their encoded bytes.
    pub bytes_out: u64,
    /// Tasks run to completion (finished or erred).
    pub executed: u64,
    /// Bytes of results held in memory (managed memory).
    pub managed: u64,
    /// The process's resident memory not taken by held results (unmanaged).
    pub unmanaged: u64,
    /// In-memory bytes of the results spilled to disk.
    pub spilled: u64,
    /// Bytes written to spill files so far.
    pub spill_written: u64,
    /// Bytes read back from spill files so far.
    pub spill_read: u64,
    /// Nanoseconds spent writing and reading spill files so far.
    pub spill_nanos: u64,
    /// CPU used since the previous heartbeat, percent of one core.
    #[serde(default)]
    pub cpu_percent: u64,
}

/// One worker as the scheduler reports it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkerInfo {
    /// Its id in this scheduler.
    pub id: super::WorkerId,
    /// The address its peers dial.
    pub address: String,
    /// Its name.
    pub name: String,
    /// Threads running tasks.
    pub nthreads: u32,
    /// Its memory limit, bytes (0: none).
    pub memory_limit: u64,
    /// Its last reported counters.
    pub metrics: WorkerMetrics,
    /// Paused by its memory manager: it gets no new tasks.
    pub paused: bool,
}

/// The counters a worker keeps as it runs, shared by its threads.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    transfers_in: AtomicU64,
    bytes_in: AtomicU64,
    transfers_out: AtomicU64,
    bytes_out: AtomicU64,
    executed: AtomicU64,
}

impl Counters {
    pub(crate) fn received(&self, values: u64, bytes: u64) {
        self.transfers_in.fetch_add(values, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, values: u64, bytes: u64) {
        self.transfers_out.fetch_add(values, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn executed(&self) {
        self.executed.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters, with memory as given (see [`WorkerMetrics`]).
    pub(crate) fn snapshot(&self, memory: MemoryReport) -> WorkerMetrics {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        WorkerMetrics {
            transfers_in: get(&self.transfers_in),
            bytes_in: get(&self.bytes_in),
            transfers_out: get(&self.transfers_out),
            bytes_out: get(&self.bytes_out),
            executed: get(&self.executed),
            managed: memory.managed,
            unmanaged: memory.process.saturating_sub(memory.managed),
            spilled: memory.spilled,
            spill_written: memory.spill_written,
            spill_read: memory.spill_read,
            spill_nanos: memory.spill_nanos,
            cpu_percent: 0,
        }
    }
}

/// A worker's memory at one moment, bytes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MemoryReport {
    pub(crate) process: u64,
    pub(crate) managed: u64,
    pub(crate) spilled: u64,
    pub(crate) spill_written: u64,
    pub(crate) spill_read: u64,
    pub(crate) spill_nanos: u64,
}
