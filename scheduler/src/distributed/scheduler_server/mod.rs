//! The scheduler process: a thin tokio shell around [`SchedulerState`].
//!
//! One task per connection reads batches and forwards them to the core task, which
//! alone owns the state: it turns messages into events, runs the state machine and
//! routes the instructions, gathering everything for one destination into one
//! batch. Runs on a single-threaded runtime: no locks, and a message reaches the
//! state without crossing threads.

mod observe;
mod queries;

use super::comm::{
    accept_announcing, goodbye, next_connection, read_batch, split, turn_away, Outbox,
};
use super::ids::{ClientId, StimulusId, WorkerId};
use super::messages::{Incoming, Msg, Outgoing, WireValue};
use super::observe::{Ask, Observations};
use super::scheduler_state::{
    Event, Instruction, NewTask, Report, SchedulerConfig, SchedulerState,
};
use super::waits::{Until, Waits};
use super::worker_info::{WorkerInfo, WorkerMetrics};
use crate::error::Result;
use crate::protocol::{Limits, Role};
use brisk_core::Key;
use queries::{Pending, Responder};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// How a scheduler is run.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Listen address, e.g. `127.0.0.1:8786` (`:0` picks a free port).
    pub listen: String,
    /// A shared token every peer must present.
    pub token: Option<String>,
    /// What a peer may send.
    pub limits: Limits,
    /// How long a new connection has to finish its handshake (TLS, hello) and
    /// register as a worker or client; a silent or slow one is closed then.
    pub handshake_timeout: Duration,
    /// The state machine's tunables.
    pub config: SchedulerConfig,
    /// TLS for every connection.
    pub tls: Option<super::tls::Tls>,
    /// Most connections open at once (workers, clients, and connections still in
    /// their handshake); more are turned away with a refusal saying so.
    pub max_connections: usize,
    /// Bytes queued for one client, not yet read by it, beyond which results are
    /// no longer sent with their reports: the client fetches them from the
    /// workers instead (a client that reads slowly slows its own results, and
    /// costs the scheduler at most this much).
    pub client_buffer: usize,
    /// Bytes queued for any one connection beyond which the peer is taken to
    /// have stopped reading and is disconnected.
    pub max_queued: usize,
    /// Let [`run_blocking`] listen on a non-loopback address without a token or
    /// TLS (anyone who can reach the port could join as a worker).
    pub insecure: bool,
    /// Check the state machine's indexes after every event (linear in the tasks
    /// held: for tests, as Dask's test clusters run). A failed check, like a
    /// transition the table refuses, is logged with the task's story and panics
    /// in debug builds.
    pub validate: bool,
    /// Where the dashboard listens (`host:port`; an empty host is the
    /// scheduler's, a busy port is replaced by a free one); `None`: no
    /// dashboard. It asks for `token` when there is one and serves HTTPS with
    /// `tls`.
    pub dashboard: Option<String>,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            listen: "127.0.0.1:8786".into(),
            token: None,
            limits: Limits::default(),
            handshake_timeout: Duration::from_secs(10),
            config: SchedulerConfig::default(),
            tls: None,
            max_connections: 4096,
            client_buffer: 64 << 20,
            max_queued: 1 << 30,
            insecure: false,
            validate: false,
            dashboard: None,
        }
    }
}

/// What a running scheduler shows its owner (used by `LocalCluster` and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulerStatus {
    /// Connected workers.
    pub workers: usize,
    /// Connected clients.
    pub clients: usize,
    /// Tasks known.
    pub tasks: usize,
    /// Bytes queued for all connections and not yet written (read every second).
    pub queued_bytes: usize,
    /// The dashboard's address (`http://host:port/status`), once it listens.
    pub dashboard: Option<String>,
}

enum Peer {
    Worker(WorkerId),
    Client(ClientId),
}

enum CoreInput {
    Joined {
        conn: u64,
        first: Incoming,
        outbox: Outbox,
    },
    Batch {
        conn: u64,
        msgs: Vec<Incoming>,
    },
    Closed {
        conn: u64,
    },
    Tick,
    /// A question from the dashboard.
    Ask(Ask),
}

