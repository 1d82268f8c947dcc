//! Elementwise math with NumPy broadcasting: operands are lined up block by block
//! (a length-one axis is repeated, differing chunkings are rechunked to their common
//! refinement), then one task per output block runs the kernel.

use super::array::Array;
use super::chain_link::{arith_unary, Link};
use super::chunks::{common_refinement, AxisChunks};
use super::dtype::{DType, Elem, Num};
use super::kernels::{BinOp, Unary};
use super::meta::{op, spec_bytes, Block, Made, Meta, Origin};
use super::ops::{Chain, Elementwise, Kernel};
use crate::error;
use crate::layers::TokenizeDyn;
use brisk_core::token::Bytes;
use brisk_core::Result;
use std::sync::Arc;

/// The chunks of the broadcast result of `inputs`, and the chunks each input must
/// have first (after prepending length-one axes).
fn align(inputs: &[&Meta]) -> Result<Vec<AxisChunks>> {
    let ndim = inputs.iter().map(|m| m.ndim()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(ndim);
    for ax in 0..ndim {
        let mut acc: Option<AxisChunks> = None;
        for m in inputs {
            let pad = ndim - m.ndim();
            if ax < pad {
                continue;
            }
            let c = &m.chunks[ax - pad];
            if c.size() == Some(1) {
                // Broadcast: contributes nothing unless nothing else does.
                if acc.is_none() {
                    acc = Some(c.clone());
                }
                continue;
            }
            acc = Some(match (acc.take(), c) {
                (None, c) => c.clone(),
                (Some(a), c) if a.size() == Some(1) => c.clone(),
                (Some(AxisChunks::Known(a)), AxisChunks::Known(b)) => {
                    let (sa, sb) = (a.iter().sum::<usize>(), b.iter().sum::<usize>());
                    if sa != sb {
                        return Err(error::shape(format!(
                            "operands do not broadcast: axis {ax} has lengths {sa} and {sb}"
                        )));
                    }
                    AxisChunks::Known(common_refinement(&a, b))
                }
                (Some(AxisChunks::Unknown(a)), AxisChunks::Unknown(b)) if a == *b => {
                    AxisChunks::Unknown(a)
                }
                (Some(a), b) => {
                    return Err(error::shape(format!(
                        "operands with unknown chunk sizes must have the same blocks: axis {ax} has {a:?} and {b:?}; \
                         call compute_chunk_sizes() first"
                    )))
                }
            });
        }
        out.push(acc.unwrap_or(AxisChunks::Known(vec![1])));
    }
    Ok(out)
}

/// `inputs` rechunked to line up with `out` (broadcast axes left alone).
fn lined_up(inputs: &[&Meta], out: &[AxisChunks]) -> Result<Vec<Meta>> {
    inputs
        .iter()
        .map(|m| {
            let pad = out.len() - m.ndim();
            let want: Vec<AxisChunks> = m
                .chunks
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    if c.size() == Some(1) {
                        c.clone()
                    } else {
                        out[k + pad].clone()
                    }
                })
                .collect();
            if want == m.chunks {
                Ok((*m).clone())
            } else {
                super::shape::rechunk_meta(m, &want)
            }
        })
        .collect()
}

impl Made {
    /// The steps of a chain of arithmetic, when the op is one.
    fn links(&self) -> Option<Vec<Link>> {
        match self {
            Made::Chain(l) => Some(l.clone()),
            Made::Kernel(Kernel::Binary(op)) if !op.is_comparison() && !op.is_logical() => {
                Some(vec![Link::Input {
                    op: *op,
                    input: 1,
                    acc_left: true,
                }])
            }
            Made::Kernel(Kernel::Unary(u)) if is_arith_unary(*u) => Some(vec![Link::Unary(*u)]),
            _ => None,
        }
    }
}

fn is_arith_unary(u: Unary) -> bool {
    arith_unary::<f64>(u).is_some()
}

impl Origin {
    /// The op that made an array applied again to `inputs` (the origin's inputs,
    /// indexed), producing `out_dtype`.
    pub(crate) fn remake(&self, inputs: &[&Meta], out_dtype: DType) -> Result<Meta> {
        match &self.made {
            Made::Kernel(k) => elementwise(&self.method, inputs, self.dtype, *k, out_dtype),
            Made::Chain(links) => {
                let out = align(inputs)?;
                let lined = lined_up(inputs, &out)?;
                build(
                    &self.method,
                    lined,
                    out,
                    self.dtype,
                    Made::Chain(links.clone()),
                    out_dtype,
                )
            }
        }
    }
}

