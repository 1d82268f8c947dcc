//! Seeing what the cluster does, with real processes and a real browser: the
//! dashboard of a LocalCluster running a 20,000-task graph, opened in headless
//! Chromium over WebDriver; its JSON API and `/metrics` against the client's
//! own counts; stories, worker logs and the cluster's state through the
//! client; performance reports; and progress bars.
//!
//! The browser is Debian's `chromium` with `chromedriver` (scripts/test.sh
//! installs both). Screenshots go to the test's output folder.

use brisk::prelude::*;
use brisk::scheduler::distributed::cluster::LocalClusterOptions;
use fantoccini::{ClientBuilder, Locator};
use libtest_mimic::{Arguments, Failed, Trial};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type R = Result<(), Failed>;

#[brisk::task]
fn inc(x: i64) -> i64 {
    x + 1
}

#[brisk::task]
fn add(a: &i64, b: &i64) -> i64 {
    a + b
}

/// Tasks in the graph: `N` incs and the `N - 1` adds of their pairwise sum.
const N: i64 = 10_000;

fn check(cond: bool, what: impl Into<String>) -> R {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

fn pairwise_sum(parts: &[Delayed<i64>]) -> brisk::Result<Delayed<i64>> {
    let mut level = parts.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [a, b] => add::delayed(a, b),
                [a] => Ok(a.clone()),
                _ => unreachable!("chunks of two"),
            })
            .collect::<brisk::Result<_>>()?;
    }
    Ok(level.remove(0))
}

/// The sum of `inc(i)` for `i < n`, as a graph of `2n - 1` tasks.
fn graph(n: i64) -> brisk::Result<Delayed<i64>> {
    let parts = (0..n)
        .map(inc::delayed)
        .collect::<brisk::Result<Vec<_>>>()?;
    pairwise_sum(&parts)
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A GET over plain HTTP: the status code and the body.
fn http_get(link: &str, path: &str, token: Option<&str>) -> Result<(u16, String), Failed> {
    let host = link
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut s = std::net::TcpStream::connect(&host)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status line")?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((status, body))
}

/// Polls `ready` until it holds, for `timeout` at most.
async fn eventually<F, Fut>(what: &str, timeout: Duration, mut ready: F) -> R
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, Failed>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match ready().await {
            Ok(true) => return Ok(()),
            Ok(false) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Ok(false) => return Err(format!("timed out waiting for {what}").into()),
            Err(e) => return Err(format!("waiting for {what}: {e:?}").into()),
        }
    }
}