/// Binds the listen address; returns the listener and the address it got.
pub async fn bind(listen: &str) -> Result<(TcpListener, String)> {
    let addr = listen.strip_prefix("tcp://").unwrap_or(listen);
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, format!("tcp://{local}")))
}

/// Runs a scheduler on `listener` until `shutdown` resolves; `status` is kept up
/// to date.
pub async fn serve(
    listener: TcpListener,
    options: SchedulerOptions,
    status: watch::Sender<SchedulerStatus>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<CoreInput>();
    let dashboard = start_dashboard(&options, &listener, tx.clone());
    let token = options.token.clone();
    let tls = options.tls.clone();
    let limits = options.limits;
    let handshake = options.handshake_timeout;
    let accept_tx = tx.clone();
    let max_connections = options.max_connections.max(1);
    let acceptor = tokio::spawn(async move {
        let mut next_conn = 0u64;
        let mut backoff = Duration::ZERO;
        // Connection tasks end with the acceptor (on a shared runtime nothing else
        // would stop them).
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let tcp = next_connection(&listener, &mut backoff).await;
            while connections.try_join_next().is_some() {}
            if connections.len() >= max_connections {
                let reason =
                    format!("the scheduler has reached its limit of {max_connections} connections");
                tracing::warn!(target: "brisk::scheduler", "{reason}: turning one away");
                turn_away(tcp, Role::Scheduler, reason, tls.is_none());
                continue;
            }
            next_conn += 1;
            let conn = next_conn;
            connections.spawn(connection(
                conn,
                tcp,
                accept_tx.clone(),
                token.clone(),
                tls.clone(),
                limits,
                handshake,
            ));
        }
    });
    let tick_tx = tx.clone();
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            if tick_tx.send(CoreInput::Tick).is_err() {
                break;
            }
        }
    });
    drop(tx);
    let mut core = Core::new(options.config, status, options.validate);
    core.client_buffer = options.client_buffer;
    core.max_queued = options.max_queued;
    let link = dashboard.as_ref().map(|d| d.link().to_string());
    core.status.send_modify(|s| s.dashboard = link);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            input = rx.recv() => match input {
                Some(input) => core.on_input(input),
                None => break,
            },
        }
    }
    // Wait for the cancelled tasks to end, so the listener and every connection
    // are closed when this returns (a restart binds the same address next, on the
    // same runtime).
    acceptor.abort();
    ticker.abort();
    let _ = acceptor.await;
    let _ = ticker.await;
    core.shut_down();
    drop(dashboard);
    Ok(())
}

/// Starts the dashboard the options ask for; one that cannot start is logged,
/// not fatal (the cluster works without it).
fn start_dashboard(
    options: &SchedulerOptions,
    listener: &TcpListener,
    tx: mpsc::UnboundedSender<CoreInput>,
) -> Option<super::dashboard::Dashboard> {
    let address = options.dashboard.clone()?;
    let default_host = listener
        .local_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| "127.0.0.1".into());
    let ask: super::observe::AskFn =
        std::sync::Arc::new(move |a| tx.send(CoreInput::Ask(a)).is_ok());
    let d = super::dashboard::DashboardOptions {
        address,
        default_host,
        token: options.token.clone(),
        tls: options.tls.clone(),
    };
    match super::dashboard::start(d, ask) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(target: "brisk::scheduler", "no dashboard: {e}");
            None
        }
    }
}

