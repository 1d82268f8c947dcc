//! Memory that holds, with real worker processes: a worker under a memory limit
//! spills its results to disk past the target and reads them back correct, its
//! resident memory stays under the terminate threshold, a corrupt spill file
//! means recomputation (never a wrong answer), and spill files go with the
//! cluster.

use brisk::prelude::*;
use brisk::scheduler::distributed::cluster::LocalClusterOptions;
use brisk::scheduler::distributed::WorkerInfo;
use brisk::Future;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type R = Result<(), Failed>;

const MB: u64 = 1 << 20;

/// `mb` MiB of bytes that depend on `i` and do not compress.
#[brisk::task]
fn block(i: u64, #[bound] mb: u64) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = vec![0u8; (mb * MB) as usize];
    for word in out.chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        word.copy_from_slice(&x.to_le_bytes());
    }
    out
}

/// A checksum of the bytes, a word at a time.
#[brisk::task]
fn digest(xs: &Vec<u8>) -> u64 {
    xs.chunks(8).fold(0xcbf2_9ce4_8422_2325, |h, w| {
        let mut word = [0u8; 8];
        word[..w.len()].copy_from_slice(w);
        (h ^ u64::from_le_bytes(word)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Holds `mb` MiB for `millis` ms, then returns them.
#[brisk::task]
fn hog(mb: u64, #[bound] millis: u64) -> Vec<u8> {
    let v = vec![1u8; (mb * MB) as usize];
    std::thread::sleep(Duration::from_millis(millis));
    v
}

fn check(cond: bool, what: impl Into<String>) -> R {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
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

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brisk-memory-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a scratch folder");
    d
}

/// The files under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A process's peak resident memory (`VmHWM`), bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The processes whose parent is `pid` (a nanny's worker).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // The parent pid is the second field after the command in parentheses.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

/// One one-thread worker limited to `limit` bytes, spilling under `dir`.
fn limited_worker(limit: u64, dir: &Path) -> brisk::Result<LocalCluster> {
    LocalCluster::with_options(LocalClusterOptions {
        n_workers: 1,
        threads_per_worker: 1,
        validate: true,
        memory_limit: Some(limit),
        local_directory: Some(dir.to_path_buf()),
        ..Default::default()
    })
}

/// The worker's report once a heartbeat after `ready` arrived.
fn worker_report(
    client: &brisk::Client,
    what: &str,
    ready: impl Fn(&WorkerInfo) -> bool,
) -> Result<WorkerInfo, Failed> {
    let mut last = None;
    wait_for(what, Duration::from_secs(30), || {
        last = client
            .scheduler_info()
            .ok()
            .and_then(|w| w.into_iter().next());
        last.as_ref().is_some_and(&ready)
    })?;
    last.ok_or_else(|| "no worker".into())
}

/// `n` blocks of `mb` MiB computed and held on the cluster.
fn held_blocks(client: &brisk::Client, n: u64, mb: u64) -> Result<Vec<Future<Vec<u8>>>, Failed> {
    let held: Vec<Future<Vec<u8>>> = (0..n)
        .map(|i| client.submit(&block::delayed(i, mb)?))
        .collect::<brisk::Result<_>>()?;
    wait_for("every block computed", Duration::from_secs(300), || {
        held.iter().all(|f| f.done())
    })?;
    Ok(held)
}

/// Each held block's digest, computed on the cluster, is that of the block
/// made here.
fn digests_match(client: &brisk::Client, held: &[Future<Vec<u8>>], mb: u64) -> R {
    let sums: Vec<Future<u64>> = held
        .iter()
        .map(|f| client.submit(&digest::delayed(Delayed::of(f))?))
        .collect::<brisk::Result<_>>()?;
    for (i, s) in sums.iter().enumerate() {
        let want = digest(&block(i as u64, mb));
        check(s.result()? == want, format!("the digest of block {i}"))?;
    }
    Ok(())
}

/// 1 GiB of results on a worker limited to 200 MiB: it spills, every value reads
/// back correct, its peak resident memory stays under 0.95 of the limit, and its
/// spill files are gone once the cluster stops.
fn a_worker_holds_five_times_its_limit_by_spilling() -> R {
    let dir = scratch("holds");
    let limit = 200 * MB;
    let (n, mb) = (25u64, 40u64);
    let c = limited_worker(limit, &dir)?;
    let client = c.client()?;
    let held = held_blocks(&client, n, mb)?;
    let info = worker_report(&client, "a report of what was spilled", |w| {
        w.metrics.managed + w.metrics.spilled == n * mb * MB
    })?;
    check(
        info.metrics.managed <= limit * 6 / 10 && info.metrics.spilled >= n * mb * MB - limit,
        format!(
            "in memory {} and spilled {}",
            info.metrics.managed, info.metrics.spilled
        ),
    )?;
    check(
        !files_under(&dir).is_empty(),
        "spill files under the local directory",
    )?;
    // Every value reads back from its spill file, correct.
    digests_match(&client, &held, mb)?;
    let info = worker_report(&client, "a report of what was read back", |w| {
        w.metrics.spill_read >= (n * mb * MB) / 2
    })?;
    // The worker is the nanny's child.
    let workers = children_of(c.worker_pids()[0]);
    check(
        workers.len() == 1,
        format!("one worker under the nanny: {workers:?}"),
    )?;
    let peak = peak_rss(workers[0]);
    println!(
        "peak resident memory {} MiB of a {} MiB limit; written {} MiB, read back {} MiB",
        peak / MB,
        limit / MB,
        info.metrics.spill_written / MB,
        info.metrics.spill_read / MB
    );
    check(
        peak > 0 && peak < limit * 95 / 100,
        format!("peak resident memory {peak} bytes, limit {limit}"),
    )?;
    drop(held);
    drop(client);
    drop(c);
    let left = files_under(&dir);
    check(
        left.is_empty(),
        format!("files left after the cluster stopped: {left:?}"),
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A spill file damaged on disk is never read as a value: the task that needed
/// it goes back to the scheduler, which computes the value again.
fn a_corrupt_spill_file_means_recomputation() -> R {
    let dir = scratch("corrupt");
    let (n, mb) = (10u64, 40u64);
    let c = limited_worker(200 * MB, &dir)?;
    let client = c.client()?;
    let held = held_blocks(&client, n, mb)?;
    worker_report(&client, "a report of what was spilled", |w| {
        w.metrics.spilled >= 4 * mb * MB
    })?;
    // Flip bytes in the middle of every spill file.
    let spilled: Vec<PathBuf> = files_under(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "spill"))
        .collect();
    check(spilled.len() >= 4, format!("spill files: {spilled:?}"))?;
    for p in &spilled {
        let mut bytes = std::fs::read(p)?;
        let mid = bytes.len() / 2;
        for b in &mut bytes[mid..mid + 64] {
            *b ^= 0x5a;
        }
        std::fs::write(p, bytes)?;
    }
    digests_match(&client, &held, mb)?;
    // The damaged values were computed again.
    let expected = 2 * n + spilled.len() as u64;
    worker_report(&client, "a report of the recomputation", |w| {
        w.metrics.executed >= expected
    })?;
    drop(held);
    drop(client);
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A task whose result alone passes the worker's terminate threshold: the
/// nanny restarts the worker each time, and after the allowed failures the
/// client hears that the task kills workers; the restarted worker works on.
fn a_task_past_the_limit_restarts_the_worker_until_it_is_erred() -> R {
    let dir = scratch("hog");
    let c = limited_worker(200 * MB, &dir)?;
    let client = c.client()?;
    let nanny = c.worker_pids();
    let f = client.submit(&hog::delayed(300, 3_000)?)?;
    let e = f.result().err().ok_or("the task should fail")?.to_string();
    check(
        e.contains("KilledWorker") && e.contains("hog") && e.contains("3 workers"),
        format!("the error: {e}"),
    )?;
    // The same nanny, a new worker: it still runs tasks.
    check(c.worker_pids() == nanny, "the nanny stayed")?;
    client.wait_for_workers(1, Duration::from_secs(60))?;
    let d = client.submit(&digest::delayed(block::delayed(3, 1)?)?)?;
    check(
        d.result()? == digest(&block(3, 1)),
        "a task after the restarts",
    )?;
    drop(client);
    drop(c);
    check(files_under(&dir).is_empty(), "no files left")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A worker killed from outside is started again by its nanny, and the
/// cluster computes on.
fn a_crashed_worker_is_started_again_by_its_nanny() -> R {
    let dir = scratch("crash");
    let c = limited_worker(200 * MB, &dir)?;
    let client = c.client()?;
    let first = worker_report(&client, "the first worker", |_| true)?;
    let nanny = c.worker_pids()[0];
    let workers = children_of(nanny);
    check(workers.len() == 1, format!("one worker: {workers:?}"))?;
    // SAFETY: a signal to a process this test's cluster started.
    unsafe {
        libc::kill(workers[0] as libc::pid_t, libc::SIGKILL);
    }
    let second = worker_report(&client, "a new worker", |w| w.id != first.id)?;
    check(second.name == first.name, "the same worker name")?;
    let d = client.submit(&digest::delayed(block::delayed(5, 1)?)?)?;
    check(
        d.result()? == digest(&block(5, 1)),
        "a task after the crash",
    )?;
    check(children_of(nanny).len() == 1, "one worker again")?;
    drop(client);
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Retiring a worker that holds the only copies of results moves them first:
/// every value is still there, on the worker that stays.
fn retiring_a_worker_with_the_only_copies_loses_nothing() -> R {
    let dir = scratch("retire");
    let c = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 2,
        threads_per_worker: 1,
        validate: true,
        local_directory: Some(dir.clone()),
        ..Default::default()
    })?;
    let client = c.client()?;
    let held = held_blocks(&client, 8, 1)?;
    let who = client.who_has(&held)?;
    let leaving = who[0].1[0].clone();
    let only_there = who
        .iter()
        .filter(|(_, ws)| ws == &vec![leaving.clone()])
        .count();
    check(
        only_there > 0,
        format!("{leaving} holds some results alone: {who:?}"),
    )?;
    client.retire_workers(&[leaving.as_str()])?;
    let workers = client.scheduler_info()?;
    check(
        workers.len() == 1 && workers[0].address != leaving,
        format!("one worker left, not {leaving}: {workers:?}"),
    )?;
    for (k, ws) in client.who_has(&held)? {
        check(
            ws == vec![workers[0].address.clone()],
            format!("{k} on {ws:?}"),
        )?;
    }
    digests_match(&client, &held, 1)?;
    // Retiring the last worker would lose its results: refused.
    let e = client.retire_workers(&[workers[0].address.as_str()]);
    check(e.is_err(), "retiring every worker is refused")?;
    drop(client);
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Results computed on one worker spread to a worker that joined later.
fn rebalance_spreads_results_to_a_new_worker() -> R {
    let dir = scratch("rebalance");
    let mut c = limited_worker(0, &dir)?;
    let client = c.client()?;
    let held = held_blocks(&client, 8, 1)?;
    c.start_worker()?;
    c.wait_for_workers(2)?;
    client.rebalance()?;
    let who = client.who_has(&held)?;
    let mut per_worker: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, ws) in &who {
        check(ws.len() == 1, format!("one copy each: {who:?}"))?;
        *per_worker.entry(ws[0].clone()).or_default() += 1;
    }
    check(
        per_worker.len() == 2 && per_worker.values().all(|n| *n == 4),
        format!("four results each: {per_worker:?}"),
    )?;
    digests_match(&client, &held, 1)?;
    drop(client);
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `restart` starts every worker again through its nanny and cancels what was
/// held or running; the cluster computes on.
fn restart_cancels_everything_and_brings_the_workers_back() -> R {
    let dir = scratch("restart");
    let c = limited_worker(200 * MB, &dir)?;
    let client = c.client()?;
    let before = worker_report(&client, "the first worker", |_| true)?;
    let held = client.submit(&block::delayed(1, 1)?)?;
    wait_for("a block", Duration::from_secs(30), || held.done())?;
    let slow = client.submit(&hog::delayed(1, 60_000)?)?;
    client.restart()?;
    let after = worker_report(&client, "a new worker", |w| w.id != before.id)?;
    check(after.name == before.name, "the nanny's worker")?;
    check(
        held.status() == "cancelled" && slow.status() == "cancelled",
        format!("held {} and running {}", held.status(), slow.status()),
    )?;
    let d = client.submit(&digest::delayed(block::delayed(2, 1)?)?)?;
    check(
        d.result()? == digest(&block(2, 1)),
        "a task after the restart",
    )?;
    drop(client);
    drop(c);
    check(files_under(&dir).is_empty(), "no files left")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() {
    brisk::init();
    let args = Arguments::from_args();
    let tests: Vec<(&str, fn() -> R)> = vec![
        (
            "a_worker_holds_five_times_its_limit_by_spilling",
            a_worker_holds_five_times_its_limit_by_spilling,
        ),
        (
            "a_corrupt_spill_file_means_recomputation",
            a_corrupt_spill_file_means_recomputation,
        ),
        (
            "retiring_a_worker_with_the_only_copies_loses_nothing",
            retiring_a_worker_with_the_only_copies_loses_nothing,
        ),
        (
            "restart_cancels_everything_and_brings_the_workers_back",
            restart_cancels_everything_and_brings_the_workers_back,
        ),
        (
            "rebalance_spreads_results_to_a_new_worker",
            rebalance_spreads_results_to_a_new_worker,
        ),
        (
            "a_crashed_worker_is_started_again_by_its_nanny",
            a_crashed_worker_is_started_again_by_its_nanny,
        ),
        (
            "a_task_past_the_limit_restarts_the_worker_until_it_is_erred",
            a_task_past_the_limit_restarts_the_worker_until_it_is_erred,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| Trial::test(name, f))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
