//! `brisk-scheduler`: the scheduler's command line.

use super::{bytes, parse, seconds, SchedulerFile, Security};
use crate::distributed::address::{check_reachable, contact_address};
use crate::distributed::scheduler_server::{
    bind, check_exposure, serve, terminated, SchedulerOptions, SchedulerStatus,
};
use crate::error::{Error, Result};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Runs a Brisk scheduler until SIGTERM or SIGINT. Listening on an address that
/// is not loopback needs a token or TLS, or --insecure.
#[derive(Debug, Clone, clap::Parser)]
#[command(version, long_about = None)]
pub struct SchedulerArgs {
    /// The address to listen on (port 0 picks one).
    #[arg(
        long,
        alias = "listen",
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:8786"
    )]
    pub listen_address: String,
    /// The address workers and clients dial, written to the scheduler file;
    /// needed with --scheduler-file when listening on a wildcard. Port 0 means
    /// the port actually bound.
    #[arg(long, value_name = "HOST:PORT")]
    pub contact_address: Option<String>,
    /// Write the scheduler's address to this file once listening (removed at
    /// exit), for workers' and clients' --scheduler-file.
    #[arg(long, value_name = "PATH")]
    pub scheduler_file: Option<PathBuf>,
    /// Token and TLS.
    #[command(flatten)]
    pub security: Security,
    /// Seconds without a heartbeat after which a worker is taken for dead.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub worker_ttl: Option<Duration>,
    /// Seconds a new connection has to finish its handshake.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub handshake_timeout: Option<Duration>,
    /// Seconds a task may wait with no worker able to run it before it errs, or
    /// `never`.
    #[arg(long, value_name = "SECONDS|never")]
    pub no_workers_timeout: Option<String>,
    /// Most connections open at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Bytes queued for one client beyond which its results are fetched from the
    /// workers instead of riding with their reports (64MiB by default).
    #[arg(long, value_name = "BYTES", value_parser = bytes)]
    pub client_buffer: Option<usize>,
    /// Allow a non-loopback address without a token or TLS.
    #[arg(long)]
    pub insecure: bool,
    /// Check the state machine after every event (slow; for tests).
    #[arg(long, hide = true)]
    pub validate: bool,
    /// Where the dashboard listens (an empty host is the scheduler's; a port in
    /// use is replaced by a free one).
    #[arg(long, value_name = "HOST:PORT", default_value = ":8787")]
    pub dashboard_address: String,
    /// Serve no dashboard.
    #[arg(long)]
    pub no_dashboard: bool,
    /// The log filter (`info`, `brisk=debug,warn`); BRISK_LOG otherwise.
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
}

impl SchedulerArgs {
    /// The scheduler's options (reads the token and TLS files).
    pub fn options(&self) -> Result<SchedulerOptions> {
        let mut o = SchedulerOptions {
            listen: self.listen_address.clone(),
            token: self.security.token()?,
            tls: self.security.tls()?,
            insecure: self.insecure,
            validate: self.validate,
            dashboard: (!self.no_dashboard).then(|| self.dashboard_address.clone()),
            ..Default::default()
        };
        if let Some(t) = self.worker_ttl {
            o.config.worker_timeout = t.as_secs_f64();
        }
        if let Some(t) = self.handshake_timeout {
            o.handshake_timeout = t;
        }
        if let Some(v) = &self.no_workers_timeout {
            o.config.no_workers_timeout = match v.as_str() {
                "never" => None,
                s => Some(
                    seconds(s)
                        .map_err(|e| Error::Config {
                            reason: format!("--no-workers-timeout: {e}"),
                        })?
                        .as_secs_f64(),
                ),
            };
        }
        if let Some(n) = self.max_connections {
            o.max_connections = n as usize;
        }
        if let Some(b) = self.client_buffer {
            o.client_buffer = b;
        }
        Ok(o)
    }

    fn run(&self) -> Result<()> {
        crate::distributed::observe::init_logging(self.log_level.as_deref(), "info");
        let options = self.options()?;
        check_exposure(&options)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let (listener, _) = bind(&options.listen).await.map_err(|e| Error::Config {
                reason: format!("cannot listen on {}: {e}", options.listen),
            })?;
            let bound = listener.local_addr()?;
            // Clients are told the address by their users; only the scheduler
            // file needs one that others can dial.
            let address = match (&self.contact_address, &self.scheduler_file) {
                (None, None) => format!("tcp://{bound}"),
                (contact, _) => contact_address(bound, contact.as_deref())?,
            };
            if self.contact_address.is_some() {
                check_reachable(&address, Duration::from_secs(10)).await?;
            }
            let file = match &self.scheduler_file {
                Some(path) => {
                    SchedulerFile::new(&address).write(path)?;
                    Some(RemoveOnDrop(path.clone()))
                }
                None => None,
            };
            println!("brisk-scheduler listening at {address}");
            let (status, mut seen) = tokio::sync::watch::channel(SchedulerStatus::default());
            let announce = tokio::spawn(async move {
                if let Ok(s) = seen.wait_for(|s| s.dashboard.is_some()).await {
                    if let Some(d) = &s.dashboard {
                        println!("brisk-scheduler dashboard at {d}");
                    }
                }
            });
            let served = serve(listener, options, status, terminated()).await;
            announce.abort();
            drop(file);
            served
        })
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs a scheduler from the command line `args` (without the program name;
/// usage under `bin_name`); returns the exit code. A bad flag prints the usage
/// and exits.
pub fn scheduler_main(bin_name: &str, args: impl Iterator<Item = OsString>) -> i32 {
    let args: SchedulerArgs = parse(bin_name, args);
    match args.run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{bin_name}: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(a: &[&str]) -> std::result::Result<SchedulerArgs, clap::Error> {
        SchedulerArgs::try_parse_from(std::iter::once("brisk-scheduler").chain(a.iter().copied()))
    }

    #[test]
    fn flags_become_options() {
        let o = args(&[
            "--listen",
            "0.0.0.0:9000",
            "--no-workers-timeout",
            "never",
            "--client-buffer",
            "8MiB",
            "--max-connections",
            "10",
            "--worker-ttl",
            "30",
        ])
        .unwrap()
        .options()
        .unwrap();
        assert_eq!(o.listen, "0.0.0.0:9000");
        assert_eq!(o.config.no_workers_timeout, None);
        assert_eq!((o.client_buffer, o.max_connections), (8 << 20, 10));
        assert_eq!(o.config.worker_timeout, 30.0);
        assert_eq!(
            o.dashboard.as_deref(),
            Some(":8787"),
            "a dashboard by default"
        );
        let o = args(&["--no-dashboard"]).unwrap().options().unwrap();
        assert_eq!(o.dashboard, None);
        let e = args(&["--no-workers-timeout", "later"])
            .unwrap()
            .options()
            .unwrap_err();
        assert!(e.to_string().contains("--no-workers-timeout"), "{e}");
        let e = args(&["--max-connections", "0"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
    }
}
