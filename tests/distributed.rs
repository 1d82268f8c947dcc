//! The distributed runtime with real processes on loopback: a `LocalCluster`
//! starts this test executable again as its workers (its `main` calls
//! `brisk::init()` first), clients talk TCP to the scheduler, workers fetch
//! inputs from each other. Tests wait on events (results, the scheduler's worker
//! count), never on sleeps.

use brisk::prelude::*;
use brisk::scheduler::distributed::client::{ClientOptions, Submit};
use brisk::scheduler::distributed::cluster::LocalClusterOptions;
use brisk::Future;
use libtest_mimic::{Arguments, Failed, Trial};
use std::io::Write;
use std::time::Duration;

#[brisk::task]
fn upper(s: &str) -> String {
    s.to_uppercase()
}

#[brisk::task]
fn inc(x: i64) -> i64 {
    x + 1
}

#[brisk::task]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

#[brisk::task]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[brisk::task]
fn sum_pair(a: &i64, b: &i64) -> i64 {
    a + b
}

#[brisk::task]
fn slow_inc(x: i64, #[bound] millis: u64) -> i64 {
    std::thread::sleep(Duration::from_millis(millis));
    x + 1
}

#[brisk::task]
fn fails(x: i64) -> Result<i64, String> {
    Err(format!("refusing {x}"))
}

#[brisk::task]
fn len_of(xs: &Vec<u8>) -> u64 {
    xs.len() as u64
}

type R = Result<(), Failed>;

fn check(cond: bool, what: impl Into<String>) -> R {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

/// A binary tree of `sum_pair` calls over `parts`.
fn pairwise_sum(parts: &[Delayed<i64>]) -> brisk::Result<Delayed<i64>> {
    let mut level = parts.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| {
                if p.len() == 2 {
                    sum_pair::delayed(&p[0], &p[1])
                } else {
                    Ok(p[0].clone())
                }
            })
            .collect::<brisk::Result<_>>()?;
    }
    Ok(level.remove(0))
}

/// A cluster of `n` one-thread workers whose scheduler and workers validate their
/// state machines after every event (a broken invariant panics them).
fn cluster(n: usize) -> brisk::Result<LocalCluster> {
    LocalCluster::with_options(LocalClusterOptions {
        n_workers: n,
        threads_per_worker: 1,
        validate: true,
        ..Default::default()
    })
}

fn submit_and_result() -> R {
    let c = cluster(2)?;
    let client = c.client()?;
    let f = client.submit(&inc::delayed(41)?)?;
    check(f.result()? == 42, "inc(41)")?;
    check(f.status() == "finished", "status")?;
    Ok(())
}

/// Futures are inputs of later submissions; the data moves between workers, not
/// through the client.
fn futures_as_arguments() -> R {
    let c = cluster(2)?;
    let client = c.client()?;
    let a = client.submit(&inc::delayed(1)?)?;
    let b = client.submit(&inc::delayed(10)?)?;
    let s = client.submit(&add::delayed(Delayed::of(&a), Delayed::of(&b))?)?;
    check(s.result()? == 13, "add(inc(1), inc(10))")?;
    // The same through await.
    let v = futures_executor(s.clone());
    check(v? == 13, "awaited")?;
    Ok(())
}

fn futures_executor(f: Future<i64>) -> brisk::Result<i64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async move { f.await })
}

fn map_and_gather() -> R {
    let c = cluster(2)?;
    let client = c.client()?;
    let calls = (0..200)
        .map(inc::delayed)
        .collect::<brisk::Result<Vec<_>>>()?;
    let futures = client.map(&calls)?;
    let values = client.gather(&futures)?;
    check(values == (1..=200).collect::<Vec<i64>>(), "gathered values")?;
    Ok(())
}

/// A graph with a shared input, computed through the client as an executor:
/// `compute_with(&client)` has the same shape as a local compute.
fn delayed_compute_and_persist() -> R {
    let c = cluster(2)?;
    let client = c.client()?;
    let parts: Vec<Delayed<i64>> = (0..20)
        .map(|i| slow_inc::delayed(i, 1))
        .collect::<brisk::Result<_>>()?;
    let level = [pairwise_sum(&parts)?];
    let expected: i64 = (1..=20).sum();
    check(
        level[0].compute_with(&client)? == expected,
        "compute_with(client)",
    )?;
    let persisted = level[0].persist_with(&client)?;
    // The persisted graph holds a future: computing it locally fetches the value.
    check(
        persisted.compute_with(&LocalScheduler::new())? == expected,
        "persisted",
    )?;
    let more = inc::delayed(&persisted)?;
    check(
        more.compute_with(&client)? == expected + 1,
        "built on a persisted result",
    )?;
    Ok(())
}

