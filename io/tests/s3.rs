//! S3 for real: a `moto_server` (a real S3-compatible HTTP server) on 127.0.0.1,
//! files uploaded to it, and the same reads as from local disk through `s3://`.
//!
//! `scripts/test.sh` installs moto and sets `BRISK_REQUIRE_S3=1`, so there a missing
//! server fails the test; elsewhere it is skipped with a message.

use brisk_io::compression::Compression;
use brisk_io::url::{parse, StoreOptions};
use brisk_io::{blocks, glob, runtime::block_on, Error};
use object_store::{ObjectStoreExt, PutPayload};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BRISK_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from(
        std::env::var_os("BRISK_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/brisk/venv")
            }),
    )
    .join("bin/moto_server");
    if venv.exists() {
        return Some(venv);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join("moto_server"))
        .find(|p| p.exists())
}

/// One HTTP/1.1 request; returns the status code.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    let code = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok(code)
}

fn start_moto() -> Option<Moto> {
    let Some(bin) = moto_binary() else {
        assert!(
            std::env::var_os("BRISK_REQUIRE_S3").is_none(),
            "moto_server is not installed; run scripts/test.sh"
        );
        eprintln!(
            "skipping the S3 tests: moto_server is not installed (scripts/test.sh installs it)"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let moto = Moto { child, port };
    // Ready when it answers an HTTP request (bounded: 60 s).
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", "/").is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(moto)
}

fn options(port: u16) -> StoreOptions {
    StoreOptions {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: Some("us-east-1".into()),
        allow_http: true,
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
    }
}

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

    std::fs::remove_dir_all(&dir).unwrap();
}