/// One connection: the handshake and registration within `handshake`, then
/// every batch to the core. A read error is answered with a goodbye saying what
/// was wrong before the connection closes.
async fn connection(
    conn: u64,
    tcp: TcpStream,
    tx: mpsc::UnboundedSender<CoreInput>,
    token: Option<String>,
    tls: Option<super::tls::Tls>,
    limits: Limits,
    handshake: Duration,
) {
    let deadline = tokio::time::Instant::now() + handshake;
    let accepted = tokio::time::timeout_at(
        deadline,
        accept_announcing(
            tcp,
            Role::Scheduler,
            token.as_deref(),
            tls.as_ref(),
            &limits,
        ),
    )
    .await;
    let Ok(Ok((stream, hello))) = accepted else {
        return;
    };
    let (mut r, w) = split(stream);
    let outbox = Outbox::spawn_for(w, true, hello.peer_limits());
    let mut msgs = match tokio::time::timeout_at(deadline, read_batch(&mut r, &limits)).await {
        Ok(Ok(Some(msgs))) if !msgs.is_empty() => msgs,
        Ok(Ok(_)) => return,
        Ok(Err(e)) => {
            outbox.close(goodbye(format!("{e}; closing the connection")));
            return;
        }
        Err(_) => {
            outbox.close(goodbye(format!(
                "no registration within the handshake timeout of {handshake:?}"
            )));
            return;
        }
    };
    let rest = msgs.split_off(1);
    let Some(first) = msgs.pop() else { return };
    let joined = CoreInput::Joined {
        conn,
        first,
        outbox: outbox.clone(),
    };
    if tx.send(joined).is_err() {
        return;
    }
    if !rest.is_empty() && tx.send(CoreInput::Batch { conn, msgs: rest }).is_err() {
        return;
    }
    loop {
        let read = tokio::select! {
            read = read_batch(&mut r, &limits) => read,
            // The core closed this connection.
            () = outbox.closed() => break,
        };
        match read {
            Ok(Some(msgs)) => {
                if tx.send(CoreInput::Batch { conn, msgs }).is_err() {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                outbox.close(goodbye(format!("{e}; closing the connection")));
                break;
            }
        }
    }
    let _ = tx.send(CoreInput::Closed { conn });
}

struct Core {
    state: SchedulerState,
    start: Instant,
    conns: FxHashMap<u64, (Peer, Outbox)>,
    /// Each connected worker: what it said of itself (its address among it), its
    /// outbox and its connection.
    workers: BTreeMap<WorkerId, (WorkerInfo, Outbox, u64)>,
    clients: BTreeMap<ClientId, (Outbox, u64)>,
    next_worker: u32,
    next_client: u32,
    /// Small results to attach to the reports of the event being handled.
    results: FxHashMap<Key, (WireValue, Vec<Vec<u8>>)>,
    /// Scattered values to forward to workers during the event being handled.
    scattered: FxHashMap<Key, (WireValue, Vec<Vec<u8>>)>,
    out: BTreeMap<Dest, Outgoing>,
    status: watch::Sender<SchedulerStatus>,
    /// Run `validate()` after every event.
    validate: bool,
    /// Seconds without a heartbeat after which a worker is closed (for its goodbye).
    worker_ttl: f64,
    /// See [`SchedulerOptions::client_buffer`].
    client_buffer: usize,
    /// See [`SchedulerOptions::max_queued`].
    max_queued: usize,
    /// Bytes of values put in the batch being gathered for each client.
    pending_values: FxHashMap<ClientId, usize>,
    /// Bytes queued for all connections, as of the last tick.
    queued_bytes: usize,
    /// Client requests answered once done.
    waits: Waits,
    /// The task stream, workers' memory and logs, event-handling time.
    observe: Observations,
    /// Questions waiting for workers' answers, by id.
    queries: BTreeMap<u64, Pending>,
    next_query: u64,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Dest {
    Worker(WorkerId),
    Client(ClientId),
}

impl Core {
    fn new(
        config: SchedulerConfig,
        status: watch::Sender<SchedulerStatus>,
        validate: bool,
    ) -> Core {
        Core {
            worker_ttl: config.worker_timeout,
            state: SchedulerState::new(config),
            start: Instant::now(),
            conns: FxHashMap::default(),
            workers: BTreeMap::new(),
            clients: BTreeMap::new(),
            next_worker: 0,
            next_client: 0,
            results: FxHashMap::default(),
            scattered: FxHashMap::default(),
            out: BTreeMap::new(),
            status,
            validate,
            client_buffer: SchedulerOptions::default().client_buffer,
            max_queued: SchedulerOptions::default().max_queued,
            pending_values: FxHashMap::default(),
            queued_bytes: 0,
            waits: Waits::default(),
            observe: Observations::default(),
            queries: BTreeMap::new(),
            next_query: 0,
        }
    }

    /// Logs transitions the table refused and, when validating, a state whose
    /// indexes disagree; either panics in debug builds (a bug, caught in tests).
    fn check_state(&mut self) {
        let mut problems = self.state.take_broken();
        if self.validate {
            if let Err(e) = self.state.validate() {
                problems.push(e);
            }
        }
        super::state_check::report_broken_state("scheduler", &problems);
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn on_input(&mut self, input: CoreInput) {
        let started = Instant::now();
        match input {
            CoreInput::Joined {
                conn,
                first,
                outbox,
            } => self.on_joined(conn, first, outbox),
            CoreInput::Batch { conn, msgs } => {
                for m in msgs {
                    self.on_message(conn, m);
                }
            }
            CoreInput::Closed { conn } => self.on_closed(conn),
            CoreInput::Tick => {
                self.event(Event::Tick);
                self.finish_queries();
                // Read once a second, not per message: it changes with every write.
                self.queued_bytes = self.conns.values().map(|(_, o)| o.queued_bytes()).sum();
            }
            CoreInput::Ask(ask) => self.on_diagnostics(ask.query, Responder::Local(ask.reply)),
        }
        self.flush();
        self.observe.events += 1;
        self.observe.event_seconds += started.elapsed().as_secs_f64();
        // The counts only: the dashboard's address is set once, at the start.
        let now = (
            self.workers.len(),
            self.clients.len(),
            self.state.task_count(),
            self.queued_bytes,
        );
        self.status.send_if_modified(|old| {
            if (old.workers, old.clients, old.tasks, old.queued_bytes) == now {
                return false;
            }
            (old.workers, old.clients, old.tasks, old.queued_bytes) = now;
            true
        });
    }

    fn on_joined(&mut self, conn: u64, first: Incoming, outbox: Outbox) {
        match first.msg {
            Msg::RegisterWorker {
                address,
                nthreads,
                memory_limit,
                name,
            } => {
                self.next_worker += 1;
                let id = WorkerId(self.next_worker);
                let info = WorkerInfo {
                    id,
                    address: address.clone(),
                    name,
                    nthreads,
                    memory_limit,
                    metrics: WorkerMetrics::default(),
                    paused: false,
                };
                self.conns.insert(conn, (Peer::Worker(id), outbox.clone()));
                self.observe.worker_joined(id, &address);
                tracing::info!(target: "brisk::scheduler", "worker {id} joined from {address}");
                self.workers.insert(id, (info, outbox, conn));
                self.push(Dest::Worker(id), Msg::WorkerWelcome { worker: id });
                let peers: Vec<(WorkerId, String)> = self
                    .workers
                    .iter()
                    .map(|(w, (info, _, _))| (*w, info.address.clone()))
                    .collect();
                let ids: Vec<WorkerId> = self.workers.keys().copied().collect();
                for w in ids {
                    self.push(
                        Dest::Worker(w),
                        Msg::Peers {
                            peers: peers.clone(),
                        },
                    );
                }
                self.event(Event::AddWorker {
                    worker: id,
                    address,
                    nthreads,
                });
            }
            Msg::RegisterClient => {
                self.next_client += 1;
                let id = ClientId(self.next_client);
                self.conns.insert(conn, (Peer::Client(id), outbox.clone()));
                self.clients.insert(id, (outbox, conn));
                self.push(Dest::Client(id), Msg::ClientWelcome { client: id.0 });
                self.event(Event::AddClient { client: id });
            }
            other => {
                outbox.close(goodbye(format!(
                    "the first message must register a worker or a client, not {}",
                    msg_name(&other)
                )));
            }
        }
    }

    fn on_closed(&mut self, conn: u64) {
        match self.conns.remove(&conn) {
            Some((Peer::Worker(w), _)) => {
                if let Some((info, _, _)) = self.workers.remove(&w) {
                    tracing::info!(target: "brisk::scheduler", "worker {w} at {} left", info.address);
                }
                self.observe.worker_left(w);
                self.event(Event::RemoveWorker { worker: w });
                self.finish_queries();
            }
            Some((Peer::Client(c), _)) => {
                self.clients.remove(&c);
                self.waits.forget(c);
                self.event(Event::RemoveClient { client: c });
            }
            None => {}
        }
    }

    fn on_message(&mut self, conn: u64, m: Incoming) {
        let Some((peer, _)) = self.conns.get(&conn) else {
            return;
        };
        match (peer, m.msg) {
            (
                &Peer::Worker(worker),
                Msg::TaskFinished {
                    key,
                    nbytes,
                    duration,
                    value,
                    thread,
                    run,
                },
            ) => {
                if let Some(thread) = thread {
                    let now = self.now();
                    self.observe
                        .task_finished(worker, thread, &key, nbytes, duration, now);
                }
                if let Some(v) = value {
                    self.results.insert(key.clone(), (v, m.frames));
                }
                self.event(Event::TaskFinished {
                    worker,
                    key: key.clone(),
                    nbytes,
                    duration,
                    run,
                });
                self.results.remove(&key);
            }
            (&Peer::Worker(worker), Msg::TaskErred { key, error, run }) => {
                self.event(Event::TaskErred {
                    worker,
                    key,
                    error,
                    run,
                })
            }
            (
                &Peer::Worker(worker),
                Msg::MissingData {
                    key,
                    missing,
                    holder,
                },
            ) => self.event(Event::MissingData {
                worker,
                key,
                missing,
                holder,
            }),
            (&Peer::Worker(worker), Msg::AddKeys { keys }) => {
                self.event(Event::AddKeys { worker, keys })
            }
            (&Peer::Worker(worker), Msg::Heartbeat) => self.event(Event::Heartbeat { worker }),
            (&Peer::Worker(worker), Msg::WorkerMetrics { metrics }) => {
                let now = self.now();
                self.observe.worker_metrics(worker, &metrics, now);
                if let Some((info, _, _)) = self.workers.get_mut(&worker) {
                    info.metrics = metrics;
                }
            }
            (&Peer::Worker(worker), Msg::WorkerReport { activity, logs }) => {
                let now = self.now();
                self.observe.worker_report(worker, activity, logs, now);
            }
            (&Peer::Worker(worker), Msg::WorkerQueryReply { id, json }) => {
                self.on_worker_query_reply(worker, id, json)
            }
            (&Peer::Client(client), Msg::Diagnostics { id, query }) => {
                self.on_diagnostics(query, Responder::Client { client, id })
            }
            (&Peer::Worker(worker), Msg::WorkerPaused { paused }) => {
                if let Some((info, _, _)) = self.workers.get_mut(&worker) {
                    info.paused = paused;
                }
                self.event(Event::WorkerPaused { worker, paused })
            }
            (&Peer::Client(client), Msg::Restart { id }) => {
                self.event(Event::Restart);
                let ids: std::collections::BTreeSet<WorkerId> =
                    self.workers.keys().copied().collect();
                for w in &ids {
                    self.push(Dest::Worker(*w), Msg::RestartWorker);
                }
                self.waits.add(client, id, Until::Replaced(ids));
            }
            (&Peer::Client(client), Msg::Rebalance { id }) => {
                self.event(Event::Rebalance);
                self.waits.add(client, id, Until::MovesDone);
                self.answer_waits();
            }
            (&Peer::Client(client), Msg::RetireWorkers { id, workers }) => {
                let (found, unknown): (Vec<_>, Vec<_>) = workers.iter().partition(|w| {
                    self.workers
                        .values()
                        .any(|(i, _, _)| &i.address == *w || &i.name == *w)
                });
                let others = self.workers.len() > found.len();
                let error = if !unknown.is_empty() {
                    Some(format!("no such workers: {unknown:?}"))
                } else if !others && !found.is_empty() {
                    Some("retiring every worker would lose their results: keep one".into())
                } else {
                    None
                };
                if error.is_some() {
                    self.push(Dest::Client(client), Msg::Done { id, error });
                } else {
                    let ids: std::collections::BTreeSet<WorkerId> = self
                        .workers
                        .iter()
                        .filter(|(_, (i, _, _))| {
                            found.iter().any(|w| **w == i.address || **w == i.name)
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    self.event(Event::RetireWorkers {
                        workers: ids.iter().copied().collect(),
                    });
                    self.waits.add(client, id, Until::Gone(ids));
                    self.answer_waits();
                }
            }
            (&Peer::Client(client), Msg::Workers { id }) => {
                let workers = self.workers.values().map(|(i, _, _)| i.clone()).collect();
                self.push(Dest::Client(client), Msg::WorkersReply { id, workers });
            }
            (
                &Peer::Client(client),
                Msg::UpdateGraph {
                    tasks,
                    wanted,
                    user_priority,
                },
            ) => {
                let tasks = tasks
                    .into_iter()
                    .map(|t| NewTask {
                        key: t.key,
                        spec: t.spec,
                        dependencies: t.dependencies,
                        order: t.order,
                    })
                    .collect();
                self.event(Event::UpdateGraph {
                    client,
                    tasks,
                    wanted,
                    user_priority,
                })
            }
            (&Peer::Client(client), Msg::ReleaseKeys { keys }) => {
                self.event(Event::ReleaseKeys { client, keys })
            }
            (&Peer::Client(client), Msg::Cancel { keys }) => {
                self.event(Event::Cancel { client, keys })
            }
            (&Peer::Client(client), Msg::Scatter { items, broadcast }) => {
                let mut frames = m.frames.into_iter();
                let mut keys = Vec::with_capacity(items.len());
                for (key, v) in items {
                    let Ok(f) = Incoming::take_frames(&mut frames, v.nframes) else {
                        self.scattered.clear();
                        return self.refuse(
                            conn,
                            format!("the scattered value {key} announces frames its message lacks"),
                        );
                    };
                    let nbytes =
                        f.iter().map(|x| x.len() as u64).sum::<u64>() + v.header.len() as u64;
                    self.scattered.insert(key.clone(), (v, f));
                    keys.push((key, nbytes));
                }
                let held: Vec<Key> = keys.iter().map(|(k, _)| k.clone()).collect();
                self.event(Event::Scatter {
                    client,
                    keys,
                    broadcast,
                });
                for k in held {
                    self.scattered.remove(&k);
                }
            }
            (&Peer::Client(client), Msg::ReplicateKeys { keys, n }) => {
                self.event(Event::Replicate {
                    client,
                    keys,
                    n: n as usize,
                })
            }
            (&Peer::Client(client), Msg::WhoHas { id, keys }) => {
                let who_has = self
                    .state
                    .who_has(&keys)
                    .into_iter()
                    .map(|(k, ws)| {
                        let ws = ws
                            .into_iter()
                            .filter_map(|w| {
                                self.workers.get(&w).map(|(i, _, _)| (w, i.address.clone()))
                            })
                            .collect();
                        (k, ws)
                    })
                    .collect();
                let nworkers = self.workers.len() as u32;
                self.push(
                    Dest::Client(client),
                    Msg::WhoHasReply {
                        id,
                        who_has,
                        nworkers,
                    },
                );
            }
            (_, Msg::Goodbye { .. }) => self.on_closed(conn),
            // Anything else is a message through the wrong door, or out of order
            // (a second registration): a confused or hostile peer is told and
            // disconnected, and cannot change the state.
            (peer, msg) => {
                let who = match peer {
                    Peer::Worker(_) => "a worker",
                    Peer::Client(_) => "a client",
                };
                let what = msg_name(&msg);
                self.refuse(conn, format!("{who} may not send {what} to the scheduler"));
            }
        }
    }

    /// Says goodbye to a connection with the reason, closes it and forgets its peer.
    fn refuse(&mut self, conn: u64, reason: String) {
        if let Some((_, outbox)) = self.conns.get(&conn) {
            outbox.close(goodbye(format!("{reason}; closing the connection")));
        }
        self.on_closed(conn);
    }

    fn event(&mut self, e: Event) {
        let now = self.now();
        let out = self.state.handle(e, now);
        let stimulus_id = self.state.stimulus_id();
        for i in out {
            self.route(i, stimulus_id);
        }
        self.check_state();
        self.answer_waits();
    }

    /// Answers the client requests now done.
    fn answer_waits(&mut self) {
        for (client, id, error) in self.waits.done(&self.state) {
            self.push(Dest::Client(client), Msg::Done { id, error });
        }
    }

    fn push(&mut self, dest: Dest, msg: Msg) {
        self.out.entry(dest).or_default().push(msg);
    }

    /// Turns an instruction into messages; `stimulus_id` is the event that caused it.
    fn route(&mut self, i: Instruction, stimulus_id: StimulusId) {
        match i {
            Instruction::Compute {
                worker,
                key,
                spec,
                inputs,
                priority,
                send_value,
                run,
            } => self.push(
                Dest::Worker(worker),
                Msg::Compute {
                    key,
                    spec,
                    inputs,
                    priority,
                    send_value,
                    stimulus_id,
                    run,
                },
            ),
            Instruction::Free { worker, keys } => {
                let batch = self.out.entry(Dest::Worker(worker)).or_default();
                match batch.msgs.last_mut() {
                    Some((
                        Msg::Free {
                            keys: pending,
                            stimulus_id: same,
                        },
                        _,
                    )) if *same == stimulus_id => pending.extend(keys),
                    _ => batch.push(Msg::Free { keys, stimulus_id }),
                }
            }
            Instruction::Report { client, report } => {
                let msg = match report {
                    Report::InMemory { key, nbytes } => {
                        let bytes = self
                            .results
                            .get(&key)
                            .map(|(_, f)| f.iter().map(Vec::len).sum());
                        let value = match bytes {
                            Some(b) if self.has_room_for(client, b) => {
                                self.results.get(&key).cloned()
                            }
                            _ => None,
                        };
                        let Some((v, frames)) = value else {
                            self.push(
                                Dest::Client(client),
                                Msg::KeyInMemory {
                                    key,
                                    nbytes,
                                    value: None,
                                },
                            );
                            return;
                        };
                        self.out.entry(Dest::Client(client)).or_default().push_with(
                            Msg::KeyInMemory {
                                key,
                                nbytes,
                                value: Some(v),
                            },
                            frames,
                        );
                        return;
                    }
                    Report::Erred { key, error } => Msg::KeyErred { key, error },
                    Report::Cancelled { key } => Msg::KeyCancelled { key },
                };
                self.push(Dest::Client(client), msg);
            }
            Instruction::StoreScattered { worker, key } => {
                if let Some((v, frames)) = self.scattered.get(&key) {
                    let (v, frames) = (v.clone(), frames.clone());
                    self.out.entry(Dest::Worker(worker)).or_default().push_with(
                        Msg::Store {
                            key,
                            value: v,
                            stimulus_id,
                        },
                        frames,
                    );
                }
            }
            Instruction::Replicate {
                worker,
                key,
                holders,
            } => self.push(
                Dest::Worker(worker),
                Msg::Replicate {
                    key,
                    holders,
                    stimulus_id,
                },
            ),
            Instruction::RetireWorker { worker } => {
                if let Some((_, outbox, conn)) = self.workers.remove(&worker) {
                    let mut bye = Outgoing::default();
                    bye.push(Msg::Retire);
                    outbox.close(bye);
                    self.conns.remove(&conn);
                }
            }
            Instruction::CloseWorker { worker } => {
                if let Some((_, outbox, conn)) = self.workers.remove(&worker) {
                    outbox.close(goodbye(format!(
                        "no heartbeat for {} s (the worker time-to-live)",
                        self.worker_ttl
                    )));
                    self.conns.remove(&conn);
                }
            }
        }
    }

    /// Whether a result of `bytes` may ride with its report to `client`: not
    /// when what is queued for it would pass its buffer (it fetches the value
    /// from a worker instead).
    fn has_room_for(&mut self, client: ClientId, bytes: usize) -> bool {
        let Some((outbox, _)) = self.clients.get(&client) else {
            return false;
        };
        let pending = self.pending_values.entry(client).or_default();
        if outbox.queued_bytes() + *pending + bytes > self.client_buffer {
            return false;
        }
        *pending += bytes;
        true
    }

    fn flush(&mut self) {
        self.pending_values.clear();
        let mut stalled = Vec::new();
        for (dest, batch) in std::mem::take(&mut self.out) {
            let peer = match dest {
                Dest::Worker(w) => self.workers.get(&w).map(|(_, o, c)| (o, *c)),
                Dest::Client(c) => self.clients.get(&c).map(|(o, conn)| (o, *conn)),
            };
            if let Some((o, conn)) = peer {
                o.send(batch);
                if o.queued_bytes() > self.max_queued {
                    stalled.push((conn, o.queued_bytes()));
                }
            }
        }
        // A peer that lets this much pile up has stopped reading: drop it, and
        // what is queued for it, rather than hold it all.
        for (conn, queued) in stalled {
            tracing::warn!(
                target: "brisk::scheduler",
                "connection {conn} has {queued} bytes unread (over max_queued): disconnecting it"
            );
            if let Some((_, o)) = self.conns.get(&conn) {
                o.abort();
            }
            self.on_closed(conn);
        }
        // Removing a peer may have given others work.
        if !self.out.is_empty() {
            self.flush();
        }
    }

    fn shut_down(&mut self) {
        for (_, o) in self.conns.values() {
            o.close(goodbye("the scheduler is shutting down"));
        }
    }
}

/// The name of a message's kind, for errors (`UpdateGraph`, `Heartbeat`...).
fn msg_name(msg: &Msg) -> String {
    // Only the variant's name: the debug form of a whole graph can be large.
    let text = format!("{msg:?}");
    text.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Refuses options that would open the cluster to anyone who can reach it: a
/// listen address that is not loopback, with neither a token nor TLS, unless
/// `insecure` says so.
///
/// ```
/// use brisk_scheduler::distributed::scheduler_server::{check_exposure, SchedulerOptions};
/// let open = SchedulerOptions { listen: "0.0.0.0:8786".into(), ..Default::default() };
/// assert!(check_exposure(&open).is_err());
/// let local = SchedulerOptions { listen: "127.0.0.1:8786".into(), ..Default::default() };
/// assert!(check_exposure(&local).is_ok());
/// let with_token = SchedulerOptions { token: Some("s3cret".into()), ..open };
/// assert!(check_exposure(&with_token).is_ok());
/// ```
pub fn check_exposure(options: &SchedulerOptions) -> Result<()> {
    use std::net::ToSocketAddrs;
    if options.insecure || options.token.is_some() || options.tls.is_some() {
        return Ok(());
    }
    let addr = options
        .listen
        .strip_prefix("tcp://")
        .unwrap_or(&options.listen);
    let loopback = addr
        .to_socket_addrs()
        .map(|mut all| all.all(|a| a.ip().is_loopback()))
        .unwrap_or(false);
    if loopback {
        return Ok(());
    }
    Err(crate::error::Error::Config {
        reason: format!(
            "refusing to listen on {} without a token or TLS: any process that reaches it              could join as a worker. Give a token (--token or BRISK_TOKEN), TLS files, or              --insecure if the network is trusted",
            options.listen
        ),
    })
}

/// Runs a scheduler on this thread (a single-threaded tokio runtime) until
/// SIGTERM or SIGINT. `on_ready` gets the address it listens on. Options that
/// [`check_exposure`] refuses are an error.
pub fn run_blocking(options: SchedulerOptions, on_ready: impl FnOnce(&str)) -> Result<()> {
    check_exposure(&options)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (listener, address) = bind(&options.listen).await?;
        on_ready(&address);
        let (status, _) = watch::channel(SchedulerStatus::default());
        serve(listener, options, status, terminated()).await
    })
}

/// Resolves on SIGTERM or SIGINT.
pub async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut t), Ok(mut i)) => {
            tokio::select! {
                _ = t.recv() => {},
                _ = i.recv() => {},
            }
        }
        _ => std::future::pending::<()>().await,
    }
}
