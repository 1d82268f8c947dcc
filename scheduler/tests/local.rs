//! The local schedulers: results, memory, errors, progress, shared work.

use brisk_core::graph::{Graph, Task};
use brisk_core::op::{ClosureOp, Op};
use brisk_core::value::{Data, Encoded, NBytes};
use brisk_core::{executor, shapes, Error, Executor, Key, Result, Value};
use brisk_scheduler::{LocalScheduler, Progress, SyncScheduler};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

fn op(name: &str, f: impl Fn(&[Value]) -> Result<Value> + Send + Sync + 'static) -> Arc<dyn Op> {
    Arc::new(ClosureOp::new(name, f))
}

fn int(v: &Value) -> i64 {
    *v.expect_ref::<i64>().unwrap()
}

/// `n` leaves summed by a tree reduction of fan-in `k`.
fn sum_tree(n: u32, k: u32, leaf: Arc<dyn Op>, sum: Arc<dyn Op>) -> (Graph, Key) {
    let (tasks, root) = shapes::tree_reduction_with(n, k, |_| leaf.clone(), sum);
    (Graph::from_tasks("tree", tasks), root)
}

/// `n` leaves with values `0..n`, summed by a tree reduction of fan-in `k`.
fn tree_of_indices(n: u32, k: u32) -> (Graph, Key) {
    let sum = op("sum", |xs| {
        Ok(Arc::new(xs.iter().map(int).sum::<i64>()) as Value)
    });
    let (tasks, root) = shapes::tree_reduction_with(
        n,
        k,
        |i| op("leaf", move |_| Ok(Arc::new(i as i64) as Value)),
        sum,
    );
    (Graph::from_tasks("tree", tasks), root)
}

fn schedulers() -> Vec<(&'static str, Box<dyn Executor>)> {
    vec![
        ("sync", Box::new(SyncScheduler::validating())),
        ("threads-1", Box::new(LocalScheduler::with_threads(1))),
        ("threads-2", Box::new(LocalScheduler::with_threads(2))),
        ("threads-4", Box::new(LocalScheduler::with_threads(4))),
        ("global-pool", Box::new(LocalScheduler::new())),
        // A memory limit of one byte: every held result goes to a file and back.
        (
            "spilling",
            Box::new(LocalScheduler::with_threads(2).memory_limit(1)),
        ),
    ]
}

#[test]
fn tree_reductions_sum_correctly_on_every_scheduler() {
    for (n, k) in [(1u32, 2u32), (2, 2), (1000, 2), (1000, 8), (4096, 100)] {
        let (g, root) = tree_of_indices(n, k);
        let expected: i64 = (0..n as i64).sum();
        for (name, s) in schedulers() {
            let got = s.get(&g, std::slice::from_ref(&root)).unwrap();
            assert_eq!(int(&got[0]), expected, "{name}, n={n}, k={k}");
        }
    }
}

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// A result that counts how many of its kind are alive.
struct Tracked(i64);

impl Tracked {
    fn new(x: i64) -> Self {
        let live = LIVE.fetch_add(1, SeqCst) + 1;
        PEAK.fetch_max(live, SeqCst);
        Tracked(x)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, SeqCst);
    }
}

