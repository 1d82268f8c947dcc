//! DataFrame: a lazy frame split into partitions of Polars DataFrames (Dask's
//! `dask.dataframe`).
//!
//! The schema is known without reading the data (from a sample, for files).
//! Blockwise methods (`select`, `filter`, `with_columns`, `rename`, `drop`, `cast`)
//! add no tasks: they extend a per-partition plan that runs as one Polars LazyFrame
//! per partition, reader included, so Polars pushes column projections and filters
//! into the CSV / Parquet / NDJSON readers. The plan is serde data (expressions
//! included), so a worker process can rebuild it. Aggregations and group-by
//! aggregations are tree reductions (see [`Agg`]).
//!
//! ```
//! use brisk_collections::dataframe::{from_polars, Agg};
//! use polars::prelude::{col, df, lit};
//! # use brisk_scheduler as _;
//! let pdf = df!("k" => ["a", "b", "a", "b"], "x" => [1i64, 2, 3, 4]).unwrap();
//! let ddf = from_polars(&pdf, 2).unwrap();
//! let big = ddf.filter(col("x").gt(lit(1))).unwrap();
//! assert_eq!(big.len().unwrap(), 3);
//! let sums = big.groupby([col("k")]).agg(&[Agg::sum("x")]).unwrap().compute().unwrap();
//! assert_eq!(sums.column("x").unwrap().i64().unwrap().to_vec(), [Some(3), Some(6)]);
//! ```

mod csv_scan;
mod dates;
mod diagnose;
mod frame;
mod from_bag;
mod fuse;
mod groupby;
mod parquet_write;
mod plan;
mod read;
mod reduce;
mod repartition;
mod series;
mod shuffle;
mod stats;
mod temporal;
mod to_array;
mod write;

pub use frame::{Frame, FRAME_TAG};
pub use groupby::GroupBy;
pub use parquet_write::write_parquet;
/// The Polars build the partitions use (for expressions: `col`, `lit`, `DataType`...).
pub use polars;
pub use polars::prelude::{col, lit, DataType, Expr};
pub use read::{read_csv, read_json, read_parquet, CsvOptions, ParquetOptions};
pub use reduce::{Agg, AggKind};
pub use series::{Scalar, Series};
pub use shuffle::{FrameBuckets, How};
pub use to_array::FrameToArray;

use crate::layers::layer_name;
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{LiteralOp, Op};
use brisk_core::token::Bytes;
use brisk_core::{Error, Key, Result};
use plan::{schema_after, to_schema, Plan, Source, SpecOp, Step};
use polars::prelude as pl;
use std::sync::Arc;

/// A lazy, partitioned DataFrame.
#[derive(Clone)]
pub struct DataFrame {
    base: Arc<Base>,
    steps: Vec<Step>,
    schema: Vec<(String, pl::DataType)>,
    divisions: Option<Arc<Divisions>>,
}

/// Sorted partition boundaries: partition `i` holds the rows whose `column` lies
/// between `boundaries[i - 1]` and `boundaries[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Divisions {
    /// The sorted column.
    pub column: String,
    /// The `npartitions - 1` (or fewer) boundaries.
    pub boundaries: Vec<pl::AnyValue<'static>>,
}

/// The partitions the pending steps apply to.
enum Base {
    /// Partitions that are keys of a graph.
    Keys {
        name: String,
        npartitions: usize,
        graph: Graph,
        schema: Vec<(String, pl::DataType)>,
    },
    /// Partitions read from files by the plans' sources (no task yet).
    Scans {
        method: String,
        name: String,
        plans: Vec<Plan>,
    },
}

/// Materialised partitions: keys `(name, 0..npartitions)` of `graph`.
pub(crate) struct Parts {
    pub name: String,
    pub npartitions: usize,
    pub graph: Graph,
}

impl Parts {
    /// The partitions computed by `tasks`, one per partition in order, as layer
    /// `name` over `deps`.
    pub(crate) fn from_layer(name: String, tasks: Vec<Task>, deps: Option<&Graph>) -> Parts {
        let npartitions = tasks.len();
        let graph = Graph::from_layer(
            Layer {
                name: name.clone(),
                tasks,
            },
            deps,
        );
        Parts {
            name,
            npartitions,
            graph,
        }
    }

    pub(crate) fn key(&self, i: usize) -> Key {
        Key::new(self.name.as_str(), &[i as u32])
    }
    pub(crate) fn keys(&self) -> Vec<Key> {
        (0..self.npartitions).map(|i| self.key(i)).collect()
    }
}

