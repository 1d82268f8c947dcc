//! The scheduler's state machine: which task is where, who holds what, what runs
//! next. Pure: [`SchedulerState::handle`] takes an [`Event`] and the time and
//! returns [`Instruction`]s; it does no I/O and reads no clock. The server turns the
//! instructions into messages and the messages it receives into events.
//!
//! Task states (Dask's vocabulary): `released` (known, not computed, not wanted
//! now), `waiting` (needed; some inputs not in memory yet), `queued` (a root task
//! held back until a worker has a free slot, so readers do not flood memory),
//! `no-worker` (ready, but no worker is connected), `processing` (sent to a worker),
//! `memory` (held by one or more workers), `erred`, and `forgotten` (dropped from the
//! state: no client wants it and nothing alive depends on it).
//!
//! Every change of state goes through [`transitions`](self) — one function per
//! `(from, to)` pair — which may recommend further transitions; those run until
//! none remain. Each task keeps a bounded story of its transitions and the event
//! that caused each, shown when something goes wrong. [`SchedulerState::validate`]
//! checks every secondary index against the tasks' states; tests run it after every
//! event.
//!
//! ```
//! use brisk_scheduler::distributed::scheduler_state::*;
//! use brisk_scheduler::distributed::{ClientId, TaskSpec, WorkerId};
//! use brisk_core::Key;
//!
//! let mut s = SchedulerState::new(SchedulerConfig::default());
//! s.handle(Event::AddWorker { worker: WorkerId(1), address: "w1".into(), nthreads: 1 }, 0.0);
//! s.handle(Event::AddClient { client: ClientId(1) }, 0.0);
//! let x = Key::new("x", &[]);
//! let out = s.handle(Event::UpdateGraph {
//!     client: ClientId(1),
//!     tasks: vec![NewTask { key: x.clone(), spec: TaskSpec { op: "f".into(), params: vec![] },
//!                           dependencies: vec![], order: 0 }],
//!     wanted: vec![x.clone()],
//!     user_priority: 0,
//! }, 0.0);
//! assert!(matches!(&out[..], [Instruction::Compute { worker: WorkerId(1), .. }]));
//! let out = s.handle(Event::TaskFinished { worker: WorkerId(1), key: x.clone(), nbytes: 8, duration: 0.001, run: None }, 0.1);
//! assert_eq!(out, vec![Instruction::Report { client: ClientId(1), report: Report::InMemory { key: x, nbytes: 8 } }]);
//! s.validate().unwrap();
//! ```

mod cycles;
mod events;
mod groups;
mod moves;
mod placement;
mod transitions;
mod validate;

use super::ids::{ClientId, Priority, StimulusId, TaskSpec, WorkerId};
pub use super::ids::{NewTask, StoryLine};
use brisk_core::Key;
pub use groups::{TaskGroup, TaskGroups, GROUP_STATES};
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Tunables of the scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Root tasks are released to a worker while it runs fewer than
    /// `ceil(saturation × nthreads)` tasks (Dask's `worker-saturation`).
    pub saturation: f64,
    /// Tasks of an op whose measured mean duration is below this (seconds) are
    /// released `fast_task_slots × nthreads` at a time instead: holding back
    /// microsecond tasks would leave workers waiting on the network.
    pub fast_task: f64,
    /// See `fast_task`.
    pub fast_task_slots: u32,
    /// How many workers may die running one task before it is marked erred
    /// (Dask's `allowed-failures` plus one).
    pub allowed_failures: u32,
    /// Seconds without a heartbeat after which a worker is taken for dead.
    pub worker_timeout: f64,
    /// Assumed bandwidth between workers, bytes a second (for placement).
    pub bandwidth: f64,
    /// Assumed duration of an op never measured, seconds.
    pub default_duration: f64,
    /// Seconds with no worker connected after which tasks that are ready to run
    /// fail, with an error naming them, instead of waiting for a worker forever
    /// (Dask's `no-workers-timeout`); `None` waits forever.
    pub no_workers_timeout: Option<f64>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            saturation: 1.1,
            fast_task: 0.001,
            fast_task_slots: 64,
            allowed_failures: 3,
            worker_timeout: 60.0,
            bandwidth: 1e9,
            default_duration: 0.001,
            no_workers_timeout: Some(600.0),
        }
    }
}