fn scatter_broadcast_replicate_who_has() -> R {
    let c = cluster(2)?;
    let client = c.client()?;
    let data = client.scatter(vec![vec![7u8; 1000]], false)?;
    check(
        client.who_has(&data)?[0].1.len() == 1,
        "one holder after scatter",
    )?;
    client.replicate(&data, 2)?;
    check(
        client.who_has(&data)?[0].1.len() == 2,
        "two holders after replicate",
    )?;
    let everywhere = client.scatter(vec![vec![1u8; 10]], true)?;
    check(client.who_has(&everywhere)?[0].1.len() == 2, "broadcast")?;
    let n = client.submit(&len_of::delayed(Delayed::of(&data[0]))?)?;
    check(n.result()? == 1000, "a task reads scattered data")?;
    Ok(())
}

fn task_error_is_reported() -> R {
    let c = cluster(1)?;
    let client = c.client()?;
    let bad = fails::delayed(3)?;
    let after = inc::delayed(&bad)?;
    let f = client.submit(&after)?;
    let e = f.result().err().ok_or("expected an error")?.to_string();
    check(
        e.contains("refusing 3") && e.contains("fails"),
        format!("message: {e}"),
    )?;
    check(f.status() == "error", "status")?;
    // The cluster still works.
    check(
        client.submit(&inc::delayed(1)?)?.result()? == 2,
        "after an error",
    )?;
    Ok(())
}

fn unregistered_closure_fails_at_submit() -> R {
    let c = cluster(1)?;
    let client = c.client()?;
    let x = delayed::value(2_i64)?.then(("square", |v: &i64| v * v))?;
    let e = client
        .submit(&x)
        .err()
        .ok_or("a closure must be refused")?
        .to_string();
    check(
        e.contains("square") && e.contains("#[brisk::task]"),
        format!("message: {e}"),
    )?;
    Ok(())
}

fn cancel_and_impure() -> R {
    let c = cluster(1)?;
    let client = c.client()?;
    let slow = client.submit(&slow_inc::delayed(0, 2_000)?)?;
    client.cancel(std::slice::from_ref(&slow))?;
    let e = slow
        .result()
        .err()
        .ok_or("cancelled futures have no result")?
        .to_string();
    check(e.contains("cancelled"), e)?;
    let call = inc::delayed(5)?;
    let a = client.submit(&call)?;
    let b = client.submit(&call)?;
    check(a.key() == b.key(), "pure calls share a key")?;
    let impure = Submit {
        pure: false,
        ..Default::default()
    };
    let x = client.submit_with(&call, impure)?;
    let y = client.submit_with(&call, impure)?;
    check(
        x.key() != y.key() && x.key() != a.key(),
        "impure calls get fresh keys",
    )?;
    check(x.result()? == 6 && y.result()? == 6, "impure results")?;
    Ok(())
}

/// DataFrame partitions (Polars) computed on workers, each op rebuilt there
/// from its registered name and parameters.
fn dataframe_on_the_cluster() -> R {
    use brisk::collections::dataframe::{from_polars, Agg};
    use polars::prelude::*;
    let c = cluster(2)?;
    let client = c.client()?;
    let df = df!("k" => (0..1000).map(|i| i % 7).collect::<Vec<i64>>(), "v" => (0..1000).map(|i| i as f64).collect::<Vec<f64>>())
        .map_err(|e| e.to_string())?;
    let ddf = from_polars(&df, 4)?;
    let out = ddf
        .filter(col("v").gt(lit(10.0)))?
        .groupby([col("k")])
        .agg(&[Agg::sum("v")])?
        .compute_with(&client)?;
    let expected = df
        .clone()
        .lazy()
        .filter(col("v").gt(lit(10.0)))
        .group_by([col("k")])
        .agg([col("v").sum()])
        .sort(["k"], Default::default())
        .collect()
        .map_err(|e| e.to_string())?;
    check(out.equals(&expected), format!("{out}\n{expected}"))?;
    Ok(())
}

#[brisk::task]
fn is_push(e: &Json) -> bool {
    e.get("type").and_then(|t| t.as_str()) == Some("PushEvent")
}

#[brisk::task]
fn commit_count(e: &Json) -> f64 {
    e.get("payload")
        .and_then(|p| p.get("size"))
        .and_then(|s| s.as_u64())
        .unwrap_or(0) as f64
}

#[brisk::task]
fn repo_of(e: &Json) -> String {
    e["repo"]["name"].as_str().unwrap_or("").to_string()
}

