//! Schemas as name/type pairs (the form plans store), to and from Polars', and the
//! schema a list of steps gives, found without running them.

use super::step::Step;
use crate::error;
use brisk_core::Result;
use polars::prelude as pl;

/// The schema as an owned Polars schema.
pub(crate) fn to_schema(fields: &[(String, pl::DataType)]) -> pl::Schema {
    fields
        .iter()
        .map(|(n, t)| pl::Field::new(n.as_str().into(), t.clone()))
        .collect()
}

/// The schema as name/type pairs.
pub(crate) fn from_schema(schema: &pl::Schema) -> Vec<(String, pl::DataType)> {
    schema
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect()
}

/// The schema after `steps`, found by planning them on an empty frame: an unknown
/// column or a type error shows up here, before anything runs.
pub(crate) fn schema_after(
    schema: &[(String, pl::DataType)],
    steps: &[Step],
) -> Result<Vec<(String, pl::DataType)>> {
    use pl::IntoLazy;
    let lf = pl::DataFrame::empty_with_schema(&to_schema(schema)).lazy();
    let mut lf = steps.iter().fold(lf, |lf, s| s.apply(lf));
    let out = lf.collect_schema().map_err(|e| error::polars("", e))?;
    Ok(from_schema(&out))
}

/// The 64-bit type NumPy accumulates a small integer type in: `Int64` for
/// `Int8` / `Int16` / `Int32`, `UInt64` for `UInt8` / `UInt16` / `UInt32`.
pub(crate) fn widened_integer(t: &pl::DataType) -> Option<pl::DataType> {
    use pl::DataType::*;
    match t {
        Int8 | Int16 | Int32 => Some(Int64),
        UInt8 | UInt16 | UInt32 => Some(UInt64),
        _ => None,
    }
}
