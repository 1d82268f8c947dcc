//! Bag operations against plain Rust computations over the same data, with one
//! partition, several, and more partitions than items.

use brisk_collections::bag::Bag;
use brisk_scheduler::{LocalScheduler, SyncScheduler};
use std::collections::{BTreeSet, HashMap};

const PARTITIONS: [usize; 4] = [1, 3, 7, 500];

fn words() -> Vec<String> {
    // A deterministic mix with repeats.
    (0..200u64)
        .map(|i| format!("w{}", (i * 7919) % 37))
        .collect()
}

fn numbers() -> Vec<i64> {
    (0..200i64).map(|i| (i * 37) % 101 - 50).collect()
}

#[test]
fn element_wise_methods_match_iterators() {
    let xs = numbers();
    for n in PARTITIONS {
        let b = Bag::from_sequence(xs.clone(), n).unwrap();
        assert_eq!(b.npartitions(), n.min(xs.len()));
        assert_eq!(b.compute().unwrap(), xs);
        let doubled = b.map(("double", |x: &i64| x * 2)).unwrap();
        assert_eq!(
            doubled.compute().unwrap(),
            xs.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
        let pos = b.filter(("positive", |x: &i64| *x > 0)).unwrap();
        assert_eq!(
            pos.compute().unwrap(),
            xs.iter().copied().filter(|x| *x > 0).collect::<Vec<_>>()
        );
        let flat = b
            .flat_map(("repeat", |x: &i64| {
                vec![*x; (x.unsigned_abs() % 3) as usize]
            }))
            .unwrap();
        let expected: Vec<i64> = xs
            .iter()
            .flat_map(|x| vec![*x; (x.unsigned_abs() % 3) as usize])
            .collect();
        assert_eq!(flat.compute().unwrap(), expected);
    }
}

#[test]
fn aggregations_match_iterators() {
    let xs = numbers();
    let mean = xs.iter().sum::<i64>() as f64 / xs.len() as f64;
    let var1 = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
    for n in PARTITIONS {
        let b = Bag::from_sequence(xs.clone(), n).unwrap();
        assert_eq!(
            b.count().unwrap().compute().unwrap(),
            xs.len() as u64,
            "n={n}"
        );
        assert_eq!(b.sum().unwrap().compute().unwrap(), xs.iter().sum::<i64>());
        assert_eq!(
            b.min().unwrap().compute().unwrap(),
            *xs.iter().min().unwrap()
        );
        assert_eq!(
            b.max().unwrap().compute().unwrap(),
            *xs.iter().max().unwrap()
        );
        let f = b.map(("as-f64", |x: &i64| *x as f64)).unwrap();
        assert!((f.mean().unwrap().compute().unwrap() - mean).abs() < 1e-9);
        assert!((f.std(1).unwrap().compute().unwrap() - var1.sqrt()).abs() < 1e-9);
        let folded = b
            .fold(
                0i64,
                ("sum-of-squares", |acc: i64, x: &i64| acc + x * x),
                ("add", |a: i64, b: i64| a + b),
            )
            .unwrap();
        assert_eq!(
            folded.compute().unwrap(),
            xs.iter().map(|x| x * x).sum::<i64>()
        );
    }
}

#[test]
fn frequencies_topk_and_distinct_match_hash_maps() {
    let ws = words();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for w in &ws {
        *counts.entry(w.clone()).or_default() += 1;
    }
    let mut expected: Vec<(String, u64)> = counts.into_iter().collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let distinct: Vec<String> = ws
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for n in PARTITIONS {
        let b = Bag::from_sequence(ws.clone(), n).unwrap();
        assert_eq!(
            b.frequencies().unwrap().compute().unwrap(),
            expected,
            "n={n}"
        );
        assert_eq!(b.distinct().unwrap().compute().unwrap(), distinct, "n={n}");
        let top = b
            .frequencies()
            .unwrap()
            .topk(
                5,
                ("by-count", |(w, c): &(String, u64)| {
                    (*c, std::cmp::Reverse(w.clone()))
                }),
            )
            .unwrap();
        assert_eq!(top.compute().unwrap(), expected[..5].to_vec(), "n={n}");
    }
}

#[test]
fn take_computes_only_the_partitions_it_needs() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let b = Bag::from_sequence((0..100i64).collect(), 10)
        .unwrap()
        .map_partitions(("count-partitions", move |xs: &[i64]| {
            s.fetch_add(1, SeqCst);
            Ok(xs.to_vec())
        }))
        .unwrap();
    assert_eq!(b.take(15).unwrap(), (0..15).collect::<Vec<_>>());
    assert_eq!(seen.load(SeqCst), 2);
    assert_eq!(b.take(1000).unwrap().len(), 100);
}

