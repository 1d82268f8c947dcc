//! Sorting: [`DataFrame::sort_values`] and [`DataFrame::set_index`], rows moved
//! into ranges of the sort column by a shuffle (boundaries from sampled quantiles of
//! every partition), each range then sorted.

use super::dataframe::DataFrame;
use super::shuffle::BUCKET;
use super::step::Step;
use crate::error;
use brisk_core::Result;
use polars::prelude as pl;
use polars::prelude::{col, lit};

/// A bucket from sorted `boundaries` of `column`: the number of boundaries below the
/// value (nulls go last).
fn range_bucket(column: &str, boundaries: &[pl::AnyValue<'static>], descending: bool) -> pl::Expr {
    let n = boundaries.len() as u64;
    let past: Vec<pl::Expr> = boundaries
        .iter()
        .map(|b| {
            let v = lit(pl::Scalar::new(b.dtype(), b.clone()));
            let past = if descending {
                col(column).lt(v)
            } else {
                col(column).gt(v)
            };
            past.cast(pl::DataType::UInt64)
        })
        .collect();
    let acc = balanced_sum(past);
    pl::when(col(column).is_null())
        .then(lit(n))
        .otherwise(acc)
        .cast(pl::DataType::UInt64)
        .alias(BUCKET)
}

/// The sum of `terms` as a balanced tree of additions (a chain of a thousand would
/// overflow the stack of the expression walkers).
fn balanced_sum(mut terms: Vec<pl::Expr>) -> pl::Expr {
    if terms.is_empty() {
        return lit(0u64);
    }
    while terms.len() > 1 {
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        let mut it = terms.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => a + b,
                None => a,
            });
        }
        terms = next;
    }
    terms.pop().unwrap_or_else(|| lit(0u64))
}

impl DataFrame {
    /// Rows sorted by `column` across partitions: boundaries from sampled quantiles
    /// of every partition (computed now, as Dask does), rows moved into ranges, each
    /// range sorted. Nulls go last. The boundaries are the result's divisions.
    pub fn sort_values(&self, column: &str, descending: bool) -> Result<DataFrame> {
        self.check_column(column)?;
        let k = self.npartitions();
        let boundaries = self.quantile_boundaries(column, k, descending)?;
        let sort = Step::Sort {
            by: vec![column.to_string()],
            descending: vec![descending],
        };
        let sorted = self.shuffle_by(
            "sort_values",
            range_bucket(column, &boundaries, descending),
            boundaries.len() + 2,
            vec![sort],
        )?;
        Ok(sorted.with_divisions(column, boundaries))
    }

    /// [`DataFrame::sort_values`] ascending, remembering `column` as the index
    /// (Polars frames have no index: the column stays a column).
    pub fn set_index(&self, column: &str) -> Result<DataFrame> {
        self.sort_values(column, false)
    }

    /// `k - 1` boundaries splitting the values of `column` into `k` near-equal
    /// ranges, from 64 quantiles of each partition.
    fn quantile_boundaries(
        &self,
        column: &str,
        k: usize,
        descending: bool,
    ) -> Result<Vec<pl::AnyValue<'static>>> {
        const SAMPLES: usize = 64;
        let qs: Vec<pl::Expr> = (0..SAMPLES)
            .map(|i| {
                col(column)
                    .quantile(
                        lit((i as f64 + 0.5) / SAMPLES as f64),
                        pl::QuantileMethod::Nearest,
                    )
                    .alias(format!("q{i}"))
            })
            .collect();
        let dtype = self
            .schema
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, t)| t.clone())
            .unwrap_or(pl::DataType::Null);
        // Per-partition samples on purpose: `with_step` skips the row-wise check.
        let samples = self
            .with_step(Step::Select(vec![col(column).drop_nulls()]))?
            .with_step(Step::Select(qs))?
            .compute()?;
        let mut values: Vec<pl::AnyValue<'static>> = Vec::new();
        for c in samples.columns() {
            let c = c.cast(&dtype).map_err(|e| error::polars("", e))?;
            for i in 0..c.len() {
                let v = c.get(i).map_err(|e| error::polars("", e))?.into_static();
                if !v.is_null() {
                    values.push(v);
                }
            }
        }
        let mut series = pl::Series::from_any_values(column.into(), &values, false)
            .map_err(|e| error::polars("", e))?
            .sort(pl::SortOptions::default().with_order_descending(descending))
            .map_err(|e| error::polars("", e))?;
        series = series.rechunk();
        let n = series.len();
        let mut out: Vec<pl::AnyValue<'static>> = Vec::new();
        for j in 1..k {
            if n == 0 {
                break;
            }
            let v = series
                .get((j * n / k).min(n - 1))
                .map_err(|e| error::polars("", e))?
                .into_static();
            if out.last() != Some(&v) {
                out.push(v);
            }
        }
        Ok(out)
    }
}
