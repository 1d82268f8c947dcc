//! A worker's answers to the scheduler's questions (stories, its state).

use super::Session;
use crate::distributed::messages::{Msg, WorkerQuery};
use crate::distributed::observe::{lines_since, StoryEntry, RECENT_LINES};

impl Session<'_> {
    /// Answers a question of the scheduler's.
    pub(super) fn answer_query(&mut self, id: u64, query: WorkerQuery) {
        let json = match query {
            WorkerQuery::Story { keys } => {
                let lines: Vec<StoryEntry> = keys
                    .iter()
                    .flat_map(|k| {
                        self.state.story(k).into_iter().map(move |l| StoryEntry {
                            key: k.to_string(),
                            source: String::new(),
                            from: l.from.into(),
                            to: l.to.into(),
                            stimulus: l.stimulus.into(),
                            stimulus_id: l.stimulus_id.to_string(),
                        })
                    })
                    .collect();
                serde_json::to_string(&lines)
            }
            WorkerQuery::State => {
                let mut tasks: Vec<(String, &str)> = self
                    .state
                    .tasks()
                    .map(|(k, s)| (k.to_string(), s.name()))
                    .collect();
                tasks.sort();
                let (managed, spilled) = {
                    let b = self.store.lock();
                    (b.memory_bytes(), b.spilled_bytes())
                };
                serde_json::to_string(&serde_json::json!({
                    "address": self.address,
                    "name": self.options.name,
                    "nthreads": self.options.nthreads,
                    "memory_limit": self.options.memory_limit,
                    "paused": self.state.is_paused(),
                    "managed": managed,
                    "spilled": spilled,
                    "process": crate::distributed::worker_memory::process_memory(),
                    "tasks": tasks.into_iter().map(|(k, s)| serde_json::json!({"key": k, "state": s})).collect::<Vec<_>>(),
                    "logs": lines_since(0, RECENT_LINES).0,
                }))
            }
        };
        let json = json.unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
        self.out.push(Msg::WorkerQueryReply { id, json });
    }
}
