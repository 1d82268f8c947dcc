//! Per-chunk kernels of the tree reductions: a chunk becomes a *partial* (reduced
//! axes kept with length one), partials combine pairwise, and the last combine
//! finishes the value.
//!
//! Partials are plain arrays so they travel like any chunk: sums, minima and maxima
//! are arrays of the element type; `any` / `all` are booleans; means and variances
//! are [`Moments`](super::moments::Moments); `argmin` / `argmax` are `float64`
//! arrays with a leading axis of two (value, index).

use super::dtype::{Elem, Num};
use super::kernels::{arith, BinOp};
use crate::error;
use brisk_core::Result;
use ndarray::{ArrayD, ArrayViewD, Axis, Dimension, IxDyn, Zip};
use serde::{Deserialize, Serialize};

/// A reduction along axes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Reduction {
    /// Sum.
    Sum,
    /// Sum ignoring NaN.
    NanSum,
    /// Minimum (NaN propagates).
    Min,
    /// Maximum (NaN propagates).
    Max,
    /// Whether any element is nonzero.
    Any,
    /// Whether all elements are nonzero.
    All,
    /// Mean.
    Mean,
    /// Mean ignoring NaN.
    NanMean,
    /// Variance with `ddof` delta degrees of freedom.
    Var {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Standard deviation with `ddof` delta degrees of freedom.
    Std {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Index of the minimum.
    ArgMin,
    /// Index of the maximum.
    ArgMax,
}

impl Reduction {
    /// Whether the partials are moments (count, mean, M2).
    pub fn is_moments(self) -> bool {
        matches!(
            self,
            Reduction::Mean | Reduction::NanMean | Reduction::Var { .. } | Reduction::Std { .. }
        )
    }

    /// Whether the partials are (value, index) pairs.
    pub fn is_arg(self) -> bool {
        matches!(self, Reduction::ArgMin | Reduction::ArgMax)
    }

    fn skips_nan(self) -> bool {
        matches!(self, Reduction::NanSum | Reduction::NanMean)
    }
}

/// Folds `a` along `axes` keeping them as length-one axes: `f` folds elements into
/// the accumulator, `merge` folds accumulators (for the second and later axes).
pub fn fold_axes<T, B: Clone>(
    a: ArrayViewD<'_, T>,
    axes: &[usize],
    init: B,
    f: impl Fn(&B, &T) -> B,
    merge: impl Fn(&B, &B) -> B,
) -> ArrayD<B> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let Some((&first, rest)) = sorted.split_first() else {
        return a.map(|x| f(&init, x));
    };
    let mut acc = a
        .fold_axis(Axis(first), init.clone(), |b, x| f(b, x))
        .insert_axis(Axis(first));
    for &ax in rest {
        let mut it = acc.axis_iter(Axis(ax));
        let out = match it.next() {
            Some(head) => {
                let mut out = head.to_owned();
                for v in it {
                    Zip::from(&mut out)
                        .and(&v)
                        .for_each(|o, x| *o = merge(o, x));
                }
                out
            }
            // An empty axis folds to the starting value.
            None => {
                let mut shape = acc.shape().to_vec();
                shape.remove(ax);
                ArrayD::from_elem(IxDyn(&shape), init.clone())
            }
        };
        acc = out.insert_axis(Axis(ax));
    }
    acc
}

fn fold_init<T: Num>(r: Reduction) -> T {
    match r {
        Reduction::Min => T::MAX,
        Reduction::Max => T::MIN,
        _ => T::ZERO,
    }
}

fn fold_op(r: Reduction) -> BinOp {
    match r {
        Reduction::Min => BinOp::Minimum,
        Reduction::Max => BinOp::Maximum,
        _ => BinOp::Add,
    }
}

/// The partial of a numeric chunk for sum, nansum, min and max.
pub fn chunk_fold<T: Num>(a: &ArrayD<T>, axes: &[usize], r: Reduction) -> ArrayD<T> {
    let op = fold_op(r);
    let skip = r.skips_nan();
    fold_axes(
        a.view(),
        axes,
        fold_init::<T>(r),
        |&b, &x| {
            if skip && x.is_nan() {
                b
            } else {
                arith(op, b, x)
            }
        },
        |&b, &x| arith(op, b, x),
    )
}

/// The partial of a chunk for any / all.
pub fn chunk_logical<T: Elem>(a: &ArrayD<T>, axes: &[usize], all: bool) -> ArrayD<bool> {
    fold_axes(
        a.view(),
        axes,
        all,
        |&b, &x| {
            let nz = x.to_f64() != 0.0;
            if all {
                b && nz
            } else {
                b || nz
            }
        },
        |&b, &x| if all { b && x } else { b || x },
    )
}

fn check_same<A, B>(a: &ArrayD<A>, b: &ArrayD<B>) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(error::shape(format!(
            "partials of shapes {:?} and {:?} cannot merge",
            a.shape(),
            b.shape()
        )));
    }
    Ok(())
}

/// Merges two folded partials elementwise.
pub fn merge_fold<T: Num>(a: &ArrayD<T>, b: &ArrayD<T>, r: Reduction) -> Result<ArrayD<T>> {
    check_same(a, b)?;
    let op = fold_op(r);
    Ok(Zip::from(a).and(b).map_collect(|&x, &y| arith(op, x, y)))
}

