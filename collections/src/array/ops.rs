//! The registered ops of array tasks: serde parameters naming a kernel and the
//! element type, so that a worker process rebuilds each task from its name and
//! bytes. `call` dispatches on the dtype and runs a kernel of
//! [`super::kernels`] or [`super::reduce_kernels`].

use super::dtype::{for_dtype, DType, Elem, Num};
use super::kernels::{self, BinOp, Region, Sel};
use super::moments;
use super::reduce_kernels::{self as rk, Place, Reduction};
use brisk_core::op::OpRegistration;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::{Error, Result, Value};
use ndarray::{ArrayD, Dimension, IxDyn, Zip};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

macro_rules! register {
    ($($t:ty),*) => {$(
        inventory::submit! { OpRegistration { name: <$t>::NAME, rebuild: rebuild_spec::<$t> } }
    )*};
}

fn arity(op: &str, inputs: &[Value], n: usize) -> Result<()> {
    if inputs.len() != n {
        return Err(Error::Arity {
            op: op.into(),
            expected: n,
            found: inputs.len(),
        });
    }
    Ok(())
}

fn not_for_bool(what: &str) -> Error {
    Error::user(format!(
        "{what} is not defined for boolean arrays; use astype first"
    ))
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

/// What an elementwise task computes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Kernel {
    /// One input.
    Unary(Unary),
    /// Two inputs of the same dtype, broadcast.
    Binary(BinOp),
    /// `where(cond, a, b)`: a boolean input and two of the dtype.
    Where,
    /// `where(cond, value, x)` (or `where(cond, x, value)` unless `when_true`).
    WhereScalar {
        /// The scalar.
        value: f64,
        /// Whether the scalar is taken where the condition holds.
        when_true: bool,
    },
}

/// An elementwise task on chunks of `dtype`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Elementwise {
    /// The element type of the (non-boolean) inputs.
    pub dtype: DType,
    /// The function.
    pub kernel: Kernel,
}

fn floatmap<T: Num>(a: &ArrayD<T>, f: fn(f64) -> f64) -> Value {
    <T::Float as Elem>::value(a.mapv(|x| <T::Float as Elem>::from_f64(f(x.to_f64()))))
}

fn unary<T: Elem>(a: &ArrayD<T>, u: Unary) -> Result<Value> {
    Ok(match u {
        Unary::IsNan => bool::value(a.mapv(|x| x.is_nan())),
        Unary::Not => bool::value(a.mapv(|x| x.to_f64() == 0.0)),
        Unary::AsType(d) => {
            if d == T::DTYPE {
                T::value(a.clone())
            } else {
                for_dtype!(d, U => U::value(a.mapv(|x| U::from_f64(x.to_f64()))))
            }
        }
        _ => return Err(not_for_bool(&format!("{u:?}"))),
    })
}

fn unary_num<T: Num>(a: &ArrayD<T>, u: Unary) -> Result<Value> {
    Ok(match u {
        Unary::Neg => T::value(a.mapv(|x| T::ZERO.sub(x))),
        Unary::Abs => T::value(a.mapv(Num::abs)),
        Unary::Sqrt => floatmap(a, f64::sqrt),
        Unary::Exp => floatmap(a, f64::exp),
        Unary::Log => floatmap(a, f64::ln),
        Unary::Sin => floatmap(a, f64::sin),
        Unary::Cos => floatmap(a, f64::cos),
        Unary::Clip { lo, hi } => {
            let (lo, hi) = (T::from_f64(lo), T::from_f64(hi));
            T::value(a.mapv(|x| {
                if x < lo {
                    lo
                } else if x > hi {
                    hi
                } else {
                    x
                }
            }))
        }
        Unary::Scalar {
            op,
            value,
            scalar_left,
        } => {
            let s = T::from_f64(value);
            if op.is_comparison() {
                bool::value(a.mapv(|x| {
                    if scalar_left {
                        kernels::compare(op, s, x)
                    } else {
                        kernels::compare(op, x, s)
                    }
                }))
            } else if op.is_logical() {
                return Err(Error::user(format!("{op:?} needs boolean arrays")));
            } else {
                T::value(a.mapv(|x| {
                    if scalar_left {
                        kernels::arith(op, s, x)
                    } else {
                        kernels::arith(op, x, s)
                    }
                }))
            }
        }
        other => return unary(a, other),
    })
}

