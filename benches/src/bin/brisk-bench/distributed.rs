//! `brisk-bench distributed`: the distributed runtime on a LocalCluster of 2 worker
//! processes × 1 thread (this executable, started again as workers).
//!
//! - `dist.roundtrip`: submit → result of one small task, median over 1,000;
//! - `dist.submit1000`: 1,000 submits then one gather;
//! - `dist.throughput`: a tree reduction of ~100,000 no-op tasks through
//!   `compute`, in tasks a second; `dist.throughput.dashboard`: the same while a
//!   dashboard client is connected to `/events` and reading every update (runs
//!   with and without alternate);
//! - `dashboard.big_graph`: the status page's first render in Chromium while
//!   the scheduler holds a 1,000,000-task graph (see `dashboard`);
//! - `dist.transfer`: 100 MB scattered to one worker and copied to the other
//!   (the second worker fetches it from the first), beside a raw loopback socket
//!   copy of the same bytes in this process;
//! - `dist.map_<n>`: a map of 5,000 and 40,000 tiny tasks, wall and worker CPU
//!   time (see `dist_map`);
//! - `protocol.small` / `protocol.large`: encode + decode of a one-task message,
//!   and of a 100 MB buffer.

use anyhow::Result;
use brisk::core::Executor;
use brisk::scheduler::distributed::messages::{split_batch, Msg, Outgoing};
use brisk::scheduler::distributed::{Priority, StimulusId, TaskSpec, WorkerId};
use brisk::scheduler::protocol::{decode, encode, Limits};
use brisk::{Delayed, LocalCluster};
use brisk_benches::{emit, round};
use serde_json::json;
use std::io::{Read, Write};
use std::time::Instant;

#[brisk::task]
fn bump(x: u64) -> u64 {
    x + 1
}

#[brisk::task]
fn byte_len(xs: &Vec<u8>) -> u64 {
    xs.len() as u64
}

const MB100: usize = 100 * 1000 * 1000;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

pub fn run(_args: &[String]) -> Result<()> {
    // BRISK_BENCH_FILTER=throughput (for example) runs only the matching parts.
    let filter = std::env::var("BRISK_BENCH_FILTER").unwrap_or_default();
    let want = |name: &str| name.contains(filter.as_str());
    if want("protocol") {
        protocol_figures()?;
    }
    let cluster = LocalCluster::new(2, 1)?;
    let client = cluster.client()?;
    if want("roundtrip") {
        latency(&client)?;
    }
    if want("throughput") {
        throughput(&cluster, &client)?;
    }
    if want("transfer") {
        transfer(&client)?;
    }
    if want("map") {
        crate::dist_map::run(&cluster, &client)?;
    }
    if want("dashboard") {
        crate::dashboard::big_graph(&cluster, &client)?;
    }
    if want("as_completed") {
        as_completed(&client)?;
    }
    Ok(())
}

/// The Celery post's pattern: 10,000 small tasks submitted in a loop and consumed
/// as they complete, each result submitting one follow-up (20,000 tasks in all).
/// First-stage tasks bump even numbers, so their results are odd, and follow-ups
/// (of odd numbers) have keys of their own.
fn as_completed(client: &brisk::Client) -> Result<()> {
    const N: u64 = 10_000;
    let t = Instant::now();
    let mut done = brisk::AsCompleted::new(Vec::new());
    for i in 0..N {
        done.add(client.submit(&bump::delayed(2 * i)?)?);
    }
    let mut count = 0u64;
    while let Some(f) = done.next() {
        let x = f.result()?;
        count += 1;
        if x % 2 == 1 {
            done.add(client.submit(&bump::delayed(x)?)?);
        }
    }
    let s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        count == 2 * N,
        "{count} tasks came back, expected {}",
        2 * N
    );
    emit(
        "dist.as_completed",
        &[
            ("tasks", json!(count)),
            ("seconds", json!(round(s, 3))),
            ("tasks_per_s", json!(round(count as f64 / s, 0))),
        ],
    );
    Ok(())
}

