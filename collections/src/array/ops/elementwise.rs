//! The elementwise op: one-input functions, binary operations with broadcasting,
//! `where`, on chunks of any dtype.

use super::common::{arity, not_for_bool, register};
use crate::array::dtype::{for_dtype, DType, Elem, Num};
use crate::array::kernels::{self, BinOp, Unary};
use crate::error;
use brisk_core::spec_op::Spec;
use brisk_core::{Result, Value};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

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
                return Err(error::invalid(format!("{op:?} needs boolean arrays")));
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

register!(Elementwise);
