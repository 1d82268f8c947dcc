//! Event scripts for the worker's state machine.

use brisk_core::Key;
use brisk_scheduler::distributed::worker_state::*;
use brisk_scheduler::distributed::{Priority, TaskSpec, WorkerId};
use WorkerInstruction as I;

const P2: WorkerId = WorkerId(2);
const P3: WorkerId = WorkerId(3);

fn key(n: &str) -> Key {
    Key::new(n, &[])
}
fn spec(n: &str) -> TaskSpec {
    TaskSpec {
        op: n.into(),
        params: vec![],
    }
}
fn step(w: &mut WorkerState, e: WorkerEvent) -> Vec<WorkerInstruction> {
    let out = w.handle(e);
    w.validate()
        .unwrap_or_else(|e| panic!("invalid worker state: {e}"));
    out
}
fn compute(key: &Key, inputs: &[(&Key, &[WorkerId])], order: u32) -> WorkerEvent {
    WorkerEvent::Compute {
        run: 0,
        key: key.clone(),
        spec: spec(key.name()),
        inputs: inputs
            .iter()
            .map(|(k, w)| ((*k).clone(), w.to_vec()))
            .collect(),
        priority: Priority::new(0, 1, order),
        send_value: false,
    }
}
fn execute(key: &Key, inputs: &[&Key]) -> WorkerInstruction {
    I::Execute {
        key: key.clone(),
        spec: spec(key.name()),
        inputs: inputs.iter().map(|k| (*k).clone()).collect(),
    }
}
fn finished(key: &Key, nbytes: u64) -> WorkerInstruction {
    I::TaskFinished {
        run: 0,
        key: key.clone(),
        nbytes,
        duration: 0.5,
        send_value: false,
    }
}

/// Ready tasks run by priority, no more at once than there are threads.
#[test]
fn runs_by_priority_within_its_threads() {
    let mut w = WorkerState::new(1);
    let (a, b) = (key("a"), key("b"));
    assert_eq!(step(&mut w, compute(&b, &[], 5)), vec![execute(&b, &[])]);
    assert_eq!(step(&mut w, compute(&a, &[], 1)), vec![]);
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::ExecuteDone {
                key: b.clone(),
                nbytes: 3,
                duration: 0.5
            }
        ),
        vec![finished(&b, 3), execute(&a, &[])]
    );
}

/// Inputs held by peers are fetched, one request per peer holding every key it has;
/// fetched copies are dropped once the task that needed them ran.
#[test]
fn fetches_inputs_from_peers_and_drops_them_after_use() {
    let mut w = WorkerState::new(2);
    let (x, y, z) = (key("x"), key("y"), key("z"));
    let out = step(&mut w, compute(&z, &[(&x, &[P2]), (&y, &[P2])], 3));
    assert_eq!(
        out,
        vec![I::Fetch {
            peer: P2,
            keys: vec![x.clone(), y.clone()]
        }]
    );
    assert_eq!(w.status(&x), Some(&WorkerTaskStatus::Flight { peer: P2 }));
    let out = step(
        &mut w,
        WorkerEvent::FetchDone {
            peer: P2,
            received: vec![(x.clone(), 1), (y.clone(), 1)],
            missing: vec![],
        },
    );
    assert_eq!(out, vec![execute(&z, &[&x, &y])]);
    let out = step(
        &mut w,
        WorkerEvent::ExecuteDone {
            key: z.clone(),
            nbytes: 8,
            duration: 0.5,
        },
    );
    assert_eq!(out[0], finished(&z, 8));
    let mut released: Vec<_> = out[1..].to_vec();
    released.sort_by_key(|i| format!("{i:?}"));
    assert_eq!(
        released,
        vec![I::Release { key: x.clone() }, I::Release { key: y.clone() }]
    );
    assert_eq!(w.task_count(), 1, "only z, which the scheduler counts on");
}

/// A peer without the key is skipped for the next holder; when none is left the
/// scheduler hears which input was missing and from whom.
#[test]
fn missing_input_goes_to_the_next_holder_then_to_the_scheduler() {
    let mut w = WorkerState::new(1);
    let (x, z) = (key("x"), key("z"));
    assert_eq!(
        step(&mut w, compute(&z, &[(&x, &[P2, P3])], 0)),
        vec![I::Fetch {
            peer: P2,
            keys: vec![x.clone()]
        }]
    );
    let out = step(
        &mut w,
        WorkerEvent::FetchDone {
            peer: P2,
            received: vec![],
            missing: vec![x.clone()],
        },
    );
    assert_eq!(
        out,
        vec![I::Fetch {
            peer: P3,
            keys: vec![x.clone()]
        }]
    );
    let out = step(
        &mut w,
        WorkerEvent::FetchFailed {
            peer: P3,
            keys: vec![x.clone()],
        },
    );
    assert_eq!(
        out,
        vec![I::MissingData {
            key: z.clone(),
            missing: x.clone(),
            holder: P3
        }]
    );
    assert_eq!(w.task_count(), 0);
}