fn latency(client: &brisk::Client) -> Result<()> {
    // client -> scheduler -> client, for comparison with (a)
    let mut pings = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        client.wait_for_workers(1, std::time::Duration::from_secs(10))?;
        pings.push(t.elapsed().as_secs_f64() * 1e6);
    }
    emit(
        "dist.ping",
        &[("median_us", json!(round(median(pings), 1)))],
    );

    // (a) round trip
    for i in 0..100u64 {
        client.submit(&bump::delayed(1_000_000 + i)?)?.result()?;
    }
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000u64 {
        let call = bump::delayed(i)?;
        let t = Instant::now();
        let f = client.submit(&call)?;
        f.result()?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    emit(
        "dist.roundtrip",
        &[
            ("median_us", json!(round(median(times.clone()), 1))),
            (
                "p90_us",
                json!(round(
                    {
                        times.sort_by(|a, b| a.total_cmp(b));
                        times[900]
                    },
                    1
                )),
            ),
        ],
    );

    // (b) 1,000 submits + gather
    let mut runs = Vec::new();
    for rep in 0..5u64 {
        let calls: Vec<Delayed<u64>> = (0..1000)
            .map(|i| bump::delayed(10_000_000 * (rep + 1) + i))
            .collect::<brisk::Result<_>>()?;
        let t = Instant::now();
        let futures = calls
            .iter()
            .map(|c| client.submit(c))
            .collect::<brisk::Result<Vec<_>>>()?;
        let values = client.gather(&futures)?;
        runs.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(
            values.len() == 1000 && values[0] == 10_000_000 * (rep + 1) + 1,
            "wrong gather"
        );
    }
    emit(
        "dist.submit1000",
        &[("seconds", json!(round(median(runs), 4)))],
    );
    Ok(())
}

fn throughput(cluster: &LocalCluster, client: &brisk::Client) -> Result<()> {
    // (c) throughput, without and with a dashboard client, alternating
    let mut rates = Vec::new();
    let mut watched = Vec::new();
    let mut updates = Vec::new();
    let mut count = 0;
    for rep in 0..6u32 {
        let (graph, root, n) = crate::tree_graph_seeded(100_000, 32, rep as u64);
        count = n;
        let watcher = if rep % 2 == 1 {
            Some(DashboardWatcher::start(cluster)?)
        } else {
            None
        };
        let t = Instant::now();
        let out = client.get(&graph, std::slice::from_ref(&root))?;
        let s = t.elapsed().as_secs_f64();
        anyhow::ensure!(out[0].downcast_ref::<u64>().is_some(), "no result");
        match watcher {
            Some(w) => {
                updates.push(w.stop() as f64 / s);
                watched.push(n as f64 / s);
            }
            None => rates.push(n as f64 / s),
        }
    }
    emit(
        "dist.throughput",
        &[
            ("tasks", json!(count)),
            ("tasks_per_s", json!(round(median(rates), 0))),
        ],
    );
    emit(
        "dist.throughput.dashboard",
        &[
            ("tasks", json!(count)),
            ("tasks_per_s", json!(round(median(watched), 0))),
            ("updates_per_s", json!(round(median(updates), 1))),
        ],
    );
    Ok(())
}

