//! `brisk-worker`: the worker's command line.

use super::{parse, seconds, MemoryLimit, SchedulerFile, Security, Threshold};
use crate::distributed::worker_memory::MemoryThresholds;
use crate::distributed::worker_server::{run_blocking, WorkerOptions};
use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::distributed::supervision::ENV_PARENT;

/// Runs a Brisk worker until SIGTERM or SIGINT, or until its scheduler has been
/// unreachable for the death timeout.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, long_about = None)]
pub struct WorkerArgs {
    /// The scheduler's address (tcp://host:port); or give --scheduler-file.
    #[arg(
        value_name = "SCHEDULER_ADDRESS",
        required_unless_present = "scheduler_file"
    )]
    pub scheduler: Option<String>,
    /// Read the scheduler's address from this file (written by the scheduler's
    /// --scheduler-file; waited for up to the death timeout).
    #[arg(long, value_name = "PATH", conflicts_with = "scheduler")]
    pub scheduler_file: Option<PathBuf>,
    /// The address to serve peers on (port 0 picks one).
    #[arg(
        long,
        alias = "listen",
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:0"
    )]
    pub listen_address: String,
    /// The address peers and the scheduler dial to reach this worker; needed when
    /// listening on a wildcard. Port 0 means the port actually bound.
    #[arg(long, value_name = "HOST:PORT")]
    pub contact_address: Option<String>,
    /// A name for people (default: worker-<pid>).
    #[arg(long)]
    pub name: Option<String>,
    /// Threads running tasks (default: the cores of the host).
    #[arg(long)]
    pub nthreads: Option<usize>,
    /// Bytes (4GiB, 4GB), a fraction of the machine (0.5), auto (the machine's
    /// memory times nthreads / cores), or 0 for none.
    #[arg(long, value_name = "LIMIT", default_value = "auto")]
    pub memory_limit: MemoryLimit,
    /// Fraction of the memory limit for results in memory; past it the least
    /// recently used are spilled to disk (false: never).
    #[arg(long, value_name = "FRACTION", default_value = "0.6")]
    pub memory_target_fraction: Threshold,
    /// Fraction of the limit of process memory past which results are spilled
    /// until the process is back under the target (false: never).
    #[arg(long, value_name = "FRACTION", default_value = "0.7")]
    pub memory_spill_fraction: Threshold,
    /// Fraction of the limit of process memory past which the worker starts and
    /// fetches nothing new until it falls again (false: never).
    #[arg(long, value_name = "FRACTION", default_value = "0.8")]
    pub memory_pause_fraction: Threshold,
    /// Fraction of the limit of process memory past which the nanny restarts the
    /// worker (false: never).
    #[arg(long, value_name = "FRACTION", default_value = "0.95")]
    pub memory_terminate_fraction: Threshold,
    /// The folder in which this worker makes its working directory (default: the
    /// system's temporary folder).
    #[arg(long, value_name = "PATH")]
    pub local_directory: Option<PathBuf>,
    /// Token and TLS.
    #[command(flatten)]
    pub security: Security,
    /// Seconds between heartbeats.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub heartbeat: Option<Duration>,
    /// Seconds one attempt to reach the scheduler or a peer may take.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub connect_timeout: Option<Duration>,
    /// Seconds a connecting peer has to finish its handshake.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub handshake_timeout: Option<Duration>,
    /// Seconds to keep trying to reach the scheduler before exiting.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub death_timeout: Option<Duration>,
    /// Check the state machine after every event (slow; for tests).
    #[arg(long, hide = true)]
    pub validate: bool,
    /// Run the worker itself, not a nanny that starts it and restarts it after
    /// a crash or a memory kill.
    #[arg(long)]
    pub no_nanny: bool,
    /// The log filter (`info`, `brisk=debug,warn`); BRISK_LOG otherwise.
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
}

