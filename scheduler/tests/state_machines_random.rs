//! Both state machines under random event sequences: one [`SchedulerState`] and
//! the [`WorkerState`]s of the workers it knows, wired together the way the
//! servers wire them (messages in order per connection), while random things
//! happen — workers joining and dying, tasks finishing or failing, fetches
//! succeeding, missing keys or failing, clients submitting, releasing,
//! cancelling, scattering and replicating, heartbeats and timeouts. Every
//! state machine is validated after every event it handles; at the end, with a
//! worker alive, every key a client still wants is computed or erred.

use brisk_core::Key;
use brisk_scheduler::distributed::scheduler_state::{
    Event, Instruction, NewTask, SchedulerConfig, SchedulerState,
};
use brisk_scheduler::distributed::worker_state::{
    WorkerEvent, WorkerInstruction, WorkerState, WorkerTaskStatus,
};
use brisk_scheduler::distributed::{ClientId, StimulusId, TaskSpec, WorkerId};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const CLIENT: ClientId = ClientId(1);
/// Keys `k0..k11`; a task reads only keys of lower numbers, so graphs are acyclic.
const UNIVERSE: u32 = 12;

fn key(i: u32) -> Key {
    Key::new("k", &[i])
}

/// One random thing that happens; the numbers pick among what is possible then.
#[derive(Debug, Clone)]
enum Action {
    /// Deliver the next message from the scheduler to a worker.
    ToWorker(usize),
    /// Deliver the next message from a worker to the scheduler.
    ToScheduler(usize),
    /// A task running on a worker ends (`true`: with a result).
    Executed(usize, bool),
    /// A fetch between workers ends; the bool fails the whole connection.
    Fetched(usize, bool),
    AddWorker(u32),
    KillWorker(usize),
    /// Tasks `(key, inputs)` and the keys the client wants.
    Submit(Vec<(u32, Vec<u32>)>, Vec<u32>),
    Release(Vec<u32>),
    Cancel(Vec<u32>),
    Scatter(u32, bool),
    Replicate(u32, usize),
    Heartbeats,
    /// A worker's memory pauses it (`true`) or lets it run again.
    Pause(usize, bool),
    /// Results move towards the mean.
    Rebalance,
    /// A worker retires (when another stays).
    Retire(usize),
    /// Time passes (seconds) and the scheduler ticks.
    Tick(u32),
}

fn action() -> impl Strategy<Value = Action> {
    let graph = prop::collection::vec(
        (0..UNIVERSE).prop_flat_map(|k| {
            (
                Just(k),
                prop::collection::vec(0..k.max(1), 0..4)
                    .prop_map(move |d| d.into_iter().filter(|x| *x < k).collect::<Vec<_>>()),
            )
        }),
        1..6,
    );
    let keys = prop::collection::vec(0..UNIVERSE, 1..4);
    prop_oneof![
        6 => any::<usize>().prop_map(Action::ToWorker),
        6 => any::<usize>().prop_map(Action::ToScheduler),
        4 => (any::<usize>(), prop::bool::weighted(0.95)).prop_map(|(i, ok)| Action::Executed(i, ok)),
        3 => (any::<usize>(), prop::bool::weighted(0.1)).prop_map(|(i, f)| Action::Fetched(i, f)),
        1 => (1..4u32).prop_map(Action::AddWorker),
        1 => any::<usize>().prop_map(Action::KillWorker),
        3 => (graph, keys.clone()).prop_map(|(g, w)| Action::Submit(g, w)),
        1 => keys.clone().prop_map(Action::Release),
        1 => keys.prop_map(Action::Cancel),
        1 => (0..4u32, any::<bool>()).prop_map(|(k, b)| Action::Scatter(k, b)),
        2 => (0..UNIVERSE, 1..4usize).prop_map(|(k, n)| Action::Replicate(k, n)),
        1 => Just(Action::Heartbeats),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, p)| Action::Pause(i, p)),
        1 => Just(Action::Rebalance),
        1 => any::<usize>().prop_map(Action::Retire),
        1 => (1..40u32).prop_map(Action::Tick),
    ]
}

