//! `DataFrame::to_array` / `Series::to_array`: partitions as 2-D (or 1-D) array
//! blocks whose row counts are unknown until computed, as Dask's `to_dask_array()`.

use super::frame::frame;
use super::{DataFrame, Series};
use crate::array::{Array, AxisChunks, Block, DType, Elem, Meta};
use crate::error;
use brisk_core::op::OpRegistration;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::token::Bytes;
use brisk_core::{Error, Result, Value};
use ndarray::{ArrayD, IxDyn};
use polars::prelude as pl;
use serde::{Deserialize, Serialize};

/// One partition's columns as a block of `dtype` (rows × columns, or rows when
/// `flat`); nulls become NaN (floats) or 0.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameToArray {
    /// The element type.
    pub dtype: DType,
    /// The columns, in order.
    pub columns: Vec<String>,
    /// A 1-D block (one column).
    pub flat: bool,
}

fn block<T: Elem>(df: &pl::DataFrame, columns: &[String], flat: bool) -> Result<ArrayD<T>> {
    let rows = df.height();
    let mut cols: Vec<Vec<f64>> = Vec::with_capacity(columns.len());
    for name in columns {
        let c = df
            .column(name)
            .and_then(|c| c.cast(&pl::DataType::Float64))
            .map_err(|e| error::polars(format!("to_array: column {name}"), e))?;
        let ca = c.f64().map_err(|e| error::polars("", e))?;
        cols.push(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect());
    }
    let ncols = columns.len();
    let mut out = Vec::with_capacity(rows * ncols);
    for r in 0..rows {
        for c in &cols {
            out.push(T::from_f64(c[r]));
        }
    }
    let shape: Vec<usize> = if flat { vec![rows] } else { vec![rows, ncols] };
    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| error::ndarray("", e))
}

impl Spec for FrameToArray {
    const NAME: &'static str = "brisk::dataframe::to_array";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let [v] = inputs else {
            return Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 1,
                found: inputs.len(),
            });
        };
        let df = frame(v)?;
        crate::array::for_dtype!(self.dtype, T => Ok(T::value(block::<T>(df, &self.columns, self.flat)?)))
    }
}

inventory::submit! { OpRegistration { name: FrameToArray::NAME, rebuild: rebuild_spec::<FrameToArray> } }

fn convert<T: Elem>(df: &DataFrame, columns: Vec<String>, flat: bool) -> Result<Array<T>> {
    let parts = df.parts(&[])?;
    let spec = FrameToArray {
        dtype: T::DTYPE,
        columns: columns.clone(),
        flat,
    };
    let params = crate::array::spec_bytes(&spec)?;
    let op = crate::array::op(spec);
    let mut chunks = vec![AxisChunks::Unknown(parts.npartitions)];
    if !flat {
        chunks.push(AxisChunks::Known(vec![columns.len()]));
    }
    let m = Meta::build(
        "to_array",
        &[&parts.name.as_str(), &Bytes(&params)],
        &[&parts.graph],
        chunks,
        T::DTYPE,
        |idx| Ok(Block::Task(op.clone(), vec![parts.key(idx[0])])),
    )?;
    Ok(Array::wrap(m))
}

impl DataFrame {
    /// The frame's columns as a 2-D array of `T` (rows × columns), one block per
    /// partition with row counts unknown until computed (`compute_chunk_sizes()`);
    /// nulls become NaN for floats.
    pub fn to_array<T: Elem>(&self) -> Result<Array<T>> {
        convert(self, self.columns(), false)
    }
}

impl Series {
    /// The column as a 1-D array of `T`, one block per partition with unknown sizes.
    pub fn to_array<T: Elem>(&self) -> Result<Array<T>> {
        convert(&self.frame, vec![self.name().to_string()], true)
    }
}
