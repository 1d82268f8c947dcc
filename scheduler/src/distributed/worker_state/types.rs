//! What a worker's state machine takes, gives and holds: events, instructions,
//! task states.

use crate::distributed::ids::{Priority, TaskSpec, WorkerId};
use brisk_core::Key;

/// What happens to a worker.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// The scheduler asks for a task to be run here.
    Compute {
        /// The task.
        key: Key,
        /// Its code.
        spec: TaskSpec,
        /// Its inputs in order, with the workers holding each.
        inputs: Vec<(Key, Vec<WorkerId>)>,
        /// Its priority.
        priority: Priority,
        /// Send the value back with the report when it is small.
        send_value: bool,
        /// The scheduler's number for this request, echoed by the run's report, so
        /// that a report of an earlier request for the same key is told apart.
        run: u64,
    },
    /// The scheduler no longer needs these keys here.
    Free {
        /// The keys.
        keys: Vec<Key>,
    },
    /// A value arrived from the scheduler (scatter) and is now stored.
    Stored {
        /// The key.
        key: Key,
        /// Its size.
        nbytes: u64,
    },
    /// The scheduler asks for a copy of `key` from one of `holders`.
    Replicate {
        /// The key.
        key: Key,
        /// Who has it.
        holders: Vec<WorkerId>,
    },
    /// A fetch from a peer ended: these keys arrived and are stored, those the peer
    /// did not have.
    FetchDone {
        /// The peer.
        peer: WorkerId,
        /// Keys now stored here, with their sizes.
        received: Vec<(Key, u64)>,
        /// Keys the peer did not have.
        missing: Vec<Key>,
    },
    /// A fetch from a peer failed (connection refused or lost).
    FetchFailed {
        /// The peer.
        peer: WorkerId,
        /// What was asked.
        keys: Vec<Key>,
    },
    /// A task ran and its result is stored.
    ExecuteDone {
        /// The task.
        key: Key,
        /// Its size.
        nbytes: u64,
        /// How long it ran, seconds.
        duration: f64,
    },
    /// A task failed.
    ExecuteFailed {
        /// The task.
        key: Key,
        /// Why.
        error: String,
    },
    /// An input of a task about to run is no longer here (its spill file could
    /// not be read back): the task goes back to the scheduler, which recomputes
    /// the input.
    InputLost {
        /// The task.
        key: Key,
        /// The input lost.
        input: Key,
        /// This worker (the holder the scheduler counted on).
        holder: WorkerId,
    },
    /// Memory is over the pause threshold: start and fetch nothing new.
    Pause,
    /// Memory fell under the pause threshold again.
    Resume,
}

/// What the worker asks its server to do.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerInstruction {
    /// Run a task on the thread pool with these stored inputs.
    Execute {
        /// The task.
        key: Key,
        /// Its code.
        spec: TaskSpec,
        /// Its inputs, in order (all stored).
        inputs: Vec<Key>,
    },
    /// Ask a peer for these keys.
    Fetch {
        /// The peer.
        peer: WorkerId,
        /// The keys.
        keys: Vec<Key>,
    },
    /// Drop a stored value.
    Release {
        /// The key.
        key: Key,
    },
    /// Tell the scheduler a task finished (attach the value when asked and small).
    TaskFinished {
        /// The task.
        key: Key,
        /// Its size.
        nbytes: u64,
        /// Run time, seconds.
        duration: f64,
        /// Attach the value.
        send_value: bool,
        /// The number of the compute request this answers.
        run: u64,
    },
    /// Tell the scheduler a task failed.
    TaskErred {
        /// The task.
        key: Key,
        /// Why.
        error: String,
        /// The number of the compute request this answers.
        run: u64,
    },
    /// Tell the scheduler an input could not be fetched from `holder`.
    MissingData {
        /// The task that needed it.
        key: Key,
        /// The input.
        missing: Key,
        /// The worker that should have had it.
        holder: WorkerId,
    },
    /// Tell the scheduler this worker now holds copies of these keys.
    AddKeys {
        /// The keys.
        keys: Vec<Key>,
    },
}

/// The state of one key on a worker.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerTaskStatus {
    /// Some inputs are not here yet.
    Waiting,
    /// All inputs are here; in the ready heap.
    Ready,
    /// Running on the thread pool.
    Executing,
    /// An input to fetch from a peer.
    Fetch,
    /// Being fetched from a peer.
    Flight {
        /// From whom.
        peer: WorkerId,
    },
    /// Stored here.
    Memory,
    /// Being fetched from `peer`, but the scheduler asked for it to be computed
    /// here: reported as finished when the fetch brings it, computed here when
    /// the fetch fails.
    Resumed {
        /// From whom.
        peer: WorkerId,
    },
    /// Freed by the scheduler while executing: the thread is still busy, and the
    /// result is dropped when it comes (unless the scheduler asks for it again
    /// first, which resumes it as executing).
    Cancelled,
}

impl WorkerTaskStatus {
    /// Dask's name of the state.
    pub fn name(&self) -> &'static str {
        match self {
            WorkerTaskStatus::Waiting => "waiting",
            WorkerTaskStatus::Ready => "ready",
            WorkerTaskStatus::Executing => "executing",
            WorkerTaskStatus::Fetch => "fetch",
            WorkerTaskStatus::Flight { .. } => "flight",
            WorkerTaskStatus::Memory => "memory",
            WorkerTaskStatus::Cancelled => "cancelled",
            WorkerTaskStatus::Resumed { .. } => "resumed",
        }
    }
}

/// Why a worker keeps a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// An input fetched to run tasks here: dropped once no task here reads it.
    WhileRead,
    /// The scheduler counts this worker as a holder (computed, scattered or
    /// replicated here): kept until it says `Free`.
    UntilFreed,
    /// Fetched because the scheduler asked for a copy: reported with `AddKeys`
    /// when it arrives, then kept until freed.
    Report,
}

impl WorkerEvent {
    /// The event's name in stories (`compute`, `fetch-done`...).
    pub fn name(&self) -> &'static str {
        match self {
            WorkerEvent::Compute { .. } => "compute",
            WorkerEvent::Free { .. } => "free",
            WorkerEvent::Stored { .. } => "stored",
            WorkerEvent::Replicate { .. } => "replicate",
            WorkerEvent::FetchDone { .. } => "fetch-done",
            WorkerEvent::FetchFailed { .. } => "fetch-failed",
            WorkerEvent::ExecuteDone { .. } => "execute-done",
            WorkerEvent::ExecuteFailed { .. } => "execute-failed",
            WorkerEvent::InputLost { .. } => "input-lost",
            WorkerEvent::Pause => "pause",
            WorkerEvent::Resume => "resume",
        }
    }
}

/// Where a transition takes a key (the state machine's own word for it; a key
/// that leaves the state is released).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Ready,
    Executing,
    Cancelled,
    Fetch,
    Flight(WorkerId),
    Resumed,
    Memory,
    Released,
}
