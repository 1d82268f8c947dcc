//! The distributed runtime's bounds, with real processes on loopback: what a
//! client that stops reading costs the scheduler, data replies larger than the
//! asker accepts, descriptors running out, too many connections, and waits that end.
//! A `LocalCluster` starts this test executable again as its workers (its `main`
//! calls `brisk::init()` first). Tests wait on events or poll for a state with a
//! generous deadline; none depends on how fast the machine is.

use brisk::prelude::*;
use brisk::scheduler::distributed::client::ClientOptions;
use brisk::scheduler::distributed::cluster::LocalClusterOptions;
use brisk::scheduler::distributed::comm::{connect, connect_announcing, read_batch, write_batch};
use brisk::scheduler::distributed::messages::{Incoming, Msg, Outgoing};
use brisk::scheduler::distributed::{NewTask, TaskSpec};
use brisk::scheduler::protocol::{Limits, Role};
use libtest_mimic::{Arguments, Failed, Trial};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What must happen "soon" surely happens within this.
const PATIENCE: Duration = Duration::from_secs(60);

#[brisk::task]
fn blob(i: u64, #[bound] n: usize) -> Vec<u8> {
    vec![(i % 251) as u8; n]
}

#[brisk::task]
fn inc(x: i64) -> i64 {
    x + 1
}

type R = Result<(), Failed>;

fn check(cond: bool, what: impl Into<String>) -> R {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

/// Polls `cond` every 50 ms until it holds or `PATIENCE` runs out.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// The message a client sends to compute `calls`, as `Client::submit` builds it.
fn update_graph<T>(calls: &[Delayed<T>]) -> brisk::Result<Msg> {
    let mut tasks = Vec::new();
    let mut wanted = Vec::new();
    for d in calls {
        let tg = d.graph().lower(std::slice::from_ref(d.key()))?;
        for &t in tg.topological() {
            tasks.push(NewTask {
                key: tg.key(t).clone(),
                spec: TaskSpec {
                    op: tg.op(t).name().to_string(),
                    params: tg.op(t).params()?,
                },
                dependencies: tg
                    .dependencies(t)
                    .iter()
                    .map(|i| tg.key(*i).clone())
                    .collect(),
                order: 0,
            });
        }
        wanted.push(d.key().clone());
    }
    Ok(Msg::UpdateGraph {
        tasks,
        wanted,
        user_priority: 0,
    })
}

fn blobs(n: u64, size: usize) -> brisk::Result<Vec<Delayed<Vec<u8>>>> {
    (0..n).map(|i| blob::delayed(i, size)).collect()
}

fn blobs_are_right(values: &[Vec<u8>], size: usize) -> bool {
    values
        .iter()
        .enumerate()
        .all(|(i, v)| v.len() == size && v.iter().all(|b| *b == (i % 251) as u8))
}

/// A client that submits 48 MB of results and never reads a byte: the scheduler
/// keeps at most its client buffer queued for it (the rest stays on the workers),
/// while a client that reads gets every value.
fn a_stalled_client_costs_the_scheduler_at_most_its_buffer() -> R {
    const BUFFER: usize = 4 << 20;
    const SIZE: usize = 60_000;
    let c = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 2,
        client_buffer: BUFFER,
        ..Default::default()
    })?;
    let calls = blobs(800, SIZE)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stalled = rt.block_on(async {
        let mut s = connect(c.address(), Role::Client, c.token(), None, PATIENCE).await?;
        let mut o = Outgoing::default();
        o.push(Msg::RegisterClient);
        o.push(update_graph(&calls)?);
        write_batch(&mut s, &o, false).await?;
        Ok::<_, Box<dyn std::error::Error>>(s)
    })?;
    let client = c.client()?;
    let futures = client.map(&calls)?;
    let values = client.gather(&futures)?;
    check(
        blobs_are_right(&values, SIZE),
        "the reading client's values",
    )?;
    // Every result has been reported to both clients by now; once the reading
    // client has drained its queue, what is left is the stalled client's.
    let mut queued = 0;
    let bounded = eventually(|| {
        queued = c.status().queued_bytes;
        queued <= BUFFER + (1 << 20)
    });
    check(
        bounded,
        format!("{queued} bytes queued for a client that does not read (buffer {BUFFER})"),
    )?;
    drop(stalled);
    Ok(())
}

