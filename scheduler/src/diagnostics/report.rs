//! Performance reports (Dask's `performance_report`): one self-contained HTML
//! file of what a block of work did — the task stream, compute time per task
//! prefix, transfers, and memory over time — on the local scheduler and on
//! every cluster a client of this process is connected to.

use crate::distributed::observe::{MemorySeries, StreamEntry};
use brisk_core::{Error, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// A cluster a report can ask what it did (a client's connection).
pub trait ReportSource: Send + Sync {
    /// The newest task-stream record and the scheduler's clock now.
    fn mark(&self) -> Option<(u64, f64)>;
    /// What happened since a mark: `{stream, memory, workers, time}` as the
    /// scheduler answers `DiagnosticsQuery::Report`.
    fn collect(&self, since: u64, time: f64) -> Option<Json>;
}

static SOURCES: Mutex<Vec<Weak<dyn ReportSource>>> = Mutex::new(Vec::new());

/// Lets reports ask `source` (clients call it when they connect).
pub fn register_source(source: Weak<dyn ReportSource>) {
    let mut s = SOURCES.lock().unwrap_or_else(|p| p.into_inner());
    s.retain(|w| w.strong_count() > 0);
    s.push(source);
}

/// One task run by the local scheduler during a report.
struct LocalTask {
    thread: u32,
    key: String,
    prefix: String,
    start: Instant,
    stop: Instant,
}

#[derive(Default)]
struct Recording {
    tasks: Vec<LocalTask>,
}

/// Recordings running now (a fast check for the local scheduler).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
static RECORDINGS: Mutex<Vec<Arc<Mutex<Recording>>>> = Mutex::new(Vec::new());

/// Whether a report is recording (the local scheduler times its tasks then).
pub fn recording() -> bool {
    ACTIVE.load(Ordering::Relaxed) > 0
}

/// The local scheduler ran `key` on its thread `thread` from `start` to `stop`.
pub fn record_local_task(thread: u32, key: &brisk_core::Key, start: Instant, stop: Instant) {
    let all = RECORDINGS.lock().unwrap_or_else(|p| p.into_inner());
    for r in all.iter() {
        r.lock()
            .unwrap_or_else(|p| p.into_inner())
            .tasks
            .push(LocalTask {
                thread,
                key: key.to_string(),
                prefix: key.prefix().to_string(),
                start,
                stop,
            });
    }
}

/// Runs `f` and writes a performance report of what it computed to `path`: a
/// single HTML file with everything inline (it opens without a server). Work
/// on the local scheduler and on every cluster this process has a client of
/// is included. `f`'s result is returned once the report is written.
///
/// ```no_run
/// use brisk_scheduler::diagnostics::performance_report;
/// let total = performance_report("report.html", || (0..10).sum::<i32>())?;
/// # Ok::<(), brisk_core::Error>(())
/// ```
pub fn performance_report<R>(path: impl AsRef<Path>, f: impl FnOnce() -> R) -> Result<R> {
    let path = path.as_ref();
    let sources: Vec<Arc<dyn ReportSource>> = SOURCES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    let marks: Vec<Option<(u64, f64)>> = sources.iter().map(|s| s.mark()).collect();
    let recording = Arc::new(Mutex::new(Recording::default()));
    RECORDINGS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(recording.clone());
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    let start = Instant::now();
    let sampler = MemorySampler::start(start);
    let result = f();
    let duration = start.elapsed().as_secs_f64();
    let local_memory = sampler.stop();
    ACTIVE.fetch_sub(1, Ordering::SeqCst);
    RECORDINGS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|r| !Arc::ptr_eq(r, &recording));
    let local = std::mem::take(&mut recording.lock().unwrap_or_else(|p| p.into_inner()).tasks);

    let mut stream: Vec<StreamEntry> = local
        .into_iter()
        .enumerate()
        .map(|(i, t)| StreamEntry {
            seq: i as u64 + 1,
            worker: "local".into(),
            thread: t.thread,
            key: t.key,
            prefix: t.prefix,
            start: t.start.duration_since(start).as_secs_f64(),
            stop: t.stop.duration_since(start).as_secs_f64(),
            kind: "compute".into(),
            nbytes: 0,
        })
        .collect();
    let mut memory = Vec::new();
    if !stream.is_empty() {
        memory.push(local_memory);
    }
    let mut workers = Vec::new();
    for (source, mark) in sources.iter().zip(marks) {
        let Some((since, t0)) = mark else { continue };
        let Some(data) = source.collect(since, t0) else {
            continue;
        };
        let shift = |t: f64| t - t0;
        if let Ok(mut s) = serde_json::from_value::<Vec<StreamEntry>>(data["stream"].clone()) {
            for r in &mut s {
                r.start = shift(r.start);
                r.stop = shift(r.stop);
            }
            stream.extend(s);
        }
        if let Ok(mut m) = serde_json::from_value::<Vec<MemorySeries>>(data["memory"].clone()) {
            for series in &mut m {
                for sample in &mut series.samples {
                    sample[0] = shift(sample[0]);
                }
            }
            memory.extend(m);
        }
        if let Some(w) = data["workers"].as_array() {
            workers.extend(w.iter().map(|w| {
                json!({"address": w["address"], "nthreads": w["nthreads"], "memory_limit": w["memory_limit"]})
            }));
        }
    }
    let data = report_data(&stream, memory, workers, duration);
    write_report(path, &data)?;
    Ok(result)
}

