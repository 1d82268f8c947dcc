//! Consistency checks of every index against the tasks' states, in linear time.

use super::*;

impl SchedulerState {
    /// Checks that every secondary index agrees with the tasks' states; returns every
    /// disagreement found. Tests run it after every event.
    pub fn validate(&self) -> Result<(), String> {
        let mut errors: Vec<String> = self.broken.clone();
        let mut bad = |m: String| errors.push(m);
        for w in &self.retiring {
            if !self.workers.contains_key(w) {
                bad(format!("{w} is retiring but not connected"));
            }
        }
        for (key, src) in &self.moving {
            let held = self
                .tasks
                .get(key)
                .is_some_and(|t| t.status == TaskStatus::Memory && t.who_has.contains(src));
            if !held || !self.workers.contains_key(src) {
                bad(format!(
                    "{key} is moving from {src}, which does not hold it"
                ));
            }
        }
        let mut recount: FxHashMap<&str, [u64; 7]> = FxHashMap::default();
        for ts in self.tasks.values() {
            recount.entry(ts.key.prefix()).or_default()[groups::state_index(&ts.status)] += 1;
        }
        for (prefix, g) in self.groups.iter() {
            let counted = recount.remove(prefix).unwrap_or_default();
            if counted != g.states {
                bad(format!(
                    "task group {prefix} counts {:?} by state, the tasks are {counted:?}",
                    g.states
                ));
            }
        }
        for prefix in recount.keys() {
            bad(format!("tasks of prefix {prefix} have no task group"));
        }
        for (key, ts) in &self.tasks {
            if &ts.key != key {
                bad(format!("task stored under {key} says it is {}", ts.key));
            }
            for d in &ts.dependencies {
                match self.tasks.get(d) {
                    Some(dep) if dep.dependents.contains(key) => {}
                    Some(_) => bad(format!("{d} does not list its dependent {key}")),
                    None => {
                        if !matches!(ts.status, TaskStatus::Erred { .. }) {
                            bad(format!("{key} ({}) reads forgotten {d}", ts.status.name()))
                        }
                    }
                }
            }
            for d in &ts.dependents {
                match self.tasks.get(d) {
                    Some(t) if t.dependencies.contains(key) => {}
                    _ => bad(format!(
                        "{key} lists {d} as a dependent, which does not read it"
                    )),
                }
            }
            for w in &ts.waiters {
                match self.tasks.get(w).map(|t| &t.status) {
                    Some(
                        TaskStatus::Waiting
                        | TaskStatus::Queued
                        | TaskStatus::NoWorker
                        | TaskStatus::Processing { .. },
                    ) => {}
                    other => bad(format!(
                        "{key} has waiter {w} in state {:?}",
                        other.map(|s| s.name())
                    )),
                }
            }
            for c in &ts.wanted_by {
                if !self.clients.get(c).is_some_and(|ci| ci.wants.contains(key)) {
                    bad(format!("{key} is wanted by {c}, which does not list it"));
                }
            }
            let in_memory = ts.status == TaskStatus::Memory;
            if in_memory == ts.who_has.is_empty() {
                bad(format!(
                    "{key} is {} with holders {:?}",
                    ts.status.name(),
                    ts.who_has
                ));
            }
            for w in &ts.who_has {
                if !self
                    .workers
                    .get(w)
                    .is_some_and(|wi| wi.has_what.contains(key))
                {
                    bad(format!("{key} says {w} holds it; the worker does not"));
                }
            }
            if ts.status != TaskStatus::Waiting && !ts.waiting_on.is_empty() {
                bad(format!("{key} is {} but waits on inputs", ts.status.name()));
            }
            match &ts.status {
                TaskStatus::Waiting => {
                    for d in &ts.dependencies {
                        let dep_in_memory = self
                            .tasks
                            .get(d)
                            .is_some_and(|t| t.status == TaskStatus::Memory);
                        if dep_in_memory == ts.waiting_on.contains(d) {
                            bad(format!("{key} waiting: input {d} in memory = {dep_in_memory}, waited on = {}", !dep_in_memory));
                        }
                        if !self.tasks.get(d).is_some_and(|t| t.waiters.contains(key)) {
                            bad(format!("{key} waiting but not a waiter of {d}"));
                        }
                    }
                    if ts.waiting_on.is_empty() {
                        bad(format!("{key} is waiting on nothing"));
                    }
                }
                TaskStatus::Queued | TaskStatus::NoWorker | TaskStatus::Processing { .. } => {
                    for d in &ts.dependencies {
                        if !self
                            .tasks
                            .get(d)
                            .is_some_and(|t| t.status == TaskStatus::Memory)
                        {
                            bad(format!(
                                "{key} is {} but input {d} is not in memory",
                                ts.status.name()
                            ));
                        }
                    }
                    let set = match ts.status {
                        TaskStatus::Queued => Some(&self.queued),
                        TaskStatus::NoWorker => Some(&self.unrunnable),
                        _ => None,
                    };
                    if let Some(set) = set {
                        if !set.contains(&(ts.priority, key.clone())) {
                            bad(format!("{key} is {} but not in that set", ts.status.name()));
                        }
                    }
                    if let TaskStatus::Processing { worker } = ts.status {
                        if !self
                            .workers
                            .get(&worker)
                            .is_some_and(|w| w.processing.contains_key(key))
                        {
                            bad(format!(
                                "{key} processing on {worker}, which does not list it"
                            ));
                        }
                    }
                }
                _ => {}
            }
            let idle = matches!(ts.status, TaskStatus::Released | TaskStatus::Erred { .. });
            if !idle && !ts.is_needed() {
                bad(format!("{key} is {} but nobody needs it", ts.status.name()));
            }
        }
        for (p, k) in self.queued.iter().chain(self.unrunnable.iter()) {
            match self.tasks.get(k) {
                Some(t)
                    if t.priority == *p
                        && matches!(t.status, TaskStatus::Queued | TaskStatus::NoWorker) => {}
                _ => bad(format!(
                    "{k} is in the queue or no-worker set but not in that state"
                )),
            }
        }
        for w in self.workers.values() {
            let mut occupancy = 0.0;
            for (k, est) in &w.processing {
                occupancy += est;
                if self.tasks.get(k).map(|t| &t.status)
                    != Some(&TaskStatus::Processing { worker: w.id })
                {
                    bad(format!(
                        "{} lists {k} as processing; the task disagrees",
                        w.id
                    ));
                }
            }
            if (occupancy - w.occupancy).abs() > 1e-6 * (1.0 + occupancy) {
                bad(format!(
                    "{} occupancy {} but its tasks sum to {occupancy}",
                    w.id, w.occupancy
                ));
            }
            let mut nbytes = 0;
            for k in &w.has_what {
                match self.tasks.get(k) {
                    Some(t) if t.who_has.contains(&w.id) => nbytes += t.nbytes,
                    _ => bad(format!("{} holds {k}; the task does not say so", w.id)),
                }
            }
            if nbytes != w.nbytes {
                bad(format!(
                    "{} holds {} bytes by its count, {nbytes} by its keys",
                    w.id, w.nbytes
                ));
            }
        }
        for (c, info) in &self.clients {
            for k in &info.wants {
                if !self.tasks.get(k).is_some_and(|t| t.wanted_by.contains(c)) {
                    bad(format!("{c} wants {k}, which does not list the client"));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }
}
