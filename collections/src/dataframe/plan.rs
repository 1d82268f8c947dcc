//! The per-partition plan: where a partition's rows come from (a file block or the
//! task's inputs) and the blockwise steps applied to them, run as one Polars
//! LazyFrame. The plan is plain serde data (Polars expressions included), so the op
//! that runs it can be rebuilt in another process.

use super::frame::{frame, Frame};
use super::read::{scan_parquet_files, FileRef, ParquetPart, TextBlock};
use super::temporal::fast_accessors;
use brisk_core::op::OpRegistration;
pub(crate) use brisk_core::spec_op::SpecOp;
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::{Error, Result, Value};
use polars::prelude as pl;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// One blockwise step of a partition's LazyFrame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Step {
    /// `select(exprs)`.
    Select(Vec<pl::Expr>),
    /// `filter(predicate)`.
    Filter(pl::Expr),
    /// `with_columns(exprs)`.
    WithColumns(Vec<pl::Expr>),
    /// `group_by(keys).agg(aggs)`, then sorted by the keys' output names.
    GroupBy {
        keys: Vec<pl::Expr>,
        aggs: Vec<pl::Expr>,
        sort_by: Vec<String>,
    },
    /// Rows `offset..offset + len` (a negative offset counts from the end).
    Slice { offset: i64, len: u32 },
    /// Rows `floor(r * of / rows) == index`: piece `index` of `of` near-equal pieces.
    Part { index: u32, of: u32 },
    /// The first row of each distinct combination of `columns`, order kept.
    Unique(Vec<String>),
    /// Sorted by columns (ascending unless `descending`), nulls last, stable.
    Sort {
        by: Vec<String>,
        descending: Vec<bool>,
    },
}

impl Step {
    /// Adds this step to a LazyFrame.
    ///
    /// Expressions run with [`fast_accessors`] applied; the step as stored keeps
    /// them as written.
    pub(crate) fn apply(&self, lf: pl::LazyFrame) -> pl::LazyFrame {
        let fast = |e: &[pl::Expr]| e.iter().cloned().map(fast_accessors).collect::<Vec<_>>();
        match self {
            Step::Select(e) => lf.select(fast(e)),
            Step::Filter(e) => lf.filter(fast_accessors(e.clone())),
            Step::WithColumns(e) => lf.with_columns(fast(e)),
            Step::GroupBy {
                keys,
                aggs,
                sort_by,
            } => {
                let grouped = lf.group_by(fast(keys)).agg(fast(aggs));
                if sort_by.is_empty() {
                    grouped
                } else {
                    grouped.sort(
                        sort_by.iter().map(String::as_str).collect::<Vec<_>>(),
                        pl::SortMultipleOptions::default()
                            .with_nulls_last(true)
                            .with_maintain_order(true),
                    )
                }
            }
            Step::Slice { offset, len } => lf.slice(*offset, *len),
            Step::Part { index, of } => {
                const ROW: &str = "__brisk_row";
                let f64 = pl::DataType::Float64;
                let piece = ((pl::col(ROW).cast(f64.clone()) * pl::lit(f64::from(*of)))
                    / pl::len().cast(f64))
                .floor();
                lf.with_row_index(ROW, None)
                    .filter(piece.eq(pl::lit(f64::from(*index))))
                    .drop(pl::by_name([ROW], true, false))
            }
            Step::Unique(columns) => lf.unique_stable_generic(
                Some(columns.iter().map(|c| pl::col(c.as_str())).collect()),
                pl::UniqueKeepStrategy::First,
            ),
            Step::Sort { by, descending } => lf.sort(
                by.iter().map(String::as_str).collect::<Vec<_>>(),
                pl::SortMultipleOptions::default()
                    .with_order_descending_multi(descending.clone())
                    .with_nulls_last(true)
                    .with_maintain_order(true),
            ),
        }
    }
}

/// Where a partition's rows come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Source {
    /// The task's inputs, concatenated in order (none: an empty frame of `schema`).
    Inputs,
    /// A block of a CSV or NDJSON file.
    Text(TextBlock),
    /// Some rows of a Parquet file.
    Parquet(ParquetPart),
    /// Whole Parquet files read by one scan, in order: the partitions of a
    /// reduction's first level fused into one task (see `fuse.rs`).
    ParquetFiles(Vec<FileRef>),
}

/// What one partition task runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub source: Source,
    pub steps: Vec<Step>,
    /// The schema of the source's rows (for an empty input list).
    pub schema: Vec<(String, pl::DataType)>,
}

