//! Chunk arithmetic along one axis, kept apart from graph building so that it can be
//! tested on plain numbers: block offsets, which blocks a slice touches, the
//! overlaps of two chunkings (rechunk), and "auto" chunk sizes.

use crate::error;
use brisk_core::Result;

/// The chunk sizes of an array along one axis.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AxisChunks {
    /// The size of each block.
    Known(Vec<usize>),
    /// `n` blocks whose sizes are not known until computed (after a boolean mask).
    Unknown(usize),
}

impl AxisChunks {
    /// Number of blocks.
    pub fn nblocks(&self) -> usize {
        match self {
            AxisChunks::Known(s) => s.len(),
            AxisChunks::Unknown(n) => *n,
        }
    }

    /// The length of the axis, when known.
    pub fn size(&self) -> Option<usize> {
        self.sizes().map(|s| s.iter().sum())
    }

    /// The block sizes, when known.
    pub fn sizes(&self) -> Option<&[usize]> {
        match self {
            AxisChunks::Known(s) => Some(s),
            AxisChunks::Unknown(_) => None,
        }
    }

    /// The block sizes, or an error saying that `what` needs them known.
    pub(crate) fn known(&self, what: &str) -> Result<&[usize]> {
        self.sizes().ok_or_else(|| {
            crate::Error::UnknownChunkSizes {
                what: what.to_string(),
            }
            .into()
        })
    }
}

/// Blocks of at most `chunk` (≥ 1) elements covering `size`: all full but the last.
pub fn regular(size: usize, chunk: usize) -> Vec<usize> {
    let chunk = chunk.max(1);
    let mut out = vec![chunk; size / chunk];
    if size % chunk != 0 || size == 0 {
        out.push(size % chunk);
    }
    out
}

/// The start offset of every block, and the total as a last element.
pub fn offsets(sizes: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(sizes.len() + 1);
    let mut at = 0;
    out.push(0);
    for s in sizes {
        at += s;
        out.push(at);
    }
    out
}

/// A normalised slice of an axis of length `len`: the selected positions are
/// `start, start + step, ...` (`len_out` of them); `step` may be negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stepped {
    /// First selected position.
    pub start: usize,
    /// Step between positions (never 0).
    pub step: isize,
    /// How many positions.
    pub len_out: usize,
}

/// Python's slice semantics for `start:stop:step` on a length-`len` axis (negative
/// bounds count from the end; out-of-range bounds are clipped).
pub fn normalize_slice(
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
    len: usize,
) -> Result<Stepped> {
    if step == 0 {
        return Err(error::invalid("slice step cannot be zero"));
    }
    let n = len as isize;
    let clip = |v: isize, lo: isize, hi: isize| v.clamp(lo, hi);
    let resolve = |v: isize| if v < 0 { v + n } else { v };
    let (start, stop) = if step > 0 {
        (
            start.map_or(0, |v| clip(resolve(v), 0, n)),
            stop.map_or(n, |v| clip(resolve(v), 0, n)),
        )
    } else {
        (
            start.map_or(n - 1, |v| clip(resolve(v), -1, n - 1)),
            stop.map_or(-1, |v| clip(resolve(v), -1, n - 1)),
        )
    };
    let len_out = if step > 0 {
        if stop > start {
            ((stop - start - 1) / step + 1) as usize
        } else {
            0
        }
    } else if start > stop {
        (start - stop - 1) as usize / step.unsigned_abs() + 1
    } else {
        0
    };
    Ok(Stepped {
        start: start.max(0) as usize,
        step,
        len_out,
    })
}

/// The part of one input block a slice selects: block `block`, positions
/// `start, start + step, ...` (local to the block), `len` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// The input block.
    pub block: usize,
    /// First local position.
    pub start: usize,
    /// Step (negative for reversed slices).
    pub step: isize,
    /// Number of positions.
    pub len: usize,
}

