//! Products of arrays (`tensordot`, `matmul`, `dot`) and user functions on blocks
//! (`map_blocks`, `blockwise`).

use super::array::Array;
use super::chunks::AxisChunks;
use super::dtype::{Elem, Num};
use super::grid::ndindex;
use super::meta::{op, Block, Meta};
use super::ops::Tensordot;
use crate::error;
use crate::user_fn::{Code, IntoCode, OnValue};
use brisk_core::op::{ClosureOp, Op};
use brisk_core::{Result, Value};
use ndarray::ArrayD;
use std::sync::Arc;

impl<T: Num> Array<T> {
    /// The tensor product contracted over `axes_a` of this array and `axes_b` of
    /// `other` (NumPy's `tensordot`). The result's axes are this array's free axes
    /// then `other`'s. `other` is rechunked so that contracted blocks line up.
    pub fn tensordot(
        &self,
        other: &Array<T>,
        axes_a: &[usize],
        axes_b: &[usize],
    ) -> Result<Array<T>> {
        let (a, b) = (&self.meta, &other.meta);
        let repeated = |axes: &[usize]| axes.iter().enumerate().any(|(i, k)| axes[..i].contains(k));
        if axes_a.len() != axes_b.len()
            || axes_a.iter().any(|&k| k >= a.ndim())
            || axes_b.iter().any(|&k| k >= b.ndim())
            || repeated(axes_a)
            || repeated(axes_b)
        {
            return Err(error::invalid(format!(
                "tensordot: bad axes {axes_a:?} / {axes_b:?} for {} and {} axes",
                a.ndim(),
                b.ndim()
            )));
        }
        let mut want = b.chunks.clone();
        for (&ka, &kb) in axes_a.iter().zip(axes_b) {
            if a.chunks[ka].size() != b.chunks[kb].size() {
                return Err(error::shape(format!(
                    "tensordot: contracted axes differ in length ({:?} vs {:?})",
                    a.chunks[ka].size(),
                    b.chunks[kb].size()
                )));
            }
            want[kb] = a.chunks[ka].clone();
        }
        let b = if want == b.chunks {
            b.clone()
        } else {
            super::shape::rechunk_meta(b, &want)?
        };
        let free_a: Vec<usize> = (0..a.ndim()).filter(|k| !axes_a.contains(k)).collect();
        let free_b: Vec<usize> = (0..b.ndim()).filter(|k| !axes_b.contains(k)).collect();
        let chunks: Vec<AxisChunks> = free_a
            .iter()
            .map(|&k| a.chunks[k].clone())
            .chain(free_b.iter().map(|&k| b.chunks[k].clone()))
            .collect();
        let contracted: Vec<usize> = axes_a.iter().map(|&k| a.chunks[k].nblocks()).collect();
        let spec = Tensordot {
            dtype: a.dtype,
            axes_a: axes_a.to_vec(),
            axes_b: axes_b.to_vec(),
        };
        let the_op = op(spec);
        let m = Meta::build(
            "tensordot",
            &[
                &a.name.as_str(),
                &b.name.as_str(),
                &axes_a.to_vec(),
                &axes_b.to_vec(),
            ],
            &[&a.graph, &b.graph],
            chunks,
            a.dtype,
            |idx| {
                let mut inputs = Vec::new();
                for c in ndindex(&contracted) {
                    let mut ia = vec![0; a.ndim()];
                    let mut ib = vec![0; b.ndim()];
                    for (j, &k) in free_a.iter().enumerate() {
                        ia[k] = idx[j];
                    }
                    for (j, &k) in free_b.iter().enumerate() {
                        ib[k] = idx[free_a.len() + j];
                    }
                    for (j, (&ka, &kb)) in axes_a.iter().zip(axes_b).enumerate() {
                        ia[ka] = c[j];
                        ib[kb] = c[j];
                    }
                    inputs.push(a.key(&ia).clone());
                    inputs.push(b.key(&ib).clone());
                }
                Ok(Block::Task(the_op.clone(), inputs))
            },
        )?;
        Ok(Array::wrap(m))
    }