/// Freed while running: the result is dropped silently when it comes.
#[test]
fn freed_while_executing_drops_the_result() {
    let mut w = WorkerState::new(1);
    let a = key("a");
    step(&mut w, compute(&a, &[], 0));
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::Free {
                keys: vec![a.clone()]
            }
        ),
        vec![]
    );
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::ExecuteDone {
                key: a.clone(),
                nbytes: 1,
                duration: 0.1
            }
        ),
        vec![I::Release { key: a.clone() }]
    );
}

/// A failing task is reported and its inputs released.
#[test]
fn failure_is_reported() {
    let mut w = WorkerState::new(1);
    let (x, z) = (key("x"), key("z"));
    step(
        &mut w,
        WorkerEvent::Stored {
            key: x.clone(),
            nbytes: 4,
        },
    );
    assert_eq!(
        step(&mut w, compute(&z, &[(&x, &[])], 0)),
        vec![execute(&z, &[&x])]
    );
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::ExecuteFailed {
                key: z.clone(),
                error: "boom".into()
            }
        ),
        vec![I::TaskErred {
            run: 0,
            key: z.clone(),
            error: "boom".into()
        }]
    );
    assert_eq!(
        w.status(&x),
        Some(&WorkerTaskStatus::Memory),
        "scattered data stays until freed"
    );
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::Free {
                keys: vec![x.clone()]
            }
        ),
        vec![I::Release { key: x }]
    );
}

/// Replicate fetches a copy and tells the scheduler it holds it.
#[test]
fn replicate_fetches_and_reports() {
    let mut w = WorkerState::new(1);
    let d = key("d");
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::Replicate {
                key: d.clone(),
                holders: vec![P2]
            }
        ),
        vec![I::Fetch {
            peer: P2,
            keys: vec![d.clone()]
        }]
    );
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::FetchDone {
                peer: P2,
                received: vec![(d.clone(), 10)],
                missing: vec![]
            }
        ),
        vec![I::AddKeys {
            keys: vec![d.clone()]
        }]
    );
    assert_eq!(w.status(&d), Some(&WorkerTaskStatus::Memory));
}

/// Regression (found by the random test): the scheduler asks for a key to be
/// computed here while a fetch of it (for a replica) is in flight from a peer that
/// has died since. The key is `resumed`: when the fetch fails it runs here, instead
/// of being dropped while the scheduler waits for it forever.
#[test]
fn compute_of_a_key_in_flight_runs_it_when_the_fetch_fails() {
    let mut w = WorkerState::new(1);
    let d = key("d");
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::Replicate {
                key: d.clone(),
                holders: vec![P2]
            }
        ),
        vec![I::Fetch {
            peer: P2,
            keys: vec![d.clone()]
        }]
    );
    assert_eq!(step(&mut w, compute(&d, &[], 0)), vec![]);
    assert_eq!(w.status(&d), Some(&WorkerTaskStatus::Resumed { peer: P2 }));
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::FetchFailed {
                peer: P2,
                keys: vec![d.clone()]
            }
        ),
        vec![execute(&d, &[])]
    );
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::ExecuteDone {
                key: d.clone(),
                nbytes: 4,
                duration: 0.5
            }
        ),
        vec![finished(&d, 4)]
    );
    let story: Vec<_> = w.story(&d).iter().map(|l| (l.from, l.to)).collect();
    assert_eq!(
        story,
        [
            ("released", "fetch"),
            ("fetch", "flight"),
            ("flight", "resumed"),
            ("resumed", "ready"),
            ("ready", "executing"),
            ("executing", "memory")
        ]
    );
}

/// A key the scheduler asks to compute while it is in flight here is reported
/// finished when the fetch brings it.
#[test]
fn compute_of_a_key_in_flight_reports_it_when_it_arrives() {
    let mut w = WorkerState::new(1);
    let d = key("d");
    step(
        &mut w,
        WorkerEvent::Replicate {
            key: d.clone(),
            holders: vec![P2],
        },
    );
    assert_eq!(step(&mut w, compute(&d, &[], 0)), vec![]);
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::FetchDone {
                peer: P2,
                received: vec![(d.clone(), 4)],
                missing: vec![]
            }
        ),
        vec![I::TaskFinished {
            run: 0,
            key: d.clone(),
            nbytes: 4,
            duration: 0.0,
            send_value: false
        }]
    );
    assert_eq!(w.status(&d), Some(&WorkerTaskStatus::Memory));
}

