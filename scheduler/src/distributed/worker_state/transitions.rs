//! The transition table: one `transition_<from>_<to>` function per pair, reached
//! through one `match` in [`WorkerState::transition`]. Each changes one key and
//! the indexes that mention it, writes a line of its story, and carries out the
//! transitions that follow from it (readers becoming ready, inputs no one reads
//! any more being released). A pair the table does not list is a bug: it is kept,
//! with the key's story, for [`WorkerState::take_broken`] and `validate()`.

use super::state::{ComputeRequest, WorkerState, WorkerTask};
use super::types::{Keep, Target, WorkerInstruction, WorkerTaskStatus};
use crate::distributed::ids::{push_story, Priority, StoryLine, WorkerId};
use brisk_core::Key;

type S = WorkerTaskStatus;

impl WorkerState {
    /// Takes `key` to `to`. A key released earlier in the same event is skipped.
    pub(super) fn transition(&mut self, key: &Key, to: Target) {
        let Some(t) = self.tasks.get(key) else {
            return;
        };
        match (&t.status, to) {
            (S::Waiting, Target::Ready) => self.transition_waiting_ready(key),
            (S::Ready, Target::Executing) => self.transition_ready_executing(key),
            (S::Executing, Target::Cancelled) => {
                self.set_status(key, S::Cancelled);
            }
            (S::Cancelled, Target::Executing) => {
                self.set_status(key, S::Executing);
            }
            (S::Executing | S::Cancelled, Target::Memory) => self.transition_executing_memory(key),
            (S::Executing | S::Cancelled, Target::Released) => {
                self.transition_executing_released(key)
            }
            (S::Waiting | S::Ready, Target::Memory) => self.transition_waiting_memory(key),
            (S::Waiting | S::Ready, Target::Released) => self.transition_waiting_released(key),
            (S::Fetch, Target::Flight(peer)) => self.transition_fetch_flight(key, peer),
            (S::Flight { .. }, Target::Fetch) => self.transition_flight_fetch(key),
            (S::Flight { peer }, Target::Resumed) => {
                let peer = *peer;
                self.set_status(key, S::Resumed { peer });
            }
            (S::Resumed { peer }, Target::Flight(_)) => {
                let peer = *peer;
                self.set_status(key, S::Flight { peer });
            }
            (S::Fetch | S::Flight { .. } | S::Resumed { .. }, Target::Memory) => {
                self.transition_fetch_memory(key)
            }
            (S::Fetch | S::Flight { .. }, Target::Released) => self.transition_fetch_released(key),
            (S::Memory, Target::Released) => self.transition_memory_released(key),
            // Already there: a step overtaken by an earlier one of the same event.
            (S::Memory, Target::Memory) | (S::Ready, Target::Ready) => {}
            (from, to) => {
                let story: Vec<String> = t.story.iter().map(|l| l.to_string()).collect();
                self.broken.push(format!(
                    "no transition {} -> {to:?} for {key} on {} {}; story: {}",
                    from.name(),
                    self.stimulus,
                    self.stimulus_id,
                    story.join(", ")
                ));
            }
        }
    }

    /// Makes `key` a task to run here (from `released`, or from `fetch` or
    /// `resumed` when the scheduler asks for it to be computed here): its inputs
    /// are registered (and queued for fetching when not here), and it is `ready`
    /// or `waiting`. Readers here that were waiting for it keep waiting.
    pub(super) fn become_task(&mut self, key: Key, request: ComputeRequest) {
        let ComputeRequest {
            spec,
            inputs,
            priority,
            send_value,
            run,
        } = request;
        let mut task = WorkerTask::new(S::Waiting, priority, Keep::UntilFreed);
        let mut from = "released";
        if let Some(old) = self.tasks.remove(&key) {
            if old.status == S::Fetch {
                self.dequeue_fetch(&key, old.priority, &old.who_has);
            }
            from = old.status.name();
            task.dependents = old.dependents;
            task.story = old.story;
        }
        task.spec = Some(spec);
        task.send_value = send_value;
        task.run = run;
        task.dependencies.reserve(inputs.len());
        for (dep, holders) in inputs {
            match self.tasks.get(&dep) {
                Some(d) => {
                    if d.status != S::Memory {
                        task.waiting_on.insert(dep.clone());
                        self.add_holders(&dep, priority, holders);
                    }
                }
                None => {
                    let mut d = WorkerTask::new(S::Fetch, priority, Keep::WhileRead);
                    d.who_has = holder_set(holders);
                    task.waiting_on.insert(dep.clone());
                    self.insert_task(dep.clone(), d);
                }
            }
            if let Some(d) = self.tasks.get_mut(&dep) {
                d.dependents.insert(key.clone());
            }
            task.dependencies.push(dep);
        }
        if task.waiting_on.is_empty() {
            task.status = S::Ready;
            self.ready.insert((priority, key.clone()));
        }
        self.story_line(&mut task, from);
        self.tasks.insert(key, task);
    }