/// A client that accepts 64 frames a message gathers 1,000 results of one frame
/// each, with no room in its buffer (every value comes from the worker); asked
/// for all of them at once by a peer announcing those limits, the worker sends
/// what fits each reply and defers the rest to the next request.
fn a_worker_defers_what_its_asker_does_not_accept() -> R {
    const SIZE: usize = 2_000;
    let small = Limits {
        max_frames: 64,
        ..Limits::default()
    };
    let c = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 1,
        client_buffer: 1,
        ..Default::default()
    })?;
    let client = Client::connect_with(
        c.address(),
        ClientOptions {
            token: c.token().map(str::to_string),
            limits: small,
            ..Default::default()
        },
    )?;
    let calls = blobs(1_000, SIZE)?;
    let futures = client.map(&calls)?;
    let values = client.gather(&futures)?;
    check(blobs_are_right(&values, SIZE), "1,000 values gathered")?;

    let who = client.who_has(&futures)?;
    let worker = who[0].1.first().ok_or("the first result is held")?.clone();
    let keys: Vec<_> = who.into_iter().map(|(k, _)| k).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (rounds, got) = rt.block_on(async {
        let (mut s, _) =
            connect_announcing(&worker, Role::Client, c.token(), None, PATIENCE, &small).await?;
        let (mut rounds, mut got) = (0, Vec::new());
        let mut asking = keys.clone();
        while !asking.is_empty() {
            let mut ask = Outgoing::default();
            ask.push(Msg::GetData {
                id: rounds,
                keys: asking,
            });
            write_batch(&mut s, &ask, false).await?;
            // Refused here if the reply exceeded what was announced.
            let reply = read_batch(&mut s, &small).await?.ok_or("a reply")?;
            let [Incoming {
                msg:
                    Msg::Data {
                        values,
                        missing,
                        deferred,
                        ..
                    },
                frames,
            }] = &reply[..]
            else {
                return Err("one data reply".into());
            };
            if !missing.is_empty() || values.is_empty() || frames.len() >= 64 {
                return Err(format!(
                    "{} values, {} missing, {} frames",
                    values.len(),
                    missing.len(),
                    frames.len()
                )
                .into());
            }
            got.extend(values.iter().map(|(k, _)| k.clone()));
            asking = deferred.clone();
            rounds += 1;
        }
        Ok::<_, Box<dyn std::error::Error>>((rounds, got))
    })?;
    check(got == keys, "every key once, in order, over the replies")?;
    check(
        rounds >= 16,
        format!("1,000 one-frame values in {rounds} replies"),
    )?;
    Ok(())
}

/// With no worker, a wait with a timeout ends with an error naming the key, and
/// the future stays usable; tasks fail once the no-workers timeout passes, with
/// an error that says so, instead of waiting forever.
fn waits_end_when_no_worker_comes() -> R {
    let mut c = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 0,
        no_workers_timeout: None,
        ..Default::default()
    })?;
    let client = c.client()?;
    let f = client.submit(&inc::delayed(1)?)?;
    let e = f
        .result_timeout(Duration::from_millis(200))
        .expect_err("nothing can run without a worker");
    check(
        e.to_string().contains(&f.key().to_string()) && e.to_string().contains("not done"),
        e.to_string(),
    )?;
    let g = client.submit(&inc::delayed(2)?)?;
    let e = client
        .gather_timeout(&[g.clone()], Duration::from_millis(200))
        .expect_err("nothing can run without a worker");
    check(e.to_string().contains("not done"), e.to_string())?;
    c.start_worker()?;
    check(f.result()? == 2, "the same future, once a worker joined")?;
    check(
        client.gather_timeout(&[g], PATIENCE)? == vec![3],
        "gather within its timeout",
    )?;
    drop(client);
    drop(c);

    let c = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 0,
        no_workers_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    })?;
    let client = c.client()?;
    let f = client.submit(&inc::delayed(1)?)?;
    let e = f.result().expect_err("no worker ever joins");
    check(
        e.to_string()
            .contains("no worker has been connected for 1 s"),
        e.to_string(),
    )?;
    Ok(())
}

/// A scheduler process and what it prints first (its address).
struct Scheduler {
    child: Child,
    address: String,
}

impl Scheduler {
    /// `brisk-scheduler` with `args`, allowed `nofile` descriptors if given.
    fn start(args: &[&str], nofile: Option<u64>) -> Result<Scheduler, Failed> {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_brisk-scheduler"));
        cmd.args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("BRISK_TOKEN")
            .stdout(Stdio::piped());
        if let Some(n) = nofile {
            let limit = libc::rlimit {
                rlim_cur: n,
                rlim_max: n,
            };
            // SAFETY: setrlimit is async-signal-safe and touches only the child.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let mut child = cmd.spawn()?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
        let address = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        let s = Scheduler { child, address };
        check(s.address.starts_with("tcp://"), line)?;
        Ok(s)
    }

    fn host_port(&self) -> &str {
        self.address.trim_start_matches("tcp://")
    }

    /// CPU seconds (user and system) the process has used.
    fn cpu_seconds(&self) -> Result<f64, Failed> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        let after_name = stat.rsplit(')').next().ok_or("stat")?;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line (11 and 12 after the name).
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        // SAFETY: sysconf reads a constant.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Ok(ticks / hz)
    }

