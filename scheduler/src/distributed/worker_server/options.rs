//! How a worker is run: [`WorkerOptions`].

use crate::distributed::worker_memory::MemoryThresholds;
use crate::protocol::Limits;
use std::time::Duration;

/// How a worker is run.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The scheduler's address.
    pub scheduler: String,
    /// Threads running tasks.
    pub nthreads: usize,
    /// Memory limit in bytes (0: none): results past its target fraction are
    /// spilled to disk, past its pause fraction nothing new runs (see
    /// [`MemoryThresholds`]).
    pub memory_limit: u64,
    /// The fractions of `memory_limit` at which to spill, pause and terminate.
    pub memory: MemoryThresholds,
    /// A name for people.
    pub name: String,
    /// The cluster's shared token.
    pub token: Option<String>,
    /// Address to serve peers on (`:0` picks a port).
    pub listen: String,
    /// The address peers and the scheduler dial to reach this worker (default:
    /// the bound address; needed when `listen` is a wildcard). Checked at start:
    /// a contact address this host cannot reach is an error.
    pub contact: Option<String>,
    /// The folder under which this worker makes its own working directory
    /// (removed when it exits); see [`local_directory`].
    pub local_directory: std::path::PathBuf,
    /// How long to keep trying to reach the scheduler before giving up.
    pub reconnect: Duration,
    /// Heartbeat period (keep it well under the scheduler's worker time-to-live).
    pub heartbeat: Duration,
    /// How long one attempt to reach the scheduler or a peer may take (TCP, TLS
    /// and hello) before it fails.
    pub connect_timeout: Duration,
    /// How long a peer connecting here has to finish its handshake.
    pub handshake_timeout: Duration,
    /// What a peer may send.
    pub limits: Limits,
    /// Most connections open at once on the peer port; more are turned away.
    pub max_connections: usize,
    /// TLS for every connection.
    pub tls: Option<crate::distributed::tls::Tls>,
    /// Check the state machine's indexes after every event (for tests; see
    /// `SchedulerOptions::validate`).
    pub validate: bool,
}

impl WorkerOptions {
    /// Options for a worker of `scheduler` with defaults for the rest.
    pub fn new(scheduler: impl Into<String>) -> WorkerOptions {
        WorkerOptions {
            scheduler: scheduler.into(),
            nthreads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_limit: 0,
            memory: MemoryThresholds::default(),
            name: format!("worker-{}", std::process::id()),
            token: None,
            listen: "127.0.0.1:0".into(),
            contact: None,
            local_directory: std::env::temp_dir(),
            reconnect: Duration::from_secs(30),
            heartbeat: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            limits: Limits::default(),
            max_connections: 1024,
            tls: None,
            validate: false,
        }
    }
}
