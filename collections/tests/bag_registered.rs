//! Bags made of registered ops only (registered functions given to `map` and
//! friends, the built-in aggregations, pluck) give the same results on the local
//! scheduler and on an executor that rebuilds every op from its name and bytes and
//! passes every value through its encoding, as a worker process does.

mod support;

use brisk_collections::bag::{Bag, Json};
use brisk_core::executor::Executor;
use brisk_macros::task;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use support::{executors, Rebuilding};

const PARTITIONS: [usize; 4] = [1, 3, 7, 500];

fn words() -> Vec<String> {
    (0..200u64)
        .map(|i| format!("w{}", (i * 7919) % 37))
        .collect()
}

fn numbers() -> Vec<f64> {
    (0..200i64)
        .map(|i| ((i * 37) % 101 - 50) as f64 / 4.0)
        .collect()
}

#[task]
fn shout(s: &str) -> String {
    s.to_uppercase()
}

#[task]
fn longer_than(s: &str, #[bound] n: usize) -> bool {
    s.len() > n
}

#[task]
fn letters(s: &String) -> Vec<String> {
    s.chars().map(String::from).collect()
}

#[task]
fn lengths(xs: &[String]) -> Vec<u64> {
    xs.iter().map(|s| s.len() as u64).collect()
}

#[task]
fn checked_half(x: f64) -> Result<f64, String> {
    if x < -12.4 {
        Err(format!("{x} is too small"))
    } else {
        Ok(x / 2.0)
    }
}

#[test]
fn registered_functions_give_the_plain_rust_results_on_every_executor() {
    let ws = words();
    let want_map: Vec<String> = ws.iter().map(|s| s.to_uppercase()).collect();
    let want_filter: Vec<String> = ws.iter().filter(|s| s.len() > 2).cloned().collect();
    let want_flat: Vec<String> = ws
        .iter()
        .flat_map(|s| s.chars().map(String::from))
        .collect();
    let want_lengths: Vec<u64> = ws.iter().map(|s| s.len() as u64).collect();
    for ex in executors() {
        for n in PARTITIONS {
            let b = Bag::from_sequence(ws.clone(), n).unwrap();
            let ex = ex.as_ref();
            let got = b.map(shout::task_fn()).unwrap().compute_with(ex).unwrap();
            assert_eq!(got, want_map, "map, {n} partitions");
            let got = b.filter(longer_than::task_fn(2)).unwrap();
            assert_eq!(got.compute_with(ex).unwrap(), want_filter, "filter, {n}");
            let got = b.flat_map(letters::task_fn()).unwrap();
            assert_eq!(got.compute_with(ex).unwrap(), want_flat, "flat_map, {n}");
            let got = b.map_partitions(lengths::task_fn()).unwrap();
            assert_eq!(
                got.compute_with(ex).unwrap(),
                want_lengths,
                "partitions, {n}"
            );
        }
    }
}

#[task]
fn by_count(pair: &(String, u64)) -> (u64, std::cmp::Reverse<String>) {
    (pair.1, std::cmp::Reverse(pair.0.clone()))
}

#[task]
fn magnitude(x: f64) -> i64 {
    (x.abs() * 4.0) as i64
}

#[test]
fn topk_by_a_registered_key_matches_a_sort() {
    let ws = words();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for w in &ws {
        *counts.entry(w.clone()).or_default() += 1;
    }
    let mut pairs: Vec<(String, u64)> = counts.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let want: Vec<(String, u64)> = pairs[..5].to_vec();
    let xs = numbers();
    let mut by_magnitude: Vec<f64> = xs.clone();
    // Largest first; ties keep the input order (a stable sort).
    by_magnitude.sort_by_key(|x| std::cmp::Reverse((x.abs() * 4.0) as i64));
    for ex in executors() {
        let ex = ex.as_ref();
        for p in PARTITIONS {
            let w = Bag::from_sequence(ws.clone(), p).unwrap();
            let top = w
                .frequencies()
                .unwrap()
                .topk(5, by_count::task_fn())
                .unwrap();
            assert_eq!(top.compute_with(ex).unwrap(), want, "{p} partitions");
            let b = Bag::from_sequence(xs.clone(), p).unwrap();
            let top = b
                .topk(7, magnitude::task_fn())
                .unwrap()
                .compute_with(ex)
                .unwrap();
            assert_eq!(top, by_magnitude[..7].to_vec(), "{p} partitions");
            let none = b.topk(0, magnitude::task_fn()).unwrap();
            assert!(none.compute_with(ex).unwrap().is_empty());
        }
    }
}

