//! The dashboard's copy of the cluster's status: refreshed from the scheduler
//! at most every [`REFRESH`](super::REFRESH), shared by every request and live
//! stream, with the recent task-stream records each reader takes its new ones
//! from.

use crate::distributed::messages::DiagnosticsQuery;
use crate::distributed::observe::{Answer, Ask, AskFn, StatusSnapshot, StreamEntry};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Task-stream records the mirror keeps.
pub const MIRROR_RECORDS: usize = 20_000;

/// Records one answer carries at most.
pub const RECORDS_PER_ANSWER: usize = 5_000;

struct Held {
    /// The last status, without its records.
    status: Arc<StatusSnapshot>,
    records: VecDeque<StreamEntry>,
    fetched: Option<Instant>,
}

/// The shared copy.
pub struct Mirror {
    ask: AskFn,
    held: Mutex<Held>,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
}

impl Mirror {
    /// A mirror that asks through `ask`.
    pub fn new(ask: AskFn) -> Mirror {
        Mirror {
            ask,
            held: Mutex::new(Held {
                status: Arc::new(StatusSnapshot::default()),
                records: VecDeque::new(),
                fetched: None,
            }),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the scheduler anything.
    pub async fn ask(&self, query: DiagnosticsQuery) -> Answer {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if !(self.ask)(Ask { query, reply: tx }) {
            return Answer::Error("the scheduler is shutting down".into());
        }
        rx.await
            .unwrap_or_else(|_| Answer::Error("the scheduler did not answer".into()))
    }

    /// Refreshes the copy unless it is younger than the refresh period.
    pub async fn refresh(&self) {
        let _one = self.refreshing.lock().await;
        let since = {
            let h = self.held();
            if h.fetched.is_some_and(|t| t.elapsed() < super::REFRESH) {
                return;
            }
            h.status.stream_seq
        };
        if let Answer::Status(mut s) = self.ask(DiagnosticsQuery::Status { since }).await {
            let records = std::mem::take(&mut s.stream);
            let mut h = self.held();
            for r in records {
                if h.records.len() == MIRROR_RECORDS {
                    h.records.pop_front();
                }
                h.records.push_back(r);
            }
            h.status = Arc::from(s);
            h.fetched = Some(Instant::now());
        }
    }

    /// The status (refreshed if old) with the records after `since`.
    pub async fn status(&self, since: u64) -> StatusSnapshot {
        self.refresh().await;
        let h = self.held();
        let mut s = (*h.status).clone();
        let newer = h.records.iter().rev().take_while(|r| r.seq > since).count();
        let take = newer.min(RECORDS_PER_ANSWER);
        s.stream = h
            .records
            .iter()
            .skip(h.records.len() - take)
            .cloned()
            .collect();
        s
    }
}