/// A dashboard client: reads the live updates of `/events` until stopped.
struct DashboardWatcher {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl DashboardWatcher {
    fn start(cluster: &LocalCluster) -> Result<DashboardWatcher> {
        let link = cluster
            .dashboard_link()
            .ok_or_else(|| anyhow::anyhow!("the cluster has no dashboard"))?;
        let host = link
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let auth = cluster
            .token()
            .map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let mut s = std::net::TcpStream::connect(&host)?;
        s.set_read_timeout(Some(std::time::Duration::from_millis(100)))?;
        write!(s, "GET /events HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n")?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            let mut events = 0u64;
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => events += buf[..n].windows(5).filter(|w| w == b"data:").count() as u64,
                    Err(_) => continue,
                }
            }
            events
        });
        Ok(DashboardWatcher { stop, thread })
    }

    /// Stops reading; the number of updates received.
    fn stop(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

fn transfer(client: &brisk::Client) -> Result<()> {
    // (d) transfer
    let payload: Vec<u8> = (0..MB100)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut speeds = Vec::new();
    for rep in 0..3 {
        let mut data = payload.clone();
        data[0] = rep as u8; // a fresh key each time
        let f = client.scatter(vec![data], false)?;
        client.wait_for_workers(2, std::time::Duration::from_secs(60))?;
        // the scatter is in place once a task on that worker has read it
        let n = client.submit(&byte_len::delayed(Delayed::of(&f[0]))?)?;
        anyhow::ensure!(n.result()? == MB100 as u64, "scatter");
        let t = Instant::now();
        client.replicate(&f, 2)?;
        speeds.push(MB100 as f64 / 1e6 / t.elapsed().as_secs_f64());
    }
    let raw = raw_socket_copy(&payload)?;
    emit(
        "dist.transfer",
        &[
            ("MB", json!(100)),
            ("MB_per_s", json!(round(median(speeds), 0))),
            ("raw_MB_per_s", json!(round(raw, 0))),
        ],
    );
    Ok(())
}

/// Copies `payload` over a loopback TCP socket to a thread that reads it all.
fn raw_socket_copy(payload: &[u8]) -> Result<f64> {
    let mut speeds = Vec::new();
    for _ in 0..3 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let n = payload.len();
        let reader = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
            let (mut s, _) = listener.accept()?;
            let mut buf = vec![0u8; n];
            s.read_exact(&mut buf)?;
            s.write_all(&[1])?;
            Ok(buf)
        });
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        let t = Instant::now();
        s.write_all(payload)?;
        let mut ack = [0u8; 1];
        s.read_exact(&mut ack)?;
        speeds.push(n as f64 / 1e6 / t.elapsed().as_secs_f64());
        let got = reader
            .join()
            .map_err(|_| anyhow::anyhow!("reader panicked"))??;
        anyhow::ensure!(got.len() == n, "raw copy");
    }
    Ok(median(speeds))
}

fn protocol_figures() -> Result<()> {
    let limits = Limits::default();
    let mut batch = Outgoing::default();
    batch.push(Msg::Compute {
        run: 0,
        key: brisk::core::Key::new("bump-0123456789abcdef0123456789abcdef", &[7]),
        spec: TaskSpec {
            op: "brisk_bench::bump".into(),
            params: vec![],
        },
        inputs: vec![(
            brisk::core::Key::new("leaf-0123456789abcdef0123456789abcdef", &[7]),
            vec![WorkerId(1)],
        )],
        priority: Priority::new(0, 1, 7),
        send_value: true,
        stimulus_id: StimulusId::scheduler(7),
    });
    let n = 200_000;
    let t = Instant::now();
    for _ in 0..n {
        let header = batch.header()?;
        let wire = encode(&header, &[], true)?;
        let body = &wire[0][4..];
        let msg = decode(body, &limits)?;
        let msgs = split_batch(&msg.header, msg.frames)?;
        std::hint::black_box(msgs);
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    emit("protocol.small", &[("us", json!(round(us, 3)))]);

    // Incompressible bytes (xorshift), so the figure is the framing itself.
    let mut x = 0x9E3779B97F4A7C15u64;
    let big: Vec<u8> = (0..MB100)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let pieces = encode(b"\x90", &[&big], true)?;
        let mut wire = Vec::with_capacity(big.len() + 64);
        for p in &pieces {
            wire.extend_from_slice(p);
        }
        let msg = decode(&wire[4..], &limits)?;
        anyhow::ensure!(msg.frames[0].len() == big.len(), "large frame");
        times.push(t.elapsed().as_secs_f64());
    }
    emit(
        "protocol.large",
        &[(
            "GB_per_s",
            json!(round(MB100 as f64 / 1e9 / median(times), 2)),
        )],
    );
    Ok(())
}