/// For a slice of an axis chunked as `sizes`, one [`Piece`] per block it touches,
/// in output order. Each becomes one output block, so the output chunks follow the
/// input's (an empty selection gives one empty piece of the first block).
pub fn slice_pieces(sizes: &[usize], s: Stepped) -> Vec<Piece> {
    let off = offsets(sizes);
    let mut out: Vec<Piece> = Vec::new();
    let mut i = 0usize;
    while i < s.len_out {
        let pos = if s.step > 0 {
            s.start + i * s.step.unsigned_abs()
        } else {
            s.start - i * s.step.unsigned_abs()
        };
        // The block holding `pos`.
        let block = off.partition_point(|&o| o <= pos) - 1;
        let (lo, hi) = (off[block], off[block + 1]);
        // How many of the remaining positions fall in this block.
        let fit = if s.step > 0 {
            (hi - 1 - pos) / s.step as usize + 1
        } else {
            (pos - lo) / s.step.unsigned_abs() + 1
        };
        let len = fit.min(s.len_out - i);
        out.push(Piece {
            block,
            start: pos - lo,
            step: s.step,
            len,
        });
        i += len;
    }
    if out.is_empty() {
        out.push(Piece {
            block: 0,
            start: 0,
            step: 1,
            len: 0,
        });
    }
    out
}

/// One source of an output block in a rechunk: input block `block`, its local
/// positions `src_start..src_start + len`, written at `dst_start` of the output block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// The input block.
    pub block: usize,
    /// Start inside the input block.
    pub src_start: usize,
    /// Start inside the output block.
    pub dst_start: usize,
    /// Length.
    pub len: usize,
}

/// For every block of chunking `new`, the parts of the blocks of `old` that make it
/// (both chunkings of the same length).
pub fn overlaps(old: &[usize], new: &[usize]) -> Vec<Vec<Overlap>> {
    let old_off = offsets(old);
    let mut out = Vec::with_capacity(new.len());
    let mut at = 0usize;
    for &n in new {
        let (lo, hi) = (at, at + n);
        let mut parts = Vec::new();
        let mut b = old_off.partition_point(|&o| o <= lo).saturating_sub(1);
        while b < old.len() && old_off[b] < hi {
            let s = lo.max(old_off[b]);
            let e = hi.min(old_off[b + 1]);
            if e > s {
                parts.push(Overlap {
                    block: b,
                    src_start: s - old_off[b],
                    dst_start: s - lo,
                    len: e - s,
                });
            }
            b += 1;
        }
        if parts.is_empty() {
            parts.push(Overlap {
                block: b.min(old.len().saturating_sub(1)),
                src_start: 0,
                dst_start: 0,
                len: 0,
            });
        }
        out.push(parts);
        at = hi;
    }
    out
}

/// The coarsest chunking finer than both `a` and `b` (the union of their
/// boundaries), as Dask's `unify_chunks`.
pub fn common_refinement(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut bounds: Vec<usize> = offsets(a).into_iter().chain(offsets(b)).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let out: Vec<usize> = bounds.windows(2).map(|w| w[1] - w[0]).collect();
    if out.is_empty() {
        vec![0]
    } else {
        out
    }
}

