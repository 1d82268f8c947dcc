//! Plumbing every collection shares: layer names from content tokens, the default
//! fan-in of tree reductions, and the two layer shapes (one task per partition, a
//! tree reduction).
//!
//! A layer is named `method-<token>`, the token hashing the method and whatever
//! identifies its work (input names, parameters): the same work always gets the
//! same name, so two collections that ask for it share its tasks.

use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::token::{Hasher, Tokenize};
use brisk_core::{Key, Result};
use std::sync::Arc;

/// The default fan-in of bag and DataFrame tree reductions (Dask's, for both).
/// Their partials are small (a scalar, a few aggregate columns, one row per
/// group), so a combine task reading eight of them holds little memory, and a
/// wide fan-in keeps the tree shallow: 1,000 partitions reduce in four levels.
pub const SPLIT_EVERY: usize = 8;

/// The default fan-in of array reductions. An array partial keeps every axis
/// that is not reduced, so it can be as large as a block: four at a time bounds a
/// combine task to four blocks' worth of memory (Dask's 16 spread over two axes is
/// also 4 a side).
pub const ARRAY_SPLIT_EVERY: usize = 4;

/// A layer name `method-<token>` from the method and what identifies its work.
pub(crate) fn layer_name(method: &str, parts: &[&dyn TokenizeDyn]) -> Result<String> {
    let mut h = Hasher::new();
    h.write_str(method);
    for p in parts {
        p.tokenize_dyn(&mut h)?;
    }
    Ok(format!("{method}-{}", h.finish()))
}

/// Object-safe [`Tokenize`], so that a layer name can hash a list of parts of
/// different types.
pub(crate) trait TokenizeDyn {
    fn tokenize_dyn(&self, h: &mut Hasher) -> Result<()>;
}

impl<T: Tokenize + ?Sized> TokenizeDyn for T {
    fn tokenize_dyn(&self, h: &mut Hasher) -> Result<()> {
        self.tokenize(h)
    }
}

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
pub(crate) fn tree_reduction(
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
