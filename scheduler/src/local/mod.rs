//! The local scheduler: runs a task graph in this process.
//!
//! Policy, top to bottom:
//!
//! 1. The graph is lowered (culled to the requested keys, checked) and ordered with
//!    [`brisk_core::order`]; every task gets a static priority.
//! 2. Ready tasks wait in one heap, best priority first. Worker jobs on the rayon
//!    pool each loop: under one short lock a job records the result of the task it
//!    just ran, releases inputs whose last reader has run, readies the readers whose
//!    inputs are complete, and takes the next task; it then runs that task outside
//!    the lock. One lock round per task is the whole scheduling overhead. A job with
//!    nothing to take ends instead of waiting, and a job that readies more tasks than
//!    there are jobs spawns new ones (up to the thread count): no pool thread is ever
//!    blocked by the scheduler, so tasks may use rayon themselves.
//! 3. A result is dropped as soon as its last reader has run, unless it was requested.
//!    Keys requested twice, or reached by two requests, are one task and run once.
//! 4. The first error (a user error or a panic, caught and turned into an error) stops
//!    new tasks from starting; running ones finish; the error is returned with the
//!    failing key and op name.
//! 5. A progress callback hears about every finished task, in order (it is called
//!    under the lock: keep it quick).
//! 6. Under a memory limit ([`LocalScheduler::memory_limit`], or the
//!    `BRISK_MEMORY_LIMIT` variable for the default scheduler) held results past
//!    [`LOCAL_SPILL_TARGET`] of the limit are spilled to files, least recently
//!    used first, and read back when a task needs them (see [`crate::spill`]), so
//!    a graph whose live intermediates exceed the memory completes.
//!
//! [`SyncScheduler`] runs the same loop on the calling thread, one task at a time, in
//! exact priority order: the one to use in a debugger.

mod state;

use crate::spill::{SpillTotals, Spiller};
use brisk_core::executor::ExecutorRegistration;
use brisk_core::{order, Error, Executor, Graph, Key, Result, TaskGraph, TaskId, Value};
use state::{gather, Inputs, Released, RunState};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::SyncSender as Sender;
use std::sync::{Arc, Mutex, MutexGuard};

/// How far a run has come, given to the progress callback after every task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Tasks finished.
    pub finished: usize,
    /// Tasks in the (culled) graph.
    pub total: usize,
}

type ProgressFn = dyn Fn(Progress) + Send + Sync;

/// The fraction of a local memory limit that held results may take before the
/// least recently used are spilled (the rest is room for the running tasks).
pub const LOCAL_SPILL_TARGET: f64 = 0.6;