#[test]
fn empty_bags_and_empty_partitions() {
    let b = Bag::<i64>::from_sequence(vec![], 4).unwrap();
    assert_eq!(b.npartitions(), 1);
    assert_eq!(b.count().unwrap().compute().unwrap(), 0);
    assert!(b.compute().unwrap().is_empty());
    assert_eq!(
        b.max()
            .unwrap()
            .compute()
            .unwrap_err()
            .root_cause()
            .to_string(),
        "max of an empty bag"
    );
    // Partitions emptied by a filter do not disturb min/max.
    let b = Bag::from_sequence((0..50i64).collect(), 10)
        .unwrap()
        .filter(("big", |x: &i64| *x > 44))
        .unwrap();
    assert_eq!(b.min().unwrap().compute().unwrap(), 45);
}

#[test]
fn identical_pipelines_share_keys_and_persist_keeps_them() {
    let a = Bag::from_sequence(numbers(), 4)
        .unwrap()
        .map(("double", |x: &i64| x * 2))
        .unwrap();
    let b = Bag::from_sequence(numbers(), 4)
        .unwrap()
        .map(("double", |x: &i64| x * 2))
        .unwrap();
    assert_eq!(a.keys(), b.keys());
    let c = Bag::from_sequence(numbers(), 5)
        .unwrap()
        .map(("double", |x: &i64| x * 2))
        .unwrap();
    assert_ne!(a.keys(), c.keys());
    let p = a.persist().unwrap();
    assert_eq!(p.keys(), a.keys());
    assert_eq!(p.compute().unwrap(), a.compute().unwrap());
}

#[test]
fn bags_run_the_same_on_every_scheduler() {
    let b = Bag::from_sequence(words(), 6)
        .unwrap()
        .frequencies()
        .unwrap();
    let expected = b.compute().unwrap();
    assert_eq!(
        b.compute_with(&SyncScheduler::validating()).unwrap(),
        expected
    );
    assert_eq!(
        b.compute_with(&LocalScheduler::with_threads(3)).unwrap(),
        expected
    );
}

#[test]
fn foldby_and_groupby_match_hash_maps() {
    let xs = numbers();
    let mut sums: std::collections::BTreeMap<i64, i64> = Default::default();
    let mut groups: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for &x in &xs {
        *sums.entry(x.rem_euclid(7)).or_default() += x;
        groups.entry(x.rem_euclid(7)).or_default().push(x);
    }
    for n in PARTITIONS {
        let b = Bag::from_sequence(xs.clone(), n).unwrap();
        let folded = b
            .foldby(
                ("mod7", |x: &i64| x.rem_euclid(7)),
                0i64,
                ("add", |acc: i64, x: &i64| acc + x),
                ("plus", |a: i64, b: i64| a + b),
            )
            .unwrap();
        assert_eq!(
            folded.compute().unwrap(),
            sums.clone().into_iter().collect::<Vec<_>>(),
            "n={n}"
        );
        for out in [None, Some(1), Some(4)] {
            let g = b.groupby(("mod7", |x: &i64| x.rem_euclid(7)), out).unwrap();
            assert_eq!(g.npartitions(), out.unwrap_or(b.npartitions()));
            let mut got = g.compute().unwrap();
            got.sort();
            // Every key once, with its items in their original order.
            assert_eq!(
                got,
                groups.clone().into_iter().collect::<Vec<_>>(),
                "n={n} out={out:?}"
            );
        }
    }
}

#[test]
fn repartition_keeps_items_and_order() {
    let xs = numbers();
    for n in PARTITIONS {
        let b = Bag::from_sequence(xs.clone(), n).unwrap();
        for m in [1, 2, 5, 13, 300] {
            let r = b.repartition(m).unwrap();
            assert_eq!(r.npartitions(), m);
            assert_eq!(r.compute().unwrap(), xs, "{n} -> {m}");
        }
    }
}