impl Data for Tracked {
    fn nbytes(&self) -> usize {
        NBytes::nbytes(&self.0)
    }
    fn type_tag(&self) -> &'static str {
        "test::Tracked"
    }
    fn encode(&self) -> Result<Encoded> {
        Err(Error::Other("not sent".into()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Intermediates are dropped as soon as their last reader has run: a 4,096-leaf tree
/// reduction never holds more than the order's peak of results.
#[test]
fn intermediates_are_dropped_after_their_last_reader() {
    let sum = op("sum", |xs| {
        Ok(Arc::new(Tracked::new(
            xs.iter()
                .map(|v| v.expect_ref::<Tracked>().unwrap().0)
                .sum(),
        )) as Value)
    });
    let leaf = op("leaf", |_| Ok(Arc::new(Tracked::new(1)) as Value));
    let (g, root) = sum_tree(4096, 8, leaf, sum);
    for (name, s, bound) in [
        (
            "sync",
            Box::new(SyncScheduler::validating()) as Box<dyn Executor>,
            8 * 4 + 1,
        ),
        ("threads-2", Box::new(LocalScheduler::with_threads(2)), 200),
    ] {
        PEAK.store(0, SeqCst);
        let out = s.get(&g, std::slice::from_ref(&root)).unwrap();
        assert_eq!(out[0].expect_ref::<Tracked>().unwrap().0, 4096);
        let peak = PEAK.load(SeqCst);
        assert!(peak <= bound, "{name}: {peak} results alive at once");
        drop(out);
        assert_eq!(LIVE.load(SeqCst), 0, "{name}: every result released");
    }
}

#[test]
fn a_failing_task_is_returned_with_its_key_and_op_and_stops_the_rest() {
    //   bad ─▶ after_0 ─▶ after_1 ─▶ …      (what reads the failure never runs)
    //   ok_0 … ok_999                        (independent work)
    let started = Arc::new(AtomicUsize::new(0));
    let s2 = started.clone();
    let work = op("work", move |_| {
        s2.fetch_add(1, SeqCst);
        Ok(Arc::new(1i64) as Value)
    });
    let after_ran = Arc::new(AtomicUsize::new(0));
    let a2 = after_ran.clone();
    let after = op("after", move |_| {
        a2.fetch_add(1, SeqCst);
        Ok(Arc::new(1i64) as Value)
    });
    let fail = op("explode", |_| Err(Error::user("the input was bad")));
    let mut tasks = vec![Task::new(Key::new("bad", &[]), fail, vec![])];
    tasks.extend((0..1000).map(|i| Task::new(Key::new("ok", &[i]), work.clone(), vec![])));
    tasks.push(Task::new(
        Key::new("after", &[0]),
        after.clone(),
        vec![Key::new("bad", &[])],
    ));
    tasks.extend((1..10).map(|i| {
        Task::new(
            Key::new("after", &[i]),
            after.clone(),
            vec![Key::new("after", &[i - 1])],
        )
    }));
    let mut keys = vec![Key::new("bad", &[])];
    keys.extend((0..1000).map(|i| Key::new("ok", &[i])));
    keys.push(Key::new("after", &[9]));
    let g = Graph::from_tasks("g", tasks);
    for (name, s) in schedulers() {
        started.store(0, SeqCst);
        after_ran.store(0, SeqCst);
        let err = s.get(&g, &keys).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the input was bad (in task 'bad', op 'explode')",
            "{name}"
        );
        assert!(matches!(err.root_cause(), Error::User { .. }));
        assert_eq!(
            after_ran.load(SeqCst),
            0,
            "{name}: a reader of the failed task ran"
        );
        if name == "sync" {
            // `bad` is requested first, so it runs first: nothing else started.
            assert_eq!(started.load(SeqCst), 0);
        }
    }
}

#[test]
fn a_panicking_task_becomes_an_error_not_a_crash() {
    let boom = op("boom", |_| {
        panic!("index out of range: the chunk has 3 rows")
    });
    let g = Graph::from_tasks("g", vec![Task::new(Key::new("x", &[7]), boom, vec![])]);
    for (name, s) in schedulers() {
        let err = s.get(&g, &[Key::new("x", &[7])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "panicked: index out of range: the chunk has 3 rows (in task ('x', 7), op 'boom')",
            "{name}"
        );
    }
    // The pool survives: the next graph runs.
    let (g, root) = tree_of_indices(10, 2);
    assert_eq!(
        int(&LocalScheduler::with_threads(2).get(&g, &[root]).unwrap()[0]),
        45
    );
}

#[test]
fn keys_requested_twice_or_by_two_requests_run_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let shared = op("shared", move |_| {
        c.fetch_add(1, SeqCst);
        Ok(Arc::new(10i64) as Value)
    });
    let inc = op("inc", |xs| Ok(Arc::new(int(&xs[0]) + 1) as Value));
    let dbl = op("dbl", |xs| Ok(Arc::new(int(&xs[0]) * 2) as Value));
    let s = Key::new("shared", &[]);
    let a = Graph::from_tasks(
        "a",
        vec![
            Task::new(s.clone(), shared.clone(), vec![]),
            Task::new(Key::new("a", &[]), inc, vec![s.clone()]),
        ],
    );
    let b = Graph::from_tasks(
        "b",
        vec![
            Task::new(s.clone(), shared, vec![]),
            Task::new(Key::new("b", &[]), dbl, vec![s.clone()]),
        ],
    );
    let both = Graph::merge([&a, &b]);
    for (name, sch) in schedulers() {
        calls.store(0, SeqCst);
        let out = sch
            .get(
                &both,
                &[Key::new("a", &[]), s.clone(), Key::new("b", &[]), s.clone()],
            )
            .unwrap();
        assert_eq!(
            out.iter().map(int).collect::<Vec<_>>(),
            [11, 10, 20, 10],
            "{name}"
        );
        assert_eq!(calls.load(SeqCst), 1, "{name}");
    }
}

#[test]
fn progress_hears_about_every_task() {
    let seen = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let s = seen.clone();
    let sched = LocalScheduler::with_threads(2).on_progress(move |p| s.lock().unwrap().push(p));
    let (g, root) = tree_of_indices(100, 10);
    sched.get(&g, &[root]).unwrap();
    let seen = seen.lock().unwrap();
    let total = 100 + 10 + 1;
    assert_eq!(seen.len(), total);
    assert!(seen
        .iter()
        .all(|p| p.total == total && p.finished >= 1 && p.finished <= total));
    assert_eq!(seen.iter().map(|p| p.finished).max(), Some(total));
}

#[test]
fn graph_errors_surface_before_anything_runs() {
    let g = Graph::from_tasks(
        "g",
        vec![Task::new(
            Key::new("a", &[]),
            op("never-runs", |_| {
                panic!("a graph with a missing input must not run")
            }),
            vec![Key::new("b", &[])],
        )],
    );
    for (name, s) in schedulers() {
        let err = s.get(&g, &[Key::new("a", &[])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "task 'a' depends on 'b', which is not in the graph",
            "{name}"
        );
    }
}

#[test]
fn deep_chains_run_on_every_scheduler() {
    let inc = op("inc", |xs| {
        Ok(Arc::new(xs.first().map_or(0, int) + 1) as Value)
    });
    let mut tasks = Vec::new();
    for i in 0..100_000u32 {
        let inputs = if i == 0 {
            vec![]
        } else {
            vec![Key::new("c", &[i - 1])]
        };
        tasks.push(Task::new(Key::new("c", &[i]), inc.clone(), inputs));
    }
    let g = Graph::from_tasks("chain", tasks);
    let last = Key::new("c", &[99_999]);
    for (name, s) in [
        ("sync", Box::new(SyncScheduler::new()) as Box<dyn Executor>),
        ("threads-2", Box::new(LocalScheduler::with_threads(2))),
    ] {
        assert_eq!(
            int(&s.get(&g, std::slice::from_ref(&last)).unwrap()[0]),
            100_000,
            "{name}"
        );
    }
}

#[test]
fn the_threaded_scheduler_is_the_default_executor() {
    let (g, root) = tree_of_indices(64, 4);
    assert_eq!(
        int(&executor::get(&g, &[root]).unwrap()[0]),
        (0..64).sum::<i64>()
    );
}

#[test]
fn a_panicking_progress_callback_fails_the_run_instead_of_hanging_it() {
    let sched = LocalScheduler::with_threads(2).on_progress(|p| {
        if p.finished == 3 {
            panic!("progress bar broke");
        }
    });
    let (g, root) = tree_of_indices(100, 4);
    let err = sched.get(&g, &[root]).unwrap_err();
    assert_eq!(err.to_string(), "the progress callback panicked");
}

/// Tasks may use rayon themselves: a task running a parallel iterator on the same
/// pool neither deadlocks nor starves the scheduler.
#[test]
fn tasks_that_use_rayon_inside_do_not_deadlock() {
    use rayon::prelude::*;
    let par_sum = op("par-sum", |_| {
        Ok(Arc::new((0..100_000i64).into_par_iter().sum::<i64>()) as Value)
    });
    let tasks: Vec<Task> = (0..16)
        .map(|i| Task::new(Key::new("p", &[i]), par_sum.clone(), vec![]))
        .collect();
    let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
    let g = Graph::from_tasks("g", tasks);
    for s in [LocalScheduler::with_threads(2), LocalScheduler::new()] {
        let out = s.get(&g, &keys).unwrap();
        assert!(out.iter().all(|v| int(v) == (0..100_000i64).sum::<i64>()));
    }
}

/// Values counted while alive, for the streaming test alone.
struct Streamed(i64);
static STREAM_LIVE: AtomicUsize = AtomicUsize::new(0);
static STREAM_PEAK: AtomicUsize = AtomicUsize::new(0);

impl Streamed {
    fn new(v: i64) -> Self {
        let now = STREAM_LIVE.fetch_add(1, SeqCst) + 1;
        STREAM_PEAK.fetch_max(now, SeqCst);
        Streamed(v)
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        STREAM_LIVE.fetch_sub(1, SeqCst);
    }
}

impl Data for Streamed {
    fn nbytes(&self) -> usize {
        8
    }
    fn type_tag(&self) -> &'static str {
        "test-streamed"
    }
    fn encode(&self) -> Result<Encoded> {
        Err(Error::Other("not sent".into()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[test]
fn get_each_hands_results_over_as_they_finish_and_does_not_hold_them() {
    // 512 requested leaves (one requested twice) and a sum that also reads leaf 0.
    let mut tasks: Vec<Task> = (0..512)
        .map(|i| {
            Task::new(
                Key::new("leaf", &[i]),
                op("leaf", move |_| {
                    Ok(Arc::new(Streamed::new(i as i64)) as Value)
                }),
                vec![],
            )
        })
        .collect();
    tasks.push(Task::new(
        Key::new("first", &[]),
        op("first", |xs| {
            Ok(Arc::new(Streamed::new(
                xs[0].expect_ref::<Streamed>().unwrap().0 + 1000,
            )) as Value)
        }),
        vec![Key::new("leaf", &[0])],
    ));
    let g = Graph::from_tasks("leaves", tasks);
    let mut keys: Vec<Key> = (0..512).map(|i| Key::new("leaf", &[i])).collect();
    keys.push(Key::new("leaf", &[7]));
    keys.push(Key::new("first", &[]));
    for (name, s) in [
        (
            "threads-2",
            Box::new(LocalScheduler::with_threads(2)) as Box<dyn Executor>,
        ),
        ("sync (default)", Box::new(SyncScheduler::new())),
    ] {
        STREAM_PEAK.store(0, SeqCst);
        let mut seen = vec![None; keys.len()];
        s.get_each(&g, &keys, &mut |i, v| {
            assert!(seen[i].is_none(), "{name}: position {i} twice");
            seen[i] = Some(v.expect_ref::<Streamed>().unwrap().0);
            Ok(())
        })
        .unwrap();
        let want: Vec<Option<i64>> = (0..512).chain([7, 1000]).map(Some).collect();
        assert_eq!(seen, want, "{name}");
        assert_eq!(STREAM_LIVE.load(SeqCst), 0, "{name}: every value released");
        if name.starts_with("threads") {
            let peak = STREAM_PEAK.load(SeqCst);
            // The channel holds two, each worker one more, the caller one, and leaf 0
            // waits for its reader.
            assert!(peak <= 16, "{name}: {peak} of 513 values alive at once");
        }
    }
    // An error from the consumer is returned once the run is over.
    let err = LocalScheduler::with_threads(2)
        .get_each(&g, &keys, &mut |i, _| {
            if i == 3 {
                Err(Error::user("stop"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(err.to_string().contains("stop"));
}

/// `n` leaves `("leaf", i)` holding `i`, and how many of them ran.
fn counted_leaves(n: u32) -> (Graph, Arc<AtomicUsize>) {
    counted_slow_leaves(n, std::time::Duration::ZERO)
}

/// Like [`counted_leaves`], each leaf taking at least `pause`.
fn counted_slow_leaves(n: u32, pause: std::time::Duration) -> (Graph, Arc<AtomicUsize>) {
    let ran = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<Task> = (0..n)
        .map(|i| {
            let ran = ran.clone();
            Task::new(
                Key::new("leaf", &[i]),
                op("leaf", move |_| {
                    ran.fetch_add(1, SeqCst);
                    std::thread::sleep(pause);
                    Ok(Arc::new(i as i64) as Value)
                }),
                vec![],
            )
        })
        .collect();
    (Graph::from_tasks("leaves", tasks), ran)
}

#[test]
fn an_error_from_the_consumer_stops_the_run() {
    let (g, ran) = counted_leaves(512);
    let keys: Vec<Key> = (0..512).map(|i| Key::new("leaf", &[i])).collect();
    // The fourth value handed over, whichever position it is: results come in
    // finishing order, so a fixed position could arrive after most of the run.
    let mut handed = 0;
    let err = LocalScheduler::with_threads(2)
        .get_each(&g, &keys, &mut |_, _| {
            handed += 1;
            if handed == 4 {
                Err(Error::user("enough"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(err.to_string().contains("enough"), "{err}");
    // The bounded channel lets the workers run only a few results ahead.
    let n = ran.load(SeqCst);
    assert!(n < 64, "{n} of 512 tasks ran after the consumer stopped");
}

#[test]
fn get_each_concurrent_hands_every_position_once_on_the_workers() {
    let (g, _) = counted_leaves(256);
    let mut keys: Vec<Key> = (0..256).map(|i| Key::new("leaf", &[i])).collect();
    keys.push(Key::new("leaf", &[9]));
    for (name, s) in [
        (
            "threads-2",
            Box::new(LocalScheduler::with_threads(2)) as Box<dyn Executor>,
        ),
        ("sync (default)", Box::new(SyncScheduler::new())),
    ] {
        let seen: Vec<std::sync::Mutex<Option<i64>>> =
            keys.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let caller = std::thread::current().id();
        let off_caller = AtomicUsize::new(0);
        s.get_each_concurrent(&g, &keys, &|i, v| {
            let mut slot = seen[i].lock().unwrap();
            assert!(slot.is_none(), "{name}: position {i} twice");
            *slot = Some(*v.expect_ref::<i64>().unwrap());
            if std::thread::current().id() != caller {
                off_caller.fetch_add(1, SeqCst);
            }
            Ok(())
        })
        .unwrap();
        let got: Vec<Option<i64>> = seen.into_iter().map(|m| m.into_inner().unwrap()).collect();
        let want: Vec<Option<i64>> = (0..256).chain([9]).map(Some).collect();
        assert_eq!(got, want, "{name}");
        if name.starts_with("threads") {
            // The local scheduler calls it where the values were computed.
            assert_eq!(off_caller.load(SeqCst), keys.len(), "{name}");
        }
    }
    // An error from the consumer stops the run and is returned. The consumer runs
    // beside the other worker, which starts no task once the error is recorded;
    // leaves of a few milliseconds keep what it may start meanwhile far below the
    // bound even when the machine is loaded (64 leaves would need a stall of 0.3 s).
    let (g, ran) = counted_slow_leaves(256, std::time::Duration::from_millis(5));
    let err = LocalScheduler::with_threads(2)
        .get_each_concurrent(&g, &keys, &|i, _| {
            if i == 3 {
                Err(Error::user("enough"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(err.to_string().contains("enough"), "{err}");
    let n = ran.load(SeqCst);
    assert!(n < 64, "{n} of 256 tasks ran after the consumer stopped");
    // A panicking consumer is an error too, not a crash.
    let err = LocalScheduler::with_threads(2)
        .get_each_concurrent(&g, &keys, &|i, _| {
            if i == 5 {
                panic!("consumer bug");
            }
            Ok(())
        })
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
}
