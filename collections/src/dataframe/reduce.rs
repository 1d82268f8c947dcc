//! Aggregations as tree reductions: each aggregation is split into partial
//! statistics computed per partition, a merge of partials, and a final expression.
//!
//! ```text
//!   partition → partials (sum, count, mean, M2 …)       one task per partition
//!        merge ≤ split_every partials                    levels until one is left
//!        final expressions (mean = sum / count, var = M2 / (n − ddof) …)
//! ```
//!
//! Variances merge with Chan et al.'s pairwise formula, so they stay accurate when
//! the mean is large beside the spread.

use super::plan::{Plan, Source, SpecOp, Step};
use super::{DataFrame, Parts};
use crate::layers::{layer_name, SPLIT_EVERY};
use brisk_core::graph::Graph;
use brisk_core::op::Op;
use brisk_core::token::Bytes;
use brisk_core::Result;
use polars::prelude as pl;
use polars::prelude::{col, lit};
use std::sync::Arc;

/// What an aggregation computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AggKind {
    /// Non-null values.
    Count,
    /// Sum of values.
    Sum,
    /// Mean of non-null values.
    Mean,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Variance with `ddof` delta degrees of freedom.
    Var(u8),
    /// Standard deviation with `ddof` delta degrees of freedom.
    Std(u8),
    /// Distinct values (null counts as one, as in Polars).
    NUnique,
    /// First value in partition order.
    First,
    /// Last value in partition order.
    Last,
    /// Rows (nulls included); the column is ignored.
    Size,
}

/// One aggregation of one column, named `name` in the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Agg {
    /// The column aggregated.
    pub column: String,
    /// The aggregation.
    pub kind: AggKind,
    /// The result column's name (the input column's name by default).
    pub name: String,
}

