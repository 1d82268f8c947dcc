//! The worker's memory manager (Dask's worker memory management), pure: the
//! worker server feeds it [`MemoryEvent`]s — the bytes of results it holds
//! (managed memory) after they change, and the process's resident memory sampled
//! from the OS — and carries out the [`MemoryInstruction`]s.
//!
//! Thresholds are fractions of the memory limit ([`MemoryThresholds`], Dask's
//! defaults): above `target` of managed memory, spill least recently used results
//! until back under it; above `spill` of process memory, spill until the process
//! would be back under `target`; above `pause`, run and fetch nothing new until
//! memory falls under it again; above `terminate`, the nanny restarts the worker.
//!
//! States: `running`, `paused`, `terminating`, through a transition table.
//!
//! ```
//! use brisk_scheduler::distributed::worker_memory::*;
//! let mut m = MemoryManager::new(1000, MemoryThresholds::default());
//! // Managed memory over the target (600): spill down to it.
//! assert_eq!(m.handle(MemoryEvent::Managed { bytes: 700 }), [MemoryInstruction::Spill { down_to: 600 }]);
//! // The process at 850 (pause at 800), of which 100 is managed: pause, and spill
//! // so the process falls to 600.
//! let out = m.handle(MemoryEvent::Sample { process: 850, managed: 100 });
//! assert_eq!(out, [MemoryInstruction::Spill { down_to: 0 }, MemoryInstruction::Pause]);
//! assert_eq!(m.status(), MemoryStatus::Paused);
//! assert_eq!(m.handle(MemoryEvent::Sample { process: 500, managed: 0 }), [MemoryInstruction::Resume]);
//! m.validate().unwrap();
//! ```

/// Fractions of the memory limit; `None` turns a threshold off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryThresholds {
    /// Managed memory kept under this (spill least recently used above it).
    pub target: Option<f64>,
    /// Process memory above which to spill until under `target`.
    pub spill: Option<f64>,
    /// Process memory above which nothing new runs or is fetched.
    pub pause: Option<f64>,
    /// Process memory above which the nanny restarts the worker.
    pub terminate: Option<f64>,
}

impl Default for MemoryThresholds {
    /// Dask's: 0.60, 0.70, 0.80, 0.95.
    fn default() -> Self {
        MemoryThresholds {
            target: Some(0.60),
            spill: Some(0.70),
            pause: Some(0.80),
            terminate: Some(0.95),
        }
    }
}

/// What the memory manager is told.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MemoryEvent {
    /// The bytes of results held in memory changed.
    Managed {
        /// Bytes now held in memory.
        bytes: u64,
    },
    /// A sample of the process's resident memory (every 100 ms).
    Sample {
        /// Resident bytes of the process.
        process: u64,
        /// Bytes of results held in memory now.
        managed: u64,
    },
}

/// What the memory manager asks the worker to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MemoryInstruction {
    /// Spill least recently used results until at most this many bytes are held
    /// in memory.
    Spill {
        /// Managed bytes to get down to.
        down_to: u64,
    },
    /// Start nothing new, fetch nothing new, tell the scheduler.
    Pause,
    /// Run and fetch again, tell the scheduler.
    Resume,
    /// Memory is past the terminate threshold: the nanny restarts the worker.
    Terminate {
        /// The process's resident bytes.
        process: u64,
    },
}

/// The manager's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryStatus {
    /// Working.
    Running,
    /// Over the pause threshold.
    Paused,
    /// Over the terminate threshold: waiting to be restarted.
    Terminating,
}

/// The worker's memory manager.
#[derive(Debug, Clone)]
pub struct MemoryManager {
    limit: u64,
    thresholds: MemoryThresholds,
    status: MemoryStatus,
    /// The last process sample, bytes.
    process: u64,
}

impl MemoryManager {
    /// A manager of `limit` bytes (0: no limit, nothing is ever asked).
    pub fn new(limit: u64, thresholds: MemoryThresholds) -> MemoryManager {
        MemoryManager {
            limit,
            thresholds,
            status: MemoryStatus::Running,
            process: 0,
        }
    }

    /// The state.
    pub fn status(&self) -> MemoryStatus {
        self.status
    }

    /// The limit, bytes (0: none).
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The last sampled process memory, bytes.
    pub fn process(&self) -> u64 {
        self.process
    }

    fn bytes(&self, fraction: Option<f64>) -> Option<u64> {
        (self.limit > 0)
            .then_some(fraction)
            .flatten()
            .map(|f| (self.limit as f64 * f) as u64)
    }

    /// Handles one event and says what to do.
    pub fn handle(&mut self, event: MemoryEvent) -> Vec<MemoryInstruction> {
        let mut out = Vec::new();
        let target = self.bytes(self.thresholds.target);
        match event {
            MemoryEvent::Managed { bytes } => {
                if let Some(t) = target.filter(|t| bytes > *t) {
                    out.push(MemoryInstruction::Spill { down_to: t });
                }
            }
            MemoryEvent::Sample { process, managed } => {
                self.process = process;
                let over = |f| self.bytes(f).is_some_and(|b| process > b);
                if over(self.thresholds.spill) {
                    // Spill until the whole process would be under the target
                    // (what is not managed cannot be spilled).
                    let unmanaged = process.saturating_sub(managed);
                    let goal = target.or(self.bytes(self.thresholds.spill)).unwrap_or(0);
                    out.push(MemoryInstruction::Spill {
                        down_to: goal.saturating_sub(unmanaged),
                    });
                } else if let Some(t) = target.filter(|t| managed > *t) {
                    out.push(MemoryInstruction::Spill { down_to: t });
                }
                let next = if over(self.thresholds.terminate) {
                    MemoryStatus::Terminating
                } else if over(self.thresholds.pause) {
                    MemoryStatus::Paused
                } else {
                    MemoryStatus::Running
                };
                self.transition(next, process, &mut out);
            }
        }
        out
    }

    /// The transition table.
    fn transition(&mut self, to: MemoryStatus, process: u64, out: &mut Vec<MemoryInstruction>) {
        use MemoryStatus::*;
        match (self.status, to) {
            (Running, Paused) => out.push(MemoryInstruction::Pause),
            (Paused, Running) => out.push(MemoryInstruction::Resume),
            (Running | Paused, Terminating) => {
                if self.status == Running {
                    out.push(MemoryInstruction::Pause);
                }
                out.push(MemoryInstruction::Terminate { process });
            }
            // Once terminating, only a restart ends it.
            (Terminating, _) => return,
            (Running, Running) | (Paused, Paused) => {}
        }
        self.status = to;
    }

    /// Checks the thresholds are fractions in order and the state fits them.
    pub fn validate(&self) -> Result<(), String> {
        let t = self.thresholds;
        let set: Vec<f64> = [t.target, t.spill, t.pause, t.terminate]
            .into_iter()
            .flatten()
            .collect();
        if set.iter().any(|f| !(*f > 0.0 && *f <= 1.0)) {
            return Err(format!("thresholds must be fractions in (0, 1]: {t:?}"));
        }
        if self.status == MemoryStatus::Paused && (self.limit == 0 || t.pause.is_none()) {
            return Err("paused with no pause threshold".into());
        }
        if self.status == MemoryStatus::Terminating && (self.limit == 0 || t.terminate.is_none()) {
            return Err("terminating with no terminate threshold".into());
        }
        Ok(())
    }
}

/// The resident memory of this process, bytes (Linux `/proc/self/statm`; 0
/// elsewhere).
pub fn process_memory() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf reads a constant of the system; no memory is touched.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as u64
}
