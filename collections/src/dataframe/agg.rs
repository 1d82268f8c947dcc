//! Aggregations ([`Agg`]) as the three stages of a tree reduction
//! (`reduction.rs`): each aggregation is split into chunk statistics computed per
//! partition, a combine of chunk statistics, and a final aggregate expression; and
//! the whole-frame aggregations (`agg`, `sum`, `mean`... and `len`).
//!
//! ```text
//!   partition → chunk (sum, count, mean, M2 …)          one task per partition
//!        combine ≤ split_every chunk results             levels until one is left
//!        aggregate (mean = sum / count, var = M2 / (n − ddof) …)
//! ```
//!
//! Variances combine with Chan et al.'s pairwise formula, so they stay accurate
//! when the mean is large beside the spread.

use super::dataframe::DataFrame;
use super::frame::frame;
use super::reduction::Reduction;
use super::schema::widened_integer;
use super::step::Step;
use crate::error;
use crate::layers::SPLIT_EVERY;
use brisk_core::executor::default_executor;
use brisk_core::Result;
use polars::prelude as pl;
use polars::prelude::{col, lit};

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

    /// Refuses aggregations whose results (after the columns in `taken`) would
    /// share a name, naming the duplicates.
    pub(crate) fn check_names(method: &'static str, taken: &[String], aggs: &[Agg]) -> Result<()> {
        let mut seen: std::collections::BTreeSet<&str> = taken.iter().map(String::as_str).collect();
        let mut twice: Vec<String> = Vec::new();
        for a in aggs {
            if !seen.insert(a.name.as_str()) && !twice.contains(&a.name) {
                twice.push(a.name.clone());
            }
        }
        if twice.is_empty() {
            Ok(())
        } else {
            Err(crate::error::Error::DuplicateColumns {
                method,
                names: twice,
            }
            .into())
        }
    }

    fn p(&self, j: usize, stat: &str) -> String {
        format!("__brisk_{j}_{stat}")
    }

    /// The chunk statistics of one partition (or group), the column being of
    /// type `dtype`.
    ///
    /// Sums of `Int8` / `Int16` / `Int32` accumulate in `Int64` and of `UInt8` /
    /// `UInt16` / `UInt32` in `UInt64`, as NumPy's and pandas' do, where Polars
    /// would keep `Int32` / `UInt32` and wrap past their range.
    pub(crate) fn chunk(&self, j: usize, grouped: bool, dtype: &pl::DataType) -> Vec<pl::Expr> {
        let c = || col(self.column.as_str());
        let wide = || match widened_integer(dtype) {
            Some(t) => c().cast(t),
            None => c(),
        };
        let f = || c().cast(pl::DataType::Float64);
        match self.kind {
            AggKind::Count => vec![c().count().alias(self.p(j, "n"))],
            AggKind::Size => vec![pl::len().alias(self.p(j, "n"))],
            AggKind::Sum => vec![wide().sum().alias(self.p(j, "s"))],
            AggKind::Min => vec![c().min().alias(self.p(j, "m"))],
            AggKind::Max => vec![c().max().alias(self.p(j, "m"))],
            // With the rows, so that a combine skips the chunks of empty partitions
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

    /// Combines chunk statistics (from concatenated chunk rows) into chunk
    /// statistics.
    pub(crate) fn combine(&self, j: usize, grouped: bool) -> Vec<pl::Expr> {
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
                // A chunk of no values has a null mean; so does a combine of them.
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

    /// The result from combined chunk statistics.
    pub(crate) fn aggregate(&self, j: usize) -> pl::Expr {
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
            // The combined list holds each distinct value once (null included).
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

impl DataFrame {
    /// Aggregations over the whole frame: a one-partition, one-row DataFrame with a
    /// column per aggregation.
    pub fn agg(&self, aggs: &[Agg]) -> Result<DataFrame> {
        self.agg_split_every(aggs, SPLIT_EVERY)
    }

    /// [`DataFrame::agg`] with the tree's fan-in.
    pub fn agg_split_every(&self, aggs: &[Agg], split_every: usize) -> Result<DataFrame> {
        if aggs.is_empty() {
            return Err(error::invalid("agg: no aggregations given"));
        }
        Agg::check_names("agg", &[], aggs)?;
        for a in aggs {
            if a.kind != AggKind::Size {
                self.check_column(&a.column)?;
            }
        }
        let chunk: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.chunk(j, false, &self.dtype_of(&a.column)))
            .collect();
        let combine: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.combine(j, false))
            .collect();
        let aggregate: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .map(|(j, a)| a.aggregate(j))
            .collect();
        Reduction::new(
            "agg",
            vec![Step::Select(chunk)],
            vec![Step::Select(combine)],
            vec![Step::Select(aggregate)],
        )
        .split_every(split_every)
        .apply(self)
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

    /// Sum of every numeric column (one row); small integer types are summed in
    /// 64 bits, as NumPy does (`Int32` → `Int64`, `UInt32` → `UInt64`).
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

    /// The number of rows (computed now, like Dask's `len(df)`).
    pub fn len(&self) -> Result<usize> {
        let parts = self.chunks(&[Step::Select(vec![pl::len().alias("len")])])?;
        let values = default_executor()?.get(&parts.graph, &parts.keys())?;
        let mut total = 0usize;
        for v in &values {
            let df = frame(v)?;
            let c = df
                .column("len")
                .and_then(|c| c.cast(&pl::DataType::UInt64))
                .map_err(|e| error::polars("", e))?;
            let ca = c.u64().map_err(|e| error::polars("", e))?;
            total += ca.iter().flatten().sum::<u64>() as usize;
        }
        Ok(total)
    }

    /// True when the frame has no rows.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}
