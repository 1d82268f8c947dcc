//! Changing the block structure: rechunk, transpose, reshape, concatenate, stack
//! and block.

use super::array::Array;
use super::chunks::{auto, overlaps, regular, AxisChunks};
use super::create::ChunkSpec;
use super::dtype::Elem;
use super::grid::{checked_size, ndindex};
use super::kernels::{Region, Sel};
use super::meta::{op, Block, Meta};
use super::ops::{Assemble, Reshape, Select, Transpose};
use crate::error;
use crate::layers::TokenizeDyn;
use brisk_core::{Key, Result};
use std::sync::Arc;

/// `m` with the block sizes `want` (same shape): each new block is assembled from
/// the parts of the old blocks it overlaps; a new block equal to an old one reuses
/// its key.
pub(crate) fn rechunk_meta(m: &Meta, want: &[AxisChunks]) -> Result<Meta> {
    if want.len() != m.ndim() {
        return Err(error::invalid(format!(
            "rechunk: {} axes of chunks for an array of {}",
            want.len(),
            m.ndim()
        )));
    }
    let mut per_axis = Vec::with_capacity(want.len());
    if want.iter().zip(&m.chunks).any(|(w, c)| w != c)
        && m.chunks.iter().any(|c| c.sizes().is_none())
    {
        return Err(error::invalid(
            "rechunking an array with unknown chunk sizes needs them known; call compute_chunk_sizes() first",
        ));
    }
    for (ax, (old, new)) in m.chunks.iter().zip(want).enumerate() {
        if old == new {
            per_axis.push(None);
            continue;
        }
        let o = old.known("rechunk")?;
        let n = new.known("rechunk")?;
        let (so, sn) = (o.iter().sum::<usize>(), n.iter().sum::<usize>());
        if so != sn {
            return Err(error::invalid(format!(
                "rechunk: axis {ax} has length {so} but the new chunks add up to {sn}"
            )));
        }
        per_axis.push(Some(overlaps(o, n)));
    }
    let tag: Vec<Vec<usize>> = want
        .iter()
        .map(|c| c.sizes().map(<[usize]>::to_vec).unwrap_or_default())
        .collect();
    Meta::build(
        "rechunk",
        &[&m.name.as_str(), &tag as &dyn TokenizeDyn],
        &[&m.graph],
        want.to_vec(),
        m.dtype,
        |idx| {
            // Per axis: the (old block, src, dst, len) parts.
            let parts: Vec<Vec<(usize, usize, usize, usize)>> = per_axis
                .iter()
                .enumerate()
                .map(|(ax, p)| match p {
                    None => {
                        let len = m.chunks[ax].sizes().map_or(usize::MAX, |s| s[idx[ax]]);
                        vec![(idx[ax], 0, 0, len)]
                    }
                    Some(o) => o[idx[ax]]
                        .iter()
                        .map(|x| (x.block, x.src_start, x.dst_start, x.len))
                        .collect(),
                })
                .collect();
            let counts: Vec<usize> = parts.iter().map(Vec::len).collect();
            let shape: Vec<usize> = want
                .iter()
                .zip(idx)
                .map(|(c, &i)| c.sizes().map_or(0, |s| s[i]))
                .collect();
            let mut inputs = Vec::new();
            let mut regions: Vec<Region> = Vec::new();
            for combo in ndindex(&counts) {
                let block: Vec<usize> = combo
                    .iter()
                    .enumerate()
                    .map(|(ax, &k)| parts[ax][k].0)
                    .collect();
                inputs.push(m.key(&block).clone());
                regions.push(
                    combo
                        .iter()
                        .enumerate()
                        .map(|(ax, &k)| (parts[ax][k].1, parts[ax][k].2, parts[ax][k].3))
                        .collect(),
                );
            }
            if let ([only], [region]) = (inputs.as_slice(), regions.as_slice()) {
                let same = m
                    .block_shape(&combo_block(&parts))
                    .is_some_and(|s| s == shape)
                    && region
                        .iter()
                        .all(|&(s, d, _): &(usize, usize, usize)| s == 0 && d == 0);
                if same {
                    return Ok(Block::Alias(only.clone()));
                }
            }
            Ok(Block::Task(
                op(Assemble {
                    dtype: m.dtype,
                    shape,
                    regions,
                }),
                inputs,
            ))
        },
    )
}

