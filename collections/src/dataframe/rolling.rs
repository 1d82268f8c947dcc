//! [`Rolling`]: fixed windows of rows across partitions (Dask's and pandas'
//! `rolling(window)`). Each partition gets the `window - 1` rows before it
//! stacked on (from as many earlier partitions as it takes; `overlap.rs`), runs
//! the windows (`rolling_window.rs`), and drops those rows again.

use super::dataframe::DataFrame;
use super::overlap::{neighbour_rows, Side};
use super::plan::SpecOp;
use super::rolling_window::{RollingWindow, WindowKind};
use crate::error;
use crate::layers::layer_name;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::{Key, Result};
use polars::prelude as pl;
use std::sync::Arc;

/// Fixed windows of `window` rows over a DataFrame, each ending at its row, from
/// [`DataFrame::rolling`]; its methods give a frame with the chosen columns
/// replaced by their windows' results (as `Float64`, as pandas does) and the
/// other columns as they are.
#[derive(Debug, Clone)]
pub struct Rolling {
    df: DataFrame,
    window: usize,
    min_periods: Option<usize>,
    columns: Vec<String>,
}

impl DataFrame {
    /// Windows of `window` rows (the row and the `window - 1` before it), across
    /// partitions. By default every numeric column is computed and a window needs
    /// `window` non-null values (set with [`Rolling::min_periods`]).
    ///
    /// ```
    /// use brisk_collections::dataframe::from_polars;
    /// use polars::prelude::df;
    /// # use brisk_scheduler as _;
    /// let pdf = df!("x" => [1i64, 2, 3, 4, 5], "k" => ["a", "b", "c", "d", "e"]).unwrap();
    /// let ddf = from_polars(&pdf, 5).unwrap();
    /// let sums = ddf.rolling(3).sum().unwrap().compute().unwrap();
    /// assert_eq!(sums.column("x").unwrap().f64().unwrap().to_vec(),
    ///            [None, None, Some(6.0), Some(9.0), Some(12.0)]);
    /// let means = ddf.rolling(2).min_periods(1).mean().unwrap().compute().unwrap();
    /// assert_eq!(means.column("x").unwrap().f64().unwrap().to_vec(),
    ///            [Some(1.0), Some(1.5), Some(2.5), Some(3.5), Some(4.5)]);
    /// ```
    pub fn rolling(&self, window: usize) -> Rolling {
        Rolling {
            df: self.clone(),
            window,
            min_periods: None,
            columns: Vec::new(),
        }
    }
}

impl Rolling {
    /// The non-null values a window needs for a result (pandas' `min_periods`;
    /// by default the window's length, at most that).
    pub fn min_periods(mut self, n: usize) -> Rolling {
        self.min_periods = Some(n);
        self
    }

    /// The columns computed (numeric; by default every numeric column).
    pub fn columns(mut self, columns: &[&str]) -> Rolling {
        self.columns = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Each window's sum (0 for a window of no values when `min_periods` is 0).
    pub fn sum(&self) -> Result<DataFrame> {
        self.apply("rolling_sum", WindowKind::Sum)
    }
    /// Each window's mean.
    pub fn mean(&self) -> Result<DataFrame> {
        self.apply("rolling_mean", WindowKind::Mean)
    }
    /// Each window's smallest value.
    pub fn min(&self) -> Result<DataFrame> {
        self.apply("rolling_min", WindowKind::Min)
    }
    /// Each window's largest value.
    pub fn max(&self) -> Result<DataFrame> {
        self.apply("rolling_max", WindowKind::Max)
    }
    /// Each window's variance with `ddof` (1 for pandas' default), null for a
    /// window of `ddof` values or fewer.
    pub fn var(&self, ddof: u8) -> Result<DataFrame> {
        self.apply("rolling_var", WindowKind::Var(ddof))
    }
    /// Each window's standard deviation with `ddof`.
    pub fn std(&self, ddof: u8) -> Result<DataFrame> {
        self.apply("rolling_std", WindowKind::Std(ddof))
    }

    fn apply(&self, method: &'static str, kind: WindowKind) -> Result<DataFrame> {
        let df = &self.df;
        if self.window == 0 {
            return Err(error::invalid(format!("{method}: a window of 0 rows")));
        }
        let min_periods = self.min_periods.unwrap_or(self.window);
        if min_periods > self.window {
            return Err(error::invalid(format!(
                "{method}: min_periods {min_periods} is more than the window's {} rows",
                self.window
            )));
        }
        let names: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        let columns = df.chosen(method, &names, |t| t.is_primitive_numeric())?;
        let schema: Vec<(String, pl::DataType)> = df
            .dtypes()
            .iter()
            .map(|(c, t)| {
                if columns.contains(c) {
                    (c.clone(), pl::DataType::Float64)
                } else {
                    (c.clone(), t.clone())
                }
            })
            .collect();
        let parts = df.parts(&[])?;
        let overlap = self.window - 1;
        let (graph, carries) = if overlap > 0 && !columns.is_empty() {
            let (g, c) = neighbour_rows(
                "rolling",
                &parts,
                df.dtypes(),
                &columns,
                overlap,
                Side::Before,
            )?;
            (g, Some(c))
        } else {
            (parts.graph.clone(), None)
        };
        let spec = RollingWindow {
            kind,
            window: self.window as u64,
            min_periods: min_periods as u64,
            columns,
            skip: if carries.is_some() { overlap as u64 } else { 0 },
            schema: df.dtypes().to_vec(),
        };
        let params = rmp_serde::to_vec_named(&spec).map_err(|e| brisk_core::Error::Tokenize {
            what: "a rolling window".into(),
            reason: e.to_string(),
        })?;
        let name = layer_name(
            method,
            &[&parts.name.as_str(), &brisk_core::token::Bytes(&params)],
        )?;
        let op: Arc<dyn Op> = Arc::new(SpecOp(spec));
        let tasks = (0..parts.npartitions)
            .map(|i| {
                let inputs = match &carries {
                    Some(c) => vec![c[i].clone(), parts.key(i)],
                    None => vec![parts.key(i)],
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
