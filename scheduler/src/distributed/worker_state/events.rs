//! One handler per event (`on_<event>`): each records what the event itself says
//! and takes keys to their next state through the transition table.

use super::state::{ComputeRequest, WorkerState, WorkerTask};
use super::transitions::holder_set;
use super::types::{Keep, Target, WorkerEvent, WorkerInstruction, WorkerTaskStatus as S};
use crate::distributed::ids::{Priority, TaskSpec, WorkerId};
use brisk_core::Key;

impl WorkerState {
    pub(super) fn dispatch(&mut self, event: WorkerEvent) {
        match event {
            WorkerEvent::Compute {
                key,
                spec,
                inputs,
                priority,
                send_value,
                run,
            } => self.on_compute(key, spec, inputs, priority, send_value, run),
            WorkerEvent::Free { keys } => {
                for k in keys {
                    self.on_free(k);
                }
            }
            WorkerEvent::Stored { key, nbytes } => self.on_stored(key, nbytes),
            WorkerEvent::Replicate { key, holders } => self.on_replicate(key, holders),
            WorkerEvent::FetchDone {
                peer,
                received,
                missing,
            } => self.on_fetch_done(peer, received, missing),
            WorkerEvent::FetchFailed { peer, keys } => self.on_fetch_done(peer, Vec::new(), keys),
            WorkerEvent::ExecuteDone {
                key,
                nbytes,
                duration,
            } => self.on_execute_done(key, nbytes, duration),
            WorkerEvent::ExecuteFailed { key, error } => self.on_execute_failed(key, error),
            WorkerEvent::InputLost { key, input, holder } => self.on_input_lost(key, input, holder),
            WorkerEvent::Pause => self.paused = true,
            WorkerEvent::Resume => self.paused = false,
        }
    }

    fn on_compute(
        &mut self,
        key: Key,
        spec: TaskSpec,
        inputs: Vec<(Key, Vec<WorkerId>)>,
        priority: Priority,
        send_value: bool,
        run: u64,
    ) {
        let request = ComputeRequest {
            spec,
            inputs,
            priority,
            send_value,
            run,
        };
        let Some(t) = self.tasks.get_mut(&key) else {
            self.become_task(key, request);
            return;
        };
        // Whatever reports this key next answers this request.
        t.run = run;
        match t.status {
            S::Memory => {
                t.keep = Keep::UntilFreed;
                self.out.push(WorkerInstruction::TaskFinished {
                    key,
                    nbytes: 0,
                    duration: 0.0,
                    send_value,
                    run,
                });
            }
            S::Executing => {
                t.keep = Keep::UntilFreed;
                t.send_value |= send_value;
            }
            // Asked for again before the cancelled run ended: it resumes.
            S::Cancelled => {
                t.keep = Keep::UntilFreed;
                t.send_value |= send_value;
                self.transition(&key, Target::Executing);
            }
            S::Waiting | S::Ready | S::Resumed { .. } => {}
            // An input not asked for yet: computed here instead.
            S::Fetch => self.become_task(key, request),
            // Already on its way: reported when it arrives, computed if it does not.
            S::Flight { .. } => {
                t.keep = Keep::UntilFreed;
                t.resume = Some(Box::new(request));
                self.transition(&key, Target::Resumed);
            }
        }
    }

    fn on_free(&mut self, key: Key) {
        let Some(t) = self.tasks.get_mut(&key) else {
            return;
        };
        t.keep = Keep::WhileRead;
        match t.status {
            S::Executing => self.transition(&key, Target::Cancelled),
            S::Waiting | S::Ready => self.transition(&key, Target::Released),
            S::Memory | S::Fetch | S::Flight { .. } => self.release_if_unused(&key),
            // No longer to compute here: an input in flight again, if read here.
            S::Resumed { peer } => {
                t.resume = None;
                self.transition(&key, Target::Flight(peer));
                self.release_if_unused(&key);
            }
            S::Cancelled => {}
        }
    }

