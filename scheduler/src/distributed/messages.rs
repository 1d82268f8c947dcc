//! The typed messages of the distributed runtime and their batching into wire
//! messages.
//!
//! A wire message ([`crate::protocol`]) carries a batch: its msgpack header is a
//! list of `(Msg, frame count)`, and the frames follow in order, each message
//! taking the next `frame count` of them. A value travels as a [`WireValue`] (type
//! tag and small header in the msgpack) plus its bulk frames, which are written
//! from where they lie.

use super::ids::{NewTask, Priority, StimulusId, TaskSpec, WorkerId};
use crate::error::{Error, Result};
use crate::protocol::{from_msgpack, MAX_NESTING};
use brisk_core::value::{Encoded, Value};
use brisk_core::Key;
use serde::{Deserialize, Serialize};

/// A value's type tag and small header; its frames travel beside the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireValue {
    /// The decoder's type tag.
    pub type_tag: String,
    /// The value's own small header.
    #[serde(with = "serde_bytes")]
    pub header: Vec<u8>,
    /// How many of the message's frames are this value's.
    pub nframes: u32,
}

/// Every message of the runtime. Values ride in the frames: a message with
/// values has its [`WireValue`]s in order, each taking its `nframes` frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    // --- worker → scheduler
    /// A worker introduces itself.
    RegisterWorker {
        /// Where peers fetch from.
        address: String,
        /// Threads.
        nthreads: u32,
        /// Memory limit, bytes (0: none).
        memory_limit: u64,
        /// A name for people.
        name: String,
    },
    /// A task finished; `value` is attached when asked and small.
    TaskFinished {
        /// Which.
        key: Key,
        /// Size.
        nbytes: u64,
        /// Run time, seconds.
        duration: f64,
        /// The value itself, sometimes.
        value: Option<WireValue>,
        /// The worker's thread that ran it just now (for the task stream);
        /// `None` when it was not run for this report (held already, fetched).
        #[serde(default)]
        thread: Option<u32>,
        /// The number of the compute request this answers (`Compute::run`);
        /// `None` from peers that send none.
        #[serde(default)]
        run: Option<u64>,
    },
    /// A task failed.
    TaskErred {
        /// Which.
        key: Key,
        /// Why.
        error: String,
        /// As for `TaskFinished`.
        #[serde(default)]
        run: Option<u64>,
    },
    /// An input could not be fetched.
    MissingData {
        /// The reader.
        key: Key,
        /// The input.
        missing: Key,
        /// The worker said to hold it.
        holder: WorkerId,
    },
    /// The worker now holds copies of these keys.
    AddKeys {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Sign of life.
    Heartbeat,
    /// The worker's counters, sent with its heartbeats.
    WorkerMetrics {
        /// The counters.
        metrics: super::WorkerMetrics,
    },
    /// Transfers and spills since the last report, and new log lines (sent
    /// with heartbeats, when there is something to say).
    WorkerReport {
        /// Transfers and spills.
        activity: Vec<super::observe::Activity>,
        /// Log lines, oldest first.
        logs: Vec<String>,
    },
    /// The answer to a [`Msg::WorkerQuery`], as JSON.
    WorkerQueryReply {
        /// The query's id.
        id: u64,
        /// The answer.
        json: String,
    },
    /// The worker paused (memory over its pause threshold) or runs again.
    WorkerPaused {
        /// Paused, or running again.
        paused: bool,
    },

    // --- scheduler → worker
    /// The worker's id and its peers' addresses.
    WorkerWelcome {
        /// Its id.
        worker: WorkerId,
    },
    /// Addresses of workers (sent when workers join).
    Peers {
        /// Ids and addresses.
        peers: Vec<(WorkerId, String)>,
    },
    /// Run a task.
    Compute {
        /// Which.
        key: Key,
        /// Its code.
        spec: TaskSpec,
        /// Inputs with holders.
        inputs: Vec<(Key, Vec<WorkerId>)>,
        /// Priority.
        priority: Priority,
        /// Attach the value to the report when small.
        send_value: bool,
        /// The scheduler's event that sent it.
        stimulus_id: StimulusId,
        /// This request's number, echoed by the report of the run.
        #[serde(default)]
        run: u64,
    },
    /// Drop these keys.
    Free {
        /// The keys.
        keys: Vec<Key>,
        /// The scheduler's event that freed them.
        stimulus_id: StimulusId,
    },
    /// Hold this value (scatter).
    Store {
        /// Its key.
        key: Key,
        /// The value.
        value: WireValue,
        /// The scheduler's event that stored it.
        stimulus_id: StimulusId,
    },
    /// A question for the worker, answered with [`Msg::WorkerQueryReply`].
    WorkerQuery {
        /// Matches the reply.
        id: u64,
        /// The question.
        query: WorkerQuery,
    },
    /// Fetch a copy of a key.
    Replicate {
        /// The key.
        key: Key,
        /// Who has it.
        holders: Vec<WorkerId>,
        /// The scheduler's event that asked for the copy.
        stimulus_id: StimulusId,
    },

    // --- client → scheduler
    /// A client introduces itself.
    RegisterClient,
    /// Tasks to run and keys the client holds futures for.
    UpdateGraph {
        /// The tasks.
        tasks: Vec<NewTask>,
        /// The futures' keys.
        wanted: Vec<Key>,
        /// User priority.
        user_priority: i32,
    },
    /// The client dropped its futures for these keys.
    ReleaseKeys {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Cancel these keys.
    Cancel {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Data to be held by workers.
    Scatter {
        /// Keys and values.
        items: Vec<(Key, WireValue)>,
        /// To every worker.
        broadcast: bool,
    },
    /// Make `n` copies of each key.
    ReplicateKeys {
        /// The keys.
        keys: Vec<Key>,
        /// Copies.
        n: u32,
    },
    /// Move held results from workers holding more than the mean to those
    /// holding less. Answered with [`Msg::Done`] once moved.
    Rebalance {
        /// Matches the reply.
        id: u64,
    },
    /// Retire these workers (addresses or names): their results move to other
    /// workers, then they exit. Answered with [`Msg::Done`] once they are gone.
    RetireWorkers {
        /// Matches the reply.
        id: u64,
        /// Addresses or names.
        workers: Vec<String>,
    },
    /// A request finished (or could not be done).
    Done {
        /// The request's id.
        id: u64,
        /// Why not, if not.
        error: Option<String>,
    },
    /// The scheduler retires this worker: it exits (and its nanny with it).
    Retire,
    /// The scheduler restarts this worker: it exits for its nanny to start it
    /// again.
    RestartWorker,
    /// Restart every worker through its nanny, cancelling every task (Dask's
    /// `Client.restart`). Answered with [`Msg::Done`] once new workers joined.
    Restart {
        /// Matches the reply.
        id: u64,
    },
    /// The workers and their counters. Answered with [`Msg::WorkersReply`].
    Workers {
        /// Matches the reply.
        id: u64,
    },
    /// Who holds these keys? Answered with [`Msg::WhoHasReply`].
    WhoHas {
        /// Matches the reply.
        id: u64,
        /// The keys.
        keys: Vec<Key>,
    },

    /// A question about the cluster, answered with [`Msg::DiagnosticsReply`].
    Diagnostics {
        /// Matches the reply.
        id: u64,
        /// The question.
        query: DiagnosticsQuery,
    },

    // --- scheduler → client
    /// The answer to [`Msg::Diagnostics`], as JSON (or why not).
    DiagnosticsReply {
        /// The request's id.
        id: u64,
        /// The answer.
        json: String,
        /// Why there is no answer, if not.
        error: Option<String>,
    },
    /// The client's id.
    ClientWelcome {
        /// Its id.
        client: u32,
    },
    /// A wanted key is in memory (with its value when small).
    KeyInMemory {
        /// Which.
        key: Key,
        /// Size.
        nbytes: u64,
        /// The value, sometimes.
        value: Option<WireValue>,
    },
    /// A wanted key failed.
    KeyErred {
        /// Which.
        key: Key,
        /// Why.
        error: String,
    },
    /// A key was cancelled.
    KeyCancelled {
        /// Which.
        key: Key,
    },
    /// Holders of keys, with their addresses.
    WhoHasReply {
        /// The request's id.
        id: u64,
        /// Each key with `(worker, address)` of its holders.
        who_has: Vec<(Key, Vec<(WorkerId, String)>)>,
        /// Workers connected.
        nworkers: u32,
    },

    /// The workers connected.
    WorkersReply {
        /// The request's id.
        id: u64,
        /// Each worker.
        workers: Vec<super::WorkerInfo>,
    },

    // --- anyone → worker, and back
    /// Send these values.
    GetData {
        /// Matches the reply.
        id: u64,
        /// The keys.
        keys: Vec<Key>,
    },
    /// The values asked for (those held), in order, and the keys not held.
    Data {
        /// The request's id.
        id: u64,
        /// Keys and values.
        values: Vec<(Key, WireValue)>,
        /// Keys not held.
        missing: Vec<Key>,
        /// Keys held but left for another request: the reply would have
        /// exceeded what the asker accepts (its announced limits).
        #[serde(default)]
        deferred: Vec<Key>,
    },
    /// The peer is going away (or refuses something).
    Goodbye {
        /// Why.
        reason: String,
    },
}

/// What the scheduler asks a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkerQuery {
    /// The stories of these keys on the worker.
    Story {
        /// The keys.
        keys: Vec<Key>,
    },
    /// The worker's state, for a bug report.
    State,
}

/// What a client asks of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DiagnosticsQuery {
    /// The stories of these keys, the scheduler's and every worker's joined.
    Story {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Each worker's recent log lines.
    WorkerLogs,
    /// The scheduler's own recent log lines.
    SchedulerLogs,
    /// The whole cluster's state (scheduler and workers), for a bug report.
    ClusterState,
    /// The cluster now, with the task-stream records after `since`.
    Status {
        /// The last record already seen.
        since: u64,
    },
    /// Task-stream records after `since` and memory samples after `time`, for a
    /// performance report.
    Report {
        /// The last record already seen.
        since: u64,
        /// Scheduler seconds.
        time: f64,
    },
}

/// One frame to send: bytes of its own, or a value that lends its bytes
/// ([`Data::as_bytes`](brisk_core::value::Data::as_bytes)), sent without a copy.
#[derive(Clone)]
pub enum Frame {
    /// An encoded piece.
    Owned(Vec<u8>),
    /// A value whose bytes are its frame.
    Lent(Value),
}

impl Frame {
    /// The bytes to write.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Frame::Owned(b) => b,
            Frame::Lent(v) => v.as_bytes().unwrap_or_default(),
        }
    }
}

