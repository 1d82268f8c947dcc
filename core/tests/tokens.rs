//! Tokens are a contract: `data/tokens.txt` pins the token of every case below. A
//! change of encoding shows up as a failing test and, once re-blessed with
//! `BRISK_BLESS=1 cargo test -p brisk-core --test tokens`, as a diff of that file.

use brisk_core::token::{tokenize, Bytes, FileIdentity, Token};
use brisk_core::{Error, Key};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

fn cases() -> Vec<(&'static str, Token)> {
    let cases = plain_cases();
    #[cfg(feature = "polars")]
    let cases = {
        let mut cases = cases;
        cases.extend(polars_frames::cases());
        cases
    };
    cases
}

fn plain_cases() -> Vec<(&'static str, Token)> {
    let t = |x: &dyn Fn() -> brisk_core::Result<Token>| x().unwrap();
    let map: HashMap<String, i64> = [("b".to_string(), 2), ("a".to_string(), 1)]
        .into_iter()
        .collect();
    let set: HashSet<i32> = [3, 1, 2].into_iter().collect();
    vec![
        ("unit", t(&|| tokenize(&()))),
        ("bool true", t(&|| tokenize(&true))),
        ("u8 7", t(&|| tokenize(&7u8))),
        ("u32 7", t(&|| tokenize(&7u32))),
        ("u64 7", t(&|| tokenize(&7u64))),
        ("i64 -1", t(&|| tokenize(&-1i64))),
        ("i128 min", t(&|| tokenize(&i128::MIN))),
        ("usize 7", t(&|| tokenize(&7usize))),
        ("f32 1.5", t(&|| tokenize(&1.5f32))),
        ("f64 1.5", t(&|| tokenize(&1.5f64))),
        ("f64 -0.0", t(&|| tokenize(&-0.0f64))),
        ("f64 nan", t(&|| tokenize(&f64::NAN))),
        ("char é", t(&|| tokenize(&'é'))),
        ("str empty", t(&|| tokenize(""))),
        ("str hello", t(&|| tokenize("hello"))),
        ("bytes hello", t(&|| tokenize(&Bytes(b"hello")))),
        ("vec<u8> hello", t(&|| tokenize(&b"hello".to_vec()))),
        ("vec<i64> 1 2 3", t(&|| tokenize(&vec![1i64, 2, 3]))),
        (
            "vec<str>",
            t(&|| tokenize(&vec!["a".to_string(), "bc".to_string()])),
        ),
        ("tuple (ab, c)", t(&|| tokenize(&("ab", "c")))),
        ("tuple (a, bc)", t(&|| tokenize(&("a", "bc")))),
        ("option none", t(&|| tokenize(&None::<i64>))),
        ("option some 0", t(&|| tokenize(&Some(0i64)))),
        ("hashmap a1 b2", t(&|| tokenize(&map))),
        (
            "btreemap a1 b2",
            t(&|| {
                tokenize(&BTreeMap::from([
                    ("a".to_string(), 1i64),
                    ("b".to_string(), 2),
                ]))
            }),
        ),
        ("hashset 1 2 3", t(&|| tokenize(&set))),
        (
            "btreeset 1 2 3",
            t(&|| tokenize(&BTreeSet::from([1i32, 2, 3]))),
        ),
        ("path", t(&|| tokenize(Path::new("/data/file.csv")))),
        ("key", t(&|| tokenize(&Key::new("sum-abc", &[0, 3])))),
        (
            "file identity",
            t(&|| {
                tokenize(&FileIdentity {
                    path: PathBuf::from("/data/a.json.gz"),
                    size: 1234,
                    mtime_ns: 1_700_000_000_000_000_000,
                })
            }),
        ),
        (
            "ndarray f64 2x2",
            t(&|| tokenize(&ndarray::arr2(&[[1.0f64, 2.0], [3.0, 4.0]]))),
        ),
        (
            "ndarray i32 3",
            t(&|| tokenize(&ndarray::arr1(&[1i32, 2, 3]))),
        ),
    ]
}

fn pinned_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tokens.txt")
}

#[test]
fn tokens_match_the_pinned_file() {
    let now: Vec<String> = cases()
        .iter()
        .map(|(name, t)| format!("{name}\t{t}"))
        .collect();
    let text = now.join("\n") + "\n";
    if std::env::var_os("BRISK_BLESS").is_some() {
        std::fs::write(pinned_path(), &text).unwrap();
    }
    // The pinned file is compiled in, so the test does not depend on where the
    // binary runs from (cargo rebuilds it when the file changes).
    let pinned = if std::env::var_os("BRISK_BLESS").is_some() {
        text.clone()
    } else {
        include_str!("data/tokens.txt").to_string()
    };
    // Cases of features not enabled in this build are skipped, not reported.
    let names: HashSet<&str> = cases().iter().map(|(n, _)| *n).collect();
    let pinned: Vec<&str> = pinned
        .lines()
        .filter(|l| names.contains(l.split('\t').next().unwrap_or("")))
        .collect();
    let diff: Vec<String> = now
        .iter()
        .filter(|l| !pinned.contains(&l.as_str()))
        .map(|l| format!("now: {l}"))
        .chain(
            pinned
                .iter()
                .filter(|l| !now.contains(&l.to_string()))
                .map(|l| format!("pinned: {l}")),
        )
        .collect();
    assert!(
        diff.is_empty(),
        "tokens changed (bump TOKEN_VERSION if intended):\n{}",
        diff.join("\n")
    );
}

