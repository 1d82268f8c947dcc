//! Shape arithmetic shared by graph building and kernels: the C-order walk over a
//! grid of blocks, a position in it, and byte counts that must not overflow.

use crate::error;
use brisk_core::Result;

/// Every index of a grid of `shape`, in C order.
pub(crate) fn ndindex(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let total: usize = shape.iter().product();
    let n = if shape.is_empty() { 1 } else { total };
    (0..n).map(move |mut flat| {
        let mut idx = vec![0; shape.len()];
        for k in (0..shape.len()).rev() {
            idx[k] = flat % shape[k];
            flat /= shape[k];
        }
        idx
    })
}

/// The C-order position of `idx` in a grid of `shape`.
pub(crate) fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

/// The bytes of an array of `shape`, or an error when they cannot be counted.
pub(crate) fn checked_size(shape: &[usize], itemsize: usize) -> Result<usize> {
    shape
        .iter()
        .try_fold(itemsize, |a, &d| a.checked_mul(d))
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or_else(|| {
            error::invalid(format!(
                "an array of shape {shape:?} is too large to address"
            ))
        })
}
