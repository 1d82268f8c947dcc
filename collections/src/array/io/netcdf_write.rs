//! Arrays to NetCDF classic files: one variable over named dimensions.

use super::region::{local_path, Encoding};
use crate::array::array::Array;
use crate::array::dtype::{DType, Elem};
use crate::error;
use brisk_core::executor::{default_executor, Executor};
use brisk_core::Result;
use brisk_io::netcdf3::{self, Data, Dim, NcFile, NewVar};
use brisk_io::url::StoreOptions;

/// How the classic format stores each dtype: it has no 64-bit integers (they go
/// as doubles, exact up to 2^53, as do unsigned 32-bit integers), and its
/// integers are signed (unsigned ones go one size up; booleans as shorts).
fn encoding(dtype: DType) -> Encoding {
    match dtype {
        DType::Float32 => Encoding::NcFloat,
        DType::Float64 | DType::Int64 | DType::UInt32 | DType::UInt64 => Encoding::NcDouble,
        DType::Int8 => Encoding::NcByte,
        DType::Int16 | DType::UInt8 | DType::Bool => Encoding::NcShort,
        DType::Int32 | DType::UInt16 => Encoding::NcInt,
    }
}

/// Values of `encoding` as NetCDF data (empty: a layout's type only).
fn data(encoding: Encoding, values: impl Iterator<Item = f64>) -> Data {
    match encoding {
        Encoding::NcByte => Data::Byte(values.map(|x| x as i8).collect()),
        Encoding::NcShort => Data::Short(values.map(|x| x as i16).collect()),
        Encoding::NcInt => Data::Int(values.map(|x| x as i32).collect()),
        Encoding::NcFloat => Data::Float(values.map(|x| x as f32).collect()),
        Encoding::NcDouble | Encoding::Native => Data::Double(values.collect()),
    }
}

impl<T: Elem> Array<T> {
    /// Writes the array to `url` as a NetCDF classic file with one variable
    /// `variable` over dimensions `dims` (float and integer types; booleans are
    /// written as shorts). A local file gets its header here and each block is
    /// written into its place by its own task (on a cluster the data never passes
    /// through this process); another store gets the computed array as one object.
    pub fn to_netcdf(
        &self,
        url: &str,
        variable: &str,
        dims: &[&str],
        store: &StoreOptions,
    ) -> Result<()> {
        self.to_netcdf_with(url, variable, dims, store, default_executor()?.as_ref())
    }

    /// [`Array::to_netcdf`] on `executor`.
    pub fn to_netcdf_with(
        &self,
        url: &str,
        variable: &str,
        dims: &[&str],
        store: &StoreOptions,
        executor: &dyn Executor,
    ) -> Result<()> {
        let shape = self.shape()?;
        if dims.len() != shape.len() {
            return Err(error::invalid(format!(
                "to_netcdf: {} dimension names for {} axes",
                dims.len(),
                shape.len()
            )));
        }
        let enc = encoding(T::DTYPE);
        let file = |values: Data| NcFile {
            dims: dims
                .iter()
                .zip(&shape)
                .map(|(n, &l)| Dim {
                    name: n.to_string(),
                    len: Some(l as u64),
                })
                .collect(),
            attrs: vec![],
            vars: vec![NewVar::new(
                variable,
                &(0..dims.len()).collect::<Vec<_>>(),
                values,
            )],
        };
        if let Some(path) = local_path(url) {
            let (header, begins, len) = netcdf3::fixed_layout(&file(data(enc, std::iter::empty())))
                .map_err(|e| error::in_file(url, e))?;
            let bytes = shape.iter().product::<usize>() as u64 * enc.itemsize(T::DTYPE) as u64;
            let tail = len - begins[0] - bytes;
            self.write_regions(&path, &header, begins[0], tail, enc, executor)?;
            return Ok(());
        }
        let a = self.compute_with(executor)?;
        let bytes = netcdf3::encode(&file(data(enc, a.iter().map(|x| x.to_f64()))))
            .map_err(|e| error::in_file(url, e))?;
        brisk_io::objects::put(url, bytes, store)?;
        Ok(())
    }
}
