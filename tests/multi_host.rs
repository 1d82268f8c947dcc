//! Your own code on a cluster of several hosts. This test executable is also the
//! program whose workers and scheduler run (`main` calls `brisk::init()` first, so
//! `multi_host brisk-worker ...` is a worker that knows the functions below).
//!
//! The hosts are network namespaces, made and removed by the test: one for the
//! scheduler and the client, two for workers, each with its own address on one
//! bridge. Workers listen on every interface and tell the others their contact
//! address; they find the scheduler through a scheduler file. Pipelines of Bag,
//! DataFrame and Array with registered functions give the local scheduler's
//! results, and workers fetch inputs from each other across hosts. Making
//! namespaces needs root: elsewhere that test says so and skips.
//!
//! The command line's own behaviour (usage, unreachable contact address,
//! scheduler file, local directory, a panicking function) is tested on loopback.

use brisk::collections::bag::{read_json, Json, JsonValueTrait};
use brisk::collections::dataframe::polars::prelude as pl;
use brisk::collections::dataframe::{col, read_csv, CsvOptions};
use brisk::collections::datasets::{github_events, nyc_taxi, TaxiFormat};
use brisk::scheduler::distributed::client::ClientOptions;
use brisk::scheduler::distributed::WorkerInfo;
use brisk::Future;
use libtest_mimic::{Arguments, Failed, Trial};
use ndarray::{ArrayD, IxDyn};
use std::cmp::Reverse;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type R = Result<(), Failed>;