/// What happens to the scheduler.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A worker connected.
    AddWorker {
        /// Its id.
        worker: WorkerId,
        /// The address peers fetch from.
        address: String,
        /// Its thread count.
        nthreads: u32,
    },
    /// A worker disconnected or was taken for dead.
    RemoveWorker {
        /// Which.
        worker: WorkerId,
    },
    /// A client connected.
    AddClient {
        /// Its id.
        client: ClientId,
    },
    /// A client disconnected: everything it wanted is released.
    RemoveClient {
        /// Which.
        client: ClientId,
    },
    /// A client submitted tasks and wants some keys (it holds futures for them).
    UpdateGraph {
        /// Who.
        client: ClientId,
        /// New tasks (tasks already known by key are kept as they are).
        tasks: Vec<NewTask>,
        /// Keys the client holds futures for.
        wanted: Vec<Key>,
        /// The user's priority for these tasks (higher first).
        user_priority: i32,
    },
    /// A worker finished a task and holds its result.
    TaskFinished {
        /// Which worker.
        worker: WorkerId,
        /// Which task.
        key: Key,
        /// The result's size.
        nbytes: u64,
        /// How long it ran, seconds.
        duration: f64,
        /// The number of the compute request it answers ([`Instruction::Compute`]'s
        /// `run`): a report of an earlier request, which crossed a later one on the
        /// wire, is ignored. `None`: not checked.
        run: Option<u64>,
    },
    /// A task failed on a worker.
    TaskErred {
        /// Which worker.
        worker: WorkerId,
        /// Which task.
        key: Key,
        /// The error, as the user should read it.
        error: String,
        /// As for [`Event::TaskFinished`].
        run: Option<u64>,
    },
    /// A worker could not fetch an input of a task from the worker said to hold it.
    MissingData {
        /// The worker that tried.
        worker: WorkerId,
        /// The task it was to run.
        key: Key,
        /// The input it could not get.
        missing: Key,
        /// The worker that should have had it.
        holder: WorkerId,
    },
    /// Every client's tasks are cancelled, before the workers restart (Dask's
    /// `restart`).
    Restart,
    /// Move held results from workers holding more than the mean to workers
    /// holding less (Dask's `rebalance`).
    Rebalance,
    /// Retire these workers: no new tasks, their results moved to others, then
    /// closed (Dask's `retire_workers`).
    RetireWorkers {
        /// Which.
        workers: Vec<WorkerId>,
    },
    /// A worker paused (its memory is over the pause threshold: it runs and
    /// fetches nothing new) or resumed.
    WorkerPaused {
        /// Which worker.
        worker: WorkerId,
        /// Paused, or running again.
        paused: bool,
    },
    /// A worker now also holds these keys (after `Replicate` or a scatter).
    AddKeys {
        /// Which worker.
        worker: WorkerId,
        /// The keys.
        keys: Vec<Key>,
    },
    /// A client dropped its futures for these keys.
    ReleaseKeys {
        /// Who.
        client: ClientId,
        /// The keys.
        keys: Vec<Key>,
    },
    /// A client cancels these keys: released like [`Event::ReleaseKeys`], and the
    /// client is told each was cancelled.
    Cancel {
        /// Who.
        client: ClientId,
        /// The keys.
        keys: Vec<Key>,
    },
    /// A client sends data to be held by workers.
    Scatter {
        /// Who.
        client: ClientId,
        /// The keys and sizes of the values.
        keys: Vec<(Key, u64)>,
        /// Send every value to every worker.
        broadcast: bool,
    },
    /// A client asks for `n` copies of each key.
    Replicate {
        /// Who.
        client: ClientId,
        /// The keys.
        keys: Vec<Key>,
        /// Wanted copies.
        n: usize,
    },
    /// A worker's periodic sign of life.
    Heartbeat {
        /// Which.
        worker: WorkerId,
    },
    /// Time passed: workers silent for longer than the timeout are removed, and
    /// ready tasks fail once no worker has been connected for the no-workers
    /// timeout.
    Tick,
}

/// What the scheduler asks the world to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Instruction {
    /// Run a task on a worker.
    Compute {
        /// Where.
        worker: WorkerId,
        /// Which task.
        key: Key,
        /// Its code.
        spec: TaskSpec,
        /// Its inputs in order, each with the workers that hold it.
        inputs: Vec<(Key, Vec<WorkerId>)>,
        /// Its priority.
        priority: Priority,
        /// A client waits for this result: send it back with the report when small.
        send_value: bool,
        /// This request's number, new for every request; the worker's report of
        /// the run echoes it.
        run: u64,
    },
    /// A worker should drop these results (or not run these tasks).
    Free {
        /// Which worker.
        worker: WorkerId,
        /// The keys.
        keys: Vec<Key>,
    },
    /// Tell a client about a key it wants.
    Report {
        /// Which client.
        client: ClientId,
        /// What happened.
        report: Report,
    },
    /// Forward a scattered value (held by the server) to a worker.
    StoreScattered {
        /// Which worker.
        worker: WorkerId,
        /// Which key.
        key: Key,
    },
    /// A worker should fetch a copy of `key` from one of `holders`.
    Replicate {
        /// Which worker.
        worker: WorkerId,
        /// The key.
        key: Key,
        /// Workers holding it.
        holders: Vec<WorkerId>,
    },
    /// A worker was taken for dead after missing heartbeats: close its connection.
    CloseWorker {
        /// Which worker.
        worker: WorkerId,
    },
    /// A retiring worker holds nothing only it has: tell it to exit.
    RetireWorker {
        /// Which worker.
        worker: WorkerId,
    },
}

