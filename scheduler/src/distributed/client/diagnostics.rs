//! What a client can ask about the cluster (Dask's `Client.story`,
//! `get_worker_logs`, `dump_cluster_state`): answered by the scheduler, which
//! asks its workers where needed.

use super::command::Cmd;
use super::future::{err, Shared};
use super::Client;
use crate::diagnostics::report::ReportSource;
use crate::distributed::messages::DiagnosticsQuery;
use crate::distributed::observe::{StatusSnapshot, StoryEntry, WorkerLogs};
use brisk_core::{Error, Key, Result};
use std::collections::BTreeMap;
use std::path::Path;
use tokio::sync::oneshot;

/// Asks the scheduler through a client's connection.
fn ask(shared: &Shared, query: DiagnosticsQuery) -> Result<String> {
    let (tx, rx) = oneshot::channel();
    shared.send(Cmd::Diagnostics { query, reply: tx })?;
    rx.blocking_recv()
        .map_err(|_| err("the connection to the scheduler was lost"))?
}

impl ReportSource for Shared {
    fn mark(&self) -> Option<(u64, f64)> {
        let text = ask(self, DiagnosticsQuery::Status { since: u64::MAX }).ok()?;
        let s: StatusSnapshot = serde_json::from_str(&text).ok()?;
        Some((s.stream_seq, s.time))
    }

    fn collect(&self, since: u64, time: f64) -> Option<serde_json::Value> {
        let text = ask(self, DiagnosticsQuery::Report { since, time }).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// A terminal progress bar for one computation through a client: the tasks
/// of each prefix in the graph against the scheduler's count of that
/// prefix's finished tasks, asked five times a second.
pub(super) struct ClientProgress {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ClientProgress {
    /// A bar for `graph`'s `keys`, when bars are shown now.
    pub(super) fn start(
        shared: &std::sync::Arc<Shared>,
        graph: &brisk_core::graph::Graph,
        keys: &[Key],
    ) -> Option<ClientProgress> {
        if !crate::diagnostics::progress::enabled() {
            return None;
        }
        let tg = graph.lower(keys).ok()?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for k in tg.keys() {
            *counts.entry(k.prefix().to_string()).or_default() += 1;
        }
        let finished = |shared: &Shared| -> Option<BTreeMap<String, u64>> {
            let text = ask(shared, DiagnosticsQuery::Status { since: u64::MAX }).ok()?;
            let s: StatusSnapshot = serde_json::from_str(&text).ok()?;
            Some(s.groups.into_iter().map(|g| (g.prefix, g.finished)).collect())
        };
        let baseline = finished(shared).unwrap_or_default();
        let bar = crate::diagnostics::progress::bar(tg.len() as u64, "")?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let shared = std::sync::Arc::downgrade(shared);
        let thread = std::thread::spawn(move || loop {
            let done = stopped.recv_timeout(std::time::Duration::from_millis(200));
            let Some(shared) = shared.upgrade() else { return };
            if let Some(now) = finished(&shared) {
                let position: u64 = counts
                    .iter()
                    .map(|(p, n)| {
                        let before = baseline.get(p).copied().unwrap_or(0);
                        now.get(p).copied().unwrap_or(0).saturating_sub(before).min(*n)
                    })
                    .sum();
                bar.set_position(position);
            }
            if !matches!(done, Err(std::sync::mpsc::RecvTimeoutError::Timeout)) {
                // Tasks already in memory were not run again: the work is done.
                bar.set_position(bar.length().unwrap_or(0));
                bar.finish();
                return;
            }
        });
        Some(ClientProgress {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ClientProgress {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Client {
    fn diagnostics(&self, query: DiagnosticsQuery) -> Result<String> {
        ask(&self.shared, query)
    }

    fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| err(format!("the scheduler's answer: {e}")))
    }

    /// The story of `keys`: the scheduler's transitions and every worker's,
    /// joined by the stimulus that caused them (grouped by key; within a key,
    /// the scheduler's line for a stimulus first, then the workers' lines).
    pub fn story(&self, keys: &[Key]) -> Result<Vec<StoryEntry>> {
        let text = self.diagnostics(DiagnosticsQuery::Story {
            keys: keys.to_vec(),
        })?;
        Self::parse(&text)
    }

    /// Each connected worker's recent log lines (its last 1,000), by address.
    pub fn get_worker_logs(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let text = self.diagnostics(DiagnosticsQuery::WorkerLogs)?;
        let logs: Vec<WorkerLogs> = Self::parse(&text)?;
        Ok(logs.into_iter().map(|w| (w.address, w.lines)).collect())
    }

    /// The scheduler process's recent log lines (when its logger is Brisk's).
    pub fn get_scheduler_logs(&self) -> Result<Vec<String>> {
        let text = self.diagnostics(DiagnosticsQuery::SchedulerLogs)?;
        Self::parse(&text)
    }

    /// The cluster now: task groups, workers and the task-stream records
    /// after `since` (what the dashboard shows).
    pub fn cluster_status(&self, since: u64) -> Result<StatusSnapshot> {
        let text = self.diagnostics(DiagnosticsQuery::Status { since })?;
        Self::parse(&text)
    }

    /// The task-stream records after `since`, the task groups, the workers and
    /// their memory samples after scheduler time `time`, as JSON (what a
    /// performance report is made of).
    pub fn report_data(&self, since: u64, time: f64) -> Result<serde_json::Value> {
        let text = self.diagnostics(DiagnosticsQuery::Report { since, time })?;
        Self::parse(&text)
    }

    /// Writes the whole cluster's state as JSON to `path`, for a bug report
    /// (Dask's `dump_cluster_state`): the scheduler's tasks with their states,
    /// holders and stories, its workers, task groups and logs, and each
    /// worker's own view (its tasks, memory and logs). A worker that does not
    /// answer within a few seconds is left out.
    pub fn dump_cluster_state(&self, path: impl AsRef<Path>) -> Result<()> {
        let text = self.diagnostics(DiagnosticsQuery::ClusterState)?;
        let path = path.as_ref();
        std::fs::write(path, text).map_err(|e| {
            Error::Other(format!("cannot write the cluster state to {}: {e}", path.display()))
        })
    }
}
