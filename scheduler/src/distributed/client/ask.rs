//! Questions to the scheduler through a client's connection, for those who
//! hold only the connection: performance reports and progress bars.

use super::command::Cmd;
use super::future::{err, Shared};
use crate::diagnostics::report::ReportSource;
use crate::distributed::messages::DiagnosticsQuery;
use crate::distributed::observe::StatusSnapshot;
use brisk_core::{Key, Result};
use std::collections::BTreeMap;
use tokio::sync::oneshot;

/// Asks the scheduler through a client's connection.
pub(super) fn ask(shared: &Shared, query: DiagnosticsQuery) -> Result<String> {
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
            Some(
                s.groups
                    .into_iter()
                    .map(|g| (g.prefix, g.finished))
                    .collect(),
            )
        };
        let baseline = finished(shared).unwrap_or_default();
        let bar = crate::diagnostics::progress::bar(tg.len() as u64, "")?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let shared = std::sync::Arc::downgrade(shared);
        let thread = std::thread::spawn(move || loop {
            let done = stopped.recv_timeout(std::time::Duration::from_millis(200));
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if let Some(now) = finished(&shared) {
                let position: u64 = counts
                    .iter()
                    .map(|(p, n)| {
                        let before = baseline.get(p).copied().unwrap_or(0);
                        now.get(p)
                            .copied()
                            .unwrap_or(0)
                            .saturating_sub(before)
                            .min(*n)
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