fn check(cond: bool, what: impl Into<String>) -> R {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

// ---------------------------------------------------------------------------
// The user's functions
// ---------------------------------------------------------------------------

#[brisk::task]
fn is_push(e: &Json) -> bool {
    e["type"].as_str() == Some("PushEvent")
}

#[brisk::task]
fn repo_name(e: &Json) -> String {
    e["repo"]["name"].as_str().unwrap_or("").to_string()
}

#[brisk::task]
fn by_count(pair: &(String, u64)) -> (u64, Reverse<String>) {
    (pair.1, Reverse(pair.0.clone()))
}

#[brisk::task]
fn event_type(e: &Json) -> String {
    e["type"].as_str().unwrap_or("").to_string()
}

#[brisk::task]
fn count_one(n: u64, _e: &Json) -> u64 {
    n + 1
}

#[brisk::task]
fn add_counts(a: u64, b: u64) -> u64 {
    a + b
}

#[brisk::task]
fn fare_per_mile(df: &pl::DataFrame) -> pl::DataFrame {
    use pl::*;
    df.clone()
        .lazy()
        .filter(col("trip_distance").gt(lit(0.0)))
        .select([
            col("passenger_count"),
            col("trip_distance"),
            (col("fare_amount") / col("trip_distance")).alias("per_mile"),
        ])
        .collect()
        .expect("a frame of taxi trips")
}

#[brisk::task]
fn longest_trip(group: &pl::DataFrame) -> pl::DataFrame {
    use pl::*;
    group
        .clone()
        .lazy()
        .sort(
            ["trip_distance", "per_mile"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .limit(1)
        .collect()
        .expect("a group of trips")
}

#[brisk::task]
fn standardized(block: &ArrayD<f64>, #[bound] mean: f64, #[bound] std: f64) -> ArrayD<f64> {
    block.mapv(|v| (v - mean) / std)
}

#[brisk::task]
fn explode(x: i64) -> i64 {
    if x > 2 {
        panic!("boom at {x}");
    }
    x
}

#[brisk::task]
fn scratch_of_worker(x: i64) -> String {
    let dir = brisk::scheduler::distributed::worker_server::local_directory()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    format!("{dir}|{x}")
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// A child process killed and reaped when dropped (on a failed check too).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Reaped {
    /// Sends SIGTERM and waits for the exit.
    fn terminate(mut self) -> std::io::Result<std::process::ExitStatus> {
        // SAFETY: kill(2) on the pid of our own child.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        self.0.wait()
    }
}

fn exe() -> PathBuf {
    std::env::current_exe().expect("this executable")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brisk-multi-host-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a scratch folder");
    d
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> R {
    let deadline = Instant::now() + timeout;
    while !ready() {
        if Instant::now() > deadline {
            return Err(format!("{what} did not happen within {timeout:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn client_options(token: &str) -> ClientOptions {
    ClientOptions {
        token: Some(token.to_string()),
        reconnect: Duration::from_secs(60),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------
// The command line on loopback
// ---------------------------------------------------------------------------

fn an_unknown_flag_prints_the_usage() -> R {
    let out = Command::new(exe())
        .args(["brisk-worker", "tcp://127.0.0.1:1", "--frobnicate"])
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    check(
        out.status.code() == Some(2),
        format!("exit {:?}", out.status),
    )?;
    check(
        err.contains("--frobnicate") && err.contains("Usage:") && err.contains("brisk-worker"),
        err.to_string(),
    )?;
    let out = Command::new(exe())
        .args(["brisk-scheduler", "--help"])
        .output()?;
    let help = String::from_utf8_lossy(&out.stdout);
    check(out.status.success(), format!("--help: {:?}", out.status))?;
    check(
        help.contains("--scheduler-file") && help.contains("--contact-address"),
        help.to_string(),
    )
}

fn an_unreachable_contact_address_fails_at_start() -> R {
    // Port 1 of loopback: nothing listens there, so this host cannot reach it.
    let out = Command::new(exe())
        .args([
            "brisk-worker",
            "tcp://127.0.0.1:9",
            "--contact-address",
            "127.0.0.1:1",
            "--death-timeout",
            "2",
        ])
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    check(!out.status.success(), "the worker started")?;
    check(
        err.contains("contact address tcp://127.0.0.1:1 is not reachable from this host"),
        err.to_string(),
    )?;
    let out = Command::new(exe())
        .args([
            "brisk-worker",
            "tcp://127.0.0.1:9",
            "--listen-address",
            "0.0.0.0:0",
        ])
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    check(
        !out.status.success() && err.contains("needs a contact address"),
        err.to_string(),
    )
}

fn a_scheduler_file_a_local_directory_and_a_panicking_function() -> R {
    let dir = scratch("loopback");
    let file = dir.join("scheduler.json");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "loopback-secret\n")?;
    let token_arg = token_file.to_str().ok_or("path")?;
    let scheduler = Reaped(
        Command::new(exe())
            .args(["brisk-scheduler", "--listen-address", "127.0.0.1:0"])
            .args(["--scheduler-file", file.to_str().ok_or("path")?])
            .args(["--token-file", token_arg])
            .stdout(Stdio::null())
            .spawn()?,
    );
    let local = dir.join("local");
    let worker = Reaped(
        Command::new(exe())
            .args([
                "brisk-worker",
                "--scheduler-file",
                file.to_str().ok_or("path")?,
            ])
            .args(["--token-file", token_arg, "--name", "w-loop"])
            .args(["--nthreads", "2", "--memory-limit", "1GiB"])
            .args(["--local-directory", local.to_str().ok_or("path")?])
            .spawn()?,
    );
    let client = brisk::Client::from_scheduler_file(&file, client_options("loopback-secret"))?;
    client.wait_for_workers(1, Duration::from_secs(60))?;
    let info: Vec<WorkerInfo> = client.scheduler_info()?;
    check(info.len() == 1, format!("{info:?}"))?;
    check(
        info[0].name == "w-loop" && info[0].nthreads == 2 && info[0].memory_limit == 1 << 30,
        format!("{info:?}"),
    )?;

    // The worker's own directory under --local-directory, while it runs.
    let seen: String = client.submit(&scratch_of_worker::delayed(7)?)?.result()?;
    let (path, _) = seen.split_once('|').ok_or("no directory")?;
    check(
        Path::new(path).starts_with(&local) && Path::new(path).is_dir(),
        format!("{path} under {}", local.display()),
    )?;

    // A panic on the worker names the task, the function and the message.
    let fine: Future<i64> = client.submit(&explode::delayed(1)?)?;
    check(fine.result()? == 1, "explode(1)")?;
    let bad: Future<i64> = client.submit(&explode::delayed(3)?)?;
    let e = bad.result().expect_err("a panic is an error").to_string();
    check(
        e.contains("boom at 3") && e.contains("explode") && e.contains(&bad.key().to_string()),
        e.clone(),
    )?;
    // ... and the worker goes on.
    check(
        client.submit(&explode::delayed(2)?)?.result()? == 2,
        "after",
    )?;

    drop(client);
    worker.terminate()?;
    check(!Path::new(path).exists(), format!("{path} left behind"))?;
    scheduler.terminate()?;
    check(!file.exists(), "the scheduler file outlived its scheduler")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

// ---------------------------------------------------------------------------
// Hosts as network namespaces
// ---------------------------------------------------------------------------

/// Network namespaces joined by veth pairs to a bridge in a namespace of its
/// own; host `i` has the address `10.231.7.(i + 1)/24`. Removed on drop.
struct Hosts {
    names: Vec<String>,
    switch: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Hosts {
    /// `n` hosts, or why they cannot be made here.
    fn create(n: usize) -> Result<Hosts, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("making network namespaces needs root".into());
        }
        let tag = format!("bk{}", std::process::id());
        let hosts = Hosts {
            names: (0..n).map(|i| format!("{tag}h{i}")).collect(),
            switch: format!("{tag}s"),
        };
        ip(&["netns", "add", &hosts.switch])?;
        ip(&["-n", &hosts.switch, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &hosts.switch, "link", "set", "br0", "up"])?;
        for (i, ns) in hosts.names.iter().enumerate() {
            ip(&["netns", "add", ns])?;
            let (inner, outer) = (format!("{tag}v{i}"), format!("{tag}p{i}"));
            ip(&[
                "link",
                "add",
                &inner,
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                &outer,
                "netns",
                &hosts.switch,
            ])?;
            ip(&["-n", &hosts.switch, "link", "set", &outer, "master", "br0"])?;
            ip(&["-n", &hosts.switch, "link", "set", &outer, "up"])?;
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{}/24", Hosts::addr(i)),
                "dev",
                &inner,
            ])?;
            ip(&["-n", ns, "link", "set", &inner, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(hosts)
    }

    fn addr(i: usize) -> String {
        format!("10.231.7.{}", i + 1)
    }

    /// This executable with `args`, run on host `i`.
    fn spawn(&self, i: usize, args: &[&str]) -> std::io::Result<Reaped> {
        Command::new("ip")
            .args(["netns", "exec", &self.names[i]])
            .arg(exe())
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .map(Reaped)
    }

    /// Runs `f` on a thread of this process moved to host `i` (threads it
    /// starts, like a client's connection thread, are there too).
    fn run_on<T: Send>(&self, i: usize, f: impl FnOnce() -> T + Send) -> Result<T, String> {
        use std::os::fd::AsRawFd;
        let path = format!("/var/run/netns/{}", self.names[i]);
        std::thread::scope(|s| {
            s.spawn(|| {
                let ns = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
                // SAFETY: setns on an open namespace file; it moves this thread only.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(format!("setns {path}: {}", std::io::Error::last_os_error()));
                }
                Ok(f())
            })
            .join()
            .map_err(|_| "the thread on the host panicked".to_string())?
        })
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in self.names.iter().chain([&self.switch]) {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

fn pipelines_on_three_hosts_match_the_local_scheduler() -> R {
    let hosts = match Hosts::create(3) {
        Ok(h) => h,
        Err(why) => {
            println!("skipped: {why}");
            return Ok(());
        }
    };
    let dir = scratch("hosts");
    let events = github_events(6, 300, 7, &dir.join("github"))?;
    let taxi = nyc_taxi(6_000, 3, 11, &dir.join("taxi"), TaxiFormat::Csv)?;
    let file = dir.join("scheduler.json");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "many-hosts\n")?;
    let (file_arg, token_arg) = (
        file.to_str().ok_or("path")?,
        token_file.to_str().ok_or("path")?,
    );

    let _scheduler = hosts.spawn(
        0,
        &[
            "brisk-scheduler",
            "--listen-address",
            &format!("{}:0", Hosts::addr(0)),
            "--scheduler-file",
            file_arg,
            "--token-file",
            token_arg,
            "--validate",
        ],
    )?;
    let mut workers = Vec::new();
    for i in 1..3 {
        workers.push(hosts.spawn(
            i,
            &[
                "brisk-worker",
                "--scheduler-file",
                file_arg,
                "--token-file",
                token_arg,
                "--listen-address",
                "0.0.0.0:0",
                "--contact-address",
                &format!("{}:0", Hosts::addr(i)),
                "--nthreads",
                "1",
                "--name",
                &format!("host-{i}"),
                "--validate",
            ],
        )?);
    }

    // The answers of the local scheduler, in this process.
    let glob = format!("{}/*.json.gz", dir.join("github").display());
    let bag = || -> brisk::Result<_> {
        read_json(&[&glob], &Default::default())?
            .filter(is_push::task_fn())?
            .map(repo_name::task_fn())?
            .frequencies()?
            .topk(10, by_count::task_fn())
    };
    let want_bag = bag()?.compute()?;
    check(want_bag.len() == 10, format!("{want_bag:?}"))?;
    let by_type = || -> brisk::Result<_> {
        read_json(&[&glob], &Default::default())?.foldby(
            event_type::task_fn(),
            0,
            count_one::task_fn(),
            add_counts::task_fn(),
        )
    };
    let want_by_type = by_type()?.compute()?;
    check(
        want_by_type.len() > 3 && want_by_type.iter().map(|(_, n)| n).sum::<u64>() == 6 * 300,
        format!("{want_by_type:?}"),
    )?;
    let taxi_glob = format!("{}/*.csv", dir.join("taxi").display());
    let frame = || -> brisk::Result<_> {
        read_csv(&[&taxi_glob], &CsvOptions::default())?
            .map_partitions(fare_per_mile::task_fn())?
            .groupby([col("passenger_count")])
            .apply(longest_trip::task_fn())
    };
    let sort = |df: pl::DataFrame| {
        df.sort(["passenger_count"], Default::default())
            .expect("sortable")
    };
    let want_frame = sort(frame()?.compute()?);
    check(
        taxi.len() == 3 && want_frame.height() > 1,
        format!("{want_frame}"),
    )?;
    let grid = ArrayD::from_shape_fn(IxDyn(&[120, 80]), |i| ((i[0] * 31 + i[1] * 7) % 97) as f64);
    let array = || -> brisk::Result<_> {
        brisk::collections::array::from_array(&grid, &[30, 40])?
            .map_blocks(standardized::task_fn(48.0, 28.0), None)?
            .sum(&[0], false)
    };
    let want_array = array()?.compute()?;
    check(events.len() == 6, "six hours of events")?;

    let on_cluster = hosts.run_on(0, || -> Result<(Vec<String>, Vec<WorkerInfo>), Failed> {
        let client = brisk::Client::from_scheduler_file(&file, client_options("many-hosts"))?;
        client.wait_for_workers(2, Duration::from_secs(60))?;
        let mut differ = Vec::new();
        if bag()?.compute_with(&client)? != want_bag {
            differ.push("bag".to_string());
        }
        if by_type()?.compute_with(&client)? != want_by_type {
            differ.push("bag foldby".to_string());
        }
        if sort(frame()?.compute_with(&client)?) != want_frame {
            differ.push("dataframe".to_string());
        }
        let got = array()?.compute_with(&client)?;
        if got
            .iter()
            .zip(want_array.iter())
            .any(|(a, b)| (a - b).abs() > 1e-9)
        {
            differ.push("array".to_string());
        }
        // Counters ride on heartbeats: wait for those that show the work.
        let mut info = client.scheduler_info()?;
        let _ = wait_for("heartbeats after the work", Duration::from_secs(30), || {
            info = client.scheduler_info().unwrap_or_default();
            info.iter().map(|w| w.metrics.transfers_in).sum::<u64>() > 0
                && info.iter().all(|w| w.metrics.executed > 0)
        });
        Ok((differ, info))
    })??;
    let (differ, info) = on_cluster;
    check(differ.is_empty(), format!("results differ: {differ:?}"))?;
    check(info.len() == 2, format!("{info:?}"))?;
    for host in 1..3 {
        let prefix = format!("tcp://{}:", Hosts::addr(host));
        check(
            info.iter().any(|w| w.address.starts_with(&prefix)),
            format!("no worker advertises host {host}: {info:?}"),
        )?;
    }
    for w in &info {
        check(
            w.metrics.executed > 0,
            format!("{} ran nothing: {info:?}", w.name),
        )?;
    }
    let moved: u64 = info.iter().map(|w| w.metrics.transfers_in).sum();
    check(moved > 0, format!("no value crossed hosts: {info:?}"))?;
    drop(workers);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A test of this harness.
type Test = fn() -> R;

fn main() {
    brisk::init();
    let args = Arguments::from_args();
    let tests: Vec<(&str, Test)> = vec![
        (
            "an_unknown_flag_prints_the_usage",
            an_unknown_flag_prints_the_usage,
        ),
        (
            "an_unreachable_contact_address_fails_at_start",
            an_unreachable_contact_address_fails_at_start,
        ),
        (
            "a_scheduler_file_a_local_directory_and_a_panicking_function",
            a_scheduler_file_a_local_directory_and_a_panicking_function,
        ),
        (
            "pipelines_on_three_hosts_match_the_local_scheduler",
            pipelines_on_three_hosts_match_the_local_scheduler,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| Trial::test(name, f))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
