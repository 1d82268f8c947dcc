//! `dashboard.big_graph` (part of `brisk-bench distributed`): the time the
//! dashboard's status page takes to first render, measured in the browser
//! (`performance.now()` at the first render: from navigation start), while the
//! scheduler holds a graph of about 1,000,000 tasks. Debian's Chromium, driven
//! over WebDriver by chromedriver; the browser's own start is not counted.

use anyhow::{anyhow, Context, Result};
use brisk::core::Executor;
use brisk::LocalCluster;
use brisk_benches::{emit, round};
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver on a free port, stopped when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Result<Driver> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("chromedriver (Debian's chromium-driver) did not start")?;
    let driver = Driver(child, port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(driver)
}

/// Seconds from navigation to the page's first render, as the page measured.
async fn first_render(c: &fantoccini::Client, url: &str) -> Result<f64> {
    c.goto(url).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let t = c
            .execute("return window.briskFirstRender || null", vec![])
            .await?;
        if let Some(ms) = t.as_f64() {
            return Ok(ms / 1000.0);
        }
        anyhow::ensure!(Instant::now() < deadline, "the status page never rendered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn big_graph(cluster: &LocalCluster, client: &brisk::Client) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let link = cluster
        .dashboard_link()
        .ok_or_else(|| anyhow!("the cluster has no dashboard"))?;
    let token = cluster.token().unwrap_or_default().to_string();
    let (graph, root, n) = crate::tree_graph_seeded(1_000_000, 32, 77);
    let run = std::thread::scope(|s| -> Result<Vec<f64>> {
        let computing = s.spawn(|| client.get(&graph, std::slice::from_ref(&root)));
        // Wait until the scheduler holds the graph.
        let deadline = Instant::now() + Duration::from_secs(600);
        while cluster.status().tasks < n * 9 / 10 {
            anyhow::ensure!(Instant::now() < deadline, "the graph never arrived");
            anyhow::ensure!(
                !computing.is_finished(),
                "the graph ended before it was seen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let driver = chromedriver()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let times = rt.block_on(async {
            let profile =
                std::env::temp_dir().join(format!("brisk-bench-chromium-{}", std::process::id()));
            let mut caps = serde_json::Map::new();
            caps.insert(
                "goog:chromeOptions".into(),
                json!({
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
                .context("opening Chromium through chromedriver")?;
            // The token, once: it becomes a cookie.
            c.goto(&format!("{link}?token={token}")).await?;
            c.find(Locator::Css("body")).await?;
            let mut times = Vec::new();
            for _ in 0..5 {
                if computing.is_finished() {
                    break;
                }
                times.push(first_render(&c, &link).await?);
            }
            c.close().await?;
            let _ = std::fs::remove_dir_all(&profile);
            Ok::<_, anyhow::Error>(times)
        })?;
        let out = computing
            .join()
            .map_err(|_| anyhow!("the computation panicked"))??;
        anyhow::ensure!(out[0].downcast_ref::<u64>().is_some(), "no result");
        Ok(times)
    })?;
    anyhow::ensure!(
        !run.is_empty(),
        "the graph finished before the page could be opened"
    );
    let mut sorted = run.clone();
    sorted.sort_by(f64::total_cmp);
    emit(
        "dashboard.big_graph",
        &[
            ("tasks", json!(n)),
            ("renders", json!(run.len())),
            ("seconds", json!(round(sorted[sorted.len() / 2], 3))),
            ("max_seconds", json!(round(sorted[sorted.len() - 1], 3))),
        ],
    );
    Ok(())
}
