//! Making arrays: from an in-memory ndarray, constants, ranges, seeded random
//! numbers (the same values whatever the chunking) and Delayed blocks.

use super::array::Array;
use super::chunks::{auto, regular, AxisChunks};
use super::dtype::{Elem, Float};
use super::grid::checked_size;
use super::meta::{op, spec_bytes, Block, Meta};
use super::ops::{Create, Dist, Fill};
use super::reduce_kernels::Place;
use crate::delayed::Delayed;
use crate::error;
use crate::layers::TokenizeDyn;
use brisk_core::op::LiteralOp;
use brisk_core::token::Bytes;
use brisk_core::{Key, Result};
use ndarray::{ArrayD, Axis};
use std::sync::Arc;

/// Dask's default target for "auto" chunks.
pub const AUTO_CHUNK_BYTES: usize = 128 << 20;

/// How an array is cut into blocks.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkSpec {
    /// At most this many elements per block along each axis.
    Uniform(Vec<usize>),
    /// Explicit block sizes per axis.
    Explicit(Vec<Vec<usize>>),
    /// Blocks of about [`AUTO_CHUNK_BYTES`].
    Auto,
}

impl From<&[usize]> for ChunkSpec {
    fn from(v: &[usize]) -> Self {
        ChunkSpec::Uniform(v.to_vec())
    }
}

impl<const N: usize> From<&[usize; N]> for ChunkSpec {
    fn from(v: &[usize; N]) -> Self {
        ChunkSpec::Uniform(v.to_vec())
    }
}

impl From<Vec<Vec<usize>>> for ChunkSpec {
    fn from(v: Vec<Vec<usize>>) -> Self {
        ChunkSpec::Explicit(v)
    }
}

impl ChunkSpec {
    pub(crate) fn resolve(&self, shape: &[usize], itemsize: usize) -> Result<Vec<AxisChunks>> {
        checked_size(shape, itemsize)?;
        let out: Vec<Vec<usize>> = match self {
            ChunkSpec::Uniform(c) => {
                if c.len() != shape.len() {
                    return Err(error::invalid(format!(
                        "{} chunk sizes for {} axes",
                        c.len(),
                        shape.len()
                    )));
                }
                shape.iter().zip(c).map(|(&d, &c)| regular(d, c)).collect()
            }
            ChunkSpec::Explicit(v) => {
                if v.len() != shape.len() {
                    return Err(error::invalid(format!(
                        "chunks for {} axes, the shape has {}",
                        v.len(),
                        shape.len()
                    )));
                }
                for (ax, (c, &d)) in v.iter().zip(shape).enumerate() {
                    if c.iter().sum::<usize>() != d || c.is_empty() {
                        return Err(error::invalid(format!(
                            "chunks {c:?} do not add up to length {d} of axis {ax}"
                        )));
                    }
                }
                v.clone()
            }
            ChunkSpec::Auto => auto(shape, itemsize, AUTO_CHUNK_BYTES, &[]),
        };
        Ok(out.into_iter().map(AxisChunks::Known).collect())
    }
}

/// An in-memory array cut into blocks (each block a copy, held by the graph).
pub fn from_array<T: Elem>(a: &ArrayD<T>, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    let chunks = chunks.into().resolve(a.shape(), T::DTYPE.itemsize())?;
    let token = T::token(a)?;
    let m = Meta::build(
        "array",
        &[&token, &format!("{chunks:?}")],
        &[],
        chunks.clone(),
        T::DTYPE,
        |idx| {
            let mut v = a.view();
            for (ax, (c, &i)) in chunks.iter().zip(idx).enumerate() {
                let s = c.sizes().unwrap_or_default();
                let o: usize = s[..i].iter().sum();
                v.slice_axis_inplace(Axis(ax), (o..o + s[i]).into());
            }
            let key_token = brisk_core::tokenize(&(token.to_string(), idx.to_vec()))?;
            Ok(Block::Task(
                Arc::new(LiteralOp::new(T::value(v.to_owned()), key_token)),
                vec![],
            ))
        },
    )?;
    Ok(Array::wrap(m))
}

