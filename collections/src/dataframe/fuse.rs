//! Fusing the first level of a reduction over Parquet files read with
//! `aggregate_files`: when a reduction reads few of a file's columns, one task scans
//! several whole files and computes the chunk statistics of their union (Dask's
//! `FusedParquetIO`). The reduction builder (`reduction.rs`) asks for fused chunks
//! and falls back to one chunk per partition. Fewer, larger tasks cost less to
//! plan and schedule, and one Polars scan over several files overlaps their reads
//! and decoding where one scan per file would wait at each file's end.
//!
//! Two conditions keep the result the same as one chunk per file:
//!
//! - every blockwise step before the chunk is *row-separable*: its result on the
//!   union of two files is the union of its results on each (selections of
//!   elementwise expressions, filters by them, new columns from them). Polars' own
//!   plan says so: the steps are planned on an empty frame and every expression
//!   is asked `is_elementwise`. A slice, a sort, a per-partition aggregate or a
//!   window expression keeps one task per file;
//! - the chunk statistics of a union are valid chunk results: every combine of
//!   the reductions here is associative and takes chunk rows in file order.
//!
//! How many files share a task follows Dask's rule: the inverse of the fraction of
//! columns read, at most the square root of the number of files (so that a
//! cluster still has tasks to spread), and at most 100.

use super::dataframe::{steps_bytes, Base, DataFrame, Parts};
use super::plan::{Plan, SpecOp};
use super::schema::to_schema;
use super::source::{FileRef, Source};
use super::step::{needed_columns, Step};
use crate::layers::layer_name;
use brisk_core::graph::Task;
use brisk_core::op::Op;
use brisk_core::token::Bytes;
use brisk_core::{Key, Result};
use polars::prelude as pl;
use polars_plan::plans::{all_elementwise, is_scalar_ae, IR};
use std::sync::Arc;

/// The partitions of `df` with its pending steps and a reduction's `chunk` steps
/// applied, several Parquet files per task, when the files and steps allow it (see
/// the module documentation); `None` otherwise.
pub(crate) fn fused_chunks(df: &DataFrame, chunk: &[Step]) -> Result<Option<Parts>> {
    let Base::Scans {
        method,
        name,
        plans,
    } = &*df.base
    else {
        return Ok(None);
    };
    let (Some(files), Some(first)) = (whole_files(plans), plans.first()) else {
        return Ok(None);
    };
    let source_schema = &first.schema;
    let steps: Vec<Step> = df.steps.iter().chain(chunk).cloned().collect();
    // Only the file's columns count, not those the steps add.
    let read = needed_columns(&steps).map(|names| {
        source_schema
            .iter()
            .filter(|(n, _)| names.contains(n))
            .count()
    });
    let size = bucket_size(files.len(), read, source_schema.len());
    if size < 2 || !row_separable(source_schema, &df.steps) {
        return Ok(None);
    }
    let bytes = steps_bytes(&steps)?;
    let layer = layer_name(
        &format!("{method}-fused"),
        &[&name.as_str(), &Bytes(&bytes), &size],
    )?;
    let tasks: Vec<Task> = buckets(files.len(), size)
        .into_iter()
        .enumerate()
        .map(|(i, range)| {
            let op = SpecOp(Plan {
                source: Source::ParquetFiles(files[range].to_vec()),
                steps: steps.clone(),
                schema: source_schema.clone(),
            });
            Task::new(
                Key::new(layer.as_str(), &[i as u32]),
                Arc::new(op) as Arc<dyn Op>,
                vec![],
            )
        })
        .collect();
    Ok(Some(Parts::from_layer(layer, tasks, None)))
}

