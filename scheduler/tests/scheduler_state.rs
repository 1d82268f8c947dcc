//! Event scripts for the scheduler's state machine: feed events, assert the exact
//! instructions, and validate every index after every event.

use brisk_core::Key;
use brisk_scheduler::distributed::scheduler_state::*;
use brisk_scheduler::distributed::{ClientId, Priority, TaskSpec, WorkerId};

const C: ClientId = ClientId(1);
const W1: WorkerId = WorkerId(1);
const W2: WorkerId = WorkerId(2);
const W3: WorkerId = WorkerId(3);
const W4: WorkerId = WorkerId(4);

struct Harness {
    s: SchedulerState,
    now: f64,
}

impl Harness {
    fn new() -> Harness {
        Harness::with(SchedulerConfig::default())
    }
    fn with(config: SchedulerConfig) -> Harness {
        let mut h = Harness {
            s: SchedulerState::new(config),
            now: 0.0,
        };
        h.on(Event::AddClient { client: C });
        h
    }
    /// Handles `e` and validates; compute requests come back with their run
    /// number set to 0, so expected instructions need not count requests (run
    /// numbers have a test of their own).
    fn on(&mut self, e: Event) -> Vec<Instruction> {
        self.on_raw(e)
            .into_iter()
            .map(|mut i| {
                if let Instruction::Compute { run, .. } = &mut i {
                    *run = 0;
                }
                i
            })
            .collect()
    }
    fn on_raw(&mut self, e: Event) -> Vec<Instruction> {
        self.now += 1.0;
        let out = self.s.handle(e, self.now);
        if let Err(e) = self.s.validate() {
            panic!("invalid state: {e}");
        }
        out
    }
    fn worker(&mut self, w: WorkerId, nthreads: u32) -> Vec<Instruction> {
        self.on(Event::AddWorker {
            worker: w,
            address: format!("tcp://w{}", w.0),
            nthreads,
        })
    }
    fn submit(&mut self, tasks: &[(&Key, &[&Key])], wanted: &[&Key]) -> Vec<Instruction> {
        self.on(Event::UpdateGraph {
            client: C,
            tasks: tasks
                .iter()
                .enumerate()
                .map(|(i, (k, deps))| NewTask {
                    key: (*k).clone(),
                    spec: spec(k),
                    dependencies: deps.iter().map(|d| (*d).clone()).collect(),
                    order: i as u32,
                })
                .collect(),
            wanted: wanted.iter().map(|k| (*k).clone()).collect(),
            user_priority: 0,
        })
    }
    fn finish(&mut self, w: WorkerId, k: &Key, nbytes: u64) -> Vec<Instruction> {
        self.on(Event::TaskFinished {
            run: None,
            worker: w,
            key: k.clone(),
            nbytes,
            duration: 0.01,
        })
    }
    fn status(&self, k: &Key) -> Option<&'static str> {
        self.s.task(k).map(|t| t.status.name())
    }
}

fn key(name: &str) -> Key {
    Key::new(name, &[])
}

fn spec(k: &Key) -> TaskSpec {
    TaskSpec {
        op: format!("op::{}", k.name()),
        params: vec![],
    }
}

/// A compute instruction for `k` of the first submitted graph, at `order`.
fn compute(
    w: WorkerId,
    k: &Key,
    inputs: &[(&Key, &[WorkerId])],
    order: u32,
    send_value: bool,
) -> Instruction {
    compute_gen(w, k, inputs, 1, order, send_value)
}

fn compute_gen(
    w: WorkerId,
    k: &Key,
    inputs: &[(&Key, &[WorkerId])],
    generation: u64,
    order: u32,
    send_value: bool,
) -> Instruction {
    Instruction::Compute {
        run: 0,
        worker: w,
        key: k.clone(),
        spec: spec(k),
        inputs: inputs
            .iter()
            .map(|(k, ws)| ((*k).clone(), ws.to_vec()))
            .collect(),
        priority: Priority::new(0, generation, order),
        send_value,
    }
}

fn free(w: WorkerId, k: &Key) -> Instruction {
    Instruction::Free {
        worker: w,
        keys: vec![k.clone()],
    }
}

fn in_memory(k: &Key, nbytes: u64) -> Instruction {
    Instruction::Report {
        client: C,
        report: Report::InMemory {
            key: k.clone(),
            nbytes,
        },
    }
}

