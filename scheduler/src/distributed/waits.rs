//! Client requests the scheduler answers once the cluster has done them
//! (`rebalance`, `retire_workers`): each waits for a condition on the
//! scheduler's state, checked after every event.

use super::ids::{ClientId, WorkerId};
use super::scheduler_state::SchedulerState;
use std::collections::BTreeSet;

/// What a request waits for.
#[derive(Debug, Clone)]
pub(crate) enum Until {
    /// No result is being moved.
    MovesDone,
    /// These workers are gone.
    Gone(BTreeSet<WorkerId>),
    /// These workers are gone and as many others joined.
    Replaced(BTreeSet<WorkerId>),
}

/// Requests waiting, in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Waits {
    waiting: Vec<(ClientId, u64, Until)>,
}

impl Waits {
    pub(crate) fn add(&mut self, client: ClientId, id: u64, until: Until) {
        self.waiting.push((client, id, until));
    }

    /// The requests now done, taken out: `(client, id, error)`.
    pub(crate) fn done(&mut self, state: &SchedulerState) -> Vec<(ClientId, u64, Option<String>)> {
        if self.waiting.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.waiting.retain(|(client, id, until)| {
            let answer = match until {
                Until::MovesDone => (state.moves_in_flight() == 0).then_some(None),
                Until::Gone(ws) => {
                    let left: Vec<&WorkerId> =
                        ws.iter().filter(|w| state.worker(**w).is_some()).collect();
                    if left.is_empty() {
                        Some(None)
                    } else if left.iter().any(|w| !state.is_retiring(**w)) {
                        Some(Some(format!(
                            "retiring {left:?} was abandoned: no other worker is left to take their results"
                        )))
                    } else {
                        None
                    }
                }
                Until::Replaced(ws) => (ws.iter().all(|w| state.worker(*w).is_none())
                    && state.worker_count() >= ws.len())
                .then_some(None),
            };
            match answer {
                Some(error) => {
                    out.push((*client, *id, error));
                    false
                }
                None => true,
            }
        });
        out
    }

    /// A client went away: its requests go too.
    pub(crate) fn forget(&mut self, client: ClientId) {
        self.waiting.retain(|(c, _, _)| *c != client);
    }
}
