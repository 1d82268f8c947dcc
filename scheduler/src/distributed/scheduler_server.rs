//! The scheduler process: a thin tokio shell around [`SchedulerState`].
//!
//! One task per connection reads batches and forwards them to the core task, which
//! alone owns the state: it turns messages into events, runs the state machine and
//! routes the instructions, gathering everything for one destination into one
//! batch. Runs on a single-threaded runtime: no locks, and a message reaches the
//! state without crossing threads.

use super::comm::{accept, read_batch, split, Outbox};
use super::ids::{ClientId, StimulusId, WorkerId};
use super::messages::{Incoming, Msg, Outgoing, WireValue};
use super::scheduler_state::{
    Event, Instruction, NewTask, Report, SchedulerConfig, SchedulerState,
};
use crate::error::Result;
use crate::protocol::{Limits, Role};
use brisk_core::Key;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
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
    /// The state machine's tunables.
    pub config: SchedulerConfig,
    /// TLS for every connection.
    pub tls: Option<super::tls::Tls>,
    /// Check the state machine's indexes after every event (linear in the tasks
    /// held: for tests, as Dask's test clusters run). A failed check, like a
    /// transition the table refuses, is logged with the task's story and panics
    /// in debug builds.
    pub validate: bool,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            listen: "127.0.0.1:8786".into(),
            token: None,
            limits: Limits::default(),
            config: SchedulerConfig::default(),
            tls: None,
            validate: false,
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
    let token = options.token.clone();
    let tls = options.tls.clone();
    let limits = options.limits;
    let accept_tx = tx.clone();
    let acceptor = tokio::spawn(async move {
        let mut next_conn = 0u64;
        // Connection tasks end with the acceptor (on a shared runtime nothing else
        // would stop them).
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            while connections.try_join_next().is_some() {}
            next_conn += 1;
            let conn = next_conn;
            let tx = accept_tx.clone();
            let token = token.clone();
            let tls = tls.clone();
            connections.spawn(async move {
                let Ok((stream, _)) =
                    accept(tcp, Role::Scheduler, token.as_deref(), tls.as_ref()).await
                else {
                    return;
                };
                let (mut r, w) = split(stream);
                let first = match read_batch(&mut r, &limits).await {
                    Ok(Some(mut msgs)) if !msgs.is_empty() => {
                        let rest = msgs.split_off(1);
                        (msgs.pop().expect("one"), rest)
                    }
                    _ => return,
                };
                let outbox = Outbox::spawn(w, true);
                if tx
                    .send(CoreInput::Joined {
                        conn,
                        first: first.0,
                        outbox,
                    })
                    .is_err()
                {
                    return;
                }
                if !first.1.is_empty()
                    && tx
                        .send(CoreInput::Batch {
                            conn,
                            msgs: first.1,
                        })
                        .is_err()
                {
                    return;
                }
                while let Ok(Some(msgs)) = read_batch(&mut r, &limits).await {
                    if tx.send(CoreInput::Batch { conn, msgs }).is_err() {
                        return;
                    }
                }
                let _ = tx.send(CoreInput::Closed { conn });
            });
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
    core.goodbye();
    Ok(())
}

struct Core {
    state: SchedulerState,
    start: Instant,
    conns: FxHashMap<u64, (Peer, Outbox)>,
    workers: BTreeMap<WorkerId, (String, Outbox, u64)>,
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
            CoreInput::Tick => self.event(Event::Tick),
        }
        self.flush();
        let s = SchedulerStatus {
            workers: self.workers.len(),
            clients: self.clients.len(),
            tasks: self.state.task_count(),
        };
        self.status.send_if_modified(|old| {
            if *old != s {
                *old = s;
                true
            } else {
                false
            }
        });
    }

    fn on_joined(&mut self, conn: u64, first: Incoming, outbox: Outbox) {
        match first.msg {
            Msg::RegisterWorker {
                address,
                nthreads,
                memory_limit: _,
                name: _,
            } => {
                self.next_worker += 1;
                let id = WorkerId(self.next_worker);
                self.conns.insert(conn, (Peer::Worker(id), outbox.clone()));
                self.workers.insert(id, (address.clone(), outbox, conn));
                self.push(Dest::Worker(id), Msg::WorkerWelcome { worker: id });
                let peers: Vec<(WorkerId, String)> = self
                    .workers
                    .iter()
                    .map(|(w, (a, _, _))| (*w, a.clone()))
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
            _ => {
                let mut o = Outgoing::default();
                o.push(Msg::Goodbye {
                    reason: "the first message must register a worker or a client".into(),
                });
                outbox.send(o);
            }
        }
    }

    fn on_closed(&mut self, conn: u64) {
        match self.conns.remove(&conn) {
            Some((Peer::Worker(w), _)) => {
                self.workers.remove(&w);
                self.event(Event::RemoveWorker { worker: w });
            }
            Some((Peer::Client(c), _)) => {
                self.clients.remove(&c);
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
                },
            ) => {
                if let Some(v) = value {
                    self.results.insert(key.clone(), (v, m.frames));
                }
                self.event(Event::TaskFinished {
                    worker,
                    key: key.clone(),
                    nbytes,
                    duration,
                });
                self.results.remove(&key);
            }
            (&Peer::Worker(worker), Msg::TaskErred { key, error }) => {
                self.event(Event::TaskErred { worker, key, error })
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
                        return;
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
                            .filter_map(|w| self.workers.get(&w).map(|(a, _, _)| (w, a.clone())))
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
            // Anything else from this peer is ignored (a confused or hostile peer
            // cannot change the state through the wrong door).
            _ => {}
        }
    }

    fn event(&mut self, e: Event) {
        let now = self.now();
        let out = self.state.handle(e, now);
        let stimulus_id = self.state.stimulus_id();
        for i in out {
            self.route(i, stimulus_id);
        }
        self.check_state();
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
            } => self.push(
                Dest::Worker(worker),
                Msg::Compute {
                    key,
                    spec,
                    inputs,
                    priority,
                    send_value,
                    stimulus_id,
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
                    Report::InMemory { key, nbytes } => match self.results.get(&key) {
                        Some((v, frames)) => {
                            let (v, frames) = (v.clone(), frames.clone());
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
                        None => Msg::KeyInMemory {
                            key,
                            nbytes,
                            value: None,
                        },
                    },
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
            Instruction::CloseWorker { worker } => {
                if let Some((_, outbox, conn)) = self.workers.remove(&worker) {
                    let mut o = Outgoing::default();
                    o.push(Msg::Goodbye {
                        reason: "no heartbeat".into(),
                    });
                    outbox.send(o);
                    self.conns.remove(&conn);
                }
            }
        }
    }

    fn flush(&mut self) {
        for (dest, batch) in std::mem::take(&mut self.out) {
            let outbox = match dest {
                Dest::Worker(w) => self.workers.get(&w).map(|(_, o, _)| o),
                Dest::Client(c) => self.clients.get(&c).map(|(o, _)| o),
            };
            if let Some(o) = outbox {
                o.send(batch);
            }
        }
    }

    fn goodbye(&mut self) {
        for (_, o) in self.conns.values() {
            let mut b = Outgoing::default();
            b.push(Msg::Goodbye {
                reason: "the scheduler is shutting down".into(),
            });
            o.send(b);
        }
    }
}

/// Runs a scheduler on this thread (a single-threaded tokio runtime) until
/// SIGTERM or SIGINT. `on_ready` gets the address it listens on.
pub fn run_blocking(options: SchedulerOptions, on_ready: impl FnOnce(&str)) -> Result<()> {
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
