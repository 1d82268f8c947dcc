//! The transition table: one function per `(from, to)` pair. Each changes one task
//! (and the indexes that mention it) and returns the transitions it recommends next.

use super::placement::Decision;
use super::*;
use crate::distributed::ids::push_story;

type Recs = Vec<(Key, Target)>;

impl SchedulerState {
    /// Carries out `recs` and everything they recommend, in order.
    pub(crate) fn transitions(&mut self, recs: Recs, stimulus: &'static str) {
        let mut work: VecDeque<(Key, Target)> = recs.into();
        while let Some((key, target)) = work.pop_front() {
            let Some(ts) = self.tasks.get(&key) else {
                continue; // forgotten by an earlier recommendation
            };
            use TaskStatus as S;
            let more = match (&ts.status, &target) {
                (S::Released, Target::Waiting) => self.transition_released_waiting(&key, stimulus),
                (S::Waiting | S::Queued | S::NoWorker, Target::Processing) => {
                    self.transition_ready_processing(&key, stimulus)
                }
                (
                    S::Waiting | S::Queued | S::NoWorker | S::Processing { .. } | S::Memory,
                    Target::Released | Target::Forgotten,
                ) => self.transition_to_released(&key, stimulus),
                (
                    S::Released | S::Waiting | S::Queued | S::NoWorker | S::Processing { .. },
                    Target::Erred(error),
                ) => {
                    let error = error.clone();
                    self.transition_to_erred(&key, error, stimulus)
                }
                (S::Released | S::Erred { .. }, Target::Forgotten) => {
                    self.transition_to_forgotten(&key)
                }
                // Already there, or past it: a recommendation overtaken by events.
                (S::Released, Target::Released)
                | (S::Erred { .. }, Target::Erred(_) | Target::Waiting | Target::Released)
                | (
                    S::Waiting | S::Queued | S::NoWorker | S::Processing { .. } | S::Memory,
                    Target::Waiting,
                )
                | (S::Processing { .. } | S::Memory, Target::Processing)
                | (S::Memory, Target::Erred(_)) => Vec::new(),
                (from, to) => {
                    let story: Vec<String> = ts.story.iter().map(|l| l.to_string()).collect();
                    self.broken.push(format!(
                        "no transition {} -> {to:?} for {key} on {stimulus} {}; story: {}",
                        from.name(),
                        self.stimulus_id,
                        story.join(", ")
                    ));
                    Vec::new()
                }
            };
            work.extend(more);
        }
    }

    fn set_status(&mut self, key: &Key, status: TaskStatus, stimulus: &'static str) {
        let stimulus_id = self.stimulus_id;
        if let Some(ts) = self.tasks.get_mut(key) {
            let from = ts.status.name();
            let to = status.name();
            self.groups.moved(key.prefix(), &ts.status, &status);
            ts.status = status;
            push_story(
                &mut ts.story,
                StoryLine {
                    from,
                    to,
                    stimulus,
                    stimulus_id,
                },
            );
        }
    }

    fn transition_released_waiting(&mut self, key: &Key, stimulus: &'static str) -> Recs {
        let ts = &self.tasks[key];
        if !ts.is_needed() {
            // Its readers went away (erred or released) after it was recommended, in
            // the same event: it stays released, no longer a waiter of its inputs,
            // and is forgotten if nothing reads it.
            let forget = ts.dependents.is_empty();
            let deps = ts.dependencies.clone();
            let mut recs = self.unregister_from_inputs(key, &deps);
            if forget {
                recs.push((key.clone(), Target::Forgotten));
            }
            return recs;
        }
        if ts.spec.is_none() {
            let error: Arc<str> =
                format!("scattered data {key} was lost with the last worker holding it, and it has no task to recompute it from; scatter it again").into();
            return vec![(key.clone(), Target::Erred(error))];
        }
        let deps = ts.dependencies.clone();
        let mut recs = Vec::new();
        let mut waiting_on = FxHashSet::default();
        for d in &deps {
            let Some(dep) = self.tasks.get_mut(d) else {
                let error: Arc<str> = format!("task {key} reads {d}, which was forgotten").into();
                return vec![(key.clone(), Target::Erred(error))];
            };
            dep.waiters.insert(key.clone());
            match &dep.status {
                TaskStatus::Memory => {}
                TaskStatus::Erred { error } => {
                    let error = error.clone();
                    self.set_status(key, TaskStatus::Waiting, stimulus);
                    return vec![(key.clone(), Target::Erred(error))];
                }
                TaskStatus::Released => {
                    waiting_on.insert(d.clone());
                    recs.push((d.clone(), Target::Waiting));
                }
                _ => {
                    waiting_on.insert(d.clone());
                }
            }
        }
        let ready = waiting_on.is_empty();
        if let Some(ts) = self.tasks.get_mut(key) {
            ts.waiting_on = waiting_on;
        }
        self.set_status(key, TaskStatus::Waiting, stimulus);
        if ready {
            recs.push((key.clone(), Target::Processing));
        }
        recs
    }