fn unary_bool(a: &ArrayD<bool>, u: Unary) -> Result<Value> {
    match u {
        Unary::Scalar {
            op,
            value,
            scalar_left,
        } if op.is_logical() || op.is_comparison() => {
            let s = value != 0.0;
            Ok(bool::value(a.mapv(|x| {
                let (l, r) = if scalar_left { (s, x) } else { (x, s) };
                if op.is_logical() {
                    kernels::logical(op, l, r)
                } else {
                    kernels::compare(op, l, r)
                }
            })))
        }
        other => unary(a, other),
    }
}

fn binary<T: Elem>(a: &ArrayD<T>, b: &ArrayD<T>, op: BinOp) -> Result<Value> {
    if op.is_comparison() {
        return Ok(bool::value(kernels::zip_with(a, b, |x, y| {
            kernels::compare(op, x, y)
        })?));
    }
    Err(not_for_bool(&format!("{op:?}")))
}

impl Spec for Elementwise {
    const NAME: &'static str = "brisk::array::elementwise";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let d = self.dtype;
        match self.kernel {
            Kernel::Unary(u) => {
                arity(Self::NAME, inputs, 1)?;
                for_dtype!(num d, T => unary_num(T::array(&inputs[0])?, u), bool => unary_bool(bool::array(&inputs[0])?, u))
            }
            Kernel::Binary(op) => {
                arity(Self::NAME, inputs, 2)?;
                if op.is_logical() {
                    let (a, b) = (bool::array(&inputs[0])?, bool::array(&inputs[1])?);
                    return Ok(bool::value(kernels::zip_with(a, b, |x, y| {
                        kernels::logical(op, x, y)
                    })?));
                }
                for_dtype!(num d, T => {
                    let (a, b) = (T::array(&inputs[0])?, T::array(&inputs[1])?);
                    if op.is_comparison() {
                        binary(a, b, op)
                    } else {
                        Ok(T::value(kernels::zip_with(a, b, |x, y| kernels::arith(op, x, y))?))
                    }
                }, bool => binary(bool::array(&inputs[0])?, bool::array(&inputs[1])?, op))
            }
            Kernel::Where => {
                arity(Self::NAME, inputs, 3)?;
                let c = bool::array(&inputs[0])?;
                for_dtype!(d, T => Ok(T::value(kernels::where_(c, T::array(&inputs[1])?, T::array(&inputs[2])?)?)))
            }
            Kernel::WhereScalar { value, when_true } => {
                arity(Self::NAME, inputs, 2)?;
                let c = bool::array(&inputs[0])?;
                for_dtype!(d, T => {
                    let s = T::from_f64(value);
                    Ok(T::value(kernels::zip_with(c, T::array(&inputs[1])?, |c, x| if c == when_true { s } else { x })?))
                })
            }
        }
    }
}

/// One step of a fused chain of arithmetic: the accumulator (input 0 to begin
/// with) combined with another input, or a one-input function of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Link {
    /// `acc op inputs[input]` (or `inputs[input] op acc` unless `acc_left`).
    Input {
        /// The operation (arithmetic).
        op: BinOp,
        /// Which input.
        input: usize,
        /// Whether the accumulator is the left operand.
        acc_left: bool,
    },
    /// A one-input arithmetic function (negation, absolute value, clip, a scalar
    /// operand).
    Unary(Unary),
}

/// A fused chain of arithmetic on chunks of one numeric dtype, such as
/// `(x - m) / s`: one output allocation, the later steps in place.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Chain {
    /// Element type of every input and of the result.
    pub dtype: DType,
    /// The steps.
    pub links: Vec<Link>,
}

