//! The bookkeeping of one local run, free of threads: which tasks are ready, which
//! results are held, when a result can be dropped.

use crate::spill::Spiller;
use brisk_core::{Error, Key, Result, TaskGraph, TaskId, Value};
use smallvec::SmallVec;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// Where a task is in a local run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Some inputs are not computed yet.
    Waiting,
    /// In the ready heap.
    Ready,
    /// Handed to a thread.
    Running,
    /// Finished; its result is held while `pending > 0`.
    Done,
    /// Failed: its readers never become ready.
    Failed,
}

/// The inputs of one task, gathered under the lock and run outside it.
pub(crate) type Inputs = SmallVec<[Value; 4]>;

/// Results released by one finished task, dropped outside the lock.
pub(crate) type Released = SmallVec<[Value; 4]>;

pub(crate) struct RunState<'g> {
    graph: &'g TaskGraph,
    priority: Vec<u32>,
    ready: BinaryHeap<Reverse<(u32, u32)>>,
    /// Inputs not yet computed, per task.
    missing: Vec<u32>,
    /// Readers not yet run, plus one for a requested task (so it is never dropped).
    pending: Vec<u32>,
    results: Vec<Option<Value>>,
    /// Under a memory limit: held results live in the spiller (in memory or in
    /// files) and `held` says which are held; `results` stays empty.
    spill: Option<Arc<Spiller<Key>>>,
    held: Vec<bool>,
    stage: Vec<Stage>,
    pub(crate) running: usize,
    pub(crate) finished: usize,
    pub(crate) error: Option<Error>,
    /// Streaming runs hand requested results over as they finish instead of
    /// holding them to the end.
    streaming: bool,
    requested: Vec<bool>,
    /// Requested results finished since the last `take_outbox`.
    outbox: Vec<(TaskId, Value)>,
}

impl<'g> RunState<'g> {
    pub(crate) fn new(graph: &'g TaskGraph, priority: Vec<u32>) -> Self {
        Self::with_mode(graph, priority, false)
    }

    /// A run that hands each requested result over when it finishes (see
    /// [`RunState::take_outbox`]) and drops it once its readers have run.
    pub(crate) fn streaming(graph: &'g TaskGraph, priority: Vec<u32>) -> Self {
        Self::with_mode(graph, priority, true)
    }

    fn with_mode(graph: &'g TaskGraph, priority: Vec<u32>, streaming: bool) -> Self {
        let n = graph.len();
        let mut missing = Vec::with_capacity(n);
        let mut pending = Vec::with_capacity(n);
        let mut ready = BinaryHeap::new();
        let mut stage = vec![Stage::Waiting; n];
        for i in 0..n {
            let t = TaskId(i as u32);
            let m = graph.dependencies(t).len() as u32;
            missing.push(m);
            pending.push(graph.dependents(t).len() as u32);
            if m == 0 {
                ready.push(Reverse((priority[i], i as u32)));
                stage[i] = Stage::Ready;
            }
        }
        let mut held = vec![false; n];
        for t in graph.requested() {
            if !std::mem::replace(&mut held[t.idx()], true) && !streaming {
                pending[t.idx()] += 1;
            }
        }
        RunState {
            graph,
            priority,
            ready,
            missing,
            pending,
            results: vec![None; n],
            spill: None,
            held: Vec::new(),
            stage,
            running: 0,
            finished: 0,
            error: None,
            streaming,
            requested: held,
            outbox: Vec::new(),
        }
    }

    /// Holds results in `spiller` (which spills them past its budget) instead of
    /// in memory only.
    pub(crate) fn spilling_into(mut self, spiller: Arc<Spiller<Key>>) -> Self {
        self.held = vec![false; self.graph.len()];
        self.spill = Some(spiller);
        self
    }

    fn is_held(&self, t: TaskId) -> bool {
        match &self.spill {
            None => self.results[t.idx()].is_some(),
            Some(_) => self.held[t.idx()],
        }
    }

    fn hold(&mut self, t: TaskId, v: Value) {
        match &self.spill {
            None => self.results[t.idx()] = Some(v),
            Some(s) => {
                s.insert(self.graph.key(t).clone(), v);
                self.held[t.idx()] = true;
            }
        }
    }

    /// Stops holding `t`'s result; the value, if in memory, to drop after
    /// unlocking.
    fn unhold(&mut self, t: TaskId) -> Option<Value> {
        match &self.spill {
            None => self.results[t.idx()].take(),
            Some(s) => {
                if std::mem::replace(&mut self.held[t.idx()], false) {
                    s.remove(self.graph.key(t));
                }
                None
            }
        }
    }

    /// The held result of `t` (read back from its spill file if need be).
    fn held_value(&self, t: TaskId) -> Result<Value> {
        let missing = || Error::Other(format!("{} is not held", self.graph.key(t)));
        match &self.spill {
            None => self.results[t.idx()].clone().ok_or_else(missing),
            Some(s) => s
                .get(self.graph.key(t))
                .map_err(brisk_core::Error::from)?
                .ok_or_else(missing),
        }
    }

    /// The requested results finished since the last call (streaming runs).
    pub(crate) fn take_outbox(&mut self) -> Vec<(TaskId, Value)> {
        std::mem::take(&mut self.outbox)
    }

