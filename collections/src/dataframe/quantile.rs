//! Approximate quantiles across partitions (`quantile`, `median`, and the
//! percentiles of `describe`), as a tree reduction in the spirit of Dask's
//! approximate percentiles:
//!
//! ```text
//!   partition → chunk: 64 sample quantiles of each column, at (i + ½) / 64,
//!               each weighted by the partition's non-null count / 64
//!        combine: the samples stacked (nothing merged away)
//!        aggregate: per q, the smallest sample whose cumulative weight, in
//!                   sorted order, reaches q × the total weight
//! ```
//!
//! A sample stands for the 1/64 of its partition's values around it, so the
//! answer is within about 1/64 of the rank of the exact quantile in each
//! partition (exact for a single partition of up to 64 values, and for a
//! column whose values are sorted across partitions, within one sample's
//! rank); nulls are left out, as pandas does.

use super::dataframe::DataFrame;
use super::reduction::Reduction;
use super::series::{Scalar, Series};
use super::step::Step;
use crate::error;
use brisk_core::Result;
use polars::prelude as pl;
use polars::prelude::{col, lit, NamedFrom};

/// The samples taken of each partition's column.
const SAMPLES: usize = 64;

fn sample_name(j: usize) -> String {
    format!("__brisk_{j}_v")
}
fn weight_name(j: usize) -> String {
    format!("__brisk_{j}_w")
}

impl DataFrame {
    /// Approximate quantiles `qs` (each in `0..=1`) of every numeric column,
    /// nulls left out: a one-partition frame with a `quantile` column holding
    /// `qs` and a `Float64` column per numeric column, a row per q (Dask's
    /// `df.quantile([...])`, its index as a column). The estimate merges 64
    /// sample quantiles of each partition, weighted by its rows (see the
    /// module's notes); an exact quantile would need the column sorted.
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => (0..1000i64).collect::<Vec<_>>()).unwrap();
    /// let q = from_polars(&pdf, 4).unwrap().quantile(&[0.1, 0.9]).unwrap().compute().unwrap();
    /// let x = q.column("x").unwrap().f64().unwrap();
    /// assert!((x.get(0).unwrap() - 100.0).abs() <= 10.0);
    /// assert!((x.get(1).unwrap() - 900.0).abs() <= 10.0);
    /// ```
    pub fn quantile(&self, qs: &[f64]) -> Result<DataFrame> {
        let numeric = self.columns_where(|t| t.is_primitive_numeric());
        self.quantile_of("quantile", &numeric, qs, true)
    }

    /// Approximate medians of every numeric column: a one-row frame with a
    /// `Float64` column per numeric column (as [`DataFrame::mean`]), from
    /// [`DataFrame::quantile`]'s estimate.
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
    /// let m = from_polars(&pdf, 2).unwrap().median().unwrap().compute().unwrap();
    /// let m = m.column("x").unwrap().f64().unwrap().get(0).unwrap();
    /// assert!((m - 3.0).abs() < 0.5, "{m}");
    /// ```
    pub fn median(&self) -> Result<DataFrame> {
        let numeric = self.columns_where(|t| t.is_primitive_numeric());
        let q = self.quantile_of("median", &numeric, &[0.5], false)?;
        Ok(q)
    }

    /// Approximate quantiles `qs` of `columns` (numeric), a row per q, as
    /// [`DataFrame::quantile`] (with its `quantile` column when `labelled`);
    /// `method` names the layers and errors.
    pub(super) fn quantile_of(
        &self,
        method: &str,
        columns: &[String],
        qs: &[f64],
        labelled: bool,
    ) -> Result<DataFrame> {
        if qs.is_empty() {
            return Err(error::invalid(format!("{method}: no quantiles given")));
        }
        if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(error::invalid(format!(
                "{method}: quantile {q} is not between 0 and 1"
            )));
        }
        if columns.is_empty() {
            return Err(error::invalid(format!("{method}: no numeric columns")));
        }
        let mut chunk = Vec::new();
        for (j, c) in columns.iter().enumerate() {
            let x = || col(c.as_str()).cast(pl::DataType::Float64).drop_nulls();
            let samples: Vec<pl::Expr> = (0..SAMPLES)
                .map(|i| {
                    x().quantile(
                        lit((i as f64 + 0.5) / SAMPLES as f64),
                        pl::QuantileMethod::Linear,
                    )
                })
                .collect();
            chunk.push(
                pl::concat_expr(samples, false)
                    .map_err(|e| error::polars("", e))?
                    .alias(sample_name(j)),
            );
            chunk.push(
                (x().count().cast(pl::DataType::Float64) / lit(SAMPLES as f64))
                    .alias(weight_name(j)),
            );
        }
        let mut aggregate = Vec::new();
        if labelled {
            aggregate.push(lit(pl::Series::new("quantile".into(), qs.to_vec())).alias("quantile"));
        }
        for (j, c) in columns.iter().enumerate() {
            let picks: Vec<pl::Expr> = qs.iter().map(|&q| weighted_pick(j, q)).collect();
            aggregate.push(
                pl::concat_expr(picks, false)
                    .map_err(|e| error::polars("", e))?
                    .alias(c.as_str()),
            );
        }
        Reduction::new(
            method,
            vec![Step::Select(chunk)],
            vec![],
            vec![Step::Select(aggregate)],
        )
        .apply(self)
    }
}

/// The smallest of column `j`'s samples whose cumulative weight in sorted order
/// reaches `q` of the total (the largest sample when rounding leaves it short;
/// null without samples).
fn weighted_pick(j: usize, q: f64) -> pl::Expr {
    let (v, w) = (col(sample_name(j)), col(weight_name(j)));
    let keep = || w.clone().gt(lit(0.0)).and(v.clone().is_not_null());
    let values = || v.clone().filter(keep());
    let by_value = || pl::SortMultipleOptions::default().with_maintain_order(true);
    let sorted = || values().sort_by([values()], by_value());
    let cumulative = w
        .clone()
        .filter(keep())
        .sort_by([values()], by_value())
        .cum_sum(false);
    let total = w.clone().filter(keep()).sum();
    sorted()
        .filter(cumulative.gt_eq(lit(q) * total))
        .first()
        .fill_null(sorted().last())
}

impl Series {
    /// The approximate `q` quantile (`0..=1`) of the column, nulls left out
    /// ([`DataFrame::quantile`]'s estimate), as a `Float64`.
    pub fn quantile(&self, q: f64) -> Result<Scalar> {
        self.check_numeric("quantile")?;
        let frame = self
            .frame
            .quantile_of("quantile", &[self.name().to_string()], &[q], false)?;
        Scalar::of(frame, self.name())
    }

    /// The approximate median of the column.
    pub fn median(&self) -> Result<Scalar> {
        self.check_numeric("median")?;
        let frame = self
            .frame
            .quantile_of("median", &[self.name().to_string()], &[0.5], false)?;
        Scalar::of(frame, self.name())
    }

    fn check_numeric(&self, method: &str) -> Result<()> {
        if self.dtype().is_primitive_numeric() {
            Ok(())
        } else {
            Err(error::invalid(format!(
                "{method}: column '{}' is {}, not a number",
                self.name(),
                self.dtype()
            )))
        }
    }
}