/// `kernel` on `inputs` folded into the chain of arithmetic that made `inputs[0]`,
/// when both are arithmetic on one dtype and the first operand keeps its chunks:
/// `(x - m) / s` runs as one task per block with one allocation.
fn fused(
    method: &str,
    inputs: &[&Meta],
    dtype: DType,
    kernel: Kernel,
    out_dtype: DType,
) -> Result<Option<Meta>> {
    let Some(first) = inputs.first() else {
        return Ok(None);
    };
    let Some(o) = &first.origin else {
        return Ok(None);
    };
    if out_dtype != dtype || o.dtype != dtype || first.dtype != dtype || dtype == DType::Bool {
        return Ok(None);
    }
    let (Some(mut links), Some(step)) = (o.made.links(), Made::Kernel(kernel).links()) else {
        return Ok(None);
    };
    let mut base = o.inputs.clone();
    match (step.as_slice(), inputs) {
        ([Link::Unary(u)], [_]) => links.push(Link::Unary(*u)),
        ([Link::Input { op, .. }], [_, other]) => {
            let out = align(&[first, other])?;
            if out != first.chunks {
                return Ok(None);
            }
            let lined = lined_up(&[other], &out)?;
            links.push(Link::Input {
                op: *op,
                input: base.len(),
                acc_left: true,
            });
            base.extend(lined);
        }
        _ => return Ok(None),
    }
    let out = first.chunks.clone();
    build(method, base, out, dtype, Made::Chain(links), out_dtype).map(Some)
}

/// One task per block of the broadcast of `inputs`, running `kernel` (on inputs of
/// `dtype`), producing `out_dtype`.
pub(crate) fn elementwise(
    method: &str,
    inputs: &[&Meta],
    dtype: DType,
    kernel: Kernel,
    out_dtype: DType,
) -> Result<Meta> {
    if let Some(m) = fused(method, inputs, dtype, kernel, out_dtype)? {
        return Ok(m);
    }
    let out = align(inputs)?;
    let lined = lined_up(inputs, &out)?;
    build(method, lined, out, dtype, Made::Kernel(kernel), out_dtype)
}

/// One task per block of `out` running `made` on the lined-up `lined` inputs.
fn build(
    method: &str,
    lined: Vec<Meta>,
    out: Vec<AxisChunks>,
    dtype: DType,
    made: Made,
    out_dtype: DType,
) -> Result<Meta> {
    let (params, op) = match &made {
        Made::Kernel(kernel) => {
            let spec = Elementwise {
                dtype,
                kernel: *kernel,
            };
            (spec_bytes(&spec)?, op(spec))
        }
        Made::Chain(links) => {
            let spec = Chain {
                dtype,
                links: links.clone(),
            };
            (spec_bytes(&spec)?, op(spec))
        }
    };
    let names: Vec<&str> = lined.iter().map(|m| m.name.as_str()).collect();
    let deps: Vec<&brisk_core::Graph> = lined.iter().map(|m| &m.graph).collect();
    let ndim = out.len();
    let mut built = Meta::build(
        method,
        &[&names, &Bytes(&params) as &dyn TokenizeDyn],
        &deps,
        out,
        out_dtype,
        |idx| {
            let keys = lined
                .iter()
                .map(|m| {
                    let pad = ndim - m.ndim();
                    let i: Vec<usize> = (0..m.ndim())
                        .map(|k| {
                            if m.chunks[k].nblocks() == 1 {
                                0
                            } else {
                                idx[k + pad]
                            }
                        })
                        .collect();
                    m.key(&i).clone()
                })
                .collect();
            Ok(Block::Task(op.clone(), keys))
        },
    )?;
    built.origin = Some(Arc::new(Origin {
        method: method.to_string(),
        inputs: lined,
        dtype,
        made,
    }));
    Ok(built)
}

impl<T: Elem> Array<T> {
    fn unary_to<U: Elem>(&self, u: Unary) -> Result<Array<U>> {
        let m = elementwise(
            "elementwise",
            &[&self.meta],
            T::DTYPE,
            Kernel::Unary(u),
            U::DTYPE,
        )?;
        Ok(Array::wrap(m))
    }

    /// The array converted to another element type (NumPy's `astype`).
    pub fn astype<U: Elem>(&self) -> Result<Array<U>> {
        if T::DTYPE == U::DTYPE {
            return Array::from_meta(self.meta.clone());
        }
        self.unary_to(Unary::AsType(U::DTYPE))
    }