    /// Matrix product of 2-D arrays (or a 2-D and a 1-D array).
    pub fn matmul(&self, other: &Array<T>) -> Result<Array<T>> {
        if self.ndim() != 2 || !(1..=2).contains(&other.ndim()) {
            return Err(error::invalid(format!(
                "matmul: arrays of {} and {} axes; expected 2 and 1 or 2",
                self.ndim(),
                other.ndim()
            )));
        }
        self.tensordot(other, &[1], &[0])
    }

    /// NumPy's `dot` for 1-D and 2-D arrays: the last axis of this array with the
    /// first (1-D) or second-to-last (2-D) axis of `other`.
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>> {
        let ka = self
            .ndim()
            .checked_sub(1)
            .ok_or_else(|| error::invalid("dot of a 0-d array"))?;
        let kb = if other.ndim() >= 2 {
            other.ndim() - 2
        } else {
            0
        };
        self.tensordot(other, &[ka], &[kb])
    }
}

impl<T: Elem> Array<T> {
    /// `f` applied to every block (Dask's `map_blocks`): a registered function
    /// (`fn f(block: &ArrayD<T>) -> ArrayD<U>`, as `f::task_fn(bound…)`; runs on
    /// any scheduler) or a named closure `("name", |block: &ArrayD<T>| ->
    /// Result<ArrayD<U>>)` (this process only; the name stands for the closure in
    /// keys). The result has `chunks` when given, else this array's.
    ///
    /// ```
    /// use brisk_collections::array::{from_array, ndarray::{ArrayD, IxDyn}};
    /// use brisk_scheduler as _;
    ///
    /// #[brisk_macros::task]
    /// fn scaled(block: &ArrayD<f64>, #[bound] k: f64) -> ArrayD<f64> {
    ///     block * k
    /// }
    ///
    /// fn main() {
    ///     let a = ArrayD::from_shape_vec(IxDyn(&[4]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    ///     let x = from_array(&a, &[2]).unwrap();
    ///     let y = x.map_blocks(scaled::task_fn(10.0), None).unwrap();
    ///     assert_eq!(y.compute().unwrap().into_raw_vec_and_offset().0, [10.0, 20.0, 30.0, 40.0]);
    ///     let z = x.map_blocks(("plus-one", |b: &ArrayD<f64>| Ok(b + 1.0)), None).unwrap();
    ///     assert_eq!(z.compute().unwrap().into_raw_vec_and_offset().0, [2.0, 3.0, 4.0, 5.0]);
    /// }
    /// ```
    pub fn map_blocks<U: Elem, M>(
        &self,
        f: impl IntoCode<ArrayD<T>, ArrayD<U>, OnValue<ArrayD<T>, ArrayD<U>>, M>,
        chunks: Option<Vec<AxisChunks>>,
    ) -> Result<Array<U>> {
        let m = &self.meta;
        let chunks = chunks.unwrap_or_else(|| m.chunks.clone());
        if chunks.iter().map(AxisChunks::nblocks).collect::<Vec<_>>() != m.numblocks() {
            return Err(error::invalid(
                "map_blocks: the new chunks must have the same blocks as the array",
            ));
        }
        let (name, the_op): (String, Arc<dyn Op>) = match f.into_code() {
            Code::Registered(f) => (f.content_token()?.to_string(), f.op().clone()),
            Code::Closure(name, f) => {
                let op = Arc::new(ClosureOp::new(name.clone(), move |xs: &[Value]| {
                    let a = T::array(
                        xs.first()
                            .ok_or_else(|| error::malformed("map_blocks without input"))?,
                    )?;
                    Ok(U::value(f(a)?))
                }));
                (name, op)
            }
        };
        let out = Meta::build(
            "map_blocks",
            &[&m.name.as_str(), &name.as_str()],
            &[&m.graph],
            chunks,
            U::DTYPE,
            |idx| Ok(Block::Task(the_op.clone(), vec![m.key(idx).clone()])),
        )?;
        Ok(Array::wrap(out))
    }
}
