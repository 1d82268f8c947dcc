//! `LocalCluster`: a scheduler in this process and worker processes started from
//! this very executable, so every function registered with `#[brisk::task]` is
//! there on the workers. The scheduler and the connections of the cluster's own
//! clients share one I/O thread.
//!
//! A worker process is this executable started again as `EXE brisk-worker
//! ADDRESS [OPTIONS]` (the command line of [`super::cli`]); `brisk::init()` (first
//! thing in `main`) sees it, runs the worker and exits, so the rest of `main` never runs there. Workers are
//! stopped and reaped when the cluster is dropped; if this process dies first,
//! the kernel kills them (parent-death signal), and a worker that lost its
//! scheduler gives up after its reconnect window.
//!
//! A cluster is closed to strangers by default: without a token in its options it
//! makes a random one, which its workers get in their environment and its
//! clients from [`LocalCluster::client`] (other programs need
//! [`LocalCluster::token`]); `insecure: true` opts out.

use super::cli::WORKER_COMMAND;
use super::client::{Client, ClientOptions};
use super::scheduler_server::{bind, serve, SchedulerOptions, SchedulerStatus};
use super::scheduler_state::SchedulerConfig;
use super::supervision::ENV_PARENT;
use super::tls::{Tls, TlsFiles};
use super::worker_memory::MemoryThresholds;
use brisk_core::{Error, Result};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

fn io(e: std::io::Error) -> Error {
    Error::external(e)
}

/// If this process was started as a worker (by a [`LocalCluster`], or by hand as
/// `myprog brisk-worker ...`) or as a scheduler, runs it and exits; otherwise
/// returns at once. `brisk::init()` calls it.
pub fn worker_main_if_requested() {
    super::cli::main_if_requested();
}

/// How a [`LocalCluster`] is made.
#[derive(Debug, Clone)]
pub struct LocalClusterOptions {
    /// Worker processes.
    pub n_workers: usize,
    /// Threads per worker.
    pub threads_per_worker: usize,
    /// The worker executable (default: this one). It is started as `EXE
    /// brisk-worker ADDRESS [OPTIONS]`, so its `main` must call `brisk::init()`
    /// first (the stock `brisk-worker` binary accepts that too).
    pub worker_exe: Option<PathBuf>,
    /// A shared token for the scheduler and everyone connecting. Without one the
    /// cluster makes a random token for itself (its workers and
    /// [`LocalCluster::client`] get it; see [`LocalCluster::token`]), unless
    /// `insecure` is set.
    pub token: Option<String>,
    /// With no `token`, accept any local process as a worker or client (no token
    /// at all). Off by default.
    pub insecure: bool,
    /// Seconds without a heartbeat after which the scheduler takes a worker for
    /// dead (Dask's `worker-ttl`).
    pub worker_ttl: Duration,
    /// How long a new connection has to finish its handshake, at the scheduler
    /// and at each worker's peer port.
    pub handshake_timeout: Duration,
    /// How long to wait for the workers to join.
    pub timeout: Duration,
    /// How long tasks may wait with no worker connected before they fail (the
    /// scheduler's no-workers timeout); `None` waits forever.
    pub no_workers_timeout: Option<Duration>,
    /// Bytes of results the scheduler queues for one client before it leaves
    /// them on the workers for the client to fetch (see
    /// `SchedulerOptions::client_buffer`).
    pub client_buffer: usize,
    /// How long a worker keeps trying to reach a lost scheduler.
    pub worker_reconnect: Duration,
    /// TLS for every connection (the same files for every process).
    pub tls: Option<TlsFiles>,
    /// The scheduler and every worker check their state machines after every
    /// event (for tests; see `SchedulerOptions::validate`).
    pub validate: bool,
    /// Each worker's memory limit, bytes (`Some(0)`: none); by default the
    /// machine's memory divided among the workers.
    pub memory_limit: Option<u64>,
    /// The fractions of the limit at which workers spill, pause and are
    /// restarted.
    pub memory: MemoryThresholds,
    /// Where workers make their working directories and spill files (default:
    /// the system's temporary folder).
    pub local_directory: Option<PathBuf>,
    /// Each worker runs under a nanny that restarts it after a crash or a
    /// memory kill (on by default; [`LocalCluster::worker_pids`] are then the
    /// nannies').
    pub nanny: bool,
    /// Where the scheduler's dashboard listens (`:8787` by default: port 8787
    /// of the scheduler's host, or a free port when it is taken); `None`: no
    /// dashboard. See [`LocalCluster::dashboard_link`].
    pub dashboard: Option<String>,
}

