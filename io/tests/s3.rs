//! S3 for real: a `moto_server` (a real S3-compatible HTTP server) on 127.0.0.1,
//! files uploaded to it, and the same reads as from local disk through `s3://`.

#[path = "support/moto.rs"]
mod moto;

use brisk_io::compression::Compression;
use brisk_io::url::{parse, StoreOptions};
use brisk_io::{blocks, glob, objects, runtime::block_on, Error};
use moto::{http, options, start_moto};
use object_store::{ObjectStoreExt, PutPayload};

#[test]
fn s3_reads_match_local_reads() {
    let Some(moto) = start_moto() else { return };
    assert_eq!(
        http(moto.port, "PUT", "/events").unwrap(),
        200,
        "bucket created"
    );
    let opts = options(moto.port);

    // The same files on local disk and in the bucket.
    let dir = std::env::temp_dir().join(format!("brisk-s3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let loc = parse("s3://events/", &opts).unwrap();
    for hour in 0..3 {
        let text: String = (0..500)
            .map(|i| format!("{{\"hour\": {hour}, \"i\": {i}}}\n"))
            .collect();
        let name = format!("2015-01-01-{hour}.json.gz");
        let gz = Compression::Gzip.compress(text.as_bytes()).unwrap();
        std::fs::write(dir.join(&name), &gz).unwrap();
        block_on(loc.store.put(
            &loc.object_path(&format!("data/{name}")).unwrap(),
            PutPayload::from(gz),
        ))
        .unwrap();
    }
    let plain: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(dir.join("plain.txt"), &plain).unwrap();
    block_on(loc.store.put(
        &loc.object_path("data/plain.txt").unwrap(),
        PutPayload::from(plain.clone().into_bytes()),
    ))
    .unwrap();

    let read_all = |url: &str, blocksize: Option<u64>, opts: &StoreOptions| -> Vec<Vec<u8>> {
        let (loc, files) = glob::expand(url, opts).unwrap();
        blocks::plan(&files, blocksize, None)
            .iter()
            .map(|b| blocks::read(loc.store.as_ref(), b, b"\n").unwrap())
            .collect()
    };
    let local = read_all(
        &format!("{}/*.json.gz", dir.display()),
        None,
        &StoreOptions::default(),
    );
    let remote = read_all("s3://events/data/*.json.gz", None, &opts);
    assert_eq!(local.len(), 3);
    assert_eq!(remote, local);

    // Byte blocks through ranged GETs.
    let remote_blocks = read_all("s3://events/data/plain.txt", Some(1000), &opts);
    assert!(remote_blocks.len() > 10);
    assert_eq!(remote_blocks.concat(), plain.as_bytes());
    assert_eq!(
        remote_blocks,
        read_all(
            &format!("{}/plain.txt", dir.display()),
            Some(1000),
            &StoreOptions::default()
        )
    );

    // File identities carry the S3 entity tag.
    let (_, files) = glob::expand("s3://events/data/*.json.gz", &opts).unwrap();
    assert_eq!(files[0].url, "s3://events/data/2015-01-01-0.json.gz");
    assert!(files.iter().all(|f| f.e_tag.is_some()));

    // Missing objects and buckets are errors naming the URL.
    let err = glob::expand("s3://events/data/nope.json.gz", &opts).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
    assert_eq!(err.to_string(), "not found: s3://events/data/nope.json.gz");
    let err = glob::expand("s3://events/data/*.parquet", &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no files match 's3://events/data/*.parquet'"
    );
    let err = glob::expand("s3://no-such-bucket/data/*.json.gz", &opts).unwrap_err();
    assert!(
        err.to_string()
            .contains("s3://no-such-bucket/data/*.json.gz"),
        "{err}"
    );

    // Whole objects by URL: put, get back, and a missing object named in the error.
    let url = objects::put("s3://events/out/a.bin", vec![1, 2, 3], &opts).unwrap();
    assert_eq!(url, "s3://events/out/a.bin");
    assert_eq!(objects::get(&url, &opts).unwrap(), [1, 2, 3]);
    let err = objects::get("s3://events/out/b.bin", &opts).unwrap_err();
    assert_eq!(err.to_string(), "not found: s3://events/out/b.bin");
    let err = objects::put("s3://no-such-bucket/a.bin", vec![1], &opts).unwrap_err();
    assert!(
        err.to_string().contains("s3://no-such-bucket/a.bin"),
        "{err}"
    );

    std::fs::remove_dir_all(&dir).unwrap();
}