/// The environment variable that gives the default scheduler a memory limit
/// (`4GiB`, `500MB`, `0.5` of the machine).
pub const MEMORY_LIMIT_ENV: &str = "BRISK_MEMORY_LIMIT";

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
    memory_limit: Option<u64>,
    spill_directory: Option<PathBuf>,
    /// The spill I/O of every run so far (shared by clones).
    spilled: Arc<Mutex<SpillTotals>>,
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
            ..Default::default()
        }
    }

    /// Keeps held results under [`LOCAL_SPILL_TARGET`] of `bytes` by spilling
    /// the least recently used to files (in [`spill_directory`](Self::spill_directory),
    /// by default the system's temporary folder), read back when needed.
    ///
    /// ```
    /// use brisk_scheduler::LocalScheduler;
    /// let s = LocalScheduler::new().memory_limit(100 << 20);
    /// # let _ = s;
    /// ```
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = (bytes > 0).then_some(bytes);
        self
    }

    /// Where a run under a memory limit makes its folder of spill files (removed
    /// when the run ends).
    pub fn spill_directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_directory = Some(dir.into());
        self
    }

    /// The spill I/O of this scheduler's runs so far (all zero without a memory
    /// limit).
    pub fn spill_totals(&self) -> SpillTotals {
        *self.spilled.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The default scheduler: rayon's global pool, with the memory limit of
    /// [`MEMORY_LIMIT_ENV`] if set (an unreadable value is ignored with a warning).
    pub fn from_env() -> Self {
        let s = Self::new();
        match std::env::var(MEMORY_LIMIT_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                match v.parse::<crate::distributed::cli::MemoryLimit>() {
                    Ok(limit) => {
                        let bytes = limit.bytes(1, 1, crate::distributed::cli::machine_memory());
                        s.memory_limit(bytes)
                    }
                    Err(e) => {
                        tracing::warn!("{MEMORY_LIMIT_ENV}={v:?} is not a memory limit: {e}");
                        s
                    }
                }
            }
            _ => s,
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
        let mut st = self.drive(RunState::new(graph, order(graph)), graph, None, None)?;
        st.take_results()
    }

    /// Runs a lowered graph, calling `each(position, value)` on the calling thread for
    /// every requested key as soon as its value is ready (in finishing order). A
    /// requested value is dropped once `each` has seen it and its readers have run,
    /// so the caller can consume results while the rest is computed. An error from
    /// `each` is returned after the run ends.
    pub fn run_each(
        &self,
        graph: &TaskGraph,
        each: &mut dyn FnMut(usize, Value) -> Result<()>,
    ) -> Result<()> {
        if rayon::current_thread_index().is_some() {
            // Called from a task (a nested compute): this thread must keep taking part
            // in the pool's work rather than wait on a channel, so run, then hand over.
            for (i, v) in self.run(graph)?.into_iter().enumerate() {
                each(i, v)?;
            }
            return Ok(());
        }
        let positions = positions(graph);
        // A bounded channel: a worker that finished a requested task waits while the
        // caller is behind, so finished results cannot pile up (`each` must not wait
        // for this scheduler's threads).
        let (tx, rx) = std::sync::mpsc::sync_channel::<(TaskId, Value)>(self.threads().max(1));
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let stop = &stop;
            let runner = s.spawn(move || {
                let tx = tx;
                self.drive(
                    RunState::streaming(graph, order(graph)),
                    graph,
                    Some(Sink::Channel(&tx)),
                    Some(stop),
                )
                .map(|_| ())
            });
            let mut failed: Option<Error> = None;
            for (t, v) in rx {
                if failed.is_some() {
                    continue;
                }
                for &p in &positions[t.idx()] {
                    if let Err(e) = each(p, v.clone()) {
                        stop.store(true, std::sync::atomic::Ordering::Relaxed);
                        failed = Some(e);
                        break;
                    }
                }
            }
            let run = runner
                .join()
                .unwrap_or_else(|_| Err(Error::Other("the local scheduler's run panicked".into())));
            match failed {
                Some(e) => Err(e),
                None => run,
            }
        })
    }

    /// [`LocalScheduler::run_each`] with `each` called on the worker that computed
    /// each requested result, as soon as it is done (several at once).
    pub fn run_each_concurrent(
        &self,
        graph: &TaskGraph,
        each: &(dyn Fn(usize, Value) -> Result<()> + Sync),
    ) -> Result<()> {
        if rayon::current_thread_index().is_some() {
            // A nested compute: see `run_each`.
            return self.run_each(graph, &mut |i, v| each(i, v));
        }
        let positions = positions(graph);
        let sink = Sink::Call {
            each,
            positions: &positions,
        };
        self.drive(
            RunState::streaming(graph, order(graph)),
            graph,
            Some(sink),
            None,
        )
        .map(|_| ())
    }

    fn drive<'g>(
        &self,
        state: RunState<'g>,
        graph: &'g TaskGraph,
        sink: Option<Sink<'_>>,
        stop: Option<&std::sync::atomic::AtomicBool>,
    ) -> Result<RunState<'g>> {
        let threads = self.threads().max(1);
        let first = threads.min(state.ready_len()).max(1);
        let (state, spill) = match self.memory_limit {
            None => (state, None),
            Some(limit) => {
                let spiller = Arc::new(Spiller::new(&self.spill_folder())?);
                let target = (limit as f64 * LOCAL_SPILL_TARGET) as u64;
                (
                    state.spilling_into(spiller.clone()),
                    Some((spiller, target)),
                )
            }
        };
        // A bar in the terminal unless the caller follows progress itself.
        let bar = match self.progress {
            None => crate::diagnostics::progress::bar(state.total() as u64, ""),
            Some(_) => None,
        };
        let run = Run {
            bar,
            shared: Mutex::new(Shared {
                run: state,
                active: first,
            }),
            spill,
            threads,
            progress: self.progress.as_deref(),
            graph,
            sink,
            stop,
        };
        let r = &run;
        match &self.pool {
            Some(p) => p.scope(|s| (0..first).for_each(|_| s.spawn(move |s| r.worker(s)))),
            None => rayon::scope(|s| (0..first).for_each(|_| s.spawn(move |s| r.worker(s)))),
        }
        if let Some(bar) = &run.bar {
            bar.finish();
        }
        if let Some((spiller, _)) = &run.spill {
            let t = spiller.totals();
            let mut all = self.spilled.lock().unwrap_or_else(|p| p.into_inner());
            all.written += t.written;
            all.read += t.read;
            all.write_seconds += t.write_seconds;
            all.read_seconds += t.read_seconds;
        }
        let mut st = run
            .shared
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .run;
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        if !st.is_complete() {
            return Err(Error::Other(
                "local scheduler stopped with tasks left and none ready".into(),
            ));
        }
        Ok(st)
    }

    /// A new folder for one run's spill files.
    fn spill_folder(&self) -> PathBuf {
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.spill_directory
            .clone()
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("brisk-local-{}-{n}", std::process::id()))
    }
}