/// The function of a one-input arithmetic step, or `None` for other steps.
pub(crate) fn arith_unary<T: Num>(u: Unary) -> Option<impl Fn(T) -> T> {
    let (kind, a, b) = match u {
        Unary::Neg => (0, 0.0, 0.0),
        Unary::Abs => (1, 0.0, 0.0),
        Unary::Clip { lo, hi } => (2, lo, hi),
        Unary::Scalar {
            op,
            value,
            scalar_left,
        } if !op.is_comparison() && !op.is_logical() => {
            (if scalar_left { 3 } else { 4 }, value, 0.0)
        }
        _ => return None,
    };
    let op = match u {
        Unary::Scalar { op, .. } => op,
        _ => BinOp::Add,
    };
    let (lo, hi, s) = (T::from_f64(a), T::from_f64(b), T::from_f64(a));
    Some(move |x: T| match kind {
        0 => T::ZERO.sub(x),
        1 => x.abs(),
        2 => {
            if x < lo {
                lo
            } else if x > hi {
                hi
            } else {
                x
            }
        }
        3 => kernels::arith(op, s, x),
        _ => kernels::arith(op, x, s),
    })
}

fn chain<T: Num>(links: &[Link], inputs: &[Value]) -> Result<ArrayD<T>> {
    let arrays = inputs.iter().map(T::array).collect::<Result<Vec<_>>>()?;
    if let Some(out) = super::chain_rows::chain_by_rows(links, &arrays) {
        return Ok(out);
    }
    let x0 = T::array(
        inputs
            .first()
            .ok_or_else(|| Error::user("a chain without inputs"))?,
    )?;
    let mut acc: Option<ArrayD<T>> = None;
    for link in links {
        let cur = acc.take();
        acc = Some(match *link {
            Link::Input {
                op,
                input,
                acc_left,
            } => {
                let other =
                    T::array(inputs.get(input).ok_or_else(|| {
                        Error::user(format!("a chain step names input {input}"))
                    })?)?;
                let f = move |a: T, b: T| {
                    if acc_left {
                        kernels::arith(op, a, b)
                    } else {
                        kernels::arith(op, b, a)
                    }
                };
                match cur {
                    None => kernels::zip_with(x0, other, f)?,
                    Some(mut a) => {
                        if kernels::broadcast_shapes(a.shape(), other.shape())? == a.shape() {
                            let o = other
                                .broadcast(a.raw_dim())
                                .ok_or_else(|| Error::user("chain: shapes do not broadcast"))?;
                            Zip::from(&mut a).and(&o).for_each(|x, &y| *x = f(*x, y));
                            a
                        } else {
                            kernels::zip_with(&a, other, f)?
                        }
                    }
                }
            }
            Link::Unary(u) => {
                let g = arith_unary::<T>(u)
                    .ok_or_else(|| Error::user(format!("{u:?} cannot be part of a chain")))?;
                match cur {
                    None => x0.mapv(g),
                    Some(mut a) => {
                        a.mapv_inplace(g);
                        a
                    }
                }
            }
        });
    }
    Ok(acc.unwrap_or_else(|| x0.clone()))
}

impl Spec for Chain {
    const NAME: &'static str = "brisk::array::chain";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        for_dtype!(num self.dtype, T => Ok(T::value(chain::<T>(&self.links, inputs)?)), bool => Err(not_for_bool("arithmetic")))
    }
}

/// A basic index applied to one chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Select {
    /// Element type.
    pub dtype: DType,
    /// One selection per axis, plus new axes.
    pub sel: Vec<Sel>,
}

impl Spec for Select {
    const NAME: &'static str = "brisk::array::select";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => Ok(T::value(kernels::select(T::array(&inputs[0])?, &self.sel)?)))
    }
}

/// A chunk built from regions of several input chunks (rechunk).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assemble {
    /// Element type.
    pub dtype: DType,
    /// The output chunk's shape.
    pub shape: Vec<usize>,
    /// One region per input.
    pub regions: Vec<Region>,
}

impl Spec for Assemble {
    const NAME: &'static str = "brisk::array::assemble";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, self.regions.len())?;
        for_dtype!(self.dtype, T => {
            let arrays = inputs.iter().map(|v| T::array(v)).collect::<Result<Vec<_>>>()?;
            Ok(T::value(kernels::assemble(&self.shape, &arrays, &self.regions)?))
        })
    }
}

/// Positions along an axis taken from several chunks (integer-list indexing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Take {
    /// Element type.
    pub dtype: DType,
    /// The axis.
    pub axis: usize,
    /// (input, position) per output position.
    pub picks: Vec<(usize, usize)>,
}

