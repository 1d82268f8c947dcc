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
//! Every task is a registered op with serde parameters, so a worker process can run
//! any array graph; only `map_blocks` / `blockwise` with closures stay in the
//! process that made them (registered functions run anywhere).
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
//!
//! # Layout
//!
//! From the foundation up; each file imports only files listed before it.
//!
//! - `dtype.rs`: the element types ([`DType`], [`Elem`], [`Num`], [`Float`]).
//! - `grid.rs`: C-order walks over grids of blocks, positions, checked sizes.
//! - `chunks.rs`: chunk arithmetic along one axis ([`AxisChunks`]).
//! - The per-chunk kernels, plain functions of ndarrays: `kernels.rs`
//!   (elementwise, select, assemble, take, cumsum; [`BinOp`], [`Unary`]),
//!   `reduce_kernels.rs` (the partials of tree reductions; [`Reduction`]),
//!   `moments.rs` (the partials of mean / var / std), `chain_link.rs` and
//!   `chain_rows.rs` (fused chains of arithmetic).
//! - `ops/`: the registered ops that run the kernels, one file per family:
//!   elementwise, chain, select, reduce, create (with its generator, `rng.rs`),
//!   shape and linalg.
//! - `meta.rs`: the untyped part of an array (graph, block keys, chunks, dtype)
//!   and `Meta::build`, which makes one task per block.
//! - `array.rs`: the [`Array`] type, its shape, `compute` and `persist`
//!   (`concat_blocks.rs` joins computed blocks).
//! - The graph builders, each adding methods to [`Array`]: `create.rs`
//!   ([`from_array`], [`zeros`], [`arange`], [`random`], ...), `shape.rs`
//!   (rechunk, transpose, reshape, [`concatenate`]), `elementwise.rs`
//!   (broadcasting math, fused chains), `index.rs` ([`Ix`], masks), `reduce.rs`
//!   (tree reductions, cumsum) and `linalg.rs` (tensordot, `map_blocks`,
//!   [`blockwise`]).
//! - `io/`: NetCDF ([`read_netcdf`]; text as strings: [`read_netcdf_strings`]),
//!   HDF5 (`read_hdf5`, the `hdf5` feature), `.npy` ([`npy_bytes`]) and the CF
//!   mask / scale conventions.

#[allow(clippy::module_inception)]
mod array;
mod blockwise;
mod chain_link;
mod chain_rows;
pub mod chunks;
mod concat_blocks;
mod create;
mod dtype;
mod elementwise;
mod grid;
mod index;
mod io;
mod kernels;
mod linalg;
mod meta;
mod moments;
mod ops;
mod reduce;
mod reduce_kernels;
mod shape;

pub use self::array::Array;
pub use blockwise::{blockwise, IntoBlocksFn};
pub use chunks::AxisChunks;
pub use create::{
    arange, from_array, from_delayed, full, linspace, ones, random, zeros, ChunkSpec,
};
pub(crate) use dtype::for_dtype;
pub use dtype::{DType, Elem, Float, Num};
pub use index::Ix;
pub use io::{npy_bytes, read_netcdf, read_netcdf_strings, NcFormat, NetcdfOptions, NetcdfRead};
#[cfg(feature = "hdf5")]
pub use io::{read_hdf5, Hdf5Read};
pub use kernels::{BinOp, Unary};
pub(crate) use meta::{op, spec_bytes, Block, Meta};
/// The ndarray build the blocks use.
pub use ndarray;
pub use reduce_kernels::Reduction;
pub use shape::Rechunk;
pub use shape::{block, concatenate, stack};
