//! The untyped part of an array ([`Meta`]: its graph, block keys, chunks and
//! dtype) and how a new array's blocks are made from registered ops
//! ([`Meta::build`], [`Block`]).

use super::chain_link::Link;
use super::chunks::AxisChunks;
use super::dtype::DType;
use super::grid::{ndindex, ravel};
use super::ops::Kernel;
use crate::layers::{layer_name, TokenizeDyn};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::{Error, Key, Result};
use std::sync::Arc;

/// The untyped part of an array: its graph, block keys and chunks.
#[derive(Clone)]
pub(crate) struct Meta {
    pub graph: Graph,
    /// A token naming the array's content (same computation, same name).
    pub name: String,
    /// Block keys in C order over the block grid.
    pub blocks: Arc<Vec<Key>>,
    pub chunks: Vec<AxisChunks>,
    pub dtype: DType,
    /// How the blocks were made, when an index can be pushed through it (an
    /// elementwise op: `z[100]` indexes its inputs instead of whole blocks of `z`).
    pub origin: Option<Arc<Origin>>,
}

/// How an elementwise result was made: enough to make it again from indexed
/// inputs. It lives beside the [`Meta`] that holds it; `elementwise.rs` makes it
/// (and makes it again, [`Origin::remake`]) and `index.rs` pushes indexes through it.
pub(crate) struct Origin {
    pub method: String,
    pub inputs: Vec<Meta>,
    pub dtype: DType,
    pub made: Made,
}

/// The op of an elementwise layer.
#[derive(Clone)]
pub(crate) enum Made {
    Kernel(Kernel),
    Chain(Vec<Link>),
}

impl Meta {
    pub fn ndim(&self) -> usize {
        self.chunks.len()
    }

    pub fn numblocks(&self) -> Vec<usize> {
        self.chunks.iter().map(AxisChunks::nblocks).collect()
    }

    pub fn key(&self, idx: &[usize]) -> &Key {
        &self.blocks[ravel(idx, &self.numblocks())]
    }

    /// The shape of block `idx`, when known.
    pub fn block_shape(&self, idx: &[usize]) -> Option<Vec<usize>> {
        self.chunks
            .iter()
            .zip(idx)
            .map(|(c, &i)| c.sizes().map(|s| s[i]))
            .collect()
    }

    /// The offsets of block `idx` (known chunks).
    pub fn block_offsets(&self, idx: &[usize]) -> Option<Vec<usize>> {
        self.chunks
            .iter()
            .zip(idx)
            .map(|(c, &i)| c.sizes().map(|s| s[..i].iter().sum()))
            .collect()
    }

    pub fn dims(&self) -> Vec<Option<usize>> {
        self.chunks.iter().map(AxisChunks::size).collect()
    }

    /// A new array of `chunks` whose block `idx` is made by `make(idx)` (an op and
    /// its input keys), in a layer named from `method` and `parts`.
    pub fn build(
        method: &str,
        parts: &[&dyn TokenizeDyn],
        deps: &[&Graph],
        chunks: Vec<AxisChunks>,
        dtype: DType,
        mut make: impl FnMut(&[usize]) -> Result<Block>,
    ) -> Result<Meta> {
        let name = layer_name(method, parts)?;
        let grid: Vec<usize> = chunks.iter().map(AxisChunks::nblocks).collect();
        let mut tasks = Vec::new();
        let mut blocks = Vec::with_capacity(grid.iter().product());
        for idx in ndindex(&grid) {
            match make(&idx)? {
                Block::Task(op, inputs) => {
                    let ix: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
                    let key = Key::new(name.as_str(), &ix);
                    blocks.push(key.clone());
                    tasks.push(Task::new(key, op, inputs));
                }
                Block::Alias(key) => blocks.push(key),
            }
        }
        let graph = if tasks.is_empty() {
            Graph::merge(deps.iter().copied())
        } else {
            Graph::from_layer(
                Layer {
                    name: name.clone(),
                    tasks,
                },
                deps.iter().copied(),
            )
        };
        Ok(Meta {
            graph,
            name,
            blocks: Arc::new(blocks),
            chunks,
            dtype,
            origin: None,
        })
    }
}

/// How one block of a new array is made.
pub(crate) enum Block {
    /// A task: an op on input keys.
    Task(Arc<dyn Op>, Vec<Key>),
    /// An existing key, unchanged.
    Alias(Key),
}

/// The op of a registered spec.
pub(crate) fn op<S: brisk_core::spec_op::Spec>(spec: S) -> Arc<dyn Op> {
    Arc::new(brisk_core::spec_op::SpecOp(spec))
}

/// The msgpack bytes of a spec, for layer names.
pub(crate) fn spec_bytes<S: serde::Serialize>(spec: &S) -> Result<Vec<u8>> {
    rmp_serde::to_vec_named(spec).map_err(|e| Error::Tokenize {
        what: "array op parameters".into(),
        reason: e.to_string(),
    })
}
