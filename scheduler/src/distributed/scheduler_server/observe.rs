//! The scheduler's answers to questions about the cluster (a client's
//! [`Msg::Diagnostics`], the dashboard's [`Ask`]): some from its own records at
//! once, some (stories, the cluster's state) gathered from every worker first.
//! A worker that does not answer within [`QUERY_TIMEOUT`] is left out.

use super::queries::{Gathering, Pending, Responder};
use super::{Core, Dest};
use crate::distributed::ids::WorkerId;
use crate::distributed::messages::{DiagnosticsQuery, Msg, WorkerQuery};
use crate::distributed::observe::{
    groups, join_stories, lines_since, Answer, StoryEntry, RECENT_LINES, STREAM_CAPACITY,
};
use brisk_core::Key;
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;

/// Seconds a worker has to answer a question.
pub const QUERY_TIMEOUT: f64 = 5.0;

/// Task-stream records an answer to a status question carries at most.
pub const STATUS_RECORDS: usize = 5000;

impl Core {
    /// Answers `query`, at once or once the workers have.
    pub(super) fn on_diagnostics(&mut self, query: DiagnosticsQuery, responder: Responder) {
        let now = self.now();
        let answer = match query {
            DiagnosticsQuery::Status { since } => {
                let status =
                    self.observe
                        .status(&self.state, self.infos(), since, STATUS_RECORDS, now);
                match responder {
                    Responder::Local(tx) => {
                        let _ = tx.send(Answer::Status(Box::new(status)));
                        return;
                    }
                    r => return self.respond(r, to_json(&status)),
                }
            }
            DiagnosticsQuery::WorkerLogs => to_json(&self.observe.logs(self.infos())),
            DiagnosticsQuery::SchedulerLogs => to_json(&lines_since(0, RECENT_LINES).0),
            DiagnosticsQuery::Report { since, time } => to_json(&json!({
                "time": now,
                "stream_seq": self.observe.stream.last_seq(),
                "stream": self.observe.stream_since(since, STREAM_CAPACITY),
                "groups": groups(&self.state),
                "memory": self.observe.memory_since(time),
                "workers": self.observe.workers(&self.state, self.infos(), now),
            })),
            DiagnosticsQuery::Story { keys } => {
                let scheduler = self.scheduler_story(&keys);
                let gathering = Gathering::Story {
                    scheduler,
                    workers: Vec::new(),
                };
                return self.ask_workers(WorkerQuery::Story { keys }, gathering, responder);
            }
            DiagnosticsQuery::ClusterState => {
                let gathering = Gathering::State {
                    scheduler: self.scheduler_state_json(),
                    workers: serde_json::Map::new(),
                };
                return self.ask_workers(WorkerQuery::State, gathering, responder);
            }
        };
        self.respond(responder, answer);
    }

    /// The workers as the scheduler's records know them.
    fn infos(&self) -> impl Iterator<Item = &crate::distributed::WorkerInfo> {
        self.workers.values().map(|(info, _, _)| info)
    }

    /// A worker's address (its id, once it has gone).
    fn address_of(&self, worker: WorkerId) -> String {
        self.workers
            .get(&worker)
            .map_or_else(|| worker.to_string(), |(i, _, _)| i.address.clone())
    }

    fn scheduler_story(&self, keys: &[Key]) -> Vec<StoryEntry> {
        keys.iter()
            .flat_map(|k| {
                self.state.story(k).into_iter().map(move |l| StoryEntry {
                    key: k.to_string(),
                    source: "scheduler".into(),
                    from: l.from.into(),
                    to: l.to.into(),
                    stimulus: l.stimulus.into(),
                    stimulus_id: l.stimulus_id.to_string(),
                })
            })
            .collect()
    }