/// What a client hears about a key it wants.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The result is held by a worker.
    InMemory {
        /// The key.
        key: Key,
        /// Its size.
        nbytes: u64,
    },
    /// The task (or one it depends on) failed.
    Erred {
        /// The key.
        key: Key,
        /// Why.
        error: String,
    },
    /// The key was cancelled.
    Cancelled {
        /// The key.
        key: Key,
    },
}

/// The state of one task.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskStatus {
    /// Known, not computed, not needed now.
    Released,
    /// Needed; some inputs are not in memory yet.
    Waiting,
    /// A ready root task held back until a worker has a free slot.
    Queued,
    /// Ready, but no worker is connected.
    NoWorker,
    /// Sent to a worker.
    Processing {
        /// Which.
        worker: WorkerId,
    },
    /// Held by the workers in `who_has`.
    Memory,
    /// Failed (itself, or an input).
    Erred {
        /// Why.
        error: Arc<str>,
    },
}

impl TaskStatus {
    /// Dask's name of the state.
    pub fn name(&self) -> &'static str {
        match self {
            TaskStatus::Released => "released",
            TaskStatus::Waiting => "waiting",
            TaskStatus::Queued => "queued",
            TaskStatus::NoWorker => "no-worker",
            TaskStatus::Processing { .. } => "processing",
            TaskStatus::Memory => "memory",
            TaskStatus::Erred { .. } => "erred",
        }
    }
}

/// Everything the scheduler knows of one task.
#[derive(Debug, Clone)]
pub struct TaskState {
    /// Its key.
    pub key: Key,
    /// Its code; `None` for scattered data, which cannot be recomputed.
    pub spec: Option<TaskSpec>,
    /// Its inputs, in order.
    pub dependencies: Vec<Key>,
    /// Tasks that read it (alive in the state).
    pub dependents: FxHashSet<Key>,
    /// When it runs relative to others.
    pub priority: Priority,
    /// Its state.
    pub status: TaskStatus,
    /// Workers holding its result (in `memory`).
    pub who_has: SmallVec<[WorkerId; 2]>,
    /// Size of its result, once known.
    pub nbytes: u64,
    /// Clients holding futures for it.
    pub wanted_by: SmallVec<[ClientId; 1]>,
    /// Inputs not yet in memory (in `waiting`).
    pub waiting_on: FxHashSet<Key>,
    /// Dependents still to run that will read this result.
    pub waiters: FxHashSet<Key>,
    /// How many workers died while running it.
    pub suspicious: u32,
    /// The number of the latest compute request sent for it.
    pub run: u64,
    /// Its recent transitions.
    pub story: VecDeque<StoryLine>,
}

impl TaskState {
    fn is_needed(&self) -> bool {
        !self.waiters.is_empty() || !self.wanted_by.is_empty()
    }
}

/// Everything the scheduler knows of one worker.
#[derive(Debug, Clone)]
pub struct WorkerInfo {
    /// Its id.
    pub id: WorkerId,
    /// Where peers reach it.
    pub address: String,
    /// Threads it runs tasks on.
    pub nthreads: u32,
    /// Tasks sent to it and not finished, with their estimated durations.
    pub processing: FxHashMap<Key, f64>,
    /// Sum of the estimated durations of `processing`, seconds.
    pub occupancy: f64,
    /// Results it holds.
    pub has_what: FxHashSet<Key>,
    /// Bytes it holds.
    pub nbytes: u64,
    /// When it was last heard from.
    pub last_seen: f64,
    /// Over its memory's pause threshold: it gets no new tasks.
    pub paused: bool,
}

#[derive(Debug, Clone, Default)]
struct ClientInfo {
    wants: FxHashSet<Key>,
}

/// Where a recommended transition goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Released,
    Waiting,
    /// Ready to run: becomes processing, queued or no-worker.
    Processing,
    Erred(Arc<str>),
    Forgotten,
}