/// Writers run where the data is: an array made on the workers goes to `.npy`
/// and NetCDF files block by block, a bag to text files partition by partition;
/// the client gets back only counts and names (it counts the bytes it receives).
fn writers_run_on_the_workers() -> R {
    use brisk::collections::array::{self, read_netcdf, NetcdfOptions};
    let dir = std::env::temp_dir().join(format!("brisk-dist-write-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let c = cluster(2)?;
    let client = c.client()?;
    // 240,000 float64 values (1.9 MB), made by tasks on the workers.
    let a = array::arange::<f64>(0.0, 240_000.0, 1.0, 40_000)?
        .reshape(&[400, 600])?
        .rechunk(brisk::collections::array::Rechunk::Uniform(vec![
            Some(150),
            Some(250),
        ]))?;
    let want = a.compute()?;
    let before = client.bytes_received();
    let npy = dir.join("a.npy");
    a.to_npy_with(npy.to_str().ok_or("path")?, &Default::default(), &client)?;
    let nc = dir.join("a.nc");
    a.to_netcdf_with(
        nc.to_str().ok_or("path")?,
        "v",
        &["y", "x"],
        &Default::default(),
        &client,
    )?;
    #[cfg(feature = "hdf5")]
    let h5 = {
        let h5 = dir.join("a.h5");
        a.to_hdf5_with(h5.to_str().ok_or("path")?, "v", &client)?;
        h5
    };
    let words = brisk::collections::bag::Bag::from_sequence(
        (0..5_000)
            .map(|i| format!("word-{i}"))
            .collect::<Vec<String>>(),
        4,
    )?
    .map(upper::task_fn())?;
    let pattern = dir.join("words-*.txt");
    let written = words.to_textfiles_with(
        pattern.to_str().ok_or("path")?,
        &Default::default(),
        &client,
    )?;
    let received = client.bytes_received() - before;
    check(
        received < 16 * 1024,
        format!("the client received {received} bytes"),
    )?;
    // The same array computed into the client is counted whole.
    let before = client.bytes_received();
    check(a.compute_with(&client)? == want, "computed")?;
    let whole = client.bytes_received() - before;
    check(
        whole >= 240_000 * 8,
        format!("a compute received {whole} bytes"),
    )?;

    let bytes = std::fs::read(&npy).map_err(|e| e.to_string())?;
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let values: Vec<f64> = bytes[10 + hlen..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    check(
        values == want.iter().copied().collect::<Vec<_>>(),
        "npy values",
    )?;
    let back = read_netcdf::<f64>(
        &[nc.to_str().ok_or("path")?],
        "v",
        &NetcdfOptions::default(),
    )?;
    check(back.compute()? == want, "netcdf values")?;
    #[cfg(feature = "hdf5")]
    {
        let back: brisk::collections::array::Array<f64> =
            array::read_hdf5(h5.to_str().ok_or("path")?, "v", &[100, 100])?;
        check(back.compute()? == want, "hdf5 values")?;
    }
    check(written.len() == 4, format!("{written:?}"))?;
    let mut lines = Vec::new();
    for w in &written {
        let path = w.strip_prefix("file://").unwrap_or(w);
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        lines.extend(text.lines().map(str::to_string));
    }
    check(lines == words.compute()?, "text lines")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A bag of JSON events read from files on the workers, with registered
/// functions, built-in aggregations and pluck; the persisted bag stays there.
fn bag_on_the_cluster() -> R {
    let dir = std::env::temp_dir().join(format!("brisk-dist-bag-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let kinds = ["PushEvent", "WatchEvent", "IssuesEvent"];
    let (mut pushes, mut commits) = (0u64, 0u64);
    for f in 0..3 {
        let mut text = String::new();
        for i in 0..100u64 {
            let kind = kinds[((f * 100 + i) % 3) as usize];
            let size = (f * 100 + i) % 5;
            if kind == "PushEvent" {
                pushes += 1;
                commits += size;
            }
            text.push_str(&format!(
                r#"{{"type":"{kind}","repo":{{"name":"r{}"}},"payload":{{"size":{size}}}}}"#,
                i % 4
            ));
            text.push('\n');
        }
        std::fs::write(dir.join(format!("events-{f}.json")), text).map_err(|e| e.to_string())?;
    }
    let c = cluster(2)?;
    let client = c.client()?;
    let glob = format!("{}/*.json", dir.display());
    let events = brisk::collections::bag::read_json(&[&glob], &Default::default())?;
    check(events.count()?.compute_with(&client)? == 300, "count")?;
    let push = events.filter(is_push::task_fn())?.persist_with(&client)?;
    check(push.count()?.compute_with(&client)? == pushes, "pushes")?;
    let sizes = push.map(commit_count::task_fn())?;
    let total = sizes.sum()?.compute_with(&client)?;
    check(
        total == commits as f64,
        format!("{total} commits, not {commits}"),
    )?;
    let mean = sizes.mean()?.compute_with(&client)?;
    check(
        (mean - commits as f64 / pushes as f64).abs() < 1e-12,
        format!("mean {mean}"),
    )?;
    let types = events
        .pluck_str("type")?
        .frequencies()?
        .compute_with(&client)?;
    check(
        types
            == vec![
                ("IssuesEvent".to_string(), 100),
                ("PushEvent".into(), 100),
                ("WatchEvent".into(), 100),
            ],
        format!("{types:?}"),
    )?;
    let repos = push.pluck("repo")?.pluck_str("name")?.distinct()?;
    check(repos.compute_with(&client)? == repos.compute()?, "repos")?;
    let groups = push
        .groupby(repo_of::task_fn(), Some(3))?
        .repartition(1)?
        .compute_with(&client)?;
    let sizes: u64 = groups.iter().map(|(_, g)| g.len() as u64).sum();
    check(
        sizes == pushes && groups.len() == 4,
        format!("{} groups", groups.len()),
    )?;
    let local_only = events.map(("kind", |e: &Json| e.to_text()))?.count()?;
    let err = local_only
        .compute_with(&client)
        .err()
        .ok_or("a closure ran")?;
    check(err.to_string().contains("#[brisk::task]"), err.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Array blocks (ndarray) read from NetCDF files and reduced on workers: every op
/// rebuilt there from its registered name and parameters, persisted blocks kept on
/// the workers.
fn array_on_the_cluster() -> R {
    use brisk::collections::array::{self, read_netcdf, Ix, NetcdfOptions};
    let dir = std::env::temp_dir().join(format!("brisk-dist-array-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let x = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[6, 5, 4]), |i| {
        (i[0] * 20 + i[1] * 4 + i[2]) as f32 * 0.25
    });
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for (k, part) in x.axis_chunks_iter(ndarray::Axis(0), 2).enumerate() {
        let a = array::from_array(&part.to_owned(), &[2, 5, 4])?;
        a.to_netcdf(
            dir.join(format!("p{k}.nc")).to_str().unwrap_or_default(),
            "v",
            &["t", "y", "x"],
            &Default::default(),
        )?;
    }
    let c = cluster(2)?;
    let client = c.client()?;
    let glob = format!("{}/*.nc", dir.display());
    let a = read_netcdf::<f32>(
        &[&glob],
        "v",
        &NetcdfOptions {
            chunks: vec![Some(1), Some(3), None],
            ..Default::default()
        },
    )?;
    let a = a.persist_with(&client)?;
    let z = a.sub(&a.mean(&[0], false)?)?.div(&a.std(&[0], 0, false)?)?;
    let got = z.get(&[Ix::i(3), Ix::r(1, 4)])?.compute_with(&client)?;
    let m = x.mean_axis(ndarray::Axis(0)).ok_or("empty")?;
    let s = x.std_axis(ndarray::Axis(0), 0.0);
    let want = ((&x.index_axis(ndarray::Axis(0), 3) - &m) / &s)
        .slice_move(ndarray::s![1..4, ..])
        .into_dyn();
    check(
        got.shape() == want.shape(),
        format!("{:?} vs {:?}", got.shape(), want.shape()),
    )?;
    for (g, w) in got.iter().zip(want.iter()) {
        check((g - w).abs() < 1e-5, format!("{g} vs {w}"))?;
    }
    let pos = a
        .mask(&a.gt_scalar(20.0)?)?
        .compute_chunk_sizes_with(&client)?;
    check(
        pos.shape()? == [x.iter().filter(|&&v| v > 20.0).count()],
        "mask count",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A grid search runs on the workers (its ops are registered by name; the data are
/// two literal tasks sent once) and scores every candidate as the local scheduler
/// does; the refit model comes back to the client and predicts there.
#[cfg(feature = "ml")]
fn grid_search_on_the_cluster() -> R {
    use brisk::ml::model_selection::{GridSearchCV, KFold, ParameterGrid};
    use brisk::ml::{datasets, LogisticRegression, Pipeline, StandardScaler, PCA};
    let (x, y) = datasets::make_classification(300, 8, 4, 2, 2, 11);
    let search = GridSearchCV::new(
        Pipeline::new()
            .step("scale", StandardScaler::default())
            .step("pca", PCA::default())
            .step("logistic", LogisticRegression::default()),
        ParameterGrid::new()
            .param("pca__n_components", [2, 5])
            .param("logistic__C", [0.01, 1.0, 100.0]),
    )
    .cv(KFold::new(3));
    let c = cluster(2)?;
    let client = c.client()?;
    let remote = search
        .fit_with(x.view(), y.view(), &client)
        .map_err(|e| e.to_string())?;
    let local = search
        .fit_with(x.view(), y.view(), &brisk::LocalScheduler::with_threads(2))
        .map_err(|e| e.to_string())?;
    check(
        remote.split_scores == local.split_scores,
        format!("{:?} vs {:?}", remote.split_scores, local.split_scores),
    )?;
    check(remote.best_params == local.best_params, "best params")?;
    check(remote.fits_of("brisk_ml::PCA") == 2 * 3 + 1, "PCA fits")?;
    let model = remote.best_estimator.ok_or("no refit model")?;
    let want = local
        .best_estimator
        .ok_or("no local refit model")?
        .predict(x.view())
        .map_err(|e| e.to_string())?;
    let got = model.predict(x.view()).map_err(|e| e.to_string())?;
    check(got == want, "refit predictions")?;
    Ok(())
}

/// `wait` for the first and for all, `as_completed` with futures added while
/// iterating and as a stream, done callbacks, and `exception()`.
fn waiting_on_many_futures() -> R {
    use brisk::{wait, AsCompleted, ReturnWhen};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let c = cluster(2)?;
    let client = c.client()?;
    let fs: Vec<Future<i64>> = (0..6)
        .map(|i| client.submit(&slow_inc::delayed(i, 20 * (i as u64 % 3))?))
        .collect::<brisk::Result<_>>()?;
    let first = wait(&fs, ReturnWhen::FirstCompleted, None)?;
    check(!first.done.is_empty(), "at least one done")?;
    check(
        first.done.len() + first.not_done.len() == 6,
        "every future in one part",
    )?;
    let all = wait(&fs, ReturnWhen::AllCompleted, Some(Duration::from_secs(60)))?;
    check(all.done.len() == 6 && all.not_done.is_empty(), "all done")?;

    // Each future once; three follow-ups added while iterating come out too.
    let mut seen = Vec::new();
    let mut done = AsCompleted::new(fs.iter().take(3).cloned());
    let mut added = 0;
    while let Some(f) = done.next() {
        let x = f.result()?;
        seen.push(x);
        if added < 3 {
            done.add(client.submit(&inc::delayed(x * 100)?)?);
            added += 1;
        }
    }
    seen.sort();
    check(
        seen == vec![1, 2, 3, 101, 201, 301],
        format!("as_completed gave {seen:?}"),
    )?;
    let results: Vec<i64> = AsCompleted::new(fs.clone())
        .with_results()
        .map(|(_, r)| r)
        .collect::<brisk::Result<_>>()?;
    check(results.len() == 6, "with_results")?;
    let streamed = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(async {
            use futures::StreamExt;
            StreamExt::count(AsCompleted::new(fs.clone())).await
        });
    check(streamed == 6, "the stream yields every future")?;

    // Callbacks run once each, at once for a future already done.
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    for f in &fs {
        let calls = calls.clone();
        f.add_done_callback(move |f| {
            if f.done() {
                calls.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    check(
        calls.load(Ordering::SeqCst) == 6,
        "callbacks of done futures run at once",
    )?;
    let pending = client.submit(&slow_inc::delayed(50, 200)?)?;
    let (tx, rx) = std::sync::mpsc::channel();
    pending.add_done_callback(move |f| {
        let _ = tx.send(f.key().clone());
    });
    let called = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    check(
        called == *pending.key(),
        "a callback runs when its future settles",
    )?;
    check(pending.result()? == 51, "its result")?;

    // exception(): the task's error, or None.
    let bad = client.submit(&fails::delayed(3)?)?;
    let e = bad.exception().ok_or("no exception")?.to_string();
    check(e.contains("refusing 3"), e)?;
    check(
        fs[0].exception().is_none(),
        "a finished future has no exception",
    )?;
    let threads = client.nthreads()?;
    check(
        threads.len() == 2 && threads.values().all(|&n| n == 1),
        format!("{threads:?}"),
    )?;
    Ok(())
}

/// A worker process is killed with SIGKILL in the middle of a 1,000-task graph;
/// the answer is still right.
fn worker_killed_mid_graph() -> R {
    let mut c = cluster(2)?;
    let client = c.client()?;
    let leaves: Vec<Delayed<i64>> = (0..800)
        .map(|i| slow_inc::delayed(i, 3))
        .collect::<brisk::Result<_>>()?;
    let level = [pairwise_sum(&leaves)?];
    let answer = client.submit(&level[0])?;
    // Wait until the work is under way: an early leaf is done.
    let first = client.submit(&leaves[0])?;
    first.result()?;
    check(
        !answer.done(),
        "the graph is still running when the worker dies",
    )?;
    c.kill_worker(0)?;
    let expected: i64 = (1..=800).sum();
    check(answer.result()? == expected, "answer after a worker died")?;
    Ok(())
}

/// The scheduler restarts on the same address; the client and the workers
/// connect again and the client can submit.
fn scheduler_restart() -> R {
    let mut c = cluster(2)?;
    let client = c.client()?;
    check(client.submit(&inc::delayed(1)?)?.result()? == 2, "before")?;
    c.restart_scheduler()?;
    c.wait_for_workers(2)?;
    check(
        client.submit(&inc::delayed(100)?)?.result()? == 101,
        "after the restart",
    )?;
    Ok(())
}

fn token_rejects_strangers_and_garbage_is_survived() -> R {
    let c = LocalCluster::with_options(LocalClusterOptions {
        validate: true,
        n_workers: 1,
        token: Some("s3cret".into()),
        ..Default::default()
    })?;
    let stranger = brisk::Client::connect_with(
        c.address(),
        ClientOptions {
            token: Some("wrong".into()),
            reconnect: Duration::from_millis(200),
            ..Default::default()
        },
    );
    let e = stranger
        .err()
        .ok_or("a wrong token must be refused")?
        .to_string();
    check(e.contains("token"), format!("message: {e}"))?;
    // Hostile bytes on a raw socket: the scheduler drops that connection only.
    let mut raw = std::net::TcpStream::connect(c.address().trim_start_matches("tcp://"))?;
    // The scheduler may hang up after the first bytes: a write then fails, which is
    // the refusal this checks, not a failure of the test.
    let _ = raw.write_all(&[0xff; 64]);
    let _ = raw.write_all(&u32::MAX.to_le_bytes());
    drop(raw);
    let client = c.client()?;
    check(
        client.submit(&inc::delayed(1)?)?.result()? == 2,
        "the cluster still works",
    )?;
    Ok(())
}

/// Writes a CA and a certificate it signed (for 127.0.0.1 and localhost) as PEM
/// files; a second call gives an unrelated CA.
fn tls_files(dir: &std::path::Path, tag: &str) -> brisk::scheduler::distributed::tls::TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let key = KeyPair::generate().expect("key");
    let params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("cert");
    let files = brisk::scheduler::distributed::tls::TlsFiles {
        ca: dir.join(format!("{tag}-ca.pem")),
        cert: dir.join(format!("{tag}-cert.pem")),
        key: dir.join(format!("{tag}-key.pem")),
    };
    std::fs::write(&files.ca, ca.pem()).expect("write");
    std::fs::write(&files.cert, cert.pem()).expect("write");
    std::fs::write(&files.key, key.serialize_pem()).expect("write");
    files
}

/// The dashboard of a TLS cluster serves HTTPS with the cluster's certificate
/// and asks no client certificate (a browser has none): a client that trusts
/// the cluster's CA reads the API with the token, and is refused without it.
fn dashboard_over_https(c: &LocalCluster, ca_pem: &[u8]) -> R {
    use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    use std::io::{Read, Write};
    let link = c.dashboard_link().ok_or("no dashboard")?;
    check(
        link.starts_with("https://"),
        format!("an https link: {link}"),
    )?;
    let host = link
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert?)?;
    }
    let config = std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let get = |token: Option<&str>| -> Result<String, Failed> {
        let conn = rustls::ClientConnection::new(
            config.clone(),
            ServerName::try_from("127.0.0.1")?.to_owned(),
        )?;
        let mut tls = rustls::StreamOwned::new(conn, std::net::TcpStream::connect(&host)?);
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            tls,
            "GET /api/v1/workers HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        // A server that closes without close_notify still gave its answer.
        let _ = tls.read_to_string(&mut text);
        Ok(text)
    };
    let with = get(c.token())?;
    check(
        with.starts_with("HTTP/1.1 200"),
        format!("with the token: {with}"),
    )?;
    check(
        with.matches("\"address\"").count() == 2,
        format!("both workers: {with}"),
    )?;
    let without = get(None)?;
    check(
        without.starts_with("HTTP/1.1 401"),
        format!("without the token: {without}"),
    )
}

/// Every connection over TLS with mutual authentication: workers and the client
/// present certificates of the cluster's CA; a client without TLS, or with a
/// certificate of another CA, is refused.
fn tls_everywhere() -> R {
    use brisk::scheduler::distributed::tls::Tls;
    let dir = std::env::temp_dir().join(format!("brisk-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let files = tls_files(&dir, "cluster");
    let files_ca = files.ca.clone();
    let c = LocalCluster::with_options(LocalClusterOptions {
        validate: true,
        n_workers: 2,
        tls: Some(files),
        dashboard: Some("127.0.0.1:0".into()),
        ..Default::default()
    })?;
    let client = c.client()?;
    let a = client.submit(&inc::delayed(1)?)?;
    let b = client.submit(&inc::delayed(2)?)?;
    let s = client.submit(&add::delayed(Delayed::of(&a), Delayed::of(&b))?)?;
    check(s.result()? == 5, "computed over TLS")?;
    dashboard_over_https(&c, &std::fs::read(&files_ca)?)?;
    let quick = Duration::from_millis(300);
    let plain = brisk::Client::connect_with(
        c.address(),
        ClientOptions {
            reconnect: quick,
            ..Default::default()
        },
    );
    check(plain.is_err(), "a plain client is refused")?;
    let other = tls_files(&dir, "stranger");
    let stranger = brisk::Client::connect_with(
        c.address(),
        ClientOptions {
            reconnect: quick,
            tls: Some(Tls::from_files(&other)?),
            ..Default::default()
        },
    );
    let e = stranger
        .err()
        .ok_or("a certificate of another CA must be refused")?
        .to_string();
    check(
        e.contains("TLS") || e.contains("certificate"),
        format!("message: {e}"),
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The two binaries: a scheduler and a worker started by hand, a client using
/// built-in ops, and both stopped with SIGTERM, exiting cleanly.
fn binaries_start_serve_and_stop_on_sigterm() -> R {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let address = format!("127.0.0.1:{port}");
    let mut scheduler = Reaped(
        Command::new(env!("CARGO_BIN_EXE_brisk-scheduler"))
            .args(["--listen", &address])
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let mut line = String::new();
    std::io::BufReader::new(scheduler.0.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
    check(line.contains("listening at tcp://"), line.clone())?;
    let mut worker = Reaped(
        Command::new(env!("CARGO_BIN_EXE_brisk-worker"))
            .args([address.as_str(), "--nthreads", "2", "--name", "by-hand"])
            .spawn()?,
    );
    let client = brisk::Client::connect(&address)?;
    client.wait_for_workers(1, Duration::from_secs(60))?;
    let x = delayed::value(vec![1_i64, 2, 3])?;
    let data = client.scatter(vec![5_i64], false)?;
    check(
        client.submit(&x)?.result()? == vec![1, 2, 3],
        "a literal through the worker",
    )?;
    check(data[0].result()? == 5, "scattered")?;
    drop(client);
    for Reaped(child) in [&mut worker, &mut scheduler] {
        // SAFETY: signalling our own child.
        unsafe { libc_kill(child.id() as i32, 15) };
        let status = child.wait()?;
        check(status.success(), format!("clean exit on SIGTERM: {status}"))?;
    }
    Ok(())
}

/// `brisk-scheduler` will not listen on a public address with neither a token nor
/// TLS, and says what to do; `--insecure` lets it.
fn scheduler_binary_refuses_an_open_public_address() -> R {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let out = Command::new(env!("CARGO_BIN_EXE_brisk-scheduler"))
        .args(["--listen", "0.0.0.0:0", "--worker-ttl", "5"])
        .env_remove("BRISK_TOKEN")
        .output()?;
    check(!out.status.success(), "an open public address is refused")?;
    let err = String::from_utf8_lossy(&out.stderr);
    check(
        err.contains("without a token or TLS") && err.contains("--insecure"),
        err.to_string(),
    )?;
    let mut open = Reaped(
        Command::new(env!("CARGO_BIN_EXE_brisk-scheduler"))
            .args(["--listen", "0.0.0.0:0", "--insecure"])
            .env_remove("BRISK_TOKEN")
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let mut line = String::new();
    std::io::BufReader::new(open.0.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
    check(line.contains("listening at tcp://0.0.0.0:"), line.clone())?;
    Ok(())
}

/// A child process killed and reaped when dropped (on a failed check too).
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
    #[link_name = "syscall"]
    fn libc_syscall(number: i64, a: i64, b: i64) -> i64;
    #[link_name = "poll"]
    fn libc_poll(fds: *mut PollFd, n: u64, timeout_ms: i32) -> i32;
    #[link_name = "close"]
    fn libc_close(fd: i32) -> i32;
}

/// Waits until process `pid` has exited, on the kernel's notification (a pidfd
/// becomes readable), for `timeout` at most; true if it exited.
fn exited_within(pid: u32, timeout: Duration) -> bool {
    // SAFETY: plain system calls on integers we own.
    unsafe {
        let fd = libc_syscall(SYS_PIDFD_OPEN, pid as i64, 0i64) as i32;
        if fd < 0 {
            // ESRCH: no such process any more; anything else is a broken check.
            let errno = std::io::Error::last_os_error().raw_os_error();
            assert_eq!(errno, Some(3), "pidfd_open({pid}) failed");
            return true;
        }
        let mut pfd = PollFd {
            fd,
            events: 1,
            revents: 0,
        };
        let ready = libc_poll(&mut pfd, 1, timeout.as_millis() as i32);
        libc_close(fd);
        ready == 1
    }
}

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

const SYS_PIDFD_OPEN: i64 = 434;

/// Run as a child of the test: starts a cluster, prints its workers' pids, then
/// panics or waits to be killed, as `BRISK_TEST_PARENT` says.
fn parent_role() -> Option<()> {
    let role = std::env::var("BRISK_TEST_PARENT").ok()?;
    let c = cluster(2).expect("cluster");
    let pids: Vec<String> = c.worker_pids().iter().map(|p| p.to_string()).collect();
    println!("{}", pids.join(" "));
    std::io::stdout().flush().expect("flush");
    if role == "panic" {
        panic!("the cluster's parent panics on purpose");
    }
    loop {
        std::thread::park();
    }
}

/// Worker processes die with their parent: when it panics (the cluster is
/// dropped while unwinding) and when it is killed with SIGKILL (the kernel's
/// parent-death signal).
fn workers_die_with_their_parent() -> R {
    use std::io::BufRead;
    check(
        !exited_within(std::process::id(), Duration::from_millis(50)),
        "the exit check sees a live process",
    )?;
    for role in ["panic", "kill"] {
        let mut parent = Reaped(
            std::process::Command::new(std::env::current_exe()?)
                .env("BRISK_TEST_PARENT", role)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()?,
        );
        let mut line = String::new();
        std::io::BufReader::new(parent.0.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
        let pids: Vec<u32> = line
            .split_whitespace()
            .map(|p| p.parse())
            .collect::<Result<_, _>>()?;
        check(pids.len() == 2, format!("worker pids: {line}"))?;
        if role == "kill" {
            parent.0.kill()?;
        }
        parent.0.wait()?;
        for pid in pids {
            check(
                exited_within(pid, Duration::from_secs(30)),
                format!("worker {pid} outlived its parent ({role})"),
            )?;
        }
    }
    Ok(())
}

fn main() {
    brisk::init();
    if parent_role().is_some() {
        return;
    }
    let args = Arguments::from_args();
    let mut tests: Vec<(&str, fn() -> R)> = vec![
        ("submit_and_result", submit_and_result),
        ("futures_as_arguments", futures_as_arguments),
        ("map_and_gather", map_and_gather),
        ("delayed_compute_and_persist", delayed_compute_and_persist),
        (
            "scatter_broadcast_replicate_who_has",
            scatter_broadcast_replicate_who_has,
        ),
        ("task_error_is_reported", task_error_is_reported),
        (
            "unregistered_closure_fails_at_submit",
            unregistered_closure_fails_at_submit,
        ),
        ("cancel_and_impure", cancel_and_impure),
        ("waiting_on_many_futures", waiting_on_many_futures),
        ("dataframe_on_the_cluster", dataframe_on_the_cluster),
        ("array_on_the_cluster", array_on_the_cluster),
        ("bag_on_the_cluster", bag_on_the_cluster),
        ("writers_run_on_the_workers", writers_run_on_the_workers),
        ("worker_killed_mid_graph", worker_killed_mid_graph),
        ("scheduler_restart", scheduler_restart),
        (
            "token_rejects_strangers_and_garbage_is_survived",
            token_rejects_strangers_and_garbage_is_survived,
        ),
        (
            "binaries_start_serve_and_stop_on_sigterm",
            binaries_start_serve_and_stop_on_sigterm,
        ),
        ("tls_everywhere", tls_everywhere),
        (
            "scheduler_binary_refuses_an_open_public_address",
            scheduler_binary_refuses_an_open_public_address,
        ),
        (
            "workers_die_with_their_parent",
            workers_die_with_their_parent,
        ),
    ];
    #[cfg(feature = "ml")]
    tests.push(("grid_search_on_the_cluster", grid_search_on_the_cluster));
    let trials = tests
        .into_iter()
        .map(|(name, f)| Trial::test(name, f))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