fn combo_block(parts: &[Vec<(usize, usize, usize, usize)>]) -> Vec<usize> {
    parts.iter().map(|p| p[0].0).collect()
}

/// How to rechunk.
#[derive(Debug, Clone, PartialEq)]
pub enum Rechunk {
    /// At most this many elements per block along each axis (`None`: one block).
    Uniform(Vec<Option<usize>>),
    /// Explicit block sizes per axis.
    Explicit(Vec<Vec<usize>>),
    /// Blocks of about this many bytes, as near-cubic as the shape allows.
    Auto {
        /// Target bytes per block.
        bytes: usize,
    },
}

impl<T: Elem> Array<T> {
    /// The same array with new block sizes: `&[Some(100), None]` for blocks of 100
    /// along the first axis and one block along the second.
    pub fn rechunk(&self, spec: Rechunk) -> Result<Array<T>> {
        let shape = self.shape()?;
        let want: Vec<AxisChunks> = match spec {
            Rechunk::Uniform(per) => {
                if per.len() != shape.len() {
                    return Err(error::invalid(format!(
                        "rechunk: {} sizes for {} axes",
                        per.len(),
                        shape.len()
                    )));
                }
                shape
                    .iter()
                    .zip(per)
                    .map(|(&d, c)| AxisChunks::Known(regular(d, c.unwrap_or(d.max(1)))))
                    .collect()
            }
            Rechunk::Explicit(v) => ChunkSpec::Explicit(v).resolve(&shape, T::DTYPE.itemsize())?,
            Rechunk::Auto { bytes } => auto(&shape, T::DTYPE.itemsize(), bytes, &[])
                .into_iter()
                .map(AxisChunks::Known)
                .collect(),
        };
        Ok(Array::wrap(rechunk_meta(&self.meta, &want)?))
    }

    /// The axes permuted: axis `k` of the result is axis `perm[k]` of this array.
    pub fn transpose(&self, perm: &[usize]) -> Result<Array<T>> {
        let n = self.ndim();
        let mut seen = vec![false; n];
        if perm.len() != n
            || perm
                .iter()
                .any(|&p| p >= n || std::mem::replace(&mut seen[p], true))
        {
            return Err(error::invalid(format!(
                "transpose: {perm:?} is not a permutation of {n} axes"
            )));
        }
        let m = &self.meta;
        let chunks: Vec<AxisChunks> = perm.iter().map(|&p| m.chunks[p].clone()).collect();
        let spec = Transpose {
            dtype: m.dtype,
            perm: perm.to_vec(),
        };
        let out = Meta::build(
            "transpose",
            &[&m.name.as_str(), &perm.to_vec()],
            &[&m.graph],
            chunks,
            m.dtype,
            |idx| {
                let mut src = vec![0; n];
                for (k, &p) in perm.iter().enumerate() {
                    src[p] = idx[k];
                }
                Ok(Block::Task(op(spec.clone()), vec![m.key(&src).clone()]))
            },
        )?;
        Ok(Array::wrap(out))
    }

    /// The axes in reverse order (`x.T`).
    pub fn t(&self) -> Result<Array<T>> {
        let perm: Vec<usize> = (0..self.ndim()).rev().collect();
        self.transpose(&perm)
    }

    /// Axes `a` and `b` swapped.
    pub fn swapaxes(&self, a: usize, b: usize) -> Result<Array<T>> {
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        if a >= perm.len() || b >= perm.len() {
            return Err(error::invalid(format!(
                "swapaxes: axes {a}, {b} of an array of {} axes",
                perm.len()
            )));
        }
        perm.swap(a, b);
        self.transpose(&perm)
    }

