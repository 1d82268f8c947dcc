//! The indexing ops: a basic index of a chunk, positions taken from several chunks
//! (integer lists) and the elements under a boolean mask.

use super::common::{arity, register};
use crate::array::dtype::{for_dtype, DType, Elem};
use crate::array::kernels::{self, Sel};
use brisk_core::spec_op::Spec;
use brisk_core::{Result, Value};
use serde::{Deserialize, Serialize};

/// A basic index applied to one chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Select {
    /// Element type.
    pub dtype: DType,
    /// One selection per axis, plus new axes.
    pub sel: Vec<Sel>,
}

impl Spec for Select {
    const NAME: &'static str = "brisk::array::select";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => Ok(T::value(kernels::select(T::array(&inputs[0])?, &self.sel)?)))
    }
}

/// Positions along an axis taken from several chunks (integer-list indexing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Take {
    /// Element type.
    pub dtype: DType,
    /// The axis.
    pub axis: usize,
    /// (input, position) per output position.
    pub picks: Vec<(usize, usize)>,
}

impl Spec for Take {
    const NAME: &'static str = "brisk::array::take";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        for_dtype!(self.dtype, T => {
            let arrays = inputs.iter().map(|v| T::array(v)).collect::<Result<Vec<_>>>()?;
            Ok(T::value(kernels::take(&arrays, self.axis, &self.picks)?))
        })
    }
}

/// The elements of a chunk where a boolean chunk is true, flattened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Masked {
    /// Element type.
    pub dtype: DType,
}

impl Spec for Masked {
    const NAME: &'static str = "brisk::array::masked";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 2)?;
        let m = bool::array(&inputs[1])?;
        for_dtype!(self.dtype, T => Ok(T::value(kernels::masked(T::array(&inputs[0])?, m)?)))
    }
}

register!(Select, Take, Masked);
