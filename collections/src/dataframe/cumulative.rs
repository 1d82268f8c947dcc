//! Cumulative sums, products, minima and maxima across partitions (`cumsum`,
//! `cumprod`, `cummin`, `cummax`), as Dask computes them: a scan of each
//! partition plus a carry from the partitions before it.
//!
//! ```text
//!   partition i ──► total_i (its sum / product / min / max)
//!   carry_0 ──► carry_1 ──► … ──► carry_{k-1}      carry_i = total of carry_{i-1}, total_{i-1}
//!   carry_i ++ partition_i ──► scan ──► drop the carry's row
//! ```
//!
//! The carry is one row stacked on top of the partition before Polars' scan runs,
//! so nulls stay null and do not break the scan (pandas' `skipna=True`), and an
//! empty partition passes its carry on unchanged. The first carry is the
//! aggregate of no rows: 0 for sums, null (no factor) for products, minima and
//! maxima.
//!
//! Sums and products of `Int8` / `Int16` / `Int32` accumulate in `Int64`, and of
//! `UInt8` / `UInt16` / `UInt32` in `UInt64`, as NumPy's `cumsum` / `cumprod`
//! do on 64-bit Linux (Polars keeps `Int32` / `UInt32` sums, which wrap);
//! `Int64`, `UInt64` and floats keep their type; minima and maxima keep the
//! column's type. NaN follows Polars: it spreads through sums and products and
//! is skipped by minima and maxima.

use super::dataframe::{steps_bytes, DataFrame};
use super::plan::{Plan, SpecOp};
use super::schema::{schema_after, widened_integer};
use super::source::Source;
use super::step::Step;
use crate::layers::layer_name;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::token::Bytes;
use brisk_core::{Key, Result};
use polars::prelude as pl;
use polars::prelude::col;
use std::sync::Arc;

/// Which scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Sum,
    Prod,
    Min,
    Max,
}

impl Scan {
    fn method(self) -> &'static str {
        match self {
            Scan::Sum => "cumsum",
            Scan::Prod => "cumprod",
            Scan::Min => "cummin",
            Scan::Max => "cummax",
        }
    }

    /// The aggregate of a column (a partition's total, or a carry from the
    /// previous carry and total).
    fn total(self, c: &str) -> pl::Expr {
        match self {
            Scan::Sum => col(c).sum(),
            // (`product` is not in this build of Polars; nulls, which the
            // scan leaves null, are dropped: null stands for no rows.)
            Scan::Prod => col(c).cum_prod(false).drop_nulls().last(),
            Scan::Min => col(c).min(),
            Scan::Max => col(c).max(),
        }
        .alias(c)
    }

    /// The scan of a column.
    fn scan(self, c: &str) -> pl::Expr {
        match self {
            Scan::Sum => col(c).cum_sum(false),
            Scan::Prod => col(c).cum_prod(false),
            Scan::Min => col(c).cum_min(false),
            Scan::Max => col(c).cum_max(false),
        }
        .alias(c)
    }

    /// The type the scan accumulates in, when not the column's.
    fn widened(self, t: &pl::DataType) -> Option<pl::DataType> {
        if matches!(self, Scan::Min | Scan::Max) {
            return None;
        }
        widened_integer(t)
    }
}

