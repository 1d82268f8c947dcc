//! The worker process: a thin tokio shell around [`WorkerState`].
//!
//! The core task owns the state machine and the address book of peers; results
//! live in a shared store that the thread pool reads inputs from and the peer
//! server sends from. Tasks run on a pool of `nthreads` threads; fetches
//! from peers run as tasks on the runtime, one connection per peer kept open.
//! When the scheduler goes away the worker drops everything it held and connects
//! again (for `reconnect` at most), so a restarted scheduler gets its workers back.
//!
//! Under a memory limit the store spills least recently used results to files in
//! the worker's local directory, and a [`MemoryManager`] fed with the held bytes
//! and 100 ms samples of the process's memory decides when to spill, pause and
//! exit for the nanny (`memory`). Spilled inputs are read back on the task's
//! thread; an unreadable spill file sends the task back to the scheduler, which
//! recomputes the input.

mod memory;
mod options;
mod peer;
mod pool;
mod report;
mod reporting;
mod store;

pub use options::WorkerOptions;
use peer::serve_peers;
pub(crate) use peer::{get_data, Dial, PeerConn};
use pool::Pool;
use store::{Fetched, Store};

use super::address::{check_reachable, contact_address, strip_scheme};
use super::comm::{connect_announcing, read_batch, split, BoxStream, Outbox};
use super::ids::StimulusId;
use super::ids::WorkerId;
use super::messages::{encoded, value_frames, Incoming, Msg, Outgoing};
pub use super::work_dir::local_directory;
use super::work_dir::WorkDir;
use super::worker_info::Counters;
use super::worker_memory::MemoryManager;
use super::worker_state::{WorkerEvent, WorkerInstruction, WorkerState};
use crate::error::{Error, Result};
use crate::protocol::{Limits, Role};
use crate::spill::Spiller;
use brisk_core::value::decode;
use brisk_core::{Key, Value};
use rustc_hash::FxHashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Ops whose mean run time is below this many seconds run on the network thread.
pub const INLINE_TASK_SECONDS: f64 = 20e-6;

/// Results at most this large ride along with the report when a client waits.
pub const INLINE_VALUE_LIMIT: usize = 64 * 1024;

/// How often a worker with a memory limit samples its process's memory.
pub const MEMORY_SAMPLE_PERIOD: Duration = Duration::from_millis(100);

use super::supervision::RESTART_EXIT_CODE;
pub use super::supervision::{MEMORY_EXIT_CODE, NANNY_ENV};