#[task]
fn initial(s: &str) -> String {
    s.chars().take(2).collect()
}

#[test]
fn groupby_with_a_registered_key_matches_a_btree_map() {
    let ws = words();
    let mut want: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for w in &ws {
        want.entry(w.chars().take(2).collect())
            .or_default()
            .push(w.clone());
    }
    for ex in executors() {
        let ex = ex.as_ref();
        for p in PARTITIONS {
            let b = Bag::from_sequence(ws.clone(), p).unwrap();
            for out in [None, Some(1), Some(4)] {
                let g = b.groupby(initial::task_fn(), out).unwrap();
                assert_eq!(g.npartitions(), out.unwrap_or(b.npartitions()));
                let got = g.compute_with(ex).unwrap();
                assert_eq!(got.len(), want.len(), "each key once");
                let got: std::collections::BTreeMap<String, Vec<String>> =
                    got.into_iter().collect();
                assert_eq!(got, want, "{p} partitions in, {out:?} out");
            }
        }
    }
}

#[test]
fn repartition_rebuilds_like_on_a_worker() {
    let ws = words();
    for p in PARTITIONS {
        let b = Bag::from_sequence(ws.clone(), p).unwrap();
        for n in [1, 2, 9, 300] {
            let r = b.repartition(n).unwrap();
            assert_eq!(r.npartitions(), n);
            assert_eq!(r.compute_with(&Rebuilding).unwrap(), ws, "{p} -> {n}");
        }
    }
}

#[task]
fn allowed(s: &str, #[bound] words: std::collections::HashSet<String>) -> bool {
    words.contains(s)
}

#[test]
fn keys_come_from_canonical_tokens_not_serde_bytes() {
    // Two sets with the same words, filled in different orders (and each with its
    // own random hash seed, so their serde bytes usually differ).
    let a: std::collections::HashSet<String> =
        ["w1", "w2", "w3", "w5", "w8"].map(String::from).into();
    let b: std::collections::HashSet<String> =
        ["w8", "w5", "w3", "w2", "w1"].map(String::from).into();
    let bag = Bag::from_sequence(words(), 3).unwrap();
    let x = bag.filter(allowed::task_fn(a)).unwrap();
    let y = bag.filter(allowed::task_fn(b)).unwrap();
    assert_eq!(x.name(), y.name());
    let want: Vec<String> = words()
        .into_iter()
        .filter(|w| ["w1", "w2", "w3", "w5", "w8"].contains(&w.as_str()))
        .collect();
    assert_eq!(x.compute_with(&Rebuilding).unwrap(), want);
}

#[test]
fn hostile_task_parameters_are_errors_not_panics() {
    let one = Bag::from_sequence(words(), 1).unwrap();
    let partition = brisk_scheduler::LocalScheduler::new()
        .get(one.graph(), &[one.key(0)])
        .unwrap();
    #[derive(serde::Serialize)]
    struct Cut {
        p: usize,
        pieces: usize,
    }
    #[derive(serde::Serialize)]
    enum How {
        Cut(Cut),
    }
    #[derive(serde::Serialize)]
    struct Reshape {
        how: How,
        item: &'static str,
    }
    for (p, pieces) in [(5, 2), (0, 0), (usize::MAX, 3)] {
        let bytes = rmp_serde::to_vec_named(&Reshape {
            how: How::Cut(Cut { p, pieces }),
            item: "bag<str>",
        })
        .unwrap();
        let op = brisk_core::op::rebuild("brisk::bag::reshape", &bytes).unwrap();
        let err = op.call(&partition).unwrap_err();
        assert!(err.to_string().contains("piece"), "{err}");
    }
    let finish = brisk_core::op::rebuild(
        "brisk::bag::finish-moments",
        &rmp_serde::to_vec_named(&"Mean").unwrap(),
    )
    .unwrap();
    assert!(finish.call(&[]).is_err());
    #[derive(serde::Serialize)]
    enum Apply {
        GroupSplit { m: usize },
    }
    #[derive(serde::Serialize)]
    struct ApplySpec {
        how: Apply,
        function: String,
        params: Vec<u8>,
    }
    for m in [0, usize::MAX] {
        let bytes = rmp_serde::to_vec_named(&ApplySpec {
            how: Apply::GroupSplit { m },
            function: initial::NAME.to_string(),
            params: rmp_serde::to_vec(&()).unwrap(),
        })
        .unwrap();
        let op = brisk_core::op::rebuild("brisk::bag::apply", &bytes).unwrap();
        let err = op.call(&partition).unwrap_err();
        assert!(err.to_string().contains("groupby into"), "{err}");
    }
}