impl From<Vec<u8>> for Frame {
    fn from(b: Vec<u8>) -> Frame {
        Frame::Owned(b)
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({} bytes)", self.as_slice().len())
    }
}

impl Msg {
    /// Roughly how many bytes this message takes in a batch's msgpack header
    /// (a key is counted as 64 bytes): enough to bound queues and to split
    /// batches well within a peer's limits.
    pub fn approx_header_bytes(&self) -> usize {
        const KEY: usize = 64;
        let value = |v: &WireValue| 8 + v.type_tag.len() + v.header.len();
        let keys = |ks: &[Key]| KEY * ks.len();
        16 + match self {
            Msg::TaskFinished { value: v, .. } | Msg::KeyInMemory { value: v, .. } => {
                KEY + v.as_ref().map_or(0, value)
            }
            Msg::TaskErred { error, .. } | Msg::KeyErred { error, .. } => KEY + error.len(),
            Msg::Compute { spec, inputs, .. } => {
                KEY + spec.op.len()
                    + spec.params.len()
                    + inputs
                        .iter()
                        .map(|(_, ws)| KEY + 4 * ws.len())
                        .sum::<usize>()
            }
            Msg::Free { keys: ks, .. }
            | Msg::AddKeys { keys: ks }
            | Msg::ReleaseKeys { keys: ks }
            | Msg::Cancel { keys: ks }
            | Msg::ReplicateKeys { keys: ks, .. }
            | Msg::WhoHas { keys: ks, .. }
            | Msg::GetData { keys: ks, .. } => keys(ks),
            Msg::Store { value: v, .. } => KEY + value(v),
            Msg::Replicate { holders, .. } => KEY + 4 * holders.len(),
            Msg::UpdateGraph { tasks, wanted, .. } => {
                keys(wanted)
                    + tasks
                        .iter()
                        .map(|t| {
                            keys(&t.dependencies) + KEY + t.spec.op.len() + t.spec.params.len()
                        })
                        .sum::<usize>()
            }
            Msg::Scatter { items, .. } => items.iter().map(|(_, v)| KEY + value(v)).sum(),
            Msg::Data {
                values,
                missing,
                deferred,
                ..
            } => {
                values.iter().map(|(_, v)| KEY + value(v)).sum::<usize>()
                    + keys(missing)
                    + keys(deferred)
            }
            Msg::WhoHasReply { who_has, .. } => who_has
                .iter()
                .map(|(_, ws)| KEY + ws.iter().map(|(_, a)| 8 + a.len()).sum::<usize>())
                .sum(),
            Msg::Peers { peers } => peers.iter().map(|(_, a)| 8 + a.len()).sum(),
            Msg::WorkersReply { workers, .. } => workers
                .iter()
                .map(|w| 96 + w.address.len() + w.name.len())
                .sum(),
            Msg::Goodbye { reason } => reason.len(),
            Msg::WorkerQueryReply { json, .. } | Msg::DiagnosticsReply { json, .. } => json.len(),
            Msg::WorkerReport { activity, logs } => {
                48 * activity.len() + logs.iter().map(|l| 8 + l.len()).sum::<usize>()
            }
            Msg::Diagnostics {
                query: DiagnosticsQuery::Story { keys: ks },
                ..
            }
            | Msg::WorkerQuery {
                query: WorkerQuery::Story { keys: ks },
                ..
            } => keys(ks),
            Msg::RegisterWorker { address, name, .. } => address.len() + name.len(),
            _ => 0,
        }
    }
}

