//! Arrays to `.npy` bytes and files.

use crate::array::array::Array;
use crate::array::dtype::{DType, Elem};
use brisk_core::Result;
use brisk_io::url::StoreOptions;
use ndarray::ArrayD;

/// The `.npy` bytes of an array (format 1.0, C order, little-endian).
pub fn npy_bytes<T: Elem>(a: &ArrayD<T>) -> Vec<u8> {
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
    let shape = match a.shape() {
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
    let mut out = Vec::with_capacity(10 + dict.len() + a.len() * T::DTYPE.itemsize());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    for &x in a.iter() {
        x.put_le(&mut out);
    }
    out
}

impl<T: Elem> Array<T> {
    /// Computes the array and writes it to `url` as one `.npy` file.
    pub fn to_npy(&self, url: &str, store: &StoreOptions) -> Result<()> {
        let a = self.compute()?;
        brisk_io::objects::put(url, npy_bytes(&a), store)?;
        Ok(())
    }
}
