//! `shift` and `diff` across partitions: each partition runs the row-wise-looking
//! Polars expression on itself with the `|periods|` rows on the far side of its
//! boundary stacked on (from as many neighbours as it takes; `overlap.rs`), then
//! drops those rows again.

use super::dataframe::{steps_bytes, DataFrame};
use super::overlap::{neighbour_rows, rows_u32, Side};
use super::plan::{Plan, SpecOp};
use super::schema::schema_after;
use super::source::Source;
use super::step::Step;
use crate::error;
use crate::layers::layer_name;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::token::Bytes;
use brisk_core::{Key, Result};
use polars::prelude as pl;
use polars::prelude::{col, lit};
use std::sync::Arc;

impl DataFrame {
    /// `columns` (every column when empty) moved down by `periods` rows across
    /// partitions, nulls coming in at the frame's start (Dask's and pandas'
    /// `shift`); a negative `periods` moves them up, nulls coming in at the end.
    /// The other columns stay as they are, so a lagged copy is a renamed column
    /// shifted:
    ///
    /// ```
    /// use brisk_collections::dataframe::{col, from_polars};
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [1i64, 2, 3, 4, 5]).unwrap();
    /// let ddf = from_polars(&pdf, 3).unwrap();
    /// let lagged = ddf
    ///     .with_columns([col("x").alias("prev")]).unwrap()
    ///     .shift(1, &["prev"]).unwrap()
    ///     .compute().unwrap();
    /// assert_eq!(lagged.column("prev").unwrap().i64().unwrap().to_vec(),
    ///            [None, Some(1), Some(2), Some(3), Some(4)]);
    /// ```
    ///
    /// Each partition gets the `|periods|` rows beyond its boundary from a chain
    /// of small tasks that gathers them from as many neighbours as it takes, so
    /// short and empty partitions are fine.
    pub fn shift(&self, periods: i64, columns: &[&str]) -> Result<DataFrame> {
        let columns = self.chosen("shift", columns, |_| true)?;
        let exprs = columns
            .iter()
            .map(|c| col(c.as_str()).shift(lit(periods)))
            .collect();
        self.with_overlap("shift", periods, &columns, exprs)
    }

    /// The change of `columns` (every numeric column when empty) from `periods`
    /// rows earlier (later, when negative), across partitions: `x - x.shift(periods)`
    /// (Dask's and pandas' `diff`), null where the other row is missing. Types
    /// follow Polars' `diff`: unsigned integers become signed (`UInt8` → `Int16`,
    /// `UInt16` → `Int32`, `UInt32` / `UInt64` → `Int64`), others keep theirs.
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [1i64, 4, 9, 16, 25]).unwrap();
    /// let d = from_polars(&pdf, 2).unwrap().diff(1, &[]).unwrap().compute().unwrap();
    /// assert_eq!(d.column("x").unwrap().i64().unwrap().to_vec(),
    ///            [None, Some(3), Some(5), Some(7), Some(9)]);
    /// ```
    pub fn diff(&self, periods: i64, columns: &[&str]) -> Result<DataFrame> {
        let columns = self.chosen("diff", columns, |t| t.is_primitive_numeric())?;
        let exprs = columns
            .iter()
            .map(|c| {
                let t = self.dtype_of(c);
                let signed = match t {
                    pl::DataType::UInt8 => Some(pl::DataType::Int16),
                    pl::DataType::UInt16 => Some(pl::DataType::Int32),
                    pl::DataType::UInt32 | pl::DataType::UInt64 => Some(pl::DataType::Int64),
                    _ => None,
                };
                let x = || match &signed {
                    Some(s) => col(c.as_str()).cast(s.clone()),
                    None => col(c.as_str()),
                };
                (x() - x().shift(lit(periods))).alias(c.as_str())
            })
            .collect();
        self.with_overlap("diff", periods, &columns, exprs)
    }

    /// `with_columns(exprs)` run on each partition with the `|periods|` rows
    /// beyond its boundary (before it for a positive `periods`, after it for a
    /// negative one) stacked on and dropped again; `columns` are the ones the
    /// expressions read.
    fn with_overlap(
        &self,
        method: &str,
        periods: i64,
        columns: &[String],
        exprs: Vec<pl::Expr>,
    ) -> Result<DataFrame> {
        let n = usize::try_from(periods.unsigned_abs())
            .map_err(|_| error::invalid(format!("{method}: {periods} periods is too many")))?;
        let with = Step::WithColumns(exprs);
        let schema = schema_after(&self.schema, std::slice::from_ref(&with))?;
        if n == 0 || columns.is_empty() {
            return self.with_step(with);
        }
        let len = rows_u32(method, n)?;
        let side = if periods > 0 {
            Side::Before
        } else {
            Side::After
        };
        let parts = self.parts(&[])?;
        let (graph, carries) = neighbour_rows(method, &parts, &self.schema, columns, n, side)?;
        // After the expressions, drop the rows that were stacked on.
        let drop = match side {
            Side::Before => Step::Slice {
                offset: i64::from(len),
                len: u32::MAX,
            },
            Side::After => Step::Select(
                schema
                    .iter()
                    .map(|(c, _)| col(c.as_str()).slice(lit(0), pl::len() - lit(len)))
                    .collect(),
            ),
        };
        let steps = vec![with, drop];
        let name = layer_name(
            method,
            &[
                &parts.name.as_str(),
                &periods,
                &Bytes(&steps_bytes(&steps)?),
            ],
        )?;
        let op: Arc<dyn Op> = Arc::new(SpecOp(Plan {
            source: Source::Inputs,
            steps,
            schema: self.schema.clone(),
        }));
        let tasks = (0..parts.npartitions)
            .map(|i| {
                let inputs = match side {
                    Side::Before => vec![carries[i].clone(), parts.key(i)],
                    Side::After => vec![parts.key(i), carries[i].clone()],
                };
                Task::new(Key::new(name.as_str(), &[i as u32]), op.clone(), inputs)
            })
            .collect();
        let graph = Graph::from_layer(
            Layer {
                name: name.clone(),
                tasks,
            },
            [&graph],
        );
        Ok(DataFrame::from_keys(name, parts.npartitions, graph, schema))
    }
}
