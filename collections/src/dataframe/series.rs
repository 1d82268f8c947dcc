//! Series: one column of a DataFrame (Dask's `df["x"]`), with the reductions
//! returning lazy scalars.

use super::agg::Agg;
use super::dataframe::DataFrame;
use crate::error;
use brisk_core::Result;
use polars::prelude as pl;
use polars::prelude::col;

/// A lazy, partitioned column.
#[derive(Debug, Clone)]
pub struct Series {
    pub(super) frame: DataFrame,
    name: String,
}

/// A lazy single value (a reduction of a [`Series`]).
#[derive(Debug, Clone)]
pub struct Scalar {
    frame: DataFrame,
    name: String,
}

impl Scalar {
    /// The value in column `name` of the first row of `frame`.
    pub(super) fn of(frame: DataFrame, name: &str) -> Result<Scalar> {
        frame.check_column(name)?;
        Ok(Scalar {
            frame,
            name: name.to_string(),
        })
    }

    /// Computes the value.
    pub fn compute(&self) -> Result<pl::AnyValue<'static>> {
        let df = self.frame.compute()?;
        let c = df.column(&self.name).map_err(|e| error::polars("", e))?;
        c.get(0)
            .map(|v| v.into_static())
            .map_err(|e| error::polars("", e))
    }

    /// Computes the value as an `f64` (null as NaN; an error for non-numbers).
    pub fn compute_f64(&self) -> Result<f64> {
        let v = self.compute()?;
        if v.is_null() {
            return Ok(f64::NAN);
        }
        v.extract::<f64>()
            .ok_or_else(|| error::invalid(format!("'{}' is {v}, not a number", self.name)))
    }

    /// The one-row, one-column frame behind the value.
    pub fn to_frame(&self) -> &DataFrame {
        &self.frame
    }
}

impl DataFrame {
    /// Column `name` as a [`Series`]; an unknown column is an error.
    pub fn column(&self, name: &str) -> Result<Series> {
        self.check_column(name)?;
        Ok(Series {
            frame: self.select([col(name)])?,
            name: name.to_string(),
        })
    }
}

impl Series {
    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's type.
    pub fn dtype(&self) -> &pl::DataType {
        &self.frame.dtypes()[0].1
    }

    /// The number of partitions.
    pub fn npartitions(&self) -> usize {
        self.frame.npartitions()
    }

    /// The one-column frame.
    pub fn to_frame(&self) -> &DataFrame {
        &self.frame
    }

    /// Computes the whole column.
    pub fn compute(&self) -> Result<pl::Series> {
        let df = self.frame.compute()?;
        Ok(df
            .column(&self.name)
            .map_err(|e| error::polars("", e))?
            .as_materialized_series()
            .clone())
    }

    /// The first `n` values (only the partitions needed are computed).
    pub fn head(&self, n: usize) -> Result<pl::Series> {
        let df = self.frame.head(n)?;
        Ok(df
            .column(&self.name)
            .map_err(|e| error::polars("", e))?
            .as_materialized_series()
            .clone())
    }

    /// The number of values, nulls included (computed now).
    pub fn len(&self) -> Result<usize> {
        self.frame.len()
    }

    /// True when the column has no values (computed now).
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    fn reduce(&self, agg: Agg) -> Result<Scalar> {
        Ok(Scalar {
            frame: self.frame.agg(&[agg])?,
            name: self.name.clone(),
        })
    }

    /// Non-null values.
    pub fn count(&self) -> Result<Scalar> {
        self.reduce(Agg::count(&self.name))
    }
    /// Sum.
    pub fn sum(&self) -> Result<Scalar> {
        self.reduce(Agg::sum(&self.name))
    }
    /// Mean.
    pub fn mean(&self) -> Result<Scalar> {
        self.reduce(Agg::mean(&self.name))
    }
    /// Smallest value.
    pub fn min(&self) -> Result<Scalar> {
        self.reduce(Agg::min(&self.name))
    }
    /// Largest value.
    pub fn max(&self) -> Result<Scalar> {
        self.reduce(Agg::max(&self.name))
    }
    /// Standard deviation with `ddof`.
    pub fn std(&self, ddof: u8) -> Result<Scalar> {
        self.reduce(Agg::std(&self.name, ddof))
    }
    /// Variance with `ddof`.
    pub fn var(&self, ddof: u8) -> Result<Scalar> {
        self.reduce(Agg::var(&self.name, ddof))
    }
    /// Distinct values (null counts as one).
    pub fn nunique(&self) -> Result<Scalar> {
        self.reduce(Agg::nunique(&self.name))
    }
    /// Estimated distinct values (HyperLogLog).
    pub fn approx_nunique(&self) -> Result<Scalar> {
        Ok(Scalar {
            frame: self.frame.approx_nunique(&self.name)?,
            name: self.name.clone(),
        })
    }

    /// Counts of each value, largest first: columns `[name, "count"]`.
    pub fn value_counts(&self) -> Result<DataFrame> {
        self.frame.value_counts(&self.name)
    }

    /// The distinct values.
    pub fn unique(&self) -> Result<Series> {
        Ok(Series {
            frame: self.frame.drop_duplicates(&[])?,
            name: self.name.clone(),
        })
    }
}