    /// The same elements in C order with a new shape. Blocks are kept along the
    /// first axis when every block of rows reshapes on its own (the trailing axes are
    /// first joined into one block); otherwise the array becomes one block.
    pub fn reshape(&self, shape: &[usize]) -> Result<Array<T>> {
        let old = self.shape()?;
        checked_size(shape, T::DTYPE.itemsize())?;
        let (n_old, n_new) = (
            old.iter().product::<usize>(),
            shape.iter().product::<usize>(),
        );
        if n_old != n_new {
            return Err(error::shape(format!("cannot reshape an array of shape {old:?} ({n_old} elements) to {shape:?} ({n_new})")));
        }
        if old == shape {
            return Ok(self.clone());
        }
        let inner_old: usize = old.iter().skip(1).product();
        let inner_new: usize = shape.iter().skip(1).product();
        let rows = self
            .meta
            .chunks
            .first()
            .and_then(|c| c.sizes().map(<[usize]>::to_vec))
            .unwrap_or_default();
        let fits = !shape.is_empty()
            && !old.is_empty()
            && inner_new > 0
            && rows.iter().all(|r| (r * inner_old) % inner_new == 0);
        let mut want: Vec<AxisChunks> = old.iter().map(|&d| AxisChunks::Known(vec![d])).collect();
        if fits {
            want[0] = self.meta.chunks[0].clone();
        }
        let joined = rechunk_meta(&self.meta, &want)?;
        let new_rows: Vec<usize> = if fits {
            rows.iter().map(|r| r * inner_old / inner_new).collect()
        } else {
            vec![shape.first().copied().unwrap_or(1)]
        };
        let mut chunks: Vec<AxisChunks> =
            shape.iter().map(|&d| AxisChunks::Known(vec![d])).collect();
        if let Some(first) = chunks.first_mut() {
            *first = AxisChunks::Known(new_rows.clone());
        }
        let dtype = joined.dtype;
        let out = Meta::build(
            "reshape",
            &[&joined.name.as_str(), &shape.to_vec()],
            &[&joined.graph],
            chunks,
            dtype,
            |idx| {
                let mut block_shape = shape.to_vec();
                if let (Some(first), Some(i)) = (block_shape.first_mut(), idx.first()) {
                    *first = new_rows[*i];
                }
                let src: Vec<usize> = (0..joined.ndim())
                    .map(|k| {
                        if k == 0 && fits {
                            idx.first().copied().unwrap_or(0)
                        } else {
                            0
                        }
                    })
                    .collect();
                Ok(Block::Task(
                    op(Reshape {
                        dtype,
                        shape: block_shape,
                    }),
                    vec![joined.key(&src).clone()],
                ))
            },
        )?;
        Ok(Array::wrap(out))
    }
}

