//! The [`Array`] type: a lazy chunked n-dimensional array, its shape and blocks,
//! and running its graph (`compute`, `persist`, `compute_chunk_sizes`).

use super::chunks::AxisChunks;
use super::concat_blocks::{block_views, concat_blocks};
use super::dtype::{DType, Elem};
use super::grid::{checked_size, ndindex};
use super::meta::{op, Block, Meta};
use super::ops::ChunkShape;
use crate::error;
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::Graph;
use brisk_core::{Error, Key, Result};
use ndarray::{ArrayD, IxDyn};
use std::marker::PhantomData;

/// A lazy chunked n-dimensional array of `T`.
pub struct Array<T> {
    pub(crate) meta: Meta,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            meta: self.meta.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: Elem> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Array<{}>(shape={:?}, numblocks={:?})",
            T::DTYPE,
            self.dims(),
            self.numblocks()
        )
    }
}

impl<T: Elem> Array<T> {
    pub(crate) fn from_meta(meta: Meta) -> Result<Array<T>> {
        if meta.dtype != T::DTYPE {
            return Err(Error::TypeMismatch {
                expected: T::DTYPE.to_string(),
                found: meta.dtype.to_string(),
            });
        }
        Ok(Array {
            meta,
            _t: PhantomData,
        })
    }

    pub(crate) fn wrap(meta: Meta) -> Array<T> {
        debug_assert_eq!(meta.dtype, T::DTYPE);
        Array {
            meta,
            _t: PhantomData,
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        T::DTYPE
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.meta.ndim()
    }

    /// The block sizes along each axis.
    pub fn chunks(&self) -> &[AxisChunks] {
        &self.meta.chunks
    }

    /// Number of blocks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        self.meta.numblocks()
    }

    /// Number of blocks in all.
    pub fn npartitions(&self) -> usize {
        self.meta.blocks.len()
    }

    /// The length of each axis, `None` where chunk sizes are unknown.
    pub fn dims(&self) -> Vec<Option<usize>> {
        self.meta.dims()
    }

    /// The shape; an error when some chunk sizes are unknown.
    pub fn shape(&self) -> Result<Vec<usize>> {
        self.dims()
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                error::invalid(
                    "the shape is unknown after a boolean mask; call compute_chunk_sizes() first",
                )
            })
    }

    /// Number of elements; an error when some chunk sizes are unknown.
    pub fn size(&self) -> Result<usize> {
        checked_size(&self.shape()?, 1)
    }

    /// Bytes of the whole array (known chunks).
    pub fn nbytes(&self) -> Result<usize> {
        checked_size(&self.shape()?, T::DTYPE.itemsize())
    }

    /// The content token naming this array.
    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// The task graph.
    pub fn graph(&self) -> &Graph {
        &self.meta.graph
    }

    /// The block keys in C order over the block grid.
    pub fn keys(&self) -> &[Key] {
        &self.meta.blocks
    }

    /// Computes the array into one `ndarray` on the default executor.
    pub fn compute(&self) -> Result<ArrayD<T>> {
        self.compute_with(default_executor()?.as_ref())
    }

    /// [`Array::compute`] on `executor`.
    pub fn compute_with(&self, executor: &dyn Executor) -> Result<ArrayD<T>> {
        let grid = self.numblocks();
        let Some(sizes) = self
            .chunks()
            .iter()
            .map(|c| c.sizes().map(<[usize]>::to_vec))
            .collect::<Option<Vec<_>>>()
        else {
            // Unknown sizes: gather every block, then join them by their shapes.
            let values = executor.get(&self.meta.graph, &self.meta.blocks)?;
            return concat_blocks::<T>(values, &grid);
        };
        if self.meta.blocks.len() == 1 {
            let values = executor.get(&self.meta.graph, &self.meta.blocks)?;
            return concat_blocks::<T>(values, &grid);
        }
        // Known sizes: each block is copied into its place as soon as it is ready
        // (by the thread that computed it, several at once) and then dropped, so the
        // blocks are never all held beside the result.
        let shape: Vec<usize> = sizes.iter().map(|s| s.iter().sum()).collect();
        let mut out = ArrayD::from_elem(IxDyn(&shape), T::default());
        let places: Vec<std::sync::Mutex<ndarray::ArrayViewMutD<'_, T>>> =
            block_views(out.view_mut(), &sizes, 0)
                .into_iter()
                .map(std::sync::Mutex::new)
                .collect();
        let grid_index: Vec<Vec<usize>> = ndindex(&grid).collect();
        executor.get_each_concurrent(&self.meta.graph, &self.meta.blocks, &|i, v| {
            let a = T::array(&v)?;
            let mut place = places[i].lock().unwrap_or_else(|p| p.into_inner());
            if a.shape() != place.shape() {
                return Err(error::shape(format!(
                    "block {:?} has shape {:?}, its chunks say {:?}",
                    grid_index[i],
                    a.shape(),
                    place.shape()
                )));
            }
            place.assign(a);
            Ok(())
        })?;
        drop(places);
        Ok(out)
    }

    /// Computes the blocks and returns an array whose graph holds them.
    pub fn persist(&self) -> Result<Array<T>> {
        self.persist_with(default_executor()?.as_ref())
    }

    /// [`Array::persist`] on `executor`.
    pub fn persist_with(&self, executor: &dyn Executor) -> Result<Array<T>> {
        let graph = executor.persist(&self.meta.graph, &self.meta.blocks)?;
        // Persisted blocks are kept: indexes read them, not the inputs.
        Ok(Array::wrap(Meta {
            graph,
            origin: None,
            ..self.meta.clone()
        }))
    }

    /// The same array with every chunk size known, computing the blocks' shapes
    /// (the blocks themselves are computed, not kept).
    pub fn compute_chunk_sizes(&self) -> Result<Array<T>> {
        self.compute_chunk_sizes_with(default_executor()?.as_ref())
    }

    /// [`Array::compute_chunk_sizes`] on `executor`.
    pub fn compute_chunk_sizes_with(&self, executor: &dyn Executor) -> Result<Array<T>> {
        if self.dims().iter().all(Option::is_some) {
            return Ok(self.clone());
        }
        let m = &self.meta;
        let shapes = Meta::build(
            "chunk_shape",
            &[&m.name.as_str()],
            &[&m.graph],
            m.chunks.clone(),
            m.dtype,
            |idx| {
                Ok(Block::Task(
                    op(ChunkShape { dtype: m.dtype }),
                    vec![m.key(idx).clone()],
                ))
            },
        )?;
        let values = executor.get(&shapes.graph, &shapes.blocks)?;
        let grid = m.numblocks();
        let mut sizes: Vec<Vec<Option<usize>>> = grid.iter().map(|&n| vec![None; n]).collect();
        for (idx, v) in ndindex(&grid).zip(&values) {
            let shape = v.expect_ref::<Vec<usize>>()?;
            for (ax, &s) in shape.iter().enumerate() {
                let slot = sizes
                    .get_mut(ax)
                    .and_then(|a| a.get_mut(idx[ax]))
                    .ok_or_else(|| error::shape("a block has more axes than its array"))?;
                match *slot {
                    Some(prev) if prev != s => {
                        return Err(error::shape(format!(
                        "blocks disagree on the size of block {} along axis {ax}: {prev} vs {s}",
                        idx[ax]
                    )))
                    }
                    _ => *slot = Some(s),
                }
            }
        }
        let chunks = sizes
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(AxisChunks::Known)
                    .ok_or_else(|| error::shape("a block's shape is missing"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Array::wrap(Meta {
            chunks,
            ..m.clone()
        }))
    }
}
