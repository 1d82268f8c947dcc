//! The worker's memory, as its session sees it: heartbeats that report it,
//! samples of the process's memory fed to the
//! [`MemoryManager`](crate::distributed::worker_memory::MemoryManager), and what
//! the manager asks (spill, before the next task starts; pause and resume; exit
//! for the nanny).

use super::{Input, Session, EXIT_CODE, MEMORY_EXIT_CODE};
use crate::distributed::messages::Msg;
use crate::distributed::worker_info::MemoryReport;
use crate::distributed::worker_memory::{process_memory, MemoryEvent, MemoryInstruction};
use crate::distributed::worker_state::WorkerEvent;

impl Session<'_> {
    /// A heartbeat, with the counters and memory.
    pub(super) fn heartbeat(&mut self) {
        self.out.push(Msg::Heartbeat);
        let totals = self.store.totals();
        let (managed, spilled) = {
            let b = self.store.lock();
            (b.memory_bytes(), b.spilled_bytes())
        };
        let mut metrics = self.counters.snapshot(MemoryReport {
            process: process_memory(),
            managed,
            spilled,
            spill_written: totals.written,
            spill_read: totals.read,
            spill_nanos: ((totals.write_seconds + totals.read_seconds) * 1e9) as u64,
        });
        metrics.cpu_percent = self.reporting.cpu_percent();
        self.out.push(Msg::WorkerMetrics { metrics });
        if let Some(report) = self.reporting.take() {
            self.out.push(report);
        }
    }

    /// The process's memory now, for the manager.
    pub(super) fn sample_memory(&mut self) {
        let managed = self.store.memory_bytes();
        self.memory_event(MemoryEvent::Sample {
            process: process_memory(),
            managed,
        });
    }

    /// Ends this worker's run (its files removed) with `code` for the nanny.
    pub(super) fn end_with(&mut self, code: i32) {
        EXIT_CODE.store(code, std::sync::atomic::Ordering::Relaxed);
        self.retired = true;
        let _ = self.tx.send(Input::SchedulerGone);
    }

    /// Held results changed: the memory manager may ask for a spill.
    pub(super) fn managed_changed(&mut self) {
        if self.memory.limit() > 0 {
            let bytes = self.store.memory_bytes();
            self.memory_event(MemoryEvent::Managed { bytes });
        }
    }

    fn memory_event(&mut self, e: MemoryEvent) {
        for i in self.memory.handle(e) {
            match i {
                MemoryInstruction::Spill { down_to } => {
                    // Here and now, before the next task starts: the memory of
                    // what is spilled is free before the next result is made.
                    let started = std::time::Instant::now();
                    let report = self.store.spill_until(down_to);
                    if report.values > 0 {
                        self.reporting.record(
                            crate::distributed::observe::RecordKind::Spill,
                            started.elapsed().as_secs_f64(),
                            report.values,
                            report.bytes,
                        );
                        tracing::debug!(target: "brisk::worker", "spilled {} values, {} bytes", report.values, report.bytes);
                    }
                    // The process itself is over the spill threshold: hand freed
                    // memory back to the system, or it would stay unmanaged.
                    if matches!(e, MemoryEvent::Sample { .. }) {
                        release_freed_memory();
                    }
                }
                MemoryInstruction::Pause => {
                    tracing::warn!(target: "brisk::worker", "memory {} of {} bytes is over the pause threshold: pausing", self.memory.process(), self.memory.limit());
                    self.step(WorkerEvent::Pause);
                    self.out.push(Msg::WorkerPaused { paused: true });
                }
                MemoryInstruction::Resume => {
                    tracing::info!(target: "brisk::worker", "memory is under the pause threshold again: resuming");
                    self.step(WorkerEvent::Resume);
                    self.out.push(Msg::WorkerPaused { paused: false });
                }
                MemoryInstruction::Terminate { process } => {
                    tracing::error!(target: "brisk::worker", "memory {process} of {} bytes is over the terminate threshold: exiting for the nanny to restart this worker", self.memory.limit());
                    self.end_with(MEMORY_EXIT_CODE);
                }
            }
        }
        if self.options.validate {
            if let Err(e) = self.memory.validate() {
                crate::distributed::state_check::report_broken_state("worker memory", &[e]);
            }
        }
    }
}

/// Returns the allocator's freed memory to the system (glibc keeps it in its
/// heaps otherwise, where it counts as the process's memory).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
