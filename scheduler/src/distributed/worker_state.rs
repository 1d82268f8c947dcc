//! The worker's state machine: which tasks wait for inputs, which inputs to fetch
//! from which peer, what to run next. Pure, like the scheduler's: the worker
//! server feeds it [`WorkerEvent`]s and carries out the [`WorkerInstruction`]s
//! (running ops on its thread pool, talking to peers and to the scheduler).
//!
//! Task states (Dask's worker vocabulary): `waiting` (some inputs not here yet),
//! `ready` (in the ready heap, by priority), `executing`, `fetch` (an input to get
//! from a peer), `flight` (being fetched), `memory`. Inputs fetched only to run a
//! task here are dropped once no task here needs them; results the scheduler
//! counts on (computed, scattered or replicated here) are kept until it says
//! `Free`.
//!
//! ```
//! use brisk_scheduler::distributed::worker_state::*;
//! use brisk_scheduler::distributed::{Priority, TaskSpec, WorkerId};
//! use brisk_core::Key;
//! let mut w = WorkerState::new(1);
//! let (x, y) = (Key::new("x", &[]), Key::new("y", &[]));
//! let spec = TaskSpec { op: "inc".into(), params: vec![] };
//! let out = w.handle(WorkerEvent::Compute { key: y.clone(), spec: spec.clone(),
//!     inputs: vec![(x.clone(), vec![WorkerId(2)])], priority: Priority::new(0, 1, 1), send_value: false });
//! assert_eq!(out, vec![WorkerInstruction::Fetch { peer: WorkerId(2), keys: vec![x.clone()] }]);
//! let out = w.handle(WorkerEvent::FetchDone { peer: WorkerId(2), received: vec![(x.clone(), 8)], missing: vec![] });
//! assert_eq!(out, vec![WorkerInstruction::Execute { key: y.clone(), spec, inputs: vec![x] }]);
//! w.validate().unwrap();
//! ```

use super::ids::{Priority, TaskSpec, WorkerId};
use brisk_core::Key;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeSet;

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
    },
    /// Tell the scheduler a task failed.
    TaskErred {
        /// The task.
        key: Key,
        /// Why.
        error: String,
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
}

#[derive(Debug, Clone)]
struct WorkerTask {
    status: WorkerTaskStatus,
    /// `Some` for tasks to run here, `None` for inputs to fetch.
    spec: Option<TaskSpec>,
    dependencies: Vec<Key>,
    /// Tasks here that read this key and have not run yet.
    dependents: FxHashSet<Key>,
    waiting_on: FxHashSet<Key>,
    who_has: Vec<WorkerId>,
    priority: Priority,
    send_value: bool,
    /// The scheduler counts this worker as a holder (computed, scattered or
    /// replicated here): keep until it says `Free`.
    owned: bool,
    /// Freed while executing: drop the result when it comes.
    cancelled: bool,
    /// A replicate asked for it: report it with `AddKeys` when it arrives.
    replicate: bool,
}

/// The worker's state machine.
pub struct WorkerState {
    nthreads: usize,
    tasks: FxHashMap<Key, WorkerTask>,
    ready: BTreeSet<(Priority, Key)>,
    executing: usize,
    /// Peers with a fetch in flight.
    busy_peers: FxHashSet<WorkerId>,
    out: Vec<WorkerInstruction>,
}

impl WorkerState {
    /// A worker running up to `nthreads` tasks at once.
    pub fn new(nthreads: usize) -> WorkerState {
        WorkerState {
            nthreads: nthreads.max(1),
            tasks: FxHashMap::default(),
            ready: BTreeSet::new(),
            executing: 0,
            busy_peers: FxHashSet::default(),
            out: Vec::new(),
        }
    }

    /// Handles one event and returns what to do.
    pub fn handle(&mut self, event: WorkerEvent) -> Vec<WorkerInstruction> {
        match event {
            WorkerEvent::Compute {
                key,
                spec,
                inputs,
                priority,
                send_value,
            } => self.on_compute(key, spec, inputs, priority, send_value),
            WorkerEvent::Free { keys } => {
                for k in keys {
                    self.on_free(k);
                }
            }
            WorkerEvent::Stored { key, nbytes: _ } => self.on_stored(key),
            WorkerEvent::Replicate { key, holders } => self.on_replicate(key, holders),
            WorkerEvent::FetchDone {
                peer,
                received,
                missing,
            } => self.on_fetch_done(peer, received, missing),
            WorkerEvent::FetchFailed { peer, keys } => self.on_fetch_done(peer, Vec::new(), keys),
            WorkerEvent::ExecuteDone {
                key,
                nbytes,
                duration,
            } => self.on_execute_done(key, nbytes, duration),
            WorkerEvent::ExecuteFailed { key, error } => self.on_execute_failed(key, error),
        }
        self.ensure_communicating();
        self.ensure_computing();
        std::mem::take(&mut self.out)
    }