/// A message with the frames of its values.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The messages.
    pub msgs: Vec<(Msg, u32)>,
    /// Their frames, in order.
    pub frames: Vec<Frame>,
}

impl Outgoing {
    /// Adds a message without values.
    pub fn push(&mut self, msg: Msg) {
        self.msgs.push((msg, 0));
    }

    /// Adds a message whose values have `frames` (in order).
    pub fn push_with<F: Into<Frame>>(&mut self, msg: Msg, frames: Vec<F>) {
        self.msgs.push((msg, frames.len() as u32));
        self.frames.extend(frames.into_iter().map(Into::into));
    }

    /// Appends another batch.
    pub fn extend(&mut self, other: Outgoing) {
        self.msgs.extend(other.msgs);
        self.frames.extend(other.frames);
    }

    /// Roughly how many bytes this batch is: its frames, and an estimate of
    /// each message's part of the header (to bound queues and split batches).
    pub fn approx_bytes(&self) -> usize {
        let frames: usize = self.frames.iter().map(|f| f.as_slice().len()).sum();
        frames
            + self
                .msgs
                .iter()
                .map(|(m, _)| m.approx_header_bytes())
                .sum::<usize>()
    }

    /// The msgpack header.
    pub fn header(&self) -> Result<Vec<u8>> {
        rmp_serde::to_vec(&self.msgs).map_err(|e| Error::Header(e.to_string()))
    }
}