#[test]
fn pinned_tokens_differ_except_for_equal_maps_and_sets() {
    let cases = cases();
    let get = |name: &str| cases.iter().find(|(n, _)| *n == name).unwrap().1;
    // A map is a map, a set is a set, whatever their implementation.
    assert_eq!(get("hashmap a1 b2"), get("btreemap a1 b2"));
    assert_eq!(get("hashset 1 2 3"), get("btreeset 1 2 3"));
    let distinct: HashSet<Token> = cases.iter().map(|(_, t)| *t).collect();
    assert_eq!(distinct.len(), cases.len() - 2);
}

#[test]
fn unordered_collections_ignore_insertion_order() {
    let a: HashMap<i64, &str> = (0..100).map(|i| (i, "x")).collect();
    let b: HashMap<i64, &str> = (0..100).rev().map(|i| (i, "x")).collect();
    assert_eq!(tokenize(&a).unwrap(), tokenize(&b).unwrap());
    let c: BTreeMap<i64, &str> = (0..100).map(|i| (i, "x")).collect();
    assert_eq!(tokenize(&a).unwrap(), tokenize(&c).unwrap());
}

#[test]
fn every_nan_is_one_nan_but_zero_signs_differ() {
    let other_nan = f64::from_bits(f64::NAN.to_bits() | 1);
    assert!(other_nan.is_nan());
    assert_eq!(tokenize(&other_nan).unwrap(), tokenize(&f64::NAN).unwrap());
    assert_ne!(tokenize(&0.0f64).unwrap(), tokenize(&-0.0f64).unwrap());
}

#[test]
fn array_tokens_ignore_memory_layout() {
    let a = ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]);
    let t = a.t().to_owned().t().to_owned(); // same values, built through a transpose
    assert_eq!(tokenize(&a).unwrap(), tokenize(&t).unwrap());
    assert_eq!(tokenize(&a).unwrap(), tokenize(&a.view()).unwrap());
    assert_ne!(tokenize(&a).unwrap(), tokenize(&a.t()).unwrap());
    assert_ne!(
        tokenize(&a).unwrap(),
        tokenize(&a.mapv(|x| x as f64)).unwrap()
    );
}

#[test]
fn a_missing_file_has_no_token_and_says_which() {
    let err = FileIdentity::of("/no/such/dir/data.csv").unwrap_err();
    assert!(matches!(err, Error::Tokenize { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("cannot tokenize file /no/such/dir/data.csv"),
        "{msg}"
    );
}

#[test]
fn a_changed_file_gets_a_new_token() {
    let dir = std::env::temp_dir().join(format!("brisk-token-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("x.txt");
    std::fs::write(&p, "one").unwrap();
    let before = tokenize(&FileIdentity::of(&p).unwrap()).unwrap();
    std::fs::write(&p, "three").unwrap();
    let after = tokenize(&FileIdentity::of(&p).unwrap()).unwrap();
    assert_ne!(before, after);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(feature = "polars")]
mod polars_frames {
    use super::*;
    use polars_core::prelude::*;

    pub fn frame() -> DataFrame {
        DataFrame::new_infer_height(vec![
            Series::new("id".into(), &[Some(1i64), None, Some(3)]).into(),
            Series::new("fare".into(), &[1.5f64, f64::NAN, -0.0]).into(),
            Series::new("vendor".into(), &[Some("CMT"), Some("VTS"), None]).into(),
            Series::new("cash".into(), &[true, false, true]).into(),
        ])
        .unwrap()
    }

    pub fn cases() -> Vec<(&'static str, Token)> {
        vec![
            ("polars frame 4 columns", tokenize(&frame()).unwrap()),
            (
                "polars series i32",
                tokenize(&Series::new("x".into(), &[1i32, 2, 3])).unwrap(),
            ),
        ]
    }

    #[test]
    fn frame_tokens_ignore_chunking() {
        let df = frame();
        let two_chunks = df.slice(0, 1).vstack(&df.slice(1, 2)).unwrap();
        assert_eq!(two_chunks.columns()[0].n_chunks(), 2);
        assert_eq!(tokenize(&df).unwrap(), tokenize(&two_chunks).unwrap());
    }

    #[test]
    fn names_dtypes_and_nulls_are_part_of_the_token() {
        let df = frame();
        let renamed = df.clone().rename("fare", "tip".into()).unwrap().clone();
        assert_ne!(tokenize(&df).unwrap(), tokenize(&renamed).unwrap());
        let a = Series::new("x".into(), &[1i32, 2, 3]);
        let b = Series::new("x".into(), &[1i64, 2, 3]);
        assert_ne!(tokenize(&a).unwrap(), tokenize(&b).unwrap());
        let c = Series::new("x".into(), &[Some(1i64), None]);
        let d = Series::new("x".into(), &[Some(1i64), Some(0)]);
        assert_ne!(tokenize(&c).unwrap(), tokenize(&d).unwrap());
    }

    #[test]
    fn a_column_without_a_deterministic_token_is_an_error_naming_it() {
        let inner = Series::new("".into(), &[1i64, 2]);
        let lists = Series::new("tags".into(), &[inner.clone(), inner]);
        let df = DataFrame::new_infer_height(vec![lists.into()]).unwrap();
        let msg = tokenize(&df).unwrap_err().to_string();
        assert!(
            msg.starts_with("cannot tokenize column 'tags': dtype list[i64]"),
            "{msg}"
        );
    }
}