    /// The state of a key here.
    pub fn status(&self, key: &Key) -> Option<&WorkerTaskStatus> {
        self.tasks.get(key).map(|t| &t.status)
    }

    /// How many keys this worker tracks.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    fn on_compute(
        &mut self,
        key: Key,
        spec: TaskSpec,
        inputs: Vec<(Key, Vec<WorkerId>)>,
        priority: Priority,
        send_value: bool,
    ) {
        if let Some(t) = self.tasks.get_mut(&key) {
            match t.status {
                WorkerTaskStatus::Memory => {
                    t.owned = true;
                    self.out.push(WorkerInstruction::TaskFinished {
                        key,
                        nbytes: 0,
                        duration: 0.0,
                        send_value,
                    });
                    return;
                }
                WorkerTaskStatus::Executing => {
                    t.cancelled = false;
                    t.send_value |= send_value;
                    return;
                }
                WorkerTaskStatus::Waiting | WorkerTaskStatus::Ready => return,
                // Being fetched as an input: run it here instead once it arrives?
                // Simpler and correct: let the fetch finish, then report it.
                WorkerTaskStatus::Fetch | WorkerTaskStatus::Flight { .. } => {
                    t.owned = true;
                    t.replicate = true;
                    return;
                }
            }
        }
        let mut waiting_on = FxHashSet::default();
        let mut dependencies = Vec::with_capacity(inputs.len());
        for (dep, holders) in inputs {
            let d = self.tasks.entry(dep.clone()).or_insert_with(|| WorkerTask {
                status: WorkerTaskStatus::Fetch,
                spec: None,
                dependencies: Vec::new(),
                dependents: FxHashSet::default(),
                waiting_on: FxHashSet::default(),
                who_has: holders.clone(),
                priority,
                send_value: false,
                owned: false,
                cancelled: false,
                replicate: false,
            });
            if d.status != WorkerTaskStatus::Memory {
                waiting_on.insert(dep.clone());
                d.priority = d.priority.min(priority);
                for h in holders {
                    if !d.who_has.contains(&h) {
                        d.who_has.push(h);
                    }
                }
            }
            d.dependents.insert(key.clone());
            dependencies.push(dep);
        }
        let ready = waiting_on.is_empty();
        self.tasks.insert(
            key.clone(),
            WorkerTask {
                status: if ready {
                    WorkerTaskStatus::Ready
                } else {
                    WorkerTaskStatus::Waiting
                },
                spec: Some(spec),
                dependencies,
                dependents: FxHashSet::default(),
                waiting_on,
                who_has: Vec::new(),
                priority,
                send_value,
                owned: true,
                cancelled: false,
                replicate: false,
            },
        );
        if ready {
            self.ready.insert((priority, key));
        }
    }

    fn on_free(&mut self, key: Key) {
        let Some(t) = self.tasks.get_mut(&key) else {
            return;
        };
        t.owned = false;
        t.replicate = false;
        match t.status {
            WorkerTaskStatus::Executing => t.cancelled = true,
            WorkerTaskStatus::Waiting | WorkerTaskStatus::Ready => {
                let t = self.tasks.remove(&key).expect("present");
                self.ready.remove(&(t.priority, key.clone()));
                self.forget_reader(&key, &t.dependencies);
            }
            WorkerTaskStatus::Memory
            | WorkerTaskStatus::Fetch
            | WorkerTaskStatus::Flight { .. } => self.drop_if_unused(&key),
        }
    }

    fn on_stored(&mut self, key: Key) {
        let t = self.tasks.entry(key.clone()).or_insert_with(|| WorkerTask {
            status: WorkerTaskStatus::Memory,
            spec: None,
            dependencies: Vec::new(),
            dependents: FxHashSet::default(),
            waiting_on: FxHashSet::default(),
            who_has: Vec::new(),
            priority: Priority::new(0, 0, 0),
            send_value: false,
            owned: true,
            cancelled: false,
            replicate: false,
        });
        t.owned = true;
        if t.status != WorkerTaskStatus::Memory {
            t.status = WorkerTaskStatus::Memory;
            self.input_arrived(&key);
        }
    }

    fn on_replicate(&mut self, key: Key, holders: Vec<WorkerId>) {
        match self.tasks.get_mut(&key) {
            Some(t) if t.status == WorkerTaskStatus::Memory => {
                t.owned = true;
                self.out
                    .push(WorkerInstruction::AddKeys { keys: vec![key] });
            }
            Some(t) => {
                t.replicate = true;
                for h in holders {
                    if !t.who_has.contains(&h) {
                        t.who_has.push(h);
                    }
                }
            }
            None => {
                self.tasks.insert(
                    key,
                    WorkerTask {
                        status: WorkerTaskStatus::Fetch,
                        spec: None,
                        dependencies: Vec::new(),
                        dependents: FxHashSet::default(),
                        waiting_on: FxHashSet::default(),
                        who_has: holders,
                        priority: Priority::new(0, 0, 0),
                        send_value: false,
                        owned: false,
                        cancelled: false,
                        replicate: true,
                    },
                );
            }
        }
    }

    fn on_fetch_done(&mut self, peer: WorkerId, received: Vec<(Key, u64)>, missing: Vec<Key>) {
        self.busy_peers.remove(&peer);
        let mut added = Vec::new();
        for (key, _nbytes) in received {
            let Some(t) = self.tasks.get_mut(&key) else {
                // Nobody wants it any more.
                self.out.push(WorkerInstruction::Release { key });
                continue;
            };
            if t.status != (WorkerTaskStatus::Flight { peer }) {
                continue;
            }
            t.status = WorkerTaskStatus::Memory;
            if t.replicate {
                t.replicate = false;
                t.owned = true;
                added.push(key.clone());
            }
            self.input_arrived(&key);
            self.drop_if_unused(&key);
        }
        if !added.is_empty() {
            self.out.push(WorkerInstruction::AddKeys { keys: added });
        }
        for key in missing {
            let Some(t) = self.tasks.get_mut(&key) else {
                continue;
            };
            if t.status != (WorkerTaskStatus::Flight { peer }) {
                continue;
            }
            t.who_has.retain(|w| *w != peer);
            if !t.who_has.is_empty() {
                t.status = WorkerTaskStatus::Fetch;
                continue;
            }
            // No one else to ask: give the readers back to the scheduler.
            let mut readers: Vec<Key> = t.dependents.iter().cloned().collect();
            readers.sort();
            for r in readers {
                self.out.push(WorkerInstruction::MissingData {
                    key: r.clone(),
                    missing: key.clone(),
                    holder: peer,
                });
                if let Some(rt) = self.tasks.remove(&r) {
                    self.ready.remove(&(rt.priority, r.clone()));
                    self.forget_reader(&r, &rt.dependencies);
                }
            }
            if let Some(t) = self.tasks.get(&key) {
                if t.dependents.is_empty() {
                    self.tasks.remove(&key);
                }
            }
        }
    }

    fn on_execute_done(&mut self, key: Key, nbytes: u64, duration: f64) {
        self.executing = self.executing.saturating_sub(1);
        let Some(t) = self.tasks.get_mut(&key) else {
            self.out.push(WorkerInstruction::Release { key });
            return;
        };
        t.status = WorkerTaskStatus::Memory;
        let deps = t.dependencies.clone();
        if t.cancelled {
            t.cancelled = false;
        } else {
            self.out.push(WorkerInstruction::TaskFinished {
                key: key.clone(),
                nbytes,
                duration,
                send_value: t.send_value,
            });
        }
        self.forget_reader(&key, &deps);
        self.input_arrived(&key);
        self.drop_if_unused(&key);
    }

    fn on_execute_failed(&mut self, key: Key, error: String) {
        self.executing = self.executing.saturating_sub(1);
        if let Some(t) = self.tasks.remove(&key) {
            if !t.cancelled {
                self.out.push(WorkerInstruction::TaskErred {
                    key: key.clone(),
                    error,
                });
            }
            self.forget_reader(&key, &t.dependencies);
        }
    }

    /// `key` is now stored: its readers here may be ready.
    fn input_arrived(&mut self, key: &Key) {
        let readers: Vec<Key> = match self.tasks.get(key) {
            Some(t) => t.dependents.iter().cloned().collect(),
            None => return,
        };
        for r in readers {
            if let Some(rt) = self.tasks.get_mut(&r) {
                if rt.status == WorkerTaskStatus::Waiting
                    && rt.waiting_on.remove(key)
                    && rt.waiting_on.is_empty()
                {
                    rt.status = WorkerTaskStatus::Ready;
                    self.ready.insert((rt.priority, r));
                }
            }
        }
    }

    /// `reader` no longer needs `deps`: drop inputs nobody here or at the
    /// scheduler counts on.
    fn forget_reader(&mut self, reader: &Key, deps: &[Key]) {
        for d in deps {
            if let Some(dt) = self.tasks.get_mut(d) {
                dt.dependents.remove(reader);
            }
            self.drop_if_unused(d);
        }
    }

    fn drop_if_unused(&mut self, key: &Key) {
        let Some(t) = self.tasks.get(key) else {
            return;
        };
        if t.owned || t.replicate || !t.dependents.is_empty() {
            return;
        }
        match t.status {
            WorkerTaskStatus::Memory => {
                self.tasks.remove(key);
                self.out
                    .push(WorkerInstruction::Release { key: key.clone() });
            }
            WorkerTaskStatus::Fetch => {
                self.tasks.remove(key);
            }
            // In flight: dropped when it arrives (no longer tracked → released).
            WorkerTaskStatus::Flight { .. } => {
                self.tasks.remove(key);
            }
            _ => {}
        }
    }

    fn ensure_computing(&mut self) {
        while self.executing < self.nthreads {
            let Some((_, key)) = self.ready.pop_first() else {
                break;
            };
            let Some(t) = self.tasks.get_mut(&key) else {
                continue;
            };
            t.status = WorkerTaskStatus::Executing;
            self.executing += 1;
            self.out.push(WorkerInstruction::Execute {
                key: key.clone(),
                spec: t.spec.clone().expect("only tasks with code become ready"),
                inputs: t.dependencies.clone(),
            });
        }
    }

    /// One request in flight per peer, holding every key to get from it.
    fn ensure_communicating(&mut self) {
        let mut wanted: Vec<(Priority, Key)> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.status == WorkerTaskStatus::Fetch)
            .map(|(k, t)| (t.priority, k.clone()))
            .collect();
        if wanted.is_empty() {
            return;
        }
        wanted.sort();
        let mut batches: Vec<(WorkerId, Vec<Key>)> = Vec::new();
        for (_, key) in wanted {
            let t = &self.tasks[&key];
            let peer = t
                .who_has
                .iter()
                .find(|w| batches.iter().any(|(p, _)| p == *w))
                .or_else(|| t.who_has.iter().find(|w| !self.busy_peers.contains(w)))
                .copied();
            let Some(peer) = peer else { continue };
            match batches.iter_mut().find(|(p, _)| *p == peer) {
                Some((_, keys)) => keys.push(key),
                None => {
                    if self.busy_peers.contains(&peer) {
                        continue;
                    }
                    batches.push((peer, vec![key]))
                }
            }
        }
        for (peer, keys) in batches {
            self.busy_peers.insert(peer);
            for k in &keys {
                if let Some(t) = self.tasks.get_mut(k) {
                    t.status = WorkerTaskStatus::Flight { peer };
                }
            }
            self.out.push(WorkerInstruction::Fetch { peer, keys });
        }
    }

    /// Checks the ready heap, the executing count and the reader links against
    /// the tasks' states.
    pub fn validate(&self) -> Result<(), String> {
        let mut errors = Vec::new();
        let mut executing = 0;
        for (key, t) in &self.tasks {
            match t.status {
                WorkerTaskStatus::Ready => {
                    if !self.ready.contains(&(t.priority, key.clone())) {
                        errors.push(format!("{key} is ready but not in the heap"));
                    }
                }
                WorkerTaskStatus::Executing => executing += 1,
                WorkerTaskStatus::Waiting => {
                    if t.waiting_on.is_empty() {
                        errors.push(format!("{key} waits on nothing"));
                    }
                    for d in &t.waiting_on {
                        match self.tasks.get(d) {
                            Some(dt)
                                if dt.status != WorkerTaskStatus::Memory
                                    && dt.dependents.contains(key) => {}
                            _ => errors
                                .push(format!("{key} waits on {d}, which is stored or untracked")),
                        }
                    }
                }
                WorkerTaskStatus::Flight { peer } => {
                    if !self.busy_peers.contains(&peer) {
                        errors.push(format!("{key} in flight from {peer}, which is not busy"));
                    }
                }
                WorkerTaskStatus::Fetch | WorkerTaskStatus::Memory => {}
            }
            for r in &t.dependents {
                if !self
                    .tasks
                    .get(r)
                    .is_some_and(|rt| rt.dependencies.contains(key))
                {
                    errors.push(format!("{key} lists reader {r}, which does not read it"));
                }
            }
        }
        for (p, k) in &self.ready {
            if self.tasks.get(k).map(|t| (&t.status, t.priority))
                != Some((&WorkerTaskStatus::Ready, *p))
            {
                errors.push(format!("{k} is in the ready heap but not ready"));
            }
        }
        if executing != self.executing {
            errors.push(format!(
                "{executing} tasks executing, counted {}",
                self.executing
            ));
        }
        if self.executing > self.nthreads {
            errors.push(format!(
                "{} executing on {} threads",
                self.executing, self.nthreads
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }
}