    /// More readers or holders for a key not here yet: its priority is the most
    /// urgent reader's, and new holders get it in their fetch queues.
    pub(super) fn add_holders(&mut self, key: &Key, priority: Priority, holders: Vec<WorkerId>) {
        let Some(t) = self.tasks.get(key) else {
            return;
        };
        let new_priority = t.priority.min(priority);
        let added: Vec<WorkerId> = holder_set(holders)
            .into_iter()
            .filter(|h| !t.who_has.contains(h))
            .collect();
        if new_priority == t.priority && added.is_empty() {
            return; // the common case: another reader of an input already queued
        }
        if t.status == S::Fetch {
            let (old_priority, old_holders) = (t.priority, t.who_has.clone());
            self.dequeue_fetch(key, old_priority, &old_holders);
        }
        let t = self.tasks.get_mut(key).expect("present");
        t.priority = new_priority;
        t.who_has.extend(added);
        if t.status == S::Fetch {
            let (priority, holders) = (t.priority, t.who_has.clone());
            self.enqueue_fetch(key, priority, &holders);
        }
    }

    /// Adds a key the worker did not know, in `status` (a transition from
    /// `released`).
    pub(super) fn insert_task(&mut self, key: Key, mut task: WorkerTask) {
        self.story_line(&mut task, "released");
        if task.status == S::Fetch {
            self.enqueue_fetch(&key, task.priority, &task.who_has);
        }
        self.tasks.insert(key, task);
    }

    fn story_line(&self, task: &mut WorkerTask, from: &'static str) {
        push_story(
            &mut task.story,
            StoryLine {
                from,
                to: task.status.name(),
                stimulus: self.stimulus,
                stimulus_id: self.stimulus_id,
            },
        );
    }

    fn set_status(&mut self, key: &Key, status: WorkerTaskStatus) {
        let line = StoryLine {
            from: "",
            to: status.name(),
            stimulus: self.stimulus,
            stimulus_id: self.stimulus_id,
        };
        if let Some(t) = self.tasks.get_mut(key) {
            let line = StoryLine {
                from: t.status.name(),
                ..line
            };
            t.status = status;
            push_story(&mut t.story, line);
        }
    }

    fn transition_waiting_ready(&mut self, key: &Key) {
        self.set_status(key, S::Ready);
        let t = &self.tasks[key];
        self.ready.insert((t.priority, key.clone()));
    }

    fn transition_ready_executing(&mut self, key: &Key) {
        let t = &self.tasks[key];
        self.ready.remove(&(t.priority, key.clone()));
        let Some(spec) = t.spec.clone() else {
            self.broken
                .push(format!("{key} became ready with no code to run"));
            return;
        };
        let inputs = t.dependencies.clone();
        self.set_status(key, S::Executing);
        self.executing += 1;
        self.out.push(WorkerInstruction::Execute {
            key: key.clone(),
            spec,
            inputs,
        });
    }

    /// A run ended with a result: reported (unless cancelled), inputs forgotten,
    /// readers here told.
    fn transition_executing_memory(&mut self, key: &Key) {
        self.executing = self.executing.saturating_sub(1);
        let t = self.tasks.get_mut(key).expect("checked by transition");
        let cancelled = t.status == S::Cancelled;
        let (nbytes, duration, send_value, run) = (t.nbytes, t.duration, t.send_value, t.run);
        let deps = t.dependencies.clone();
        if !cancelled {
            self.out.push(WorkerInstruction::TaskFinished {
                key: key.clone(),
                nbytes,
                duration,
                send_value,
                run,
            });
        } else if t.keep == Keep::Report {
            t.keep = Keep::UntilFreed;
            self.added.push(key.clone());
        }
        self.set_status(key, S::Memory);
        self.forget_reader(key, &deps);
        self.input_arrived(key);
        self.release_if_unused(key);
    }

    /// A run ended with an error (reported by the handler unless cancelled).
    fn transition_executing_released(&mut self, key: &Key) {
        self.executing = self.executing.saturating_sub(1);
        if let Some(t) = self.tasks.remove(key) {
            self.forget_reader(key, &t.dependencies);
        }
    }

    /// A task whose value arrived from elsewhere (a scatter) before it ran.
    fn transition_waiting_memory(&mut self, key: &Key) {
        let t = self.tasks.get_mut(key).expect("checked by transition");
        self.ready.remove(&(t.priority, key.clone()));
        t.waiting_on.clear();
        let deps = std::mem::take(&mut t.dependencies);
        self.set_status(key, S::Memory);
        self.forget_reader(key, &deps);
        self.input_arrived(key);
    }

