//! Graphs: merging by key, culling, the errors of lowering, and fusing.

use brisk_core::graph::{fuse_linear, FusedOp, Graph, Layer, Task, TaskGraph};
use brisk_core::op::{rebuild, ClosureOp, Op};
use brisk_core::shapes::NoOp;
use brisk_core::{Error, Key, Value};
use std::sync::Arc;

fn t(name: &str, inputs: &[&str]) -> Task {
    Task::new(
        Key::new(name, &[]),
        Arc::new(NoOp),
        inputs.iter().map(|i| Key::new(*i, &[])).collect(),
    )
}

fn k(name: &str) -> Key {
    Key::new(name, &[])
}

#[test]
fn a_cycle_is_an_error_naming_its_keys() {
    //   a ─▶ b ─▶ c ─▶ a      (d reads c)
    let g = Graph::from_tasks(
        "g",
        vec![
            t("a", &["c"]),
            t("b", &["a"]),
            t("c", &["b"]),
            t("d", &["c"]),
        ],
    );
    let err = g.lower(&[k("d")]).unwrap_err();
    let Error::Cycle { keys } = &err else {
        panic!("expected a cycle, got {err}")
    };
    let mut names: Vec<&str> = keys.iter().map(|k| k.name()).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
    let msg = err.to_string();
    assert!(msg.starts_with("the task graph has a cycle: "), "{msg}");
    assert!(
        msg.contains("'a' -> 'b' -> 'c' -> 'a'")
            || msg.contains("'b' -> 'c' -> 'a' -> 'b'")
            || msg.contains("'c' -> 'a' -> 'b' -> 'c'"),
        "{msg}"
    );
}

#[test]
fn a_self_loop_is_a_cycle() {
    let g = Graph::from_tasks("g", vec![t("a", &["a"])]);
    assert_eq!(
        g.lower(&[k("a")]).unwrap_err().to_string(),
        "the task graph has a cycle: 'a' -> 'a'"
    );
}