/// The exit code a worker asked for when it ended its run itself (memory past
/// the terminate threshold, a restart asked by the scheduler); 0 otherwise.
static EXIT_CODE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The exit code the last worker run in this process asked for (see
/// [`MEMORY_EXIT_CODE`], [`RESTART_EXIT_CODE`]).
pub fn exit_code() -> i32 {
    EXIT_CODE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Why a task did not give a result.
enum Failure {
    /// The task failed (the message says where and why).
    Error(String),
    /// An input could not be read back from its spill file.
    Lost { input: Key, reason: String },
}

enum Input {
    Scheduler(Vec<Incoming>),
    SchedulerGone,
    Executed {
        session: u64,
        key: Key,
        op: String,
        result: std::result::Result<Value, Failure>,
        duration: f64,
        /// The pool thread that ran it.
        thread: u32,
    },
    Fetched {
        session: u64,
        peer: WorkerId,
        result: Result<Fetched>,
        asked: Vec<Key>,
        /// When the fetch started.
        started: Instant,
    },
    Heartbeat,
    /// Time to sample the process's memory.
    MemorySample,
}

/// Runs a worker until `shutdown` resolves or the scheduler stays unreachable for
/// longer than `options.reconnect`.
pub async fn serve(
    options: WorkerOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let listener = TcpListener::bind(strip_scheme(&options.listen))
        .await
        .map_err(|e| Error::Config {
            reason: format!("cannot listen on {}: {e}", options.listen),
        })?;
    let address = contact_address(listener.local_addr()?, options.contact.as_deref())?;
    if options.contact.is_some() {
        check_reachable(&address, options.connect_timeout).await?;
    }
    tracing::info!(
        target: "brisk::worker",
        "worker at {address}: {} threads, memory limit {} bytes, scheduler {}",
        options.nthreads,
        options.memory_limit,
        options.scheduler
    );
    let workdir = WorkDir::create(&options.local_directory)?;
    let store: Store = Arc::new(Spiller::new(&workdir.path().join("spill"))?);
    let counters: Arc<Counters> = Arc::default();
    let peer_server = tokio::spawn(serve_peers(
        listener,
        store.clone(),
        counters.clone(),
        options.clone(),
    ));
    let pool = Pool::new(options.nthreads.max(1))?;
    tokio::pin!(shutdown);
    let mut session = 0u64;
    let result = loop {
        session += 1;
        let stream = tokio::select! {
            _ = &mut shutdown => break Ok(()),
            s = connect_with_retry(&options) => s,
        };
        let (stream, peer) = match stream {
            Ok(s) => s,
            Err(e) => break Err(e),
        };
        let mut w = Session::new(
            session,
            &options,
            &address,
            store.clone(),
            &pool,
            counters.clone(),
        );
        let ended = tokio::select! {
            _ = &mut shutdown => true,
            _ = w.run(stream, peer) => false,
        } || w.retired;
        store.clear();
        if ended {
            break Ok(());
        }
    };
    peer_server.abort();
    result
}

/// The scheduler's connection, and what the scheduler accepts.
async fn connect_with_retry(options: &WorkerOptions) -> Result<(BoxStream, Limits)> {
    let deadline = Instant::now() + options.reconnect;
    let mut wait = Duration::from_millis(20);
    loop {
        match connect_announcing(
            &options.scheduler,
            Role::Worker,
            options.token.as_deref(),
            options.tls.as_ref(),
            options.connect_timeout,
            &options.limits,
        )
        .await
        {
            Ok(s) => return Ok(s),
            Err(Error::Handshake { reason }) => return Err(Error::Handshake { reason }),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(500));
            }
        }
    }
}

struct Session<'a> {
    id: u64,
    options: &'a WorkerOptions,
    address: &'a str,
    store: Store,
    pool: &'a Pool,
    state: WorkerState,
    peers: FxHashMap<WorkerId, String>,
    conns: FxHashMap<WorkerId, Arc<tokio::sync::Mutex<Option<PeerConn>>>>,
    tx: mpsc::UnboundedSender<Input>,
    rx: mpsc::UnboundedReceiver<Input>,
    out: Outgoing,
    /// Mean run time by op name, seconds, with the number of runs.
    op_means: FxHashMap<String, (f64, u32)>,
    /// What this worker has done, reported with heartbeats.
    counters: Arc<Counters>,
    /// Spilling, pausing and terminating by memory.
    memory: MemoryManager,
    /// This worker's id, from the scheduler's welcome.
    me: Option<WorkerId>,
    /// The scheduler retired this worker: it exits.
    retired: bool,
    /// Transfers, spills, log lines and CPU for the heartbeats.
    reporting: reporting::Reporting,
    /// The task whose run just ended, and the thread it ran on.
    finishing: Option<(Key, u32)>,
}

impl<'a> Session<'a> {
    fn new(
        id: u64,
        options: &'a WorkerOptions,
        address: &'a str,
        store: Store,
        pool: &'a Pool,
        counters: Arc<Counters>,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Session {
            id,
            options,
            address,
            store,
            pool,
            state: WorkerState::new(options.nthreads),
            peers: FxHashMap::default(),
            conns: FxHashMap::default(),
            tx,
            rx,
            out: Outgoing::default(),
            op_means: FxHashMap::default(),
            counters,
            memory: MemoryManager::new(options.memory_limit, {
                // Only a nanny can restart a worker: without one, no terminating.
                let mut t = options.memory;
                if std::env::var_os(NANNY_ENV).is_none() {
                    t.terminate = None;
                }
                t
            }),
            me: None,
            retired: false,
            reporting: reporting::Reporting::new(),
            finishing: None,
        }
    }