#[test]
fn a_bound_parameter_is_part_of_the_key() {
    let b = Bag::from_sequence(words(), 3).unwrap();
    let two = b.filter(longer_than::task_fn(2)).unwrap();
    let one = b.filter(longer_than::task_fn(1)).unwrap();
    assert_ne!(two.name(), one.name());
    let again = b.filter(longer_than::task_fn(2)).unwrap();
    assert_eq!(two.name(), again.name());
}

#[test]
fn a_failing_registered_function_names_its_error() {
    let b = Bag::from_sequence(numbers(), 3).unwrap();
    for ex in executors() {
        let err = b
            .map(checked_half::task_fn())
            .unwrap()
            .compute_with(ex.as_ref())
            .unwrap_err();
        assert!(err.to_string().contains("-12.5 is too small"), "{err}");
    }
    let fine = Bag::from_sequence(vec![2.0, 4.0], 2).unwrap();
    let halves = fine.map(checked_half::task_fn()).unwrap();
    assert_eq!(halves.compute_with(&Rebuilding).unwrap(), vec![1.0, 2.0]);
}

#[test]
fn built_in_aggregations_rebuild_like_on_a_worker() {
    let xs = numbers();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let std1 = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let ws = words();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for w in &ws {
        *counts.entry(w.clone()).or_default() += 1;
    }
    let mut want_freq: Vec<(String, u64)> = counts.into_iter().collect();
    want_freq.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let want_distinct: Vec<String> = ws
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let ints: Vec<i64> = (0..100).map(|i| (i * 13) % 29 - 7).collect();
    for ex in executors() {
        let ex: &dyn Executor = ex.as_ref();
        for p in PARTITIONS {
            let b = Bag::from_sequence(xs.clone(), p).unwrap();
            assert_eq!(b.count().unwrap().compute_with(ex).unwrap(), 200);
            let sum = b.sum().unwrap().compute_with(ex).unwrap();
            assert!((sum - xs.iter().sum::<f64>()).abs() < 1e-9);
            assert_eq!(b.min().unwrap().compute_with(ex).unwrap(), -12.5);
            assert_eq!(b.max().unwrap().compute_with(ex).unwrap(), 12.5);
            assert!((b.mean().unwrap().compute_with(ex).unwrap() - mean).abs() < 1e-12);
            assert!((b.std(1).unwrap().compute_with(ex).unwrap() - std1).abs() < 1e-12);
            let w = Bag::from_sequence(ws.clone(), p).unwrap();
            assert_eq!(
                w.frequencies().unwrap().compute_with(ex).unwrap(),
                want_freq
            );
            assert_eq!(
                w.distinct().unwrap().compute_with(ex).unwrap(),
                want_distinct
            );
            let i = Bag::from_sequence(ints.clone(), p).unwrap();
            assert_eq!(
                i.sum().unwrap().compute_with(ex).unwrap(),
                ints.iter().sum::<i64>()
            );
            assert_eq!(i.max().unwrap().compute_with(ex).unwrap(), 21);
        }
    }
}

#[test]
fn integer_sums_widen_and_overflow_is_an_error_not_a_wrapped_value() {
    for ex in executors() {
        let ex: &dyn Executor = ex.as_ref();
        // Three u32 items near the top sum past u32::MAX, in u64.
        let b = Bag::from_sequence(vec![4_000_000_000u32; 3], 2).unwrap();
        let s: u64 = b.sum().unwrap().compute_with(ex).unwrap();
        assert_eq!(s, 12_000_000_000);
        // i32 sums widen to i64 both ways.
        let b = Bag::from_sequence(vec![i32::MIN, i32::MIN, i32::MAX], 3).unwrap();
        let s: i64 = b.sum().unwrap().compute_with(ex).unwrap();
        assert_eq!(s, 2 * i64::from(i32::MIN) + i64::from(i32::MAX));
        // Booleans count.
        let b = Bag::from_sequence(vec![true, false, true, true], 2).unwrap();
        assert_eq!(b.sum().unwrap().compute_with(ex).unwrap(), 3u64);
        // Past the wide type, within a partition or across partitions: an error.
        for parts in [1, 2] {
            let b = Bag::from_sequence(vec![u64::MAX, 1], parts).unwrap();
            let err = b.sum().unwrap().compute_with(ex).unwrap_err().to_string();
            assert!(err.contains("the sum overflows u64"), "{err}");
        }
    }
}

