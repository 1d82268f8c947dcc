//! The steps of a fused chain of arithmetic, shared by the chain op and its
//! row-at-a-time kernel.

use super::dtype::Num;
use super::kernels::{self, BinOp, Unary};
use serde::{Deserialize, Serialize};

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