impl DataFrame {
    /// Running sums of `columns` (every numeric column when empty) across
    /// partitions; the other columns are kept as they are. Nulls stay null and
    /// the sum goes on past them (pandas' `skipna=True`). Small integer types
    /// accumulate in 64 bits, as NumPy's do (`Int32` → `Int64`, `UInt32` →
    /// `UInt64`).
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [Some(1i32), None, Some(2), Some(3)], "k" => ["a", "b", "c", "d"]).unwrap();
    /// let sums = from_polars(&pdf, 3).unwrap().cumsum(&["x"]).unwrap().compute().unwrap();
    /// assert_eq!(sums.column("x").unwrap().i64().unwrap().to_vec(),
    ///            [Some(1), None, Some(3), Some(6)]);
    /// ```
    pub fn cumsum(&self, columns: &[&str]) -> Result<DataFrame> {
        self.cumulative(Scan::Sum, columns)
    }

    /// Running products of `columns` (every numeric column when empty) across
    /// partitions, as [`DataFrame::cumsum`] (same types and nulls).
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [1.0, 2.0, 3.0, 4.0]).unwrap();
    /// let p = from_polars(&pdf, 2).unwrap().cumprod(&[]).unwrap().compute().unwrap();
    /// assert_eq!(p.column("x").unwrap().f64().unwrap().to_vec(),
    ///            [Some(1.0), Some(2.0), Some(6.0), Some(24.0)]);
    /// ```
    pub fn cumprod(&self, columns: &[&str]) -> Result<DataFrame> {
        self.cumulative(Scan::Prod, columns)
    }

    /// Running minima of `columns` (every numeric column when empty) across
    /// partitions, in the columns' types; nulls stay null.
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [3i64, 5, 1, 2]).unwrap();
    /// let m = from_polars(&pdf, 4).unwrap().cummin(&["x"]).unwrap().compute().unwrap();
    /// assert_eq!(m.column("x").unwrap().i64().unwrap().to_vec(),
    ///            [Some(3), Some(3), Some(1), Some(1)]);
    /// ```
    pub fn cummin(&self, columns: &[&str]) -> Result<DataFrame> {
        self.cumulative(Scan::Min, columns)
    }

    /// Running maxima of `columns` (every numeric column when empty) across
    /// partitions, as [`DataFrame::cummin`].
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [3i64, 5, 1, 7]).unwrap();
    /// let m = from_polars(&pdf, 2).unwrap().cummax(&[]).unwrap().compute().unwrap();
    /// assert_eq!(m.column("x").unwrap().i64().unwrap().to_vec(),
    ///            [Some(3), Some(5), Some(5), Some(7)]);
    /// ```
    pub fn cummax(&self, columns: &[&str]) -> Result<DataFrame> {
        self.cumulative(Scan::Max, columns)
    }

    fn cumulative(&self, scan: Scan, columns: &[&str]) -> Result<DataFrame> {
        let method = scan.method();
        let columns = self.chosen(method, columns, |t| t.is_primitive_numeric())?;
        let casts: Vec<pl::Expr> = columns
            .iter()
            .filter_map(|c| {
                scan.widened(&self.dtype_of(c))
                    .map(|t| col(c.as_str()).cast(t))
            })
            .collect();
        let widen: Vec<Step> = if casts.is_empty() {
            vec![]
        } else {
            vec![Step::WithColumns(casts)]
        };
        let schema = schema_after(&self.schema, &widen)?;
        if columns.is_empty() {
            return Ok(self.clone());
        }
        let parts = self.parts(&widen)?;
        let k = parts.npartitions;
        // Totals keep the schema (the columns not scanned are nulls), so that a
        // carry stacks on a partition.
        let totals = Step::Select(
            schema
                .iter()
                .map(|(c, t)| {
                    if columns.contains(c) {
                        scan.total(c)
                    } else {
                        pl::lit(pl::NULL).cast(t.clone()).alias(c.as_str())
                    }
                })
                .collect(),
        );
        let apply = vec![
            Step::WithColumns(columns.iter().map(|c| scan.scan(c)).collect()),
            Step::Slice {
                offset: 1,
                len: u32::MAX,
            },
        ];
        let listed = format!("{columns:?}");
        let token = [parts.name.as_str(), listed.as_str()];
        let totals_name = layer_name(&format!("{method}-totals"), &[&token])?;
        let carry_name = layer_name(&format!("{method}-carry"), &[&token])?;
        let name = layer_name(method, &[&token, &Bytes(&steps_bytes(&apply)?)])?;
        let plan = |steps: Vec<Step>| -> Arc<dyn Op> {
            Arc::new(SpecOp(Plan {
                source: Source::Inputs,
                steps,
                schema: schema.clone(),
            }))
        };
        let totals_op = plan(vec![totals]);
        let apply_op = plan(apply);
        let key = |layer: &str, i: usize| Key::new(layer, &[i as u32]);
        // The last partition's total is no one's carry.
        let totals: Vec<Task> = (0..k.saturating_sub(1))
            .map(|i| Task::new(key(&totals_name, i), totals_op.clone(), vec![parts.key(i)]))
            .collect();
        let carries: Vec<Task> = (0..k)
            .map(|i| {
                let inputs = if i == 0 {
                    vec![]
                } else {
                    vec![key(&carry_name, i - 1), key(&totals_name, i - 1)]
                };
                Task::new(key(&carry_name, i), totals_op.clone(), inputs)
            })
            .collect();
        let scans: Vec<Task> = (0..k)
            .map(|i| {
                Task::new(
                    key(&name, i),
                    apply_op.clone(),
                    vec![key(&carry_name, i), parts.key(i)],
                )
            })
            .collect();
        let mut graph = parts.graph.clone();
        for (layer, tasks) in [
            (totals_name, totals),
            (carry_name, carries),
            (name.clone(), scans),
        ] {
            graph = Graph::from_layer(Layer { name: layer, tasks }, [&graph]);
        }
        let out = schema_after(
            &schema,
            &[Step::WithColumns(
                columns.iter().map(|c| scan.scan(c)).collect(),
            )],
        )?;
        Ok(DataFrame::from_keys(name, k, graph, out))
    }
}
