//! The high-level graph: a DAG of layers shared through `Arc`s, merged by layer name.

use super::inline::inline_roots;
use super::layer::Layer;
use super::lower::TaskGraph;
use super::task::Task;
use crate::error::Result;
use crate::key::Key;
use rustc_hash::FxHashSet;
use std::sync::Arc;

/// A high-level graph: a DAG of layers, cheap to clone and to extend.
///
/// ```
/// use brisk_core::{graph::{Graph, Task}, op::ClosureOp, Value};
/// use std::sync::Arc;
/// let op = Arc::new(ClosureOp::new("one", |_| Ok(Arc::new(1_i64) as Value)));
/// let t = Task::tokenized("one", op, vec![]).unwrap();
/// let a = Graph::from_tasks("a", vec![t.clone()]);
/// let b = Graph::from_tasks("a", vec![t]);
/// let merged = Graph::merge([&a, &b]);
/// assert_eq!(merged.layers().len(), 1); // same layer name: taken once
/// ```
#[derive(Clone, Default)]
pub struct Graph {
    node: Option<Arc<Node>>,
}

struct Node {
    layer: Option<Arc<Layer>>,
    parents: Vec<Graph>,
}

impl Drop for Node {
    // Long chains of graphs (a 100,000-step delayed chain) would overflow the stack if
    // dropped recursively: unlink them iteratively instead.
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.parents);
        while let Some(g) = stack.pop() {
            if let Some(arc) = g.node {
                if let Ok(mut node) = Arc::try_unwrap(arc) {
                    stack.append(&mut node.parents);
                }
            }
        }
    }
}

impl Graph {
    /// The empty graph.
    pub fn new() -> Graph {
        Graph { node: None }
    }

    /// A graph of one layer with no dependencies.
    pub fn from_tasks(name: impl Into<String>, tasks: Vec<Task>) -> Graph {
        Graph::from_layer(
            Layer {
                name: name.into(),
                tasks,
            },
            [],
        )
    }

    /// A new layer on top of the graphs it depends on.
    pub fn from_layer<'a>(layer: Layer, deps: impl IntoIterator<Item = &'a Graph>) -> Graph {
        let parents = deps
            .into_iter()
            .filter(|g| g.node.is_some())
            .cloned()
            .collect();
        Graph {
            node: Some(Arc::new(Node {
                layer: Some(Arc::new(layer)),
                parents,
            })),
        }
    }

    /// The union of several graphs.
    pub fn merge<'a>(graphs: impl IntoIterator<Item = &'a Graph>) -> Graph {
        let mut parents: Vec<Graph> = graphs
            .into_iter()
            .filter(|g| g.node.is_some())
            .cloned()
            .collect();
        match parents.len() {
            0 => Graph::new(),
            1 => parents.pop().unwrap_or_default(),
            _ => Graph {
                node: Some(Arc::new(Node {
                    layer: None,
                    parents,
                })),
            },
        }
    }

    /// True when the graph holds no layer.
    pub fn is_empty(&self) -> bool {
        self.node.is_none()
    }

    /// Every distinct layer (by name), dependencies before dependents.
    pub fn layers(&self) -> Vec<Arc<Layer>> {
        let mut out = Vec::new();
        let mut seen_nodes: FxHashSet<*const Node> = FxHashSet::default();
        let mut seen_names: FxHashSet<&str> = FxHashSet::default();
        // Iterative post-order walk: (node, parents visited).
        let mut stack: Vec<(&Arc<Node>, bool)> = Vec::new();
        if let Some(n) = &self.node {
            stack.push((n, false));
        }
        let mut ordered: Vec<&Arc<Node>> = Vec::new();
        while let Some((node, expanded)) = stack.pop() {
            if expanded {
                ordered.push(node);
                continue;
            }
            if !seen_nodes.insert(Arc::as_ptr(node)) {
                continue;
            }
            stack.push((node, true));
            for p in node.parents.iter().rev() {
                if let Some(pn) = &p.node {
                    if !seen_nodes.contains(&Arc::as_ptr(pn)) {
                        stack.push((pn, false));
                    }
                }
            }
        }
        for node in ordered {
            if let Some(layer) = &node.layer {
                if seen_names.insert(layer.name.as_str()) {
                    out.push(layer.clone());
                }
            }
        }
        out
    }

    /// The number of tasks over all distinct layers (a task in two layers counts twice).
    pub fn task_count(&self) -> usize {
        self.layers().iter().map(|l| l.tasks.len()).sum()
    }

    /// The tasks needed for `keys`, interned and checked (see [`TaskGraph`]), with
    /// the roots that ask for it inlined into their readers ([`inline_roots`]).
    pub fn lower(&self, keys: &[Key]) -> Result<TaskGraph> {
        inline_roots(TaskGraph::build(&self.layers(), keys)?)
    }
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let layers = self.layers();
        f.debug_list()
            .entries(layers.iter().map(|l| (&l.name, l.tasks.len())))
            .finish()
    }
}