    /// Whether each element is NaN.
    pub fn isnan(&self) -> Result<Array<bool>> {
        self.unary_to(Unary::IsNan)
    }

    fn compare_with(&self, other: &Array<T>, op: BinOp) -> Result<Array<bool>> {
        let m = elementwise(
            "compare",
            &[&self.meta, &other.meta],
            T::DTYPE,
            Kernel::Binary(op),
            DType::Bool,
        )?;
        Ok(Array::wrap(m))
    }

    fn compare_scalar(&self, v: T, op: BinOp) -> Result<Array<bool>> {
        self.unary_to(Unary::Scalar {
            op,
            value: v.to_f64(),
            scalar_left: false,
        })
    }

    /// `self < other`, elementwise with broadcasting.
    pub fn lt(&self, other: &Array<T>) -> Result<Array<bool>> {
        self.compare_with(other, BinOp::Lt)
    }
    /// `self <= other`.
    pub fn le(&self, other: &Array<T>) -> Result<Array<bool>> {
        self.compare_with(other, BinOp::Le)
    }
    /// `self > other`.
    pub fn gt(&self, other: &Array<T>) -> Result<Array<bool>> {
        self.compare_with(other, BinOp::Gt)
    }
    /// `self >= other`.
    pub fn ge(&self, other: &Array<T>) -> Result<Array<bool>> {
        self.compare_with(other, BinOp::Ge)
    }
    /// `self == other`.
    pub fn eq_array(&self, other: &Array<T>) -> Result<Array<bool>> {
        self.compare_with(other, BinOp::Eq)
    }
    /// `self != other`.
    pub fn ne_array(&self, other: &Array<T>) -> Result<Array<bool>> {
        self.compare_with(other, BinOp::Ne)
    }
    /// `self < v`.
    pub fn lt_scalar(&self, v: T) -> Result<Array<bool>> {
        self.compare_scalar(v, BinOp::Lt)
    }
    /// `self <= v`.
    pub fn le_scalar(&self, v: T) -> Result<Array<bool>> {
        self.compare_scalar(v, BinOp::Le)
    }
    /// `self > v`.
    pub fn gt_scalar(&self, v: T) -> Result<Array<bool>> {
        self.compare_scalar(v, BinOp::Gt)
    }
    /// `self >= v`.
    pub fn ge_scalar(&self, v: T) -> Result<Array<bool>> {
        self.compare_scalar(v, BinOp::Ge)
    }
    /// `self == v`.
    pub fn eq_scalar(&self, v: T) -> Result<Array<bool>> {
        self.compare_scalar(v, BinOp::Eq)
    }
    /// `self != v`.
    pub fn ne_scalar(&self, v: T) -> Result<Array<bool>> {
        self.compare_scalar(v, BinOp::Ne)
    }

    /// `cond ? self : other` elementwise with broadcasting (NumPy's `where`).
    pub fn where_(cond: &Array<bool>, a: &Array<T>, b: &Array<T>) -> Result<Array<T>> {
        let m = elementwise(
            "where",
            &[&cond.meta, &a.meta, &b.meta],
            T::DTYPE,
            Kernel::Where,
            T::DTYPE,
        )?;
        Ok(Array::wrap(m))
    }

    /// The array with `value` wherever `mask` is true: Dask's `x[mask] = value`,
    /// returning a new array (`mask` broadcasts against the array).
    pub fn set_where(&self, mask: &Array<bool>, value: T) -> Result<Array<T>> {
        let kernel = Kernel::WhereScalar {
            value: value.to_f64(),
            when_true: true,
        };
        let m = elementwise(
            "set_where",
            &[&mask.meta, &self.meta],
            T::DTYPE,
            kernel,
            T::DTYPE,
        )?;
        Ok(Array::wrap(m))
    }
}

impl Array<bool> {
    fn logical(&self, other: &Array<bool>, op: BinOp) -> Result<Array<bool>> {
        let m = elementwise(
            "logical",
            &[&self.meta, &other.meta],
            DType::Bool,
            Kernel::Binary(op),
            DType::Bool,
        )?;
        Ok(Array::wrap(m))
    }
    /// Elementwise and.
    pub fn and(&self, other: &Array<bool>) -> Result<Array<bool>> {
        self.logical(other, BinOp::And)
    }
    /// Elementwise or.
    pub fn or(&self, other: &Array<bool>) -> Result<Array<bool>> {
        self.logical(other, BinOp::Or)
    }
    /// Elementwise exclusive or.
    pub fn xor(&self, other: &Array<bool>) -> Result<Array<bool>> {
        self.logical(other, BinOp::Xor)
    }
    /// Elementwise not.
    pub fn not(&self) -> Result<Array<bool>> {
        self.unary_to(Unary::Not)
    }
}

