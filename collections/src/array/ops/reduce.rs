//! The reduction ops: one task of a tree reduction (a chunk to a partial, partials
//! combined, the value finished), and the cumulative sum or product of a chunk.

use super::common::{arity, not_for_bool, register};
use crate::array::dtype::{for_dtype, DType, Elem, Num};
use crate::array::kernels;
use crate::array::moments;
use crate::array::reduce_kernels::{self as rk, Place, Reduction};
use crate::error;
use brisk_core::spec_op::Spec;
use brisk_core::{Result, Value};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

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
        .ok_or_else(|| error::malformed("a reduction of no chunks"))?;
    let mut acc: Option<ArrayD<A>> = None;
    for p in it {
        acc = Some(f(acc.as_ref().unwrap_or(first), p)?);
    }
    Ok(acc.unwrap_or_else(|| first.clone()))
}
impl Reduce {
    fn num<T: Num>(&self, inputs: &[Value]) -> Result<Value>
    where
        T::Float: moments::Stat,
    {
        let r = self.reduction;
        let axes = &self.axes;
        if r.is_moments() {
            let skip = r.skips_nan();
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
                        .ok_or_else(|| error::malformed("a reduction of no chunks"))?;
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
        if r.accumulates() {
            self.fold::<T, T::Acc>(inputs, T::acc)
        } else {
            self.fold::<T, T>(inputs, |x| x)
        }
    }

    /// A sum, product, minimum or maximum: chunks fold through `widen` into partials
    /// of type `A`, which merge and finish as `A`.
    fn fold<T: Num, A: Num>(&self, inputs: &[Value], widen: impl Fn(T) -> A) -> Result<Value> {
        let (r, axes) = (self.reduction, &self.axes);
        let merged = match &self.stage {
            Stage::Chunk { .. } => {
                arity(Self::NAME, inputs, 1)?;
                return Ok(A::value(rk::chunk_fold(
                    T::array(&inputs[0])?,
                    axes,
                    r,
                    widen,
                )));
            }
            _ => merge_all(arrays::<A>(inputs)?, |a, b| rk::merge_fold(a, b, r))?,
        };
        Ok(match self.stage {
            Stage::Finish { keepdims } => A::value(rk::squeeze(merged, axes, keepdims)),
            _ => A::value(merged),
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
                    .ok_or_else(|| error::malformed("an arg reduction needs the chunk's place"))?;
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
            let ndim = for_dtype!(self.dtype, T => T::array(inputs.first().ok_or_else(|| error::malformed("a reduction of no chunks"))?)?.ndim());
            let mut seen = vec![false; ndim];
            for &ax in self.axes.iter().chain(self.arg_axis.iter()) {
                if ax >= ndim
                    || (std::mem::replace(&mut seen[ax], true) && self.arg_axis != Some(ax))
                {
                    return Err(error::malformed(format!(
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

/// The cumulative sum or product of a chunk along an axis, in the accumulating
/// type, combined with the carried total of the chunks before it (a second input)
/// when there are any.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scan {
    /// Element type of the chunk.
    pub dtype: DType,
    /// The axis.
    pub axis: usize,
    /// A product rather than a sum.
    pub prod: bool,
    /// NaN counts as the identity (`nancumsum`, `nancumprod`).
    pub skip_nan: bool,
}

impl Spec for Scan {
    const NAME: &'static str = "brisk::array::scan";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        for_dtype!(num self.dtype, T => {
            let a = T::array(inputs.first().ok_or_else(|| error::malformed("a cumulative sum of nothing"))?)?;
            let carry = inputs.get(1).map(|v| <<T as Num>::Acc as Elem>::array(v)).transpose()?;
            Ok(<<T as Num>::Acc as Elem>::value(kernels::scan(a, self.axis, self.prod, self.skip_nan, carry)?))
        }, bool => Err(not_for_bool(if self.prod { "cumprod" } else { "cumsum" })))
    }
}

register!(Reduce, Scan);