impl Spec for Take {
    const NAME: &'static str = "brisk::array::take";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        for_dtype!(self.dtype, T => {
            let arrays = inputs.iter().map(|v| T::array(v)).collect::<Result<Vec<_>>>()?;
            Ok(T::value(kernels::take(&arrays, self.axis, &self.picks)?))
        })
    }
}

/// The elements of a chunk where a boolean chunk is true, flattened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Masked {
    /// Element type.
    pub dtype: DType,
}

impl Spec for Masked {
    const NAME: &'static str = "brisk::array::masked";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 2)?;
        let m = bool::array(&inputs[1])?;
        for_dtype!(self.dtype, T => Ok(T::value(kernels::masked(T::array(&inputs[0])?, m)?)))
    }
}

/// The shape of a chunk, as a `Vec<usize>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkShape {
    /// Element type.
    pub dtype: DType,
}

impl Spec for ChunkShape {
    const NAME: &'static str = "brisk::array::chunk_shape";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => Ok(Arc::new(T::array(&inputs[0])?.shape().to_vec())))
    }
}

/// The stage of a tree reduction a task runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stage {
    /// A chunk to a partial (`place` for arg reductions).
    Chunk {
        /// Where the chunk lies (arg reductions only).
        place: Option<Place>,
    },
    /// Partials to one partial.
    Combine,
    /// Partials to the result.
    Finish {
        /// Whether reduced axes stay as length-one axes.
        keepdims: bool,
    },
}

/// One task of a tree reduction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reduce {
    /// Element type of the reduced array.
    pub dtype: DType,
    /// The reduction.
    pub reduction: Reduction,
    /// The reduced axes.
    pub axes: Vec<usize>,
    /// For arg reductions: the one axis, or none for the flattened array.
    pub arg_axis: Option<usize>,
    /// The stage.
    pub stage: Stage,
}

fn merge_all<A: Clone>(
    parts: Vec<&ArrayD<A>>,
    f: impl Fn(&ArrayD<A>, &ArrayD<A>) -> Result<ArrayD<A>>,
) -> Result<ArrayD<A>> {
    let mut it = parts.into_iter();
    let first = it
        .next()
        .ok_or_else(|| Error::user("a reduction of no chunks"))?;
    let mut acc: Option<ArrayD<A>> = None;
    for p in it {
        acc = Some(f(acc.as_ref().unwrap_or(first), p)?);
    }
    Ok(acc.unwrap_or_else(|| first.clone()))
}

impl Reduce {
    fn num<T: Num>(&self, inputs: &[Value]) -> Result<Value> {
        let r = self.reduction;
        let axes = &self.axes;
        if r.is_moments() {
            let skip = matches!(r, Reduction::NanMean);
            let merged = match &self.stage {
                Stage::Chunk { .. } => {
                    arity(Self::NAME, inputs, 1)?;
                    return Ok(<T::Float as moments::Stat>::value(moments::chunk(
                        T::array(&inputs[0])?,
                        axes,
                        skip,
                    )));
                }
                _ => {
                    let parts = inputs
                        .iter()
                        .map(<T::Float as moments::Stat>::partial)
                        .collect::<Result<Vec<_>>>()?;
                    let mut it = parts.into_iter();
                    let first = it
                        .next()
                        .ok_or_else(|| Error::user("a reduction of no chunks"))?;
                    let mut acc = first.clone();
                    for p in it {
                        moments::merge_into(&mut acc, p)?;
                    }
                    acc
                }
            };
            return Ok(match self.stage {
                Stage::Finish { keepdims } => {
                    let out: ArrayD<T::Float> = moments::finish(&merged, r)?;
                    <T::Float as Elem>::value(rk::squeeze(out, axes, keepdims))
                }
                _ => <T::Float as moments::Stat>::value(merged),
            });
        }
        if r.is_arg() {
            return self.arg::<T>(inputs);
        }
        if matches!(r, Reduction::Any | Reduction::All) {
            return self.logical::<T>(inputs);
        }
        let merged = match &self.stage {
            Stage::Chunk { .. } => {
                arity(Self::NAME, inputs, 1)?;
                return Ok(T::value(rk::chunk_fold(T::array(&inputs[0])?, axes, r)));
            }
            _ => merge_all(arrays::<T>(inputs)?, |a, b| rk::merge_fold(a, b, r))?,
        };
        Ok(match self.stage {
            Stage::Finish { keepdims } => T::value(rk::squeeze(merged, axes, keepdims)),
            _ => T::value(merged),
        })
    }

