//! Layer shapes shared by the collections: one task per partition and tree
//! reductions.

use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::{Key, Result};
use std::sync::Arc;

/// `graph` extended by layer `name`: task `i` runs `op` on `inputs(i)`, for `i` in
/// `0..n`.
pub(crate) fn per_partition(
    graph: &Graph,
    name: &str,
    n: usize,
    op: &Arc<dyn Op>,
    inputs: impl Fn(usize) -> Vec<Key>,
) -> Graph {
    let tasks = (0..n)
        .map(|i| Task::new(Key::new(name, &[i as u32]), op.clone(), inputs(i)))
        .collect();
    Graph::from_layer(
        Layer {
            name: name.to_string(),
            tasks,
        },
        [graph],
    )
}

/// A tree reduction over `leaves` (keys of `graph`): tasks combining at most
/// `split_every` inputs, level after level, until one is left. `layer(depth)` names
/// each level; `op(last)` is the combining op (`last` for the final level). Returns
/// the final layer's name (its one key is index 0) and the graph. With no leaves,
/// the final task combines nothing.
pub(crate) fn tree(
    graph: Graph,
    leaves: Vec<Key>,
    split_every: usize,
    layer: impl Fn(usize) -> Result<String>,
    op: impl Fn(bool) -> Arc<dyn Op>,
) -> Result<(String, Graph)> {
    let split_every = split_every.max(2);
    let mut level = leaves;
    let mut graph = graph;
    let mut depth = 0;
    loop {
        depth += 1;
        let last = level.len() <= split_every;
        let name = layer(depth)?;
        let op = op(last);
        let mut tasks: Vec<Task> = level
            .chunks(split_every)
            .enumerate()
            .map(|(j, group)| {
                Task::new(
                    Key::new(name.as_str(), &[j as u32]),
                    op.clone(),
                    group.to_vec(),
                )
            })
            .collect();
        if tasks.is_empty() {
            tasks.push(Task::new(Key::new(name.as_str(), &[0]), op, vec![]));
        }
        level = tasks.iter().map(|t| t.key.clone()).collect();
        graph = Graph::from_layer(
            Layer {
                name: name.clone(),
                tasks,
            },
            [&graph],
        );
        if last {
            return Ok((name, graph));
        }
    }
}
