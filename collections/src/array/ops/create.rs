//! The create op: a chunk made from nothing (a constant, a range, seeded random
//! numbers).

use super::common::{arity, register};
use super::rng::{random_at, Dist};
use crate::array::dtype::{for_dtype, DType, Elem};
use crate::array::reduce_kernels::Place;
use brisk_core::spec_op::Spec;
use brisk_core::{Result, Value};
use ndarray::{ArrayD, Dimension, IxDyn};
use serde::{Deserialize, Serialize};

/// How a created chunk is filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Fill {
    /// Every element the same.
    Value(f64),
    /// `start + step * i` for the global position `i` along a 1-D array.
    Range {
        /// First value.
        start: f64,
        /// Step.
        step: f64,
        /// Global position of the chunk's first element.
        offset: usize,
    },
    /// Seeded random numbers that depend only on the seed and each element's global
    /// position, so any chunking gives the same array.
    Random {
        /// Seed.
        seed: u64,
        /// Distribution.
        dist: Dist,
        /// Where the chunk lies.
        place: Place,
    },
}

/// A chunk made from nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Create {
    /// Element type.
    pub dtype: DType,
    /// Shape of the chunk.
    pub shape: Vec<usize>,
    /// How it is filled.
    pub fill: Fill,
}

fn create<T: Elem>(c: &Create) -> Result<ArrayD<T>> {
    let shape = IxDyn(&c.shape);
    Ok(match &c.fill {
        Fill::Value(v) => ArrayD::from_elem(shape, T::from_f64(*v)),
        Fill::Range {
            start,
            step,
            offset,
        } => {
            let n = c.shape.iter().product::<usize>();
            let v: Vec<T> = (0..n)
                .map(|i| T::from_f64(start + step * (offset + i) as f64))
                .collect();
            ArrayD::from_shape_vec(shape, v).map_err(|e| crate::error::ndarray("", e))?
        }
        Fill::Random { seed, dist, place } => ArrayD::from_shape_fn(shape, |idx| {
            let flat = place.flat(idx.slice());
            T::from_f64(random_at(*seed, *dist, flat as u64))
        }),
    })
}

impl Spec for Create {
    const NAME: &'static str = "brisk::array::create";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        arity(Self::NAME, inputs, 0)?;
        for_dtype!(self.dtype, T => Ok(T::value(create::<T>(self)?)))
    }
}

register!(Create);