fn created<T: Elem>(
    method: &str,
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    fill: impl Fn(&[usize], &[usize]) -> Fill,
) -> Result<Array<T>> {
    let chunks = chunks.into().resolve(shape, T::DTYPE.itemsize())?;
    let probe = spec_bytes(&fill(&vec![0; shape.len()], &vec![0; shape.len()]))?;
    let tag = format!("{shape:?}{chunks:?}");
    let meta0 = Meta {
        graph: brisk_core::Graph::new(),
        name: String::new(),
        blocks: Arc::new(vec![]),
        chunks: chunks.clone(),
        dtype: T::DTYPE,
        origin: None,
    };
    let m = Meta::build(
        method,
        &[&tag, &Bytes(&probe) as &dyn TokenizeDyn, &T::DTYPE.name()],
        &[],
        chunks.clone(),
        T::DTYPE,
        |idx| {
            let shape = meta0.block_shape(idx).unwrap_or_default();
            let offsets = meta0.block_offsets(idx).unwrap_or_default();
            Ok(Block::Task(
                op(Create {
                    dtype: T::DTYPE,
                    shape: shape.clone(),
                    fill: fill(&offsets, &shape),
                }),
                vec![],
            ))
        },
    )?;
    Ok(Array::wrap(m))
}

/// An array of `value`.
pub fn full<T: Elem>(shape: &[usize], value: T, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    created("full", shape, chunks, |_, _| Fill::Value(value.to_f64()))
}

/// An array of zeros.
pub fn zeros<T: Elem>(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    created("zeros", shape, chunks, |_, _| Fill::Value(0.0))
}

/// An array of ones.
pub fn ones<T: Elem>(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    created("ones", shape, chunks, |_, _| Fill::Value(1.0))
}

/// `start, start + step, ...` below `stop` (NumPy's `arange`), in blocks of `chunk`.
pub fn arange<T: Elem>(start: f64, stop: f64, step: f64, chunk: usize) -> Result<Array<T>> {
    if step == 0.0 || !step.is_finite() {
        return Err(error::invalid(
            "arange: the step must be finite and nonzero",
        ));
    }
    let n = ((stop - start) / step).ceil().max(0.0);
    if !n.is_finite() || n > (isize::MAX as f64) {
        return Err(error::invalid(format!(
            "arange({start}, {stop}, {step}) has too many elements"
        )));
    }
    let n = n as usize;
    created("arange", &[n], &[chunk], |off, _| Fill::Range {
        start,
        step,
        offset: off.first().copied().unwrap_or(0),
    })
}

/// `num` evenly spaced values from `start` to `stop` inclusive (NumPy's
/// `linspace`), in blocks of `chunk`.
pub fn linspace<T: Float>(start: f64, stop: f64, num: usize, chunk: usize) -> Result<Array<T>> {
    let step = if num > 1 {
        (stop - start) / (num - 1) as f64
    } else {
        0.0
    };
    created("linspace", &[num], &[chunk], |off, _| Fill::Range {
        start,
        step,
        offset: off.first().copied().unwrap_or(0),
    })
}

/// Seeded random arrays: each element depends only on the seed and its position,
/// so the same seed gives the same array whatever the chunks.
pub mod random {
    use super::*;

    /// Uniform values in `[low, high)`.
    pub fn uniform<T: Float>(
        seed: u64,
        low: f64,
        high: f64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>> {
        let whole = shape.to_vec();
        created("random_uniform", shape, chunks, |off, _| Fill::Random {
            seed,
            dist: Dist::Uniform { low, high },
            place: Place {
                offsets: off.to_vec(),
                shape: whole.clone(),
            },
        })
    }

    /// Normal values.
    pub fn normal<T: Float>(
        seed: u64,
        mean: f64,
        std: f64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
    ) -> Result<Array<T>> {
        let whole = shape.to_vec();
        created("random_normal", shape, chunks, |off, _| Fill::Random {
            seed,
            dist: Dist::Normal { mean, std },
            place: Place {
                offsets: off.to_vec(),
                shape: whole.clone(),
            },
        })
    }
}

/// A one-block array from a Delayed ndarray; the caller vouches for its `shape`
/// (join several with [`concatenate`](super::concatenate) or [`stack`](super::stack)).
pub fn from_delayed<T: Elem>(d: &Delayed<ArrayD<T>>, shape: &[usize]) -> Result<Array<T>> {
    let key: Key = d.key().clone();
    let chunks: Vec<AxisChunks> = shape.iter().map(|&s| AxisChunks::Known(vec![s])).collect();
    let name = crate::layers::layer_name("from_delayed", &[&key, &shape.to_vec()])?;
    Ok(Array::wrap(Meta {
        graph: d.graph().clone(),
        name,
        blocks: Arc::new(vec![key]),
        chunks,
        dtype: T::DTYPE,
        origin: None,
    }))
}
