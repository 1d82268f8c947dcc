//! The command lines of workers and schedulers, shared by the stock binaries
//! (`brisk-worker`, `brisk-scheduler`) and by every program built on Brisk:
//! `brisk::init()` calls [`main_if_requested`], so `myprog brisk-worker
//! tcp://scheduler-host:8786 --nthreads 4` runs a worker that knows `myprog`'s
//! own `#[brisk::task]` functions, on any host, and `myprog brisk-scheduler`
//! runs a scheduler. Options follow `dask worker` and `dask scheduler`.
//!
//! ```text
//! myprog brisk-scheduler --listen-address 0.0.0.0:8786 --contact-address 10.0.0.1:8786 \
//!     --scheduler-file /shared/scheduler.json --token-file /shared/token
//! myprog brisk-worker --scheduler-file /shared/scheduler.json --token-file /shared/token \
//!     --listen-address 0.0.0.0:0 --contact-address 10.0.0.2:0 --nthreads 4 --memory-limit 8GiB
//! ```

mod scheduler;
mod scheduler_file;
mod security;
mod size;
mod worker;

pub use scheduler::{scheduler_main, SchedulerArgs};
pub use scheduler_file::SchedulerFile;
pub use security::Security;
pub use size::{machine_memory, parse_bytes, MemoryLimit, Threshold};
pub use worker::{worker_main, WorkerArgs};

use std::ffi::OsString;
use std::time::Duration;

/// The first argument that turns a program into a worker.
pub const WORKER_COMMAND: &str = "brisk-worker";
/// The first argument that turns a program into a scheduler.
pub const SCHEDULER_COMMAND: &str = "brisk-scheduler";

/// If this program's first argument is [`WORKER_COMMAND`] or
/// [`SCHEDULER_COMMAND`], runs that with the rest of the command line and exits;
/// otherwise returns at once.
pub fn main_if_requested() {
    let args: Vec<OsString> = std::env::args_os().collect();
    let program = args
        .first()
        .map(|p| {
            std::path::Path::new(p)
                .file_name()
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let code = match args.get(1).and_then(|a| a.to_str()) {
        Some(WORKER_COMMAND) => worker_main(
            &format!("{program} {WORKER_COMMAND}"),
            args[2..].iter().cloned(),
        ),
        Some(SCHEDULER_COMMAND) => scheduler_main(
            &format!("{program} {SCHEDULER_COMMAND}"),
            args[2..].iter().cloned(),
        ),
        _ => return,
    };
    std::process::exit(code);
}

/// Parses `args` (without the program name) as `P`, printing the usage and
/// exiting on a bad flag, or the help on `--help`.
fn parse<P: clap::Parser>(bin_name: &str, args: impl Iterator<Item = OsString>) -> P {
    let mut command = P::command().bin_name(bin_name.to_string());
    let all = std::iter::once(OsString::from(bin_name)).chain(args);
    let parsed = command
        .try_get_matches_from_mut(all)
        .and_then(|mut m| P::from_arg_matches_mut(&mut m));
    match parsed {
        Ok(p) => p,
        Err(e) => e.format(&mut command).exit(),
    }
}

/// A positive number of seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    let s: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("cannot read '{text}' as seconds"))?;
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("'{text}' is not a positive number of seconds"))
}

/// A size in bytes (see [`parse_bytes`]).
fn bytes(text: &str) -> Result<usize, String> {
    parse_bytes(text)
        .map_err(|e| e.to_string())
        .and_then(|b| usize::try_from(b).map_err(|_| format!("'{text}' is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_must_be_positive_numbers() {
        assert_eq!(seconds("1.5").unwrap(), Duration::from_millis(1500));
        assert!(seconds("0").unwrap_err().contains("not a positive"));
        assert!(seconds("soon").unwrap_err().contains("cannot read 'soon'"));
        assert_eq!(bytes("1KiB").unwrap(), 1024);
    }
}
