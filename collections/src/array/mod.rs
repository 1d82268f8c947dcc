//! Array: a lazy n-dimensional array cut into chunks of `ndarray::ArrayD<T>`
//! (Dask's `dask.array`).
//!
//! An [`Array`] is a grid of blocks: `chunks()` gives the block sizes along each axis
//! (known, or unknown after a boolean mask until `compute_chunk_sizes()`), and each
//! block is the key of a task. Elementwise math broadcasts like NumPy and lines up
//! the blocks of its operands (rechunking them to a common chunking when they
//! differ); reductions along any axes are tree reductions (`split_every`) whose
//! partials merge numerically stably; slicing keeps the input's chunk boundaries and
//! touches only the blocks it needs, so `x[100]` of a huge array reads one block.
//!
//! Every task is a registered op with serde parameters (see [`ops`]), so a worker
//! process can run any array graph; only `map_blocks` / `blockwise` with closures
//! stay in the process that made them.
//!
//! ```
//! use brisk_collections::array::{self, Ix};
//! use ndarray::{ArrayD, IxDyn};
//! # use brisk_scheduler as _;
//! let x = ArrayD::from_shape_fn(IxDyn(&[4, 6]), |i| (i[0] * 6 + i[1]) as f64);
//! let a = array::from_array(&x, &[3, 4]).unwrap();
//! assert_eq!(a.numblocks(), [2, 2]);
//! let col_means = a.mean(&[0], false).unwrap().compute().unwrap();
//! assert_eq!(col_means, x.mean_axis(ndarray::Axis(0)).unwrap());
//! let y = a.sub_scalar(1.0).unwrap().get(&[Ix::i(-1), Ix::r(1, 3)]).unwrap();
//! assert_eq!(y.compute().unwrap().into_raw_vec_and_offset().0, vec![18.0, 19.0]);
//! ```

mod chain_rows;
pub mod chunks;
mod create;
mod dtype;
mod elementwise;
#[cfg(feature = "hdf5")]
mod hdf5;
mod index;
mod io;
pub mod kernels;
mod linalg;
pub mod moments;
pub mod ops;
mod reduce;
pub mod reduce_kernels;
mod shape;

#[cfg(feature = "hdf5")]
pub use self::hdf5::{read_hdf5, Hdf5Read};
pub use chunks::AxisChunks;
pub use create::{
    arange, from_array, from_delayed, full, linspace, ones, random, zeros, ChunkSpec,
};
pub(crate) use dtype::for_dtype;
pub use dtype::{DType, Elem, Float, Num};
pub use index::Ix;
pub use io::{npy_bytes, read_netcdf, NcFormat, NetcdfOptions, NetcdfRead};
pub use kernels::BinOp;
pub use linalg::blockwise;
/// The ndarray build the blocks use.
pub use ndarray;
pub use ops::Unary;
pub use reduce_kernels::Reduction;
pub use shape::Rechunk;
pub use shape::{block, concatenate, stack};

use crate::layers::{layer_name, TokenizeDyn};
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::{Error, Key, Result, Value};
use ndarray::{ArrayD, IxDyn};
use std::marker::PhantomData;
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
    pub origin: Option<Arc<elementwise::Origin>>,
}

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

/// Every index of a grid of `shape`, in C order.
pub(crate) fn ndindex(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let total: usize = shape.iter().product();
    let n = if shape.is_empty() { 1 } else { total };
    (0..n).map(move |mut flat| {
        let mut idx = vec![0; shape.len()];
        for k in (0..shape.len()).rev() {
            idx[k] = flat % shape[k];
            flat /= shape[k];
        }
        idx
    })
}