/// chromedriver on a free port, stopped when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_chromedriver() -> Result<Driver, Failed> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("chromedriver (Debian's chromium-driver) did not start: {e}"))?;
    let d = Driver(child, port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("chromedriver did not listen".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(d)
}

async fn browser(driver: &Driver) -> Result<fantoccini::Client, Failed> {
    static BROWSERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = BROWSERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = std::env::temp_dir().join(format!("brisk-chromium-{}-{n}", std::process::id()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let c = ClientBuilder::rustls()?
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .map_err(|e| format!("cannot open Chromium through chromedriver: {e}"))?;
    Ok(c)
}

async fn attr(c: &fantoccini::Client, css: &str, name: &str) -> Result<Option<String>, Failed> {
    Ok(c.find(Locator::Css(css)).await?.attr(name).await?)
}

async fn count(c: &fantoccini::Client, css: &str) -> Result<usize, Failed> {
    Ok(c.find_all(Locator::Css(css)).await?.len())
}

/// The whole dashboard, in a real browser, on one cluster running a
/// 20,000-task graph; then its API, `/metrics`, and the client's diagnostics
/// on the same cluster.
fn the_dashboard_shows_a_running_cluster() -> R {
    let cluster = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 2,
        threads_per_worker: 2,
        dashboard: Some("127.0.0.1:0".into()),
        ..Default::default()
    })?;
    let link = cluster
        .dashboard_link()
        .ok_or("the cluster has no dashboard")?;
    let token = cluster
        .token()
        .ok_or("the cluster has no token")?
        .to_string();
    let client = cluster.client()?;
    let total = graph(N)?;
    let final_key = total.key().clone();
    // Held: its story stays with the scheduler after the run.
    let future = client.submit(&total)?;
    let driver = start_chromedriver()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let out = out_dir();
    let story_link = format!(
        "{}?key={}",
        link.replace("/status", "/story"),
        final_key
            .to_string()
            .replace('\'', "%27")
            .replace('(', "%28")
            .replace(')', "%29")
            .replace(' ', "%20")
            .replace(',', "%2C")
    );
    rt.block_on(async {
        let c = browser(&driver).await?;
        // Without the token: a page that asks for it, nothing else.
        c.goto(&link).await?;
        check(
            count(&c, "form#login").await? == 1,
            "a browser without the token is asked for it",
        )?;
        check(
            count(&c, "canvas#task-stream").await? == 0,
            "no status without the token",
        )?;
        // With it (once; then a cookie).
        c.goto(&format!("{link}?token={token}")).await?;
        eventually("the first render", Duration::from_secs(60), || async {
            Ok(attr(&c, "body", "data-rendered").await?.as_deref() == Some("1"))
        })
        .await?;
        eventually(
            "rectangles of every worker in the task stream",
            Duration::from_secs(120),
            || async {
                let rects: u64 = attr(&c, "#task-stream", "data-rects")
                    .await?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let workers: u64 = attr(&c, "#task-stream", "data-workers")
                    .await?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                Ok(rects > 0 && workers == 2)
            },
        )
        .await?;
        eventually(
            "the inc progress bar at 100 %",
            Duration::from_secs(120),
            || async {
                Ok(attr(&c, ".progress-row[data-prefix='inc']", "data-percent")
                    .await?
                    .as_deref()
                    == Some("100"))
            },
        )
        .await?;
        check(
            attr(&c, ".progress-row[data-prefix='inc']", "data-total")
                .await?
                .as_deref()
                == Some("10000"),
            "the inc bar counts 10,000 tasks",
        )?;
        check(
            count(&c, ".worker-memory").await? == 2,
            "every worker's memory is shown",
        )?;
        check(
            count(&c, ".worker-processing").await? == 2,
            "every worker's processing is shown",
        )?;
        let shot = out.join("dashboard-status.png");
        std::fs::write(&shot, c.screenshot().await?)?;
        println!("screenshot: {}", shot.display());

        // The workers page and one worker's logs.
        c.goto(&link.replace("/status", "/workers")).await?;
        eventually("the workers table", Duration::from_secs(30), || async {
            Ok(count(&c, "tr.worker-row").await? == 2)
        })
        .await?;
        let id = attr(&c, "tr.worker-row", "data-id")
            .await?
            .ok_or("a worker row without id")?;
        c.goto(&link.replace("/status", &format!("/workers/{id}")))
            .await?;
        eventually(
            "the worker's log lines",
            Duration::from_secs(30),
            || async {
                let lines: u64 = attr(&c, "#worker-logs", "data-lines")
                    .await?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                Ok(lines > 0)
            },
        )
        .await?;

        // The graph of task groups: one node per prefix.
        c.goto(&link.replace("/status", "/groups")).await?;
        eventually(
            "the graph of task groups",
            Duration::from_secs(30),
            || async {
                Ok(count(&c, "g.group-node[data-prefix='inc']").await? == 1
                    && count(&c, "g.group-node[data-prefix='add']").await? == 1)
            },
        )
        .await?;
        let shot = out.join("dashboard-groups.png");
        std::fs::write(&shot, c.screenshot().await?)?;

        // The story of the finished key.
        c.goto(&story_link).await?;
        eventually("the story's lines", Duration::from_secs(30), || async {
            Ok(count(&c, "tr.story-line").await? >= 3)
        })
        .await?;
        let text = c
            .find(Locator::Css("table#story-table"))
            .await?
            .text()
            .await?;
        check(
            text.contains("processing") && text.contains("memory"),
            format!("the story lists its transitions: {text}"),
        )?;
        let shot = out.join("dashboard-story.png");
        std::fs::write(&shot, c.screenshot().await?)?;
        c.close().await?;
        Ok::<(), Failed>(())
    })?;

    let expected: i64 = (1..=N).sum();
    check(future.result()? == expected, "the graph's result")?;

    // The JSON API and /metrics agree with the client's own counts.
    let (code, _) = http_get(&link, "/api/v1/status", None)?;
    check(code == 401, format!("the API without the token: {code}"))?;
    let (code, body) = http_get(&link, "/api/v1/status", Some(&token))?;
    check(code == 200, format!("the API with the token: {code}"))?;
    let status: serde_json::Value = serde_json::from_str(&body)?;
    let group = |p: &str| {
        status["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|x| x["prefix"] == p))
            .cloned()
    };
    let inc_group = group("inc").ok_or("no inc group")?;
    check(
        inc_group["total"] == N && inc_group["finished"] == N,
        format!("inc group: {inc_group}"),
    )?;
    let add_group = group("add").ok_or("no add group")?;
    check(
        add_group["finished"] == N - 1,
        format!("add group: {add_group}"),
    )?;
    let info = client.scheduler_info()?;
    let mut api_workers: Vec<String> = status["workers"]
        .as_array()
        .ok_or("no workers")?
        .iter()
        .filter_map(|w| w["address"].as_str().map(str::to_string))
        .collect();
    let mut client_workers: Vec<String> = info.iter().map(|w| w.address.clone()).collect();
    api_workers.sort();
    client_workers.sort();
    check(
        api_workers == client_workers,
        format!("workers: {api_workers:?} vs {client_workers:?}"),
    )?;
    let (code, metrics) = http_get(&link, "/metrics", Some(&token))?;
    check(code == 200, "/metrics")?;
    for line in [
        "brisk_scheduler_workers 2".to_string(),
        format!("brisk_task_duration_seconds_count{{prefix=\"inc\"}} {N}"),
        format!("brisk_scheduler_prefix_tasks_added_total{{prefix=\"inc\"}} {N}"),
    ] {
        check(
            metrics.lines().any(|l| l == line),
            format!("/metrics has `{line}`"),
        )?;
    }
    check(
        metrics.contains("# TYPE brisk_worker_memory_bytes gauge"),
        "worker memory in /metrics",
    )?;

    // The client's diagnostics on the same cluster.
    let story = client.story(std::slice::from_ref(&final_key))?;
    check(
        story
            .iter()
            .any(|l| l.source == "scheduler" && l.to == "memory"),
        "the scheduler's story",
    )?;
    check(
        story.iter().any(|l| client_workers.contains(&l.source)),
        format!("a worker's story joined in: {story:?}"),
    )?;
    let logs = client.get_worker_logs()?;
    check(logs.len() == 2, "logs of both workers")?;
    check(
        logs.values()
            .all(|lines| lines.iter().any(|l| l.contains("worker at"))),
        format!("each worker's log has its start: {logs:?}"),
    )?;
    let dump = out.join("cluster-state.json");
    client.dump_cluster_state(&dump)?;
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dump)?)?;
    check(
        state["scheduler"]["tasks"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "the scheduler's tasks in the dump",
    )?;
    check(
        state["workers"].as_object().is_some_and(|w| w.len() == 2),
        "both workers in the dump",
    )?;

    // A performance report of more work on this cluster.
    let report = out.join("report-cluster.html");
    let more = graph(500)?;
    let got = brisk::diagnostics::performance_report(&report, || more.compute_with(&client))??;
    check(got == (1..=500).sum::<i64>(), "the report's work")?;
    let html = std::fs::read_to_string(&report)?;
    check(
        html.contains("\"prefix\":\"inc\"") && !html.contains("/*BRISK_REPORT_DATA*/null"),
        "the report holds the cluster's tasks",
    )?;
    Ok(())
}

/// A report of local work: every task in the stream, and the page renders it.
fn a_performance_report_of_local_work_renders() -> R {
    let report = out_dir().join("report-local.html");
    let work = graph(300)?;
    let got = brisk::diagnostics::performance_report(&report, || {
        work.compute_with(&LocalScheduler::new())
    })??;
    check(got == (1..=300).sum::<i64>(), "the work's result")?;
    let html = std::fs::read_to_string(&report)?;
    let data = html
        .split_once("const REPORT = ")
        .and_then(|(_, rest)| rest.split_once(";\n"))
        .map(|(json, _)| json.replace("<\\/", "</"))
        .ok_or("no data in the report")?;
    let data: serde_json::Value = serde_json::from_str(&data)?;
    let stream = data["stream"].as_array().ok_or("no stream")?;
    let of = |p: &str| stream.iter().filter(|r| r["prefix"] == p).count();
    check(
        of("inc") == 300 && of("add") == 299,
        format!(
            "every inc and add in the stream: {} and {}",
            of("inc"),
            of("add")
        ),
    )?;
    let driver = start_chromedriver()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let c = browser(&driver).await?;
        c.goto(&format!("file://{}", report.display())).await?;
        eventually("the report's render", Duration::from_secs(30), || async {
            Ok(attr(&c, "body", "data-rendered").await?.as_deref() == Some("1"))
        })
        .await?;
        let rects: u64 = attr(&c, "#task-stream", "data-rects")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        check(rects > 0, "the report draws the task stream")?;
        std::fs::write(out_dir().join("report-local.png"), c.screenshot().await?)?;
        c.close().await?;
        Ok::<(), Failed>(())
    })
}