impl Default for LocalClusterOptions {
    fn default() -> Self {
        LocalClusterOptions {
            n_workers: 2,
            threads_per_worker: 1,
            worker_exe: None,
            token: None,
            insecure: false,
            worker_ttl: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            no_workers_timeout: SchedulerConfig::default()
                .no_workers_timeout
                .map(Duration::from_secs_f64),
            client_buffer: SchedulerOptions::default().client_buffer,
            worker_reconnect: Duration::from_secs(20),
            tls: None,
            validate: false,
            memory_limit: None,
            memory: MemoryThresholds::default(),
            local_directory: None,
            nanny: true,
            dashboard: Some(":8787".into()),
        }
    }
}

/// The cluster's I/O thread: one current-thread tokio runtime running the
/// scheduler and the connections of the cluster's own clients, so a client's
/// message reaches the scheduler without waking another thread (Dask's
/// LocalCluster shares its event loop with its clients in the same way).
struct IoThread {
    runtime: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl IoThread {
    fn start() -> Result<IoThread> {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("brisk-scheduler".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => {
                        let _ = handle_tx.send(Ok(rt.handle().clone()));
                        rt.block_on(async {
                            let _ = stop_rx.await;
                        });
                    }
                    Err(e) => drop(handle_tx.send(Err(e))),
                }
            })
            .map_err(io)?;
        let runtime = handle_rx
            .recv()
            .map_err(|_| Error::Other("the scheduler thread ended at once".into()))?
            .map_err(io)?;
        Ok(IoThread {
            runtime,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The scheduler, a task on the I/O thread.
struct SchedulerTask {
    stop: Option<oneshot::Sender<()>>,
    done: Option<std::sync::mpsc::Receiver<()>>,
}

impl SchedulerTask {
    fn start(
        io: &IoThread,
        options: SchedulerOptions,
    ) -> Result<(SchedulerTask, String, watch::Receiver<SchedulerStatus>)> {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let (status_tx, status_rx) = watch::channel(SchedulerStatus::default());
        io.runtime.spawn(async move {
            let (listener, address) = match bind(&options.listen).await {
                Ok(x) => x,
                Err(e) => {
                    let _ = addr_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = addr_tx.send(Ok(address));
            let _ = serve(listener, options, status_tx, async {
                let _ = stop_rx.await;
            })
            .await;
            drop(done_tx);
        });
        let address = addr_rx
            .recv()
            .map_err(|_| Error::Other("the scheduler ended before listening".into()))?
            .map_err(|e| Error::Other(format!("cannot start the scheduler: {e}")))?;
        Ok((
            SchedulerTask {
                stop: Some(stop_tx),
                done: Some(done_rx),
            },
            address,
            status_rx,
        ))
    }

    fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.recv();
        }
    }
}

/// The scheduler's options for a cluster made with `options`.
fn scheduler_options(
    options: &LocalClusterOptions,
    listen: &str,
    tls: &Option<Tls>,
) -> SchedulerOptions {
    let mut s = SchedulerOptions {
        listen: listen.to_string(),
        token: options.token.clone(),
        tls: tls.clone(),
        validate: options.validate,
        handshake_timeout: options.handshake_timeout,
        client_buffer: options.client_buffer,
        dashboard: options.dashboard.clone(),
        ..Default::default()
    };
    s.config.worker_timeout = options.worker_ttl.as_secs_f64();
    s.config.no_workers_timeout = options.no_workers_timeout.map(|d| d.as_secs_f64());
    s
}

/// 128 random bits from the operating system, as hex.
fn random_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Other(format!("cannot make a random token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A scheduler in this process and `n_workers` worker processes.
///
/// ```no_run
/// fn main() -> brisk_core::Result<()> {
///     brisk_scheduler::distributed::cluster::worker_main_if_requested(); // brisk::init()
///     let cluster = brisk_scheduler::distributed::LocalCluster::new(2, 1)?;
///     let client = cluster.client()?;
///     # drop(client);
///     Ok(())
/// }
/// ```
pub struct LocalCluster {
    options: LocalClusterOptions,
    tls: Option<Tls>,
    scheduler: SchedulerTask,
    address: String,
    status: watch::Receiver<SchedulerStatus>,
    workers: Vec<Child>,
    /// Dropped last: the scheduler and the cluster's clients run on it.
    io: IoThread,
}

impl LocalCluster {
    /// Starts a scheduler and `n_workers` worker processes of `threads_per_worker`
    /// threads, and waits until they have joined.
    pub fn new(n_workers: usize, threads_per_worker: usize) -> Result<LocalCluster> {
        LocalCluster::with_options(LocalClusterOptions {
            n_workers,
            threads_per_worker,
            ..Default::default()
        })
    }

    /// [`LocalCluster::new`] with every option.
    pub fn with_options(mut options: LocalClusterOptions) -> Result<LocalCluster> {
        if options.token.is_none() && !options.insecure {
            options.token = Some(random_token()?);
        }
        let tls = options.tls.as_ref().map(Tls::from_files).transpose()?;
        let io = IoThread::start()?;
        let (scheduler, address, status) =
            SchedulerTask::start(&io, scheduler_options(&options, "127.0.0.1:0", &tls))?;
        let mut cluster = LocalCluster {
            options,
            tls,
            scheduler,
            address,
            status,
            workers: Vec::new(),
            io,
        };
        for _ in 0..cluster.options.n_workers {
            cluster.start_worker()?;
        }
        let n = cluster.options.n_workers;
        cluster.wait_for_workers(n)?;
        Ok(cluster)
    }

    /// The scheduler's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The dashboard's address (`http://127.0.0.1:8787/status`), when it has
    /// one; with a token, open it once as `{link}?token={token}`.
    pub fn dashboard_link(&self) -> Option<String> {
        self.status.borrow().dashboard.clone()
    }

    /// The token every process of this cluster presents (the one given, or the
    /// random one the cluster made); `None` only for an insecure cluster. Hand
    /// it to a [`Client::connect_with`] or a worker started by hand.
    pub fn token(&self) -> Option<&str> {
        self.options.token.as_deref()
    }

    /// A client of this cluster. Its connection runs on the scheduler's own
    /// thread; a client made with [`Client::connect`] works as well, with a
    /// thread of its own.
    pub fn client(&self) -> Result<Client> {
        Client::connect_on(
            &self.io.runtime,
            &self.address,
            ClientOptions {
                token: self.options.token.clone(),
                tls: self.tls.clone(),
                ..Default::default()
            },
        )
    }

    /// The process ids of the workers started so far (including dead ones).
    pub fn worker_pids(&self) -> Vec<u32> {
        self.workers.iter().map(|c| c.id()).collect()
    }

    /// The scheduler's current counts (workers, clients, tasks).
    pub fn status(&self) -> SchedulerStatus {
        self.status.borrow().clone()
    }

    /// Starts one more worker process (it joins asynchronously; see
    /// [`LocalCluster::wait_for_workers`]).
    pub fn start_worker(&mut self) -> Result<()> {
        let exe = match &self.options.worker_exe {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .map_err(|e| Error::Other(format!("cannot find this executable: {e}")))?,
        };
        let secs = |d: Duration| d.as_secs_f64().to_string();
        let mut cmd = Command::new(exe);
        cmd.arg(WORKER_COMMAND)
            .arg(&self.address)
            .args(["--nthreads", &self.options.threads_per_worker.to_string()])
            .args(["--name", &format!("local-worker-{}", self.workers.len())])
            .args(["--death-timeout", &secs(self.options.worker_reconnect)])
            .args(["--handshake-timeout", &secs(self.options.handshake_timeout)])
            .env(ENV_PARENT, std::process::id().to_string())
            .env_remove("BRISK_TOKEN")
            .stdin(Stdio::null());
        if let Some(t) = &self.options.token {
            // In the environment: a command line is visible to every user.
            cmd.env("BRISK_TOKEN", t);
        }
        if self.options.validate {
            cmd.arg("--validate");
        }
        let limit = self
            .options
            .memory_limit
            .unwrap_or(super::cli::machine_memory() / self.options.n_workers.max(1) as u64);
        cmd.args(["--memory-limit", &limit.to_string()]);
        let m = &self.options.memory;
        for (flag, t) in [
            ("--memory-target-fraction", m.target),
            ("--memory-spill-fraction", m.spill),
            ("--memory-pause-fraction", m.pause),
            ("--memory-terminate-fraction", m.terminate),
        ] {
            cmd.args([flag, &t.map_or("false".to_string(), |f| f.to_string())]);
        }
        if let Some(d) = &self.options.local_directory {
            cmd.arg("--local-directory").arg(d);
        }
        if !self.options.nanny {
            cmd.arg("--no-nanny");
        }
        if let Some(f) = &self.options.tls {
            cmd.arg("--tls-ca-file")
                .arg(&f.ca)
                .arg("--tls-cert")
                .arg(&f.cert)
                .arg("--tls-key")
                .arg(&f.key);
        }
        // Spawned from the cluster's I/O thread: a worker's parent-death signal
        // follows the thread that started it, and that thread lives exactly as
        // long as the cluster (a caller's thread may end sooner).
        let (tx, rx) = std::sync::mpsc::channel();
        self.io.runtime.spawn(async move {
            let _ = tx.send(cmd.spawn());
        });
        let child = rx
            .recv()
            .map_err(|_| Error::Other("the cluster's I/O thread is gone".into()))?
            .map_err(|e| Error::Other(format!("cannot start a worker process: {e}")))?;
        self.workers.push(child);
        Ok(())
    }

    /// Waits (on the scheduler's own notifications) until `n` workers are
    /// connected, for the cluster's timeout at most.
    pub fn wait_for_workers(&mut self, n: usize) -> Result<()> {
        let deadline = Instant::now() + self.options.timeout;
        let mut rx = self.status.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(io)?;
        rt.block_on(async {
            loop {
                if rx.borrow_and_update().workers >= n {
                    return Ok(());
                }
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, rx.changed()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Err(Error::Other("the scheduler stopped".into())),
                    Err(_) => {
                        return Err(Error::Other(format!(
                            "only {} of {n} workers joined within {:?}; do they call brisk::init() first in main?",
                            rx.borrow().workers,
                            self.options.timeout
                        )))
                    }
                }
            }
        })
    }

    /// Kills worker `i` with SIGKILL (for failure tests) and reaps it.
    pub fn kill_worker(&mut self, i: usize) -> Result<()> {
        let child = self
            .workers
            .get_mut(i)
            .ok_or_else(|| Error::Other(format!("no worker {i}")))?;
        child.kill().map_err(io)?;
        child.wait().map_err(io)?;
        Ok(())
    }

    /// Stops the scheduler and starts a new one on the same address; workers and
    /// clients connect to it again.
    pub fn restart_scheduler(&mut self) -> Result<()> {
        self.scheduler.stop();
        let listen = self.address.trim_start_matches("tcp://").to_string();
        let (scheduler, address, status) = SchedulerTask::start(
            &self.io,
            scheduler_options(&self.options, &listen, &self.tls),
        )?;
        self.scheduler = scheduler;
        self.address = address;
        self.status = status;
        Ok(())
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for c in &mut self.workers {
            // Only children not yet reaped: a reaped child's pid may belong to
            // another process by now.
            if matches!(c.try_wait(), Ok(None)) {
                // SAFETY: sending a signal to a child we started and have not reaped.
                unsafe {
                    libc::kill(c.id() as libc::pid_t, libc::SIGTERM);
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for c in &mut self.workers {
            loop {
                match c.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = c.kill();
                        let _ = c.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }
        self.scheduler.stop();
    }
}
