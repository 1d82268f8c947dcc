//! Moving held results between workers: `rebalance` (from workers holding more
//! than the mean to those holding less) and `retire_workers` (the results only
//! the retiring workers hold go to others first, then the workers are closed,
//! losing nothing).
//!
//! A move is a copy and a release: the destination is asked to fetch the key
//! from the source (`Replicate`), and when it reports the copy (`AddKeys`) the
//! source's copy is freed. A retiring worker gets no new tasks (like a paused
//! one); once it runs nothing and everything it holds is held elsewhere too, it
//! is told to retire (it exits, and its nanny with it).

use super::*;

impl SchedulerState {
    /// Keys being moved (copied and not yet reported).
    pub fn moves_in_flight(&self) -> usize {
        self.moving.len()
    }

    /// Whether `worker` is retiring (asked to, and not gone yet).
    pub fn is_retiring(&self, worker: WorkerId) -> bool {
        self.retiring.contains(&worker)
    }

    /// Copies `key` from `src` to `dst`; the copy on `src` is freed when `dst`
    /// reports it.
    fn start_move(&mut self, key: &Key, src: WorkerId, dst: WorkerId) {
        self.moving.insert(key.clone(), src);
        self.emit(Instruction::Replicate {
            worker: dst,
            key: key.clone(),
            holders: vec![src],
        });
    }

    /// Workers that may take moved results: connected, not retiring.
    fn receivers(&self) -> Vec<(u64, WorkerId)> {
        let mut r: Vec<(u64, WorkerId)> = self
            .workers
            .values()
            .filter(|w| !self.retiring.contains(&w.id))
            .map(|w| (w.nbytes, w.id))
            .collect();
        r.sort();
        r
    }

    pub(super) fn on_rebalance(&mut self) {
        let receivers = self.receivers();
        if receivers.len() < 2 {
            return;
        }
        let total: u64 = receivers.iter().map(|(b, _)| b).sum();
        let mean = total / receivers.len() as u64;
        // Projected bytes per worker as moves are planned.
        let mut held: BTreeMap<WorkerId, u64> = receivers.iter().map(|(b, w)| (*w, *b)).collect();
        let mut senders: Vec<(u64, WorkerId)> = receivers.iter().rev().copied().collect();
        senders.retain(|(b, _)| *b > mean);
        for (_, src) in senders {
            let mut keys: Vec<(u64, Key)> = self.workers[&src]
                .has_what
                .iter()
                .filter(|k| !self.moving.contains_key(*k))
                .filter_map(|k| {
                    let ts = &self.tasks[k];
                    (ts.status == TaskStatus::Memory).then(|| (ts.nbytes, k.clone()))
                })
                .collect();
            // Largest first, then by key (deterministic).
            keys.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            for (nbytes, key) in keys {
                if held[&src] <= mean {
                    break;
                }
                let Some((&dst, _)) = held
                    .iter()
                    .filter(|(w, b)| {
                        **w != src && **b + nbytes <= mean && !self.tasks[&key].who_has.contains(w)
                    })
                    .min_by_key(|(w, b)| (**b, **w))
                else {
                    continue;
                };
                *held.get_mut(&src).expect("a sender") -= nbytes;
                *held.get_mut(&dst).expect("a receiver") += nbytes;
                self.start_move(&key, src, dst);
            }
        }
    }

    pub(super) fn on_retire_workers(&mut self, workers: Vec<WorkerId>) {
        for w in workers {
            if self.workers.contains_key(&w) {
                self.retiring.insert(w);
            }
        }
        self.move_off_retiring();
    }

    /// Moves what only retiring workers hold to others, and retires those that
    /// run nothing and hold nothing of their own. Called after every event that
    /// may change either.
    pub(super) fn move_off_retiring(&mut self) {
        if self.retiring.is_empty() {
            return;
        }
        if self.receivers().is_empty() {
            // Every other worker is gone: the retiring ones go back to work
            // rather than hold the cluster's results with nothing to run on.
            self.retiring.clear();
            self.retry_stranded("retirement-abandoned");
            return;
        }
        let retiring: Vec<WorkerId> = self.retiring.iter().copied().collect();
        for w in retiring {
            let Some(info) = self.workers.get(&w) else {
                self.retiring.remove(&w);
                continue;
            };
            let mut only_here: Vec<Key> = info
                .has_what
                .iter()
                .filter(|k| {
                    self.tasks[*k]
                        .who_has
                        .iter()
                        .all(|h| self.retiring.contains(h))
                })
                .cloned()
                .collect();
            only_here.sort();
            let busy = !info.processing.is_empty();
            if only_here.is_empty() && !busy {
                self.retiring.remove(&w);
                self.emit(Instruction::RetireWorker { worker: w });
                self.on_remove_worker(w);
                continue;
            }
            for key in only_here {
                if self.moving.contains_key(&key) {
                    continue;
                }
                let Some(&(_, dst)) = self.receivers().first() else {
                    // Nowhere to go: the worker stays until one joins.
                    break;
                };
                self.start_move(&key, w, dst);
            }
        }
    }

    /// `worker` reported a copy of `key`: a move of it ends, freeing the source.
    pub(super) fn move_arrived(&mut self, key: &Key, worker: WorkerId) {
        let Some(&src) = self.moving.get(key) else {
            return;
        };
        if src == worker {
            return;
        }
        self.moving.remove(key);
        if self.retiring.contains(&src) {
            // Retiring workers go with everything they hold.
            return;
        }
        let Some(ts) = self.tasks.get_mut(key) else {
            return;
        };
        if ts.who_has.len() < 2 || !ts.who_has.contains(&src) {
            return;
        }
        ts.who_has.retain(|w| *w != src);
        let nbytes = ts.nbytes;
        if let Some(w) = self.workers.get_mut(&src) {
            if w.has_what.remove(key) {
                w.nbytes = w.nbytes.saturating_sub(nbytes);
            }
        }
        self.emit(Instruction::Free {
            worker: src,
            keys: vec![key.clone()],
        });
    }

    /// Moves of keys that are gone, or whose source is gone, end.
    pub(super) fn forget_stale_moves(&mut self) {
        let stale: Vec<Key> =
            self.moving
                .iter()
                .filter(|(k, src)| {
                    !self.workers.contains_key(src)
                        || self.tasks.get(*k).is_none_or(|t| {
                            t.status != TaskStatus::Memory || !t.who_has.contains(src)
                        })
                })
                .map(|(k, _)| k.clone())
                .collect();
        for k in stale {
            self.moving.remove(&k);
        }
    }
}