    fn transition_waiting_released(&mut self, key: &Key) {
        if let Some(t) = self.tasks.remove(key) {
            self.ready.remove(&(t.priority, key.clone()));
            self.forget_reader(key, &t.dependencies);
        }
    }

    fn transition_fetch_flight(&mut self, key: &Key, peer: WorkerId) {
        let t = &self.tasks[key];
        let (priority, holders) = (t.priority, t.who_has.clone());
        self.dequeue_fetch(key, priority, &holders);
        self.set_status(key, S::Flight { peer });
    }

    fn transition_flight_fetch(&mut self, key: &Key) {
        self.set_status(key, S::Fetch);
        let t = &self.tasks[key];
        let (priority, holders) = (t.priority, t.who_has.clone());
        self.enqueue_fetch(key, priority, &holders);
    }

    /// An input or a replica arrived (fetched, or stored by the scheduler).
    fn transition_fetch_memory(&mut self, key: &Key) {
        let t = self.tasks.get_mut(key).expect("checked by transition");
        if t.status == S::Fetch {
            let (priority, holders) = (t.priority, t.who_has.clone());
            self.dequeue_fetch(key, priority, &holders);
        }
        let t = self.tasks.get_mut(key).expect("checked by transition");
        if let Some(request) = t.resume.take() {
            // The scheduler asked for it to be computed here: it is done.
            t.keep = Keep::UntilFreed;
            self.out.push(WorkerInstruction::TaskFinished {
                key: key.clone(),
                nbytes: t.nbytes,
                duration: 0.0,
                send_value: request.send_value,
                run: request.run,
            });
        } else if t.keep == Keep::Report {
            t.keep = Keep::UntilFreed;
            self.added.push(key.clone());
        }
        self.set_status(key, S::Memory);
        self.input_arrived(key);
        self.release_if_unused(key);
    }

    /// Not wanted any more. A key in flight is dropped when it arrives (no longer
    /// known, it is released then).
    fn transition_fetch_released(&mut self, key: &Key) {
        if let Some(t) = self.tasks.remove(key) {
            if t.status == S::Fetch {
                self.dequeue_fetch(key, t.priority, &t.who_has);
            }
        }
    }

    fn transition_memory_released(&mut self, key: &Key) {
        self.tasks.remove(key);
        self.out
            .push(WorkerInstruction::Release { key: key.clone() });
    }

    /// `key` is now stored: its readers here may be ready.
    pub(super) fn input_arrived(&mut self, key: &Key) {
        let readers: Vec<Key> = match self.tasks.get(key) {
            Some(t) => t.dependents.iter().cloned().collect(),
            None => return,
        };
        for r in readers {
            let Some(rt) = self.tasks.get_mut(&r) else {
                continue;
            };
            if rt.status == S::Waiting && rt.waiting_on.remove(key) && rt.waiting_on.is_empty() {
                self.transition(&r, Target::Ready);
            }
        }
    }

    /// `reader` no longer needs `deps`: inputs nobody here or at the scheduler
    /// counts on are released.
    pub(super) fn forget_reader(&mut self, reader: &Key, deps: &[Key]) {
        for d in deps {
            if let Some(dt) = self.tasks.get_mut(d) {
                dt.dependents.remove(reader);
            }
            self.release_if_unused(d);
        }
    }

    /// Releases a fetched input that no task here reads and the scheduler does not
    /// count on.
    pub(super) fn release_if_unused(&mut self, key: &Key) {
        let Some(t) = self.tasks.get(key) else {
            return;
        };
        let unused = t.keep == Keep::WhileRead && t.dependents.is_empty();
        if unused && matches!(t.status, S::Memory | S::Fetch | S::Flight { .. }) {
            self.transition(key, Target::Released);
        }
    }

    /// Puts a key in `fetch` under every peer of `holders`.
    pub(super) fn enqueue_fetch(&mut self, key: &Key, priority: Priority, holders: &[WorkerId]) {
        for h in holders {
            self.fetch_queues
                .entry(*h)
                .or_default()
                .insert((priority, key.clone()));
        }
    }

    /// Takes a key out of the fetch queues of `holders`.
    pub(super) fn dequeue_fetch(&mut self, key: &Key, priority: Priority, holders: &[WorkerId]) {
        let entry = (priority, key.clone());
        for h in holders {
            if let Some(q) = self.fetch_queues.get_mut(h) {
                q.remove(&entry);
                if q.is_empty() {
                    self.fetch_queues.remove(h);
                }
            }
        }
    }
}

/// Holders without repeats, in a fixed order.
pub(super) fn holder_set(mut holders: Vec<WorkerId>) -> Vec<WorkerId> {
    holders.sort_unstable();
    holders.dedup();
    holders
}