/// ```text
///   x ── y
/// ```
/// x runs, then y; when y is in memory the client hears of it and x is freed.
#[test]
fn simple_graph() {
    let mut h = Harness::new();
    let (x, y) = (key("x"), key("y"));
    assert_eq!(h.worker(W1, 1), vec![]);
    assert_eq!(
        h.submit(&[(&x, &[]), (&y, &[&x])], &[&y]),
        vec![compute(W1, &x, &[], 0, false)]
    );
    assert_eq!(h.status(&y), Some("waiting"));
    assert_eq!(
        h.finish(W1, &x, 8),
        vec![compute(W1, &y, &[(&x, &[W1])], 1, true)]
    );
    assert_eq!(h.finish(W1, &y, 8), vec![in_memory(&y, 8), free(W1, &x)]);
    assert_eq!(
        h.status(&x),
        Some("released"),
        "kept for lineage while y lives"
    );
    // The client lets go of y: everything is forgotten and the worker frees y.
    assert_eq!(
        h.on(Event::ReleaseKeys {
            client: C,
            keys: vec![y.clone()]
        }),
        vec![free(W1, &y)]
    );
    assert_eq!(h.s.task_count(), 0);
}

/// ```text
///   a (1 MB, on w1) ─┐
///                    ├─ c
///   b (10 B, on w2) ─┘
/// ```
/// c runs where the big input already is and reads the small one from its peer.
#[test]
fn shared_dependency_on_two_workers() {
    let mut h = Harness::new();
    let (a, b, c) = (key("a"), key("b"), key("c"));
    h.worker(W1, 1);
    h.worker(W2, 1);
    assert_eq!(
        h.submit(&[(&a, &[]), (&b, &[]), (&c, &[&a, &b])], &[&c]),
        vec![
            compute(W1, &a, &[], 0, false),
            compute(W2, &b, &[], 1, false)
        ]
    );
    assert_eq!(h.finish(W2, &b, 10), vec![]);
    assert_eq!(
        h.finish(W1, &a, 1_000_000),
        vec![compute(W1, &c, &[(&a, &[W1]), (&b, &[W2])], 2, true)]
    );
    assert_eq!(
        h.finish(W1, &c, 8),
        vec![in_memory(&c, 8), free(W1, &a), free(W2, &b)]
    );
}

/// A failing task fails everything that reads it; the client hears the original
/// error for the key it wants, and nothing is left running.
#[test]
fn task_error_reaches_the_client_through_dependents() {
    let mut h = Harness::new();
    let (x, y, z) = (key("x"), key("y"), key("z"));
    h.worker(W1, 1);
    h.submit(&[(&x, &[]), (&y, &[&x]), (&z, &[&y])], &[&z]);
    let out = h.on(Event::TaskErred {
        run: None,
        worker: W1,
        key: x.clone(),
        error: "division by zero".into(),
    });
    assert_eq!(
        out,
        vec![Instruction::Report {
            client: C,
            report: Report::Erred {
                key: z.clone(),
                error: "division by zero".into()
            },
        }]
    );
    assert_eq!(h.status(&z), Some("erred"));
    // Releasing the erred key forgets the whole chain.
    assert_eq!(
        h.on(Event::ReleaseKeys {
            client: C,
            keys: vec![z.clone()]
        }),
        vec![]
    );
    assert_eq!(h.s.task_count(), 0);
}

/// ```text
///   x ─┐
///      ├─ z
///   y ─┘
/// ```
/// x is done on w1 (its only copy) while y still runs on w2; w1 dies. x is
/// recomputed from its lineage on w2, then z runs.
#[test]
fn lost_worker_holding_the_only_copy_is_recomputed_from_lineage() {
    let mut h = Harness::new();
    let (x, y, z) = (key("x"), key("y"), key("z"));
    h.worker(W1, 1);
    h.worker(W2, 1);
    h.submit(&[(&x, &[]), (&y, &[]), (&z, &[&x, &y])], &[&z]);
    h.finish(W1, &x, 100);
    assert_eq!(
        h.on(Event::RemoveWorker { worker: W1 }),
        vec![compute(W2, &x, &[], 0, false)]
    );
    assert_eq!(h.status(&x), Some("processing"));
    assert_eq!(h.finish(W2, &y, 100), vec![]);
    assert_eq!(
        h.finish(W2, &x, 100),
        vec![compute(W2, &z, &[(&x, &[W2]), (&y, &[W2])], 2, true)]
    );
    let story = h.s.story(&x);
    let path: Vec<_> = story.iter().map(|l| (l.from, l.to, l.stimulus)).collect();
    assert!(
        path.contains(&("memory", "released", "remove-worker")),
        "{path:?}"
    );
}