/// "auto" chunks: blocks of about `target_bytes`, keeping the previous chunk size
/// along axes listed in `keep`, and as near-cubic as the shape allows elsewhere.
pub fn auto(
    shape: &[usize],
    itemsize: usize,
    target_bytes: usize,
    keep: &[Option<usize>],
) -> Vec<Vec<usize>> {
    let target = (target_bytes / itemsize.max(1)).max(1) as f64;
    let mut chunk: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            keep.get(i)
                .copied()
                .flatten()
                .unwrap_or(d)
                .clamp(1, d.max(1))
        })
        .collect();
    let free: Vec<usize> = (0..shape.len())
        .filter(|&i| keep.get(i).copied().flatten().is_none())
        .collect();
    let fixed: f64 = (0..shape.len())
        .filter(|i| !free.contains(i))
        .map(|i| chunk[i] as f64)
        .product();
    // Shrink the largest free axis until the block fits the target.
    let budget = (target / fixed.max(1.0)).max(1.0);
    let mut size: f64 = free.iter().map(|&i| chunk[i] as f64).product();
    while size > budget {
        let Some(&i) = free.iter().max_by_key(|&&i| chunk[i]) else {
            break;
        };
        if chunk[i] <= 1 {
            break;
        }
        let want = (chunk[i] as f64 * budget / size).floor().max(1.0) as usize;
        let next = want.max(chunk[i] / 2).min(chunk[i] - 1).max(1);
        size = size / chunk[i] as f64 * next as f64;
        chunk[i] = next;
    }
    shape
        .iter()
        .zip(chunk)
        .map(|(&d, c)| regular(d, c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(sizes: &[usize], s: Stepped) -> Vec<usize> {
        let off = offsets(sizes);
        let mut out = Vec::new();
        for p in slice_pieces(sizes, s) {
            out.extend(
                (0..p.len)
                    .map(|k| (p.start as isize + k as isize * p.step) as usize + off[p.block]),
            );
        }
        out
    }

    #[test]
    fn slices_follow_python_semantics() {
        let all: Vec<isize> = (0..10).collect();
        let cases: &[(Option<isize>, Option<isize>, isize)] = &[
            (None, None, 1),
            (Some(2), Some(7), 1),
            (Some(-3), None, 1),
            (None, None, -1),
            (Some(8), Some(1), -3),
            (Some(1), Some(9), 4),
            (Some(5), Some(2), 1),
            (Some(-100), Some(100), 3),
            (None, Some(-100), -1),
        ];
        for &(a, b, step) in cases {
            let s = normalize_slice(a, b, step, 10).unwrap();
            // Hand-written Python slicing.
            let n = 10isize;
            let res =
                |v: isize, lo: isize, hi: isize| (if v < 0 { v + n } else { v }).clamp(lo, hi);
            let mut want = Vec::new();
            if step > 0 {
                let (mut i, e) = (a.map_or(0, |v| res(v, 0, n)), b.map_or(n, |v| res(v, 0, n)));
                while i < e {
                    want.push(all[i as usize] as usize);
                    i += step;
                }
            } else {
                let (mut i, e) = (
                    a.map_or(n - 1, |v| res(v, -1, n - 1)),
                    b.map_or(-1, |v| res(v, -1, n - 1)),
                );
                while i > e {
                    want.push(all[i as usize] as usize);
                    i += step;
                }
            }
            assert_eq!(positions(&[3, 3, 3, 1], s), want, "{a:?}:{b:?}:{step}");
            assert_eq!(s.len_out, want.len());
        }
    }

    #[test]
    fn a_slice_gives_one_piece_per_block_it_touches() {
        let s = normalize_slice(Some(2), Some(8), 1, 10).unwrap();
        let p = slice_pieces(&[4, 4, 2], s);
        assert_eq!(
            p,
            [
                Piece {
                    block: 0,
                    start: 2,
                    step: 1,
                    len: 2
                },
                Piece {
                    block: 1,
                    start: 0,
                    step: 1,
                    len: 4
                }
            ]
        );
    }

    #[test]
    fn overlaps_cover_every_new_block_exactly() {
        let old = [3, 3, 1];
        let new = [2, 5];
        let o = overlaps(&old, &new);
        assert_eq!(
            o[1],
            [
                Overlap {
                    block: 0,
                    src_start: 2,
                    dst_start: 0,
                    len: 1
                },
                Overlap {
                    block: 1,
                    src_start: 0,
                    dst_start: 1,
                    len: 3
                },
                Overlap {
                    block: 2,
                    src_start: 0,
                    dst_start: 4,
                    len: 1
                }
            ]
        );
        assert_eq!(common_refinement(&[3, 3, 1], &[2, 5]), [2, 1, 3, 1]);
    }

    #[test]
    fn regular_and_auto_chunks() {
        assert_eq!(regular(10, 4), [4, 4, 2]);
        assert_eq!(regular(8, 4), [4, 4]);
        assert_eq!(regular(0, 4), [0]);
        let c = auto(&[1000, 1000], 8, 800_000, &[None, None]);
        let biggest = c[0][0] * c[1][0] * 8;
        assert!(biggest <= 800_000 && biggest > 100_000, "{c:?}");
        let kept = auto(&[100, 1000, 1000], 4, 4_000_000, &[Some(1), None, None]);
        assert_eq!(kept[0], vec![1; 100]);
        assert!(kept[1][0] * kept[2][0] * 4 <= 4_000_000);
    }
}