    fn logical<T: Elem>(&self, inputs: &[Value]) -> Result<Value> {
        let all = matches!(self.reduction, Reduction::All);
        let merged = match &self.stage {
            Stage::Chunk { .. } => {
                arity(Self::NAME, inputs, 1)?;
                return Ok(bool::value(rk::chunk_logical(
                    T::array(&inputs[0])?,
                    &self.axes,
                    all,
                )));
            }
            _ => merge_all(arrays::<bool>(inputs)?, |a, b| rk::merge_logical(a, b, all))?,
        };
        Ok(match self.stage {
            Stage::Finish { keepdims } => bool::value(rk::squeeze(merged, &self.axes, keepdims)),
            _ => bool::value(merged),
        })
    }

    fn arg<T: Elem>(&self, inputs: &[Value]) -> Result<Value> {
        let min = matches!(self.reduction, Reduction::ArgMin);
        let merged = match &self.stage {
            Stage::Chunk { place } => {
                arity(Self::NAME, inputs, 1)?;
                let place = place
                    .clone()
                    .ok_or_else(|| Error::user("an arg reduction needs the chunk's place"))?;
                return Ok(f64::value(rk::chunk_arg(
                    T::array(&inputs[0])?,
                    self.arg_axis,
                    min,
                    &place,
                )?));
            }
            _ => merge_all(arrays::<f64>(inputs)?, |a, b| rk::merge_arg(a, b, min))?,
        };
        Ok(match self.stage {
            Stage::Finish { keepdims } => {
                i64::value(rk::squeeze(rk::finish_arg(&merged)?, &self.axes, keepdims))
            }
            _ => f64::value(merged),
        })
    }
}

fn arrays<T: Elem>(inputs: &[Value]) -> Result<Vec<&ArrayD<T>>> {
    inputs.iter().map(|v| T::array(v)).collect()
}

impl Spec for Reduce {
    const NAME: &'static str = "brisk::array::reduce";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let r = self.reduction;
        if let Stage::Chunk { .. } = self.stage {
            // Axes come from the parameters: check them against the chunk first.
            let ndim = for_dtype!(self.dtype, T => T::array(inputs.first().ok_or_else(|| Error::user("a reduction of no chunks"))?)?.ndim());
            let mut seen = vec![false; ndim];
            for &ax in self.axes.iter().chain(self.arg_axis.iter()) {
                if ax >= ndim
                    || (std::mem::replace(&mut seen[ax], true) && self.arg_axis != Some(ax))
                {
                    return Err(Error::user(format!(
                        "reduction axes {:?} for a chunk of {ndim} axes",
                        self.axes
                    )));
                }
            }
        }
        for_dtype!(num self.dtype, T => self.num::<T>(inputs), bool => {
            match r {
                Reduction::Any | Reduction::All => self.logical::<bool>(inputs),
                Reduction::ArgMin | Reduction::ArgMax => self.arg::<bool>(inputs),
                _ => Err(not_for_bool(&format!("{r:?}"))),
            }
        })
    }
}

/// Cumulative sum of a chunk along an axis, plus the carried totals of the chunks
/// before it (a second input) when there are any.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cumsum {
    /// Element type.
    pub dtype: DType,
    /// The axis.
    pub axis: usize,
}

impl Spec for Cumsum {
    const NAME: &'static str = "brisk::array::cumsum";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        for_dtype!(num self.dtype, T => {
            let a = T::array(inputs.first().ok_or_else(|| Error::user("cumsum of nothing"))?)?;
            let carry = inputs.get(1).map(|v| T::array(v)).transpose()?;
            Ok(T::value(kernels::cumsum(a, self.axis, carry)?))
        }, bool => Err(not_for_bool("cumsum")))
    }
}

