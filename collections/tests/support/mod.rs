//! Shared by the array and bag tests: the executors every test runs on, sample data, an
//! approximate comparison, and scratch directories.
#![allow(dead_code)]

use brisk_collections::array::{self, Array, ChunkSpec};
use brisk_core::executor::Executor;
use brisk_core::op::rebuild;
use brisk_core::value::{decode, Value};
use brisk_core::{Graph, Key, Result};
use brisk_scheduler::LocalScheduler;
use ndarray::{ArrayD, Dimension, IxDyn};
use std::collections::HashMap;
use std::path::PathBuf;

/// Runs a graph the way a worker would: ops rebuilt from bytes, values decoded
/// from their encoding.
pub struct Rebuilding;

impl Executor for Rebuilding {
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
        let tg = graph.lower(keys)?;
        let mut done: HashMap<u32, Value> = HashMap::new();
        for &t in tg.topological() {
            let op = tg.op(t);
            // A closure has no parameter bytes: an error, as on a worker.
            let op = rebuild(op.name(), &op.params()?)?;
            let inputs = tg
                .dependencies(t)
                .iter()
                .map(|d| decode(done[&d.0].encode()?))
                .collect::<Result<Vec<_>>>()?;
            done.insert(t.0, op.call(&inputs)?);
        }
        Ok(keys
            .iter()
            .map(|k| done[&tg.id_of(k).unwrap().0].clone())
            .collect())
    }
}

pub fn executors() -> Vec<Box<dyn Executor>> {
    vec![Box::new(LocalScheduler::new()), Box::new(Rebuilding)]
}

/// A 3-D array of distinct values with negatives and fractions.
pub fn sample(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let flat: usize = i.slice().iter().fold(0, |a, &x| a * 31 + x);
        ((flat * 7919) % 1013) as f64 / 7.0 - 60.0
    })
}

pub const SHAPE: [usize; 3] = [7, 5, 6];

/// Chunkings of SHAPE: one block, blocks of one, short last blocks, explicit uneven.
pub fn chunkings() -> Vec<ChunkSpec> {
    vec![
        ChunkSpec::Uniform(vec![7, 5, 6]),
        ChunkSpec::Uniform(vec![1, 1, 1]),
        ChunkSpec::Uniform(vec![3, 2, 4]),
        ChunkSpec::Explicit(vec![vec![1, 4, 2], vec![5], vec![2, 1, 3]]),
    ]
}

pub fn close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    for (i, (a, b)) in got.iter().zip(want.iter()).enumerate() {
        let ok = (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(ok, "{what}: element {i}: got {a}, want {b}");
    }
}

pub fn each(mut f: impl FnMut(&Array<f64>, &ArrayD<f64>, &dyn Executor, &str)) {
    let x = sample(&SHAPE);
    for c in chunkings() {
        let a = array::from_array(&x, c.clone()).unwrap();
        for ex in executors() {
            f(&a, &x, ex.as_ref(), &format!("{c:?}"));
        }
    }
}

/// A fresh directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl std::ops::Deref for Scratch {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory named after this process and `name`.
pub fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("brisk-array-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}
