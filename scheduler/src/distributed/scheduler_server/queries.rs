//! Questions the scheduler is gathering answers to from its workers, and
//! where each answer goes.

use crate::distributed::ids::{ClientId, WorkerId};
use crate::distributed::observe::{Answer, StoryEntry};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use tokio::sync::oneshot;

/// Where an answer goes.
pub(crate) enum Responder {
    Client { client: ClientId, id: u64 },
    Local(oneshot::Sender<Answer>),
}

/// What is being gathered from the workers.
pub(crate) enum Gathering {
    Story {
        scheduler: Vec<StoryEntry>,
        workers: Vec<Vec<StoryEntry>>,
    },
    State {
        scheduler: Json,
        workers: serde_json::Map<String, Json>,
    },
}

/// A question waiting for workers' answers.
pub(crate) struct Pending {
    pub(crate) responder: Responder,
    pub(crate) gathering: Gathering,
    pub(crate) waiting: BTreeSet<WorkerId>,
    pub(crate) deadline: f64,
}
