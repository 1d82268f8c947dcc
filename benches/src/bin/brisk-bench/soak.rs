//! `brisk-bench soak`: a LocalCluster kept busy for minutes while its workers die.
//!
//! ```text
//! brisk-bench soak [--minutes 5] [--workers 2] [--kill-every 3] [--seed 1] [--validate] [--no-anchor]
//! ```
//!
//! One thread drives a client: it builds random graphs whose answers it knows
//! (trees of non-commutative combines and three-way sums over pseudo-random leaves,
//! some with sleeping tasks, some passing a byte buffer between two tasks, some
//! built on a result still held from an earlier graph; the first graph's result is
//! held for the whole run unless `--no-anchor`), submits them (`submit`,
//! `submit` with `pure: false`, `map`, or `compute` through the client as an
//! executor), gathers some (`gather` or `Future::result`), cancels some, drops some
//! unread, and checks every value it gets against the one it computed itself.
//! Another thread kills a random worker (SIGKILL) every `--kill-every` seconds and
//! starts a replacement, keeping `--workers` of them.
//!
//! Errors are expected while workers die (a task that was running on three dying
//! workers is given up, a gather may find its worker gone): they are counted by
//! kind, with one message of each kind. A wrong value never is: any makes the
//! program exit with an error.
//!
//! Memory: the scheduler runs inside this process, with the client, so the
//! scheduler's figure is this process's resident set (`VmRSS`); the workers' is the
//! sum over the live worker processes. Both are read at the start, after the first
//! minute (or a fifth of the run, if shorter), at the end (the load still running),
//! and once every result has been gathered or dropped. The target: the end within
//! 10 % of the first-minute level. With kills, a worker lives a few seconds, so the
//! workers' figure says little about their own growth; `--kill-every 0` keeps the
//! same workers for the whole run.
//!
//! Lines: `soak.start`, one `soak.progress` a minute, then `soak` (the summary).
//! A stall (no result for two minutes) prints `soak.stall` and exits.

use anyhow::{bail, Result};
use brisk::scheduler::distributed::client::Submit;
use brisk::scheduler::distributed::cluster::LocalClusterOptions;
use brisk::{Client, Delayed, Future, LocalCluster};
use brisk_benches::{emit, round};
use clap::Parser;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The options of `brisk-bench soak`.
#[derive(Parser, Debug)]
#[command(
    name = "brisk-bench soak",
    about = "Random graphs on a LocalCluster whose workers are killed and replaced"
)]
struct Options {
    /// How long to run, in minutes (fractions allowed).
    #[arg(long, default_value_t = 5.0)]
    minutes: f64,
    /// Worker processes, one thread each.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Seconds between killing a worker and starting its replacement (0: never).
    #[arg(long, default_value_t = 3.0)]
    kill_every: f64,
    /// Seed of the graphs and of the choice of the worker to kill.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The scheduler and the workers check their state machines after every event.
    #[arg(long)]
    validate: bool,
    /// Hold no result for the whole run (by default the first graph's result is
    /// held to the end, as a program holds a persisted dataset while it works).
    #[arg(long)]
    no_anchor: bool,
}

/// No result for this long is a stall.
const STALL: Duration = Duration::from_secs(120);
/// Results held at most before the oldest are gathered.
const MAX_OUTSTANDING: usize = 32;

// ---------------------------------------------------------------------------
// The tasks. Each is a plain function too: the expected answers are computed by
// calling them here.

/// SplitMix64's output function: a well-mixed 64-bit value from `x`.
fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Leaf `i` of graph `graph`: a value no other leaf shares, so no two graphs
/// share a key.
#[brisk::task]
fn soak_leaf(#[bound] graph: u64, #[bound] i: u64) -> u64 {
    mix64(graph.wrapping_mul(1 << 20) ^ i)
}

/// Non-commutative, so inputs given in the wrong order give a wrong answer.
#[brisk::task]
fn soak_combine(a: &u64, b: &u64) -> u64 {
    a.rotate_left(17) ^ b.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[brisk::task]
fn soak_sum3(a: &u64, b: &u64, c: &u64) -> u64 {
    a.wrapping_add(*b).wrapping_add(*c)
}

/// Sleeps, so that kills find tasks running.
#[brisk::task]
fn soak_slow(x: &u64, #[bound] millis: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(millis));
    mix64(x ^ millis)
}

/// `len` bytes made from `x`, for a transfer between workers.
#[brisk::task]
fn soak_bytes(x: &u64, #[bound] len: u64) -> Vec<u8> {
    let mut s = *x;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 56) as u8
        })
        .collect()
}

