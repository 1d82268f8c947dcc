//! [`WorkerState`]: the tasks a worker knows and the indexes kept beside them (the
//! ready heap, the fetch queue of each peer), and the one entry point,
//! [`WorkerState::handle`].

use super::types::{Keep, Target, WorkerEvent, WorkerInstruction, WorkerTaskStatus};
use crate::distributed::ids::{Priority, StimulusId, StoryLine, TaskSpec, WorkerId};
use brisk_core::Key;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Everything a worker knows of one key.
#[derive(Debug, Clone)]
pub(super) struct WorkerTask {
    pub(super) status: WorkerTaskStatus,
    /// `Some` for tasks to run here, `None` for inputs to fetch or stored values.
    pub(super) spec: Option<TaskSpec>,
    pub(super) dependencies: Vec<Key>,
    /// Tasks here that read this key and have not run yet.
    pub(super) dependents: FxHashSet<Key>,
    /// Inputs not here yet (in `waiting`).
    pub(super) waiting_on: FxHashSet<Key>,
    /// Peers said to hold it (for `fetch` and `flight`), without repeats.
    pub(super) who_has: Vec<WorkerId>,
    pub(super) priority: Priority,
    /// Send the value back with the report when it is small.
    pub(super) send_value: bool,
    pub(super) keep: Keep,
    /// The result's size once here; the run time once run.
    pub(super) nbytes: u64,
    pub(super) duration: f64,
    /// Its recent transitions.
    pub(super) story: VecDeque<StoryLine>,
    /// In `resumed`: what to run if the fetch fails.
    pub(super) resume: Option<Box<ComputeRequest>>,
    /// The number of the latest compute request for it, which its report echoes.
    pub(super) run: u64,
}

/// What the scheduler sent to have a task computed here.
#[derive(Debug, Clone)]
pub(super) struct ComputeRequest {
    pub(super) spec: TaskSpec,
    pub(super) inputs: Vec<(Key, Vec<WorkerId>)>,
    pub(super) priority: Priority,
    pub(super) send_value: bool,
    pub(super) run: u64,
}

impl WorkerTask {
    pub(super) fn new(status: WorkerTaskStatus, priority: Priority, keep: Keep) -> WorkerTask {
        WorkerTask {
            status,
            spec: None,
            dependencies: Vec::new(),
            dependents: FxHashSet::default(),
            waiting_on: FxHashSet::default(),
            who_has: Vec::new(),
            priority,
            send_value: false,
            keep,
            nbytes: 0,
            duration: 0.0,
            story: VecDeque::new(),
            resume: None,
            run: 0,
        }
    }
}

/// The worker's state machine.
pub struct WorkerState {
    pub(super) nthreads: usize,
    pub(super) tasks: FxHashMap<Key, WorkerTask>,
    /// Tasks in `ready`, by priority.
    pub(super) ready: BTreeSet<(Priority, Key)>,
    /// Keys in `fetch`, under every peer that holds them, by priority. A peer with
    /// nothing to fetch has no entry.
    pub(super) fetch_queues: BTreeMap<WorkerId, BTreeSet<(Priority, Key)>>,
    /// Tasks holding a thread: `executing` and `cancelled`.
    pub(super) executing: usize,
    /// Peers with a fetch in flight.
    pub(super) busy_peers: FxHashSet<WorkerId>,
    /// Over the memory pause threshold: nothing new starts or is fetched.
    pub(super) paused: bool,
    pub(super) out: Vec<WorkerInstruction>,
    /// Replicas that arrived during this event, reported in one `AddKeys`.
    pub(super) added: Vec<Key>,
    /// The event being handled: its kind and id.
    pub(super) stimulus: &'static str,
    pub(super) stimulus_id: StimulusId,
    /// The worker's own stimulus count.
    own_stimuli: u64,
    /// Transitions asked for that the table does not allow (a bug), with the
    /// task's story.
    pub(super) broken: Vec<String>,
}