impl Executor for LocalScheduler {
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
        self.run(&graph.lower(keys)?)
    }

    fn get_each(
        &self,
        graph: &Graph,
        keys: &[Key],
        each: &mut dyn FnMut(usize, Value) -> Result<()>,
    ) -> Result<()> {
        self.run_each(&graph.lower(keys)?, each)
    }

    fn get_each_concurrent(
        &self,
        graph: &Graph,
        keys: &[Key],
        each: &(dyn Fn(usize, Value) -> Result<()> + Sync),
    ) -> Result<()> {
        self.run_each_concurrent(&graph.lower(keys)?, each)
    }
}

/// Where a streaming run hands the requested results.
#[derive(Clone, Copy)]
enum Sink<'p> {
    /// To the caller's thread.
    Channel(&'p Sender<(TaskId, Value)>),
    /// To a callback, on the worker that computed the result; `positions[t]` are
    /// the places of task `t` among the requested keys.
    Call {
        each: &'p (dyn Fn(usize, Value) -> Result<()> + Sync),
        positions: &'p [Vec<usize>],
    },
}

/// What the threads of one run share, behind one lock.
struct Shared<'g> {
    run: RunState<'g>,
    /// Worker jobs running or about to run.
    active: usize,
}

struct Run<'g, 'p> {
    shared: Mutex<Shared<'g>>,
    /// Under a memory limit: where held results live, and the bytes they may
    /// take in memory.
    spill: Option<(Arc<Spiller<Key>>, u64)>,
    threads: usize,
    progress: Option<&'p ProgressFn>,
    graph: &'g TaskGraph,
    /// Where a streaming run hands requested results.
    sink: Option<Sink<'p>>,
    /// Set by the caller of a streaming run to stop it.
    stop: Option<&'p std::sync::atomic::AtomicBool>,
    /// A progress bar in the terminal, when shown.
    bar: Option<indicatif::ProgressBar>,
}