macro_rules! agg_constructors {
    ($($(#[$doc:meta])* $f:ident => $kind:expr;)*) => {$(
        $(#[$doc])*
        pub fn $f(column: &str) -> Agg {
            Agg { column: column.to_string(), kind: $kind, name: column.to_string() }
        }
    )*};
}

impl Agg {
    agg_constructors! {
        /// Non-null values of `column`.
        count => AggKind::Count;
        /// Sum of `column`.
        sum => AggKind::Sum;
        /// Mean of `column`.
        mean => AggKind::Mean;
        /// Smallest value of `column`.
        min => AggKind::Min;
        /// Largest value of `column`.
        max => AggKind::Max;
        /// Distinct values of `column`.
        nunique => AggKind::NUnique;
        /// First value of `column`.
        first => AggKind::First;
        /// Last value of `column`.
        last => AggKind::Last;
    }

    /// Rows, nulls included (named `"size"`; rename with [`Agg::alias`]).
    pub fn size() -> Agg {
        Agg {
            column: String::new(),
            kind: AggKind::Size,
            name: "size".to_string(),
        }
    }

    /// Variance of `column` with `ddof` (1 for the sample variance).
    pub fn var(column: &str, ddof: u8) -> Agg {
        Agg {
            column: column.to_string(),
            kind: AggKind::Var(ddof),
            name: column.to_string(),
        }
    }

    /// Standard deviation of `column` with `ddof`.
    pub fn std(column: &str, ddof: u8) -> Agg {
        Agg {
            column: column.to_string(),
            kind: AggKind::Std(ddof),
            name: column.to_string(),
        }
    }

    /// The same aggregation under another result name.
    pub fn alias(mut self, name: &str) -> Agg {
        self.name = name.to_string();
        self
    }

    fn p(&self, j: usize, stat: &str) -> String {
        format!("__brisk_{j}_{stat}")
    }

    /// The partial statistics of one partition (or group).
    pub(crate) fn partials(&self, j: usize, grouped: bool) -> Vec<pl::Expr> {
        let c = || col(self.column.as_str());
        let f = || c().cast(pl::DataType::Float64);
        match self.kind {
            AggKind::Count => vec![c().count().alias(self.p(j, "n"))],
            AggKind::Size => vec![pl::len().alias(self.p(j, "n"))],
            AggKind::Sum => vec![c().sum().alias(self.p(j, "s"))],
            AggKind::Min => vec![c().min().alias(self.p(j, "m"))],
            AggKind::Max => vec![c().max().alias(self.p(j, "m"))],
            // With the rows, so that a merge skips the partials of empty partitions
            // (whose first value is a null that is not in the data).
            AggKind::First => vec![
                c().first().alias(self.p(j, "m")),
                pl::len().alias(self.p(j, "r")),
            ],
            AggKind::Last => vec![
                c().last().alias(self.p(j, "m")),
                pl::len().alias(self.p(j, "r")),
            ],
            AggKind::Mean => vec![
                f().sum().alias(self.p(j, "s")),
                c().count().alias(self.p(j, "n")),
            ],
            AggKind::Var(_) | AggKind::Std(_) => vec![
                c().count().alias(self.p(j, "n")),
                f().mean().alias(self.p(j, "mu")),
                (f() - f().mean()).pow(2).sum().alias(self.p(j, "q")),
            ],
            AggKind::NUnique => {
                let u = c().unique();
                vec![if grouped { u } else { u.implode(false) }.alias(self.p(j, "u"))]
            }
        }
    }

    /// Merges partials (from concatenated partial rows) into partials.
    pub(crate) fn merges(&self, j: usize, grouped: bool) -> Vec<pl::Expr> {
        let pc = |s: &str| col(self.p(j, s).as_str());
        match self.kind {
            AggKind::Count | AggKind::Size => vec![pc("n").sum().alias(self.p(j, "n"))],
            AggKind::Sum => vec![pc("s").sum().alias(self.p(j, "s"))],
            AggKind::Min => vec![pc("m").min().alias(self.p(j, "m"))],
            AggKind::Max => vec![pc("m").max().alias(self.p(j, "m"))],
            AggKind::First | AggKind::Last => {
                let of_rows = pc("m").filter(pc("r").gt(lit(0)));
                let m = if self.kind == AggKind::First {
                    of_rows.first()
                } else {
                    of_rows.last()
                };
                vec![m.alias(self.p(j, "m")), pc("r").sum().alias(self.p(j, "r"))]
            }
            AggKind::Mean => vec![
                pc("s").sum().alias(self.p(j, "s")),
                pc("n").sum().alias(self.p(j, "n")),
            ],
            AggKind::Var(_) | AggKind::Std(_) => {
                let n = || pc("n").cast(pl::DataType::Float64);
                // A partial of no values has a null mean; so does a merge of them.
                let mu = || {
                    pl::when(pc("n").sum().gt(lit(0)))
                        .then((n() * pc("mu")).sum() / n().sum())
                        .otherwise(lit(pl::NULL).cast(pl::DataType::Float64))
                };
                vec![
                    pc("n").sum().alias(self.p(j, "n")),
                    mu().alias(self.p(j, "mu")),
                    (pc("q").sum() + (n() * (pc("mu") - mu()).pow(2)).sum()).alias(self.p(j, "q")),
                ]
            }
            AggKind::NUnique => {
                let u = pc("u").explode(explode_keep_empty()).unique();
                vec![if grouped { u } else { u.implode(false) }.alias(self.p(j, "u"))]
            }
        }
    }

    /// The result from merged partials.
    pub(crate) fn finish(&self, j: usize) -> pl::Expr {
        let pc = |s: &str| col(self.p(j, s).as_str());
        let var = |ddof: u8| {
            let n = pc("n").cast(pl::DataType::Float64);
            pl::when(pc("n").gt(lit(ddof as u32)))
                .then(pc("q") / (n - lit(ddof as f64)))
                .otherwise(lit(pl::NULL).cast(pl::DataType::Float64))
        };
        let e = match self.kind {
            AggKind::Count | AggKind::Size => pc("n").cast(pl::IDX_DTYPE),
            AggKind::Sum => pc("s"),
            AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last => pc("m"),
            AggKind::Mean => pc("s") / pc("n").cast(pl::DataType::Float64),
            AggKind::Var(ddof) => var(ddof),
            AggKind::Std(ddof) => var(ddof).sqrt(),
            // The merged list holds each distinct value once (null included).
            AggKind::NUnique => pc("u").list().len().cast(pl::IDX_DTYPE),
        };
        e.alias(self.name.as_str())
    }
}

fn explode_keep_empty() -> pl::ExplodeOptions {
    pl::ExplodeOptions {
        empty_as_null: false,
        keep_nulls: true,
    }
}

/// A tree reduction over `parts`: `merge` steps on groups of `split_every`
/// partials, and `finish` steps after the last merge. Returns a one-partition frame.
pub(crate) fn tree(
    method: &str,
    parts: Parts,
    merge: Vec<Step>,
    finish: Vec<Step>,
    partial_schema: Vec<(String, pl::DataType)>,
    split_every: usize,
) -> Result<(String, Graph)> {
    let split_every = split_every.max(2);
    let bytes =
        rmp_serde::to_vec_named(&(&merge, &finish)).map_err(|e| brisk_core::Error::Tokenize {
            what: "an aggregation".into(),
            reason: e.to_string(),
        })?;
    let merge_op: Arc<dyn Op> = Arc::new(SpecOp(Plan {
        source: Source::Inputs,
        steps: merge.clone(),
        schema: partial_schema.clone(),
    }));
    let final_op: Arc<dyn Op> = Arc::new(SpecOp(Plan {
        source: Source::Inputs,
        steps: merge.iter().chain(&finish).cloned().collect(),
        schema: partial_schema,
    }));
    let leaves = parts.keys();
    crate::layers::tree_reduction(
        parts.graph,
        leaves,
        split_every,
        |depth| {
            layer_name(
                &format!("{method}-aggregate"),
                &[&parts.name.as_str(), &depth, &split_every, &Bytes(&bytes)],
            )
        },
        |last| {
            if last {
                final_op.clone()
            } else {
                merge_op.clone()
            }
        },
    )
}

impl DataFrame {
    /// Aggregations over the whole frame: a one-partition, one-row DataFrame with a
    /// column per aggregation.
    pub fn agg(&self, aggs: &[Agg]) -> Result<DataFrame> {
        self.agg_split_every(aggs, SPLIT_EVERY)
    }

    /// [`DataFrame::agg`] with the tree's fan-in.
    pub fn agg_split_every(&self, aggs: &[Agg], split_every: usize) -> Result<DataFrame> {
        if aggs.is_empty() {
            return Err(brisk_core::Error::user("agg: no aggregations given"));
        }
        for a in aggs {
            if a.kind != AggKind::Size {
                self.check_column(&a.column)?;
            }
        }
        let partial: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.partials(j, false))
            .collect();
        let merge: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.merges(j, false))
            .collect();
        let finish: Vec<pl::Expr> = aggs.iter().enumerate().map(|(j, a)| a.finish(j)).collect();
        let first = Step::Select(partial);
        let partial_schema = super::plan::schema_after(&self.schema, std::slice::from_ref(&first))?;
        let out_schema = super::plan::schema_after(
            &partial_schema,
            &[Step::Select(merge.clone()), Step::Select(finish.clone())],
        )?;
        let parts = self.partials(&[first])?;
        let (name, graph) = tree(
            "agg",
            parts,
            vec![Step::Select(merge)],
            vec![Step::Select(finish)],
            partial_schema,
            split_every,
        )?;
        Ok(DataFrame::from_keys(name, 1, graph, out_schema))
    }

    pub(crate) fn columns_where(&self, keep: impl Fn(&pl::DataType) -> bool) -> Vec<String> {
        self.schema
            .iter()
            .filter(|(_, t)| keep(t))
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn agg_all(&self, columns: Vec<String>, make: impl Fn(&str) -> Agg) -> Result<DataFrame> {
        let aggs: Vec<Agg> = columns.iter().map(|c| make(c)).collect();
        self.agg(&aggs)
    }

    /// Non-null values of every column (one row).
    pub fn count(&self) -> Result<DataFrame> {
        self.agg_all(self.columns(), Agg::count)
    }

    /// Sum of every numeric column (one row).
    pub fn sum(&self) -> Result<DataFrame> {
        self.agg_all(self.columns_where(|t| t.is_primitive_numeric()), Agg::sum)
    }

    /// Mean of every numeric column (one row).
    pub fn mean(&self) -> Result<DataFrame> {
        self.agg_all(self.columns_where(|t| t.is_primitive_numeric()), Agg::mean)
    }

    /// Smallest value of every column (one row).
    pub fn min(&self) -> Result<DataFrame> {
        self.agg_all(self.columns(), Agg::min)
    }

    /// Largest value of every column (one row).
    pub fn max(&self) -> Result<DataFrame> {
        self.agg_all(self.columns(), Agg::max)
    }

    /// Sample standard deviation (ddof = 1) of every numeric column (one row).
    pub fn std(&self) -> Result<DataFrame> {
        self.agg_all(self.columns_where(|t| t.is_primitive_numeric()), |c| {
            Agg::std(c, 1)
        })
    }

    /// Sample variance (ddof = 1) of every numeric column (one row).
    pub fn var(&self) -> Result<DataFrame> {
        self.agg_all(self.columns_where(|t| t.is_primitive_numeric()), |c| {
            Agg::var(c, 1)
        })
    }

    /// Distinct values of every column (one row).
    pub fn nunique(&self) -> Result<DataFrame> {
        self.agg_all(self.columns(), Agg::nunique)
    }
}
