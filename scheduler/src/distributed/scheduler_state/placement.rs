//! Where a ready task runs.
//!
//! A task with inputs goes to the worker where it would start soonest: the bytes
//! of its inputs the worker lacks, over the bandwidth, plus the work already queued
//! on the worker per thread (occupancy, from per-op mean durations). A root task
//! (no inputs: readers, generators) goes to the least busy worker with a free slot
//! (`ceil(saturation × nthreads)` running tasks) and otherwise waits in the
//! scheduler's queue, so that readers are started only as fast as their results are
//! consumed and memory stays low. Ties go to the lower worker id, so the choice is
//! deterministic. A paused worker (over its memory's pause threshold) or a retiring one gets
//! nothing new; with every worker paused, tasks wait as if there were none.

use super::*;

pub(super) enum Decision {
    Worker(WorkerId),
    Queue,
    NoWorker,
}

impl SchedulerState {
    pub(super) fn decide_worker(&self, key: &Key) -> Decision {
        if self.workers.is_empty() {
            return Decision::NoWorker;
        }
        let ts = &self.tasks[key];
        if ts.dependencies.is_empty() {
            let best = self
                .workers
                .values()
                .filter(|w| self.takes_tasks(w) && w.processing.len() < self.slots(w, key))
                .min_by(|a, b| {
                    // fewest running tasks per thread: a.len/a.n < b.len/b.n
                    let x = a.processing.len() as u64 * b.nthreads as u64;
                    let y = b.processing.len() as u64 * a.nthreads as u64;
                    x.cmp(&y).then(a.id.cmp(&b.id))
                });
            return match best {
                Some(w) => Decision::Worker(w.id),
                None => Decision::Queue,
            };
        }
        let mut best: Option<(f64, WorkerId)> = None;
        for w in self.workers.values().filter(|w| self.takes_tasks(w)) {
            let mut missing = 0u64;
            for d in &ts.dependencies {
                let dep = &self.tasks[d];
                if !dep.who_has.contains(&w.id) {
                    missing += dep.nbytes;
                }
            }
            let cost = missing as f64 / self.config.bandwidth + w.occupancy / w.nthreads as f64;
            if best.is_none_or(|(c, _)| cost < c) {
                best = Some((cost, w.id));
            }
        }
        match best {
            Some((_, w)) => Decision::Worker(w),
            None => Decision::NoWorker,
        }
    }

    /// Whether a worker gets new tasks: not paused by its memory, not retiring.
    pub(super) fn takes_tasks(&self, w: &WorkerInfo) -> bool {
        !w.paused && !self.retiring.contains(&w.id)
    }

    /// How many root tasks of `key`'s kind a worker may run at once.
    pub(super) fn slots(&self, w: &WorkerInfo, key: &Key) -> usize {
        let base = (self.config.saturation * w.nthreads as f64).ceil().max(1.0) as usize;
        match self.durations.get(key.prefix()) {
            Some((mean, _)) if *mean < self.config.fast_task => {
                base.max((self.config.fast_task_slots * w.nthreads) as usize)
            }
            _ => base,
        }
    }

    pub(super) fn has_free_slot_for(&self, key: &Key) -> bool {
        self.workers
            .values()
            .any(|w| self.takes_tasks(w) && w.processing.len() < self.slots(w, key))
    }

    /// The expected run time of a task, from the mean of its op's past runs.
    pub(super) fn estimate(&self, key: &Key) -> f64 {
        self.durations
            .get(key.prefix())
            .map(|(mean, _)| *mean)
            .unwrap_or(self.config.default_duration)
    }
}