/// Splits an encoded value into its wire header and frames.
pub fn wire_value(e: Encoded) -> (WireValue, Vec<Vec<u8>>) {
    (
        WireValue {
            type_tag: e.type_tag,
            header: e.header,
            nframes: e.frames.len() as u32,
        },
        e.frames,
    )
}

/// A value's wire header and frames; a byte buffer is lent, not copied.
pub fn value_frames(value: &Value) -> brisk_core::Result<(WireValue, Vec<Frame>)> {
    if value.as_bytes().is_some() {
        let v = WireValue {
            type_tag: value.type_tag().into(),
            header: Vec::new(),
            nframes: 1,
        };
        return Ok((v, vec![Frame::Lent(value.clone())]));
    }
    let (v, frames) = wire_value(value.encode()?);
    Ok((v, frames.into_iter().map(Frame::Owned).collect()))
}

/// Rebuilds an encoded value from its wire header and frames.
pub fn encoded(v: WireValue, frames: Vec<Vec<u8>>) -> Encoded {
    Encoded {
        type_tag: v.type_tag,
        header: v.header,
        frames,
    }
}

/// A received message and its frames.
#[derive(Debug)]
pub struct Incoming {
    /// The message.
    pub msg: Msg,
    /// The frames of its values, in order.
    pub frames: Vec<Vec<u8>>,
}

impl Incoming {
    /// Takes the frames of the next value (of `n` frames); a message that
    /// announces more frames than it carries is malformed.
    pub fn take_frames(frames: &mut std::vec::IntoIter<Vec<u8>>, n: u32) -> Result<Vec<Vec<u8>>> {
        let out: Vec<Vec<u8>> = frames.take(n as usize).collect();
        if out.len() != n as usize {
            return Err(Error::Malformed {
                reason: "a value announces more frames than its message carries".into(),
            });
        }
        Ok(out)
    }
}

/// Splits a decoded wire message into its messages, each with its frames. A
/// header nested deeper than [`MAX_NESTING`] is refused before it is decoded.
pub fn split_batch(header: &[u8], frames: Vec<Vec<u8>>) -> Result<Vec<Incoming>> {
    let msgs: Vec<(Msg, u32)> = from_msgpack(header, MAX_NESTING).map_err(|e| match e {
        Error::Malformed { reason } => Error::Malformed {
            reason: format!("message header: {reason}"),
        },
        other => other,
    })?;
    let total: u64 = msgs.iter().map(|(_, n)| *n as u64).sum();
    if total != frames.len() as u64 {
        return Err(Error::Malformed {
            reason: format!(
                "the messages announce {total} frames but {} arrived",
                frames.len()
            ),
        });
    }
    let mut it = frames.into_iter();
    let mut out = Vec::with_capacity(msgs.len());
    for (msg, n) in msgs {
        let frames = Incoming::take_frames(&mut it, n)?;
        out.push(Incoming { msg, frames });
    }
    Ok(out)
}