#[test]
fn an_aggregation_a_type_lacks_is_an_error_on_the_worker() {
    // A hand-made task asking for the sum of strings, as a hostile or stale graph
    // could: the worker's table for bag<str> has no sum.
    #[derive(serde::Serialize)]
    struct Asked {
        reduction: &'static str,
        stage: &'static str,
        item: &'static str,
    }
    let bytes = rmp_serde::to_vec_named(&Asked {
        reduction: "Sum",
        stage: "Partition",
        item: "bag<str>",
    })
    .unwrap();
    let op = brisk_core::op::rebuild("brisk::bag::reduce", &bytes).unwrap();
    let words = Bag::from_sequence(words(), 1).unwrap();
    let partition = brisk_scheduler::LocalScheduler::new()
        .get(words.graph(), &[words.key(0)])
        .unwrap();
    let err = op.call(&partition).unwrap_err();
    assert!(
        err.to_string()
            .contains("Sum is not defined for bag<str> items"),
        "{err}"
    );
}

#[test]
fn pluck_rebuilds_like_on_a_worker() {
    let events: Vec<Json> = (0..50)
        .map(|i| {
            Json::parse(
                format!(
                    r#"{{"type":"t{}","repo":{{"id":{i}}},"tags":["a{i}","b"]}}"#,
                    i % 3
                )
                .as_bytes(),
            )
            .unwrap()
        })
        .collect();
    for ex in executors() {
        let ex = ex.as_ref();
        for p in [1, 4, 60] {
            let b = Bag::from_sequence(events.clone(), p).unwrap();
            let types = b.pluck_str("type").unwrap().frequencies().unwrap();
            assert_eq!(
                types.compute_with(ex).unwrap(),
                vec![("t0".to_string(), 17), ("t1".into(), 17), ("t2".into(), 16)]
            );
            let ids: Vec<String> = b
                .pluck("repo")
                .unwrap()
                .pluck("id")
                .unwrap()
                .compute_with(ex)
                .unwrap()
                .iter()
                .map(|j| j.to_text())
                .collect();
            assert_eq!(ids, (0..50).map(|i| i.to_string()).collect::<Vec<_>>());
            let first_tags: Vec<String> = b
                .pluck("tags")
                .unwrap()
                .pluck_index(0)
                .unwrap()
                .compute_with(ex)
                .unwrap()
                .iter()
                .map(|j| j.to_text())
                .collect();
            assert_eq!(first_tags[7], "\"a7\"");
            let err = b.pluck("nope").unwrap().compute_with(ex).unwrap_err();
            assert!(err.to_string().contains("no key 'nope'"), "{err}");
        }
    }
}

#[test]
fn closures_cannot_be_rebuilt() {
    let b = Bag::from_sequence(words(), 2).unwrap();
    let local = b.map(("upper", |s: &String| s.to_uppercase())).unwrap();
    assert_eq!(local.compute().unwrap().len(), 200);
    assert!(local.compute_with(&Rebuilding).is_err());
}

#[task]
fn longest(xs: &[String]) -> u64 {
    xs.iter().map(|s| s.len() as u64).max().unwrap_or(0)
}

#[task]
fn largest(values: Vec<u64>) -> u64 {
    values.into_iter().max().unwrap_or(0)
}