    /// waiting / queued / no-worker → processing, or to queued / no-worker when no
    /// worker can take it now.
    fn transition_ready_processing(&mut self, key: &Key, stimulus: &'static str) -> Recs {
        let ts = &self.tasks[key];
        let from = ts.status.clone();
        let priority = ts.priority;
        match self.decide_worker(key) {
            Decision::Worker(worker) => {
                match from {
                    TaskStatus::Queued => {
                        self.queued.remove(&(priority, key.clone()));
                    }
                    TaskStatus::NoWorker => {
                        self.unrunnable.remove(&(priority, key.clone()));
                    }
                    _ => {}
                }
                let estimate = self.estimate(key);
                let w = self
                    .workers
                    .get_mut(&worker)
                    .expect("decided on a live worker");
                w.processing.insert(key.clone(), estimate);
                w.occupancy += estimate;
                self.last_run += 1;
                let run = self.last_run;
                if let Some(ts) = self.tasks.get_mut(key) {
                    ts.run = run;
                }
                let ts = &self.tasks[key];
                let inputs = ts
                    .dependencies
                    .iter()
                    .map(|d| (d.clone(), self.tasks[d].who_has.to_vec()))
                    .collect();
                let instruction = Instruction::Compute {
                    worker,
                    key: key.clone(),
                    spec: ts.spec.clone().expect("tasks without a spec never wait"),
                    inputs,
                    priority,
                    send_value: !ts.wanted_by.is_empty(),
                    run,
                };
                self.emit(instruction);
                self.set_status(key, TaskStatus::Processing { worker }, stimulus);
            }
            Decision::Queue => {
                if from != TaskStatus::Queued {
                    if from == TaskStatus::NoWorker {
                        self.unrunnable.remove(&(priority, key.clone()));
                    }
                    self.queued.insert((priority, key.clone()));
                    self.set_status(key, TaskStatus::Queued, stimulus);
                }
            }
            Decision::NoWorker => {
                if from != TaskStatus::NoWorker {
                    if from == TaskStatus::Queued {
                        self.queued.remove(&(priority, key.clone()));
                    }
                    self.unrunnable.insert((priority, key.clone()));
                    self.set_status(key, TaskStatus::NoWorker, stimulus);
                }
            }
        }
        Vec::new()
    }

