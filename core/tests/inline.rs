//! Inlining roots into their readers: a root whose op asks for it (a slab of a local
//! file) is run inside each task that reads it instead of being held between them.

use brisk_core::graph::{inline_roots, Arg, FusedOp, Graph, InlinedOp, Task, TaskGraph};
use brisk_core::op::{rebuild, Op, OpRegistration};
use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
use brisk_core::{Error, Key, Result, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Calls of `Slab` per id, so that tests running at once do not share counters.
static CALLS: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

/// A root that stands for a slab read from a local file: cheap to read again.
#[derive(serde::Serialize, serde::Deserialize)]
struct Slab {
    id: usize,
    value: i64,
    inline: bool,
}

impl Spec for Slab {
    const NAME: &'static str = "test::slab";
    fn call(&self, _: &[Value]) -> Result<Value> {
        CALLS[self.id].fetch_add(1, Ordering::SeqCst);
        if self.value < 0 {
            return Err(Error::user(format!("slab {} is truncated", self.id)));
        }
        Ok(Arc::new(self.value))
    }
    fn inline(&self) -> bool {
        self.inline
    }
}

/// The sum of the inputs.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sum;

impl Spec for Sum {
    const NAME: &'static str = "test::sum";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let mut s = 0;
        for v in inputs {
            s += v.expect_ref::<i64>()?;
        }
        Ok(Arc::new(s))
    }
}

inventory::submit! { OpRegistration { name: Slab::NAME, rebuild: rebuild_spec::<Slab> } }
inventory::submit! { OpRegistration { name: Sum::NAME, rebuild: rebuild_spec::<Sum> } }

fn k(name: &str) -> Key {
    Key::new(name, &[])
}

fn slab(id: usize, value: i64, inline: bool) -> Arc<dyn Op> {
    Arc::new(SpecOp(Slab { id, value, inline }))
}

fn sum() -> Arc<dyn Op> {
    Arc::new(SpecOp(Sum))
}

/// Runs a lowered graph one task at a time; the requested values in order.
fn run(tg: &TaskGraph) -> Result<Vec<i64>> {
    let mut vals: Vec<Option<Value>> = vec![None; tg.len()];
    for &id in tg.topological() {
        let inputs: Vec<Value> = tg
            .dependencies(id)
            .iter()
            .map(|d| vals[d.idx()].clone().expect("inputs run first"))
            .collect();
        vals[id.idx()] = Some(tg.op(id).call(&inputs)?);
    }
    tg.requested()
        .iter()
        .map(|r| Ok(*vals[r.idx()].as_ref().expect("ran").expect_ref::<i64>()?))
        .collect()
}

/// `x` (a slab) read by `twice = x + x + y` and by `once = x + y`, with `y` a plain
/// root (counted apart); `out = twice + once`.
fn zscore_like(id: usize, x: i64, inline: bool) -> Graph {
    Graph::from_tasks(
        "g",
        vec![
            Task::new(k("x"), slab(id, x, inline), vec![]),
            Task::new(k("y"), slab(7, 100, false), vec![]),
            Task::new(k("twice"), sum(), vec![k("x"), k("x"), k("y")]),
            Task::new(k("once"), sum(), vec![k("x"), k("y")]),
            Task::new(k("out"), sum(), vec![k("twice"), k("once")]),
        ],
    )
}

#[test]
fn an_inlined_root_runs_inside_each_reader_once_and_leaves_the_graph() {
    let g = zscore_like(0, 7, true);
    let tg = g.lower(&[k("out")]).unwrap();
    assert!(
        tg.id_of(&k("x")).is_none(),
        "the slab is no task of its own"
    );
    assert!(tg.id_of(&k("y")).is_some(), "a root that did not ask stays");
    let twice = tg.id_of(&k("twice")).unwrap();
    assert_eq!(tg.op(twice).name(), InlinedOp::NAME);
    assert_eq!(tg.dependencies(twice), [tg.id_of(&k("y")).unwrap()]);
    assert_eq!(run(&tg).unwrap(), [(7 + 7 + 100) + (7 + 100)]);
    // Read once by each of its two readers, though `twice` names it twice.
    assert_eq!(CALLS[0].load(Ordering::SeqCst), 2);
}