/// A chain x ── y whose y was sent to w2 while x's only copy was on w1: when w1
/// dies, y cannot read x and is sent again after x is recomputed.
#[test]
fn lost_input_reschedules_its_running_reader() {
    let mut h = Harness::new();
    let (x, y) = (key("x"), key("y"));
    h.worker(W1, 1);
    h.submit(&[(&x, &[]), (&y, &[&x])], &[&y]);
    h.finish(W1, &x, 10);
    h.worker(W2, 1);
    // y went to w1 (where x is); pretend w1 is the one that dies.
    assert_eq!(h.status(&y), Some("processing"));
    let out = h.on(Event::RemoveWorker { worker: W1 });
    assert_eq!(out, vec![compute(W2, &x, &[], 0, false)]);
    assert_eq!(h.status(&y), Some("waiting"));
    assert_eq!(
        h.finish(W2, &x, 10),
        vec![compute(W2, &y, &[(&x, &[W2])], 1, true)]
    );
}

/// A worker dies while running x: x is sent to another worker.
#[test]
fn lost_worker_while_running_a_task() {
    let mut h = Harness::new();
    let x = key("x");
    h.worker(W1, 1);
    h.worker(W2, 1);
    assert_eq!(
        h.submit(&[(&x, &[])], &[&x]),
        vec![compute(W1, &x, &[], 0, true)]
    );
    assert_eq!(
        h.on(Event::RemoveWorker { worker: W1 }),
        vec![compute(W2, &x, &[], 0, true)]
    );
    assert_eq!(h.s.task(&x).unwrap().suspicious, 1);
    assert_eq!(h.finish(W2, &x, 5), vec![in_memory(&x, 5)]);
}

