//! One handler per event (`on_<event>`): each updates what the event itself says and
//! recommends transitions, which [`SchedulerState::transitions`] then carries out.

use super::*;

impl SchedulerState {
    pub(super) fn dispatch(&mut self, event: Event) {
        match event {
            Event::AddWorker {
                worker,
                address,
                nthreads,
            } => self.on_add_worker(worker, address, nthreads),
            Event::RemoveWorker { worker } => self.on_remove_worker(worker),
            Event::AddClient { client } => {
                self.clients.entry(client).or_default();
            }
            Event::RemoveClient { client } => self.on_remove_client(client),
            Event::UpdateGraph {
                client,
                tasks,
                wanted,
                user_priority,
            } => self.on_update_graph(client, tasks, wanted, user_priority),
            Event::TaskFinished {
                worker,
                key,
                nbytes,
                duration,
                run,
            } => {
                if !self.is_stale(&key, run) {
                    self.on_task_finished(worker, key, nbytes, duration)
                }
            }
            Event::TaskErred {
                worker,
                key,
                error,
                run,
            } => {
                if !self.is_stale(&key, run) {
                    self.on_task_erred(worker, key, error)
                }
            }
            Event::MissingData {
                worker,
                key,
                missing,
                holder,
            } => self.on_missing_data(worker, key, missing, holder),
            Event::AddKeys { worker, keys } => self.on_add_keys(worker, keys),
            Event::WorkerPaused { worker, paused } => self.on_worker_paused(worker, paused),
            Event::Rebalance => self.on_rebalance(),
            Event::Restart => {
                let wanted: Vec<(ClientId, Vec<Key>)> = self
                    .clients
                    .iter()
                    .map(|(c, info)| {
                        let mut keys: Vec<Key> = info.wants.iter().cloned().collect();
                        keys.sort();
                        (*c, keys)
                    })
                    .collect();
                for (c, keys) in wanted {
                    self.on_release_keys(c, keys, true);
                }
            }
            Event::RetireWorkers { workers } => self.on_retire_workers(workers),
            Event::ReleaseKeys { client, keys } => self.on_release_keys(client, keys, false),
            Event::Cancel { client, keys } => self.on_release_keys(client, keys, true),
            Event::Scatter {
                client,
                keys,
                broadcast,
            } => self.on_scatter(client, keys, broadcast),
            Event::Replicate { client: _, keys, n } => self.on_replicate(keys, n),
            Event::Heartbeat { worker } => {
                let now = self.now;
                if let Some(w) = self.workers.get_mut(&worker) {
                    w.last_seen = now;
                }
            }
            Event::Tick => self.on_tick(),
        }
    }

    fn on_add_worker(&mut self, id: WorkerId, address: String, nthreads: u32) {
        self.no_workers_since = None;
        self.workers.insert(
            id,
            WorkerInfo {
                id,
                address,
                nthreads: nthreads.max(1),
                processing: FxHashMap::default(),
                occupancy: 0.0,
                has_what: FxHashSet::default(),
                nbytes: 0,
                last_seen: self.now,
                paused: false,
            },
        );
        self.retry_stranded("add-worker");
    }

    /// Tasks that found no worker, and queued root tasks, try again.
    pub(super) fn retry_stranded(&mut self, stimulus: &'static str) {
        let stranded: Vec<Key> = self.unrunnable.iter().map(|(_, k)| k.clone()).collect();
        let recs = stranded
            .into_iter()
            .map(|k| (k, Target::Processing))
            .collect();
        self.transitions(recs, stimulus);
        self.fill_from_queue(stimulus);
    }

