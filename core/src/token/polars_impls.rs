//! `Tokenize` for Polars data frames and series: the schema (names and dtypes) and
//! every value in row order, nulls included, whatever the chunking in memory.
//!
//! Booleans, integers, floats, strings and binary columns (and the logical types
//! stored as them: dates, datetimes, durations, times, categoricals' codes are not
//! included) are supported; a column of another dtype (lists, structs, objects) is an
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
        let phys = self.to_physical_repr();
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
            dt if dt.is_integer() => {
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
