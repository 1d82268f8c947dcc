//! Arrays to `.npy` bytes and files.

use super::region::{local_path, Encoding};
use crate::array::array::Array;
use crate::array::dtype::{DType, Elem};
use brisk_core::executor::{default_executor, Executor};
use brisk_core::Result;
use brisk_io::url::StoreOptions;
use ndarray::ArrayD;

/// The `.npy` bytes of an array (format 1.0, C order, little-endian).
pub fn npy_bytes<T: Elem>(a: &ArrayD<T>) -> Vec<u8> {
    let mut out = npy_header::<T>(a.shape());
    out.reserve(a.len() * T::DTYPE.itemsize());
    for &x in a.iter() {
        x.put_le(&mut out);
    }
    out
}

/// The header of a `.npy` file of `T` and `shape` (the data follows it).
fn npy_header<T: Elem>(shape: &[usize]) -> Vec<u8> {
    let descr = match T::DTYPE {
        DType::Float32 => "<f4",
        DType::Float64 => "<f8",
        DType::Int8 => "|i1",
        DType::Int16 => "<i2",
        DType::Int32 => "<i4",
        DType::Int64 => "<i8",
        DType::UInt8 => "|u1",
        DType::UInt16 => "<u2",
        DType::UInt32 => "<u4",
        DType::UInt64 => "<u8",
        DType::Bool => "|b1",
    };
    let shape = match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + dict + newline, padded to 64.
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

impl<T: Elem> Array<T> {
    /// Writes the array to `url` as one `.npy` file. A local file gets its
    /// header here and each block is written into its place by its own task
    /// (so on a cluster the data never passes through this process); another
    /// store gets the computed array as one object.
    pub fn to_npy(&self, url: &str, store: &StoreOptions) -> Result<()> {
        self.to_npy_with(url, store, default_executor()?.as_ref())
    }

    /// [`Array::to_npy`] on `executor`.
    pub fn to_npy_with(
        &self,
        url: &str,
        store: &StoreOptions,
        executor: &dyn Executor,
    ) -> Result<()> {
        if let Some(path) = local_path(url) {
            let header = npy_header::<T>(&self.shape()?);
            let begin = header.len() as u64;
            self.write_regions(&path, &header, begin, 0, Encoding::Native, executor)?;
            return Ok(());
        }
        let a = self.compute_with(executor)?;
        brisk_io::objects::put(url, npy_bytes(&a), store)?;
        Ok(())
    }
}