/// `progress` shows a bar even where standard error is not a terminal.
fn progress_draws_a_bar_that_reaches_the_end() -> R {
    // On the local scheduler, and through a client of a LocalCluster.
    for mode in ["local", "cluster"] {
        let out = Command::new(std::env::current_exe()?)
            .env("BRISK_TEST_PROGRESS_CHILD", mode)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()?;
        let err = String::from_utf8_lossy(&out.stderr);
        check(
            out.status.success(),
            format!("the {mode} child failed: {err}"),
        )?;
        let last = err.rsplit('[').next().unwrap_or_default();
        check(
            last.contains("100%") && last.contains("/299 tasks"),
            format!("a finished bar of the graph's 299 tasks ({mode}): {err}"),
        )?;
    }
    let quiet = Command::new(std::env::current_exe()?)
        .env("BRISK_TEST_PROGRESS_CHILD", "quiet")
        .stderr(Stdio::piped())
        .output()?;
    let err = String::from_utf8_lossy(&quiet.stderr);
    check(
        quiet.status.success(),
        format!("the quiet child failed: {err}"),
    )?;
    check(
        !err.contains("tasks"),
        format!("no bar without a terminal or `progress`: {err}"),
    )
}

fn main() {
    brisk::init();
    if let Ok(mode) = std::env::var("BRISK_TEST_PROGRESS_CHILD") {
        let work = graph(100).expect("graph");
        let got = match mode.as_str() {
            "local" => brisk::diagnostics::progress(|| work.compute_with(&LocalScheduler::new())),
            "cluster" => {
                let cluster = LocalCluster::with_options(LocalClusterOptions {
                    n_workers: 1,
                    dashboard: None,
                    ..Default::default()
                })
                .expect("cluster");
                let client = cluster.client().expect("client");
                brisk::diagnostics::progress(|| work.compute_with(&client))
            }
            _ => work.compute_with(&LocalScheduler::new()),
        }
        .expect("compute");
        assert_eq!(got, (1..=100).sum::<i64>());
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Arguments::from_args();
    let tests: Vec<(&str, fn() -> R)> = vec![
        (
            "the_dashboard_shows_a_running_cluster",
            the_dashboard_shows_a_running_cluster,
        ),
        (
            "a_performance_report_of_local_work_renders",
            a_performance_report_of_local_work_renders,
        ),
        (
            "progress_draws_a_bar_that_reaches_the_end",
            progress_draws_a_bar_that_reaches_the_end,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| Trial::test(name, move || f()))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