#[test]
fn reduction_of_registered_functions_runs_anywhere_and_closures_locally() {
    let ws = words();
    let want = ws.iter().map(|s| s.len() as u64).max().unwrap();
    for ex in executors() {
        for n in PARTITIONS {
            let b = Bag::from_sequence(ws.clone(), n).unwrap();
            for split_every in [2, 3, 8] {
                let got = b
                    .reduction(longest::task_fn(), largest::task_fn(), split_every)
                    .unwrap()
                    .compute_with(ex.as_ref())
                    .unwrap();
                assert_eq!(got, want, "{n} partitions, split_every {split_every}");
            }
        }
    }
    let b = Bag::from_sequence(ws.clone(), 4).unwrap();
    let counted = b
        .reduction(
            ("count", |xs: &[String]| Ok(xs.len() as u64)),
            ("total", |v: Vec<u64>| Ok(v.iter().sum())),
            2,
        )
        .unwrap();
    assert_eq!(counted.compute().unwrap(), ws.len() as u64);
    assert!(counted.compute_with(&Rebuilding).is_err());
    // One of each: the closure keeps it local, the result is the same.
    let mixed = b
        .reduction(
            longest::task_fn(),
            ("biggest", |v: Vec<u64>| {
                Ok(v.into_iter().max().unwrap_or(0))
            }),
            2,
        )
        .unwrap();
    assert_eq!(mixed.compute().unwrap(), want);
}

#[task]
fn add_length(acc: u64, s: &str) -> u64 {
    acc + s.len() as u64
}

#[task]
fn plus(a: u64, b: u64) -> u64 {
    a + b
}

#[task]
fn cut_at(acc: u64, s: &str, #[bound] limit: u64) -> Result<u64, String> {
    let n = acc + s.len() as u64;
    if n > limit {
        Err(format!("passed {limit} at {s}"))
    } else {
        Ok(n)
    }
}

#[test]
fn fold_of_registered_functions_runs_anywhere_and_its_initial_value_is_part_of_the_key() {
    let ws = words();
    let letters: u64 = ws.iter().map(|s| s.len() as u64).sum();
    for ex in executors() {
        for n in PARTITIONS {
            let b = Bag::from_sequence(ws.clone(), n).unwrap();
            let got = b
                .fold(0, add_length::task_fn(), plus::task_fn())
                .unwrap()
                .compute_with(ex.as_ref())
                .unwrap();
            assert_eq!(got, letters, "{n} partitions");
            // The initial value starts every partition and the combine.
            let from_one = b.fold(1, add_length::task_fn(), plus::task_fn()).unwrap();
            let parts_and_combines = from_one.compute_with(ex.as_ref()).unwrap() - letters;
            assert!(
                parts_and_combines > n.min(ws.len()) as u64,
                "{n}: {parts_and_combines}"
            );
        }
    }
    let b = Bag::from_sequence(ws.clone(), 3).unwrap();
    let a = b.fold(0, add_length::task_fn(), plus::task_fn()).unwrap();
    let c = b.fold(1, add_length::task_fn(), plus::task_fn()).unwrap();
    assert_ne!(a.key(), c.key());
    // A failing registered step names its error, on a worker as here.
    let e = b
        .fold(0, cut_at::task_fn(10), plus::task_fn())
        .unwrap()
        .compute_with(&Rebuilding)
        .unwrap_err();
    assert!(e.to_string().contains("passed 10 at"), "{e}");
    // A registered step with a named closure to combine: local only.
    let mixed = b
        .fold(0, add_length::task_fn(), ("plus", |a: u64, b: u64| a + b))
        .unwrap();
    assert_eq!(mixed.compute().unwrap(), letters);
    assert!(mixed.compute_with(&Rebuilding).is_err());
}

#[task]
fn longest_three(xs: &[String]) -> Vec<String> {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    v.truncate(3);
    v
}

#[test]
fn tree_reduce_of_registered_functions_runs_anywhere() {
    let ws = words();
    let want = longest_three(&ws);
    for ex in executors() {
        for n in PARTITIONS {
            let b = Bag::from_sequence(ws.clone(), n).unwrap();
            let got = b
                .tree_reduce(longest_three::task_fn(), longest_three::task_fn(), 3)
                .unwrap();
            assert_eq!(got.npartitions(), 1);
            assert_eq!(
                got.compute_with(ex.as_ref()).unwrap(),
                want,
                "{n} partitions"
            );
        }
    }
    // Named closures: the combine sees the partial results one by one.
    let b = Bag::from_sequence(ws.clone(), 5).unwrap();
    let counts = b
        .tree_reduce(
            ("count", |xs: &[String]| Ok(vec![xs.len() as u64])),
            ("sum", |parts: &[&[u64]]| {
                Ok(vec![parts.iter().map(|p| p[0]).sum()])
            }),
            2,
        )
        .unwrap();
    assert_eq!(counts.compute().unwrap(), [ws.len() as u64]);
    assert!(counts.compute_with(&Rebuilding).is_err());
}