    /// processing → memory, when the worker running the task reports its result.
    pub(super) fn transition_processing_memory(
        &mut self,
        key: &Key,
        worker: WorkerId,
        nbytes: u64,
        stimulus: &'static str,
    ) {
        if let Some(w) = self.workers.get_mut(&worker) {
            if let Some(estimate) = w.processing.remove(key) {
                w.occupancy = (w.occupancy - estimate).max(0.0);
            }
            w.has_what.insert(key.clone());
            w.nbytes += nbytes;
        }
        let ts = self.tasks.get_mut(key).expect("checked by the caller");
        ts.who_has.clear();
        ts.who_has.push(worker);
        ts.nbytes = nbytes;
        let dependents: Vec<Key> = ts.dependents.iter().cloned().collect();
        let deps = ts.dependencies.clone();
        self.set_status(key, TaskStatus::Memory, stimulus);
        let mut ready = Vec::new();
        for d in dependents {
            if let Some(dt) = self.tasks.get_mut(&d) {
                if dt.status == TaskStatus::Waiting
                    && dt.waiting_on.remove(key)
                    && dt.waiting_on.is_empty()
                {
                    ready.push((dt.priority, d));
                }
            }
        }
        ready.sort();
        let mut recs: Recs = ready
            .into_iter()
            .map(|(_, d)| (d, Target::Processing))
            .collect();
        for d in deps {
            if let Some(dep) = self.tasks.get_mut(&d) {
                dep.waiters.remove(key);
                if !dep.is_needed() && dep.status == TaskStatus::Memory {
                    recs.push((d, Target::Released));
                }
            }
        }
        self.report(key, || Report::InMemory {
            key: key.clone(),
            nbytes,
        });
        if !self.tasks[key].is_needed() {
            recs.push((key.clone(), Target::Released));
        }
        self.transitions(recs, stimulus);
    }

    /// waiting / queued / no-worker / processing / memory → released; back to waiting
    /// at once when something still needs the result (a recomputation).
    fn transition_to_released(&mut self, key: &Key, stimulus: &'static str) -> Recs {
        let mut frees = Vec::new();
        if let Some(worker) = self.leave_pending_state(key) {
            frees.push(worker);
        }
        let ts = &self.tasks[key];
        if ts.status == TaskStatus::Memory {
            let nbytes = ts.nbytes;
            for w in ts.who_has.clone() {
                if let Some(info) = self.workers.get_mut(&w) {
                    info.has_what.remove(key);
                    info.nbytes = info.nbytes.saturating_sub(nbytes);
                    frees.push(w);
                }
            }
        }
        for worker in frees {
            self.emit(Instruction::Free {
                worker,
                keys: vec![key.clone()],
            });
        }
        let was_in_memory = self.tasks[key].status == TaskStatus::Memory;
        let ts = self.tasks.get_mut(key).expect("present");
        ts.who_has.clear();
        ts.waiting_on.clear();
        let needed = ts.is_needed();
        let mut dependents: Vec<Key> = if was_in_memory {
            ts.dependents.iter().cloned().collect()
        } else {
            Vec::new()
        };
        let no_dependents = ts.dependents.is_empty();
        let deps = ts.dependencies.clone();
        self.set_status(key, TaskStatus::Released, stimulus);
        if needed {
            // Readers that counted on this result wait for it again; those already
            // sent to a worker are called back.
            dependents.sort();
            let mut recs = vec![(key.clone(), Target::Waiting)];
            for d in dependents {
                let Some(dt) = self.tasks.get_mut(&d) else {
                    continue;
                };
                match dt.status {
                    TaskStatus::Waiting => {
                        dt.waiting_on.insert(key.clone());
                    }
                    TaskStatus::NoWorker | TaskStatus::Processing { .. } => {
                        recs.push((d, Target::Released))
                    }
                    _ => {}
                }
            }
            return recs;
        }
        let mut recs = self.unregister_from_inputs(key, &deps);
        if no_dependents {
            recs.push((key.clone(), Target::Forgotten));
        }
        recs
    }

    /// Takes a queued, no-worker or processing task out of the set or worker that
    /// lists it; returns the worker (still connected) that was running it.
    fn leave_pending_state(&mut self, key: &Key) -> Option<WorkerId> {
        let ts = &self.tasks[key];
        let entry = (ts.priority, key.clone());
        match ts.status {
            TaskStatus::Queued => {
                self.queued.remove(&entry);
                None
            }
            TaskStatus::NoWorker => {
                self.unrunnable.remove(&entry);
                None
            }
            TaskStatus::Processing { worker } => {
                let w = self.workers.get_mut(&worker)?;
                if let Some(estimate) = w.processing.remove(key) {
                    w.occupancy = (w.occupancy - estimate).max(0.0);
                }
                Some(worker)
            }
            _ => None,
        }
    }