#[test]
fn the_answer_is_the_same_with_and_without_inlining() {
    let inlined = zscore_like(1, 5, true)
        .lower(&[k("out"), k("once")])
        .unwrap();
    let held = zscore_like(1, 5, false)
        .lower(&[k("out"), k("once")])
        .unwrap();
    assert_eq!(held.len(), inlined.len() + 1);
    assert_eq!(run(&inlined).unwrap(), run(&held).unwrap());
    assert_eq!(run(&held).unwrap(), [(5 + 5 + 100) + (5 + 100), 5 + 100]);
}

#[test]
fn a_requested_root_is_held_not_inlined() {
    let tg = zscore_like(2, 3, true).lower(&[k("out"), k("x")]).unwrap();
    assert!(tg.id_of(&k("x")).is_some());
    assert_eq!(run(&tg).unwrap(), [(3 + 3 + 100) + (3 + 100), 3]);
    assert_eq!(CALLS[2].load(Ordering::SeqCst), 1, "computed once, held");
    // Nothing to inline: the same graph comes back.
    let plain =
        TaskGraph::from_tasks(&[Task::new(k("a"), slab(2, 1, false), vec![])], &[k("a")]).unwrap();
    assert_eq!(inline_roots(plain).unwrap().len(), 1);
}

#[test]
fn an_inlined_op_travels_by_name_and_hostile_parameters_are_errors() {
    let tg = zscore_like(3, 4, true).lower(&[k("twice")]).unwrap();
    let op = tg.op(tg.id_of(&k("twice")).unwrap());
    let again = rebuild(op.name(), &op.params().unwrap()).unwrap();
    let y: Value = Arc::new(100_i64);
    let v = again.call(&[y]).unwrap();
    assert_eq!(v.expect_ref::<i64>().unwrap(), &108);
    // An argument naming a root that is not there, a missing input, garbage.
    let bad = InlinedOp::new(sum(), vec![slab(3, 1, true)], vec![Arg::Root(1)]);
    assert!(bad.err().unwrap().to_string().contains("Root(1)"));
    let short = InlinedOp::new(sum(), vec![], vec![Arg::Input(2)]).unwrap();
    assert!(matches!(short.call(&[]), Err(Error::Arity { .. })));
    assert!(rebuild(InlinedOp::NAME, b"\x93garbage").is_err());
    // Wrappers inside wrappers are refused, so nesting cannot exhaust the stack.
    let inner: Arc<dyn Op> = Arc::new(InlinedOp::new(sum(), vec![], vec![]).unwrap());
    let nested = InlinedOp::new(inner, vec![], vec![]).unwrap();
    let err = rebuild(InlinedOp::NAME, &nested.params().unwrap())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("cannot hold 'brisk::inlined'"),
        "{err}"
    );
    let fused_in_fused =
        rmp_serde::to_vec(&vec![(FusedOp::NAME.to_string(), Vec::<u8>::new())]).unwrap();
    let err = rebuild(FusedOp::NAME, &fused_in_fused).err().unwrap();
    assert!(
        err.to_string().contains("cannot hold 'brisk::fused'"),
        "{err}"
    );
}

#[test]
fn the_readers_own_errors_are_not_wrapped() {
    let op = InlinedOp::new(
        sum(),
        vec![slab(5, 1, true)],
        vec![Arg::Root(0), Arg::Input(0)],
    )
    .unwrap();
    let text: Value = Arc::new(String::from("not a number"));
    let err = op.call(&[text]).unwrap_err();
    assert!(!matches!(err, Error::InOp { .. }), "{err:?}");
    assert_eq!(CALLS[5].load(Ordering::SeqCst), 1);
}

#[test]
fn a_failing_inlined_root_is_an_error_naming_it() {
    let tg = zscore_like(4, -1, true).lower(&[k("out")]).unwrap();
    let msg = run(&tg).unwrap_err().to_string();
    assert_eq!(msg, "slab 4 is truncated (in op 'test::slab')");
}