#[task]
fn last_letter(s: &str) -> String {
    s.chars().last().map(String::from).unwrap_or_default()
}

#[task]
fn longest_start(acc: i64, s: &str) -> i64 {
    acc.max(s.len() as i64)
}

#[task]
fn larger(a: i64, b: i64) -> i64 {
    a.max(b)
}

#[test]
fn foldby_of_registered_functions_matches_a_hash_map_on_every_executor() {
    let ws = words();
    // Per last letter: letters in all (from 0 in each partition) and the longest.
    let mut letters: BTreeMap<String, u64> = BTreeMap::new();
    let mut longest: BTreeMap<String, i64> = BTreeMap::new();
    for w in &ws {
        let k = last_letter(w);
        *letters.entry(k.clone()).or_default() += w.len() as u64;
        let l = longest.entry(k).or_insert(i64::MIN);
        *l = (*l).max(w.len() as i64);
    }
    for ex in executors() {
        for n in PARTITIONS {
            let b = Bag::from_sequence(ws.clone(), n).unwrap();
            let sums = b
                .foldby(
                    last_letter::task_fn(),
                    0,
                    add_length::task_fn(),
                    plus::task_fn(),
                )
                .unwrap();
            assert_eq!(sums.npartitions(), 1);
            assert_eq!(
                sums.compute_with(ex.as_ref()).unwrap(),
                letters.clone().into_iter().collect::<Vec<_>>(),
                "{n} partitions"
            );
            let maxes = b
                .foldby(
                    last_letter::task_fn(),
                    i64::MIN,
                    longest_start::task_fn(),
                    larger::task_fn(),
                )
                .unwrap();
            assert_eq!(
                maxes.compute_with(ex.as_ref()).unwrap(),
                longest.clone().into_iter().collect::<Vec<_>>(),
                "{n} partitions"
            );
        }
    }
    // An empty bag folds to no groups.
    let empty = Bag::from_sequence(Vec::<String>::new(), 2).unwrap();
    let none = empty
        .foldby(
            last_letter::task_fn(),
            0,
            add_length::task_fn(),
            plus::task_fn(),
        )
        .unwrap();
    assert_eq!(none.compute_with(&Rebuilding).unwrap(), vec![]);
}

#[test]
fn a_registered_foldby_keys_on_its_initial_value_and_refuses_a_mix_of_forms() {
    let b = Bag::from_sequence(words(), 3).unwrap();
    let from = |init: u64| {
        b.foldby(
            last_letter::task_fn(),
            init,
            add_length::task_fn(),
            plus::task_fn(),
        )
        .unwrap()
    };
    assert_eq!(from(0).key(0), from(0).key(0));
    assert_ne!(from(0).key(0), from(1).key(0));
    // The initial value starts every group of every partition, once per key that
    // ends a word of the partition.
    let groups = b
        .map_partitions(("distinct last letters", |xs: &[String]| {
            Ok(xs
                .iter()
                .map(|w| last_letter(w))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect())
        }))
        .unwrap()
        .count()
        .unwrap()
        .compute()
        .unwrap();
    let ones: u64 = from(1)
        .compute_with(&Rebuilding)
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    let zeros: u64 = from(0).compute().unwrap().iter().map(|(_, n)| n).sum();
    assert!(groups > 10, "{groups}");
    assert_eq!(ones - zeros, groups as u64);
    // A failing step names its error, as on a worker.
    let e = b
        .foldby(
            last_letter::task_fn(),
            0,
            cut_at::task_fn(10),
            plus::task_fn(),
        )
        .unwrap()
        .compute_with(&Rebuilding)
        .unwrap_err();
    assert!(e.to_string().contains("passed 10 at"), "{e}");
    let e = b
        .foldby(
            last_letter::task_fn(),
            0,
            add_length::task_fn(),
            ("plus", |a: u64, b: u64| a + b),
        )
        .unwrap_err();
    assert!(e.to_string().contains("not a mix"), "{e}");
}
