//! Graph shapes used to test and measure ordering and scheduling.
//!
//! Every task runs [`NoOp`], which returns `()`: these graphs are about shape, not
//! work. Keys are `("<layer>", i..)`.

use crate::graph::Task;
use crate::key::Key;
use crate::op::Op;
use crate::token::Hasher;
use crate::value::Value;
use crate::Result;
use std::sync::{Arc, OnceLock};

/// An op that ignores its inputs and returns `()`.
pub struct NoOp;

impl Op for NoOp {
    fn name(&self) -> &str {
        "brisk::noop"
    }
    fn tokenize_params(&self, _h: &mut Hasher) -> Result<()> {
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }
    fn call(&self, _inputs: &[Value]) -> Result<Value> {
        static UNIT: OnceLock<Value> = OnceLock::new();
        Ok(UNIT.get_or_init(|| Arc::new(())).clone())
    }
}

inventory::submit! {
    crate::op::OpRegistration { name: "brisk::noop", rebuild: |_| Ok(Arc::new(NoOp)) }
}

fn noop() -> Arc<dyn Op> {
    static OP: OnceLock<Arc<dyn Op>> = OnceLock::new();
    OP.get_or_init(|| Arc::new(NoOp)).clone()
}

fn task(name: &str, index: &[u32], inputs: Vec<Key>) -> Task {
    Task::new(Key::new(name, index), noop(), inputs)
}

/// A tree reduction of `leaves` leaves with fan-in `split_every`: returns the tasks
/// and the key of the root.
pub fn tree_reduction(leaves: u32, split_every: u32) -> (Vec<Task>, Key) {
    tree_reduction_with(leaves, split_every, |_| noop(), noop())
}

/// [`tree_reduction`] with given ops: `leaf(i)` for leaf `("leaf", i)`, `reduce` for
/// every `("reduce", depth, j)` task (it reads up to `split_every` inputs).
pub fn tree_reduction_with(
    leaves: u32,
    split_every: u32,
    mut leaf: impl FnMut(u32) -> Arc<dyn Op>,
    reduce: Arc<dyn Op>,
) -> (Vec<Task>, Key) {
    let mut tasks: Vec<Task> = (0..leaves)
        .map(|i| Task::new(Key::new("leaf", &[i]), leaf(i), vec![]))
        .collect();
    let mut level: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        let next: Vec<Key> = level
            .chunks(split_every.max(2) as usize)
            .enumerate()
            .map(|(j, group)| {
                let t = Task::new(
                    Key::new("reduce", &[depth, j as u32]),
                    reduce.clone(),
                    group.to_vec(),
                );
                let k = t.key.clone();
                tasks.push(t);
                k
            })
            .collect();
        level = next;
    }
    (tasks, level.remove(0))
}

/// `z_i = (x_i - mean(x)) / std(x)` over `chunks` chunks: `x_i` from a source task,
/// mean and std as tree reductions (fan-in 8) over per-chunk partials. Returns the
/// tasks and the `z` keys.
pub fn zscore(chunks: u32) -> (Vec<Task>, Vec<Key>) {
    let mut tasks = Vec::new();
    let x: Vec<Key> = (0..chunks)
        .map(|i| {
            let t = task("x", &[i], vec![]);
            let k = t.key.clone();
            tasks.push(t);
            k
        })
        .collect();
    let reduce = |name: &str, tasks: &mut Vec<Task>| -> Key {
        let mut level: Vec<Key> = x
            .iter()
            .enumerate()
            .map(|(i, xi)| {
                let t = task(&format!("{name}-chunk"), &[i as u32], vec![xi.clone()]);
                let k = t.key.clone();
                tasks.push(t);
                k
            })
            .collect();
        let mut depth = 0;
        while level.len() > 1 {
            depth += 1;
            level = level
                .chunks(8)
                .enumerate()
                .map(|(j, g)| {
                    let t = task(&format!("{name}-agg"), &[depth, j as u32], g.to_vec());
                    let k = t.key.clone();
                    tasks.push(t);
                    k
                })
                .collect();
        }
        level.remove(0)
    };
    let mean = reduce("mean", &mut tasks);
    let std = reduce("std", &mut tasks);
    let z: Vec<Key> = x
        .iter()
        .enumerate()
        .map(|(i, xi)| {
            let t = task(
                "z",
                &[i as u32],
                vec![xi.clone(), mean.clone(), std.clone()],
            );
            let k = t.key.clone();
            tasks.push(t);
            k
        })
        .collect();
    (tasks, z)
}

/// An all-to-all shuffle: `n` inputs, each split into `n` pieces (`split` then one
/// `piece` task per output), each output joining its piece of every input.
pub fn shuffle(n: u32) -> (Vec<Task>, Vec<Key>) {
    let mut tasks = Vec::new();
    for i in 0..n {
        tasks.push(task("input", &[i], vec![]));
        tasks.push(task("split", &[i], vec![Key::new("input", &[i])]));
        for j in 0..n {
            tasks.push(task("piece", &[i, j], vec![Key::new("split", &[i])]));
        }
    }
    let outputs: Vec<Key> = (0..n)
        .map(|j| {
            let t = task(
                "output",
                &[j],
                (0..n).map(|i| Key::new("piece", &[i, j])).collect(),
            );
            let k = t.key.clone();
            tasks.push(t);
            k
        })
        .collect();
    (tasks, outputs)
}

/// Two independent chains of `len` steps, each step reading the previous step and a
/// fresh `load` root (as a streaming fold over chunks read from files), each chain
/// ending in a requested result.
pub fn two_chains(len: u32) -> (Vec<Task>, Vec<Key>) {
    let mut tasks = Vec::new();
    let mut ends = Vec::new();
    for c in 0..2 {
        let mut prev: Option<Key> = None;
        for s in 0..len {
            tasks.push(task("load", &[c, s], vec![]));
            let mut inputs = vec![Key::new("load", &[c, s])];
            inputs.extend(prev.take());
            let t = task("step", &[c, s], inputs);
            prev = Some(t.key.clone());
            tasks.push(t);
        }
        ends.extend(prev);
    }
    (tasks, ends)
}

/// A chain of `len` dependent tasks; returns the tasks and the last key.
pub fn chain(len: u32) -> (Vec<Task>, Key) {
    let mut tasks: Vec<Task> = Vec::with_capacity(len as usize);
    for i in 0..len {
        let inputs = if i == 0 {
            vec![]
        } else {
            vec![Key::new("chain", &[i - 1])]
        };
        tasks.push(task("chain", &[i], inputs));
    }
    (tasks, Key::new("chain", &[len.saturating_sub(1)]))
}
