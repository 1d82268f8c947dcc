//! A real S3-compatible server for tests: `moto_server` on 127.0.0.1, started on a
//! free port and stopped when dropped. Shared by the S3 tests of several crates.
//!
//! `scripts/test.sh` installs moto and sets `BRISK_REQUIRE_S3=1`, so there a missing
//! server fails the test; elsewhere the test is skipped with a message.

#![allow(dead_code)]

use brisk_io::url::StoreOptions;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub port: u16,
    /// Where the server records requests once recording is started.
    recording: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.recording);
    }
}

impl Moto {
    /// Starts recording requests (moto's recorder), forgetting earlier ones.
    pub fn start_recording(&self) {
        let _ = std::fs::remove_file(&self.recording);
        assert_eq!(
            http(self.port, "POST", "/moto-api/recorder/start-recording").unwrap(),
            200
        );
    }

    /// The method and URL of every request since recording started.
    pub fn recorded(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .map(|line| {
                let field = |name: &str| {
                    let tag = format!("\"{name}\": \"");
                    let from = line.find(&tag).map(|i| i + tag.len()).unwrap_or(line.len());
                    let rest = &line[from..];
                    rest[..rest.find('"').unwrap_or(rest.len())].to_string()
                };
                (field("method"), field("url"))
            })
            .collect()
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BRISK_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let venv = std::env::var_os("BRISK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/brisk/venv")
        })
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
pub fn http(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
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

pub fn start_moto() -> Option<Moto> {
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
    let recording = std::env::temp_dir().join(format!("brisk-moto-{port}.jsonl"));
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_RECORDER_FILEPATH", &recording)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let moto = Moto {
        child,
        port,
        recording,
    };
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

pub fn options(port: u16) -> StoreOptions {
    StoreOptions {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: Some("us-east-1".into()),
        allow_http: true,
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
    }
}
