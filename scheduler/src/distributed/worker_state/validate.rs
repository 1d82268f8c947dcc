//! [`WorkerState::validate`]: every index against the tasks' states, in linear
//! time. Tests run it after every event; a running worker runs it when asked to
//! (`WorkerOptions::validate`).

use super::state::WorkerState;
use super::types::{Keep, WorkerTaskStatus as S};

impl WorkerState {
    /// Checks the ready heap, the fetch queues, the executing count and the
    /// reader links against the tasks' states, and that no transition was refused.
    pub fn validate(&self) -> Result<(), String> {
        let mut errors: Vec<String> = self.broken.clone();
        let mut executing = 0;
        let mut queued = 0;
        for (key, t) in &self.tasks {
            match t.status {
                S::Ready => {
                    if !self.ready.contains(&(t.priority, key.clone())) {
                        errors.push(format!("{key} is ready but not in the heap"));
                    }
                }
                S::Executing | S::Cancelled => executing += 1,
                S::Waiting => {
                    if t.waiting_on.is_empty() {
                        errors.push(format!("{key} waits on nothing"));
                    }
                    for d in &t.waiting_on {
                        match self.tasks.get(d) {
                            Some(dt) if dt.status != S::Memory && dt.dependents.contains(key) => {}
                            _ => errors
                                .push(format!("{key} waits on {d}, which is stored or untracked")),
                        }
                    }
                }
                S::Flight { peer } | S::Resumed { peer } => {
                    if !self.busy_peers.contains(&peer) {
                        errors.push(format!("{key} in flight from {peer}, which is not busy"));
                    }
                }
                S::Fetch => {
                    for h in &t.who_has {
                        queued += 1;
                        let listed = self
                            .fetch_queues
                            .get(h)
                            .is_some_and(|q| q.contains(&(t.priority, key.clone())));
                        if !listed {
                            errors.push(format!("{key} to fetch is not in the queue of {h}"));
                        }
                    }
                }
                S::Memory => {}
            }
            if matches!(
                t.status,
                S::Waiting | S::Ready | S::Executing | S::Cancelled
            ) && t.spec.is_none()
            {
                errors.push(format!("{key} is a task here but has no code"));
            }
            if t.keep == Keep::Report
                && !matches!(t.status, S::Fetch | S::Flight { .. } | S::Cancelled)
            {
                errors.push(format!(
                    "{key} is {} but still waits to be reported as a replica",
                    t.status.name()
                ));
            }
            if matches!(t.status, S::Resumed { .. }) != t.resume.is_some() {
                errors.push(format!(
                    "{key} is {} and has {} request to compute",
                    t.status.name(),
                    if t.resume.is_some() { "a" } else { "no" }
                ));
            }
            let mut holders = t.who_has.clone();
            holders.sort();
            holders.dedup();
            if holders.len() != t.who_has.len() {
                errors.push(format!("{key} lists a holder twice"));
            }
            for r in &t.dependents {
                if !self
                    .tasks
                    .get(r)
                    .is_some_and(|rt| rt.dependencies.contains(key))
                {
                    errors.push(format!("{key} lists reader {r}, which does not read it"));
                }
            }
        }
        for (p, k) in &self.ready {
            if self.tasks.get(k).map(|t| (&t.status, t.priority)) != Some((&S::Ready, *p)) {
                errors.push(format!("{k} is in the ready heap but not ready"));
            }
        }
        let mut listed = 0;
        for (peer, queue) in &self.fetch_queues {
            if queue.is_empty() {
                errors.push(format!("the fetch queue of {peer} is empty but kept"));
            }
            for (p, k) in queue {
                listed += 1;
                let ok = self.tasks.get(k).is_some_and(|t| {
                    t.status == S::Fetch && t.priority == *p && t.who_has.contains(peer)
                });
                if !ok {
                    errors.push(format!(
                        "{k} is in the fetch queue of {peer} but not to fetch from it"
                    ));
                }
            }
        }
        if listed != queued {
            errors.push(format!(
                "the fetch queues list {listed} entries, the keys to fetch {queued}"
            ));
        }
        if executing != self.executing {
            errors.push(format!(
                "{executing} tasks executing, counted {}",
                self.executing
            ));
        }
        if self.executing > self.nthreads {
            errors.push(format!(
                "{} executing on {} threads",
                self.executing, self.nthreads
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }
}