/// How a created chunk is filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Fill {
    /// Every element the same.
    Value(f64),
    /// `start + step * i` for the global position `i` along a 1-D array.
    Range {
        /// First value.
        start: f64,
        /// Step.
        step: f64,
        /// Global position of the chunk's first element.
        offset: usize,
    },
    /// Seeded random numbers that depend only on the seed and each element's global
    /// position, so any chunking gives the same array.
    Random {
        /// Seed.
        seed: u64,
        /// Distribution.
        dist: Dist,
        /// Where the chunk lies.
        place: Place,
    },
}

/// A random distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Dist {
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
}

/// A chunk made from nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Create {
    /// Element type.
    pub dtype: DType,
    /// Shape of the chunk.
    pub shape: Vec<usize>,
    /// How it is filled.
    pub fill: Fill,
}

/// A counter-based generator: 64 random bits for (seed, position).
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The random value of global flat position `i`.
pub(crate) fn random_at(seed: u64, dist: Dist, i: u64) -> f64 {
    let a = unit(mix(seed, 2 * i));
    match dist {
        Dist::Uniform { low, high } => low + (high - low) * a,
        Dist::Normal { mean, std } => {
            let b = unit(mix(seed, 2 * i + 1));
            let r = (-2.0 * (1.0 - a).ln()).sqrt();
            mean + std * r * (std::f64::consts::TAU * b).cos()
        }
    }
}

fn create<T: Elem>(c: &Create) -> Result<ArrayD<T>> {
    let shape = IxDyn(&c.shape);
    Ok(match &c.fill {
        Fill::Value(v) => ArrayD::from_elem(shape, T::from_f64(*v)),
        Fill::Range {
            start,
            step,
            offset,
        } => {
            let n = c.shape.iter().product::<usize>();
            let v: Vec<T> = (0..n)
                .map(|i| T::from_f64(start + step * (offset + i) as f64))
                .collect();
            ArrayD::from_shape_vec(shape, v).map_err(|e| Error::user(e.to_string()))?
        }
        Fill::Random { seed, dist, place } => ArrayD::from_shape_fn(shape, |idx| {
            let flat = place.flat(idx.slice());
            T::from_f64(random_at(*seed, *dist, flat as u64))
        }),
    })
}

impl Spec for Create {
    const NAME: &'static str = "brisk::array::create";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 0)?;
        for_dtype!(self.dtype, T => Ok(T::value(create::<T>(self)?)))
    }
}

/// A chunk with its axes permuted (`transpose`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transpose {
    /// Element type.
    pub dtype: DType,
    /// The new order of the axes.
    pub perm: Vec<usize>,
}

impl Spec for Transpose {
    const NAME: &'static str = "brisk::array::transpose";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => {
            let a = T::array(&inputs[0])?;
            if self.perm.len() != a.ndim() {
                return Err(Error::user(format!("transpose: {} axes for a chunk of {}", self.perm.len(), a.ndim())));
            }
            let mut seen = vec![false; a.ndim()];
            for &p in &self.perm {
                if p >= a.ndim() || std::mem::replace(&mut seen[p], true) {
                    return Err(Error::user(format!("transpose: {:?} is not a permutation", self.perm)));
                }
            }
            let t = a.view().permuted_axes(IxDyn(&self.perm));
            Ok(T::value(t.as_standard_layout().into_owned()))
        })
    }
}

/// A chunk given a new shape of the same size (C order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reshape {
    /// Element type.
    pub dtype: DType,
    /// The new shape.
    pub shape: Vec<usize>,
}

impl Spec for Reshape {
    const NAME: &'static str = "brisk::array::reshape";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => {
            let a = T::array(&inputs[0])?;
            let v: Vec<T> = a.iter().copied().collect();
            Ok(T::value(ArrayD::from_shape_vec(IxDyn(&self.shape), v).map_err(|e| {
                Error::user(format!("cannot reshape a chunk of shape {:?} to {:?}: {e}", a.shape(), self.shape))
            })?))
        })
    }
}

/// The sum over pairs of chunks of their tensor products contracted over
/// `axes_a` / `axes_b` (inputs: a0, b0, a1, b1, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tensordot {
    /// Element type.
    pub dtype: DType,
    /// Contracted axes of the left chunks.
    pub axes_a: Vec<usize>,
    /// Contracted axes of the right chunks.
    pub axes_b: Vec<usize>,
}