#[test]
fn a_missing_dependency_names_the_task_and_the_input() {
    let g = Graph::from_tasks("g", vec![t("a", &[]), t("b", &["a", "ghost"])]);
    let err = g.lower(&[k("b")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "task 'b' depends on 'ghost', which is not in the graph"
    );
}

#[test]
fn a_missing_requested_key_is_named() {
    let g = Graph::from_tasks("g", vec![t("a", &[])]);
    assert_eq!(
        g.lower(&[Key::new("nope", &[1, 2])])
            .unwrap_err()
            .to_string(),
        "key ('nope', 1, 2) was requested but is not in the graph"
    );
}

#[test]
fn lowering_culls_to_what_the_request_needs() {
    //   a ─▶ b ─▶ c        x ─▶ y   (not requested)
    let g = Graph::from_tasks(
        "g",
        vec![
            t("a", &[]),
            t("b", &["a"]),
            t("c", &["b"]),
            t("x", &[]),
            t("y", &["x"]),
        ],
    );
    let tg = g.lower(&[k("b")]).unwrap();
    let mut keys: Vec<&str> = tg.keys().iter().map(|k| k.name()).collect();
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
    // A cycle outside the request does not matter either.
    let g = Graph::merge([
        &g,
        &Graph::from_tasks("h", vec![t("p", &["q"]), t("q", &["p"])]),
    ]);
    assert_eq!(g.lower(&[k("c")]).unwrap().len(), 3);
}

#[test]
fn graphs_merge_by_key_and_layer_name() {
    let base = Graph::from_tasks("base", vec![t("a", &[])]);
    let left = Graph::from_layer(
        Layer {
            name: "left".into(),
            tasks: vec![t("b", &["a"])],
        },
        [&base],
    );
    let right = Graph::from_layer(
        Layer {
            name: "right".into(),
            tasks: vec![t("c", &["a"])],
        },
        [&base],
    );
    let both = Graph::merge([&left, &right]);
    let names: Vec<String> = both.layers().iter().map(|l| l.name.clone()).collect();
    assert_eq!(names, ["base", "left", "right"]); // base once, before its readers
    let tg = both.lower(&[k("b"), k("c")]).unwrap();
    assert_eq!(tg.len(), 3);
    assert_eq!(tg.dependents(tg.id_of(&k("a")).unwrap()).len(), 2);
}

#[test]
fn repeated_requests_are_one_task() {
    let g = Graph::from_tasks("g", vec![t("a", &[])]);
    let tg = g.lower(&[k("a"), k("a")]).unwrap();
    assert_eq!(tg.len(), 1);
    assert_eq!(tg.requested().len(), 2);
}

#[test]
fn deep_graph_chains_drop_without_overflowing_the_stack() {
    let mut g = Graph::new();
    for i in 0..200_000u32 {
        g = Graph::from_layer(
            Layer {
                name: format!("l{i}"),
                tasks: vec![],
            },
            [&g],
        );
    }
    drop(g);
}

fn int_op(name: &'static str, f: fn(i64) -> i64) -> Arc<dyn Op> {
    Arc::new(ClosureOp::new(name, move |xs: &[Value]| {
        let x = xs
            .first()
            .map(|v| *v.expect_ref::<i64>().unwrap())
            .unwrap_or(1);
        Ok(Arc::new(f(x)) as Value)
    }))
}

fn run_sequential(tasks: &[Task], key: &Key) -> i64 {
    // A plain topological interpreter, the oracle for fused graphs.
    let tg = TaskGraph::from_tasks(tasks, std::slice::from_ref(key)).unwrap();
    let mut vals: Vec<Option<Value>> = vec![None; tg.len()];
    for &id in tg.topological() {
        let inputs: Vec<Value> = tg
            .dependencies(id)
            .iter()
            .map(|d| vals[d.idx()].clone().unwrap())
            .collect();
        vals[id.idx()] = Some(tg.op(id).call(&inputs).unwrap());
    }
    *vals[tg.id_of(key).unwrap().idx()]
        .as_ref()
        .unwrap()
        .expect_ref::<i64>()
        .unwrap()
}

#[test]
fn fusing_folds_linear_chains_and_keeps_results() {
    //   a ─▶ b ─▶ c ─▶ d ─▶ out         a has two readers (b and e): it stays;
    //   a ─▶ e ─────────────▶ out        b·c·d fold into one task keyed d;
    //                                     e folds into nothing (out has two inputs).
    let one = int_op("one", |_| 1);
    let inc = int_op("inc", |x| x + 1);
    let dbl = int_op("dbl", |x| x * 2);
    let add = Arc::new(ClosureOp::new("add", |xs: &[Value]| {
        Ok(Arc::new(
            xs.iter()
                .map(|v| *v.expect_ref::<i64>().unwrap())
                .sum::<i64>(),
        ) as Value)
    })) as Arc<dyn Op>;
    let tasks = vec![
        Task::new(k("a"), one, vec![]),
        Task::new(k("b"), inc.clone(), vec![k("a")]),
        Task::new(k("c"), dbl.clone(), vec![k("b")]),
        Task::new(k("d"), inc.clone(), vec![k("c")]),
        Task::new(k("e"), dbl, vec![k("a")]),
        Task::new(k("out"), add, vec![k("d"), k("e")]),
    ];
    let expected = run_sequential(&tasks, &k("out"));
    assert_eq!(expected, ((1 + 1) * 2 + 1) + 2);
    let tg = TaskGraph::from_tasks(&tasks, &[k("out")]).unwrap();
    let fused = fuse_linear(&tg);
    let mut keys: Vec<&str> = fused.iter().map(|t| t.key.name()).collect();
    keys.sort();
    assert_eq!(keys, ["a", "d", "e", "out"]);
    let d = fused.iter().find(|t| t.key == k("d")).unwrap();
    assert_eq!(d.op.name(), FusedOp::NAME);
    assert_eq!(d.inputs, vec![k("a")]);
    assert_eq!(run_sequential(&fused, &k("out")), expected);
}

#[test]
fn fusing_keeps_requested_intermediates() {
    let inc = int_op("inc", |x| x + 1);
    let tasks = vec![
        Task::new(k("a"), int_op("one", |_| 1), vec![]),
        Task::new(k("b"), inc.clone(), vec![k("a")]),
        Task::new(k("c"), inc, vec![k("b")]),
    ];
    let tg = TaskGraph::from_tasks(&tasks, &[k("c"), k("b")]).unwrap();
    let fused = fuse_linear(&tg);
    let mut keys: Vec<&str> = fused.iter().map(|t| t.key.name()).collect();
    keys.sort();
    assert_eq!(keys, ["b", "c"]); // a folds into b; b is requested, so c stays apart
}

#[test]
fn a_fused_op_of_registered_ops_travels_by_name() {
    let tasks: Vec<Task> = vec![t("a", &[]), t("b", &["a"]), t("c", &["b"])];
    let tg = TaskGraph::from_tasks(&tasks, &[k("c")]).unwrap();
    let fused = fuse_linear(&tg);
    assert_eq!(fused.len(), 1);
    let op = &fused[0].op;
    let rebuilt = rebuild(op.name(), &op.params().unwrap()).unwrap();
    assert_eq!(rebuilt.name(), FusedOp::NAME);
    assert!(rebuilt.call(&[]).unwrap().downcast_ref::<()>().is_some());
}

#[test]
fn an_unknown_op_name_is_an_error_saying_how_to_register() {
    let err = rebuild("my_crate::missing", &[]).err().unwrap();
    assert_eq!(
        err.to_string(),
        "unknown op 'my_crate::missing': no function is registered under this name in this executable; \
         mark the function with #[brisk::task] and make sure the crate that defines it is linked"
    );
}

#[test]
fn closures_are_local_only_and_refuse_to_travel() {
    let op = ClosureOp::new("double", |xs: &[Value]| Ok(xs[0].clone()));
    assert!(op.is_local_only());
    let msg = op.params().unwrap_err().to_string();
    assert!(
        msg.contains("register the function with #[brisk::task]"),
        "{msg}"
    );
}

#[test]
fn an_error_inside_a_fused_chain_names_the_op_that_failed() {
    let one = int_op("one", |_| 1);
    let bad = Arc::new(ClosureOp::new("parse-dates", |_: &[Value]| {
        Err(Error::user("bad date '2015-13-01'"))
    })) as Arc<dyn Op>;
    let tasks = vec![
        Task::new(k("a"), one, vec![]),
        Task::new(k("b"), bad, vec![k("a")]),
        Task::new(k("c"), int_op("inc", |x| x + 1), vec![k("b")]),
    ];
    let fused = fuse_linear(&TaskGraph::from_tasks(&tasks, &[k("c")]).unwrap());
    assert_eq!(fused.len(), 1);
    let err = fused[0].op.call(&[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad date '2015-13-01' (in op 'parse-dates')"
    );
}