    fn scheduler_state_json(&self) -> Json {
        let now = self.now();
        let address = |w: &WorkerId| self.address_of(*w);
        let tasks: Vec<Json> = self
            .state
            .tasks()
            .map(|t| {
                json!({
                    "key": t.key.to_string(),
                    "state": t.status.name(),
                    "who_has": t.who_has.iter().map(address).collect::<Vec<_>>(),
                    "dependencies": t.dependencies.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                    "nbytes": t.nbytes,
                    "wanted_by": t.wanted_by.iter().map(|c| c.0).collect::<Vec<_>>(),
                    "story": t.story.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "time": now,
            "tasks": tasks,
            "status": self.observe.status(&self.state, self.infos(), u64::MAX, 0, now),
            "clients": self.clients.keys().map(|c| c.0).collect::<Vec<_>>(),
            "logs": lines_since(0, RECENT_LINES).0,
        })
    }

    /// Sends `query` to every worker and keeps what is gathered until all
    /// answered.
    fn ask_workers(&mut self, query: WorkerQuery, gathering: Gathering, responder: Responder) {
        self.next_query += 1;
        let id = self.next_query;
        let waiting: BTreeSet<WorkerId> = self.workers.keys().copied().collect();
        for w in &waiting {
            self.push(
                Dest::Worker(*w),
                Msg::WorkerQuery {
                    id,
                    query: query.clone(),
                },
            );
        }
        self.queries.insert(
            id,
            Pending {
                responder,
                gathering,
                waiting,
                deadline: self.now() + QUERY_TIMEOUT,
            },
        );
        self.finish_queries();
    }

    /// A worker's answer to a question.
    pub(super) fn on_worker_query_reply(&mut self, worker: WorkerId, id: u64, json: String) {
        let address = self.address_of(worker);
        let Some(p) = self.queries.get_mut(&id) else {
            return;
        };
        if !p.waiting.remove(&worker) {
            return;
        }
        match &mut p.gathering {
            Gathering::Story { workers, .. } => {
                match serde_json::from_str::<Vec<StoryEntry>>(&json) {
                    Ok(mut lines) => {
                        for l in &mut lines {
                            l.source = address.clone();
                        }
                        workers.push(lines);
                    }
                    Err(e) => {
                        tracing::warn!(target: "brisk::scheduler", "{address} sent a story that is not one: {e}")
                    }
                }
            }
            Gathering::State { workers, .. } => {
                let value = serde_json::from_str::<Json>(&json)
                    .unwrap_or_else(|e| json!({ "error": format!("not JSON: {e}") }));
                workers.insert(address, value);
            }
        }
        self.finish_queries();
    }

    /// Answers the questions every worker answered, or whose time is up, and
    /// forgets workers that left.
    pub(super) fn finish_queries(&mut self) {
        let now = self.now();
        let connected: BTreeSet<WorkerId> = self.workers.keys().copied().collect();
        let done: Vec<u64> = self
            .queries
            .iter_mut()
            .filter_map(|(id, p)| {
                p.waiting.retain(|w| connected.contains(w));
                (p.waiting.is_empty() || now >= p.deadline).then_some(*id)
            })
            .collect();
        for id in done {
            let Some(p) = self.queries.remove(&id) else {
                continue;
            };
            let answer = match p.gathering {
                Gathering::Story { scheduler, workers } => {
                    serde_json::to_string(&join_stories(scheduler, workers))
                }
                Gathering::State { scheduler, workers } => {
                    serde_json::to_string(&json!({ "scheduler": scheduler, "workers": workers }))
                }
            };
            self.respond(p.responder, answer.map_err(|e| e.to_string()));
        }
    }

    fn respond(&mut self, responder: Responder, answer: Result<String, String>) {
        match responder {
            Responder::Local(tx) => {
                let _ = tx.send(match answer {
                    Ok(j) => Answer::Json(j),
                    Err(e) => Answer::Error(e),
                });
            }
            Responder::Client { client, id } => {
                let (json, error) = match answer {
                    Ok(j) => (j, None),
                    Err(e) => (String::new(), Some(e)),
                };
                self.push(
                    Dest::Client(client),
                    Msg::DiagnosticsReply { id, json, error },
                );
            }
        }
    }
}

/// JSON text of `v`, or why not.
fn to_json<T: serde::Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| e.to_string())
}