fn as_matrix<T: Num>(
    a: &ArrayD<T>,
    contracted: &[usize],
    contracted_first: bool,
) -> Result<(ndarray::Array2<T>, Vec<usize>)> {
    let free: Vec<usize> = (0..a.ndim()).filter(|k| !contracted.contains(k)).collect();
    let perm: Vec<usize> = if contracted_first {
        contracted.iter().chain(&free).copied().collect()
    } else {
        free.iter().chain(contracted).copied().collect()
    };
    let free_shape: Vec<usize> = free.iter().map(|&k| a.shape()[k]).collect();
    let k: usize = contracted.iter().map(|&k| a.shape()[k]).product();
    let m: usize = free_shape.iter().product();
    let v: Vec<T> = a
        .view()
        .permuted_axes(IxDyn(&perm))
        .iter()
        .copied()
        .collect();
    let shape = if contracted_first { (k, m) } else { (m, k) };
    let mat = ndarray::Array2::from_shape_vec(shape, v).map_err(|e| Error::user(e.to_string()))?;
    Ok((mat, free_shape))
}

fn matmul<T: Num>(a: &ndarray::Array2<T>, b: &ndarray::Array2<T>) -> ndarray::Array2<T> {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let mut out = ndarray::Array2::from_elem((m, n), T::ZERO);
    for i in 0..m {
        for p in 0..k {
            let x = a[(i, p)];
            let brow = b.row(p);
            let mut orow = out.row_mut(i);
            ndarray::Zip::from(&mut orow)
                .and(&brow)
                .for_each(|o, &y| *o = o.add(x.mul(y)));
        }
    }
    out
}

fn tensordot<T: Num>(t: &Tensordot, inputs: &[Value]) -> Result<Value> {
    if inputs.len() % 2 != 0 || inputs.is_empty() {
        return Err(Error::user("tensordot takes pairs of chunks"));
    }
    let mut acc: Option<ArrayD<T>> = None;
    for pair in inputs.chunks(2) {
        let (a, b) = (T::array(&pair[0])?, T::array(&pair[1])?);
        let ok = |axes: &[usize], n: usize| {
            axes.iter()
                .enumerate()
                .all(|(i, &k)| k < n && !axes[..i].contains(&k))
        };
        if !ok(&t.axes_a, a.ndim()) || !ok(&t.axes_b, b.ndim()) || t.axes_a.len() != t.axes_b.len()
        {
            return Err(Error::user(format!(
                "tensordot: axes {:?} / {:?} for chunks of {} and {} axes",
                t.axes_a,
                t.axes_b,
                a.ndim(),
                b.ndim()
            )));
        }
        let (ma, fa) = as_matrix(a, &t.axes_a, false)?;
        let (mb, fb) = as_matrix(b, &t.axes_b, true)?;
        if ma.dim().1 != mb.dim().0 {
            return Err(Error::user(format!(
                "tensordot: contracted sizes differ ({} vs {})",
                ma.dim().1,
                mb.dim().0
            )));
        }
        let prod = matmul(&ma, &mb);
        let shape: Vec<usize> = fa.iter().chain(&fb).copied().collect();
        let prod = ArrayD::from_shape_vec(IxDyn(&shape), prod.into_raw_vec_and_offset().0)
            .map_err(|e| Error::user(e.to_string()))?;
        acc = Some(match acc {
            None => prod,
            Some(s) => kernels::zip_with(&s, &prod, |x, y| x.add(y))?,
        });
    }
    acc.map(T::value)
        .ok_or_else(|| Error::user("tensordot of nothing"))
}

impl Spec for Tensordot {
    const NAME: &'static str = "brisk::array::tensordot";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        for_dtype!(num self.dtype, T => tensordot::<T>(self, inputs), bool => Err(not_for_bool("tensordot")))
    }
}

register!(
    Elementwise,
    Chain,
    Select,
    Assemble,
    Take,
    Masked,
    ChunkShape,
    Reduce,
    Cumsum,
    Create,
    Transpose,
    Reshape,
    Tensordot
);