    pub(crate) fn total(&self) -> usize {
        self.graph.len()
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.finished == self.graph.len()
    }

    /// Takes the ready task with the best priority and gathers its inputs (none
    /// under a memory limit: see [`gather`]).
    pub(crate) fn start_next(&mut self) -> Option<(TaskId, Inputs)> {
        let Reverse((_, id)) = self.ready.pop()?;
        let t = TaskId(id);
        self.stage[t.idx()] = Stage::Running;
        self.running += 1;
        if self.spill.is_some() {
            return Some((t, Inputs::new()));
        }
        let inputs = self
            .graph
            .dependencies(t)
            .iter()
            .map(|d| {
                self.results[d.idx()]
                    .clone()
                    .expect("inputs of a ready task are held")
            })
            .collect();
        Some((t, inputs))
    }

    /// Records a task's result, releases inputs nobody else needs, and readies the
    /// readers whose inputs are now complete. The released values are handed back so
    /// the caller drops them after unlocking (freeing a large result, or a user type's
    /// `Drop`, never runs under the lock).
    pub(crate) fn finish(&mut self, t: TaskId, outcome: Result<Value>) -> Released {
        self.running -= 1;
        let mut released = Released::new();
        let value = match outcome {
            Ok(v) => v,
            Err(e) => {
                self.stage[t.idx()] = Stage::Failed;
                if self.error.is_none() {
                    self.error = Some(e);
                }
                return released;
            }
        };
        self.stage[t.idx()] = Stage::Done;
        self.finished += 1;
        if self.streaming && self.requested[t.idx()] {
            self.outbox.push((t, value.clone()));
        }
        let graph = self.graph;
        for &d in graph.dependencies(t) {
            let p = &mut self.pending[d.idx()];
            *p -= 1;
            if *p == 0 {
                released.extend(self.unhold(d));
            }
        }
        if self.pending[t.idx()] > 0 {
            self.hold(t, value);
        } else {
            released.push(value);
        }
        for &r in graph.dependents(t) {
            let m = &mut self.missing[r.idx()];
            *m -= 1;
            if *m == 0 {
                self.ready.push(Reverse((self.priority[r.idx()], r.0)));
                self.stage[r.idx()] = Stage::Ready;
            }
        }
        released
    }

    /// How many tasks are ready.
    pub(crate) fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// The requested results, in request order (read back from spill files if
    /// need be).
    pub(crate) fn take_results(&mut self) -> Result<Vec<Value>> {
        self.graph
            .requested()
            .iter()
            .map(|t| self.held_value(*t))
            .collect()
    }

    /// Checks, in linear time, that the counters, the heap, the held results and each
    /// task's stage agree. Panics with the first disagreement; for tests.
    pub(crate) fn validate(&self) {
        let g = self.graph;
        let mut in_heap = vec![false; g.len()];
        for Reverse((p, id)) in self.ready.iter() {
            assert_eq!(
                self.priority[*id as usize], *p,
                "heap entry with a stale priority"
            );
            in_heap[*id as usize] = true;
        }
        let mut running = 0;
        let mut finished = 0;
        for i in 0..g.len() {
            let t = TaskId(i as u32);
            let key = g.key(t);
            let missing = g
                .dependencies(t)
                .iter()
                .filter(|d| self.stage[d.idx()] != Stage::Done)
                .count();
            assert_eq!(
                self.missing[i] as usize, missing,
                "{key}: wrong count of missing inputs"
            );
            assert_eq!(
                in_heap[i],
                self.stage[i] == Stage::Ready,
                "{key}: heap and stage disagree"
            );
            match self.stage[i] {
                Stage::Waiting => assert!(missing > 0, "{key}: waiting with all inputs present"),
                Stage::Ready | Stage::Running => {
                    assert_eq!(missing, 0, "{key}: started before its inputs");
                    assert!(!self.is_held(t), "{key}: result before running");
                }
                Stage::Done | Stage::Failed => {}
            }
            if self.stage[i] == Stage::Running {
                running += 1;
            }
            if self.stage[i] == Stage::Done && self.error.is_none() {
                finished += 1;
                let readers_left = g
                    .dependents(t)
                    .iter()
                    .filter(|r| self.stage[r.idx()] != Stage::Done)
                    .count();
                let requested = (self.requested[i] && !self.streaming) as usize;
                assert_eq!(
                    self.pending[i] as usize,
                    readers_left + requested,
                    "{key}: wrong pending count"
                );
                assert_eq!(
                    self.is_held(t),
                    self.pending[i] > 0,
                    "{key}: result held iff still needed"
                );
            }
        }
        assert_eq!(running, self.running, "running count");
        if self.error.is_none() {
            assert_eq!(finished, self.finished, "finished count");
        }
    }
}

/// The inputs of `t`, from the spiller of a run under a memory limit (read back
/// from their files outside the run's lock); an unreadable spill file is an
/// error naming the key and the file.
pub(crate) fn gather(graph: &TaskGraph, spiller: &Spiller<Key>, t: TaskId) -> Result<Inputs> {
    graph
        .dependencies(t)
        .iter()
        .map(|d| {
            let key = graph.key(*d);
            spiller
                .get(key)
                .map_err(Error::from)?
                .ok_or_else(|| Error::Other(format!("input {key} of {} is not held", graph.key(t))))
        })
        .collect()
}
