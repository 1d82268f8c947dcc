//! Brisk's benchmark programs. Each prints one JSON object per line.
//!
//! ```text
//! cargo run --release -p brisk-benches --bin brisk-bench -- local   # scheduler overhead
//! cargo run --release -p brisk-benches --bin brisk-bench -- order   # peak live results
//! cargo run --release -p brisk-benches --bin brisk-bench -- bag [--data DIR]
//! cargo run --release -p brisk-benches --bin brisk-bench -- dataframe [--data DIR]
//! cargo run --release -p brisk-benches --bin brisk-bench -- array [--data DIR]
//! cargo run --release -p brisk-benches --features hdf5 --bin brisk-bench -- io [--data DIR]
//! cargo run --release -p brisk-benches --bin brisk-bench -- distributed
//! cargo run --release -p brisk-benches --bin brisk-bench -- memory [--dir DIR]
//! cargo run --release -p brisk-benches --bin brisk-bench -- worker-state
//! cargo run --release -p brisk-benches --bin brisk-bench -- soak [--minutes 5] [--workers 2] [--kill-every 3]
//! ```

use anyhow::{bail, Result};
use brisk::core::graph::{Graph, Task};
use brisk::core::op::{Op, OpRegistration};
use brisk::core::order::{fifo_sequence, order, peak_live, sequence};
use brisk::core::token::Hasher;
use brisk::core::{shapes, Key, Value};
use brisk::LocalScheduler;
use brisk_benches::{emit, median_seconds, peak_rss_mb, reset_peak_rss, round};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod array;
mod bag;
mod cluster;
mod dashboard;
mod dataframe;
mod dist_map;
mod distributed;
mod io;
mod memory;
mod ml;
mod parquet_floor;
mod soak;
mod worker_state;

const N: u32 = 100_000;
const REPS: usize = 5;

#[brisk::task]
fn leaf(#[bound] i: u64) -> u64 {
    i
}

#[brisk::task]
fn inc(x: u64) -> u64 {
    x + 1
}

/// Sums any number of `u64` inputs.
struct SumU64;

impl Op for SumU64 {
    fn name(&self) -> &str {
        "brisk_bench::sum_u64"
    }
    fn tokenize_params(&self, _h: &mut Hasher) -> brisk::Result<()> {
        Ok(())
    }
    fn params(&self) -> brisk::Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn call(&self, inputs: &[Value]) -> brisk::Result<Value> {
        let mut s = 0u64;
        for v in inputs {
            s += *v.expect_ref::<u64>()?;
        }
        Ok(Arc::new(s))
    }
}

brisk::core::__private::inventory::submit! {
    OpRegistration { name: "brisk_bench::sum_u64", rebuild: |_| Ok(Arc::new(SumU64)) }
}

/// `n` leaves summed by a tree reduction with fan-in `split_every`.
fn tree_graph(n: u32, split_every: u32) -> (Graph, Key, usize) {
    let (tasks, root) =
        shapes::tree_reduction_with(n, split_every, |i| leaf::op(i as u64), Arc::new(SumU64));
    let count = tasks.len();
    (Graph::from_tasks("bench", tasks), root, count)
}

/// [`tree_graph`] whose leaves carry `seed`, so each seed gives new keys.
pub(crate) fn tree_graph_seeded(n: u32, split_every: u32, seed: u64) -> (Graph, Key, usize) {
    let (tasks, root) = shapes::tree_reduction_with(
        n,
        split_every,
        |i| leaf::op(seed * 1_000_000_000 + i as u64),
        Arc::new(SumU64),
    );
    let count = tasks.len();
    (
        Graph::from_tasks(format!("bench-{seed}"), tasks),
        root,
        count,
    )
}

fn chain_graph(n: u32) -> (Graph, Key, usize) {
    let inc_op = inc::op();
    let mut tasks = vec![Task::new(Key::new("chain", &[0]), leaf::op(0), vec![])];
    for i in 1..n {
        tasks.push(Task::new(
            Key::new("chain", &[i]),
            inc_op.clone(),
            vec![Key::new("chain", &[i - 1])],
        ));
    }
    (
        Graph::from_tasks("bench", tasks),
        Key::new("chain", &[n - 1]),
        n as usize,
    )
}

fn local() -> Result<()> {
    let scheduler = LocalScheduler::new();
    let threads = rayon_threads();
    let cases: [(&str, fn() -> (Graph, Key, usize), u64); 3] = [
        (
            "local.independent",
            || tree_graph(N, 100),
            (0..N as u64).sum(),
        ),
        ("local.chain", || chain_graph(N), N as u64 - 1),
        ("local.tree", || tree_graph(N, 2), (0..N as u64).sum()),
    ];
    for (name, build, expected) in cases {
        reset_peak_rss();
        let t = Instant::now();
        let (graph, key, tasks) = build();
        let build_seconds = t.elapsed().as_secs_f64();
        let (seconds, values) = median_seconds(REPS, || {
            scheduler.run(&graph.lower(std::slice::from_ref(&key))?)
        });
        let got = *values?[0].expect_ref::<u64>()?;
        if got != expected {
            bail!("{name}: computed {got}, expected {expected}");
        }
        emit(
            name,
            &[
                ("tasks", json!(tasks)),
                ("seconds", json!(round(seconds, 6))),
                ("us_per_task", json!(round(seconds * 1e6 / tasks as f64, 3))),
                ("peak_rss_mb", json!(round(peak_rss_mb(), 1))),
                ("build_seconds", json!(round(build_seconds, 6))),
                ("threads", json!(threads)),
                ("reps", json!(REPS)),
            ],
        );
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn order_figures() -> Result<()> {
    let cases: Vec<(&str, (Vec<Task>, Vec<Key>))> = vec![
        ("order.tree_4096_fanin8", {
            let (t, k) = shapes::tree_reduction(4096, 8);
            (t, vec![k])
        }),
        ("order.zscore_256", shapes::zscore(256)),
        ("order.shuffle_64x64", shapes::shuffle(64)),
        ("order.two_chains_100", shapes::two_chains(100)),
    ];
    for (name, (tasks, keys)) in cases {
        let g = Graph::from_tasks("shape", tasks).lower(&keys)?;
        let t = Instant::now();
        let prio = order(&g);
        let seconds = t.elapsed().as_secs_f64();
        emit(
            name,
            &[
                ("tasks", json!(g.len())),
                ("peak_live_order", json!(peak_live(&g, &sequence(&prio)))),
                ("peak_live_fifo", json!(peak_live(&g, &fifo_sequence(&g)))),
                ("order_seconds", json!(round(seconds, 6))),
            ],
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    brisk::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("local") => local(),
        Some("order") => order_figures(),
        Some("array") => array::run(&args[1..]),
        Some("io") => io::run(&args[1..]),
        Some("bag") => bag::run(&args[1..]),
        Some("dataframe") => dataframe::run(&args[1..]),
        Some("distributed") => distributed::run(&args[1..]),
        Some("cluster") => cluster::run(&args[1..]),
        Some("memory") => memory::run(&args[1..]),
        Some("worker-state") => worker_state::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("ml") => ml::run(&args[1..]),
        Some(other) => {
            bail!(
                "unknown benchmark group '{other}'; try: local, order, bag, dataframe, array, io, distributed, cluster, memory, worker-state, soak"
            )
        }
        None => {
            local()?;
            order_figures()
        }
    }
}