/// The files when every plan reads one whole local Parquet file that may be read
/// with others and has no steps of its own, such as a cast to the frame's schema
/// (`None` otherwise).
fn whole_files(plans: &[Plan]) -> Option<Vec<FileRef>> {
    plans
        .iter()
        .map(|p| match &p.source {
            Source::Parquet(part)
                if part.aggregate_files
                    && part.rows.is_none()
                    && p.steps.is_empty()
                    && part.file.local_path().is_some() =>
            {
                Some(part.file.clone())
            }
            _ => None,
        })
        .collect()
}

/// Files per task: `1 / (columns read / columns)`, at most `⌈√files⌉` and 100
/// (1: no fusing). `read` is `None` when the columns read are unknown.
///
/// ```text
/// bucket_size(8, Some(1), 19) == 3     // ⌈√8⌉ caps 19
/// bucket_size(8, Some(10), 19) == 2
/// bucket_size(8, None, 19) == 1
/// ```
pub(crate) fn bucket_size(files: usize, read: Option<usize>, columns: usize) -> usize {
    let Some(read) = read else { return 1 };
    if columns == 0 || files < 2 {
        return 1;
    }
    let fraction = (read as f64 / columns as f64).max(0.001);
    let by_columns = (1.0 / fraction).ceil() as usize;
    let by_files = (files as f64).sqrt().ceil() as usize;
    by_columns.min(by_files).clamp(1, 100)
}

/// `files` cut into `⌈files / size⌉` runs of near-equal length, in order.
pub(crate) fn buckets(files: usize, size: usize) -> Vec<std::ops::Range<usize>> {
    let n = files.div_ceil(size.max(1)).max(1);
    (0..n).map(|i| i * files / n..(i + 1) * files / n).collect()
}