    fn on_worker_paused(&mut self, worker: WorkerId, paused: bool) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        let was = std::mem::replace(&mut w.paused, paused);
        if was && !paused {
            self.retry_stranded("worker-resumed");
        }
    }

    pub(super) fn on_remove_worker(&mut self, id: WorkerId) {
        let Some(w) = self.workers.remove(&id) else {
            return;
        };
        let mut recs = Vec::new();
        let mut running: Vec<Key> = w.processing.into_keys().collect();
        running.sort();
        for key in running {
            let Some(ts) = self.tasks.get_mut(&key) else {
                continue;
            };
            ts.suspicious += 1;
            if ts.suspicious >= self.config.allowed_failures {
                let error: Arc<str> = format!(
                    "KilledWorker: task {key} was running on {} workers that died ({id} the last); it is taken to kill workers",
                    ts.suspicious
                )
                .into();
                recs.push((key, Target::Erred(error)));
            } else {
                recs.push((key, Target::Released));
            }
        }
        let mut held: Vec<Key> = w.has_what.into_iter().collect();
        held.sort();
        for key in held {
            let Some(ts) = self.tasks.get_mut(&key) else {
                continue;
            };
            ts.who_has.retain(|x| *x != id);
            if ts.who_has.is_empty() && ts.status == TaskStatus::Memory {
                // Recomputed from lineage if still needed (scattered data cannot be).
                recs.push((key, Target::Released));
            }
        }
        self.transitions(recs, "remove-worker");
        self.fill_from_queue("remove-worker");
    }

    fn on_remove_client(&mut self, client: ClientId) {
        if let Some(info) = self.clients.remove(&client) {
            let mut keys: Vec<Key> = info.wants.into_iter().collect();
            keys.sort();
            self.clients.insert(client, ClientInfo::default());
            self.on_release_keys(client, keys, false);
            self.clients.remove(&client);
        }
    }

    fn on_update_graph(
        &mut self,
        client: ClientId,
        tasks: Vec<NewTask>,
        wanted: Vec<Key>,
        user_priority: i32,
    ) {
        self.clients.entry(client).or_default();
        if let Some(on_cycle) = super::cycles::find_cycle(&tasks, |k| self.tasks.contains_key(k)) {
            // Nothing of a cyclic graph is taken; every key asked for says why.
            for key in wanted {
                let error = format!(
                    "the submitted graph has a cycle through {on_cycle}; nothing of it was accepted"
                );
                self.emit(Instruction::Report {
                    client,
                    report: Report::Erred { key, error },
                });
            }
            return;
        }
        self.generation += 1;
        let generation = self.generation;
        let mut recs = Vec::new();
        let mut added = Vec::new();
        for t in tasks {
            if self.tasks.contains_key(&t.key) {
                continue;
            }
            added.push(t.key.clone());
            self.groups.added(
                t.key.prefix(),
                &TaskStatus::Released,
                t.dependencies.iter().map(|d| d.prefix()),
            );
            self.tasks.insert(
                t.key.clone(),
                TaskState {
                    key: t.key,
                    spec: Some(t.spec),
                    dependencies: t.dependencies,
                    dependents: FxHashSet::default(),
                    priority: Priority::new(user_priority, generation, t.order),
                    status: TaskStatus::Released,
                    who_has: SmallVec::new(),
                    nbytes: 0,
                    wanted_by: SmallVec::new(),
                    waiting_on: FxHashSet::default(),
                    waiters: FxHashSet::default(),
                    suspicious: 0,
                    story: VecDeque::new(),
                    run: 0,
                },
            );
        }
        // Link the new tasks to their inputs; an unknown input fails the task.
        for key in &added {
            let deps = self.tasks[key].dependencies.clone();
            for d in deps {
                match self.tasks.get_mut(&d) {
                    Some(dep) => {
                        dep.dependents.insert(key.clone());
                    }
                    None => {
                        let error: Arc<str> = format!(
                            "task {key} reads {d}, which the scheduler does not know (was its future released?)"
                        )
                        .into();
                        recs.push((key.clone(), Target::Erred(error)));
                    }
                }
            }
        }
        for key in wanted {
            let Some(ts) = self.tasks.get_mut(&key) else {
                let error = format!("{key} is neither in the graph nor known to the scheduler");
                self.emit(Instruction::Report {
                    client,
                    report: Report::Erred { key, error },
                });
                continue;
            };
            if !ts.wanted_by.contains(&client) {
                ts.wanted_by.push(client);
            }
            self.clients
                .get_mut(&client)
                .map(|c| c.wants.insert(key.clone()));
            match &ts.status {
                TaskStatus::Memory => {
                    let nbytes = ts.nbytes;
                    self.emit(Instruction::Report {
                        client,
                        report: Report::InMemory { key, nbytes },
                    });
                }
                TaskStatus::Erred { error } => {
                    let error = error.to_string();
                    self.emit(Instruction::Report {
                        client,
                        report: Report::Erred { key, error },
                    });
                }
                TaskStatus::Released => recs.push((key, Target::Waiting)),
                _ => {}
            }
        }
        self.transitions(recs, "update-graph");
        // New tasks that nothing needs (the client sent more than it wants).
        let unneeded: Vec<Key> = added
            .into_iter()
            .filter(|k| {
                self.tasks
                    .get(k)
                    .is_some_and(|t| t.status == TaskStatus::Released && t.dependents.is_empty())
            })
            .collect();
        self.transitions(
            unneeded
                .into_iter()
                .map(|k| (k, Target::Forgotten))
                .collect(),
            "update-graph",
        );
    }

    fn on_task_finished(&mut self, worker: WorkerId, key: Key, nbytes: u64, duration: f64) {
        let Some(ts) = self.tasks.get(&key) else {
            // Forgotten meanwhile: the worker should drop it.
            self.emit(Instruction::Free {
                worker,
                keys: vec![key],
            });
            return;
        };
        match ts.status {
            TaskStatus::Processing { worker: w } if w == worker => {
                self.record_duration(&key, duration);
                self.groups.finished(key.prefix(), duration, nbytes);
                self.transition_processing_memory(&key, worker, nbytes, "task-finished");
                self.fill_from_queue("task-finished");
            }
            TaskStatus::Memory if self.workers.contains_key(&worker) => {
                // A second copy (the task ran twice after a reschedule): keep it.
                self.add_replica(&key, worker);
            }
            _ => self.emit(Instruction::Free {
                worker,
                keys: vec![key],
            }),
        }
    }

    /// A report of a run that a later compute request of the same key replaced:
    /// the worker's report crossed the scheduler's free and new request on the
    /// wire. The worker answers the new request with its own report.
    fn is_stale(&self, key: &Key, run: Option<u64>) -> bool {
        match (run, self.tasks.get(key)) {
            (Some(run), Some(ts)) => {
                matches!(ts.status, TaskStatus::Processing { .. }) && ts.run != run
            }
            _ => false,
        }
    }

    fn on_task_erred(&mut self, worker: WorkerId, key: Key, error: String) {
        let on_this_worker = matches!(
            self.tasks.get(&key).map(|t| &t.status),
            Some(TaskStatus::Processing { worker: w }) if *w == worker
        );
        if on_this_worker {
            self.transitions(vec![(key, Target::Erred(error.into()))], "task-erred");
            self.fill_from_queue("task-erred");
        }
    }

    fn on_missing_data(&mut self, worker: WorkerId, key: Key, missing: Key, holder: WorkerId) {
        let mut recs = Vec::new();
        if let Some(dep) = self.tasks.get_mut(&missing) {
            if dep.who_has.contains(&holder) {
                dep.who_has.retain(|w| *w != holder);
                if let Some(h) = self.workers.get_mut(&holder) {
                    if h.has_what.remove(&missing) {
                        h.nbytes = h.nbytes.saturating_sub(dep.nbytes);
                    }
                }
                if dep.who_has.is_empty() && dep.status == TaskStatus::Memory {
                    recs.push((missing.clone(), Target::Released));
                }
            }
        }
        let on_this_worker = matches!(
            self.tasks.get(&key).map(|t| &t.status),
            Some(TaskStatus::Processing { worker: w }) if *w == worker
        );
        if on_this_worker {
            recs.push((key, Target::Released));
        }
        self.transitions(recs, "missing-data");
        self.fill_from_queue("missing-data");
    }

    fn on_add_keys(&mut self, worker: WorkerId, keys: Vec<Key>) {
        for key in keys {
            let in_memory = self
                .tasks
                .get(&key)
                .is_some_and(|t| t.status == TaskStatus::Memory);
            let running_there = matches!(
                self.tasks.get(&key).map(|t| &t.status),
                Some(TaskStatus::Processing { worker: w }) if *w == worker
            );
            if in_memory && self.workers.contains_key(&worker) {
                self.add_replica(&key, worker);
                self.move_arrived(&key, worker);
            } else if running_there {
                // A copy that arrived before the scheduler asked the same worker to
                // compute the key: freeing it would cancel that run, whose report
                // the scheduler waits for. The run reports it.
            } else {
                self.emit(Instruction::Free {
                    worker,
                    keys: vec![key],
                });
            }
        }
    }

    fn on_release_keys(&mut self, client: ClientId, keys: Vec<Key>, cancel: bool) {
        let mut recs = Vec::new();
        for key in keys {
            if let Some(c) = self.clients.get_mut(&client) {
                c.wants.remove(&key);
            }
            let Some(ts) = self.tasks.get_mut(&key) else {
                continue;
            };
            let had = ts.wanted_by.contains(&client);
            ts.wanted_by.retain(|c| *c != client);
            if cancel && had {
                self.out.push(Instruction::Report {
                    client,
                    report: Report::Cancelled { key: key.clone() },
                });
            }
            if let Some(t) = self.unneeded_target(&key) {
                recs.push((key, t));
            }
        }
        self.transitions(recs, if cancel { "cancel" } else { "release-keys" });
        self.fill_from_queue("release-keys");
    }

    fn on_scatter(&mut self, client: ClientId, keys: Vec<(Key, u64)>, broadcast: bool) {
        self.clients.entry(client).or_default();
        for (key, nbytes) in keys {
            if self.workers.is_empty() {
                self.emit(Instruction::Report {
                    client,
                    report: Report::Erred {
                        key,
                        error: "cannot scatter: no worker is connected".into(),
                    },
                });
                continue;
            }
            let known_in_memory = self
                .tasks
                .get(&key)
                .is_some_and(|t| t.status == TaskStatus::Memory);
            if !known_in_memory {
                let targets: Vec<WorkerId> = if broadcast {
                    self.workers.keys().copied().collect()
                } else {
                    vec![self.least_loaded_by_bytes()]
                };
                self.insert_scattered(&key, nbytes, &targets);
                for w in targets {
                    self.emit(Instruction::StoreScattered {
                        worker: w,
                        key: key.clone(),
                    });
                }
            } else if broadcast {
                let missing: Vec<WorkerId> = self
                    .workers
                    .keys()
                    .filter(|w| !self.tasks[&key].who_has.contains(w))
                    .copied()
                    .collect();
                for w in missing {
                    self.add_replica(&key, w);
                    self.emit(Instruction::StoreScattered {
                        worker: w,
                        key: key.clone(),
                    });
                }
            }
            let ts = self.tasks.get_mut(&key).expect("inserted above");
            if !ts.wanted_by.contains(&client) {
                ts.wanted_by.push(client);
            }
            self.clients
                .get_mut(&client)
                .map(|c| c.wants.insert(key.clone()));
            self.emit(Instruction::Report {
                client,
                report: Report::InMemory { key, nbytes },
            });
        }
    }

    fn on_replicate(&mut self, keys: Vec<Key>, n: usize) {
        for key in keys {
            let Some(ts) = self.tasks.get(&key) else {
                continue;
            };
            if ts.status != TaskStatus::Memory {
                continue;
            }
            let holders: Vec<WorkerId> = ts.who_has.to_vec();
            let mut candidates: Vec<(u64, WorkerId)> = self
                .workers
                .values()
                .filter(|w| !holders.contains(&w.id))
                .map(|w| (w.nbytes, w.id))
                .collect();
            candidates.sort();
            let want = n.min(self.workers.len()).saturating_sub(holders.len());
            // Each new copy may be read from the holders and from the copies before
            // it, so the spread is a tree rather than a star.
            let mut sources = holders.clone();
            for (_, w) in candidates.into_iter().take(want) {
                self.emit(Instruction::Replicate {
                    worker: w,
                    key: key.clone(),
                    holders: sources.clone(),
                });
                sources.push(w);
            }
        }
    }

    fn on_tick(&mut self) {
        let deadline = self.now - self.config.worker_timeout;
        let silent: Vec<WorkerId> = self
            .workers
            .values()
            .filter(|w| w.last_seen < deadline)
            .map(|w| w.id)
            .collect();
        for worker in silent {
            self.emit(Instruction::CloseWorker { worker });
            self.on_remove_worker(worker);
        }
        self.fail_unrunnable_without_workers();
    }

    /// Once no worker has been connected for the no-workers timeout, the tasks
    /// waiting for one fail (and with them what depends on them), so clients
    /// hear why instead of waiting forever.
    fn fail_unrunnable_without_workers(&mut self) {
        if !self.workers.is_empty() || self.unrunnable.is_empty() {
            self.no_workers_since = None;
            return;
        }
        let since = *self.no_workers_since.get_or_insert(self.now);
        let Some(timeout) = self.config.no_workers_timeout else {
            return;
        };
        if self.now - since < timeout {
            return;
        }
        let stranded: Vec<Key> = self.unrunnable.iter().map(|(_, k)| k.clone()).collect();
        let recs = stranded
            .into_iter()
            .map(|k| {
                let error: Arc<str> = format!(
                    "{k} could not run: no worker has been connected for {timeout} s (the no-workers timeout)"
                )
                .into();
                (k, Target::Erred(error))
            })
            .collect();
        self.transitions(recs, "no-workers-timeout");
    }

    fn record_duration(&mut self, key: &Key, duration: f64) {
        if !duration.is_finite() || duration < 0.0 {
            return;
        }
        let prefix = key.prefix();
        match self.durations.get_mut(prefix) {
            Some((mean, n)) => {
                *n += 1;
                *mean += (duration - *mean) / (*n).min(100) as f64;
            }
            None => {
                self.durations.insert(prefix.into(), (duration, 1));
            }
        }
    }

    fn add_replica(&mut self, key: &Key, worker: WorkerId) {
        let Some(ts) = self.tasks.get_mut(key) else {
            return;
        };
        if ts.who_has.contains(&worker) {
            return;
        }
        ts.who_has.push(worker);
        let nbytes = ts.nbytes;
        if let Some(w) = self.workers.get_mut(&worker) {
            w.has_what.insert(key.clone());
            w.nbytes += nbytes;
        }
    }

    fn insert_scattered(&mut self, key: &Key, nbytes: u64, targets: &[WorkerId]) {
        let generation = self.generation;
        let stimulus_id = self.stimulus_id;
        if !self.tasks.contains_key(key) {
            self.groups
                .added(key.prefix(), &TaskStatus::Released, std::iter::empty());
        }
        let ts = self.tasks.entry(key.clone()).or_insert_with(|| TaskState {
            key: key.clone(),
            spec: None,
            dependencies: Vec::new(),
            dependents: FxHashSet::default(),
            priority: Priority::new(0, generation, 0),
            status: TaskStatus::Released,
            who_has: SmallVec::new(),
            nbytes,
            wanted_by: SmallVec::new(),
            waiting_on: FxHashSet::default(),
            waiters: FxHashSet::default(),
            suspicious: 0,
            story: VecDeque::new(),
            run: 0,
        });
        let from = ts.status.name();
        ts.nbytes = nbytes;
        self.groups
            .moved(key.prefix(), &ts.status, &TaskStatus::Memory);
        ts.status = TaskStatus::Memory;
        crate::distributed::ids::push_story(
            &mut ts.story,
            StoryLine {
                from,
                to: "memory",
                stimulus: "scatter",
                stimulus_id,
            },
        );
        for w in targets {
            self.add_replica(key, *w);
        }
    }

    fn least_loaded_by_bytes(&self) -> WorkerId {
        self.workers
            .values()
            .min_by_key(|w| (w.nbytes, w.id))
            .map(|w| w.id)
            .unwrap_or(WorkerId(0))
    }
}
