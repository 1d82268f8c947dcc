//! Indexing: integers, slices with steps and negative bounds, new axes and integer
//! lists (one task per output block, reading only the blocks it needs), and
//! boolean masks (a 1-D result with unknown chunk sizes).

use super::array::Array;
use super::chunks::{normalize_slice, regular, slice_pieces, AxisChunks};
use super::dtype::Elem;
use super::kernels::Sel;
use super::meta::{op, spec_bytes, Block, Meta};
use super::ops::{Masked, Select, Take};
use crate::error;
use crate::layers::TokenizeDyn;
use brisk_core::token::Bytes;
use brisk_core::{Key, Result};

/// One entry of an index, as in NumPy's `x[...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ix {
    /// One position (negative counts from the end); the axis is dropped.
    Int(isize),
    /// `start:stop:step`, each optional but the step.
    Slice {
        /// First position (default: the start, or the end for negative steps).
        start: Option<isize>,
        /// Position after the last (default: the end, or before the start).
        stop: Option<isize>,
        /// Step, nonzero.
        step: isize,
    },
    /// A new axis of length one (`np.newaxis`).
    NewAxis,
    /// Positions along the axis, in any order, repeats allowed.
    List(Vec<isize>),
}

impl Ix {
    /// `i`
    pub fn i(i: isize) -> Ix {
        Ix::Int(i)
    }
    /// `:`
    pub fn all() -> Ix {
        Ix::Slice {
            start: None,
            stop: None,
            step: 1,
        }
    }
    /// `start:stop`
    pub fn r(start: isize, stop: isize) -> Ix {
        Ix::Slice {
            start: Some(start),
            stop: Some(stop),
            step: 1,
        }
    }
    /// `start:stop:step` with optional bounds.
    pub fn s(start: Option<isize>, stop: Option<isize>, step: isize) -> Ix {
        Ix::Slice { start, stop, step }
    }
    /// `np.newaxis`
    pub fn new_axis() -> Ix {
        Ix::NewAxis
    }
    /// `[i, j, ...]`
    pub fn list(positions: impl IntoIterator<Item = isize>) -> Ix {
        Ix::List(positions.into_iter().collect())
    }
}

/// Per input axis of a basic index: the output pieces (input block, selection).
enum AxisPlan {
    /// The axis is kept: one output block per piece.
    Keep(Vec<(usize, Sel)>),
    /// The axis is dropped: one position of one block.
    Drop(usize, Sel),
}