/// The scheduler, its workers and the messages between them.
struct Sim {
    now: f64,
    scheduler: SchedulerState,
    workers: BTreeMap<WorkerId, WorkerState>,
    next_worker: u32,
    /// Per worker, in order: what the scheduler sent, with its stimulus id.
    to_worker: BTreeMap<WorkerId, VecDeque<(WorkerEvent, StimulusId)>>,
    /// Per worker, in order: what it sent the scheduler.
    to_scheduler: BTreeMap<WorkerId, VecDeque<Event>>,
    /// Tasks running: (worker, key).
    running: Vec<(WorkerId, Key)>,
    /// Fetches under way: (worker, peer, keys).
    fetching: Vec<(WorkerId, WorkerId, Vec<Key>)>,
    /// Keys the client holds futures for.
    wanted: BTreeSet<Key>,
}

impl Sim {
    fn new() -> Sim {
        let mut sim = Sim {
            now: 0.0,
            scheduler: SchedulerState::new(SchedulerConfig {
                worker_timeout: 60.0,
                ..SchedulerConfig::default()
            }),
            workers: BTreeMap::new(),
            next_worker: 0,
            to_worker: BTreeMap::new(),
            to_scheduler: BTreeMap::new(),
            running: Vec::new(),
            fetching: Vec::new(),
            wanted: BTreeSet::new(),
        };
        sim.scheduler_event(Event::AddClient { client: CLIENT });
        sim
    }