impl std::fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DataFrame(npartitions={}, columns={:?})",
            self.npartitions(),
            self.columns()
        )
    }
}

fn steps_bytes(steps: &[Step]) -> Result<Vec<u8>> {
    rmp_serde::to_vec_named(steps).map_err(|e| Error::Tokenize {
        what: "a DataFrame plan".into(),
        reason: e.to_string(),
    })
}

/// A Polars DataFrame cut into `npartitions` partitions of near-equal row counts
/// (fewer when there are fewer rows; at least one).
pub fn from_polars(df: &pl::DataFrame, npartitions: usize) -> Result<DataFrame> {
    let rows = df.height();
    let n = npartitions.clamp(1, rows.max(1));
    let token = brisk_core::tokenize(df)?;
    let name = layer_name("from_polars", &[&token, &n])?;
    let tasks = (0..n)
        .map(|i| {
            let (a, b) = (i * rows / n, (i + 1) * rows / n);
            let part = df.slice(a as i64, b - a);
            let key = Key::new(name.as_str(), &[i as u32]);
            let token = brisk_core::tokenize(&key)?;
            Ok(Task::new(
                key,
                Arc::new(LiteralOp::new(Arc::new(Frame(part)), token)),
                vec![],
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = plan::from_schema(df.schema());
    Ok(DataFrame::from_keys(
        name.clone(),
        n,
        Graph::from_tasks(name, tasks),
        schema,
    ))
}

impl DataFrame {
    /// A DataFrame over existing partition keys `(name, 0..npartitions)` of `graph`,
    /// each a [`Frame`] of `schema`.
    pub(crate) fn from_keys(
        name: String,
        npartitions: usize,
        graph: Graph,
        schema: Vec<(String, pl::DataType)>,
    ) -> DataFrame {
        DataFrame {
            base: Arc::new(Base::Keys {
                name,
                npartitions,
                graph,
                schema: schema.clone(),
            }),
            steps: Vec::new(),
            schema,
            divisions: None,
        }
    }

    /// The sorted boundaries of the partitions, when known (after `sort_values` or
    /// `set_index`, kept through filters).
    pub fn divisions(&self) -> Option<&Divisions> {
        self.divisions.as_deref()
    }

    pub(crate) fn with_divisions(
        mut self,
        column: &str,
        boundaries: Vec<pl::AnyValue<'static>>,
    ) -> DataFrame {
        self.divisions = Some(Arc::new(Divisions {
            column: column.to_string(),
            boundaries,
        }));
        self
    }

    pub(crate) fn from_scans(
        method: &str,
        plans: Vec<Plan>,
        schema: Vec<(String, pl::DataType)>,
    ) -> Result<DataFrame> {
        let bytes = rmp_serde::to_vec_named(&plans).map_err(|e| Error::Tokenize {
            what: "a reader's plans".into(),
            reason: e.to_string(),
        })?;
        let name = layer_name(method, &[&Bytes(&bytes)])?;
        Ok(DataFrame {
            base: Arc::new(Base::Scans {
                method: method.to_string(),
                name,
                plans,
            }),
            steps: Vec::new(),
            schema,
            divisions: None,
        })
    }

    /// The number of partitions.
    pub fn npartitions(&self) -> usize {
        match &*self.base {
            Base::Keys { npartitions, .. } => *npartitions,
            Base::Scans { plans, .. } => plans.len(),
        }
    }

    /// The column names, in order.
    pub fn columns(&self) -> Vec<String> {
        self.schema.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The column names and types, in order.
    pub fn dtypes(&self) -> &[(String, pl::DataType)] {
        &self.schema
    }

    /// The Polars schema.
    pub fn schema(&self) -> pl::Schema {
        to_schema(&self.schema)
    }

    /// This frame with one more blockwise step (its schema checked now).
    pub(crate) fn with_step(&self, step: Step) -> Result<DataFrame> {
        let schema = schema_after(&self.schema, std::slice::from_ref(&step))?;
        // Filters keep rows in their partitions; other steps may drop the column.
        let divisions = match step {
            Step::Filter(_) => self.divisions.clone(),
            _ => None,
        };
        let mut steps = self.steps.clone();
        steps.push(step);
        Ok(DataFrame {
            base: self.base.clone(),
            steps,
            schema,
            divisions,
        })
    }

    /// The columns computed by `exprs` (Polars' `select`).
    pub fn select<E: AsRef<[pl::Expr]>>(&self, exprs: E) -> Result<DataFrame> {
        self.with_step(Step::Select(exprs.as_ref().to_vec()))
    }

    /// The rows where `predicate` is true.
    pub fn filter(&self, predicate: pl::Expr) -> Result<DataFrame> {
        self.with_step(Step::Filter(predicate))
    }

    /// Adds or replaces columns (Polars' `with_columns`, Dask's `assign`).
    pub fn with_columns<E: AsRef<[pl::Expr]>>(&self, exprs: E) -> Result<DataFrame> {
        self.with_step(Step::WithColumns(exprs.as_ref().to_vec()))
    }

    /// Renames columns `(old, new)`; an unknown column is an error.
    pub fn rename(&self, pairs: &[(&str, &str)]) -> Result<DataFrame> {
        for (old, _) in pairs {
            self.check_column(old)?;
        }
        let exprs: Vec<pl::Expr> = self
            .schema
            .iter()
            .map(|(n, _)| match pairs.iter().find(|(old, _)| old == n) {
                Some((_, new)) => pl::col(n.as_str()).alias(*new),
                None => pl::col(n.as_str()),
            })
            .collect();
        self.select(exprs)
    }

    /// Drops columns; an unknown column is an error.
    pub fn drop(&self, columns: &[&str]) -> Result<DataFrame> {
        for c in columns {
            self.check_column(c)?;
        }
        let exprs: Vec<pl::Expr> = self
            .schema
            .iter()
            .filter(|(n, _)| !columns.contains(&n.as_str()))
            .map(|(n, _)| pl::col(n.as_str()))
            .collect();
        self.select(exprs)
    }

    /// Casts columns to new types (strictly: a value that does not fit is an error).
    pub fn cast(&self, casts: &[(&str, pl::DataType)]) -> Result<DataFrame> {
        for (c, _) in casts {
            self.check_column(c)?;
        }
        let exprs: Vec<pl::Expr> = casts
            .iter()
            .map(|(c, t)| pl::col(*c).strict_cast(t.clone()))
            .collect();
        self.with_columns(exprs)
    }

    fn check_column(&self, name: &str) -> Result<()> {
        if self.schema.iter().any(|(n, _)| n == name) {
            Ok(())
        } else {
            Err(Error::user(format!(
                "no column '{name}'; the columns are {:?}",
                self.columns()
            )))
        }
    }

    /// The partitions with the pending steps and `extra` steps applied, as graph keys.
    pub(crate) fn parts(&self, extra: &[Step]) -> Result<Parts> {
        let steps: Vec<Step> = self.steps.iter().chain(extra).cloned().collect();
        let bytes = steps_bytes(&steps)?;
        let (name, tasks, deps): (String, Vec<Task>, Option<&Graph>) = match &*self.base {
            Base::Keys {
                name,
                npartitions,
                graph,
                schema,
            } => {
                if steps.is_empty() {
                    return Ok(Parts {
                        name: name.clone(),
                        npartitions: *npartitions,
                        graph: graph.clone(),
                    });
                }
                let layer = layer_name("frame", &[&name.as_str(), &Bytes(&bytes)])?;
                let op: Arc<dyn Op> = Arc::new(SpecOp(Plan {
                    source: Source::Inputs,
                    steps,
                    schema: schema.clone(),
                }));
                let tasks = (0..*npartitions)
                    .map(|i| {
                        Task::new(
                            Key::new(layer.as_str(), &[i as u32]),
                            op.clone(),
                            vec![Key::new(name.as_str(), &[i as u32])],
                        )
                    })
                    .collect();
                (layer, tasks, Some(graph))
            }
            Base::Scans {
                method,
                name,
                plans,
            } => {
                let layer = layer_name(method, &[&name.as_str(), &Bytes(&bytes)])?;
                let tasks = plans
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let mut p = p.clone();
                        p.steps.extend(steps.iter().cloned());
                        Task::new(
                            Key::new(layer.as_str(), &[i as u32]),
                            Arc::new(SpecOp(p)) as Arc<dyn Op>,
                            vec![],
                        )
                    })
                    .collect();
                (layer, tasks, None)
            }
        };
        Ok(Parts::from_layer(name, tasks, deps))
    }

    /// The graph computing the partitions, and the partitions' keys in order.
    pub fn to_graph(&self) -> Result<(Graph, Vec<Key>)> {
        let parts = self.parts(&[])?;
        let keys = parts.keys();
        Ok((parts.graph, keys))
    }

    /// Computes every partition and concatenates them, in partition order.
    pub fn compute(&self) -> Result<pl::DataFrame> {
        self.compute_with(default_executor()?.as_ref())
    }

    /// [`DataFrame::compute`] on `executor`.
    pub fn compute_with(&self, executor: &dyn Executor) -> Result<pl::DataFrame> {
        let parts = self.parts(&[])?;
        let values = executor.get(&parts.graph, &parts.keys())?;
        concat(values.iter().map(frame::frame), &self.schema)
    }

    /// Computes the partitions and returns a DataFrame whose graph holds them.
    pub fn persist(&self) -> Result<DataFrame> {
        self.persist_with(default_executor()?.as_ref())
    }

    /// [`DataFrame::persist`] on `executor`.
    pub fn persist_with(&self, executor: &dyn Executor) -> Result<DataFrame> {
        let parts = self.parts(&[])?;
        let keys = parts.keys();
        let graph = executor.persist(&parts.graph, &keys)?;
        Ok(DataFrame::from_keys(
            parts.name.clone(),
            parts.npartitions,
            graph,
            self.schema.clone(),
        ))
    }

    /// The first `n` rows, computing partitions one at a time from the first until
    /// there are enough (each reads only what it needs).
    pub fn head(&self, n: usize) -> Result<pl::DataFrame> {
        self.head_with(n, default_executor()?.as_ref())
    }

    /// [`DataFrame::head`] on `executor`.
    pub fn head_with(&self, n: usize, executor: &dyn Executor) -> Result<pl::DataFrame> {
        self.ends(n, executor, false)
    }

    /// The last `n` rows, computing partitions one at a time from the last.
    pub fn tail(&self, n: usize) -> Result<pl::DataFrame> {
        self.ends(n, default_executor()?.as_ref(), true)
    }

    fn ends(&self, n: usize, executor: &dyn Executor, from_end: bool) -> Result<pl::DataFrame> {
        let len = u32::try_from(n).unwrap_or(u32::MAX);
        let slice = Step::Slice {
            offset: if from_end { -i64::from(len) } else { 0 },
            len,
        };
        let parts = self.parts(&[slice])?;
        let mut got: Vec<pl::DataFrame> = Vec::new();
        let mut rows = 0;
        let order: Vec<usize> = if from_end {
            (0..parts.npartitions).rev().collect()
        } else {
            (0..parts.npartitions).collect()
        };
        for i in order {
            if rows >= n {
                break;
            }
            let v = executor.get(&parts.graph, &[parts.key(i)])?;
            let df = frame::frame(&v[0])?;
            rows += df.height();
            got.push(df.clone());
        }
        if from_end {
            got.reverse();
        }
        let all = concat(got.iter().map(Ok), &self.schema)?;
        Ok(if from_end {
            all.tail(Some(n))
        } else {
            all.head(Some(n))
        })
    }

    /// The number of rows (computed now, like Dask's `len(df)`).
    pub fn len(&self) -> Result<usize> {
        let parts = self.partials(&[Step::Select(vec![pl::len().alias("len")])])?;
        let values = default_executor()?.get(&parts.graph, &parts.keys())?;
        let mut total = 0usize;
        for v in &values {
            let df = frame::frame(v)?;
            let c = df
                .column("len")
                .and_then(|c| c.cast(&pl::DataType::UInt64))
                .map_err(|e| Error::user(e.to_string()))?;
            let ca = c.u64().map_err(|e| Error::user(e.to_string()))?;
            total += ca.iter().flatten().sum::<u64>() as usize;
        }
        Ok(total)
    }

    /// True when the frame has no rows.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// Frames concatenated vertically (none: an empty frame of `schema`).
pub(crate) fn concat<'a>(
    frames: impl Iterator<Item = Result<&'a pl::DataFrame>>,
    schema: &[(String, pl::DataType)],
) -> Result<pl::DataFrame> {
    let mut acc: Option<pl::DataFrame> = None;
    for f in frames {
        let f = f?;
        match &mut acc {
            None => acc = Some(f.clone()),
            Some(a) => {
                a.vstack_mut(f)
                    .map_err(|e| Error::user(format!("cannot concatenate partitions: {e}")))?;
            }
        }
    }
    Ok(acc.unwrap_or_else(|| pl::DataFrame::empty_with_schema(&to_schema(schema))))
}