/// Arrays joined along an existing `axis`; the other axes must have the same
/// lengths (their chunks are made equal to the first array's).
pub fn concatenate<T: Elem>(arrays: &[Array<T>], axis: usize) -> Result<Array<T>> {
    let first = arrays
        .first()
        .ok_or_else(|| error::invalid("concatenate needs at least one array"))?;
    let ndim = first.ndim();
    if axis >= ndim {
        return Err(error::invalid(format!(
            "concatenate: axis {axis} of arrays of {ndim} axes"
        )));
    }
    let mut metas = Vec::with_capacity(arrays.len());
    for (i, a) in arrays.iter().enumerate() {
        if a.ndim() != ndim {
            return Err(error::shape(format!(
                "concatenate: array {i} has {} axes, the first has {ndim}",
                a.ndim()
            )));
        }
        let mut want = first.meta.chunks.clone();
        want[axis] = a.meta.chunks[axis].clone();
        for k in (0..ndim).filter(|&k| k != axis) {
            if a.meta.chunks[k].size() != first.meta.chunks[k].size() {
                return Err(error::shape(format!(
                    "concatenate: array {i} has length {:?} along axis {k}, the first has {:?}",
                    a.meta.chunks[k].size(),
                    first.meta.chunks[k].size()
                )));
            }
        }
        metas.push(if want == a.meta.chunks {
            a.meta.clone()
        } else {
            rechunk_meta(&a.meta, &want)?
        });
    }
    // The block grid joined along the axis.
    let mut chunks = first.meta.chunks.clone();
    let mut along: Vec<usize> = Vec::new();
    let mut any_unknown = false;
    for m in &metas {
        match &m.chunks[axis] {
            AxisChunks::Known(s) => along.extend(s),
            AxisChunks::Unknown(_) => any_unknown = true,
        }
    }
    chunks[axis] = if any_unknown {
        AxisChunks::Unknown(metas.iter().map(|m| m.chunks[axis].nblocks()).sum())
    } else {
        AxisChunks::Known(along)
    };
    let grid: Vec<usize> = chunks.iter().map(AxisChunks::nblocks).collect();
    let mut owner: Vec<(usize, usize)> = Vec::new();
    for (i, m) in metas.iter().enumerate() {
        owner.extend((0..m.chunks[axis].nblocks()).map(|b| (i, b)));
    }
    let mut blocks: Vec<Key> = Vec::with_capacity(grid.iter().product());
    for idx in ndindex(&grid) {
        let (i, b) = owner[idx[axis]];
        let mut src = idx.clone();
        src[axis] = b;
        blocks.push(metas[i].key(&src).clone());
    }
    let names: Vec<&str> = metas.iter().map(|m| m.name.as_str()).collect();
    let name = crate::layers::layer_name("concatenate", &[&names, &axis])?;
    let graph = brisk_core::Graph::merge(metas.iter().map(|m| &m.graph));
    Ok(Array::wrap(Meta {
        graph,
        name,
        blocks: Arc::new(blocks),
        chunks,
        dtype: T::DTYPE,
        origin: None,
    }))
}

/// Arrays of the same shape joined along a new `axis`.
pub fn stack<T: Elem>(arrays: &[Array<T>], axis: usize) -> Result<Array<T>> {
    let first = arrays
        .first()
        .ok_or_else(|| error::invalid("stack needs at least one array"))?;
    if axis > first.ndim() {
        return Err(error::invalid(format!(
            "stack: axis {axis} for arrays of {} axes",
            first.ndim()
        )));
    }
    let expanded = arrays
        .iter()
        .map(|a| {
            if a.dims() != first.dims() {
                return Err(error::shape(format!(
                    "stack: shapes {:?} and {:?} differ",
                    a.dims(),
                    first.dims()
                )));
            }
            let m = &a.meta;
            let mut chunks = m.chunks.clone();
            chunks.insert(axis, AxisChunks::Known(vec![1]));
            let mut sel: Vec<Sel> = vec![
                Sel::Range {
                    start: 0,
                    step: 1,
                    len: usize::MAX
                };
                m.ndim()
            ];
            sel.insert(axis, Sel::NewAxis);
            let spec = Select {
                dtype: m.dtype,
                sel,
            };
            let out = Meta::build(
                "expand_dims",
                &[&m.name.as_str(), &axis],
                &[&m.graph],
                chunks,
                m.dtype,
                |idx| {
                    let mut src = idx.to_vec();
                    src.remove(axis);
                    Ok(Block::Task(op(spec.clone()), vec![m.key(&src).clone()]))
                },
            )?;
            Ok(Array::wrap(out))
        })
        .collect::<Result<Vec<Array<T>>>>()?;
    concatenate(&expanded, axis)
}

/// A 2-level nested list of arrays assembled like NumPy's `block`: each inner list
/// is joined along the last axis, then the rows along the one before.
pub fn block<T: Elem>(rows: &[Vec<Array<T>>]) -> Result<Array<T>> {
    let joined = rows
        .iter()
        .map(|row| {
            let nd = row.first().map_or(0, Array::ndim);
            if nd < 2 {
                return Err(error::invalid("block needs arrays of at least 2 axes"));
            }
            concatenate(row, nd - 1)
        })
        .collect::<Result<Vec<_>>>()?;
    let nd = joined.first().map_or(0, Array::ndim);
    concatenate(&joined, nd.saturating_sub(2))
}