impl WorkerArgs {
    /// The worker's options (reads the scheduler, token and TLS files).
    pub fn options(&self) -> Result<WorkerOptions> {
        let mut o = WorkerOptions::new("");
        if let Some(t) = self.death_timeout {
            o.reconnect = t;
        }
        o.scheduler = match (&self.scheduler, &self.scheduler_file) {
            (Some(address), _) => address.clone(),
            (None, Some(file)) => SchedulerFile::wait_for(file, o.reconnect)?.address,
            (None, None) => {
                return Err(Error::Config {
                    reason: "a worker needs a scheduler address or --scheduler-file".into(),
                })
            }
        };
        o.listen = self.listen_address.clone();
        o.contact = self.contact_address.clone();
        if let Some(n) = self.nthreads {
            if n == 0 {
                return Err(Error::Config {
                    reason: "--nthreads must be at least 1".into(),
                });
            }
            o.nthreads = n;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        o.memory_limit = self
            .memory_limit
            .bytes(o.nthreads, cores, super::machine_memory());
        o.memory = MemoryThresholds {
            target: self.memory_target_fraction.0,
            spill: self.memory_spill_fraction.0,
            pause: self.memory_pause_fraction.0,
            terminate: self.memory_terminate_fraction.0,
        };
        if let Some(name) = &self.name {
            o.name = name.clone();
        }
        if let Some(dir) = &self.local_directory {
            o.local_directory = dir.clone();
        }
        o.token = self.security.token()?;
        o.tls = self.security.tls()?;
        if let Some(t) = self.heartbeat {
            o.heartbeat = t;
        }
        if let Some(t) = self.connect_timeout {
            o.connect_timeout = t;
        }
        if let Some(t) = self.handshake_timeout {
            o.handshake_timeout = t;
        }
        o.validate = self.validate;
        Ok(o)
    }
}

/// Runs a worker from the command line `args` (without the program name; usage
/// under `bin_name`); returns the exit code. A bad flag prints the usage and exits.
pub fn worker_main(bin_name: &str, args: impl Iterator<Item = OsString>) -> i32 {
    let args: WorkerArgs = parse(bin_name, args);
    follow_parent();
    if !args.no_nanny && std::env::var_os(crate::distributed::nanny::NANNY_ENV).is_none() {
        return crate::distributed::nanny::run_nanny(bin_name);
    }
    // A LocalCluster's workers keep quiet on the terminal they share with the
    // user's program (their logs still reach the scheduler).
    let quiet = std::env::var_os(ENV_PARENT).is_some();
    crate::distributed::observe::init_logging(
        args.log_level.as_deref(),
        if quiet { "warn" } else { "info" },
    );
    match args.options().and_then(run_blocking) {
        Ok(()) => crate::distributed::worker_server::exit_code(),
        Err(e) => {
            eprintln!("{bin_name}: {e}");
            1
        }
    }
}

/// A worker started by a `LocalCluster` dies with the process that started it.
fn follow_parent() {
    let Ok(parent) = std::env::var(ENV_PARENT) else {
        return;
    };
    // SAFETY: prctl with PR_SET_PDEATHSIG only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    // The parent may have died before the flag was set.
    if parent.parse::<u32>().ok() != Some(std::os::unix::process::parent_id()) {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(a: &[&str]) -> std::result::Result<WorkerArgs, clap::Error> {
        WorkerArgs::try_parse_from(std::iter::once("brisk-worker").chain(a.iter().copied()))
    }

    #[test]
    fn flags_become_options() {
        let a = args(&[
            "tcp://10.0.0.1:8786",
            "--nthreads",
            "3",
            "--memory-limit",
            "2GiB",
            "--listen-address",
            "0.0.0.0:0",
            "--contact-address",
            "10.0.0.2:0",
            "--name",
            "w1",
            "--token",
            "t",
            "--death-timeout",
            "5",
        ])
        .unwrap();
        let o = a.options().unwrap();
        assert_eq!(o.scheduler, "tcp://10.0.0.1:8786");
        assert_eq!((o.nthreads, o.memory_limit), (3, 2 << 30));
        assert_eq!(o.contact.as_deref(), Some("10.0.0.2:0"));
        assert_eq!((o.name.as_str(), o.token.as_deref()), ("w1", Some("t")));
        assert_eq!(o.reconnect, Duration::from_secs(5));
    }

    #[test]
    fn the_old_listen_flag_still_works_and_unknown_flags_are_refused() {
        let a = args(&["tcp://h:1", "--listen", "127.0.0.1:5"]).unwrap();
        assert_eq!(a.listen_address, "127.0.0.1:5");
        let e = args(&["tcp://h:1", "--frobnicate"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
        let e = args(&[]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let e = args(&["tcp://h:1", "--memory-limit", "lots"]).unwrap_err();
        assert!(
            e.to_string().contains("cannot read 'lots' as a size"),
            "{e}"
        );
    }

    #[test]
    fn a_token_file_is_read_and_trimmed() {
        let path = std::env::temp_dir().join(format!("brisk-token-{}", std::process::id()));
        std::fs::write(&path, "s3cret\n").unwrap();
        let a = args(&["tcp://h:1", "--token-file", path.to_str().unwrap()]).unwrap();
        assert_eq!(a.options().unwrap().token.as_deref(), Some("s3cret"));
        std::fs::remove_file(&path).unwrap();
    }
}