    fn scheduler_event(&mut self, e: Event) {
        let out = self.scheduler.handle(e, self.now);
        if let Err(e) = self.scheduler.validate() {
            let mut stories = String::new();
            for i in 0..UNIVERSE {
                let k = key(i);
                if let Some(t) = self.scheduler.task(&k) {
                    stories.push_str(&format!(
                        "\n{k}: deps {:?} dependents {:?} waiters {:?} wanted {:?}: {}",
                        t.dependencies,
                        t.dependents,
                        t.waiters,
                        t.wanted_by,
                        self.scheduler
                            .story(&k)
                            .iter()
                            .map(|l| l.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            panic!("invalid scheduler state: {e}{stories}");
        }
        let id = self.scheduler.stimulus_id();
        for i in out {
            self.route_scheduler(i, id);
        }
    }

    fn route_scheduler(&mut self, i: Instruction, id: StimulusId) {
        let (w, e) = match i {
            Instruction::Compute {
                worker,
                key,
                spec,
                inputs,
                priority,
                send_value,
                run,
            } => (
                worker,
                WorkerEvent::Compute {
                    key,
                    spec,
                    inputs,
                    priority,
                    send_value,
                    run,
                },
            ),
            Instruction::Free { worker, keys } => (worker, WorkerEvent::Free { keys }),
            Instruction::StoreScattered { worker, key } => {
                (worker, WorkerEvent::Stored { key, nbytes: 8 })
            }
            Instruction::Replicate {
                worker,
                key,
                holders,
            } => (worker, WorkerEvent::Replicate { key, holders }),
            Instruction::CloseWorker { worker } | Instruction::RetireWorker { worker } => {
                self.drop_worker(worker);
                return;
            }
            Instruction::Report { .. } => return,
        };
        if let Some(q) = self.to_worker.get_mut(&w) {
            q.push_back((e, id));
        }
    }

    fn worker_event(&mut self, w: WorkerId, e: WorkerEvent, id: Option<StimulusId>) {
        let Some(ws) = self.workers.get_mut(&w) else {
            return;
        };
        let out = match id {
            Some(id) => ws.handle_stimulus(e, id),
            None => ws.handle(e),
        };
        if let Err(e) = ws.validate() {
            panic!("invalid state of {w}: {e}");
        }
        for i in out {
            let e = match i {
                WorkerInstruction::Execute { key, .. } => {
                    self.running.push((w, key));
                    continue;
                }
                WorkerInstruction::Fetch { peer, keys } => {
                    self.fetching.push((w, peer, keys));
                    continue;
                }
                WorkerInstruction::Release { .. } => continue,
                WorkerInstruction::TaskFinished {
                    key,
                    nbytes,
                    duration,
                    run,
                    ..
                } => Event::TaskFinished {
                    worker: w,
                    key,
                    nbytes: nbytes.max(1),
                    duration,
                    run: Some(run),
                },
                WorkerInstruction::TaskErred { key, error, run } => Event::TaskErred {
                    worker: w,
                    key,
                    error,
                    run: Some(run),
                },
                WorkerInstruction::MissingData {
                    key,
                    missing,
                    holder,
                } => Event::MissingData {
                    worker: w,
                    key,
                    missing,
                    holder,
                },
                WorkerInstruction::AddKeys { keys } => Event::AddKeys { worker: w, keys },
            };
            if let Some(q) = self.to_scheduler.get_mut(&w) {
                q.push_back(e);
            }
        }
    }

    fn add_worker(&mut self, nthreads: u32) {
        self.next_worker += 1;
        let w = WorkerId(self.next_worker);
        self.workers.insert(w, WorkerState::new(nthreads as usize));
        self.to_worker.insert(w, VecDeque::new());
        self.to_scheduler.insert(w, VecDeque::new());
        self.scheduler_event(Event::AddWorker {
            worker: w,
            address: format!("tcp://w{}", w.0),
            nthreads,
        });
    }

    /// The worker process is gone: its connections close, fetches from it fail.
    fn drop_worker(&mut self, w: WorkerId) {
        self.workers.remove(&w);
        self.to_worker.remove(&w);
        self.to_scheduler.remove(&w);
        self.running.retain(|(x, _)| *x != w);
        self.fetching.retain(|(x, _, _)| *x != w);
    }

    fn kill_worker(&mut self, w: WorkerId) {
        self.drop_worker(w);
        self.scheduler_event(Event::RemoveWorker { worker: w });
    }

    fn pick<T>(v: &[T], i: usize) -> Option<usize> {
        (!v.is_empty()).then(|| i % v.len())
    }

    fn nth_worker_with<T>(m: &BTreeMap<WorkerId, VecDeque<T>>, i: usize) -> Option<WorkerId> {
        let busy: Vec<WorkerId> = m
            .iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(w, _)| *w)
            .collect();
        Self::pick(&busy, i).map(|j| busy[j])
    }

    fn fetch_done(&mut self, i: usize, fail: bool) {
        let (w, peer, keys) = self.fetching.remove(i);
        let peer_state = self.workers.get(&peer);
        if fail || peer_state.is_none() {
            self.worker_event(w, WorkerEvent::FetchFailed { peer, keys }, None);
            return;
        }
        let peer_state = peer_state.expect("checked");
        let (mut received, mut missing) = (Vec::new(), Vec::new());
        for k in keys {
            if peer_state.status(&k) == Some(&WorkerTaskStatus::Memory) {
                received.push((k, 8));
            } else {
                missing.push(k);
            }
        }
        self.worker_event(
            w,
            WorkerEvent::FetchDone {
                peer,
                received,
                missing,
            },
            None,
        );
    }

    /// Delivers the next message of the `i`-th worker (among those with any)
    /// from the scheduler; false when there is none.
    fn deliver_to_worker(&mut self, i: usize) -> bool {
        let Some(w) = Self::nth_worker_with(&self.to_worker, i) else {
            return false;
        };
        let (e, id) = self
            .to_worker
            .get_mut(&w)
            .and_then(|q| q.pop_front())
            .expect("non-empty");
        self.worker_event(w, e, Some(id));
        true
    }

    /// Delivers the next message of the `i`-th worker (among those with any) to
    /// the scheduler; false when there is none.
    fn deliver_to_scheduler(&mut self, i: usize) -> bool {
        let Some(w) = Self::nth_worker_with(&self.to_scheduler, i) else {
            return false;
        };
        let e = self
            .to_scheduler
            .get_mut(&w)
            .and_then(|q| q.pop_front())
            .expect("non-empty");
        self.scheduler_event(e);
        true
    }

    fn heartbeats(&mut self) {
        let ids: Vec<WorkerId> = self.workers.keys().copied().collect();
        for w in ids {
            self.scheduler_event(Event::Heartbeat { worker: w });
        }
    }

    /// The client drops its futures of `keys`.
    fn unwant(&mut self, keys: Vec<u32>) -> Vec<Key> {
        let keys: Vec<Key> = keys.into_iter().map(key).collect();
        for k in &keys {
            self.wanted.remove(k);
        }
        keys
    }

    fn act(&mut self, a: Action) {
        self.now += 0.5;
        match a {
            Action::ToWorker(i) => {
                self.deliver_to_worker(i);
            }
            Action::ToScheduler(i) => {
                self.deliver_to_scheduler(i);
            }
            Action::Executed(i, ok) => {
                if let Some(i) = Self::pick(&self.running, i) {
                    let (w, key) = self.running.remove(i);
                    let e = if ok {
                        WorkerEvent::ExecuteDone {
                            key,
                            nbytes: 8,
                            duration: 0.01,
                        }
                    } else {
                        WorkerEvent::ExecuteFailed {
                            key,
                            error: "boom".into(),
                        }
                    };
                    self.worker_event(w, e, None);
                }
            }
            Action::Fetched(i, fail) => {
                if let Some(i) = Self::pick(&self.fetching, i) {
                    self.fetch_done(i, fail);
                }
            }
            Action::AddWorker(n) => {
                if self.workers.len() < 4 {
                    self.add_worker(n);
                }
            }
            Action::KillWorker(i) => {
                let ids: Vec<WorkerId> = self.workers.keys().copied().collect();
                if let Some(j) = Self::pick(&ids, i) {
                    self.kill_worker(ids[j]);
                }
            }
            Action::Submit(graph, wanted) => {
                // Each key once, with its inputs; an input neither in the graph nor
                // known to the scheduler comes along as a task of its own.
                let mut deps_of: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
                for (k, deps) in graph {
                    deps_of.entry(k).or_insert(deps);
                }
                let mut missing: Vec<u32> = deps_of.values().flatten().copied().collect();
                while let Some(d) = missing.pop() {
                    if !deps_of.contains_key(&d) && self.scheduler.task(&key(d)).is_none() {
                        deps_of.insert(d, Vec::new());
                    }
                }
                let tasks: Vec<NewTask> = deps_of
                    .iter()
                    .enumerate()
                    .map(|(order, (k, deps))| NewTask {
                        key: key(*k),
                        spec: TaskSpec {
                            op: "op".into(),
                            params: vec![],
                        },
                        dependencies: deps.iter().map(|d| key(*d)).collect(),
                        order: order as u32,
                    })
                    .collect();
                // The client asks for keys it submits now, or holds futures for.
                let wanted: Vec<Key> = wanted
                    .into_iter()
                    .filter(|k| deps_of.contains_key(k) || self.wanted.contains(&key(*k)))
                    .map(key)
                    .collect();
                self.wanted.extend(wanted.iter().cloned());
                self.scheduler_event(Event::UpdateGraph {
                    client: CLIENT,
                    tasks,
                    wanted,
                    user_priority: 0,
                });
            }
            Action::Release(keys) => {
                let keys = self.unwant(keys);
                self.scheduler_event(Event::ReleaseKeys {
                    client: CLIENT,
                    keys,
                });
            }
            Action::Cancel(keys) => {
                let keys = self.unwant(keys);
                self.scheduler_event(Event::Cancel {
                    client: CLIENT,
                    keys,
                });
            }
            Action::Scatter(k, broadcast) => {
                // Scattered data has its own keys (a client scatters values, not tasks).
                let k = Key::new("data", &[k]);
                if !self.workers.is_empty() && self.scheduler.task(&k).is_none() {
                    self.wanted.insert(k.clone());
                    self.scheduler_event(Event::Scatter {
                        client: CLIENT,
                        keys: vec![(k, 8)],
                        broadcast,
                    });
                }
            }
            Action::Replicate(k, n) => self.scheduler_event(Event::Replicate {
                client: CLIENT,
                keys: vec![key(k)],
                n,
            }),
            Action::Heartbeats => self.heartbeats(),
            Action::Rebalance => self.scheduler_event(Event::Rebalance),
            Action::Retire(i) => {
                let ids: Vec<WorkerId> = self.workers.keys().copied().collect();
                if ids.len() > 1 {
                    if let Some(j) = Self::pick(&ids, i) {
                        self.scheduler_event(Event::RetireWorkers {
                            workers: vec![ids[j]],
                        });
                    }
                }
            }
            Action::Pause(i, paused) => {
                let ids: Vec<WorkerId> = self.workers.keys().copied().collect();
                if let Some(j) = Self::pick(&ids, i) {
                    self.pause(ids[j], paused);
                }
            }
            Action::Tick(secs) => {
                self.now += secs as f64;
                self.scheduler_event(Event::Tick);
            }
        }
    }

    /// Delivers every message and finishes every task and fetch, with heartbeats,
    /// until nothing is left to do.
    /// The worker pauses or resumes, and says so to the scheduler after what it
    /// said before.
    fn pause(&mut self, w: WorkerId, paused: bool) {
        let e = if paused {
            WorkerEvent::Pause
        } else {
            WorkerEvent::Resume
        };
        self.worker_event(w, e, None);
        if self.workers.contains_key(&w) {
            self.to_scheduler
                .entry(w)
                .or_default()
                .push_back(Event::WorkerPaused { worker: w, paused });
        }
    }

    fn drain(&mut self) {
        // Memory falls everywhere, so everything can finish.
        let paused: Vec<WorkerId> = self
            .workers
            .iter()
            .filter(|(_, ws)| ws.is_paused())
            .map(|(w, _)| *w)
            .collect();
        for w in paused {
            self.pause(w, false);
        }
        for _ in 0..10_000 {
            self.heartbeats();
            if self.deliver_to_worker(0) || self.deliver_to_scheduler(0) {
                continue;
            }
            if !self.running.is_empty() {
                let (w, key) = self.running.remove(0);
                self.worker_event(
                    w,
                    WorkerEvent::ExecuteDone {
                        key,
                        nbytes: 8,
                        duration: 0.01,
                    },
                    None,
                );
            } else if !self.fetching.is_empty() {
                self.fetch_done(0, false);
            } else {
                return;
            }
        }
        panic!("the cluster did not settle in 10,000 steps");
    }
}

proptest! {
    // 256 cases unless PROPTEST_CASES asks for more (a longer hunt).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    /// Any sequence of events keeps every index of every state machine valid, and
    /// a cluster left to settle with a worker alive computes (or reports erred)
    /// every key a client still wants.
    #[test]
    fn random_clusters_stay_valid_and_settle(
        first_workers in 1..5usize,
        first_threads in 1..3u32,
        actions in prop::collection::vec(action(), 1..160),
    ) {
        let mut sim = Sim::new();
        for _ in 0..first_workers {
            sim.add_worker(first_threads);
        }
        for a in actions {
            sim.act(a);
        }
        if sim.workers.is_empty() {
            sim.add_worker(1);
        }
        sim.drain();
        for k in &sim.wanted {
            let status = sim.scheduler.task(k).map(|t| t.status.name());
            prop_assert!(
                matches!(status, Some("memory") | Some("erred")),
                "{k} is wanted but {status:?}; story: {:?}",
                sim.scheduler.story(k)
            );
        }
    }
}