fn basic(m: &Meta, index: &[Ix]) -> Result<Meta> {
    let ndim = m.ndim();
    let used = index.iter().filter(|i| !matches!(i, Ix::NewAxis)).count();
    if used > ndim {
        return Err(error::invalid(format!(
            "too many indices: {used} for an array of {ndim} axes"
        )));
    }
    let mut full: Vec<Ix> = index.to_vec();
    full.extend((used..ndim).map(|_| Ix::all()));
    // Plans per input axis, and the output layout (input axis or new axis).
    let mut plans: Vec<AxisPlan> = Vec::with_capacity(ndim);
    let mut layout: Vec<Option<usize>> = Vec::new();
    let mut ax = 0usize;
    for ix in &full {
        match ix {
            Ix::NewAxis => layout.push(None),
            Ix::Int(i) => {
                let sizes = m.chunks[ax].known("integer indexing")?;
                let n: usize = sizes.iter().sum();
                let pos = if *i < 0 { *i + n as isize } else { *i };
                if pos < 0 || pos as usize >= n {
                    return Err(crate::Error::IndexOutOfBounds {
                        index: *i as i64,
                        axis: ax,
                        size: n,
                    }
                    .into());
                }
                let s = normalize_slice(Some(pos), Some(pos + 1), 1, n)?;
                let p = slice_pieces(sizes, s)[0];
                plans.push(AxisPlan::Drop(p.block, Sel::Index(p.start)));
                ax += 1;
            }
            Ix::Slice { start, stop, step } => {
                let is_all = start.is_none() && stop.is_none() && *step == 1;
                match (&m.chunks[ax], is_all) {
                    (AxisChunks::Unknown(nb), true) => {
                        // Whole blocks of unknown size.
                        plans.push(AxisPlan::Keep(
                            (0..*nb)
                                .map(|b| {
                                    (
                                        b,
                                        Sel::Range {
                                            start: 0,
                                            step: 1,
                                            len: usize::MAX,
                                        },
                                    )
                                })
                                .collect(),
                        ));
                    }
                    (c, _) => {
                        let sizes = c.known("slicing")?;
                        let n: usize = sizes.iter().sum();
                        let s = normalize_slice(*start, *stop, *step, n)?;
                        let pieces = slice_pieces(sizes, s);
                        plans.push(AxisPlan::Keep(
                            pieces
                                .iter()
                                .map(|p| {
                                    (
                                        p.block,
                                        Sel::Range {
                                            start: p.start,
                                            step: p.step,
                                            len: p.len,
                                        },
                                    )
                                })
                                .collect(),
                        ));
                    }
                }
                layout.push(Some(ax));
                ax += 1;
            }
            Ix::List(_) => return Err(error::malformed("an integer list in a basic index")),
        }
    }
    // Output chunks.
    let chunks: Vec<AxisChunks> = layout
        .iter()
        .map(|l| match l {
            None => AxisChunks::Known(vec![1]),
            Some(a) => match (&plans[*a], &m.chunks[*a]) {
                (AxisPlan::Keep(_), AxisChunks::Unknown(nb)) => AxisChunks::Unknown(*nb),
                (AxisPlan::Keep(p), _) => AxisChunks::Known(
                    p.iter()
                        .map(|(_, s)| {
                            if let Sel::Range { len, .. } = s {
                                *len
                            } else {
                                1
                            }
                        })
                        .collect(),
                ),
                (AxisPlan::Drop(..), _) => AxisChunks::Known(vec![1]),
            },
        })
        .collect();
    let tag = format!("{index:?}");
    Meta::build(
        "getitem",
        &[&m.name.as_str(), &tag],
        &[&m.graph],
        chunks,
        m.dtype,
        |out| {
            // The input block and the per-axis selections, walking the layout.
            let mut block = vec![0usize; ndim];
            let mut sels: Vec<Sel> = Vec::new();
            let mut whole = true;
            let mut in_ax = 0usize;
            let mut o = 0usize;
            for ix in &full {
                match ix {
                    Ix::NewAxis => {
                        sels.push(Sel::NewAxis);
                        whole = false;
                        o += 1;
                    }
                    _ => {
                        match &plans[in_ax] {
                            AxisPlan::Drop(b, s) => {
                                block[in_ax] = *b;
                                sels.push(*s);
                                whole = false;
                            }
                            AxisPlan::Keep(p) => {
                                let (b, s) = p[out[o]];
                                block[in_ax] = b;
                                let size = m.chunks[in_ax].sizes().map(|z| z[b]);
                                match (s, size) {
                                    (
                                        Sel::Range {
                                            len: usize::MAX, ..
                                        },
                                        _,
                                    ) => sels.push(s),
                                    (
                                        Sel::Range {
                                            start: 0,
                                            step: 1,
                                            len,
                                        },
                                        Some(z),
                                    ) if len == z => sels.push(s),
                                    _ => {
                                        sels.push(s);
                                        whole = false;
                                    }
                                }
                                o += 1;
                            }
                        }
                        in_ax += 1;
                    }
                }
            }
            let input = m.key(&block).clone();
            if whole {
                return Ok(Block::Alias(input));
            }
            Ok(Block::Task(
                op(Select {
                    dtype: m.dtype,
                    sel: sels,
                }),
                vec![input],
            ))
        },
    )
}

/// A basic index of `m`, pushed through the elementwise op that made `m` when
/// there is one.
pub(crate) fn basic_or_pushed(m: &Meta, index: &[Ix]) -> Result<Meta> {
    match push_index(m, index)? {
        Some(pushed) => Ok(pushed),
        None => basic(m, index),
    }
}

/// `index` applied to the inputs of the elementwise op that made `m`, and the op
/// applied again: the same values as indexing `m`, computing only what the index
/// keeps. `None` when the index cannot be pushed (new axes, lists).
fn push_index(m: &Meta, index: &[Ix]) -> Result<Option<Meta>> {
    let Some(o) = &m.origin else { return Ok(None) };
    if index.iter().any(|i| matches!(i, Ix::NewAxis | Ix::List(_))) || index.len() > m.ndim() {
        return Ok(None);
    }
    let ndim = m.ndim();
    let dims = m.dims();
    let mut full = index.to_vec();
    full.extend((index.len()..ndim).map(|_| Ix::all()));
    let mut indexed = Vec::with_capacity(o.inputs.len());
    for input in &o.inputs {
        let pad = ndim - input.ndim();
        let mut ix = Vec::with_capacity(input.ndim());
        for (k, entry) in full.iter().enumerate().skip(pad) {
            let size = input.chunks[k - pad].size();
            let broadcast = size == Some(1) && dims[k] != Some(1);
            ix.push(match (entry, broadcast) {
                (Ix::Int(_), true) => Ix::Int(0),
                (_, true) => Ix::all(),
                (e, false) => e.clone(),
            });
        }
        indexed.push(basic_or_pushed(input, &ix)?);
    }
    let refs: Vec<&Meta> = indexed.iter().collect();
    o.remake(&refs, m.dtype).map(Some)
}

