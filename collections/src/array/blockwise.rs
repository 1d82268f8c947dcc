//! `blockwise(f, arrays)`: a user function on the aligned blocks of several
//! arrays of one shape (Dask's `blockwise` for elementwise-aligned inputs).

use super::array::Array;
use super::dtype::Elem;
use super::meta::{Block, Meta};
use crate::bag::task_fn::TaskFn;
use crate::bag::task_fn2::TaskFn2;
use crate::error;
use brisk_core::op::{ClosureOp, Op};
use brisk_core::{Result, Value};
use ndarray::ArrayD;
use std::sync::Arc;

/// What [`blockwise`] accepts: a registered function of one block
/// ([`TaskFn`]) or of two ([`TaskFn2`]), which runs on any scheduler, or a named
/// closure over the blocks (`("name", |blocks: &[&ArrayD<T>]| …)`, local only).
pub trait IntoBlocksFn<T, U> {
    /// What stands for the function in keys, its op, and how many arrays it
    /// takes (`None`: any number).
    fn into_blocks_fn(self) -> Result<(String, Arc<dyn Op>, Option<usize>)>;
}

impl<T, U> IntoBlocksFn<T, U> for TaskFn<ArrayD<T>, ArrayD<U>> {
    fn into_blocks_fn(self) -> Result<(String, Arc<dyn Op>, Option<usize>)> {
        Ok((
            self.content_token()?.to_string(),
            self.op().clone(),
            Some(1),
        ))
    }
}

impl<T, U> IntoBlocksFn<T, U> for TaskFn2<ArrayD<T>, ArrayD<T>, ArrayD<U>> {
    fn into_blocks_fn(self) -> Result<(String, Arc<dyn Op>, Option<usize>)> {
        Ok((self.token()?.to_string(), self.op().clone(), Some(2)))
    }
}

impl<T: Elem, U: Elem, F> IntoBlocksFn<T, U> for (&str, F)
where
    F: Fn(&[&ArrayD<T>]) -> Result<ArrayD<U>> + Send + Sync + 'static,
{
    fn into_blocks_fn(self) -> Result<(String, Arc<dyn Op>, Option<usize>)> {
        let (name, f) = self;
        let op = Arc::new(ClosureOp::new(name, move |xs: &[Value]| {
            let blocks = xs.iter().map(|v| T::array(v)).collect::<Result<Vec<_>>>()?;
            Ok(U::value(f(&blocks)?))
        }));
        Ok((name.to_string(), op, None))
    }
}

/// `f` applied to the aligned blocks of several arrays of the same shape (their
/// chunks are made equal to the first's): a registered function of one or two
/// blocks (`f::task_fn(bound…)`; runs on any scheduler) or a named closure over
/// the blocks (local only).
///
/// ```
/// use brisk_collections::array::{self, ndarray::{ArrayD, IxDyn}};
/// use brisk_scheduler as _;
///
/// #[brisk_macros::task]
/// fn hypot(a: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
///     ndarray::Zip::from(a).and(b).map_collect(|x, y| x.hypot(*y))
/// }
///
/// fn main() {
///     let x = ArrayD::from_shape_vec(IxDyn(&[2]), vec![3.0, 5.0]).unwrap();
///     let y = ArrayD::from_shape_vec(IxDyn(&[2]), vec![4.0, 12.0]).unwrap();
///     let (a, b) = (array::from_array(&x, &[1]).unwrap(), array::from_array(&y, &[2]).unwrap());
///     let h = array::blockwise(hypot::task_fn(), &[&a, &b]).unwrap();
///     assert_eq!(h.compute().unwrap().into_raw_vec_and_offset().0, [5.0, 13.0]);
/// }
/// ```
pub fn blockwise<T: Elem, U: Elem>(
    f: impl IntoBlocksFn<T, U>,
    arrays: &[&Array<T>],
) -> Result<Array<U>> {
    let (name, the_op, arity) = f.into_blocks_fn()?;
    let first = arrays
        .first()
        .ok_or_else(|| error::invalid("blockwise needs at least one array"))?;
    if let Some(n) = arity.filter(|&n| n != arrays.len()) {
        return Err(error::invalid(format!(
            "blockwise: {} takes {n} block(s), given {} arrays",
            the_op.name(),
            arrays.len()
        )));
    }
    let metas = arrays
        .iter()
        .map(|a| {
            if a.dims() != first.dims() {
                return Err(error::shape(format!(
                    "blockwise: shapes {:?} and {:?} differ",
                    a.dims(),
                    first.dims()
                )));
            }
            if a.meta.chunks == first.meta.chunks {
                Ok(a.meta.clone())
            } else {
                super::shape::rechunk_meta(&a.meta, &first.meta.chunks)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<&str> = metas.iter().map(|m| m.name.as_str()).collect();
    let deps: Vec<&brisk_core::Graph> = metas.iter().map(|m| &m.graph).collect();
    let out = Meta::build(
        "blockwise",
        &[&names, &name.as_str()],
        &deps,
        first.meta.chunks.clone(),
        U::DTYPE,
        |idx| {
            Ok(Block::Task(
                the_op.clone(),
                metas.iter().map(|m| m.key(idx).clone()).collect(),
            ))
        },
    )?;
    Ok(Array::wrap(out))
}