/// True when `steps`, planned by Polars on an empty frame of `schema`, only select,
/// filter and add columns with elementwise expressions (and a selection keeps one
/// row per input row: not only scalars).
pub(crate) fn row_separable(schema: &[(String, pl::DataType)], steps: &[Step]) -> bool {
    use pl::IntoLazy;
    let lf = pl::DataFrame::empty_with_schema(&to_schema(schema)).lazy();
    let Ok(plan) = steps.iter().fold(lf, |lf, s| s.apply(lf)).to_alp() else {
        return false;
    };
    let exprs = &plan.expr_arena;
    let mut node = plan.lp_top;
    loop {
        node = match plan.lp_arena.get(node) {
            IR::DataFrameScan { .. } => return true,
            IR::SimpleProjection { input, .. } => *input,
            IR::Filter { input, predicate } => {
                if !all_elementwise(std::slice::from_ref(predicate), exprs) {
                    return false;
                }
                *input
            }
            IR::HStack {
                input, exprs: e, ..
            } => {
                if !all_elementwise(e, exprs) {
                    return false;
                }
                *input
            }
            IR::Select { input, expr, .. } => {
                let keeps_rows = expr.iter().any(|e| !is_scalar_ae(e.node(), exprs));
                if !keeps_rows || !all_elementwise(expr, exprs) {
                    return false;
                }
                *input
            }
            _ => return false,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{col, len, lit};

    /// One scan over several files gives the steps' result over their rows in file
    /// order, without the file-by-file fallback.
    #[test]
    fn a_fused_scan_reads_its_files_in_order() {
        use crate::dataframe::source::FileRef;
        use brisk_io::url::StoreOptions;
        use polars::prelude::{df, ParquetWriter};
        let dir = std::env::temp_dir().join(format!("brisk-fuse-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let files: Vec<FileRef> = (0..3i64)
            .map(|i| {
                let path = dir.join(format!("{i}.parquet"));
                let mut part = df!("x" => [10 * i, 10 * i + 1, 10 * i + 2]).unwrap();
                ParquetWriter::new(std::fs::File::create(&path).unwrap())
                    .finish(&mut part)
                    .unwrap();
                FileRef {
                    url: path.display().to_string(),
                    size: std::fs::metadata(&path).unwrap().len(),
                    modified_ns: 0,
                    e_tag: None,
                    store: StoreOptions::default(),
                }
            })
            .collect();
        let plan = Plan {
            source: Source::ParquetFiles(files.clone()),
            steps: vec![
                Step::Filter(col("x").neq(lit(1i64))),
                Step::Select(vec![
                    col("x").first().alias("first"),
                    col("x").last().alias("last"),
                    col("x").sum().alias("sum"),
                    len().alias("rows"),
                ]),
            ],
            schema: vec![("x".to_string(), pl::DataType::Int64)],
        };
        let got = plan.fused(&files).unwrap();
        let value = |c: &str| {
            got.column(c)
                .unwrap()
                .cast(&pl::DataType::Int64)
                .unwrap()
                .i64()
                .unwrap()
                .get(0)
        };
        assert_eq!(value("first"), Some(0));
        assert_eq!(value("last"), Some(22));
        assert_eq!(value("sum"), Some(2 + 10 + 11 + 12 + 20 + 21 + 22)); // 1 filtered out
        assert_eq!(value("rows"), Some(8));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_per_task_follow_the_fraction_of_columns_read_capped_by_the_root_of_the_files() {
        assert_eq!(bucket_size(8, Some(1), 19), 3);
        assert_eq!(bucket_size(8, Some(0), 19), 3);
        assert_eq!(bucket_size(8, Some(10), 19), 2);
        assert_eq!(bucket_size(8, Some(19), 19), 1);
        assert_eq!(bucket_size(8, None, 19), 1);
        assert_eq!(bucket_size(1, Some(1), 19), 1);
        assert_eq!(bucket_size(100_000, Some(0), 19), 100);
    }

    #[test]
    fn buckets_are_near_equal_runs_in_order() {
        assert_eq!(buckets(8, 3), [0..2, 2..5, 5..8]);
        assert_eq!(buckets(9, 3), [0..3, 3..6, 6..9]);
        assert_eq!(buckets(2, 3), [0..2]);
        let cover: Vec<usize> = buckets(101, 7).into_iter().flatten().collect();
        assert_eq!(cover, (0..101).collect::<Vec<_>>());
    }

    #[test]
    fn only_elementwise_selections_filters_and_new_columns_are_row_separable() {
        let schema = vec![
            ("x".to_string(), pl::DataType::Int64),
            (
                "t".to_string(),
                pl::DataType::Datetime(pl::TimeUnit::Microseconds, None),
            ),
        ];
        let yes = [
            vec![],
            vec![Step::Filter(col("x").gt(lit(1)))],
            vec![
                Step::WithColumns(vec![(col("x") * lit(2)).alias("y"), col("t").dt().hour()]),
                Step::Select(vec![col("y"), lit(1).alias("one")]),
            ],
        ];
        for steps in yes {
            assert!(row_separable(&schema, &steps), "{steps:?}");
        }
        let no = [
            vec![Step::Select(vec![col("x").sum()])],
            vec![Step::Select(vec![lit(1).alias("one")])],
            vec![Step::Select(vec![len()])],
            vec![Step::WithColumns(vec![col("x").cum_sum(false).alias("c")])],
            vec![Step::WithColumns(vec![
                (col("x") - col("x").mean()).alias("c")
            ])],
            vec![Step::Filter(col("x").gt(col("x").mean()))],
            vec![Step::Slice { offset: 0, len: 5 }],
            vec![Step::Part { index: 0, of: 2 }],
            vec![Step::Unique(vec!["x".into()])],
            vec![Step::Sort {
                by: vec!["x".into()],
                descending: vec![false],
            }],
            vec![Step::GroupBy {
                keys: vec![col("x")],
                aggs: vec![len()],
            }],
            // An unknown column: Polars cannot plan it, so nothing is fused.
            vec![Step::Filter(col("nope").gt(lit(1)))],
        ];
        for steps in no {
            assert!(!row_separable(&schema, &steps), "{steps:?}");
        }
    }
}