impl<'g> Run<'g, '_> {
    fn lock(&self) -> MutexGuard<'_, Shared<'g>> {
        // User code runs outside the lock, and the progress callback under it is
        // guarded, so a poisoned lock still holds consistent state.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One worker job: takes tasks until none is ready, then ends. A job never waits:
    /// when a finished task readies more tasks than there are jobs, it spawns more
    /// (up to the thread count), so no pool thread is ever blocked by the scheduler
    /// and tasks that use rayon themselves (`par_iter`, a nested `compute`) cannot
    /// deadlock against it.
    fn worker<'s>(&'s self, scope: &rayon::Scope<'s>) {
        let mut done: Option<(TaskId, Result<Value>)> = None;
        loop {
            let mut sh = self.lock();
            let mut released = Released::new();
            let mut handed = Vec::new();
            if let Some((t, outcome)) = done.take() {
                released = sh.run.finish(t, outcome);
                self.report(&mut sh.run);
                if self.sink.is_some() {
                    handed = sh.run.take_outbox();
                }
            }
            if self
                .stop
                .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
                && sh.run.error.is_none()
            {
                sh.run.error = Some(Error::Other(
                    "stopped: the caller of get_each returned an error".into(),
                ));
            }
            let next = if sh.run.error.is_none() {
                sh.run.start_next()
            } else {
                None
            };
            let helpers = match next {
                Some(_) => sh
                    .run
                    .ready_len()
                    .min(self.threads.saturating_sub(sh.active)),
                None => {
                    sh.active -= 1;
                    0
                }
            };
            sh.active += helpers;
            drop(sh);
            drop(released);
            if let Some((spiller, target)) = &self.spill {
                if spiller.memory_bytes() > *target {
                    spiller.spill_until(*target);
                }
            }
            for _ in 0..helpers {
                scope.spawn(move |s| self.worker(s));
            }
            // Last, as it may wait for the caller: nothing is held or delayed by it.
            match self.sink {
                Some(Sink::Channel(tx)) => {
                    for h in handed {
                        // The receiver lives until the run ends.
                        let _ = tx.send(h);
                    }
                }
                Some(Sink::Call { each, positions }) => {
                    for (t, v) in handed {
                        for &p in &positions[t.idx()] {
                            // After an error the run is stopping: hand nothing more.
                            if self.lock().run.error.is_some() {
                                break;
                            }
                            let outcome = catch_unwind(AssertUnwindSafe(|| each(p, v.clone())))
                                .unwrap_or_else(|_| {
                                    Err(Error::Other(
                                        "the consumer of get_each_concurrent panicked".into(),
                                    ))
                                });
                            if let Err(e) = outcome {
                                let mut sh = self.lock();
                                if sh.run.error.is_none() {
                                    sh.run.error = Some(e);
                                }
                            }
                        }
                    }
                }
                None => {}
            }
            let Some((t, inputs)) = next else { return };
            let inputs = match &self.spill {
                None => Ok(inputs),
                Some((spiller, _)) => gather(self.graph, spiller, t),
            };
            let timed = crate::diagnostics::report::recording().then(std::time::Instant::now);
            let outcome = inputs.and_then(|inputs| execute(self.graph, t, &inputs));
            if let Some(started) = timed {
                let thread = rayon::current_thread_index().unwrap_or(0) as u32;
                crate::diagnostics::report::record_local_task(
                    thread,
                    self.graph.key(t),
                    started,
                    std::time::Instant::now(),
                );
            }
            done = Some((t, outcome));
        }
    }

    /// Calls the progress callback (under the lock, so reports never go backwards); a
    /// panic in it becomes the run's error.
    fn report(&self, st: &mut RunState<'_>) {
        if let Some(bar) = &self.bar {
            bar.set_position(st.finished as u64);
        }
        if let Some(cb) = self.progress {
            let p = Progress {
                finished: st.finished,
                total: st.total(),
            };
            if catch_unwind(AssertUnwindSafe(|| cb(p))).is_err() && st.error.is_none() {
                st.error = Some(Error::Other("the progress callback panicked".into()));
            }
        }
    }
}

/// For each task, its places among the requested keys (a key may be asked twice).
fn positions(graph: &TaskGraph) -> Vec<Vec<usize>> {
    let mut positions: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (i, t) in graph.requested().iter().enumerate() {
        positions[t.idx()].push(i);
    }
    positions
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
            None => st.take_results(),
        }
    }
}

impl Executor for SyncScheduler {
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
        self.run(&graph.lower(keys)?)
    }
}

inventory::submit! {
    ExecutorRegistration { rank: 0, name: "threads", make: || Arc::new(LocalScheduler::from_env()) }
}
