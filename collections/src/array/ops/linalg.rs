//! The tensordot op: sums of tensor products of pairs of chunks (`tensordot`,
//! `matmul`, `dot`).

use super::common::{not_for_bool, register};
use crate::array::dtype::{for_dtype, DType, Num};
use crate::array::kernels;
use crate::error;
use brisk_core::spec_op::Spec;
use brisk_core::{Result, Value};
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

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
    let mat =
        ndarray::Array2::from_shape_vec(shape, v).map_err(|e| crate::error::ndarray("", e))?;
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
        return Err(error::malformed("tensordot takes pairs of chunks"));
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
            return Err(error::malformed(format!(
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
            return Err(error::shape(format!(
                "tensordot: contracted sizes differ ({} vs {})",
                ma.dim().1,
                mb.dim().0
            )));
        }
        let prod = matmul(&ma, &mb);
        let shape: Vec<usize> = fa.iter().chain(&fb).copied().collect();
        let prod = ArrayD::from_shape_vec(IxDyn(&shape), prod.into_raw_vec_and_offset().0)
            .map_err(|e| crate::error::ndarray("", e))?;
        acc = Some(match acc {
            None => prod,
            Some(s) => kernels::zip_with(&s, &prod, |x, y| x.add(y))?,
        });
    }
    acc.map(T::value)
        .ok_or_else(|| error::malformed("tensordot of nothing"))
}

impl Spec for Tensordot {
    const NAME: &'static str = "brisk::array::tensordot";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        for_dtype!(num self.dtype, T => tensordot::<T>(self, inputs), bool => Err(not_for_bool("tensordot")))
    }
}

register!(Tensordot);