/// FNV-1a of the bytes.
#[brisk::task]
fn soak_digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01B3)
    })
}

// ---------------------------------------------------------------------------
// Random graphs.

/// SplitMix64 as a generator: small, seedable, and enough for choosing shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// A graph built here: its result, the answer it must give, and its task count.
struct Built {
    delayed: Delayed<u64>,
    expected: u64,
    tasks: u64,
}

/// A result held on the cluster.
struct Job {
    future: Future<u64>,
    expected: u64,
    tasks: u64,
    /// A later graph was built on it: never cancelled.
    pinned: bool,
}

/// A random tree over 1 to 48 leaves; `id` makes its keys its own.
fn random_graph(rng: &mut Rng, id: u64) -> brisk::Result<Built> {
    let slow = rng.chance(0.1);
    let bytes = rng.chance(0.1);
    let n = 1 + rng.below(48);
    let mut tasks = 0;
    let mut level: Vec<(Delayed<u64>, u64)> = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut node = (soak_leaf::delayed(id, i)?, soak_leaf(id, i));
        tasks += 1;
        if slow && rng.chance(0.3) {
            let millis = 1 + rng.below(30);
            node = (
                soak_slow::delayed(&node.0, millis)?,
                soak_slow(&node.1, millis),
            );
            tasks += 1;
        }
        if bytes && rng.chance(0.2) {
            let len = 1024 * (1 + rng.below(1024));
            let b = soak_bytes::delayed(&node.0, len)?;
            node = (
                soak_digest::delayed(&b)?,
                soak_digest(&soak_bytes(&node.1, len)),
            );
            tasks += 2;
        }
        level.push(node);
    }
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len() / 2 + 1);
        let mut rest = level.as_slice();
        while !rest.is_empty() {
            let take = if rest.len() >= 3 && rng.chance(0.4) {
                3
            } else {
                2.min(rest.len())
            };
            let (group, tail) = rest.split_at(take);
            rest = tail;
            next.push(match group {
                [a, b, c] => {
                    tasks += 1;
                    (
                        soak_sum3::delayed(&a.0, &b.0, &c.0)?,
                        soak_sum3(&a.1, &b.1, &c.1),
                    )
                }
                [a, b] => {
                    tasks += 1;
                    (soak_combine::delayed(&a.0, &b.0)?, soak_combine(&a.1, &b.1))
                }
                [a] => a.clone(),
                _ => unreachable!("groups of one to three"),
            });
        }
        level = next;
    }
    let (delayed, expected) = level.pop().expect("at least one leaf");
    Ok(Built {
        delayed,
        expected,
        tasks,
    })
}

// ---------------------------------------------------------------------------
// Counting.

/// What the driver has seen so far.
#[derive(Default)]
struct Tally {
    graphs: u64,
    tasks_submitted: u64,
    tasks_completed: u64,
    gathered: u64,
    cancelled: u64,
    dropped: u64,
    wrong: u64,
    errors: BTreeMap<&'static str, u64>,
    /// The first message of each kind of error, and of a wrong answer.
    samples: BTreeMap<&'static str, String>,
    last_result: Option<Instant>,
}

impl Tally {
    fn error(&mut self, kind: &'static str, message: String) {
        *self.errors.entry(kind).or_default() += 1;
        self.samples.entry(kind).or_insert(message);
    }

    fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }

    fn fields(&self) -> Vec<(&'static str, Json)> {
        vec![
            ("graphs", json!(self.graphs)),
            ("tasks_submitted", json!(self.tasks_submitted)),
            ("tasks_completed", json!(self.tasks_completed)),
            ("gathered", json!(self.gathered)),
            ("cancelled", json!(self.cancelled)),
            ("dropped", json!(self.dropped)),
            ("wrong_answers", json!(self.wrong)),
            ("errors", json!(self.errors_total())),
        ]
    }
}