fn take(m: &Meta, axis: usize, positions: &[isize]) -> Result<Meta> {
    let sizes = m.chunks[axis].known("integer-list indexing")?.to_vec();
    let n: usize = sizes.iter().sum();
    let offs = super::chunks::offsets(&sizes);
    let resolved = positions
        .iter()
        .map(|&p| {
            let q = if p < 0 { p + n as isize } else { p };
            if q < 0 || q as usize >= n {
                Err(crate::Error::IndexOutOfBounds {
                    index: p as i64,
                    axis,
                    size: n,
                }
                .into())
            } else {
                let q = q as usize;
                let b = offs.partition_point(|&o| o <= q) - 1;
                Ok((b, q - offs[b]))
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let per_block = sizes.iter().copied().max().unwrap_or(1).max(1);
    let out_sizes = regular(resolved.len(), per_block);
    let mut chunks = m.chunks.clone();
    chunks[axis] = AxisChunks::Known(out_sizes.clone());
    let out_offs = super::chunks::offsets(&out_sizes);
    let params = spec_bytes(&positions)?;
    Meta::build(
        "take",
        &[&m.name.as_str(), &axis, &Bytes(&params) as &dyn TokenizeDyn],
        &[&m.graph],
        chunks,
        m.dtype,
        |idx| {
            let j = idx[axis];
            let picks_global = &resolved[out_offs[j]..out_offs[j + 1]];
            let mut blocks: Vec<usize> = Vec::new();
            let mut picks = Vec::with_capacity(picks_global.len());
            for &(b, local) in picks_global {
                let slot = match blocks.iter().position(|&x| x == b) {
                    Some(s) => s,
                    None => {
                        blocks.push(b);
                        blocks.len() - 1
                    }
                };
                picks.push((slot, local));
            }
            if blocks.is_empty() {
                blocks.push(0);
            }
            let inputs: Vec<Key> = blocks
                .iter()
                .map(|&b| {
                    let mut i = idx.to_vec();
                    i[axis] = b;
                    m.key(&i).clone()
                })
                .collect();
            Ok(Block::Task(
                op(Take {
                    dtype: m.dtype,
                    axis,
                    picks,
                }),
                inputs,
            ))
        },
    )
}

impl<T: Elem> Array<T> {
    /// `x[index]`: integers drop their axis, slices keep it (with the input's chunk
    /// boundaries), new axes add one, and one integer list per index picks
    /// positions along its axis. Only the blocks the index touches are read.
    pub fn get(&self, index: &[Ix]) -> Result<Array<T>> {
        let lists: Vec<usize> = index
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, Ix::List(_)))
            .map(|(k, _)| k)
            .collect();
        match lists.as_slice() {
            [] => Ok(Array::wrap(basic_or_pushed(&self.meta, index)?)),
            [k] => {
                // The list's axis in the result of the basic part: count the entries
                // before it that keep or add an axis.
                let Ix::List(positions) = &index[*k] else {
                    unreachable!()
                };
                let mut rest = index.to_vec();
                rest[*k] = Ix::all();
                let b = basic(&self.meta, &rest)?;
                let axis = index[..*k]
                    .iter()
                    .filter(|i| !matches!(i, Ix::Int(_)))
                    .count();
                Ok(Array::wrap(take(&b, axis, positions)?))
            }
            _ => Err(error::invalid(
                "only one integer list per index is supported",
            )),
        }
    }

    /// `x[i]`: the sub-array at position `i` of the first axis.
    pub fn index(&self, i: isize) -> Result<Array<T>> {
        self.get(&[Ix::Int(i)])
    }

    /// `x[mask]` for a boolean mask of the same shape: the selected elements in C
    /// order, as a 1-D array whose chunk sizes are unknown until computed.
    pub fn mask(&self, mask: &Array<bool>) -> Result<Array<T>> {
        if self.dims() != mask.dims() {
            return Err(error::shape(format!(
                "a boolean mask of shape {:?} cannot index an array of shape {:?}",
                mask.dims(),
                self.dims()
            )));
        }
        // C order across blocks needs every axis but the first in one block.
        let mut want: Vec<AxisChunks> = self.meta.chunks.clone();
        for c in want.iter_mut().skip(1) {
            let n = c.known("boolean masking")?.iter().sum();
            *c = AxisChunks::Known(vec![n]);
        }
        let x = if want == self.meta.chunks {
            self.meta.clone()
        } else {
            super::shape::rechunk_meta(&self.meta, &want)?
        };
        let mk = if want == mask.meta.chunks {
            mask.meta.clone()
        } else {
            super::shape::rechunk_meta(&mask.meta, &want)?
        };
        let rows = x.chunks.first().map_or(1, AxisChunks::nblocks);
        let chunks = vec![AxisChunks::Unknown(rows)];
        let dtype = x.dtype;
        let m = Meta::build(
            "mask",
            &[&x.name.as_str(), &mk.name.as_str()],
            &[&x.graph, &mk.graph],
            chunks,
            dtype,
            |idx| {
                let mut i = vec![0; x.ndim()];
                if let Some(first) = i.first_mut() {
                    *first = idx[0];
                }
                Ok(Block::Task(
                    op(Masked { dtype }),
                    vec![x.key(&i).clone(), mk.key(&i).clone()],
                ))
            },
        )?;
        Ok(Array::wrap(m))
    }
}