    fn on_stored(&mut self, key: Key, nbytes: u64) {
        let Some(t) = self.tasks.get_mut(&key) else {
            let mut t = WorkerTask::new(S::Memory, Priority::new(0, 0, 0), Keep::UntilFreed);
            t.nbytes = nbytes;
            self.insert_task(key, t);
            return;
        };
        t.keep = Keep::UntilFreed;
        match t.status {
            // The run's own result comes later and takes its place.
            S::Executing | S::Cancelled | S::Memory => {}
            S::Waiting | S::Ready | S::Fetch | S::Flight { .. } | S::Resumed { .. } => {
                t.nbytes = nbytes;
                self.transition(&key, Target::Memory);
            }
        }
    }

    fn on_replicate(&mut self, key: Key, holders: Vec<WorkerId>) {
        let Some(t) = self.tasks.get_mut(&key) else {
            let mut t = WorkerTask::new(S::Fetch, Priority::new(0, 0, 0), Keep::Report);
            t.who_has = holder_set(holders);
            self.insert_task(key, t);
            return;
        };
        match t.status {
            S::Memory => {
                t.keep = Keep::UntilFreed;
                self.out
                    .push(WorkerInstruction::AddKeys { keys: vec![key] });
            }
            S::Fetch | S::Flight { .. } => {
                t.keep = Keep::Report;
                let priority = t.priority;
                self.add_holders(&key, priority, holders);
            }
            S::Cancelled => t.keep = Keep::Report,
            // Runs here and is reported when it finishes.
            S::Waiting | S::Ready | S::Executing | S::Resumed { .. } => {}
        }
    }

    fn on_fetch_done(&mut self, peer: WorkerId, received: Vec<(Key, u64)>, missing: Vec<Key>) {
        self.busy_peers.remove(&peer);
        for (key, nbytes) in received {
            let Some(t) = self.tasks.get_mut(&key) else {
                // Nobody wants it any more.
                self.out.push(WorkerInstruction::Release { key });
                continue;
            };
            if t.status != (S::Flight { peer }) && t.status != (S::Resumed { peer }) {
                continue;
            }
            t.nbytes = nbytes;
            self.transition(&key, Target::Memory);
        }
        self.flush_added();
        for key in missing {
            let Some(t) = self.tasks.get_mut(&key) else {
                continue;
            };
            if t.status == (S::Resumed { peer }) {
                // The scheduler asked for it here: compute it.
                t.who_has.retain(|w| *w != peer);
                if let Some(request) = t.resume.take() {
                    self.become_task(key, *request);
                }
                continue;
            }
            if t.status != (S::Flight { peer }) {
                continue;
            }
            t.who_has.retain(|w| *w != peer);
            if !t.who_has.is_empty() {
                self.transition(&key, Target::Fetch);
                continue;
            }
            // No one else to ask: give the readers back to the scheduler.
            let mut readers: Vec<Key> = t.dependents.iter().cloned().collect();
            readers.sort();
            for r in readers {
                self.out.push(WorkerInstruction::MissingData {
                    key: r.clone(),
                    missing: key.clone(),
                    holder: peer,
                });
                self.transition(&r, Target::Released);
            }
            if self
                .tasks
                .get(&key)
                .is_some_and(|t| t.dependents.is_empty())
            {
                self.transition(&key, Target::Released);
            }
        }
    }

    fn on_execute_done(&mut self, key: Key, nbytes: u64, duration: f64) {
        let Some(t) = self.tasks.get_mut(&key) else {
            self.out.push(WorkerInstruction::Release { key });
            return;
        };
        t.nbytes = nbytes;
        t.duration = duration;
        self.transition(&key, Target::Memory);
    }

    fn on_input_lost(&mut self, key: Key, input: Key, holder: WorkerId) {
        if self
            .tasks
            .get(&input)
            .is_some_and(|t| t.status == S::Memory)
        {
            self.transition(&input, Target::Released);
        }
        let Some(t) = self.tasks.get(&key) else {
            return;
        };
        if t.status == S::Executing {
            self.out.push(WorkerInstruction::MissingData {
                key: key.clone(),
                missing: input,
                holder,
            });
        }
        self.transition(&key, Target::Released);
    }

    fn on_execute_failed(&mut self, key: Key, error: String) {
        let Some(t) = self.tasks.get(&key) else {
            return;
        };
        if t.status == S::Executing {
            self.out.push(WorkerInstruction::TaskErred {
                key: key.clone(),
                error,
                run: t.run,
            });
        }
        self.transition(&key, Target::Released);
    }
}