#[test]
fn zip_pairs_items_and_checks_lengths() {
    let a = Bag::from_sequence((0..20i64).collect(), 4).unwrap();
    let b = a.map(("to-string", |x: &i64| format!("#{x}"))).unwrap();
    let z = a.zip(&b).unwrap();
    assert_eq!(
        z.compute().unwrap(),
        (0..20).map(|x| (x, format!("#{x}"))).collect::<Vec<_>>()
    );
    let short = a.filter(("drop-some", |x: &i64| x % 3 != 0)).unwrap();
    let msg = a
        .zip(&short.map(("id", |x: &i64| *x)).unwrap())
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    // Every partition is short; whichever fails first is reported.
    assert!(
        (0..4).any(|i| msg.starts_with(&format!("zip: partition {i} has 5 and 3 items"))),
        "{msg}"
    );
    let other = Bag::from_sequence((0..20i64).collect(), 5).unwrap();
    assert_eq!(
        a.zip(&other).unwrap_err().to_string(),
        "zip: the bags have 4 and 5 partitions"
    );
}

#[test]
fn to_textfiles_writes_one_file_per_partition_and_reads_back() {
    use brisk_collections::bag::{read_text, ReadOptions};
    let dir = std::env::temp_dir().join(format!("brisk-bag-write-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let b = Bag::from_sequence(words(), 3).unwrap();
    for ext in ["txt", "txt.gz", "txt.zst", "txt.bz2"] {
        let pattern = format!("{}/{ext}/part-*.{ext}", dir.display());
        let written = b.to_textfiles(&pattern, &Default::default()).unwrap();
        assert_eq!(written.len(), 3);
        assert_eq!(written[1], format!("{}/{ext}/part-1.{ext}", dir.display()));
        let back = read_text(
            &[&format!("{}/{ext}/part-*.{ext}", dir.display())],
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(back.compute().unwrap(), words(), "{ext}");
    }
    let err = b
        .to_textfiles(
            &format!("{}/no-star.txt", dir.display()),
            &Default::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("needs exactly one '*'"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn same_bytes_of_different_types_are_different_bags() {
    // 1i64 and 1u64 encode alike in msgpack; the element type is part of the key.
    let a = Bag::from_sequence(vec![1i64, 2], 1).unwrap();
    let b = Bag::from_sequence(vec![1u64, 2], 1).unwrap();
    assert_ne!(a.keys(), b.keys());
    assert_eq!(
        a.zip(&b).unwrap().compute().unwrap(),
        vec![(1i64, 1u64), (2, 2)]
    );
}

#[test]
fn folds_from_different_initial_values_are_different_work() {
    let b = Bag::from_sequence((1..=10i64).collect(), 3).unwrap();
    let step = ("add", |a: i64, x: &i64| a + x);
    let merge = ("add", |a: i64, c: i64| a + c);
    let from0 = b.fold(0i64, step, merge).unwrap();
    let from100 = b.fold(100i64, step, merge).unwrap();
    assert_ne!(from0.key(), from100.key());
    assert_eq!(from0.compute().unwrap(), 55);
    // The initial value starts every partition's fold and the merge: 100 * (3 + 1) + 55.
    assert_eq!(from100.compute().unwrap(), 455);
}

#[test]
fn from_sequence_cuts_near_equal_partitions() {
    let b = Bag::from_sequence((0..9i64).collect(), 4).unwrap();
    let counts = b
        .map_partitions(("len", |xs: &[i64]| Ok(vec![xs.len() as u64])))
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(counts, vec![2, 2, 2, 3]);
}

#[test]
fn nan_wins_min_and_max_whatever_the_partitioning() {
    for xs in [
        vec![f64::NAN, 1.0, 2.0],
        vec![1.0, f64::NAN, 2.0],
        vec![1.0, 2.0, f64::NAN],
    ] {
        for n in [1, 2, 3] {
            let b = Bag::from_sequence(xs.clone(), n).unwrap();
            assert!(b.max().unwrap().compute().unwrap().is_nan(), "{xs:?} n={n}");
            assert!(b.min().unwrap().compute().unwrap().is_nan(), "{xs:?} n={n}");
        }
    }
    let one = Bag::from_sequence(vec![3.0f64], 1).unwrap();
    assert!(one.std(1).unwrap().compute().unwrap().is_nan());
}

#[test]
fn a_bag_of_no_partitions_reduces_and_repartitions() {
    use brisk_core::graph::Graph;
    let empty: Bag<i64> = Bag::from_parts("nothing".into(), 0, Graph::new());
    assert_eq!(empty.count().unwrap().compute().unwrap(), 0);
    assert_eq!(
        empty.repartition(3).unwrap().compute().unwrap(),
        Vec::<i64>::new()
    );
}
