//! The ops that change a chunk's shape: assembled from parts of other chunks
//! (rechunk), transposed, reshaped, and the chunk's shape itself.

use super::common::{arity, register};
use crate::array::dtype::{for_dtype, DType, Elem};
use crate::array::kernels::{self, Region};
use crate::error;
use brisk_core::spec_op::Spec;
use brisk_core::{Result, Value};
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A chunk built from regions of several input chunks (rechunk).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assemble {
    /// Element type.
    pub dtype: DType,
    /// The output chunk's shape.
    pub shape: Vec<usize>,
    /// One region per input.
    pub regions: Vec<Region>,
}

impl Spec for Assemble {
    const NAME: &'static str = "brisk::array::assemble";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, self.regions.len())?;
        for_dtype!(self.dtype, T => {
            let arrays = inputs.iter().map(|v| T::array(v)).collect::<Result<Vec<_>>>()?;
            Ok(T::value(kernels::assemble(&self.shape, &arrays, &self.regions)?))
        })
    }
}

/// The shape of a chunk, as a `Vec<usize>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkShape {
    /// Element type.
    pub dtype: DType,
}

impl Spec for ChunkShape {
    const NAME: &'static str = "brisk::array::chunk_shape";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => Ok(Arc::new(T::array(&inputs[0])?.shape().to_vec())))
    }
}

/// A chunk with its axes permuted (`transpose`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transpose {
    /// Element type.
    pub dtype: DType,
    /// The new order of the axes.
    pub perm: Vec<usize>,
}

impl Spec for Transpose {
    const NAME: &'static str = "brisk::array::transpose";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => {
            let a = T::array(&inputs[0])?;
            if self.perm.len() != a.ndim() {
                return Err(error::malformed(format!("transpose: {} axes for a chunk of {}", self.perm.len(), a.ndim())));
            }
            let mut seen = vec![false; a.ndim()];
            for &p in &self.perm {
                if p >= a.ndim() || std::mem::replace(&mut seen[p], true) {
                    return Err(error::malformed(format!("transpose: {:?} is not a permutation", self.perm)));
                }
            }
            let t = a.view().permuted_axes(IxDyn(&self.perm));
            Ok(T::value(t.as_standard_layout().into_owned()))
        })
    }
}

/// A chunk given a new shape of the same size (C order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reshape {
    /// Element type.
    pub dtype: DType,
    /// The new shape.
    pub shape: Vec<usize>,
}

impl Spec for Reshape {
    const NAME: &'static str = "brisk::array::reshape";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 1)?;
        for_dtype!(self.dtype, T => {
            let a = T::array(&inputs[0])?;
            let v: Vec<T> = a.iter().copied().collect();
            Ok(T::value(ArrayD::from_shape_vec(IxDyn(&self.shape), v).map_err(|e| {
                crate::error::ndarray(format!("cannot reshape a chunk of shape {:?} to {:?}", a.shape(), self.shape), e)
            })?))
        })
    }
}

register!(Assemble, ChunkShape, Transpose, Reshape);
