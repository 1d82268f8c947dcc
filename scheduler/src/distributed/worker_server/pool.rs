//! The threads that run a worker's tasks.

use crate::error::Result;
use std::sync::{Arc, Mutex};

thread_local! {
    /// The index of the pool thread this is (0 elsewhere).
    static THREAD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The index of the pool thread running the caller (0 off the pool).
pub(super) fn current_thread() -> u32 {
    THREAD.with(|t| t.get())
}

/// A job for a pool thread.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// The threads that run tasks. Idle threads block on a channel (no spinning: on a
/// small machine a spinning pool steals the cores the network threads need).
pub(super) struct Pool {
    tx: std::sync::mpsc::Sender<Job>,
}

impl Pool {
    pub(super) fn new(n: usize) -> Result<Pool> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("brisk-worker-{i}"))
                .spawn(move || {
                    THREAD.with(|t| t.set(i as u32));
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Pool { tx })
    }

    pub(super) fn spawn(&self, job: Job) {
        let _ = self.tx.send(job);
    }
}
