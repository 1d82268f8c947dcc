//! Per-chunk kernels of the tree reductions: a chunk becomes a *partial* (reduced
//! axes kept with length one), partials combine pairwise, and the last combine
//! finishes the value.
//!
//! Partials are plain arrays so they travel like any chunk: sums and products are
//! arrays of the accumulating type (`i64` / `u64` for integers, as NumPy's), minima
//! and maxima of the element type; `any` / `all` are booleans; means and variances
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
    /// Product.
    Prod,
    /// Product ignoring NaN.
    NanProd,
    /// Minimum (NaN propagates).
    Min,
    /// Maximum (NaN propagates).
    Max,
    /// Minimum ignoring NaN (NaN where every element is NaN, as NumPy's).
    NanMin,
    /// Maximum ignoring NaN.
    NanMax,
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
    /// Variance ignoring NaN.
    NanVar {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Standard deviation ignoring NaN.
    NanStd {
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
            Reduction::Mean
                | Reduction::NanMean
                | Reduction::Var { .. }
                | Reduction::Std { .. }
                | Reduction::NanVar { .. }
                | Reduction::NanStd { .. }
        )
    }

    /// Whether the result is in the accumulating type (sums and products).
    pub fn accumulates(self) -> bool {
        matches!(
            self,
            Reduction::Sum | Reduction::NanSum | Reduction::Prod | Reduction::NanProd
        )
    }

    /// Whether the result is a minimum or maximum, in the element type.
    pub fn is_extreme(self) -> bool {
        matches!(
            self,
            Reduction::Min | Reduction::Max | Reduction::NanMin | Reduction::NanMax
        )
    }

    /// Whether the partials are (value, index) pairs.
    pub fn is_arg(self) -> bool {
        matches!(self, Reduction::ArgMin | Reduction::ArgMax)
    }

    /// Whether NaN elements are skipped.
    pub fn skips_nan(self) -> bool {
        matches!(
            self,
            Reduction::NanSum
                | Reduction::NanProd
                | Reduction::NanMin
                | Reduction::NanMax
                | Reduction::NanMean
                | Reduction::NanVar { .. }
                | Reduction::NanStd { .. }
        )
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

fn fold_init<A: Num>(r: Reduction) -> A {
    match r {
        Reduction::Min => A::MAX,
        Reduction::Max => A::MIN,
        // A slice of only NaN stays NaN.
        Reduction::NanMin => A::nan().unwrap_or(A::MAX),
        Reduction::NanMax => A::nan().unwrap_or(A::MIN),
        Reduction::Prod | Reduction::NanProd => A::ONE,
        _ => A::ZERO,
    }
}

fn fold_op(r: Reduction) -> BinOp {
    match r {
        Reduction::Min | Reduction::NanMin => BinOp::Minimum,
        Reduction::Max | Reduction::NanMax => BinOp::Maximum,
        Reduction::Prod | Reduction::NanProd => BinOp::Mul,
        _ => BinOp::Add,
    }
}

/// Folds one more value into an accumulator (or a partial into another): the
/// NaN-skipping minimum and maximum take the other side of a NaN.
#[inline]
fn step<A: Num>(r: Reduction, op: BinOp, b: A, x: A) -> A {
    if matches!(r, Reduction::NanMin | Reduction::NanMax) {
        if x.is_nan() {
            return b;
        }
        if b.is_nan() {
            return x;
        }
    }
    arith(op, b, x)
}

/// The partial of a numeric chunk for sums, products, minima and maxima: each
/// element goes through `widen` first (to the accumulating type for sums and
/// products, unchanged for minima and maxima).
pub fn chunk_fold<T: Num, A: Num>(
    a: &ArrayD<T>,
    axes: &[usize],
    r: Reduction,
    widen: impl Fn(T) -> A,
) -> ArrayD<A> {
    let op = fold_op(r);
    let skip = r.skips_nan();
    if r == Reduction::Sum && axes.len() == a.ndim() {
        if let Some(xs) = a.as_slice() {
            return ArrayD::from_elem(IxDyn(&vec![1; a.ndim()]), sum_lanes(xs, widen));
        }
    }
    fold_axes(
        a.view(),
        axes,
        fold_init::<A>(r),
        |&b, &x| {
            if skip && x.is_nan() {
                b
            } else {
                step(r, op, b, widen(x))
            }
        },
        |&b, &x| step(r, op, b, x),
    )
}

/// The sum of a contiguous chunk, in eight lanes that the compiler turns into
/// vector instructions (a single running total cannot be, for floats).
fn sum_lanes<T: Copy, A: Num>(xs: &[T], widen: impl Fn(T) -> A) -> A {
    const LANES: usize = 8;
    let mut lanes = [A::ZERO; LANES];
    let mut blocks = xs.chunks_exact(LANES);
    for block in &mut blocks {
        for (lane, &x) in lanes.iter_mut().zip(block) {
            *lane = lane.add(widen(x));
        }
    }
    let mut total = A::ZERO;
    for lane in lanes {
        total = total.add(lane);
    }
    for &x in blocks.remainder() {
        total = total.add(widen(x));
    }
    total
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
pub fn merge_fold<A: Num>(a: &ArrayD<A>, b: &ArrayD<A>, r: Reduction) -> Result<ArrayD<A>> {
    check_same(a, b)?;
    let op = fold_op(r);
    Ok(Zip::from(a).and(b).map_collect(|&x, &y| step(r, op, x, y)))
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