/// The scheduler's state machine.
pub struct SchedulerState {
    config: SchedulerConfig,
    tasks: FxHashMap<Key, TaskState>,
    workers: BTreeMap<WorkerId, WorkerInfo>,
    clients: BTreeMap<ClientId, ClientInfo>,
    queued: BTreeSet<(Priority, Key)>,
    unrunnable: BTreeSet<(Priority, Key)>,
    /// Mean measured duration by key prefix, with the number of samples.
    durations: FxHashMap<Box<str>, (f64, u64)>,
    generation: u64,
    now: f64,
    out: Vec<Instruction>,
    /// Transitions asked for that the table does not allow (a bug): kept for
    /// `validate()`, never a panic.
    broken: Vec<String>,
    /// The event being handled.
    stimulus_id: StimulusId,
    /// Since when tasks have waited with no worker connected (the first tick that
    /// saw it).
    no_workers_since: Option<f64>,
    /// Results being moved to another worker, with the worker to free them on
    /// once the copy is reported (see `moves`).
    moving: FxHashMap<Key, WorkerId>,
    /// Workers retiring: they get no new tasks, and go once nothing is only
    /// theirs.
    retiring: BTreeSet<WorkerId>,
    /// The tasks of each prefix, counted by state.
    groups: TaskGroups,
    /// The number of the last compute request sent.
    last_run: u64,
}

impl SchedulerState {
    /// An empty scheduler.
    pub fn new(config: SchedulerConfig) -> SchedulerState {
        SchedulerState {
            config,
            tasks: FxHashMap::default(),
            workers: BTreeMap::new(),
            clients: BTreeMap::new(),
            queued: BTreeSet::new(),
            unrunnable: BTreeSet::new(),
            durations: FxHashMap::default(),
            generation: 0,
            now: 0.0,
            out: Vec::new(),
            broken: Vec::new(),
            stimulus_id: StimulusId::scheduler(0),
            no_workers_since: None,
            moving: FxHashMap::default(),
            retiring: BTreeSet::new(),
            groups: TaskGroups::default(),
            last_run: 0,
        }
    }

    /// Handles one event at time `now` (seconds, any origin) and returns what to do.
    pub fn handle(&mut self, event: Event, now: f64) -> Vec<Instruction> {
        self.now = now;
        self.stimulus_id = StimulusId::scheduler(self.stimulus_id.seq + 1);
        self.dispatch(event);
        if !self.moving.is_empty() {
            self.forget_stale_moves();
        }
        self.move_off_retiring();
        // A retirement may have removed the source of a move still in flight.
        if !self.moving.is_empty() {
            self.forget_stale_moves();
        }
        std::mem::take(&mut self.out)
    }

    /// The id of the last event handled: the instructions [`handle`](Self::handle)
    /// returned were caused by it, and the messages they become carry it.
    pub fn stimulus_id(&self) -> StimulusId {
        self.stimulus_id
    }

    /// Transitions asked for since the last call that the table does not allow,
    /// each with the task's story (a bug in the state machine). A running server
    /// logs them; [`validate`](Self::validate) reports those not taken.
    pub fn take_broken(&mut self) -> Vec<String> {
        std::mem::take(&mut self.broken)
    }

    /// A task's state, if the scheduler knows the key.
    pub fn task(&self, key: &Key) -> Option<&TaskState> {
        self.tasks.get(key)
    }

    /// Every task the scheduler knows, in no particular order.
    pub fn tasks(&self) -> impl Iterator<Item = &TaskState> {
        self.tasks.values()
    }

    /// How many tasks the scheduler knows.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// A worker's state.
    pub fn worker(&self, id: WorkerId) -> Option<&WorkerInfo> {
        self.workers.get(&id)
    }

    /// How many workers are connected.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// The connected workers.
    pub fn workers(&self) -> impl Iterator<Item = &WorkerInfo> {
        self.workers.values()
    }

    /// Who holds each key (empty for keys not in memory), Dask's `who_has`.
    pub fn who_has(&self, keys: &[Key]) -> Vec<(Key, Vec<WorkerId>)> {
        keys.iter()
            .map(|k| {
                let holders = match self.tasks.get(k) {
                    Some(ts) if ts.status == TaskStatus::Memory => ts.who_has.to_vec(),
                    _ => Vec::new(),
                };
                (k.clone(), holders)
            })
            .collect()
    }

    /// The tasks of each prefix, counted by state (Dask's task groups).
    pub fn groups(&self) -> &TaskGroups {
        &self.groups
    }

    /// Mean measured duration of the tasks of a prefix, seconds, with the
    /// number of samples.
    pub fn mean_duration(&self, prefix: &str) -> Option<(f64, u64)> {
        self.durations.get(prefix).copied()
    }

    /// The story of a task: its recent transitions.
    pub fn story(&self, key: &Key) -> Vec<StoryLine> {
        self.tasks
            .get(key)
            .map(|t| t.story.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn emit(&mut self, i: Instruction) {
        self.out.push(i);
    }

    fn report(&mut self, key: &Key, make: impl Fn() -> Report) {
        if let Some(ts) = self.tasks.get(key) {
            let clients = ts.wanted_by.clone();
            for client in clients {
                self.out.push(Instruction::Report {
                    client,
                    report: make(),
                });
            }
        }
    }
}
