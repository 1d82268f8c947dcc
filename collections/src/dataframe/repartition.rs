//! `repartition`: fewer partitions by concatenating neighbours, more by cutting each
//! partition into row ranges; or partitions of about a given size in memory.

use super::dataframe::DataFrame;
use super::frame::Frame;
use super::plan::{Plan, SpecOp};
use super::source::Source;
use super::step::Step;
use crate::layers::layer_name;
use brisk_core::executor::default_executor;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::{Key, Result};
use std::sync::Arc;

impl DataFrame {
    /// The same rows, in order, in `npartitions` partitions (at least one).
    pub fn repartition(&self, npartitions: usize) -> Result<DataFrame> {
        let k = npartitions.max(1);
        let parts = self.parts(&[])?;
        let n = parts.npartitions;
        let layer = layer_name("repartition", &[&parts.name.as_str(), &k])?;
        let concat: Arc<dyn Op> = Arc::new(SpecOp(Plan {
            source: Source::Inputs,
            steps: vec![],
            schema: self.schema.clone(),
        }));
        let mut tasks = Vec::new();
        let mut graph_layers = Vec::new();
        if k <= n {
            for j in 0..k {
                let inputs = (j * n / k..(j + 1) * n / k).map(|i| parts.key(i)).collect();
                tasks.push(Task::new(
                    Key::new(layer.as_str(), &[j as u32]),
                    concat.clone(),
                    inputs,
                ));
            }
        } else {
            // Input i becomes pieces i*k/n .. (i+1)*k/n of the output.
            let pieces = layer_name("repartition-split", &[&parts.name.as_str(), &k])?;
            let mut split = Vec::new();
            for i in 0..n {
                let (a, b) = (i * k / n, (i + 1) * k / n);
                let of = (b - a) as u32;
                for (p, j) in (a..b).enumerate() {
                    split.push(Task::new(
                        Key::new(pieces.as_str(), &[j as u32]),
                        Arc::new(SpecOp(Plan {
                            source: Source::Inputs,
                            steps: vec![Step::Part {
                                index: p as u32,
                                of,
                            }],
                            schema: self.schema.clone(),
                        })) as Arc<dyn Op>,
                        vec![parts.key(i)],
                    ));
                }
            }
            graph_layers.push(Layer {
                name: pieces.clone(),
                tasks: split,
            });
            for j in 0..k {
                tasks.push(Task::new(
                    Key::new(layer.as_str(), &[j as u32]),
                    concat.clone(),
                    vec![Key::new(pieces.as_str(), &[j as u32])],
                ));
            }
        }
        let mut graph = parts.graph;
        for l in graph_layers {
            graph = Graph::from_layer(l, [&graph]);
        }
        let graph = Graph::from_layer(
            Layer {
                name: layer.clone(),
                tasks,
            },
            [&graph],
        );
        Ok(DataFrame::from_keys(layer, k, graph, self.schema.clone()))
    }

    /// Partitions of about `bytes` bytes in memory each. Like Dask, this computes
    /// the frame now (to measure it) and repartitions the persisted result.
    pub fn repartition_by_size(&self, bytes: usize) -> Result<DataFrame> {
        let persisted = self.persist()?;
        let (graph, keys) = persisted.to_graph()?;
        let values = default_executor()?.get(&graph, &keys)?;
        let mut total = 0usize;
        for v in &values {
            total += v.expect_ref::<Frame>()?.0.estimated_size();
        }
        let k = total.div_ceil(bytes.max(1)).max(1);
        persisted.repartition(k)
    }
}
