//! Byte blocks, compression and globbing on local files.

use brisk_io::compression::Compression;
use brisk_io::url::StoreOptions;
use brisk_io::{blocks, glob, Error};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn tempdir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("brisk-io-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Reads a file back through blocks of `blocksize`: each block's bytes.
fn read_blocks(path: &Path, blocksize: u64, delimiter: &[u8]) -> Vec<Vec<u8>> {
    let (loc, files) = glob::expand(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
    blocks::plan(&files, Some(blocksize), None)
        .iter()
        .map(|b| blocks::read(loc.store.as_ref(), b, delimiter).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Lines of random lengths (including longer than a block), with or without a
    /// final newline, read back through random block sizes: the blocks concatenate
    /// to the file and every non-final block ends on a delimiter.
    #[test]
    fn every_record_is_read_exactly_once(
        lines in prop::collection::vec("[a-z0-9 ]{0,120}", 1..60),
        final_newline in any::<bool>(),
        blocksize in 1u64..300,
    ) {
        let mut text = lines.join("\n");
        if final_newline {
            text.push('\n');
        }
        let dir = tempdir("prop");
        let path = dir.join("data.txt");
        std::fs::write(&path, &text).unwrap();
        let got = read_blocks(&path, blocksize, b"\n");
        prop_assert_eq!(got.concat(), text.as_bytes().to_vec());
        let last_non_empty = got.iter().rposition(|b| !b.is_empty());
        for (i, b) in got.iter().enumerate() {
            if !b.is_empty() && Some(i) != last_non_empty {
                prop_assert_eq!(*b.last().unwrap(), b'\n', "block {} ends mid-record", i);
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A local file read into a kept buffer gives the same bytes as the store read,
    /// block by block, whatever was in the buffer before.
    #[test]
    fn local_reads_into_a_kept_buffer_equal_store_reads(
        lines in prop::collection::vec("[a-z0-9 ]{0,120}", 1..60),
        final_newline in any::<bool>(),
        blocksize in 1u64..300,
        two_byte in any::<bool>(),
    ) {
        let delimiter: &[u8] = if two_byte { b"\r\n" } else { b"\n" };
        let mut text = lines.join(std::str::from_utf8(delimiter).unwrap());
        if final_newline {
            text.push_str(std::str::from_utf8(delimiter).unwrap());
        }
        let dir = tempdir("local");
        let path = dir.join("data.txt");
        std::fs::write(&path, &text).unwrap();
        let (loc, files) = glob::expand(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
        let mut buf = b"left over from an earlier block".to_vec();
        for b in blocks::plan(&files, Some(blocksize), None) {
            let want = blocks::read(loc.store.as_ref(), &b, delimiter).unwrap();
            let length = b.length.unwrap_or(files[0].size);
            let range = blocks::read_local_aligned(&path, &files[0], b.offset, length, delimiter, &mut buf).unwrap();
            prop_assert_eq!(&buf[range], &want[..], "block at {}", b.offset);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Two-byte delimiters that straddle a cut or a read-ahead chunk are found.
    #[test]
    fn multi_byte_delimiters_straddling_cuts_are_found(
        records in prop::collection::vec("[a-c]{0,40}", 1..30),
        blocksize in 1u64..64,
    ) {
        let text = records.join("\r\n");
        let dir = tempdir("crlf");
        let path = dir.join("data.txt");
        std::fs::write(&path, &text).unwrap();
        let got = read_blocks(&path, blocksize, b"\r\n");
        prop_assert_eq!(got.concat(), text.as_bytes().to_vec());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_record_longer_than_a_block_stays_whole() {
    // Longer than the 64 KiB read-ahead too.
    let long = "x".repeat(200_000);
    let text = format!("a\n{long}\nb\nc");
    let dir = tempdir("long");
    let path = dir.join("data.txt");
    std::fs::write(&path, &text).unwrap();
    let got = read_blocks(&path, 100, b"\n");
    let non_empty: Vec<String> = got
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| String::from_utf8(b.clone()).unwrap())
        .collect();
    assert_eq!(non_empty.concat(), text);
    assert!(
        non_empty.iter().any(|b| b.contains(&long)),
        "the long record is in one block"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_file_is_one_empty_block() {
    let dir = tempdir("empty");
    let path = dir.join("empty.txt");
    std::fs::write(&path, "").unwrap();
    assert_eq!(read_blocks(&path, 10, b"\n"), vec![Vec::<u8>::new()]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compressed_files_are_one_block_and_decompress() {
    let dir = tempdir("comp");
    let text = (0..1000)
        .map(|i| format!("{{\"id\": {i}}}\n"))
        .collect::<String>();
    for (name, c) in [
        ("a.json.gz", Compression::Gzip),
        ("a.json.zst", Compression::Zstd),
        ("a.json.bz2", Compression::Bz2),
    ] {
        std::fs::write(dir.join(name), c.compress(text.as_bytes()).unwrap()).unwrap();
        let got = read_blocks(&dir.join(name), 64, b"\n");
        assert_eq!(got.len(), 1, "{name}");
        assert_eq!(got[0], text.as_bytes(), "{name}");
    }
    // An explicit compression overrides the extension.
    std::fs::write(
        dir.join("gz-data.bin"),
        Compression::Gzip.compress(text.as_bytes()).unwrap(),
    )
    .unwrap();
    let (loc, files) = glob::expand(
        dir.join("gz-data.bin").to_str().unwrap(),
        &StoreOptions::default(),
    )
    .unwrap();
    let plan = blocks::plan(&files, Some(64), Some(Compression::Gzip));
    assert_eq!(plan.len(), 1);
    assert_eq!(
        blocks::read(loc.store.as_ref(), &plan[0], b"\n").unwrap(),
        text.as_bytes()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_gzip_file_is_an_error_naming_it() {
    let dir = tempdir("trunc");
    let text = (0..5000).map(|i| format!("line {i}\n")).collect::<String>();
    let mut gz = Compression::Gzip.compress(text.as_bytes()).unwrap();
    gz.truncate(gz.len() / 2);
    let path = dir.join("broken.json.gz");
    std::fs::write(&path, gz).unwrap();
    let (loc, files) = glob::expand(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
    let plan = blocks::plan(&files, None, None);
    let err = blocks::read(loc.store.as_ref(), &plan[0], b"\n").unwrap_err();
    assert!(matches!(err, Error::Decompress { .. }));
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("cannot decompress {} (gzip): ", path.display())),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn globs_expand_sorted_and_an_empty_match_names_the_pattern() {
    let dir = tempdir("glob");
    for name in [
        "2015-01-01-10.json.gz",
        "2015-01-01-2.json.gz",
        "2015-01-02-0.json.gz",
        "notes.txt",
        "sub/2015-01-03-0.json.gz",
    ] {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }
    let opts = StoreOptions::default();
    let base = format!("{}/", dir.display());
    let names = |pattern: &str| -> Vec<String> {
        let (_, files) = glob::expand(&format!("{base}{pattern}"), &opts).unwrap();
        files
            .iter()
            .map(|f| f.url.strip_prefix(&base).unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("2015-01-01-*.json.gz"),
        ["2015-01-01-10.json.gz", "2015-01-01-2.json.gz"]
    );
    assert_eq!(names("2015-01-0[2-3]-?.json.gz"), ["2015-01-02-0.json.gz"]);
    assert_eq!(
        names("**/*.json.gz"),
        [
            "2015-01-01-10.json.gz",
            "2015-01-01-2.json.gz",
            "2015-01-02-0.json.gz",
            "sub/2015-01-03-0.json.gz"
        ]
    );
    assert_eq!(names("*.txt"), ["notes.txt"]);
    let pattern = format!("{base}*.parquet");
    let err = glob::expand(&pattern, &opts).unwrap_err();
    assert_eq!(err.to_string(), format!("no files match '{pattern}'"));
    let missing = format!("{base}nope.json");
    assert_eq!(
        glob::expand(&missing, &opts).unwrap_err().to_string(),
        format!("not found: {missing}")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn relative_paths_and_file_urls_name_the_same_files() {
    let dir = tempdir("rel");
    std::fs::write(dir.join("a.txt"), "a\n").unwrap();
    let (_, by_path) = glob::expand(
        dir.join("a.txt").to_str().unwrap(),
        &StoreOptions::default(),
    )
    .unwrap();
    let (_, by_url) = glob::expand(
        &format!("file://{}", dir.join("a.txt").display()),
        &StoreOptions::default(),
    )
    .unwrap();
    assert_eq!(by_path, by_url);
    assert_eq!(by_path[0].url, dir.join("a.txt").display().to_string());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn relative_paths_resolve_dot_and_dot_dot() {
    let dir = tempdir("dots");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("a.txt"), "a\n").unwrap();
    let url = format!("{}/sub/../sub/./../a.txt", dir.display());
    let (_, files) = glob::expand(&url, &StoreOptions::default()).unwrap();
    assert_eq!(files[0].url, dir.join("a.txt").display().to_string());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn globs_match_characters_not_bytes() {
    let dir = tempdir("utf8");
    std::fs::write(dir.join("café.txt"), "x\n").unwrap();
    let (_, files) = glob::expand(
        &format!("{}/caf?.txt", dir.display()),
        &StoreOptions::default(),
    )
    .unwrap();
    assert_eq!(files.len(), 1);
    let (_, files) = glob::expand(
        &format!("{}/caf[éè].txt", dir.display()),
        &StoreOptions::default(),
    )
    .unwrap();
    assert_eq!(files.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file cut short after it was listed is an error naming it, not a short block.
#[test]
fn a_local_file_cut_short_after_listing_is_an_error() {
    let dir = tempdir("cut");
    let path = dir.join("data.txt");
    std::fs::write(&path, "one\ntwo\nthree\nfour\n").unwrap();
    let (_, files) = glob::expand(path.to_str().unwrap(), &StoreOptions::default()).unwrap();
    std::fs::write(&path, "one\ntw").unwrap();
    let mut buf = Vec::new();
    let err = blocks::read_local_aligned(&path, &files[0], 0, 12, b"\n", &mut buf).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("data.txt"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}