/// The C-order position of `idx` in a grid of `shape`.
pub(crate) fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
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
                Error::user(
                    "the shape is unknown after a boolean mask; call compute_chunk_sizes() first",
                )
            })
    }

    /// Number of elements; an error when some chunk sizes are unknown.
    pub fn size(&self) -> Result<usize> {
        create::checked_size(&self.shape()?, 1)
    }

    /// Bytes of the whole array (known chunks).
    pub fn nbytes(&self) -> Result<usize> {
        create::checked_size(&self.shape()?, T::DTYPE.itemsize())
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
                return Err(Error::user(format!(
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
                    op(ops::ChunkShape { dtype: m.dtype }),
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
                    .ok_or_else(|| Error::user("a block has more axes than its array"))?;
                match *slot {
                    Some(prev) if prev != s => {
                        return Err(Error::user(format!(
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
                    .ok_or_else(|| Error::user("a block's shape is missing"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Array::wrap(Meta {
            chunks,
            ..m.clone()
        }))
    }
}

/// Joins computed blocks (C order over `grid`) into one array, copying each block
/// once into place. Blocks whose shapes do not line up are an error.
pub(crate) fn concat_blocks<T: Elem>(values: Vec<Value>, grid: &[usize]) -> Result<ArrayD<T>> {
    if values.len() == 1 {
        let v = values.into_iter().next().unwrap_or_else(|| unreachable!());
        let any: Arc<dyn std::any::Any + Send + Sync> = v;
        return match any.downcast::<ArrayD<T>>() {
            Ok(a) => Ok(Arc::try_unwrap(a).unwrap_or_else(|a| (*a).clone())),
            Err(_) => Err(Error::TypeMismatch {
                expected: format!("ndarray<{}>", T::DTYPE),
                found: "another value".into(),
            }),
        };
    }
    let arrays = values
        .iter()
        .map(|v| T::array(v))
        .collect::<Result<Vec<_>>>()?;
    let ndim = grid.len();
    // Sizes along each axis from the blocks at index 0 of the other axes.
    let mut sizes: Vec<Vec<usize>> = Vec::with_capacity(ndim);
    for ax in 0..ndim {
        let mut s = Vec::with_capacity(grid[ax]);
        for i in 0..grid[ax] {
            let mut idx = vec![0; ndim];
            idx[ax] = i;
            let a = arrays[ravel(&idx, grid)];
            if a.ndim() != ndim {
                return Err(Error::user(format!(
                    "a block has {} axes, expected {ndim}",
                    a.ndim()
                )));
            }
            s.push(a.shape()[ax]);
        }
        sizes.push(s);
    }
    let shape: Vec<usize> = sizes.iter().map(|s| s.iter().sum()).collect();
    for (idx, a) in ndindex(grid).zip(&arrays) {
        let want: Vec<usize> = (0..ndim).map(|k| sizes[k][idx[k]]).collect();
        if a.shape() != want.as_slice() {
            return Err(Error::user(format!(
                "block {idx:?} has shape {:?} but its neighbours need {want:?}",
                a.shape()
            )));
        }
    }
    // Every block copied into its own disjoint part of the output, in parallel.
    let mut out = ArrayD::from_elem(IxDyn(&shape), T::default());
    let views = split_grid(out.view_mut(), &sizes, 0);
    use rayon::prelude::*;
    views
        .into_par_iter()
        .zip(arrays.par_iter())
        .for_each(|(mut v, a)| v.assign(*a));
    Ok(out)
}

/// `v` cut into the blocks of `sizes` (per axis, from `axis` on), in C order.
fn split_grid<'a, T>(
    v: ndarray::ArrayViewMutD<'a, T>,
    sizes: &[Vec<usize>],
    axis: usize,
) -> Vec<ndarray::ArrayViewMutD<'a, T>> {
    if axis == sizes.len() {
        return vec![v];
    }
    let mut out = Vec::new();
    let mut rest = v;
    for &s in &sizes[axis] {
        let (head, tail) = rest.split_at(ndarray::Axis(axis), s);
        out.extend(split_grid(head, sizes, axis + 1));
        rest = tail;
    }
    out
}

/// The places of the blocks in `view`, one disjoint mutable view each, in C order
/// of the block grid (`sizes[k]`: the chunk sizes along axis `k`, from `axis` on).
fn block_views<'a, T>(
    view: ndarray::ArrayViewMutD<'a, T>,
    sizes: &[Vec<usize>],
    axis: usize,
) -> Vec<ndarray::ArrayViewMutD<'a, T>> {
    let Some(along) = sizes.get(axis) else {
        return vec![view];
    };
    let mut out = Vec::new();
    let mut rest = view;
    for &n in along {
        let (head, tail) = rest.split_at(ndarray::Axis(axis), n);
        out.extend(block_views(head, sizes, axis + 1));
        rest = tail;
    }
    out
}