/// The kind of a failed result, from its message.
fn error_kind(message: &str) -> &'static str {
    if message.contains("taken to kill workers") {
        "killed_worker"
    } else if message.contains("no worker has been connected") {
        "no_workers"
    } else if message.contains("cancelled") {
        "cancelled_unasked"
    } else if message.contains("could not gather")
        || message.contains("gathering from")
        || message.contains("no longer holds")
        || message.contains("did not arrive")
    {
        "gather"
    } else if message.contains("scheduler") {
        "scheduler_connection"
    } else {
        "other"
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------
// The cluster and its killer.

/// The cluster with the workers alive, shared by the killer and the sampler.
struct Workers {
    cluster: LocalCluster,
    /// Start-order indices of the live workers (`LocalCluster::kill_worker`'s).
    live: Vec<usize>,
    started: usize,
    kills: u64,
    failures: BTreeMap<&'static str, u64>,
}

impl Workers {
    /// Kills a random live worker and starts another.
    fn replace_one(&mut self, rng: &mut Rng, n: usize) {
        if !self.live.is_empty() {
            let at = rng.below(self.live.len() as u64) as usize;
            let victim = self.live.swap_remove(at);
            match self.cluster.kill_worker(victim) {
                Ok(()) => self.kills += 1,
                Err(_) => *self.failures.entry("kill").or_default() += 1,
            }
        }
        match self.cluster.start_worker() {
            Ok(()) => {
                self.live.push(self.started);
                self.started += 1;
            }
            Err(_) => *self.failures.entry("start").or_default() += 1,
        }
        if self.cluster.wait_for_workers(n).is_err() {
            *self.failures.entry("join").or_default() += 1;
        }
    }

    /// Resident kB of each live worker process.
    fn worker_rss_kb(&self) -> Vec<u64> {
        let pids = self.cluster.worker_pids();
        self.live
            .iter()
            .filter_map(|&i| pids.get(i).and_then(|pid| rss_kb(&pid.to_string())))
            .collect()
    }
}

/// Kills and replaces a worker every `every` until `quiet`, then idles until
/// `finish`: a worker process gets SIGKILL when the thread that started it ends
/// (its parent-death signal follows the thread), so this thread outlives every
/// reading of the workers' memory.
fn killer(
    workers: Arc<Mutex<Workers>>,
    every: Duration,
    n: usize,
    seed: u64,
    quiet: Arc<AtomicBool>,
    finish: Arc<AtomicBool>,
) {
    let mut rng = Rng(mix64(seed ^ 0x6B69_6C6C));
    let mut next = Instant::now() + every;
    while !finish.load(Ordering::Relaxed) {
        let now = Instant::now();
        if quiet.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        if now < next {
            std::thread::sleep((next - now).min(Duration::from_millis(50)));
            continue;
        }
        lock(&workers).replace_one(&mut rng, n);
        next += every;
    }
}

// ---------------------------------------------------------------------------
// Memory.

/// `VmRSS` of `/proc/<pid>/status` in kB (`pid` may be `self`).
fn rss_kb(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resident sets at one moment, in MiB.
#[derive(Clone, Copy)]
struct Rss {
    scheduler_mb: f64,
    workers_mb: f64,
    workers: usize,
}

/// The median of five readings 100 ms apart (a worker may be starting).
fn sample_rss(workers: &Mutex<Workers>) -> Rss {
    let mut readings = Vec::new();
    for i in 0..5 {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
        let scheduler = rss_kb("self").unwrap_or(0) as f64 / 1024.0;
        let each = lock(workers).worker_rss_kb();
        readings.push((
            scheduler,
            each.iter().sum::<u64>() as f64 / 1024.0,
            each.len(),
        ));
    }
    let median = |mut xs: Vec<f64>| {
        xs.sort_by(|a, b| a.total_cmp(b));
        xs[xs.len() / 2]
    };
    Rss {
        scheduler_mb: median(readings.iter().map(|r| r.0).collect()),
        workers_mb: median(readings.iter().map(|r| r.1).collect()),
        workers: readings.iter().map(|r| r.2).max().unwrap_or(0),
    }
}

fn rss_json(start: Rss, first: Rss, end: Rss, drained: Rss, f: fn(&Rss) -> f64) -> Json {
    json!({
        "start": round(f(&start), 1),
        "first_minute": round(f(&first), 1),
        "end": round(f(&end), 1),
        "drained": round(f(&drained), 1),
    })
}

// ---------------------------------------------------------------------------
// The driver.

struct Driver {
    client: Client,
    rng: Rng,
    next_id: u64,
    outstanding: Vec<Job>,
    tally: Arc<Mutex<Tally>>,
}

impl Driver {
    /// One round: a batch of graphs submitted, then cancels, drops and gathers.
    fn step(&mut self) {
        let n = 1 + self.rng.below(6);
        let mut batch = Vec::with_capacity(n as usize);
        for _ in 0..n {
            match self.build() {
                Ok(b) => batch.push(b),
                Err(e) => lock(&self.tally).error("build", e.to_string()),
            }
        }
        {
            let mut t = lock(&self.tally);
            t.graphs += batch.len() as u64;
            t.tasks_submitted += batch.iter().map(|b| b.tasks).sum::<u64>();
        }
        match self.rng.below(10) {
            0..=3 => {
                for b in batch {
                    let how = Submit {
                        pure: !self.rng.chance(0.2),
                        ..Default::default()
                    };
                    match self.client.submit_with(&b.delayed, how) {
                        Ok(f) => self.hold(f, &b),
                        Err(e) => lock(&self.tally).error("submit", e.to_string()),
                    }
                }
            }
            4..=7 => {
                let ds: Vec<Delayed<u64>> = batch.iter().map(|b| b.delayed.clone()).collect();
                match self.client.map(&ds) {
                    Ok(fs) => {
                        for (f, b) in fs.into_iter().zip(&batch) {
                            self.hold(f, b);
                        }
                    }
                    Err(e) => lock(&self.tally).error("submit", e.to_string()),
                }
            }
            _ => {
                for b in batch {
                    let got = b.delayed.compute_with(&self.client);
                    self.check(got, b.expected, b.tasks, false);
                }
            }
        }
        if self.rng.chance(0.3) {
            self.cancel_one();
        }
        if self.rng.chance(0.2) {
            self.drop_one();
        }
        if self.outstanding.len() > MAX_OUTSTANDING {
            let oldest: Vec<Job> = self.outstanding.drain(..MAX_OUTSTANDING / 2).collect();
            self.gather(oldest);
        } else if self.rng.chance(0.3) {
            let (done, pending) = std::mem::take(&mut self.outstanding)
                .into_iter()
                .partition(|j| j.future.done());
            self.outstanding = pending;
            self.gather(done);
        }
    }

    /// A new graph; sometimes on top of a result still held.
    fn build(&mut self) -> brisk::Result<Built> {
        let id = self.next_id;
        self.next_id += 1;
        let mut b = random_graph(&mut self.rng, id)?;
        if !self.outstanding.is_empty() && self.rng.chance(0.2) {
            let at = self.rng.below(self.outstanding.len() as u64) as usize;
            let parent = &mut self.outstanding[at];
            parent.pinned = true;
            b.delayed = soak_combine::delayed(Delayed::of(&parent.future), &b.delayed)?;
            b.expected = soak_combine(&parent.expected, &b.expected);
            b.tasks += 1;
        }
        Ok(b)
    }

    fn hold(&mut self, future: Future<u64>, b: &Built) {
        self.outstanding.push(Job {
            future,
            expected: b.expected,
            tasks: b.tasks,
            pinned: false,
        });
    }

    /// Counts one result.
    fn check(&self, got: brisk::Result<u64>, expected: u64, tasks: u64, cancelled: bool) {
        let mut t = lock(&self.tally);
        t.last_result = Some(Instant::now());
        match got {
            Ok(v) if v == expected => {
                t.gathered += 1;
                t.tasks_completed += tasks;
            }
            Ok(v) => {
                t.wrong += 1;
                t.samples
                    .entry("wrong_answer")
                    .or_insert(format!("got {v}, expected {expected}"));
            }
            Err(e) => {
                let message = e.to_string();
                if message.contains("type mismatch") {
                    t.wrong += 1;
                    t.samples.entry("wrong_answer").or_insert(message);
                } else if cancelled && message.contains("cancelled") {
                    t.cancelled += 1;
                } else {
                    t.error(error_kind(&message), message);
                }
            }
        }
    }

    fn cancel_one(&mut self) {
        let candidates: Vec<usize> = (0..self.outstanding.len())
            .filter(|&i| !self.outstanding[i].pinned)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let at = candidates[self.rng.below(candidates.len() as u64) as usize];
        let job = self.outstanding.remove(at);
        if let Err(e) = self.client.cancel(std::slice::from_ref(&job.future)) {
            lock(&self.tally).error("cancel", e.to_string());
            return;
        }
        // A cancelled future reports the cancellation (or, had it finished, the
        // right value).
        self.check(job.future.result(), job.expected, job.tasks, true);
    }

    fn drop_one(&mut self) {
        if self.outstanding.is_empty() {
            return;
        }
        let at = self.rng.below(self.outstanding.len() as u64) as usize;
        drop(self.outstanding.remove(at));
        lock(&self.tally).dropped += 1;
    }

    /// Gathers `jobs` in one call, or one by one; on a failed gather, each alone.
    fn gather(&mut self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        if self.rng.chance(0.5) {
            let futures: Vec<Future<u64>> = jobs.iter().map(|j| j.future.clone()).collect();
            if let Ok(values) = self.client.gather(&futures) {
                for (v, j) in values.into_iter().zip(&jobs) {
                    self.check(Ok(v), j.expected, j.tasks, false);
                }
                return;
            }
        }
        for j in &jobs {
            self.check(j.future.result(), j.expected, j.tasks, false);
        }
    }

    /// Gathers everything still held.
    fn drain(&mut self) {
        let all = std::mem::take(&mut self.outstanding);
        self.gather(all);
    }
}

/// Exits with a `soak.stall` line when no result has come for [`STALL`].
fn watchdog(tally: Arc<Mutex<Tally>>, start: Instant, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let t = lock(&tally);
        let since = t.last_result.unwrap_or(start).elapsed();
        if since > STALL {
            let mut fields = t.fields();
            fields.push(("seconds", json!(round(start.elapsed().as_secs_f64(), 1))));
            fields.push((
                "seconds_without_result",
                json!(round(since.as_secs_f64(), 1)),
            ));
            fields.push(("error_samples", json!(t.samples)));
            emit("soak.stall", &fields);
            std::process::exit(3);
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let o = Options::parse_from(
        std::iter::once("brisk-bench soak".to_string()).chain(args.iter().cloned()),
    );
    if !o.minutes.is_finite()
        || o.minutes <= 0.0
        || o.workers == 0
        || !o.kill_every.is_finite()
        || o.kill_every < 0.0
    {
        bail!("--minutes and --workers must be positive, --kill-every at least 0");
    }
    let total = Duration::from_secs_f64(o.minutes * 60.0);
    let baseline_at = Duration::from_secs(60).min(total / 5);
    let cluster = LocalCluster::with_options(LocalClusterOptions {
        n_workers: o.workers,
        threads_per_worker: 1,
        validate: o.validate,
        ..Default::default()
    })?;
    let client = cluster.client()?;
    let workers = Arc::new(Mutex::new(Workers {
        cluster,
        live: (0..o.workers).collect(),
        started: o.workers,
        kills: 0,
        failures: BTreeMap::new(),
    }));
    let rss_start = sample_rss(&workers);
    emit(
        "soak.start",
        &[
            ("minutes", json!(o.minutes)),
            ("workers", json!(o.workers)),
            ("kill_every_s", json!(o.kill_every)),
            ("seed", json!(o.seed)),
            ("validate", json!(o.validate)),
            ("anchor", json!(!o.no_anchor)),
            ("scheduler_rss_mb", json!(round(rss_start.scheduler_mb, 1))),
            ("workers_rss_mb", json!(round(rss_start.workers_mb, 1))),
        ],
    );

    let start = Instant::now();
    let quiet = Arc::new(AtomicBool::new(false));
    let finish = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let killer_thread = (o.kill_every > 0.0).then(|| {
        let (w, q, f) = (workers.clone(), quiet.clone(), finish.clone());
        let (every, n, seed) = (Duration::from_secs_f64(o.kill_every), o.workers, o.seed);
        std::thread::spawn(move || killer(w, every, n, seed, q, f))
    });
    let dog_stop = Arc::new(AtomicBool::new(false));
    let dog = {
        let (t, s) = (tally.clone(), dog_stop.clone());
        std::thread::spawn(move || watchdog(t, start, s))
    };

    let mut driver = Driver {
        client,
        rng: Rng(o.seed),
        next_id: mix64(o.seed) >> 24,
        outstanding: Vec::new(),
        tally: tally.clone(),
    };
    let anchor = if o.no_anchor {
        None
    } else {
        let b = driver.build()?;
        let mut t = lock(&tally);
        t.graphs += 1;
        t.tasks_submitted += b.tasks;
        drop(t);
        Some((driver.client.submit(&b.delayed)?, b))
    };
    let mut baseline: Option<Rss> = None;
    let mut next_minute = Duration::from_secs(60);
    loop {
        let elapsed = start.elapsed();
        if elapsed >= total {
            break;
        }
        if baseline.is_none() && elapsed >= baseline_at {
            baseline = Some(sample_rss(&workers));
        }
        if elapsed >= next_minute {
            let rss = sample_rss(&workers);
            let (kills, tasks) = {
                let w = lock(&workers);
                (w.kills, w.cluster.status().tasks)
            };
            let mut fields = vec![
                ("minute", json!(next_minute.as_secs() / 60)),
                ("seconds", json!(round(elapsed.as_secs_f64(), 1))),
            ];
            fields.extend(lock(&tally).fields());
            fields.extend([
                ("kills", json!(kills)),
                ("held", json!(driver.outstanding.len())),
                ("scheduler_tasks", json!(tasks)),
                ("scheduler_rss_mb", json!(round(rss.scheduler_mb, 1))),
                ("workers_rss_mb", json!(round(rss.workers_mb, 1))),
            ]);
            emit("soak.progress", &fields);
            next_minute += Duration::from_secs(60);
        }
        driver.step();
    }
    let seconds = start.elapsed().as_secs_f64();
    let rss_end = sample_rss(&workers);
    let first = baseline.unwrap_or(rss_end);
    quiet.store(true, Ordering::Relaxed);
    driver.drain();
    if let Some((future, b)) = anchor {
        driver.check(future.result(), b.expected, b.tasks, false);
    }
    // Once every future is gone the scheduler should forget every task.
    let settle = Instant::now();
    let mut tasks_left = lock(&workers).cluster.status().tasks;
    while tasks_left > 0 && settle.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        tasks_left = lock(&workers).cluster.status().tasks;
    }
    let rss_drained = sample_rss(&workers);
    dog_stop.store(true, Ordering::Relaxed);
    let _ = dog.join();
    finish.store(true, Ordering::Relaxed);
    if let Some(k) = killer_thread {
        let _ = k.join();
    }

    let t = lock(&tally);
    let w = lock(&workers);
    let ratio = |end: f64, first: f64| if first > 0.0 { end / first } else { 0.0 };
    let scheduler_ratio = ratio(rss_end.scheduler_mb, first.scheduler_mb);
    let workers_ratio = ratio(rss_end.workers_mb, first.workers_mb);
    let mut fields = vec![
        ("minutes", json!(o.minutes)),
        ("workers", json!(o.workers)),
        ("kill_every_s", json!(o.kill_every)),
        ("seed", json!(o.seed)),
        ("anchor", json!(!o.no_anchor)),
        ("seconds", json!(round(seconds, 1))),
    ];
    fields.extend(t.fields());
    fields.extend([
        (
            "tasks_per_s",
            json!(round(t.tasks_completed as f64 / seconds, 0)),
        ),
        ("errors_by_kind", json!(t.errors)),
        ("error_samples", json!(t.samples)),
        ("kills", json!(w.kills)),
        ("worker_failures", json!(w.failures)),
        ("scheduler_tasks_after_drain", json!(tasks_left)),
        ("first_minute_at_s", json!(baseline_at.as_secs_f64())),
        (
            "scheduler_rss_mb",
            rss_json(rss_start, first, rss_end, rss_drained, |r| r.scheduler_mb),
        ),
        (
            "workers_rss_mb",
            rss_json(rss_start, first, rss_end, rss_drained, |r| r.workers_mb),
        ),
        ("workers_sampled", json!(rss_end.workers)),
        (
            "scheduler_rss_end_to_first",
            json!(round(scheduler_ratio, 3)),
        ),
        ("workers_rss_end_to_first", json!(round(workers_ratio, 3))),
        (
            "rss_target_met",
            json!(scheduler_ratio <= 1.10 && workers_ratio <= 1.10),
        ),
        ("wrong_target_met", json!(t.wrong == 0)),
    ]);
    emit("soak", &fields);
    if t.wrong > 0 {
        bail!("{} wrong answers", t.wrong);
    }
    Ok(())
}
