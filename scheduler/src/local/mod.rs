//! The local scheduler: runs a task graph in this process.
//!
//! Policy, top to bottom:
//!
//! 1. The graph is lowered (culled to the requested keys, checked) and ordered with
//!    [`brisk_core::order`]; every task gets a static priority.
//! 2. Ready tasks wait in one heap, best priority first. Each thread of the rayon pool
//!    runs a loop: under one short lock it records the result of the task it just
//!    ran, releases inputs whose last reader has run, readies the readers whose
//!    inputs are complete, and takes the next task; it then runs that task outside
//!    the lock. One lock round per task is the whole scheduling overhead.
//! 3. A result is dropped as soon as its last reader has run, unless it was requested.
//!    Keys requested twice, or reached by two requests, are one task and run once.
//! 4. The first error (a user error or a panic, caught and turned into an error) stops
//!    new tasks from starting; running ones finish; the error is returned with the
//!    failing key and op name.
//! 5. A progress callback hears about every finished task.
//!
//! [`SyncScheduler`] runs the same loop on the calling thread, one task at a time, in
//! exact priority order: the one to use in a debugger.

mod state;

use brisk_core::executor::ExecutorRegistration;
use brisk_core::{order, Error, Executor, Graph, Key, Result, TaskGraph, TaskId, Value};
use state::{Inputs, RunState};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// How far a run has come, given to the progress callback after every task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Tasks finished.
    pub finished: usize,
    /// Tasks in the (culled) graph.
    pub total: usize,
}

type ProgressFn = dyn Fn(Progress) + Send + Sync;

/// The multi-threaded local scheduler (the default executor).
///
/// ```
/// use brisk_scheduler::LocalScheduler;
/// let scheduler = LocalScheduler::with_threads(2).on_progress(|p| assert!(p.finished <= p.total));
/// # let _ = scheduler;
/// ```
#[derive(Clone, Default)]
pub struct LocalScheduler {
    pool: Option<Arc<rayon::ThreadPool>>,
    progress: Option<Arc<ProgressFn>>,
}

impl LocalScheduler {
    /// A scheduler on rayon's global pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// A scheduler on a pool of its own with `n` threads.
    pub fn with_threads(n: usize) -> Self {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .thread_name(|i| format!("brisk-local-{i}"))
            .build()
            .ok()
            .map(Arc::new);
        LocalScheduler {
            pool,
            progress: None,
        }
    }

    /// Calls `f` after every finished task.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    fn threads(&self) -> usize {
        match &self.pool {
            Some(p) => p.current_num_threads(),
            None => rayon::current_num_threads(),
        }
    }

    /// Runs a lowered graph; returns the requested values in request order.
    pub fn run(&self, graph: &TaskGraph) -> Result<Vec<Value>> {
        let run = Run {
            state: Mutex::new(RunState::new(graph, order(graph))),
            wake: Condvar::new(),
            idle: std::sync::atomic::AtomicUsize::new(0),
            progress: self.progress.as_deref(),
            graph,
        };
        let threads = self.threads().min(graph.len()).max(1);
        let r = &run;
        match &self.pool {
            Some(p) => p.scope(|s| (0..threads).for_each(|_| s.spawn(move |_| r.worker()))),
            None => rayon::scope(|s| (0..threads).for_each(|_| s.spawn(move |_| r.worker()))),
        }
        let mut st = run.lock();
        match st.error.take() {
            Some(e) => Err(e),
            None => Ok(st.take_results()),
        }
    }
}

impl Executor for LocalScheduler {
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
        self.run(&graph.lower(keys)?)
    }
}

struct Run<'g, 'p> {
    state: Mutex<RunState<'g>>,
    wake: Condvar,
    idle: std::sync::atomic::AtomicUsize,
    progress: Option<&'p ProgressFn>,
    graph: &'g TaskGraph,
}

impl<'g> Run<'g, '_> {
    fn lock(&self) -> MutexGuard<'_, RunState<'g>> {
        // A panic never happens while the lock is held (user code runs outside it),
        // so a poisoned lock still holds consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn worker(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let mut done: Option<(TaskId, Result<Value>)> = None;
        loop {
            let mut st = self.lock();
            let mut finished = None;
            if let Some((t, outcome)) = done.take() {
                st.finish(t, outcome);
                finished = Some(Progress {
                    finished: st.finished,
                    total: st.total(),
                });
            }
            let next = loop {
                if st.error.is_some() || st.is_complete() {
                    break None;
                }
                if let Some(next) = st.start_next() {
                    break Some(next);
                }
                if st.running == 0 {
                    // Unreachable for a checked graph; never wait forever.
                    st.error = Some(Error::Other(
                        "local scheduler stalled with no task ready".into(),
                    ));
                    break None;
                }
                self.idle.fetch_add(1, Relaxed);
                st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                self.idle.fetch_sub(1, Relaxed);
            };
            let more_ready = st.has_ready();
            drop(st);
            if self.idle.load(Relaxed) > 0 && (next.is_none() || more_ready) {
                if next.is_none() {
                    self.wake.notify_all();
                } else {
                    self.wake.notify_one();
                }
            }
            if let (Some(p), Some(cb)) = (finished, self.progress) {
                cb(p);
            }
            let Some((t, inputs)) = next else { return };
            done = Some((t, execute(self.graph, t, &inputs)));
        }
    }
}

/// Runs one task, turning a panic into an error, and tags any error with the task.
fn execute(graph: &TaskGraph, t: TaskId, inputs: &Inputs) -> Result<Value> {
    let op = graph.op(t);
    let outcome = catch_unwind(AssertUnwindSafe(|| op.call(inputs))).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic with a non-string payload".into());
        Err(Error::Panic { message })
    });
    outcome.map_err(|e| e.in_task(graph.key(t), op.name()))
}

/// The single-threaded scheduler: tasks run on the calling thread in exact priority
/// order. For debugging and for deterministic tests.
#[derive(Clone, Default)]
pub struct SyncScheduler {
    validate: bool,
}

impl SyncScheduler {
    /// A single-threaded scheduler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also checks the run's bookkeeping after every task (slow; for tests).
    pub fn validating() -> Self {
        SyncScheduler { validate: true }
    }

    /// Runs a lowered graph; returns the requested values in request order.
    pub fn run(&self, graph: &TaskGraph) -> Result<Vec<Value>> {
        let mut st = RunState::new(graph, order(graph));
        while let Some((t, inputs)) = st.start_next() {
            let outcome = execute(graph, t, &inputs);
            drop(inputs);
            st.finish(t, outcome);
            if self.validate {
                st.validate();
            }
            if st.error.is_some() {
                break;
            }
        }
        match st.error.take() {
            Some(e) => Err(e),
            None => Ok(st.take_results()),
        }
    }
}

impl Executor for SyncScheduler {
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
        self.run(&graph.lower(keys)?)
    }
}

inventory::submit! {
    ExecutorRegistration { rank: 0, name: "threads", make: || Arc::new(LocalScheduler::new()) }
}