macro_rules! arith_methods {
    ($($name:ident, $scalar:ident, $rscalar:ident, $op:expr, $doc:expr);* $(;)?) => {$(
        #[doc = concat!("`self ", $doc, " other`, elementwise with broadcasting.")]
        pub fn $name(&self, other: &Array<T>) -> Result<Array<T>> {
            let m = elementwise("arith", &[&self.meta, &other.meta], T::DTYPE, Kernel::Binary($op), T::DTYPE)?;
            Ok(Array::wrap(m))
        }
        #[doc = concat!("`self ", $doc, " v` for a scalar `v`.")]
        pub fn $scalar(&self, v: T) -> Result<Array<T>> {
            self.unary_to(Unary::Scalar { op: $op, value: v.to_f64(), scalar_left: false })
        }
        #[doc = concat!("`v ", $doc, " self` for a scalar `v`.")]
        pub fn $rscalar(&self, v: T) -> Result<Array<T>> {
            self.unary_to(Unary::Scalar { op: $op, value: v.to_f64(), scalar_left: true })
        }
    )*};
}

impl<T: Num> Array<T> {
    arith_methods! {
        add, add_scalar, radd_scalar, BinOp::Add, "+";
        sub, sub_scalar, rsub_scalar, BinOp::Sub, "-";
        mul, mul_scalar, rmul_scalar, BinOp::Mul, "*";
        div, div_scalar, rdiv_scalar, BinOp::Div, "/";
        pow, pow_scalar, rpow_scalar, BinOp::Pow, "**";
        minimum, minimum_scalar, rminimum_scalar, BinOp::Minimum, "min";
        maximum, maximum_scalar, rmaximum_scalar, BinOp::Maximum, "max";
    }

    /// `-self`.
    pub fn neg(&self) -> Result<Array<T>> {
        self.unary_to(Unary::Neg)
    }
    /// Absolute values.
    pub fn abs(&self) -> Result<Array<T>> {
        self.unary_to(Unary::Abs)
    }
    /// Values clamped to `[lo, hi]`.
    pub fn clip(&self, lo: T, hi: T) -> Result<Array<T>> {
        self.unary_to(Unary::Clip {
            lo: lo.to_f64(),
            hi: hi.to_f64(),
        })
    }
    /// Square roots.
    pub fn sqrt(&self) -> Result<Array<T::Float>> {
        self.unary_to(Unary::Sqrt)
    }
    /// Exponentials.
    pub fn exp(&self) -> Result<Array<T::Float>> {
        self.unary_to(Unary::Exp)
    }
    /// Natural logarithms.
    pub fn log(&self) -> Result<Array<T::Float>> {
        self.unary_to(Unary::Log)
    }
    /// Sines.
    pub fn sin(&self) -> Result<Array<T::Float>> {
        self.unary_to(Unary::Sin)
    }
    /// Cosines.
    pub fn cos(&self) -> Result<Array<T::Float>> {
        self.unary_to(Unary::Cos)
    }
}

macro_rules! std_ops {
    ($($tr:ident, $m:ident, $method:ident, $scalar:ident);*) => {$(
        impl<T: Num> std::ops::$tr<&Array<T>> for &Array<T> {
            type Output = Result<Array<T>>;
            fn $m(self, rhs: &Array<T>) -> Result<Array<T>> {
                self.$method(rhs)
            }
        }
        impl<T: Num> std::ops::$tr<T> for &Array<T> {
            type Output = Result<Array<T>>;
            fn $m(self, rhs: T) -> Result<Array<T>> {
                self.$scalar(rhs)
            }
        }
    )*};
}

std_ops!(Add, add, add, add_scalar; Sub, sub, sub, sub_scalar; Mul, mul, mul, mul_scalar; Div, div, div, div_scalar);

impl<T: Num> std::ops::Neg for &Array<T> {
    type Output = Result<Array<T>>;
    fn neg(self) -> Result<Array<T>> {
        Array::neg(self)
    }
}