impl WorkerState {
    /// A worker running up to `nthreads` tasks at once.
    pub fn new(nthreads: usize) -> WorkerState {
        WorkerState {
            nthreads: nthreads.max(1),
            tasks: FxHashMap::default(),
            ready: BTreeSet::new(),
            fetch_queues: BTreeMap::new(),
            executing: 0,
            busy_peers: FxHashSet::default(),
            paused: false,
            out: Vec::new(),
            added: Vec::new(),
            stimulus: "",
            stimulus_id: StimulusId::worker(0),
            own_stimuli: 0,
            broken: Vec::new(),
        }
    }

    /// Handles one event that happened here (a task ran, a fetch ended) and returns
    /// what to do. The event gets an id of this worker's own.
    pub fn handle(&mut self, event: WorkerEvent) -> Vec<WorkerInstruction> {
        self.own_stimuli += 1;
        let id = StimulusId::worker(self.own_stimuli);
        self.handle_stimulus(event, id)
    }

    /// Handles one event whose id was given by the scheduler (the message that
    /// carried it said which), and returns what to do.
    pub fn handle_stimulus(
        &mut self,
        event: WorkerEvent,
        stimulus_id: StimulusId,
    ) -> Vec<WorkerInstruction> {
        self.stimulus = event.name();
        self.stimulus_id = stimulus_id;
        self.dispatch(event);
        self.flush_added();
        self.ensure_communicating();
        self.ensure_computing();
        std::mem::take(&mut self.out)
    }

    /// The state of a key here.
    pub fn status(&self, key: &Key) -> Option<&WorkerTaskStatus> {
        self.tasks.get(key).map(|t| &t.status)
    }

    /// Whether memory has paused the worker.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Every key this worker tracks, with its state, in no particular order.
    pub fn tasks(&self) -> impl Iterator<Item = (&Key, &WorkerTaskStatus)> {
        self.tasks.iter().map(|(k, t)| (k, &t.status))
    }

    /// How many keys this worker tracks.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// The story of a key here: its recent transitions (empty once released).
    pub fn story(&self, key: &Key) -> Vec<StoryLine> {
        self.tasks
            .get(key)
            .map(|t| t.story.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The id of the last event handled.
    pub fn stimulus_id(&self) -> StimulusId {
        self.stimulus_id
    }

    /// Transitions asked for since the last call that the table does not allow,
    /// each with the task's story (a bug in the state machine). A running worker
    /// logs them; [`validate`](Self::validate) reports those not taken.
    pub fn take_broken(&mut self) -> Vec<String> {
        std::mem::take(&mut self.broken)
    }

    /// Reports the replicas that arrived during this event.
    pub(super) fn flush_added(&mut self) {
        if !self.added.is_empty() {
            let keys = std::mem::take(&mut self.added);
            self.out.push(WorkerInstruction::AddKeys { keys });
        }
    }

    /// Starts ready tasks by priority while threads are free.
    fn ensure_computing(&mut self) {
        while !self.paused && self.executing < self.nthreads {
            let Some((_, key)) = self.ready.pop_first() else {
                break;
            };
            self.transition(&key, Target::Executing);
        }
    }

    /// One request in flight per peer, holding every key queued for it. The work
    /// is proportional to the peers with keys queued, not to the keys held.
    fn ensure_communicating(&mut self) {
        if self.paused {
            return;
        }
        let idle: Vec<WorkerId> = self
            .fetch_queues
            .keys()
            .filter(|p| !self.busy_peers.contains(p))
            .copied()
            .collect();
        for peer in idle {
            // An earlier peer of this round may have taken every key of this one.
            let Some(queue) = self.fetch_queues.remove(&peer) else {
                continue;
            };
            let keys: Vec<Key> = queue.into_iter().map(|(_, k)| k).collect();
            self.busy_peers.insert(peer);
            for k in &keys {
                self.transition(k, Target::Flight(peer));
            }
            self.out.push(WorkerInstruction::Fetch { peer, keys });
        }
    }
}