/// An input still waiting in a fetch queue (its peer busy) that the scheduler asks
/// to compute here becomes a task; the reader that waited for it runs after it.
#[test]
fn compute_of_a_queued_input_makes_it_a_task() {
    let mut w = WorkerState::new(1);
    let (x, y, v, z) = (key("x"), key("y"), key("v"), key("z"));
    assert_eq!(
        step(&mut w, compute(&y, &[(&x, &[P2])], 0)),
        vec![I::Fetch {
            peer: P2,
            keys: vec![x.clone()]
        }]
    );
    assert_eq!(step(&mut w, compute(&z, &[(&v, &[P2])], 1)), vec![]);
    assert_eq!(w.status(&v), Some(&WorkerTaskStatus::Fetch));
    assert_eq!(step(&mut w, compute(&v, &[], 2)), vec![execute(&v, &[])]);
    assert_eq!(
        step(
            &mut w,
            WorkerEvent::ExecuteDone {
                key: v.clone(),
                nbytes: 2,
                duration: 0.5
            }
        ),
        vec![finished(&v, 2), execute(&z, &[&v])]
    );
}

/// Each task keeps a bounded story of its transitions, each line naming the
/// stimulus; a stimulus id given by the scheduler is the one recorded.
#[test]
fn stories_record_the_schedulers_stimulus_ids() {
    use brisk_scheduler::distributed::StimulusId;
    let mut w = WorkerState::new(1);
    let a = key("a");
    w.handle_stimulus(compute(&a, &[], 0), StimulusId::scheduler(41));
    w.handle(WorkerEvent::ExecuteDone {
        key: a.clone(),
        nbytes: 1,
        duration: 0.1,
    });
    let story: Vec<String> = w.story(&a).iter().map(|l| l.to_string()).collect();
    assert_eq!(
        story,
        [
            "released -> ready (compute s41)",
            "ready -> executing (compute s41)",
            "executing -> memory (execute-done w1)"
        ]
    );
    for _ in 0..40 {
        w.handle_stimulus(compute(&a, &[], 0), StimulusId::scheduler(42));
        w.handle(WorkerEvent::Free {
            keys: vec![key("nothing")],
        });
    }
    assert!(w.story(&a).len() <= brisk_scheduler::distributed::ids::STORY_LEN);
}

/// A paused worker (memory over its pause threshold) starts and fetches nothing
/// new; what was asked meanwhile starts when it resumes.
#[test]
fn a_paused_worker_starts_and_fetches_nothing_until_it_resumes() {
    let mut w = WorkerState::new(1);
    let (a, b, x, y) = (key("a"), key("b"), key("x"), key("y"));
    assert_eq!(step(&mut w, compute(&a, &[], 1)), vec![execute(&a, &[])]);
    assert_eq!(step(&mut w, WorkerEvent::Pause), vec![]);
    assert!(w.is_paused());
    assert_eq!(step(&mut w, compute(&b, &[], 2)), vec![]);
    assert_eq!(step(&mut w, compute(&y, &[(&x, &[P2])], 3)), vec![]);
    assert_eq!(w.status(&x), Some(&WorkerTaskStatus::Fetch));
    // The running task finishes; nothing new starts.
    let done = WorkerEvent::ExecuteDone {
        key: a.clone(),
        nbytes: 8,
        duration: 0.5,
    };
    assert_eq!(step(&mut w, done), vec![finished(&a, 8)]);
    assert_eq!(
        step(&mut w, WorkerEvent::Resume),
        vec![
            I::Fetch {
                peer: P2,
                keys: vec![x.clone()]
            },
            execute(&b, &[])
        ]
    );
}

/// An input that cannot be read back here (a damaged spill file) sends its
/// reader back to the scheduler, naming this worker as the holder that lost it.
#[test]
fn an_input_lost_here_goes_back_to_the_scheduler() {
    let me = WorkerId(7);
    let mut w = WorkerState::new(1);
    let (x, y) = (key("x"), key("y"));
    step(&mut w, compute(&x, &[], 1));
    let done = WorkerEvent::ExecuteDone {
        key: x.clone(),
        nbytes: 8,
        duration: 0.5,
    };
    assert_eq!(
        step(&mut w, compute(&y, &[(&x, &[me])], 2)),
        vec![],
        "x runs first"
    );
    assert_eq!(
        step(&mut w, done),
        vec![finished(&x, 8), execute(&y, &[&x])]
    );
    let out = step(
        &mut w,
        WorkerEvent::InputLost {
            key: y.clone(),
            input: x.clone(),
            holder: me,
        },
    );
    assert_eq!(
        out,
        vec![
            I::Release { key: x.clone() },
            I::MissingData {
                key: y.clone(),
                missing: x.clone(),
                holder: me
            }
        ]
    );
    assert_eq!(w.task_count(), 0);
}