/// The report's data: records, compute time per prefix, transfer totals.
fn report_data(
    stream: &[StreamEntry],
    memory: Vec<MemorySeries>,
    workers: Vec<Json>,
    duration: f64,
) -> Json {
    let mut groups: BTreeMap<&str, (u64, f64, u64)> = BTreeMap::new();
    let (mut transfers, mut transfer_bytes, mut transfer_seconds) = (0u64, 0u64, 0.0f64);
    for r in stream {
        if r.kind == "compute" {
            let g = groups.entry(&r.prefix).or_default();
            g.0 += 1;
            g.1 += (r.stop - r.start).max(0.0);
            g.2 += r.nbytes;
        } else if r.kind == "transfer" {
            transfers += 1;
            transfer_bytes += r.nbytes;
            transfer_seconds += (r.stop - r.start).max(0.0);
        }
    }
    json!({
        "title": "Brisk performance report",
        "duration": duration,
        "start": 0.0,
        "stream": stream,
        "groups": groups.into_iter().map(|(p, (count, secs, nbytes))| json!({
            "prefix": p, "count": count, "duration": secs, "nbytes": nbytes,
        })).collect::<Vec<_>>(),
        "transfers": {"count": transfers, "bytes": transfer_bytes, "seconds": transfer_seconds},
        "workers": workers,
        "memory": memory,
    })
}

/// Writes the report's HTML with `data` inline.
fn write_report(path: &Path, data: &Json) -> Result<()> {
    // Inside a <script>, "</" could end it early.
    let text = serde_json::to_string(data)
        .map_err(|e| Error::Other(format!("the report's data: {e}")))?
        .replace("</", "<\\/");
    let html = crate::distributed::dashboard::report_page(&text);
    std::fs::write(path, html).map_err(|e| {
        Error::Other(format!(
            "cannot write the performance report to {}: {e}",
            path.display()
        ))
    })
}

/// Samples this process's memory every 100 ms while a report records.
struct MemorySampler {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Vec<[f64; 4]>>,
}

impl MemorySampler {
    fn start(start: Instant) -> MemorySampler {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            loop {
                let rss = crate::distributed::worker_memory::process_memory() as f64;
                samples.push([start.elapsed().as_secs_f64(), 0.0, rss, 0.0]);
                match stopped.recv_timeout(Duration::from_millis(100)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => return samples,
                }
            }
        });
        MemorySampler { stop, thread }
    }

    fn stop(self) -> MemorySeries {
        let _ = self.stop.send(());
        MemorySeries {
            worker: "local".into(),
            samples: self.thread.join().unwrap_or_default(),
        }
    }
}