impl Spec for Plan {
    const NAME: &'static str = "brisk::dataframe::partition";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        if let (Source::Text(block), Some(name)) = (&self.source, row_count_only(&self.steps)) {
            if let Some(rows) = block.count_rows()? {
                return Ok(Arc::new(Frame(rows_frame(name, rows, &block.file.url)?)));
            }
        }
        let lf = match &self.source {
            Source::Inputs => concat_inputs(inputs, &self.schema)?,
            Source::Text(block) => block.lazy(needed_columns(&self.steps).as_ref())?,
            Source::Parquet(part) => part.lazy()?,
            Source::ParquetFiles(files) => {
                return match self.fused(files) {
                    Ok(df) => Ok(Arc::new(Frame(df))),
                    Err(_) => self.file_by_file(files),
                }
            }
        };
        let lf = self.steps.iter().fold(lf, |lf, s| s.apply(lf));
        let df = collect(lf, &self.source).map_err(|e| match &self.source {
            Source::Text(block) => block.explain(e),
            Source::Parquet(part) => Error::user(format!("reading {}: {e}", part.file.url)),
            Source::Inputs | Source::ParquetFiles(_) => Error::user(e.to_string()),
        })?;
        Ok(Arc::new(Frame(df)))
    }
}

impl Plan {
    /// The steps over one scan of whole Parquet files.
    pub(crate) fn fused(&self, files: &[FileRef]) -> Result<pl::DataFrame> {
        let lf = scan_parquet_files(files)?;
        let lf = self.steps.iter().fold(lf, |lf, s| s.apply(lf));
        collect(lf, &self.source).map_err(|e| Error::user(e.to_string()))
    }

    /// The steps run on each file by itself, the results concatenated in order:
    /// what a fused scan falls back to when it fails, so that the error names its
    /// file (the files of a fused scan share one schema, so each failing alone
    /// is expected).
    fn file_by_file(&self, files: &[FileRef]) -> Result<Value> {
        let parts = files
            .iter()
            .map(|file| {
                Plan {
                    source: Source::Parquet(ParquetPart {
                        file: file.clone(),
                        rows: None,
                        aggregate_files: false,
                    }),
                    steps: self.steps.clone(),
                    schema: self.schema.clone(),
                }
                .call(&[])
            })
            .collect::<Result<Vec<Value>>>()?;
        let schema = schema_after(&self.schema, &self.steps)?;
        Ok(Arc::new(Frame(super::concat(
            parts.iter().map(frame),
            &schema,
        )?)))
    }
}

inventory::submit! {
    OpRegistration { name: Plan::NAME, rebuild: rebuild_spec::<Plan> }
}

/// The columns of the source that `steps` read (`None`: all of them), found by
/// walking the steps backwards from the last one that selects. A superset is always
/// safe; an expression this walk does not understand (a selector other than names)
/// makes it give up and read everything.
pub(crate) fn needed_columns(steps: &[Step]) -> Option<BTreeSet<String>> {
    let mut needed: Option<BTreeSet<String>> = None;
    for step in steps.iter().rev() {
        match step {
            Step::Select(exprs) => needed = leaves(exprs),
            Step::GroupBy { keys, aggs, .. } => needed = leaves(keys.iter().chain(aggs)),
            Step::Filter(e) => needed = union(needed, leaves([e])),
            Step::WithColumns(exprs) => needed = union(needed, leaves(exprs)),
            Step::Slice { .. } | Step::Part { .. } => {}
            Step::Unique(columns) if columns.is_empty() => needed = None,
            Step::Unique(columns) => {
                needed = union(needed, Some(columns.iter().cloned().collect()))
            }
            Step::Sort { by, .. } => needed = union(needed, Some(by.iter().cloned().collect())),
        }
    }
    needed
}

fn union(a: Option<BTreeSet<String>>, b: Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
    let (mut a, b) = (a?, b?);
    a.extend(b);
    Some(a)
}

/// The column names that `exprs` read, or `None` when one of them selects columns
/// in a way other than by name (`all()`, by type, by pattern...).
fn leaves<'a>(exprs: impl IntoIterator<Item = &'a pl::Expr>) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for expr in exprs {
        for node in expr {
            match node {
                pl::Expr::Column(name) => {
                    names.insert(name.to_string());
                }
                pl::Expr::Selector(pl::Selector::ByName { names: by, .. }) => {
                    names.extend(by.iter().map(|n| n.to_string()));
                }
                // Columns this walk cannot see: types computed from expressions.
                // (Rolling windows, whose index column the walk would miss, are not
                // in this build of Polars: `dynamic_group_by` is off; enabling it
                // needs an arm here.)
                pl::Expr::Selector(_)
                | pl::Expr::DataTypeFunction(_)
                | pl::Expr::Eval { .. }
                | pl::Expr::StructEval { .. } => return None,
                pl::Expr::Cast { dtype, .. } if !matches!(dtype, pl::DataTypeExpr::Literal(_)) => {
                    return None
                }
                _ => {}
            }
        }
    }
    Some(names)
}

