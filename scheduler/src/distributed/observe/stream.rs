//! The task stream (Dask's `TaskStreamPlugin`): what ran where and when, kept
//! as a bounded ring of records on the scheduler's clock.
//!
//! A task's record is made when its worker reports it finished: it ran from
//! `now - duration` to `now`. Measuring on the scheduler's clock keeps the
//! workers' clocks out of it (hosts need not agree on the time); the report's
//! trip over the network shifts both ends alike.

use crate::distributed::ids::WorkerId;
use brisk_core::Key;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// What a record shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A task ran.
    Compute,
    /// Values came from another worker.
    Transfer,
    /// Values were written to disk.
    Spill,
    /// Values were read back from disk.
    Unspill,
}

impl RecordKind {
    /// The name shown (`compute`, `transfer`, `spill`, `unspill`).
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Compute => "compute",
            RecordKind::Transfer => "transfer",
            RecordKind::Spill => "spill",
            RecordKind::Unspill => "unspill",
        }
    }
}

/// Something a worker did besides running tasks, reported with its heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Transfer, spill or unspill.
    pub kind: RecordKind,
    /// Seconds between its end and the report's sending.
    pub ago: f64,
    /// How long it took, seconds.
    pub duration: f64,
    /// Values moved.
    pub values: u64,
    /// Bytes moved.
    pub nbytes: u64,
}

/// One record of the stream, as held.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its number (rising by one per record).
    pub seq: u64,
    /// Where.
    pub worker: WorkerId,
    /// Which of the worker's threads (0 for transfers and spills).
    pub thread: u32,
    /// The task (for compute records).
    pub key: Option<Key>,
    /// When it started and stopped, scheduler seconds.
    pub start: f64,
    /// See `start`.
    pub stop: f64,
    /// What it was.
    pub kind: RecordKind,
    /// Bytes of result, or moved.
    pub nbytes: u64,
}

/// The most recent records, oldest first.
#[derive(Debug)]
pub struct TaskStream {
    records: VecDeque<Record>,
    capacity: usize,
    next_seq: u64,
}

/// Records a scheduler keeps (Dask keeps 100,000 too).
pub const STREAM_CAPACITY: usize = 100_000;

impl Default for TaskStream {
    fn default() -> Self {
        TaskStream::with_capacity(STREAM_CAPACITY)
    }
}

impl TaskStream {
    /// A stream keeping the last `capacity` records.
    pub fn with_capacity(capacity: usize) -> TaskStream {
        TaskStream {
            records: VecDeque::new(),
            capacity: capacity.max(1),
            next_seq: 1,
        }
    }

    /// Adds a record (its `seq` is set here) and drops the oldest past capacity.
    pub fn push(&mut self, mut r: Record) {
        r.seq = self.next_seq;
        self.next_seq += 1;
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(r);
    }

    /// The number of the newest record (0 when none yet).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Records newer than `since`, at most the `limit` newest of them.
    pub fn since(&self, since: u64, limit: usize) -> impl Iterator<Item = &Record> {
        // Records are numbered without gaps: the first newer one is found by
        // arithmetic, not by a scan.
        let first = self.records.front().map_or(0, |r| r.seq);
        let skip_old = since.saturating_add(1).saturating_sub(first) as usize;
        let newer = self.records.len().saturating_sub(skip_old);
        let skip = self.records.len() - newer.min(limit);
        self.records.iter().skip(skip)
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(stop: f64) -> Record {
        Record {
            seq: 0,
            worker: WorkerId(1),
            thread: 0,
            key: None,
            start: stop - 1.0,
            stop,
            kind: RecordKind::Compute,
            nbytes: 0,
        }
    }

    #[test]
    fn keeps_the_newest_records_and_finds_those_after_a_number() {
        let mut s = TaskStream::with_capacity(3);
        for i in 0..5 {
            s.push(record(i as f64));
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.last_seq(), 5);
        let seqs = |since, limit| s.since(since, limit).map(|r| r.seq).collect::<Vec<_>>();
        assert_eq!(seqs(0, 10), [3, 4, 5], "older ones are gone");
        assert_eq!(seqs(3, 10), [4, 5]);
        assert_eq!(seqs(5, 10), Vec::<u64>::new());
        assert_eq!(seqs(0, 2), [4, 5], "a limit keeps the newest");
    }
}
