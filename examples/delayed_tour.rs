//! A tour of Delayed: registered functions, closures, shared work, errors.
//!
//! ```text
//! cargo run --release --example delayed_tour
//! ```

use brisk::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

static LOADS: AtomicUsize = AtomicUsize::new(0);

/// Pretend to load a chunk of data: the numbers `chunk*n .. (chunk+1)*n`.
#[brisk::task]
fn load(#[bound] chunk: u64, #[bound] n: u64) -> Vec<f64> {
    LOADS.fetch_add(1, Ordering::Relaxed);
    (chunk * n..(chunk + 1) * n)
        .map(|i| (i % 1000) as f64)
        .collect()
}

#[brisk::task]
fn clean(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| *x >= 10.0).collect()
}

#[brisk::task]
fn summarize(xs: &[f64]) -> (f64, f64) {
    (xs.iter().sum(), xs.len() as f64)
}

#[brisk::task]
fn combine(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0 + b.0, a.1 + b.1)
}

#[brisk::task]
fn checked_ratio(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 {
        Err(format!("cannot divide {a} by zero"))
    } else {
        Ok(a / b)
    }
}

fn main() -> anyhow::Result<()> {
    brisk::init();
    let chunks = 64u64;
    let per_chunk = 100_000u64;

    let t0 = Instant::now();
    let mut parts: Vec<Delayed<(f64, f64)>> = Vec::new();
    for c in 0..chunks {
        parts.push(summarize::delayed(clean::delayed(load::delayed(
            c, per_chunk,
        )?)?)?);
    }
    // A tree reduction with fan-in 2.
    while parts.len() > 1 {
        parts = parts
            .chunks(2)
            .map(|p| {
                if p.len() == 2 {
                    combine::delayed(&p[0], &p[1])
                } else {
                    Ok(p[0].clone())
                }
            })
            .collect::<brisk::Result<_>>()?;
    }
    let total = parts.pop().expect("one part left");
    let mean = total.then(("mean", |(s, n): &(f64, f64)| s / n))?;
    let built = t0.elapsed();

    let t1 = Instant::now();
    let m = mean.compute()?;
    println!(
        "mean of {} loaded values: {m:.3} (graph built in {:.2?}, computed in {:.2?})",
        chunks * per_chunk,
        built,
        t1.elapsed()
    );

    // The same pipeline built again shares every key: computing both runs each load once.
    LOADS.store(0, Ordering::Relaxed);
    let again = summarize::delayed(clean::delayed(load::delayed(0, per_chunk)?)?)?;
    let first = summarize::delayed(clean::delayed(load::delayed(0, per_chunk)?)?)?;
    assert_eq!(again.key(), first.key());
    let (a, b) = brisk::compute((&again, &first))?;
    println!(
        "two identical pipelines: {a:?} == {b:?}, load ran {} time(s)",
        LOADS.load(Ordering::Relaxed)
    );

    // Errors name the task and the op.
    let bad = checked_ratio::delayed(1.0, 0.0)?;
    match bad.compute() {
        Ok(v) => println!("unexpected: {v}"),
        Err(e) => println!("an error, as expected: {e}"),
    }
    Ok(())
}
