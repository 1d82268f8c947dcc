//! `Tokenize` for Polars data frames and series: the schema (names and dtypes) and
//! every value in row order, nulls included, whatever the chunking in memory.
//!
//! Booleans, integers up to 64 bits, floats, strings and binary columns are hashed by
//! value; dates, datetimes, durations and times by their physical integers;
//! categoricals, enums and decimals by their string form. A column of another dtype
//! (128-bit integers, lists, structs, objects) is an
//! [`Error::Tokenize`](crate::Error::Tokenize) naming it.

use super::{tag, untokenizable, Hasher, Tokenize};
use crate::error::Result;
use polars_core::prelude::{DataFrame, DataType, Series};

const NULL: u8 = 0;
const VALID: u8 = 1;

impl Tokenize for DataFrame {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        h.write_tag(tag::FRAME);
        h.write_len(self.width());
        h.write_len(self.height());
        for c in self.columns() {
            c.as_materialized_series().tokenize(h)?;
        }
        Ok(())
    }
}

macro_rules! hash_values {
    ($h:expr, $ca:expr, |$v:ident| $write:expr) => {{
        for x in $ca.iter() {
            match x {
                None => $h.write_raw(&[NULL]),
                Some($v) => {
                    $h.write_raw(&[VALID]);
                    $write;
                }
            }
        }
    }};
}

impl Tokenize for Series {
    fn tokenize(&self, h: &mut Hasher) -> Result<()> {
        let err = |e: polars_core::error::PolarsError| {
            untokenizable(format!("column '{}'", self.name()), e.to_string())
        };
        h.write_str(self.name().as_str());
        h.write_str(&self.dtype().to_string());
        h.write_len(self.len());
        // Logical types other than dates and times (categoricals, enums, decimals) are
        // hashed by their string form: their physical codes depend on the order values
        // were first seen, or on a scale.
        let as_text;
        let phys = if self.dtype().is_logical() && !self.dtype().is_temporal() {
            as_text = self.cast(&DataType::String).map_err(err)?;
            std::borrow::Cow::Borrowed(&as_text)
        } else {
            self.to_physical_repr()
        };
        match phys.dtype() {
            DataType::Boolean => {
                hash_values!(h, phys.bool().map_err(err)?, |v| h.write_raw(&[v as u8]))
            }
            DataType::UInt64 => hash_values!(h, phys.u64().map_err(err)?, |v| h
                .write_raw(&v.to_le_bytes())),
            DataType::Float32 => hash_values!(h, phys.f32().map_err(err)?, |v| {
                let bits = if v.is_nan() {
                    f32::NAN.to_bits()
                } else {
                    v.to_bits()
                };
                h.write_raw(&bits.to_le_bytes())
            }),
            DataType::Float64 => hash_values!(h, phys.f64().map_err(err)?, |v| {
                let bits = if v.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    v.to_bits()
                };
                h.write_raw(&bits.to_le_bytes())
            }),
            DataType::String => hash_values!(h, phys.str().map_err(err)?, |v| h.write_str(v)),
            DataType::Binary => hash_values!(h, phys.binary().map_err(err)?, |v| h.write_bytes(v)),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => {
                let wide = phys.cast(&DataType::Int64).map_err(err)?;
                hash_values!(h, wide.i64().map_err(err)?, |v| h
                    .write_raw(&v.to_le_bytes()))
            }
            other => {
                return Err(untokenizable(
                    format!("column '{}'", self.name()),
                    format!("dtype {other} has no deterministic token"),
                ))
            }
        }
        Ok(())
    }
}