/// Three workers die in a row running the same task: it is marked erred (Dask's
/// allowed-failures) instead of killing the whole cluster.
#[test]
fn a_task_that_kills_three_workers_is_erred() {
    let mut h = Harness::new();
    let x = key("x");
    for w in [W1, W2, W3, W4] {
        h.worker(w, 1);
    }
    assert_eq!(
        h.submit(&[(&x, &[])], &[&x]),
        vec![compute(W1, &x, &[], 0, true)]
    );
    assert_eq!(
        h.on(Event::RemoveWorker { worker: W1 }),
        vec![compute(W2, &x, &[], 0, true)]
    );
    assert_eq!(
        h.on(Event::RemoveWorker { worker: W2 }),
        vec![compute(W3, &x, &[], 0, true)]
    );
    let out = h.on(Event::RemoveWorker { worker: W3 });
    match &out[..] {
        [Instruction::Report {
            client: C,
            report: Report::Erred { key: k, error },
        }] => {
            assert_eq!(k, &x);
            assert!(error.contains("3 workers that died"), "{error}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(h.status(&x), Some("erred"));
    assert!(h.s.worker(W4).unwrap().processing.is_empty());
}

/// Cancelling a running task tells the client, stops the work on the worker and
/// forgets the task.
#[test]
fn cancel_stops_and_forgets() {
    let mut h = Harness::new();
    let (x, y) = (key("x"), key("y"));
    h.worker(W1, 1);
    h.submit(&[(&x, &[]), (&y, &[&x])], &[&y]);
    let out = h.on(Event::Cancel {
        client: C,
        keys: vec![y.clone()],
    });
    assert_eq!(
        out,
        vec![
            Instruction::Report {
                client: C,
                report: Report::Cancelled { key: y.clone() }
            },
            free(W1, &x),
        ]
    );
    assert_eq!(h.s.task_count(), 0);
    // A late result of the cancelled work is dropped on the worker.
    assert_eq!(h.finish(W1, &x, 1), vec![free(W1, &x)]);
}

/// Results nobody wants are freed on the workers and forgotten; results another
/// client still wants stay.
#[test]
fn keys_are_forgotten_when_no_client_wants_them() {
    let mut h = Harness::new();
    let other = ClientId(2);
    let (x, y) = (key("x"), key("y"));
    h.worker(W1, 1);
    h.on(Event::AddClient { client: other });
    h.submit(&[(&x, &[]), (&y, &[&x])], &[&x, &y]);
    h.finish(W1, &x, 4);
    h.finish(W1, &y, 4);
    // The second client asks for x, already in memory: told at once.
    let out = h.on(Event::UpdateGraph {
        client: other,
        tasks: vec![],
        wanted: vec![x.clone()],
        user_priority: 0,
    });
    assert_eq!(
        out,
        vec![Instruction::Report {
            client: other,
            report: Report::InMemory {
                key: x.clone(),
                nbytes: 4
            }
        }]
    );
    assert_eq!(
        h.on(Event::ReleaseKeys {
            client: C,
            keys: vec![x.clone(), y.clone()]
        }),
        vec![free(W1, &y)]
    );
    assert_eq!(h.status(&x), Some("memory"));
    assert_eq!(h.status(&y), None);
    assert_eq!(
        h.on(Event::RemoveClient { client: other }),
        vec![free(W1, &x)]
    );
    assert_eq!(h.s.task_count(), 0);
}

/// Root tasks are released ceil(1.1 × nthreads) at a time; each finished one lets
/// the next (by priority) out of the queue.
#[test]
fn root_tasks_are_queued_to_keep_memory_low() {
    let mut h = Harness::with(SchedulerConfig {
        fast_task: 0.0,
        ..Default::default()
    });
    h.worker(W1, 2);
    let roots: Vec<Key> = (0..6).map(|i| Key::new("load", &[i])).collect();
    let total = key("total");
    let mut tasks: Vec<(&Key, &[&Key])> = roots.iter().map(|k| (k, &[][..])).collect();
    let refs: Vec<&Key> = roots.iter().collect();
    tasks.push((&total, &refs));
    let out = h.submit(&tasks, &[&total]);
    assert_eq!(
        out,
        (0..3)
            .map(|i| compute(W1, &roots[i], &[], i as u32, false))
            .collect::<Vec<_>>()
    );
    assert_eq!(h.status(&roots[3]), Some("queued"));
    assert_eq!(
        h.finish(W1, &roots[0], 1),
        vec![compute(W1, &roots[3], &[], 3, false)]
    );
}

/// Tasks submitted before any worker wait as no-worker and start when one joins.
#[test]
fn no_worker_until_one_joins() {
    let mut h = Harness::new();
    let x = key("x");
    assert_eq!(h.submit(&[(&x, &[])], &[&x]), vec![]);
    assert_eq!(h.status(&x), Some("no-worker"));
    assert_eq!(h.worker(W1, 1), vec![compute(W1, &x, &[], 0, true)]);
}

/// Tasks that wait with no worker connected fail once the no-workers timeout has
/// passed (counted from the first tick that saw them waiting), with an error
/// naming the task; its dependents fail with it. A worker joining in time runs
/// them instead.
#[test]
fn tasks_fail_after_the_no_workers_timeout() {
    let mut h = Harness::with(SchedulerConfig {
        no_workers_timeout: Some(10.0),
        ..Default::default()
    });
    let (x, y) = (key("x"), key("y"));
    h.submit(&[(&x, &[]), (&y, &[&x])], &[&y]);
    assert_eq!(h.status(&x), Some("no-worker"));
    let at = |h: &mut Harness, t: f64| {
        h.now = t - 1.0;
        h.on(Event::Tick)
    };
    assert_eq!(at(&mut h, 100.0), vec![], "the first tick starts the clock");
    assert_eq!(at(&mut h, 109.0), vec![]);
    let out = at(&mut h, 110.0);
    let [Instruction::Report {
        client: C,
        report: Report::Erred { key: k, error },
    }] = &out[..]
    else {
        panic!("expected one error report, got {out:?}");
    };
    assert_eq!(k, &y);
    assert!(
        error.contains(&x.to_string()) && error.contains("no worker has been connected for 10 s"),
        "{error}"
    );
    assert_eq!(h.status(&y), Some("erred"));

    // With a worker in time, nothing fails.
    let mut h = Harness::with(SchedulerConfig {
        no_workers_timeout: Some(10.0),
        ..Default::default()
    });
    h.submit(&[(&x, &[])], &[&x]);
    at(&mut h, 100.0);
    h.now = 105.0;
    h.worker(W1, 1);
    assert_eq!(at(&mut h, 150.0), vec![]);
    assert_eq!(h.status(&x), Some("processing"));
}

/// Scattered data is held by a worker at once; replicate spreads it; losing the
/// only copy of scattered data is an error (it has no lineage).
#[test]
fn scatter_replicate_and_lost_scattered_data() {
    let mut h = Harness::new();
    let d = key("data");
    h.worker(W1, 1);
    h.worker(W2, 1);
    h.worker(W3, 1);
    let out = h.on(Event::Scatter {
        client: C,
        keys: vec![(d.clone(), 100)],
        broadcast: false,
    });
    assert_eq!(
        out,
        vec![
            Instruction::StoreScattered {
                worker: W1,
                key: d.clone()
            },
            in_memory(&d, 100)
        ]
    );
    let out = h.on(Event::Replicate {
        client: C,
        keys: vec![d.clone()],
        n: 3,
    });
    assert_eq!(
        out,
        vec![
            Instruction::Replicate {
                worker: W2,
                key: d.clone(),
                holders: vec![W1]
            },
            Instruction::Replicate {
                worker: W3,
                key: d.clone(),
                holders: vec![W1, W2]
            },
        ]
    );
    h.on(Event::AddKeys {
        worker: W2,
        keys: vec![d.clone()],
    });
    assert_eq!(
        h.s.who_has(std::slice::from_ref(&d)),
        vec![(d.clone(), vec![W1, W2])]
    );
    assert_eq!(h.on(Event::RemoveWorker { worker: W1 }), vec![]);
    let out = h.on(Event::RemoveWorker { worker: W2 });
    match &out[..] {
        [Instruction::Report {
            report: Report::Erred { error, .. },
            ..
        }] => {
            assert!(error.contains("lost with the last worker"), "{error}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A worker that cannot fetch an input from its holder says so: the holder's copy
/// is dropped from the books, the input recomputed, and the task sent again.
#[test]
fn missing_data_recomputes_the_input() {
    let mut h = Harness::new();
    let (x, y) = (key("x"), key("y"));
    h.worker(W1, 1);
    h.submit(&[(&x, &[])], &[]);
    h.submit(&[(&x, &[]), (&y, &[&x])], &[&y]);
    h.finish(W1, &x, 10);
    h.worker(W2, 1);
    // Pretend y went to w2 and w1 could not serve x.
    let on = match h.s.task(&y).unwrap().status {
        TaskStatus::Processing { worker } => worker,
        ref s => panic!("{s:?}"),
    };
    let out = h.on(Event::MissingData {
        worker: on,
        key: y.clone(),
        missing: x.clone(),
        holder: W1,
    });
    assert!(
        matches!(&out[..], [Instruction::Free { .. }, Instruction::Compute { key: k, .. }] if *k == x),
        "{out:?}"
    );
}

/// A worker silent past the timeout is closed and its work rescheduled.
#[test]
fn silent_worker_is_removed_on_tick() {
    let mut h = Harness::with(SchedulerConfig {
        worker_timeout: 5.0,
        ..Default::default()
    });
    let x = key("x");
    h.worker(W1, 1);
    h.submit(&[(&x, &[])], &[&x]);
    for _ in 0..3 {
        assert_eq!(h.on(Event::Tick), vec![]);
    }
    h.worker(W2, 1);
    for _ in 0..4 {
        h.on(Event::Heartbeat { worker: W2 });
    }
    let out = h.on(Event::Tick);
    assert_eq!(
        out,
        vec![
            Instruction::CloseWorker { worker: W1 },
            compute(W2, &x, &[], 0, true)
        ]
    );
}

/// Higher user priority runs first among ready root tasks.
#[test]
fn user_priority_orders_the_queue() {
    let mut h = Harness::with(SchedulerConfig {
        fast_task: 0.0,
        ..Default::default()
    });
    h.worker(W1, 1);
    let (a, b, c, d) = (key("a"), key("b"), key("c"), key("d"));
    h.submit(&[(&a, &[]), (&b, &[]), (&c, &[])], &[&a, &b, &c]);
    let out = h.on(Event::UpdateGraph {
        client: C,
        tasks: vec![NewTask {
            key: d.clone(),
            spec: spec(&d),
            dependencies: vec![],
            order: 0,
        }],
        wanted: vec![d.clone()],
        user_priority: 10,
    });
    assert_eq!(out, vec![]);
    assert_eq!(
        h.finish(W1, &a, 1),
        vec![
            in_memory(&a, 1),
            Instruction::Compute {
                run: 0,
                worker: W1,
                key: d.clone(),
                spec: spec(&d),
                inputs: vec![],
                priority: Priority::new(10, 2, 0),
                send_value: true,
            }
        ]
    );
}

/// Unknown inputs fail the task with a message naming the key.
#[test]
fn unknown_input_is_an_error_naming_it() {
    let mut h = Harness::new();
    h.worker(W1, 1);
    let (x, ghost) = (key("x"), key("ghost"));
    let out = h.submit(&[(&x, &[&ghost])], &[&x]);
    match &out[..] {
        [Instruction::Report {
            report: Report::Erred { error, .. },
            ..
        }] => {
            assert!(error.contains("'ghost'"), "{error}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Regression (found by the random test): a worker dies running `k` and `x`, the
/// two inputs of `r`. `k` has now killed two workers and is erred, which errs `r`;
/// `x` was to run again for `r`, but nobody needs it any more by the time its turn
/// comes in the same event: it stays released instead of waiting for a worker.
///
/// ```text
///   k ──┐    k kills the workers it runs on
///       ├──▶ r (wanted)
///   x ──┘
/// ```
#[test]
fn a_rerun_whose_reader_erred_in_the_same_event_is_not_run() {
    let mut h = Harness::with(SchedulerConfig {
        allowed_failures: 2,
        ..SchedulerConfig::default()
    });
    let (k, x, r) = (key("k"), key("x"), key("r"));
    h.worker(W1, 1);
    h.submit(&[(&k, &[])], &[&k]);
    h.on(Event::RemoveWorker { worker: W1 });
    h.worker(W2, 2);
    assert_eq!(h.status(&k), Some("processing"));
    h.submit(&[(&x, &[]), (&r, &[&k, &x])], &[&r]);
    assert_eq!(h.status(&x), Some("processing"));
    h.on(Event::RemoveWorker { worker: W2 });
    assert_eq!(h.status(&k), Some("erred"));
    assert_eq!(h.status(&r), Some("erred"));
    assert!(
        matches!(h.status(&x), None | Some("released")),
        "x is {:?}",
        h.status(&x)
    );
}

/// ```text
///   x ──► y ──► z
///         ▲     │
///         └─────┘     (y reads z, z reads y)
/// ```
/// A graph with a cycle is refused whole: the wanted key errs naming a key of the
/// cycle, and no task is added.
#[test]
fn a_cyclic_graph_is_refused_naming_a_key_of_the_cycle() {
    let mut h = Harness::new();
    h.worker(W1, 1);
    let (x, y, z) = (key("x"), key("y"), key("z"));
    let out = h.submit(&[(&x, &[&y]), (&y, &[&z]), (&z, &[&y])], &[&x]);
    let [Instruction::Report {
        client: C,
        report: Report::Erred { key: erred, error },
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(erred, &x);
    assert!(error.contains(&format!("cycle through {y}")), "{error}");
    assert_eq!(h.status(&x), None);
    assert_eq!(h.status(&y), None);
    // A task reading itself is a cycle too; a diamond is not.
    let s = key("s");
    let out = h.submit(&[(&s, &[&s])], &[&s]);
    assert!(matches!(
        &out[..],
        [Instruction::Report {
            report: Report::Erred { .. },
            ..
        }]
    ));
    let (a, b, c, d) = (key("a"), key("b"), key("c"), key("d"));
    let out = h.submit(
        &[(&a, &[]), (&b, &[&a]), (&c, &[&a]), (&d, &[&b, &c])],
        &[&d],
    );
    assert!(matches!(&out[..], [Instruction::Compute { .. }]), "{out:?}");
}

/// A paused worker gets no new tasks: roots queue for the running worker, and
/// with every worker paused tasks wait until one resumes.
#[test]
fn a_paused_worker_receives_no_new_tasks_until_it_resumes() {
    let mut h = Harness::new();
    let roots: Vec<Key> = (0..6).map(|i| key(&format!("r{i}"))).collect();
    let c = key("c");
    h.worker(W1, 1);
    h.worker(W2, 1);
    let pause = |w, paused| Event::WorkerPaused { worker: w, paused };
    let workers = |out: &[Instruction]| -> Vec<WorkerId> {
        out.iter()
            .filter_map(|i| match i {
                Instruction::Compute { worker, .. } => Some(*worker),
                _ => None,
            })
            .collect()
    };
    assert_eq!(h.on(pause(W1, true)), vec![]);
    let tasks: Vec<(&Key, &[&Key])> = roots.iter().map(|k| (k, &[][..])).collect();
    let wanted: Vec<&Key> = roots.iter().collect();
    let out = h.submit(&tasks, &wanted);
    let sent = workers(&out);
    assert!(!sent.is_empty() && sent.iter().all(|w| *w == W2), "{out:?}");
    assert!(roots.iter().any(|k| h.status(k) == Some("queued")));
    assert_eq!(h.on(pause(W2, true)), vec![]);
    // W2 finishes what it had; with every worker paused nothing new is sent.
    for k in &roots[..sent.len()] {
        assert_eq!(workers(&h.finish(W2, k, 8)), vec![]);
    }
    // A task with inputs finds no running worker either.
    assert_eq!(h.submit(&[(&c, &[&roots[0]])], &[&c]), vec![]);
    assert_eq!(h.status(&c), Some("no-worker"));
    // W1 resumes: the stranded task and queued roots go to it, none to W2.
    let out = h.on(pause(W1, false));
    let sent = workers(&out);
    assert!(sent.len() >= 2 && sent.iter().all(|w| *w == W1), "{out:?}");
    assert!(out
        .iter()
        .any(|i| matches!(i, Instruction::Compute { key, .. } if *key == c)));
}

/// Retiring a worker moves the results only it holds to another worker, then
/// tells it to go: nothing is lost.
#[test]
fn a_retiring_worker_hands_over_what_only_it_holds_then_goes() {
    let mut h = Harness::new();
    let (a, b) = (key("a"), key("b"));
    h.worker(W1, 1);
    h.worker(W2, 1);
    h.submit(&[(&a, &[]), (&b, &[])], &[&a, &b]);
    let holder = |h: &Harness, k: &Key| h.s.task(k).unwrap().who_has.to_vec();
    let on = |h: &Harness, k: &Key| match h.s.task(k).unwrap().status {
        TaskStatus::Processing { worker } => worker,
        ref s => panic!("{k} is {s:?}"),
    };
    let (wa, wb) = (on(&h, &a), on(&h, &b));
    h.finish(wa, &a, 100);
    h.finish(wb, &b, 100);
    let (leaving, staying) = (wa, if wa == W1 { W2 } else { W1 });
    let out = h.on(Event::RetireWorkers {
        workers: vec![leaving],
    });
    let mine: Vec<&Key> = [&a, &b]
        .into_iter()
        .filter(|k| holder(&h, k) == vec![leaving])
        .collect();
    assert!(!mine.is_empty());
    assert_eq!(
        out,
        mine.iter()
            .map(|k| Instruction::Replicate {
                worker: staying,
                key: (*k).clone(),
                holders: vec![leaving],
            })
            .collect::<Vec<_>>()
    );
    assert!(h.s.is_retiring(leaving));
    // No new work goes to a retiring worker.
    let c = key("c");
    let out = h.submit(&[(&c, &[])], &[&c]);
    assert!(out
        .iter()
        .all(|i| !matches!(i, Instruction::Compute { worker, .. } if *worker == leaving)));
    let out = h.on(Event::AddKeys {
        worker: staying,
        keys: mine.iter().map(|k| (*k).clone()).collect(),
    });
    assert!(
        out.contains(&Instruction::RetireWorker { worker: leaving }),
        "{out:?}"
    );
    assert!(h.s.worker(leaving).is_none());
    for k in [&a, &b] {
        assert_eq!(holder(&h, k), vec![staying], "{k} is kept");
    }
    assert_eq!(h.s.moves_in_flight(), 0);
}

/// Rebalancing moves results from a worker holding more than the mean to one
/// holding less: a copy, then the source's copy is freed.
#[test]
fn rebalance_moves_results_towards_the_mean() {
    let mut h = Harness::new();
    let (a, b) = (key("a"), key("b"));
    h.worker(W1, 1);
    h.worker(W2, 1);
    h.on(Event::WorkerPaused {
        worker: W2,
        paused: true,
    });
    h.submit(&[(&a, &[]), (&b, &[])], &[&a, &b]);
    h.finish(W1, &a, 100);
    h.finish(W1, &b, 100);
    h.on(Event::WorkerPaused {
        worker: W2,
        paused: false,
    });
    let out = h.on(Event::Rebalance);
    assert_eq!(
        out,
        vec![Instruction::Replicate {
            worker: W2,
            key: a.clone(),
            holders: vec![W1],
        }]
    );
    assert_eq!(h.s.moves_in_flight(), 1);
    let out = h.on(Event::AddKeys {
        worker: W2,
        keys: vec![a.clone()],
    });
    assert_eq!(out, vec![free(W1, &a)]);
    assert_eq!(h.s.moves_in_flight(), 0);
    assert_eq!(h.s.task(&a).unwrap().who_has.to_vec(), vec![W2]);
    assert_eq!(h.s.worker(W1).unwrap().nbytes, 100);
    assert_eq!(h.s.worker(W2).unwrap().nbytes, 100);
    // Balanced: nothing more to move.
    assert_eq!(h.on(Event::Rebalance), vec![]);
}

/// The run number of the one compute request in `out`.
fn run_of(out: &[Instruction]) -> u64 {
    match out {
        [Instruction::Compute { run, .. }] => *run,
        other => panic!("expected one compute request, got {other:?}"),
    }
}

/// A worker's report of a run that crossed the scheduler's free and its new request
/// for the same key on the wire is ignored: only the report of the new request
/// counts. (Found by the randomised cluster test: accepting the stale report made
/// the scheduler free an input that a task on the worker was still waiting for.)
#[test]
fn a_report_of_an_earlier_compute_request_is_ignored() {
    let mut h = Harness::new();
    let x = key("x");
    let ask_for = |x: &Key| Event::UpdateGraph {
        client: C,
        tasks: vec![NewTask {
            key: x.clone(),
            spec: spec(x),
            dependencies: vec![],
            order: 0,
        }],
        wanted: vec![x.clone()],
        user_priority: 0,
    };
    h.worker(W1, 1);
    let first = run_of(&h.on_raw(ask_for(&x)));
    let out = h.on(Event::ReleaseKeys {
        client: C,
        keys: vec![x.clone()],
    });
    assert_eq!(
        out,
        vec![Instruction::Free {
            worker: W1,
            keys: vec![x.clone()]
        }]
    );
    let second = run_of(&h.on_raw(ask_for(&x)));
    assert_ne!(first, second, "every request has its own number");
    // The first run's report arrives now: it answers a request no longer current.
    let out = h.on(Event::TaskFinished {
        worker: W1,
        key: x.clone(),
        nbytes: 8,
        duration: 0.1,
        run: Some(first),
    });
    assert_eq!(out, vec![]);
    assert!(matches!(
        h.s.task(&x).map(|t| &t.status),
        Some(TaskStatus::Processing { worker: W1 })
    ));
    // The same for an error of the earlier run.
    let out = h.on(Event::TaskErred {
        worker: W1,
        key: x.clone(),
        error: "boom".into(),
        run: Some(first),
    });
    assert_eq!(out, vec![]);
    // The report of the current request is taken.
    let out = h.on(Event::TaskFinished {
        worker: W1,
        key: x.clone(),
        nbytes: 8,
        duration: 0.1,
        run: Some(second),
    });
    assert_eq!(
        out,
        vec![Instruction::Report {
            client: C,
            report: Report::InMemory { key: x, nbytes: 8 }
        }]
    );
}

/// A copy of a key that reaches a worker just before the scheduler asks that worker
/// to compute the key (its add-keys report crosses the request on the wire) is not
/// freed: the free would cancel the run whose report the scheduler waits for.
/// (Found by the randomised cluster test, which then waited forever.)
#[test]
fn a_copy_reported_by_the_worker_computing_the_key_is_not_freed() {
    let mut h = Harness::new();
    let x = key("x");
    h.worker(W1, 1);
    let out = h.submit(&[(&x, &[])], &[&x]);
    assert_eq!(out, vec![compute(W1, &x, &[], 0, true)]);
    let out = h.on(Event::AddKeys {
        worker: W1,
        keys: vec![x.clone()],
    });
    assert_eq!(out, vec![]);
    let out = h.finish(W1, &x, 8);
    assert_eq!(
        out,
        vec![Instruction::Report {
            client: C,
            report: Report::InMemory { key: x, nbytes: 8 }
        }]
    );
}
