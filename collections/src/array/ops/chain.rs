//! The chain op: a fused chain of arithmetic such as `(x - m) / s`, one task per
//! block with one output allocation.

use super::common::{not_for_bool, register};
use crate::array::chain_link::{arith_unary, Link};
use crate::array::chain_rows::chain_by_rows;
use crate::array::dtype::{for_dtype, DType, Elem, Num};
use crate::array::kernels;
use crate::error;
use brisk_core::spec_op::Spec;
use brisk_core::{Result, Value};
use ndarray::{ArrayD, Zip};
use serde::{Deserialize, Serialize};

/// A fused chain of arithmetic on chunks of one numeric dtype, such as
/// `(x - m) / s`: one output allocation, the later steps in place.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Chain {
    /// Element type of every input and of the result.
    pub dtype: DType,
    /// The steps.
    pub links: Vec<Link>,
}

fn chain<T: Num>(links: &[Link], inputs: &[Value]) -> Result<ArrayD<T>> {
    let arrays = inputs.iter().map(T::array).collect::<Result<Vec<_>>>()?;
    if let Some(out) = chain_by_rows(links, &arrays) {
        return Ok(out);
    }
    let x0 = T::array(
        inputs
            .first()
            .ok_or_else(|| error::malformed("a chain without inputs"))?,
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
                let other = T::array(inputs.get(input).ok_or_else(|| {
                    error::malformed(format!("a chain step names input {input}"))
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
                                .ok_or_else(|| error::shape("chain: shapes do not broadcast"))?;
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
                    .ok_or_else(|| error::malformed(format!("{u:?} cannot be part of a chain")))?;
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

register!(Chain);
