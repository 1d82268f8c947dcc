//! Per-chunk kernels: what one task does to its input chunks. Nothing here builds
//! graphs; [`super::ops`] wraps each kernel as a registered op.

use super::dtype::{DType, Elem, Num};
use crate::error;
use brisk_core::Result;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, SliceInfo, SliceInfoElem, Zip};
use serde::{Deserialize, Serialize};

/// A binary elementwise operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a ** b`
    Pow,
    /// Elementwise minimum (NumPy's `minimum`).
    Minimum,
    /// Elementwise maximum (NumPy's `maximum`).
    Maximum,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a & b` (booleans)
    And,
    /// `a | b` (booleans)
    Or,
    /// `a ^ b` (booleans)
    Xor,
}

impl BinOp {
    /// Whether the result is boolean whatever the inputs.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        )
    }

    /// Whether the operation is logical (boolean inputs and result).
    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or | BinOp::Xor)
    }
}

/// A one-input elementwise function.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Unary {
    /// `-x`
    Neg,
    /// `|x|`
    Abs,
    /// Square root.
    Sqrt,
    /// `e^x`
    Exp,
    /// Natural logarithm.
    Log,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Logical not (booleans).
    Not,
    /// Whether the element is NaN.
    IsNan,
    /// Clamped to `[lo, hi]`.
    Clip {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Converted to another element type.
    AsType(DType),
    /// A binary operation with a scalar (`scalar op x` when `scalar_left`).
    Scalar {
        /// The operation.
        op: BinOp,
        /// The scalar.
        value: f64,
        /// Whether the scalar is the left operand.
        scalar_left: bool,
    },
}

#[inline]
pub(crate) fn arith<T: Num>(op: BinOp, a: T, b: T) -> T {
    match op {
        BinOp::Add => a.add(b),
        BinOp::Sub => a.sub(b),
        BinOp::Mul => a.mul(b),
        BinOp::Div => a.div(b),
        BinOp::Pow => a.pow(b),
        BinOp::Minimum => {
            if a.is_nan() || a <= b {
                a
            } else {
                b
            }
        }
        BinOp::Maximum => {
            if a.is_nan() || a >= b {
                a
            } else {
                b
            }
        }
        // Not reached: the graph builder only sends arithmetic here.
        _ => a,
    }
}

#[inline]
pub(crate) fn compare<T: Elem>(op: BinOp, a: T, b: T) -> bool {
    match op {
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        BinOp::Ge => a >= b,
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        _ => false,
    }
}

#[inline]
pub(crate) fn logical(op: BinOp, a: bool, b: bool) -> bool {
    match op {
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        _ => false,
    }
}

/// The shape two shapes broadcast to (NumPy's rules), or an error naming both.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], i: usize| {
        let pad = n - s.len();
        if i < pad {
            1
        } else {
            s[i - pad]
        }
    };
    (0..n)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            (x, y) => Err(error::shape(format!(
                "shapes {a:?} and {b:?} do not broadcast (axis {i}: {x} vs {y})"
            ))),
        })
        .collect()
}

fn view_as<'a, T>(a: &'a ArrayD<T>, shape: &[usize]) -> Result<ArrayViewD<'a, T>> {
    a.broadcast(IxDyn(shape)).ok_or_else(|| {
        error::shape(format!(
            "a chunk of shape {:?} does not broadcast to {shape:?}",
            a.shape()
        ))
    })
}

/// `f(a, b)` elementwise with broadcasting.
pub fn zip_with<A: Copy, B: Copy, C>(
    a: &ArrayD<A>,
    b: &ArrayD<B>,
    f: impl Fn(A, B) -> C,
) -> Result<ArrayD<C>> {
    if a.shape() == b.shape() {
        return Ok(Zip::from(a).and(b).map_collect(|&x, &y| f(x, y)));
    }
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    let (va, vb) = (view_as(a, &shape)?, view_as(b, &shape)?);
    Ok(Zip::from(&va).and(&vb).map_collect(|&x, &y| f(x, y)))
}

/// `cond ? a : b` elementwise with broadcasting.
pub fn where_<T: Copy>(cond: &ArrayD<bool>, a: &ArrayD<T>, b: &ArrayD<T>) -> Result<ArrayD<T>> {
    let shape = broadcast_shapes(&broadcast_shapes(cond.shape(), a.shape())?, b.shape())?;
    let (vc, va, vb) = (
        view_as(cond, &shape)?,
        view_as(a, &shape)?,
        view_as(b, &shape)?,
    );
    Ok(Zip::from(&vc)
        .and(&va)
        .and(&vb)
        .map_collect(|&c, &x, &y| if c { x } else { y }))
}

/// One axis of a basic index into a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sel {
    /// Positions `start, start + step, ...`, `len` of them (step may be negative;
    /// `len == usize::MAX` is the whole axis).
    Range {
        /// First position.
        start: usize,
        /// Step.
        step: isize,
        /// How many.
        len: usize,
    },
    /// One position; the axis is dropped.
    Index(usize),
    /// A new axis of length one.
    NewAxis,
}

/// Applies a basic index to a chunk (one [`Sel`] per axis, plus new axes), copying
/// the selection into a new array. Out-of-bounds selections are errors.
pub fn select<T: Clone>(a: &ArrayD<T>, sel: &[Sel]) -> Result<ArrayD<T>> {
    let mut elems = Vec::with_capacity(sel.len());
    let mut axis = 0usize;
    for s in sel {
        let dim = |axis: usize| a.shape().get(axis).copied();
        match *s {
            Sel::Range { start, step, len } => {
                let d =
                    dim(axis).ok_or_else(|| error::malformed("too many indices for the chunk"))?;
                // `len == usize::MAX` selects the whole axis (blocks of unknown size).
                let (start, step, len) = if len == usize::MAX {
                    (0, 1, d)
                } else {
                    (start, step, len)
                };
                let span = len.saturating_sub(1).checked_mul(step.unsigned_abs());
                let bounds = match span {
                    _ if len == 0 => Some((0, 0)),
                    Some(span) if step > 0 => start
                        .checked_add(span)
                        .and_then(|e| e.checked_add(1))
                        .map(|e| (start, e)),
                    Some(span) => start
                        .checked_sub(span)
                        .map(|lo| (lo, start.saturating_add(1))),
                    None => None,
                };
                let Some((lo, hi)) = bounds.filter(|&(_, hi)| hi <= d) else {
                    return Err(error::malformed(format!(
                        "selection of {len} from {start} by {step} is out of bounds for a chunk axis of length {d}"
                    )));
                };
                elems.push(SliceInfoElem::Slice {
                    start: lo as isize,
                    end: Some(hi as isize),
                    step,
                });
                axis += 1;
            }
            Sel::Index(i) => {
                let d =
                    dim(axis).ok_or_else(|| error::malformed("too many indices for the chunk"))?;
                if i >= d {
                    return Err(error::malformed(format!(
                        "index {i} is out of bounds for a chunk axis of length {d}"
                    )));
                }
                elems.push(SliceInfoElem::Index(i as isize));
                axis += 1;
            }
            Sel::NewAxis => elems.push(SliceInfoElem::NewAxis),
        }
    }
    if axis != a.ndim() {
        return Err(error::malformed(format!(
            "the index covers {axis} axes but the chunk has {}",
            a.ndim()
        )));
    }
    let info = SliceInfo::<Vec<SliceInfoElem>, IxDyn, IxDyn>::try_from(elems)
        .map_err(|e| error::ndarray("bad index", e))?;
    Ok(a.slice(info).to_owned())
}

/// A part of one input chunk copied into an output chunk: per axis, the start in the
/// input, the start in the output and the length.
pub type Region = Vec<(usize, usize, usize)>;

/// Builds a chunk of `shape` from parts of `inputs` (`regions[i]` for `inputs[i]`).
/// Regions outside either chunk are errors.
pub fn assemble<T: Copy + Default>(
    shape: &[usize],
    inputs: &[&ArrayD<T>],
    regions: &[Region],
) -> Result<ArrayD<T>> {
    if let ([a], [r]) = (inputs, regions) {
        if a.shape() == shape && r.iter().all(|&(s, d, _)| s == 0 && d == 0) {
            return Ok((*a).clone());
        }
    }
    let mut out = ArrayD::from_elem(IxDyn(shape), T::default());
    for (a, region) in inputs.iter().zip(regions) {
        if region.len() != a.ndim() || region.len() != shape.len() {
            return Err(error::malformed(format!(
                "a region of {} axes for a chunk of shape {:?}",
                region.len(),
                a.shape()
            )));
        }
        let mut src = a.view();
        let mut dst = out.view_mut();
        for (ax, &(s, d, len)) in region.iter().enumerate() {
            if s + len > src.shape()[ax] || d + len > dst.shape()[ax] {
                return Err(error::malformed(format!(
                    "region {region:?} does not fit chunks {:?} -> {shape:?}",
                    a.shape()
                )));
            }
            src.slice_axis_inplace(Axis(ax), (s..s + len).into());
            dst.slice_axis_inplace(Axis(ax), (d..d + len).into());
        }
        dst.assign(&src);
    }
    Ok(out)
}

/// The elements of `a` where `mask` is true, in C order, as a 1-D array.
pub fn masked<T: Copy>(a: &ArrayD<T>, mask: &ArrayD<bool>) -> Result<ArrayD<T>> {
    if a.shape() != mask.shape() {
        return Err(error::shape(format!(
            "a boolean mask of shape {:?} cannot index a chunk of shape {:?}",
            mask.shape(),
            a.shape()
        )));
    }
    let v: Vec<T> = Zip::from(a).and(mask).fold(Vec::new(), |mut acc, &x, &m| {
        if m {
            acc.push(x);
        }
        acc
    });
    let n = v.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), v).map_err(|e| error::ndarray("", e))
}

/// Positions `picks` (per input: which input, which position) along `axis`, stacked.
pub fn take<T: Copy>(
    inputs: &[&ArrayD<T>],
    axis: usize,
    picks: &[(usize, usize)],
) -> Result<ArrayD<T>> {
    let mut views = Vec::with_capacity(picks.len());
    for &(i, p) in picks {
        let a = inputs
            .get(i)
            .ok_or_else(|| error::malformed(format!("take: no input {i}")))?;
        if axis >= a.ndim() || p >= a.shape()[axis] {
            return Err(error::malformed(format!(
                "index {p} is out of bounds for axis {axis} of a chunk of shape {:?}",
                a.shape()
            )));
        }
        views.push(a.index_axis(Axis(axis), p));
    }
    if views.is_empty() {
        let Some(first) = inputs.first() else {
            return Err(error::malformed("take: no inputs"));
        };
        let mut shape = first.shape().to_vec();
        shape[axis] = 0;
        return ArrayD::from_shape_vec(IxDyn(&shape), vec![]).map_err(|e| error::ndarray("", e));
    }
    ndarray::stack(Axis(axis), &views).map_err(|e| error::ndarray("", e))
}

/// A cumulative sum or product of a chunk along `axis` in the accumulating type
/// (NumPy's: integers widen to `i64` / `u64`), NaN counting as the identity when
/// `skip_nan`, then combined with the carried total of the chunks before it.
pub fn scan<T: Num>(
    a: &ArrayD<T>,
    axis: usize,
    prod: bool,
    skip_nan: bool,
    carry: Option<&ArrayD<T::Acc>>,
) -> Result<ArrayD<T::Acc>> {
    if axis >= a.ndim() {
        return Err(error::malformed(format!(
            "cumulative {}: no axis {axis} in a chunk of {} axes",
            if prod { "product" } else { "sum" },
            a.ndim()
        )));
    }
    let identity = if prod {
        <T::Acc as Num>::ONE
    } else {
        <T::Acc as Num>::ZERO
    };
    let fold = |x: T::Acc, y: T::Acc| if prod { x.mul(y) } else { x.add(y) };
    let mut out = a.mapv(|x| {
        if skip_nan && x.is_nan() {
            identity
        } else {
            x.acc()
        }
    });
    out.accumulate_axis_inplace(Axis(axis), |&prev, cur| *cur = fold(*cur, prev));
    if let Some(c) = carry {
        let c = view_as(c, a.shape())?;
        Zip::from(&mut out)
            .and(&c)
            .for_each(|o, &c| *o = fold(*o, c));
    }
    Ok(out)
}
