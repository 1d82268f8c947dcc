//! What a client can ask about the cluster (Dask's `Client.story`,
//! `get_worker_logs`, `dump_cluster_state`): answered by the scheduler, which
//! asks its workers where needed.

use super::ask::ask;
use super::future::err;
use super::Client;
use crate::distributed::messages::DiagnosticsQuery;
use crate::distributed::observe::{StatusSnapshot, StoryEntry, WorkerLogs};
use brisk_core::{Error, Key, Result};
use std::collections::BTreeMap;
use std::path::Path;

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
            Error::Other(format!(
                "cannot write the cluster state to {}: {e}",
                path.display()
            ))
        })
    }
}