/// Merges two any / all partials.
pub fn merge_logical(a: &ArrayD<bool>, b: &ArrayD<bool>, all: bool) -> Result<ArrayD<bool>> {
    check_same(a, b)?;
    Ok(Zip::from(a)
        .and(b)
        .map_collect(|&x, &y| if all { x && y } else { x || y }))
}

/// Where a chunk lies in the array, for arg reductions: the offsets of its first
/// element and the whole array's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Offset of the chunk along each axis.
    pub offsets: Vec<usize>,
    /// Shape of the whole array.
    pub shape: Vec<usize>,
}

impl Place {
    /// The C-order position in the whole array of position `idx` of the chunk.
    pub fn flat(&self, idx: &[usize]) -> usize {
        let mut flat = 0usize;
        for (k, &i) in idx.iter().enumerate() {
            let dim = self.shape.get(k).copied().unwrap_or(1);
            flat = flat
                .wrapping_mul(dim)
                .wrapping_add(self.offsets.get(k).copied().unwrap_or(0) + i);
        }
        flat
    }
}

#[inline]
fn better(min: bool, v: f64, i: f64, best_v: f64, best_i: f64) -> bool {
    if best_i < 0.0 {
        return true;
    }
    if best_v.is_nan() {
        return best_i > i && v.is_nan();
    }
    if v.is_nan() {
        return true;
    }
    if min {
        v < best_v || (v == best_v && i < best_i)
    } else {
        v > best_v || (v == best_v && i < best_i)
    }
}

/// The (value, index) partial of a chunk for argmin / argmax along `axis`, or over
/// the flattened array when `axis` is `None`.
pub fn chunk_arg<T: Elem>(
    a: &ArrayD<T>,
    axis: Option<usize>,
    min: bool,
    place: &Place,
) -> Result<ArrayD<f64>> {
    let keep_shape: Vec<usize> = match axis {
        Some(ax) => {
            let mut s = a.shape().to_vec();
            *s.get_mut(ax)
                .ok_or_else(|| error::malformed(format!("no axis {ax}")))? = 1;
            s
        }
        None => vec![1; a.ndim()],
    };
    let mut out = ArrayD::from_elem(IxDyn(&[&[2], keep_shape.as_slice()].concat()), -1.0);
    match axis {
        Some(ax) => {
            let off = place.offsets.get(ax).copied().unwrap_or(0);
            let best = Zip::from(a.lanes(Axis(ax))).map_collect(|lane| {
                let (mut bv, mut bi) = (f64::NAN, -1.0);
                for (i, &x) in lane.iter().enumerate() {
                    let (v, i) = (x.to_f64(), (off + i) as f64);
                    if better(min, v, i, bv, bi) {
                        (bv, bi) = (v, i);
                    }
                }
                (bv, bi)
            });
            let best = best.insert_axis(Axis(ax));
            out.index_axis_mut(Axis(0), 0)
                .assign(&best.mapv(|(v, _)| v));
            out.index_axis_mut(Axis(0), 1)
                .assign(&best.mapv(|(_, i)| i));
        }
        None => {
            let (mut bv, mut bi) = (f64::NAN, -1.0);
            for (idx, &x) in a.indexed_iter() {
                let flat = place.flat(idx.slice());
                let (v, i) = (x.to_f64(), flat as f64);
                if better(min, v, i, bv, bi) {
                    (bv, bi) = (v, i);
                }
            }
            out.index_axis_mut(Axis(0), 0).fill(bv);
            out.index_axis_mut(Axis(0), 1).fill(bi);
        }
    }
    Ok(out)
}

/// Merges two (value, index) partials.
pub fn merge_arg(a: &ArrayD<f64>, b: &ArrayD<f64>, min: bool) -> Result<ArrayD<f64>> {
    check_same(a, b)?;
    if a.ndim() == 0 || a.shape()[0] != 2 {
        return Err(error::malformed("an arg partial needs a leading axis of 2"));
    }
    let mut out = a.clone();
    let (bv, bi) = (b.index_axis(Axis(0), 0), b.index_axis(Axis(0), 1));
    let mut it = out.axis_iter_mut(Axis(0));
    let (Some(mut ov), Some(mut oi)) = (it.next(), it.next()) else {
        return Err(error::malformed("an arg partial needs a leading axis of 2"));
    };
    Zip::from(&mut ov)
        .and(&mut oi)
        .and(&bv)
        .and(&bi)
        .for_each(|ov, oi, &v, &i| {
            if i >= 0.0 && better(min, v, i, *ov, *oi) {
                (*ov, *oi) = (v, i);
            }
        });
    Ok(out)
}

/// The indices of a (value, index) partial.
pub fn finish_arg(p: &ArrayD<f64>) -> Result<ArrayD<i64>> {
    if p.ndim() == 0 || p.shape()[0] != 2 {
        return Err(error::malformed("an arg partial needs a leading axis of 2"));
    }
    let idx = p.index_axis(Axis(0), 1);
    if idx.iter().any(|&i| i < 0.0) {
        return Err(error::invalid(
            "attempt to get argmin/argmax of an empty sequence",
        ));
    }
    Ok(idx.mapv(|i| i as i64))
}

/// Drops the reduced (length-one) axes of a finished value unless `keepdims`.
pub fn squeeze<T>(a: ArrayD<T>, axes: &[usize], keepdims: bool) -> ArrayD<T> {
    if keepdims {
        return a;
    }
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut a = a;
    for &ax in sorted.iter().rev() {
        if ax < a.ndim() {
            a = a.index_axis_move(Axis(ax), 0);
        }
    }
    a
}