    async fn run(&mut self, stream: BoxStream, scheduler: Limits) {
        let (mut r, w) = split(stream);
        let outbox = Outbox::spawn_for(w, true, scheduler);
        let mut hello = Outgoing::default();
        hello.push(Msg::RegisterWorker {
            address: self.address.to_string(),
            nthreads: self.options.nthreads as u32,
            memory_limit: self.options.memory_limit,
            name: self.options.name.clone(),
        });
        outbox.send(hello);
        let limits = self.options.limits;
        let tx = self.tx.clone();
        let reader = tokio::spawn(async move {
            loop {
                match read_batch(&mut r, &limits).await {
                    Ok(Some(msgs)) => {
                        if tx.send(Input::Scheduler(msgs)).is_err() {
                            return;
                        }
                    }
                    _ => {
                        let _ = tx.send(Input::SchedulerGone);
                        return;
                    }
                }
            }
        });
        let tick = |period: Duration, input: fn() -> Input| {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let mut i = tokio::time::interval(period);
                loop {
                    i.tick().await;
                    if tx.send(input()).is_err() {
                        return;
                    }
                }
            })
        };
        let heart = tick(self.options.heartbeat, || Input::Heartbeat);
        let sampler = (self.options.memory_limit > 0)
            .then(|| tick(MEMORY_SAMPLE_PERIOD, || Input::MemorySample));
        while let Some(input) = self.rx.recv().await {
            let mut alive = self.on_input(input);
            while alive {
                match self.rx.try_recv() {
                    Ok(more) => alive = self.on_input(more),
                    Err(_) => break,
                }
            }
            if !self.out.msgs.is_empty() {
                outbox.send(std::mem::take(&mut self.out));
            }
            if !alive {
                break;
            }
        }
        reader.abort();
        heart.abort();
        if let Some(s) = sampler {
            s.abort();
        }
    }

    /// Handles one input; false when the session is over.
    fn on_input(&mut self, input: Input) -> bool {
        match input {
            Input::Scheduler(msgs) => {
                for m in msgs {
                    if !self.on_scheduler_message(m) {
                        return false;
                    }
                }
            }
            Input::SchedulerGone => return false,
            Input::Heartbeat => self.heartbeat(),
            Input::MemorySample => self.sample_memory(),
            Input::Executed {
                session,
                key,
                op,
                result,
                duration,
                thread,
            } => {
                if session != self.id {
                    return true;
                }
                self.finishing = Some((key.clone(), thread));
                self.counters.executed();
                let (mean, n) = self.op_means.entry(op).or_insert((0.0, 0));
                *n += 1;
                *mean += (duration - *mean) / (*n).min(50) as f64;
                match result {
                    Ok(value) => {
                        let nbytes = value.nbytes() as u64;
                        self.store.insert(key.clone(), value);
                        // Spill first, then start what comes next.
                        self.managed_changed();
                        self.step(WorkerEvent::ExecuteDone {
                            key,
                            nbytes,
                            duration,
                        });
                    }
                    Err(Failure::Error(error)) => {
                        self.step(WorkerEvent::ExecuteFailed { key, error })
                    }
                    Err(Failure::Lost { input, reason }) => {
                        tracing::warn!(target: "brisk::worker", "{reason}; the scheduler recomputes {input}");
                        match self.me {
                            Some(holder) => {
                                self.step(WorkerEvent::InputLost { key, input, holder })
                            }
                            None => self.step(WorkerEvent::ExecuteFailed { key, error: reason }),
                        }
                    }
                }
            }
            Input::Fetched {
                session,
                peer,
                result,
                asked,
                started,
            } => {
                if session != self.id {
                    return true;
                }
                match result {
                    Ok((values, missing)) => {
                        let seconds = started.elapsed().as_secs_f64();
                        let mut received = Vec::with_capacity(values.len());
                        for (k, v) in values {
                            received.push((k.clone(), v.nbytes() as u64));
                            self.store.insert(k, v);
                        }
                        let bytes = received.iter().map(|(_, b)| b).sum();
                        self.counters.received(received.len() as u64, bytes);
                        if !received.is_empty() {
                            self.reporting.record(
                                super::observe::RecordKind::Transfer,
                                seconds,
                                received.len() as u64,
                                bytes,
                            );
                        }
                        self.managed_changed();
                        self.step(WorkerEvent::FetchDone {
                            peer,
                            received,
                            missing,
                        });
                    }
                    Err(_) => {
                        self.conns.remove(&peer);
                        self.step(WorkerEvent::FetchFailed { peer, keys: asked });
                    }
                }
            }
        }
        true
    }

    fn on_scheduler_message(&mut self, m: Incoming) -> bool {
        match m.msg {
            Msg::WorkerWelcome { worker } => self.me = Some(worker),
            Msg::Peers { peers } => {
                for (id, addr) in peers {
                    self.peers.insert(id, addr);
                }
            }
            Msg::Compute {
                key,
                spec,
                inputs,
                priority,
                send_value,
                stimulus_id,
                run,
            } => self.step_stimulus(
                WorkerEvent::Compute {
                    key,
                    spec,
                    inputs,
                    priority,
                    send_value,
                    run,
                },
                stimulus_id,
            ),
            Msg::Free { keys, stimulus_id } => {
                self.step_stimulus(WorkerEvent::Free { keys }, stimulus_id)
            }
            Msg::Store {
                key,
                value,
                stimulus_id,
            } => match decode(encoded(value, m.frames)) {
                Ok(v) => {
                    let nbytes = v.nbytes() as u64;
                    self.store.insert(key.clone(), v);
                    self.managed_changed();
                    self.step_stimulus(WorkerEvent::Stored { key, nbytes }, stimulus_id);
                }
                Err(e) => self.out.push(Msg::TaskErred {
                    key,
                    error: e.to_string(),
                    run: None,
                }),
            },
            Msg::Replicate {
                key,
                holders,
                stimulus_id,
            } => self.step_stimulus(WorkerEvent::Replicate { key, holders }, stimulus_id),
            Msg::WorkerQuery { id, query } => self.answer_query(id, query),
            Msg::Retire => {
                tracing::info!(target: "brisk::worker", "retired by the scheduler: exiting");
                self.retired = true;
                return false;
            }
            Msg::RestartWorker => {
                if std::env::var_os(NANNY_ENV).is_some() {
                    tracing::info!(target: "brisk::worker", "the scheduler asks for a restart: exiting for the nanny");
                    self.end_with(RESTART_EXIT_CODE);
                } else {
                    // No nanny to start a new process: start afresh in this one
                    // (everything dropped, registered again as a new worker).
                    tracing::info!(target: "brisk::worker", "the scheduler asks for a restart: starting afresh");
                }
                return false;
            }
            Msg::Goodbye { reason } => {
                tracing::warn!(target: "brisk::worker", "the scheduler said goodbye: {reason}");
                return false;
            }
            _ => {}
        }
        true
    }

    /// Handles an event that happened here.
    fn step(&mut self, e: WorkerEvent) {
        let out = self.state.handle(e);
        self.carry_out_all(out);
    }

    /// Handles an event the scheduler caused, under the scheduler's stimulus id.
    fn step_stimulus(&mut self, e: WorkerEvent, stimulus_id: StimulusId) {
        let out = self.state.handle_stimulus(e, stimulus_id);
        self.carry_out_all(out);
    }

    fn carry_out_all(&mut self, out: Vec<WorkerInstruction>) {
        for i in out {
            self.carry_out(i);
        }
        self.check_state();
    }

    /// Logs transitions the table refused and, when validating, a state whose
    /// indexes disagree; either panics in debug builds (a bug, caught in tests).
    fn check_state(&mut self) {
        let mut problems = self.state.take_broken();
        if self.options.validate {
            if let Err(e) = self.state.validate() {
                problems.push(e);
            }
        }
        super::state_check::report_broken_state("worker", &problems);
    }

    fn carry_out(&mut self, i: WorkerInstruction) {
        match i {
            WorkerInstruction::Execute { key, spec, inputs } => self.execute(key, spec, inputs),
            WorkerInstruction::Fetch { peer, keys } => self.fetch(peer, keys),
            WorkerInstruction::Release { key } => self.store.remove(&key),
            WorkerInstruction::TaskFinished {
                key,
                nbytes,
                duration,
                send_value,
                run,
            } => {
                // Only a run that just ended makes a task-stream record.
                let thread = self
                    .finishing
                    .take()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, t)| t);
                let value = if send_value && nbytes as usize <= INLINE_VALUE_LIMIT {
                    self.store.lock().peek(&key).cloned()
                } else {
                    None
                };
                match value.map(|v| value_frames(&v)) {
                    Some(Ok((v, frames))) => {
                        self.out.push_with(
                            Msg::TaskFinished {
                                key,
                                nbytes,
                                duration,
                                value: Some(v),
                                thread,
                                run: Some(run),
                            },
                            frames,
                        );
                    }
                    _ => self.out.push(Msg::TaskFinished {
                        key,
                        nbytes,
                        duration,
                        value: None,
                        thread,
                        run: Some(run),
                    }),
                }
            }
            WorkerInstruction::TaskErred { key, error, run } => self.out.push(Msg::TaskErred {
                key,
                error,
                run: Some(run),
            }),
            WorkerInstruction::MissingData {
                key,
                missing,
                holder,
            } => self.out.push(Msg::MissingData {
                key,
                missing,
                holder,
            }),
            WorkerInstruction::AddKeys { keys } => self.out.push(Msg::AddKeys { keys }),
        }
    }

    fn execute(&mut self, key: Key, spec: super::ids::TaskSpec, inputs: Vec<Key>) {
        let spec_op = spec.op.clone();
        let spec_op = spec_op.as_str();
        let store = self.store.clone();
        let tx = self.tx.clone();
        let session = self.id;
        let job = move || {
            let start = Instant::now();
            // Spilled inputs are read back here, on the task's thread.
            let values = inputs
                .iter()
                .map(|k| {
                    let why = match store.get(k) {
                        Ok(Some(v)) => return Ok(v),
                        Ok(None) => "it is not on this worker".to_string(),
                        Err(e) => e.to_string(),
                    };
                    Err(Failure::Lost {
                        input: k.clone(),
                        reason: format!("input {k} of task {key}: {why}"),
                    })
                })
                .collect::<std::result::Result<Vec<Value>, Failure>>();
            let result = values.and_then(|values| {
                let op = brisk_core::op::rebuild(&spec.op, &spec.params)
                    .map_err(|e| Failure::Error(format!("{e} (in task {key})")))?;
                match std::panic::catch_unwind(AssertUnwindSafe(|| op.call(&values))) {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(e)) => Err(Failure::Error(format!(
                        "{e} (in task {key}, op '{}')",
                        spec.op
                    ))),
                    Err(p) => {
                        let msg = p
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "a panic".into());
                        Err(Failure::Error(format!(
                            "panicked: {msg} (in task {key}, op '{}')",
                            spec.op
                        )))
                    }
                }
            });
            let duration = start.elapsed().as_secs_f64();
            let _ = tx.send(Input::Executed {
                session,
                key,
                op: spec.op,
                result,
                duration,
                thread: pool::current_thread(),
            });
        };
        // Ops measured to take a few microseconds run right here: handing them to
        // a pool thread and back would cost more than running them.
        let tiny = self
            .op_means
            .get(spec_op)
            .is_some_and(|(mean, n)| *n >= 3 && *mean < INLINE_TASK_SECONDS);
        if tiny {
            job();
        } else {
            self.pool.spawn(Box::new(job));
        }
    }

    fn fetch(&mut self, peer: WorkerId, keys: Vec<Key>) {
        let tx = self.tx.clone();
        let session = self.id;
        let started = Instant::now();
        let Some(address) = self.peers.get(&peer).cloned() else {
            let _ = tx.send(Input::Fetched {
                session,
                peer,
                result: Err(Error::Malformed {
                    reason: format!("no address known for {peer}"),
                }),
                asked: keys,
                started,
            });
            return;
        };
        let slot = self.conns.entry(peer).or_default().clone();
        let token = self.options.token.clone();
        let tls = self.options.tls.clone();
        let limits = self.options.limits;
        let timeout = self.options.connect_timeout;
        tokio::spawn(async move {
            let mut guard = slot.lock().await;
            let result = get_data(
                &mut guard,
                &address,
                Dial {
                    token: token.as_deref(),
                    tls: tls.as_ref(),
                    timeout,
                },
                &limits,
                &keys,
                true,
            )
            .await;
            if result.is_err() {
                *guard = None;
            }
            drop(guard);
            let _ = tx.send(Input::Fetched {
                session,
                peer,
                result,
                asked: keys,
                started,
            });
        });
    }
}

/// Runs a worker on this thread until SIGTERM/SIGINT or until the scheduler stays
/// away longer than `options.reconnect`.
pub fn run_blocking(options: WorkerOptions) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(options, super::scheduler_server::terminated()))
}
