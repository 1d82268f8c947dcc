//! Brisk's Parquet writer: Polars' column encoders, with float columns whose values
//! repeat stored dictionary-encoded.
//!
//! Polars' own writer stores every float column plain, eight bytes a value before
//! compression: it dictionary-encodes integers and strings, not floats. pyarrow (the
//! writer behind dask.dataframe's `to_parquet`), Spark and DuckDB dictionary-encode
//! floats that repeat, such as amounts in cents, so their files are smaller and a
//! reader decompresses a fraction of the bytes. Here a float column of a row group is
//! dictionary-encoded when its dictionary and its bit-packed indices take at most
//! half the bytes of the plain values (so a column of mostly distinct values, such as
//! coordinates, stays plain, where zstd does better on it than a dictionary would);
//! every other column is encoded as Polars encodes it. The schema stored in the file
//! is the frame's own, so every reader sees Float64 columns with the same values, bit
//! for bit.

use polars::prelude as pl;
use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_arrow::types::NativeType;
use polars_parquet::parquet::error::ParquetError;
use polars_parquet::write::{
    array_to_columns, get_dtype_encoding, CompressionOptions, Compressor, DynIter,
    DynStreamingIterator, FallibleStreamingIterator, FileWriter, StatisticsOptions, Version,
    WriteOptions,
};
use std::hash::Hash;
use std::io::Write;

/// Rows in a row group when none is asked for (Polars' default).
pub const DEFAULT_ROW_GROUP: usize = 512 * 512;

/// Writes `df` to `out` as one Parquet file, zstd-compressed, in row groups of
/// `row_group` rows; returns the file's size in bytes.
///
/// ```
/// use brisk_collections::dataframe::{polars, polars::prelude as pl, write_parquet};
/// use pl::SerReader;
///
/// let df = polars::df!("price" => [2.5, 2.5, 3.0, 2.5], "n" => [1i64, 2, 3, 4]).unwrap();
/// let mut file = Vec::new();
/// write_parquet(&df, &mut file, 2).unwrap();
/// let back = pl::ParquetReader::new(std::io::Cursor::new(file)).finish().unwrap();
/// assert!(back.equals(&df));
/// ```
pub fn write_parquet(
    df: &pl::DataFrame,
    out: impl Write,
    row_group: usize,
) -> pl::PolarsResult<u64> {
    let level = pl::CompatLevel::newest();
    let schema: polars_arrow::datatypes::ArrowSchema = df
        .schema()
        .iter()
        .map(|(name, dtype)| (name.clone(), dtype.to_arrow_field(name.clone(), level)))
        .collect();
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        version: Version::V1,
        compression: CompressionOptions::Zstd(None),
        data_page_size: None,
    };
    let encodings: Vec<_> = schema
        .iter_values()
        .map(|f| get_dtype_encoding(&f.dtype))
        .collect();
    let mut writer = FileWriter::try_new(out, schema, options)?;
    let fields = writer.parquet_schema().fields().to_vec();
    let row_group = row_group.max(1);
    let mut offset = 0;
    while offset < df.height() {
        let mut part = df.slice(offset as i64, row_group);
        part.rechunk_mut();
        // Each column's pages, encoded here so that an encoder's error is returned
        // (polars-parquet's row-group iterator unwraps it).
        let mut columns = Vec::new();
        for ((c, field), encoding) in part.columns().iter().zip(&fields).zip(&encodings) {
            let array = dictionary_floats(c.as_materialized_series().to_arrow(0, level));
            for pages in array_to_columns(array, field.clone(), options, encoding)? {
                let pages = DynIter::new(
                    pages.map(|page| page.map_err(|e| ParquetError::OutOfSpec(e.to_string()))),
                );
                let compressed = Compressor::new(pages, options.compression, vec![])
                    .map_err(pl::PolarsError::from);
                columns.push(Ok(DynStreamingIterator::new(compressed)));
            }
        }
        writer.write(part.height() as u64, DynIter::new(columns.into_iter()))?;
        offset += row_group;
    }
    writer.end(None)
}

/// `array` as a dictionary array when it holds floats that are worth it (see the
/// module doc), else `array` itself.
fn dictionary_floats(array: Box<dyn Array>) -> Box<dyn Array> {
    let built = match array.dtype() {
        ArrowDataType::Float64 => array
            .as_any()
            .downcast_ref::<PrimitiveArray<f64>>()
            .and_then(|a| dictionary(a, f64::to_bits)),
        ArrowDataType::Float32 => array
            .as_any()
            .downcast_ref::<PrimitiveArray<f32>>()
            .and_then(|a| dictionary(a, f32::to_bits)),
        _ => None,
    };
    built.unwrap_or(array)
}

/// The dictionary encoding of `array` (values told apart by their bits, so `-0.0`,
/// `0.0` and every NaN keep their own entries), or `None` when the dictionary and
/// its indices would take more than half the bytes of the plain values.
fn dictionary<T: NativeType, B: Hash + Eq>(
    array: &PrimitiveArray<T>,
    bits: fn(T) -> B,
) -> Option<Box<dyn Array>> {
    let n = array.len();
    let width = std::mem::size_of::<T>();
    let plain = n * width;
    // Past `n / 2` entries the dictionary alone is half the plain bytes.
    let most = n / 2;
    let mut index: pl::PlHashMap<B, u32> = pl::PlHashMap::default();
    let mut values: Vec<T> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(n);
    for (i, v) in array.values().iter().enumerate() {
        if !array.is_valid(i) {
            keys.push(0);
            continue;
        }
        let next = values.len() as u32;
        let key = *index.entry(bits(*v)).or_insert_with(|| {
            values.push(*v);
            next
        });
        if values.len() > most {
            return None;
        }
        keys.push(key);
    }
    if values.is_empty() {
        return None;
    }
    let index_bits = (usize::BITS - (values.len() - 1).leading_zeros()).max(1) as usize;
    if values.len() * width + n * index_bits / 8 > plain / 2 {
        return None;
    }
    let keys = PrimitiveArray::new(
        ArrowDataType::UInt32,
        keys.into(),
        array.validity().cloned(),
    );
    let values = PrimitiveArray::new(array.dtype().clone(), values.into(), None);
    let dtype =
        ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(array.dtype().clone()), false);
    DictionaryArray::try_new(dtype, keys, values.boxed())
        .ok()
        .map(|d| d.boxed())
}