    /// Removes `key` from the waiters of its inputs; inputs nobody needs any more are
    /// recommended for release.
    fn unregister_from_inputs(&mut self, key: &Key, deps: &[Key]) -> Recs {
        let mut recs = Vec::new();
        for d in deps {
            if let Some(dep) = self.tasks.get_mut(d) {
                dep.waiters.remove(key);
                let active = !matches!(dep.status, TaskStatus::Released | TaskStatus::Erred { .. });
                if active && !dep.is_needed() {
                    recs.push((d.clone(), Target::Released));
                }
            }
        }
        recs
    }

    fn transition_to_erred(&mut self, key: &Key, error: Arc<str>, stimulus: &'static str) -> Recs {
        // A task that failed on its worker needs no Free: the worker dropped it.
        self.leave_pending_state(key);
        let ts = self.tasks.get_mut(key).expect("present");
        ts.waiting_on.clear();
        let deps = ts.dependencies.clone();
        let dependents: Vec<Key> = ts.dependents.iter().cloned().collect();
        let mut dependents: Vec<(Priority, Key)> = dependents
            .into_iter()
            .map(|d| (self.tasks[&d].priority, d))
            .collect();
        dependents.sort();
        self.set_status(
            key,
            TaskStatus::Erred {
                error: error.clone(),
            },
            stimulus,
        );
        let message = error.to_string();
        self.report(key, || Report::Erred {
            key: key.clone(),
            error: message.clone(),
        });
        let mut recs = self.unregister_from_inputs(key, &deps);
        for (_, d) in dependents {
            let alive = matches!(
                self.tasks[&d].status,
                TaskStatus::Waiting
                    | TaskStatus::Queued
                    | TaskStatus::NoWorker
                    | TaskStatus::Processing { .. }
            );
            if alive {
                recs.push((d, Target::Erred(error.clone())));
            }
        }
        let ts = &self.tasks[key];
        if !ts.is_needed() && ts.dependents.is_empty() {
            recs.push((key.clone(), Target::Forgotten));
        }
        recs
    }

    fn transition_to_forgotten(&mut self, key: &Key) -> Recs {
        let ts = &self.tasks[key];
        if ts.is_needed() || !ts.dependents.is_empty() {
            return Vec::new(); // still part of someone's lineage
        }
        let ts = self.tasks.remove(key).expect("present");
        self.groups.forgotten(key.prefix(), &ts.status);
        let mut recs = Vec::new();
        for d in &ts.dependencies {
            if let Some(dep) = self.tasks.get_mut(d) {
                dep.dependents.remove(key);
                dep.waiters.remove(key);
                if !dep.is_needed() {
                    match dep.status {
                        TaskStatus::Released | TaskStatus::Erred { .. }
                            if dep.dependents.is_empty() =>
                        {
                            recs.push((d.clone(), Target::Forgotten))
                        }
                        TaskStatus::Released | TaskStatus::Erred { .. } => {}
                        _ => recs.push((d.clone(), Target::Released)),
                    }
                }
            }
        }
        recs
    }

    /// What to do with a task nobody may need any more: release it (stopping or
    /// freeing its work), forget it, or nothing.
    pub(super) fn unneeded_target(&self, key: &Key) -> Option<Target> {
        let ts = self.tasks.get(key)?;
        if ts.is_needed() {
            return None;
        }
        match ts.status {
            TaskStatus::Released | TaskStatus::Erred { .. } => {
                ts.dependents.is_empty().then_some(Target::Forgotten)
            }
            _ => Some(Target::Released),
        }
    }

    /// Releases queued root tasks, best priority first, while a worker has a slot.
    pub(super) fn fill_from_queue(&mut self, stimulus: &'static str) {
        while let Some((_, key)) = self.queued.first().cloned() {
            if !self.has_free_slot_for(&key) {
                break;
            }
            self.transitions(vec![(key.clone(), Target::Processing)], stimulus);
            if matches!(
                self.tasks.get(&key).map(|t| &t.status),
                Some(TaskStatus::Queued)
            ) {
                break;
            }
        }
    }
}