/// The output name when `steps` only count the rows (`select(len().alias(name))`),
/// which a text block answers by counting its records, without parsing them (as
/// Polars answers `scan_csv(..).select(len())`).
fn row_count_only(steps: &[Step]) -> Option<&pl::PlSmallStr> {
    match steps {
        [Step::Select(exprs)] => match exprs.as_slice() {
            [pl::Expr::Alias(inner, name)] if **inner == pl::len() => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// A one-row frame holding `rows` in column `name`, typed as `len()` is.
fn rows_frame(name: &pl::PlSmallStr, rows: usize, url: &str) -> Result<pl::DataFrame> {
    let rows = pl::IdxSize::try_from(rows).map_err(|_| {
        Error::user(format!(
            "{url}: {rows} rows in one block is too many to count"
        ))
    })?;
    pl::DataFrame::new_infer_height(vec![pl::Column::new(name.clone(), [rows])])
        .map_err(|e| Error::user(e.to_string()))
}

/// Runs a partition's LazyFrame. A Parquet scan and the steps after it run on
/// Polars' streaming engine, which decodes, filters and aggregates row group by row
/// group without first gathering the scanned columns (10-15 % faster on the taxi
/// queries here); other sources hold their rows in memory already.
fn collect(lf: pl::LazyFrame, source: &Source) -> pl::PolarsResult<pl::DataFrame> {
    match source {
        // One LazyFrame has one sink, so the result is a single frame (the
        // several-frames form only comes from collecting several plans at once).
        Source::Parquet(_) | Source::ParquetFiles(_) => Ok(lf
            .collect_with_engine(pl::Engine::Streaming)?
            .unwrap_single()),
        _ => lf.collect(),
    }
}

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

fn concat_inputs(inputs: &[Value], schema: &[(String, pl::DataType)]) -> Result<pl::LazyFrame> {
    use pl::IntoLazy;
    match inputs {
        [] => Ok(pl::DataFrame::empty_with_schema(&to_schema(schema)).lazy()),
        [one] => Ok(frame(one)?.clone().lazy()),
        many => {
            let mut acc = frame(&many[0])?.clone();
            for v in &many[1..] {
                acc.vstack_mut(frame(v)?)
                    .map_err(|e| Error::user(format!("cannot concatenate partitions: {e}")))?;
            }
            Ok(acc.lazy())
        }
    }
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
    let out = lf
        .collect_schema()
        .map_err(|e| Error::user(e.to_string()))?;
    Ok(from_schema(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> Option<BTreeSet<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn needed_columns_walk_back_from_the_last_selection() {
        // filter(a > 0) -> with_columns(d = b / c) -> group_by(hour(e)).agg(mean(d))
        let steps = vec![
            Step::Filter(pl::col("a").gt(pl::lit(0))),
            Step::WithColumns(vec![(pl::col("b") / pl::col("c")).alias("d")]),
            Step::GroupBy {
                keys: vec![pl::col("e").dt().hour()],
                aggs: vec![pl::col("d").mean()],
                sort_by: vec![],
            },
        ];
        assert_eq!(needed_columns(&steps), set(&["a", "b", "c", "d", "e"]));
        // A selection ends what earlier steps may add; a row count needs no column.
        let count = [Step::Select(vec![pl::len().alias("n")])];
        assert_eq!(needed_columns(&count), set(&[]));
        let sorted = [
            Step::Sort {
                by: vec!["k".into()],
                descending: vec![false],
            },
            Step::Select(vec![pl::col("x")]),
        ];
        // ... and a sort before the selection needs its key too.
        assert_eq!(needed_columns(&sorted), set(&["k", "x"]));
    }

    #[test]
    fn needed_columns_read_everything_unless_a_step_selects_by_name() {
        assert_eq!(needed_columns(&[]), None);
        assert_eq!(
            needed_columns(&[Step::Filter(pl::col("a").is_null())]),
            None
        );
        assert_eq!(needed_columns(&[Step::Select(vec![pl::col("*")])]), None);
        assert_eq!(
            needed_columns(&[Step::Select(vec![pl::col("^x.*$")])]),
            None
        );
        // A cast to the type of another expression reads that expression's columns.
        let cast = pl::col("a").cast(pl::DataTypeExpr::OfExpr(Box::new(pl::col("b"))));
        assert_eq!(needed_columns(&[Step::Select(vec![cast])]), None);
        assert_eq!(needed_columns(&[Step::Unique(vec![])]), None);
        // ... but a selection before it bounds what the source must give.
        let unique_after = [Step::Select(vec![pl::col("a")]), Step::Unique(vec![])];
        assert_eq!(needed_columns(&unique_after), set(&["a"]));
    }
}
