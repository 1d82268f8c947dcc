//! Bags read from files, checked against plain Rust over the same files.

use brisk_collections::bag::{read_json, read_text, Bag, Json, JsonValueTrait, ReadOptions};
use brisk_collections::datasets::github_events;
use brisk_io::compression::Compression;
use brisk_scheduler as _;
use std::collections::HashMap;
use std::path::PathBuf;

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brisk-bag-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every event of the generated files, parsed by a plain loop.
fn oracle(paths: &[PathBuf]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for p in paths {
        let raw = std::fs::read(p).unwrap();
        let text = Compression::Gzip.decompress(&raw, "oracle").unwrap();
        for line in String::from_utf8(text).unwrap().lines() {
            out.push(serde_json::from_str(line).unwrap());
        }
    }
    out
}

#[test]
fn the_github_session_matches_a_plain_loop() {
    let dir = tempdir("events");
    let paths = github_events(3, 400, 7, &dir).unwrap();
    assert_eq!(paths.len(), 3);
    assert!(paths[0].ends_with("2015-01-01-0.json.gz"));
    let events = oracle(&paths);
    assert_eq!(events.len(), 1200);

    let glob = format!("{}/*.json.gz", dir.display());
    let bag = read_json(&[&glob], &ReadOptions::default()).unwrap();
    assert_eq!(bag.npartitions(), 3);
    assert_eq!(bag.count().unwrap().compute().unwrap(), 1200);
    // Every record, in file order, equals what serde_json parses from the same line.
    let records: Vec<serde_json::Value> =
        bag.compute().unwrap().iter().map(Json::to_serde).collect();
    assert_eq!(records, events);

    // Type frequencies.
    let mut types: HashMap<String, u64> = HashMap::new();
    for e in &events {
        *types
            .entry(e["type"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let got: HashMap<String, u64> = bag
        .pluck_str("type")
        .unwrap()
        .frequencies()
        .unwrap()
        .compute()
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(got, types);
    assert!(types["PushEvent"] > types["WatchEvent"]);

    // Events on jupyter/ repositories, and their distinct repositories.
    let jupyter = bag
        .filter(("jupyter", |e: &Json| {
            e["repo"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("jupyter/"))
        }))
        .unwrap();
    let expected: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["repo"]["name"].as_str().unwrap().starts_with("jupyter/"))
        .collect();
    assert!(!expected.is_empty(), "the data set has jupyter events");
    assert_eq!(
        jupyter.count().unwrap().compute().unwrap(),
        expected.len() as u64
    );
    let repos = jupyter
        .map(("repo-name", |e: &Json| {
            e["repo"]["name"].as_str().unwrap_or("").to_string()
        }))
        .unwrap();
    let mut distinct: Vec<String> = expected
        .iter()
        .map(|e| e["repo"]["name"].as_str().unwrap().to_string())
        .collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(repos.distinct().unwrap().compute().unwrap(), distinct);

    // Top 10 actors by event count.
    let actors = bag
        .map(("actor", |e: &Json| {
            e["actor"]["login"].as_str().unwrap_or("").to_string()
        }))
        .unwrap();
    let top = actors
        .frequencies()
        .unwrap()
        .topk(
            10,
            ("by-count", |(a, n): &(String, u64)| {
                (*n, std::cmp::Reverse(a.clone()))
            }),
        )
        .unwrap();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for e in &events {
        *counts
            .entry(e["actor"]["login"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let mut expected_top: Vec<(String, u64)> = counts.into_iter().collect();
    expected_top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    expected_top.truncate(10);
    assert_eq!(top.compute().unwrap(), expected_top);

    // The same arguments write the same bytes.
    let again = tempdir("events-again");
    let paths2 = github_events(3, 400, 7, &again).unwrap();
    for (a, b) in paths.iter().zip(&paths2) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&again).unwrap();
}

#[test]
fn text_lines_are_the_same_whatever_the_block_size() {
    let dir = tempdir("text");
    let lines: Vec<String> = (0..3000)
        .map(|i| "x".repeat(i % 50) + &i.to_string())
        .collect();
    let path = dir.join("lines.txt");
    std::fs::write(&path, lines.join("\n")).unwrap(); // no final newline
    for blocksize in [None, Some(7), Some(100), Some(4096), Some(1 << 30)] {
        let opts = ReadOptions {
            blocksize,
            ..Default::default()
        };
        let bag = read_text(&[path.to_str().unwrap()], &opts).unwrap();
        assert_eq!(bag.compute().unwrap(), lines, "blocksize {blocksize:?}");
        assert_eq!(bag.count().unwrap().compute().unwrap(), 3000);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_malformed_json_line_names_the_file_and_line() {
    let dir = tempdir("badjson");
    let text = "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,,}\n{\"a\": 4}\n";
    let path = dir.join("2015-01-01-0.json.gz");
    std::fs::write(&path, Compression::Gzip.compress(text.as_bytes()).unwrap()).unwrap();
    let bag = read_json(&[path.to_str().unwrap()], &ReadOptions::default()).unwrap();
    let msg = bag.count().unwrap().compute().unwrap_err().to_string();
    assert!(
        msg.contains(&format!("malformed JSON at {} line 3: ", path.display())),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_gzip_file_names_the_file() {
    let dir = tempdir("truncgz");
    let paths = github_events(1, 500, 1, &dir).unwrap();
    let bytes = std::fs::read(&paths[0]).unwrap();
    std::fs::write(&paths[0], &bytes[..bytes.len() / 2]).unwrap();
    let bag = read_json(&[paths[0].to_str().unwrap()], &ReadOptions::default()).unwrap();
    let msg = bag.count().unwrap().compute().unwrap_err().to_string();
    assert!(
        msg.contains(&format!("cannot decompress {} (gzip)", paths[0].display())),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plucking_a_missing_key_is_an_error_naming_it() {
    let b = Bag::from_sequence(
        vec![serde_json::json!({"a": 1}), serde_json::json!({"b": 2})],
        1,
    )
    .unwrap();
    let msg = b.pluck("a").unwrap().compute().unwrap_err().to_string();
    assert!(msg.starts_with("pluck: no key 'a' in {\"b\":2}"), "{msg}");
}

#[test]
fn pluck_reads_keys_and_indices_of_both_json_types() {
    let texts = [
        r#"{"k": [10, "x"], "s": "a"}"#,
        r#"{"k": [20, "y"], "s": "b"}"#,
        r#"{"k": [30, "z"], "s": "c"}"#,
    ];
    let sonic: Vec<Json> = texts
        .iter()
        .map(|t| Json::parse(t.as_bytes()).unwrap())
        .collect();
    let serde: Vec<serde_json::Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    for n in [1, 2, 5] {
        let a = Bag::from_sequence(sonic.clone(), n).unwrap();
        let firsts: Vec<u64> = a
            .pluck("k")
            .unwrap()
            .pluck_index(0)
            .unwrap()
            .compute()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(firsts, [10, 20, 30]);
        assert_eq!(
            a.pluck_str("s").unwrap().compute().unwrap(),
            ["a", "b", "c"]
        );

        let b = Bag::from_sequence(serde.clone(), n).unwrap();
        let seconds = b
            .pluck("k")
            .unwrap()
            .pluck_index(1)
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(seconds, [serde_json::json!("x"), "y".into(), "z".into()]);
        assert_eq!(
            b.pluck_str("s").unwrap().compute().unwrap(),
            ["a", "b", "c"]
        );
    }
    let short = Bag::from_sequence(sonic, 2).unwrap().pluck("k").unwrap();
    let msg = short
        .pluck_index(2)
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    // Every partition fails; whichever runs first is reported.
    assert!(
        ["[10,\"x\"]", "[20,\"y\"]", "[30,\"z\"]"]
            .iter()
            .any(|item| msg.starts_with(&format!("pluck: no index 2 in {item}"))),
        "{msg}"
    );
}

#[test]
fn json_partitions_travel_as_text_and_hostile_bytes_are_errors() {
    use brisk_collections::bag::Partition;
    use brisk_core::value::{decode, Data, Encoded};
    let items: Vec<Json> = [r#"{"a": [1, 2.5, "x"], "b": null}"#, "[]", r#""s""#]
        .iter()
        .map(|t| Json::parse(t.as_bytes()).unwrap())
        .collect();
    let encoded = Partition(items.clone()).encode().unwrap();
    assert_eq!(encoded.type_tag, "bag<json>");
    let back = decode(encoded).unwrap();
    let back = back.as_any().downcast_ref::<Partition<Json>>().unwrap();
    assert_eq!(back.0, items);

    // A record must arrive as JSON text: raw bytes (of any length) or malformed text
    // are decode errors, never a value built from the bytes.
    let hostile = |frame: Vec<u8>| Encoded {
        type_tag: "bag<json>".into(),
        header: vec![],
        frames: vec![frame],
    };
    let mut bin = vec![0x91, 0xc4, 24];
    bin.extend_from_slice(&[0xff; 24]);
    let mut bad_text = vec![0x91, 0xa5];
    bad_text.extend_from_slice(b"{\"a\":");
    for frame in [bin, bad_text] {
        let err = decode(hostile(frame)).unwrap_err().to_string();
        assert!(
            err.contains("cannot decode a value of type 'bag<json>'"),
            "{err}"
        );
    }
}
