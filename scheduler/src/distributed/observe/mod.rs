//! Seeing what the cluster does: the task stream, task groups, workers'
//! memory, logs and stories, as plain data the dashboard, `/metrics`,
//! performance reports and clients read (Dask's diagnostics).
//!
//! [`Observations`] is what the scheduler records beside its state;
//! [`snapshot`](self::StatusSnapshot) types are what it hands out (bounded
//! whatever the graph's size); [`join_stories`] makes one story of a key from
//! the scheduler's and the workers'; [`init_logging`] sets up `tracing` with the
//! ring of recent lines workers report.

mod ask;
mod logs;
mod observations;
mod snapshot;
mod stories;
mod stream;

pub use ask::{Answer, Ask, AskFn};
pub use logs::{init_logging, keep_line, lines_since, LOG_ENV, RECENT_LINES};
pub use observations::{groups, Observations, MEMORY_SAMPLES, WORKER_LOG_LINES};
pub use snapshot::{
    GroupSnapshot, MemorySeries, StatusSnapshot, StoryEntry, StreamEntry, WorkerLogs,
    WorkerSnapshot, MAX_GROUPS,
};
pub use stories::{join_stories, parse_key};
pub use stream::{Activity, Record, RecordKind, TaskStream, STREAM_CAPACITY};
