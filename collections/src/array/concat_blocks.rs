//! Computed blocks joined into one ndarray, each copied once into its place.

use super::dtype::Elem;
use super::grid::{ndindex, ravel};
use crate::error;
use brisk_core::{Error, Result, Value};
use ndarray::{ArrayD, IxDyn};
use std::sync::Arc;

/// Joins computed blocks (C order over `grid`) into one array, copying each block
/// once into place. Blocks whose shapes do not line up are an error.
pub(crate) fn concat_blocks<T: Elem>(values: Vec<Value>, grid: &[usize]) -> Result<ArrayD<T>> {
    if values.len() == 1 {
        let v = values.into_iter().next().unwrap_or_else(|| unreachable!());
        let any: Arc<dyn std::any::Any + Send + Sync> = v;
        return match any.downcast::<ArrayD<T>>() {
            Ok(a) => Ok(Arc::try_unwrap(a).unwrap_or_else(|a| (*a).clone())),
            Err(_) => Err(Error::TypeMismatch {
                expected: format!("ndarray<{}>", T::DTYPE),
                found: "another value".into(),
            }),
        };
    }
    let arrays = values
        .iter()
        .map(|v| T::array(v))
        .collect::<Result<Vec<_>>>()?;
    let ndim = grid.len();
    // Sizes along each axis from the blocks at index 0 of the other axes.
    let mut sizes: Vec<Vec<usize>> = Vec::with_capacity(ndim);
    for ax in 0..ndim {
        let mut s = Vec::with_capacity(grid[ax]);
        for i in 0..grid[ax] {
            let mut idx = vec![0; ndim];
            idx[ax] = i;
            let a = arrays[ravel(&idx, grid)];
            if a.ndim() != ndim {
                return Err(error::shape(format!(
                    "a block has {} axes, expected {ndim}",
                    a.ndim()
                )));
            }
            s.push(a.shape()[ax]);
        }
        sizes.push(s);
    }
    let shape: Vec<usize> = sizes.iter().map(|s| s.iter().sum()).collect();
    for (idx, a) in ndindex(grid).zip(&arrays) {
        let want: Vec<usize> = (0..ndim).map(|k| sizes[k][idx[k]]).collect();
        if a.shape() != want.as_slice() {
            return Err(error::shape(format!(
                "block {idx:?} has shape {:?} but its neighbours need {want:?}",
                a.shape()
            )));
        }
    }
    // Every block copied into its own disjoint part of the output, in parallel.
    let mut out = ArrayD::from_elem(IxDyn(&shape), T::default());
    let views = split_grid(out.view_mut(), &sizes, 0);
    use rayon::prelude::*;
    views
        .into_par_iter()
        .zip(arrays.par_iter())
        .for_each(|(mut v, a)| v.assign(*a));
    Ok(out)
}

/// `v` cut into the blocks of `sizes` (per axis, from `axis` on), in C order.
fn split_grid<'a, T>(
    v: ndarray::ArrayViewMutD<'a, T>,
    sizes: &[Vec<usize>],
    axis: usize,
) -> Vec<ndarray::ArrayViewMutD<'a, T>> {
    if axis == sizes.len() {
        return vec![v];
    }
    let mut out = Vec::new();
    let mut rest = v;
    for &s in &sizes[axis] {
        let (head, tail) = rest.split_at(ndarray::Axis(axis), s);
        out.extend(split_grid(head, sizes, axis + 1));
        rest = tail;
    }
    out
}

/// The places of the blocks in `view`, one disjoint mutable view each, in C order
/// of the block grid (`sizes[k]`: the chunk sizes along axis `k`, from `axis` on).
pub(crate) fn block_views<'a, T>(
    view: ndarray::ArrayViewMutD<'a, T>,
    sizes: &[Vec<usize>],
    axis: usize,
) -> Vec<ndarray::ArrayViewMutD<'a, T>> {
    let Some(along) = sizes.get(axis) else {
        return vec![view];
    };
    let mut out = Vec::new();
    let mut rest = view;
    for &n in along {
        let (head, tail) = rest.split_at(ndarray::Axis(axis), n);
        out.extend(block_views(head, sizes, axis + 1));
        rest = tail;
    }
    out
}
