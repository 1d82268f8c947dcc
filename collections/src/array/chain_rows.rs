//! A fused arithmetic chain evaluated a row at a time.
//!
//! `(x - m) / s` over a block: every step of the chain runs on one row of the
//! result (a lane along the last axis) while it is in the first-level cache, so the
//! block is read once and the result written once, whatever the length of the chain.
//! Each step's operation is chosen once per row, not per element, so the loops
//! vectorise.

use super::chain_link::{arith_unary, Link};
use super::dtype::Num;
use super::kernels::{self, BinOp};
use ndarray::{ArrayD, ArrayView1, ArrayViewD};

/// Rows shorter than this are not worth the per-row set-up.
const MIN_ROW: usize = 16;

/// The chain `links` on `inputs`, row by row, when the first input is a C-ordered
/// block of at least one full row and every other input broadcasts to its shape;
/// `None` otherwise (the caller takes the general path).
pub(crate) fn chain_by_rows<T: Num>(links: &[Link], inputs: &[&ArrayD<T>]) -> Option<ArrayD<T>> {
    let x0 = *inputs.first()?;
    let xs = x0.as_slice()?;
    let row = *x0.shape().last()?;
    if row < MIN_ROW || xs.is_empty() {
        return None;
    }
    // One broadcast view per step that reads an input, in step order.
    let mut views: Vec<ArrayViewD<'_, T>> = Vec::new();
    for link in links {
        match *link {
            Link::Input { input, .. } => views.push(inputs.get(input)?.broadcast(x0.raw_dim())?),
            Link::Unary(u) if arith_unary::<T>(u).is_none() => return None,
            Link::Unary(_) => {}
        }
    }
    let mut lanes: Vec<_> = views.iter().map(|v| v.rows().into_iter()).collect();
    let mut out: Vec<T> = Vec::with_capacity(xs.len());
    for src in xs.chunks_exact(row) {
        let start = out.len();
        out.extend_from_slice(src);
        let acc = &mut out[start..];
        let mut lane = lanes.iter_mut();
        for link in links {
            match *link {
                Link::Input { op, acc_left, .. } => step(op, acc_left, acc, lane.next()?.next()?),
                Link::Unary(u) => {
                    let g = arith_unary::<T>(u)?;
                    acc.iter_mut().for_each(|a| *a = g(*a));
                }
            }
        }
    }
    ArrayD::from_shape_vec(x0.raw_dim(), out).ok()
}

/// `acc op other` (or `other op acc`), element by element along one row.
fn step<T: Num>(op: BinOp, acc_left: bool, acc: &mut [T], other: ArrayView1<'_, T>) {
    match (op, acc_left) {
        (BinOp::Add, _) => each(acc, other, |a, b| a.add(b)),
        (BinOp::Mul, _) => each(acc, other, |a, b| a.mul(b)),
        (BinOp::Sub, true) => each(acc, other, |a, b| a.sub(b)),
        (BinOp::Sub, false) => each(acc, other, |a, b| b.sub(a)),
        (BinOp::Div, true) => each(acc, other, |a, b| a.div(b)),
        (BinOp::Div, false) => each(acc, other, |a, b| b.div(a)),
        (op, true) => each(acc, other, |a, b| kernels::arith(op, a, b)),
        (op, false) => each(acc, other, |a, b| kernels::arith(op, b, a)),
    }
}

#[inline(always)]
fn each<T: Copy>(acc: &mut [T], other: ArrayView1<'_, T>, f: impl Fn(T, T) -> T) {
    match other.as_slice() {
        Some(o) => acc.iter_mut().zip(o).for_each(|(a, &b)| *a = f(*a, b)),
        None => acc
            .iter_mut()
            .zip(other.iter())
            .for_each(|(a, &b)| *a = f(*a, b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn the_accumulator_may_be_either_operand() {
        let x = ArrayD::from_shape_fn(IxDyn(&[2, 20]), |i| (i[0] * 20 + i[1]) as f64 + 1.0);
        let y = ArrayD::from_shape_fn(IxDyn(&[20]), |i| i[0] as f64 * 2.0 - 7.0);
        for (op, acc_left, want) in [
            (BinOp::Sub, false, &y - &x),
            (BinOp::Div, false, &y / &x),
            (BinOp::Sub, true, &x - &y),
            (
                BinOp::Pow,
                false,
                ndarray::Zip::from(&x)
                    .and_broadcast(&y)
                    .map_collect(|&a, &b| b.powf(a)),
            ),
        ] {
            let links = [Link::Input {
                op,
                input: 1,
                acc_left,
            }];
            let got = chain_by_rows(&links, &[&x, &y]).expect("rows of 20");
            assert_eq!(got, want, "{op:?} acc_left={acc_left}");
        }
        // Short rows and operands that do not broadcast take the general path.
        let links = [Link::Input {
            op: BinOp::Add,
            input: 1,
            acc_left: true,
        }];
        let short = ArrayD::<f64>::zeros(IxDyn(&[4, 3]));
        assert!(chain_by_rows(&links, &[&short, &short]).is_none());
        let wide = ArrayD::<f64>::zeros(IxDyn(&[3, 20]));
        assert!(chain_by_rows(&links, &[&x, &wide]).is_none());
        assert!(chain_by_rows(
            &[Link::Input {
                op: BinOp::Add,
                input: 5,
                acc_left: true
            }],
            &[&x]
        )
        .is_none());
    }
}