    fn open_descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `inc(41)` through `scheduler` with a `brisk-worker` process.
fn serves(scheduler: &Scheduler) -> R {
    let mut worker = Command::new(env!("CARGO_BIN_EXE_brisk-worker"))
        .args([scheduler.address.as_str(), "--nthreads", "1"])
        .env_remove("BRISK_TOKEN")
        .spawn()?;
    let result = (|| -> R {
        // Freed connections may not all be closed on the scheduler's side yet:
        // a refusal (over a limit) is retried.
        let mut client = None;
        let mut last = String::new();
        eventually(|| match Client::connect(&scheduler.address) {
            Ok(c) => {
                client = Some(c);
                true
            }
            Err(e) => {
                last = e.to_string();
                false
            }
        });
        let client = client.ok_or(format!("the scheduler serves again: {last}"))?;
        client.wait_for_workers(1, PATIENCE)?;
        let x = delayed::value(41_i64)?;
        check(
            client.submit(&x)?.result()? == 41,
            "a task through the scheduler",
        )
    })();
    let _ = worker.kill();
    let _ = worker.wait();
    result
}

/// A scheduler out of descriptors, with connections waiting to be accepted,
/// backs off instead of spinning on failed accepts, and serves again once
/// descriptors free.
fn descriptors_exhausted_leave_the_scheduler_idle_and_then_serving() -> R {
    const NOFILE: u64 = 48;
    let s = Scheduler::start(&["--handshake-timeout", "600"], Some(NOFILE))?;
    // Silent connections hold a descriptor each until the handshake timeout;
    // more than the scheduler may open.
    let mut held = Vec::new();
    for _ in 0..2 * NOFILE {
        held.push(std::net::TcpStream::connect(s.host_port())?);
    }
    check(
        eventually(|| s.open_descriptors() as u64 >= NOFILE),
        format!(
            "the scheduler ran out of descriptors ({} open)",
            s.open_descriptors()
        ),
    )?;
    // Accepts now fail (EMFILE) with connections still pending: a spinning
    // accept loop would burn a whole core meanwhile.
    let before = s.cpu_seconds()?;
    std::thread::sleep(Duration::from_secs(2));
    let used = s.cpu_seconds()? - before;
    check(
        used < 0.5,
        format!("{used:.2} CPU seconds in 2 s with descriptors exhausted"),
    )?;
    drop(held);
    serves(&s)
}

/// Connections over `--max-connections` are turned away with a refusal that
/// says why; the scheduler serves again once connections close.
fn connections_over_the_limit_are_turned_away_with_a_reason() -> R {
    let s = Scheduler::start(
        &["--max-connections", "3", "--handshake-timeout", "600"],
        None,
    )?;
    let held: Vec<_> = (0..3)
        .map(|_| std::net::TcpStream::connect(s.host_port()))
        .collect::<Result<_, _>>()?;
    // The scheduler counts a connection once it has accepted it.
    let mut refusal = String::new();
    let refused = eventually(|| {
        match Client::connect_with(
            &s.address,
            ClientOptions {
                reconnect: Duration::ZERO,
                ..Default::default()
            },
        ) {
            Ok(_) => false,
            Err(e) => {
                refusal = e.to_string();
                refusal.contains("limit of 3 connections")
            }
        }
    });
    check(
        refused,
        format!("a fourth connection is refused: {refusal}"),
    )?;
    drop(held);
    serves(&s)
}

/// Whether process `pid` is running (not gone, not a zombie waiting to be reaped).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.trim_start().to_string()))
        .is_some_and(|state| !state.starts_with('Z') && !state.starts_with('X'))
}

/// A worker started from a thread that then ends lives on (its parent-death
/// signal follows the cluster's own thread, not the caller's).
fn workers_outlive_the_thread_that_started_them() -> R {
    let mut c = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 1,
        ..Default::default()
    })?;
    let started = std::thread::scope(|s| {
        s.spawn(|| -> brisk::Result<()> {
            c.start_worker()?;
            c.wait_for_workers(2)
        })
        .join()
    });
    started.map_err(|_| "the starting thread panicked")??;
    // A signal sent when the thread ended would have arrived by now.
    std::thread::sleep(Duration::from_secs(1));
    for pid in c.worker_pids() {
        check(running(pid), format!("worker {pid} is running"))?;
    }
    let client = c.client()?;
    check(
        client.submit(&inc::delayed(1)?)?.result()? == 2,
        "the cluster computes",
    )?;
    Ok(())
}

fn main() {
    brisk::init();
    let args = Arguments::from_args();
    let tests: Vec<(&str, fn() -> R)> = vec![
        (
            "a_stalled_client_costs_the_scheduler_at_most_its_buffer",
            a_stalled_client_costs_the_scheduler_at_most_its_buffer,
        ),
        (
            "a_worker_defers_what_its_asker_does_not_accept",
            a_worker_defers_what_its_asker_does_not_accept,
        ),
        (
            "waits_end_when_no_worker_comes",
            waits_end_when_no_worker_comes,
        ),
        (
            "descriptors_exhausted_leave_the_scheduler_idle_and_then_serving",
            descriptors_exhausted_leave_the_scheduler_idle_and_then_serving,
        ),
        (
            "connections_over_the_limit_are_turned_away_with_a_reason",
            connections_over_the_limit_are_turned_away_with_a_reason,
        ),
        (
            "workers_outlive_the_thread_that_started_them",
            workers_outlive_the_thread_that_started_them,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| Trial::test(name, f))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
