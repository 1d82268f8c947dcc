//! Bags read through `s3://` from a real S3-compatible server give the same answers
//! as from local disk.

#[path = "../../io/tests/support/moto.rs"]
mod moto;

use brisk_collections::bag::{read_json, read_text, ReadOptions};
use brisk_collections::datasets::github_events;
use brisk_io::runtime::block_on;
use brisk_io::url::parse;
use brisk_scheduler as _;
use object_store::{ObjectStoreExt, PutPayload};

#[test]
fn github_events_from_s3_match_local_disk() {
    let Some(server) = moto::start_moto() else {
        return;
    };
    assert_eq!(moto::http(server.port, "PUT", "/archive").unwrap(), 200);
    let store = moto::options(server.port);
    let dir = std::env::temp_dir().join(format!("brisk-bag-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let paths = github_events(3, 300, 11, &dir).unwrap();
    let loc = parse("s3://archive/", &store).unwrap();
    for p in &paths {
        let name = p.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(p).unwrap();
        block_on(loc.store.put(
            &loc.object_path(&format!("2015/{name}")).unwrap(),
            PutPayload::from(bytes),
        ))
        .unwrap();
    }
    let s3 = ReadOptions {
        store: store.clone(),
        ..Default::default()
    };
    let local = ReadOptions::default();
    let remote_events = read_json(&["s3://archive/2015/*.json.gz"], &s3).unwrap();
    let local_events = read_json(&[&format!("{}/*.json.gz", dir.display())], &local).unwrap();
    assert_eq!(remote_events.npartitions(), 3);
    assert_eq!(remote_events.count().unwrap().compute().unwrap(), 900);
    let types = |b: &brisk_collections::Bag<brisk_collections::bag::Json>| {
        b.pluck_str("type")
            .unwrap()
            .frequencies()
            .unwrap()
            .compute()
            .unwrap()
    };
    assert_eq!(types(&remote_events), types(&local_events));

    // Byte blocks of an uncompressed object through ranged reads.
    let text: String = (0..5000).map(|i| format!("row {i}\n")).collect();
    block_on(loc.store.put(
        &loc.object_path("plain/rows.txt").unwrap(),
        PutPayload::from(text.clone().into_bytes()),
    ))
    .unwrap();
    let opts = ReadOptions {
        blocksize: Some(4096),
        store,
        ..Default::default()
    };
    let rows = read_text(&["s3://archive/plain/rows.txt"], &opts).unwrap();
    assert!(rows.npartitions() > 5);
    assert_eq!(
        rows.compute().unwrap(),
        text.lines().map(str::to_string).collect::<Vec<_>>()
    );

    // A missing object is an error naming the URL.
    let err = read_json(&["s3://archive/2016/none.json.gz"], &s3).unwrap_err();
    assert_eq!(err.to_string(), "not found: s3://archive/2016/none.json.gz");
    std::fs::remove_dir_all(&dir).unwrap();
}
