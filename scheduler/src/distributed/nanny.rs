//! The nanny: a small supervisor process per worker (Dask's `Nanny`). A worker
//! command line starts a nanny unless it says `--no-nanny`; the nanny starts the
//! same command again, with `--no-nanny`, as the worker, and starts it again when
//! it crashes or ends itself past its memory's terminate threshold
//! ([`MEMORY_EXIT_CODE`]) or on the scheduler's request ([`RESTART_EXIT_CODE`]).
//! The scheduler sees the old worker's connection close (its running tasks are
//! rescheduled; a task that kills workers repeatedly is erred) and the new worker
//! join. SIGTERM or SIGINT to the nanny ends the worker (which removes its
//! files) and then the nanny; the worker dies with its nanny.
//!
//! A worker that ends with any other exit code (it finished, its scheduler went
//! away for good, its options were wrong) ends the nanny with that code; one
//! killed by a signal or a panic is a crash. A worker that keeps crashing at
//! once ([`MAX_QUICK_RESTARTS`] in a row within [`QUICK`] of starting) is given
//! up on.

use super::supervision::ENV_PARENT;
pub use super::supervision::{MEMORY_EXIT_CODE, NANNY_ENV, RESTART_EXIT_CODE};
use std::ffi::OsString;
use std::time::{Duration, Instant};

/// A worker that dies within this long of starting died quickly.
pub const QUICK: Duration = Duration::from_secs(5);

/// Quick deaths in a row after which the nanny gives up.
pub const MAX_QUICK_RESTARTS: u32 = 5;

/// Why a worker process ended, as the nanny reads its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It ended with this exit code, not a crash: the nanny ends with it.
    Done(i32),
    /// Past its memory's terminate threshold.
    Memory,
    /// The scheduler asked for a restart.
    Restart,
    /// It crashed: killed by a signal, or a panic (exit code 101).
    Crashed,
}

impl Ended {
    /// Reads an exit status.
    pub fn of(status: std::process::ExitStatus) -> Ended {
        match status.code() {
            Some(c) if c == MEMORY_EXIT_CODE => Ended::Memory,
            Some(c) if c == RESTART_EXIT_CODE => Ended::Restart,
            Some(101) | None => Ended::Crashed,
            Some(c) => Ended::Done(c),
        }
    }
}

/// Runs a nanny over the worker started by this process's own command line
/// plus `--no-nanny`; returns the nanny's exit code.
pub fn run_nanny(bin_name: &str) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{bin_name} nanny: {e}");
            return 1;
        }
    };
    rt.block_on(supervise(bin_name))
}

async fn supervise(bin_name: &str) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{bin_name} nanny: cannot find this executable: {e}");
            return 1;
        }
    };
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    args.push("--no-nanny".into());
    let stop = super::scheduler_server::terminated();
    tokio::pin!(stop);
    let mut quick = 0u32;
    let mut restarts = 0u64;
    loop {
        let started = Instant::now();
        let mut child = match tokio::process::Command::new(&exe)
            .args(&args)
            .env(NANNY_ENV, "1")
            .env(ENV_PARENT, std::process::id().to_string())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{bin_name} nanny: cannot start the worker: {e}");
                return 1;
            }
        };
        let status = tokio::select! {
            s = child.wait() => s,
            _ = &mut stop => {
                // Pass the signal on, let the worker clean up, then go.
                if let Some(pid) = child.id() {
                    // SAFETY: a signal to the child this nanny started and has not reaped.
                    unsafe {
                        libc::kill(pid as libc::pid_t, libc::SIGTERM);
                    }
                }
                let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
                return 0;
            }
        };
        let ended = match status {
            Ok(s) => (Ended::of(s), s.to_string()),
            Err(e) => (Ended::Crashed, e.to_string()),
        };
        let why = match ended.0 {
            Ended::Done(code) => return code,
            Ended::Memory => "went past its memory's terminate threshold",
            Ended::Restart => "was asked to restart",
            Ended::Crashed => "crashed",
        };
        restarts += 1;
        quick = if started.elapsed() < QUICK && ended.0 == Ended::Crashed {
            quick + 1
        } else {
            0
        };
        if quick >= MAX_QUICK_RESTARTS {
            eprintln!(
                "{bin_name} nanny: the worker {why} ({}) {quick} times in a row within {QUICK:?} of starting; giving up",
                ended.1
            );
            return 1;
        }
        tracing::warn!(target: "brisk::nanny", "the worker {why} ({}); starting it again (restart {restarts})", ended.1);
        eprintln!(
            "{bin_name} nanny: the worker {why} ({}); starting it again",
            ended.1
        );
        tokio::time::sleep(Duration::from_millis(100 * quick as u64)).await;
    }
}
