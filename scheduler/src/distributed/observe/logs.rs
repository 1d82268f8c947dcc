//! Logs: `tracing` to standard error, filtered by `BRISK_LOG` (or a
//! command line's `--log-level`), and the process's recent lines kept in a ring
//! that workers send to the scheduler with their heartbeats (Dask's
//! `Client.get_worker_logs`).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The environment variable that sets the log filter (`info`,
/// `brisk=debug,warn`: `tracing`'s filter syntax).
pub const LOG_ENV: &str = "BRISK_LOG";

/// Lines a process keeps.
pub const RECENT_LINES: usize = 1000;

struct Ring {
    lines: VecDeque<String>,
    /// Lines ever kept (the number of the next one).
    total: u64,
}

static RING: Mutex<Ring> = Mutex::new(Ring {
    lines: VecDeque::new(),
    total: 0,
});

fn ring() -> std::sync::MutexGuard<'static, Ring> {
    RING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps a line in the ring (the log layer calls it; so may anyone).
pub fn keep_line(line: &str) {
    let line = line.trim_end();
    if line.is_empty() {
        return;
    }
    let mut r = ring();
    if r.lines.len() == RECENT_LINES {
        r.lines.pop_front();
    }
    r.lines.push_back(line.to_string());
    r.total += 1;
}

/// The lines kept after line number `since` (at most the newest `limit`), and
/// the number to ask from next time.
pub fn lines_since(since: u64, limit: usize) -> (Vec<String>, u64) {
    let r = ring();
    let first = r.total - r.lines.len() as u64;
    let skip = since.saturating_sub(first) as usize;
    let newer = r.lines.len().saturating_sub(skip);
    let lines = r
        .lines
        .iter()
        .skip(r.lines.len() - newer.min(limit))
        .cloned()
        .collect();
    (lines, r.total)
}

/// The writer of the ring layer: each formatted event becomes a line.
struct RingWriter(Vec<u8>);

impl Write for RingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RingWriter {
    fn drop(&mut self) {
        for line in String::from_utf8_lossy(&self.0).lines() {
            keep_line(line);
        }
    }
}

/// Installs the process's logger: formatted lines to standard error and to the
/// ring of recent lines, both filtered by `filter`, else by `BRISK_LOG`; else
/// standard error by `default` and the ring at `info`. Does nothing when a logger is installed already (a program's own
/// stays in charge); returns whether this one was installed.
///
/// ```
/// let installed = brisk_scheduler::distributed::observe::init_logging(None, "warn");
/// // A second call leaves the first logger in place.
/// assert!(!brisk_scheduler::distributed::observe::init_logging(None, "warn") || !installed);
/// ```
pub fn init_logging(filter: Option<&str>, default: &str) -> bool {
    let given = filter
        .map(str::to_string)
        .or_else(|| std::env::var(LOG_ENV).ok());
    let make = |fallback: &str| {
        given
            .as_deref()
            .and_then(|d| EnvFilter::try_new(d).ok())
            .unwrap_or_else(|| EnvFilter::new(fallback))
    };
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(make(default));
    let kept = fmt::layer()
        .with_ansi(false)
        .with_writer(|| RingWriter(Vec::new()))
        .with_filter(make("info"));
    tracing_subscriber::registry()
        .with(stderr)
        .with(kept)
        .try_init()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_hands_out_each_line_once_and_keeps_the_newest() {
        let (_, start) = lines_since(u64::MAX, 0);
        keep_line("one\n");
        keep_line("two");
        let (lines, next) = lines_since(start, 10);
        assert_eq!(lines, ["one", "two"]);
        let (lines, _) = lines_since(next, 10);
        assert!(lines.is_empty());
        let (lines, _) = lines_since(start, 1);
        assert_eq!(lines, ["two"], "a limit keeps the newest");
    }
}
