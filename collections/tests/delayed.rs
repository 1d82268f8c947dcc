//! Delayed: lazy calls of registered functions and closures.

use brisk_collections::delayed::{self, compute, compute_with, Delayed};
use brisk_core::op::rebuild;
use brisk_core::{Error, Value};
use brisk_macros::task;
use brisk_scheduler::{LocalScheduler, SyncScheduler};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

static SLOW_SQUARE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[task]
fn slow_square(x: i64) -> i64 {
    SLOW_SQUARE_CALLS.fetch_add(1, SeqCst);
    x * x
}

#[task]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

#[task]
fn scale(xs: &[f64], #[bound] factor: f64) -> Vec<f64> {
    xs.iter().map(|x| x * factor).collect()
}

#[task]
fn total(xs: &Vec<f64>) -> f64 {
    xs.iter().sum()
}

#[task]
fn greet(name: &str, #[bound] punctuation: String) -> String {
    format!("hello, {name}{punctuation}")
}

#[task]
fn parse(text: &str) -> Result<i64, std::num::ParseIntError> {
    text.trim().parse()
}

#[task]
fn constant() -> u64 {
    7
}

// Each test that counts calls uses its own inputs, so tests running in parallel do
// not share keys... but they do share the counter: those tests run under one lock.
static COUNT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn identical_calls_make_identical_keys_and_run_once() {
    let _g = COUNT_LOCK.lock().unwrap();
    let a = slow_square::delayed(12).unwrap();
    let b = slow_square::delayed(12).unwrap();
    assert_eq!(a.key(), b.key());
    assert!(a.key().name().starts_with("slow_square-"));
    let c = add::delayed(&a, &b).unwrap();
    SLOW_SQUARE_CALLS.store(0, SeqCst);
    let (x, y, z) = compute((&a, &b, &c)).unwrap();
    assert_eq!((x, y, z), (144, 144, 288));
    assert_eq!(SLOW_SQUARE_CALLS.load(SeqCst), 1);
}

#[test]
fn different_inputs_or_bound_arguments_make_different_keys() {
    let xs = vec![1.0, 2.0, 3.0];
    let by2 = scale::delayed(xs.clone(), 2.0).unwrap();
    let by3 = scale::delayed(xs.clone(), 3.0).unwrap();
    let by2_again = scale::delayed(xs, 2.0).unwrap();
    let other = scale::delayed(vec![1.0, 2.0], 2.0).unwrap();
    assert_ne!(by2.key(), by3.key());
    assert_ne!(by2.key(), other.key());
    assert_eq!(by2.key(), by2_again.key());
    assert_eq!(by3.compute().unwrap(), vec![3.0, 6.0, 9.0]);
    assert_eq!(total::delayed(&by3).unwrap().compute().unwrap(), 18.0);
}

#[test]
fn borrowed_string_and_slice_parameters_read_owned_results() {
    let name = delayed::value(String::from("brisk")).unwrap();
    let g = greet::delayed(&name, "!".to_string()).unwrap();
    assert_eq!(g.compute().unwrap(), "hello, brisk!");
    assert_eq!(constant::delayed().unwrap().compute().unwrap(), 7);
}

#[test]
fn a_failing_function_names_its_task_and_op() {
    let bad = parse::delayed(String::from("12x")).unwrap();
    let err = bad.compute().unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("invalid digit found in string"), "{msg}");
    assert!(
        msg.ends_with(&format!(" (in task {}, op 'delayed::parse')", bad.key())),
        "{msg}"
    );
    assert_eq!(
        parse::delayed(" 42 ".to_string())
            .unwrap()
            .compute()
            .unwrap(),
        42
    );
}

#[test]
fn registered_functions_rebuild_from_name_and_params() {
    assert_eq!(scale::NAME, "delayed::scale");
    let op = scale::op(10.0);
    let rebuilt = rebuild(scale::NAME, &op.params().unwrap()).unwrap();
    let out = rebuilt
        .call(&[Arc::new(vec![1.0f64, 2.0]) as Value])
        .unwrap();
    assert_eq!(out.downcast_ref::<Vec<f64>>(), Some(&vec![10.0, 20.0]));
    assert!(!rebuilt.is_local_only());
    // The wrong number or type of inputs is an error, not a panic.
    assert_eq!(
        rebuilt.call(&[]).unwrap_err().to_string(),
        "op 'delayed::scale' takes 1 inputs but was given 0"
    );
    let msg = rebuilt
        .call(&[Arc::new(1i64) as Value])
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "type mismatch: expected alloc::vec::Vec<f64>, found i64"
    );
}

#[test]
fn closures_run_locally_and_are_marked_local_only() {
    let x = delayed::value(5i64).unwrap();
    let y = x.then(("triple", |v: &i64| v * 3)).unwrap();
    assert_eq!(y.compute().unwrap(), 15);
    let layers = y.graph().layers();
    let op = &layers.last().unwrap().tasks[0].op;
    assert!(op.is_local_only());
}

#[test]
fn persist_keeps_the_key_and_does_not_recompute() {
    let _g = COUNT_LOCK.lock().unwrap();
    SLOW_SQUARE_CALLS.store(0, SeqCst);
    let a = slow_square::delayed(31).unwrap();
    let p = a.persist().unwrap();
    assert_eq!(p.key(), a.key());
    assert_eq!(SLOW_SQUARE_CALLS.load(SeqCst), 1);
    let b = add::delayed(&p, 1).unwrap();
    assert_eq!(b.compute().unwrap(), 962);
    assert_eq!(SLOW_SQUARE_CALLS.load(SeqCst), 1);
}

#[test]
fn computing_as_the_wrong_type_is_a_clear_error() {
    let x = add::delayed(1, 2).unwrap();
    let wrong: Delayed<String> = Delayed::from_parts(x.key().clone(), x.graph().clone());
    let err = wrong.compute().unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }));
    assert_eq!(
        err.to_string(),
        "type mismatch: expected alloc::string::String, found i64"
    );
}

#[test]
fn compute_many_from_a_slice_and_on_any_scheduler() {
    let parts: Vec<Delayed<i64>> = (0..50).map(|i| add::delayed(i, i).unwrap()).collect();
    let expected: Vec<i64> = (0..50).map(|i| 2 * i).collect();
    assert_eq!(compute(&parts).unwrap(), expected);
    assert_eq!(
        compute_with(parts.as_slice(), &SyncScheduler::validating()).unwrap(),
        expected
    );
    assert_eq!(
        compute_with(&parts, &LocalScheduler::with_threads(3)).unwrap(),
        expected
    );
}

#[test]
fn a_long_chain_of_delayed_calls_builds_and_runs() {
    let mut x = delayed::value(0i64).unwrap();
    for _ in 0..20_000 {
        x = add::delayed(&x, 1).unwrap();
    }
    assert_eq!(x.compute().unwrap(), 20_000);
}
