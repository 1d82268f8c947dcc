//! The [`DataFrame`] type: a lazy frame split into partitions, with its pending
//! blockwise steps; its core methods (blockwise steps, the graph of its partitions,
//! `compute`, `persist`, `head`, `tail`) and [`from_polars`].

use super::frame::{concat_frames, frame, Frame};
use super::plan::{Plan, SpecOp};
use super::row_wise::check_row_wise;
use super::schema::{from_schema, schema_after, to_schema};
use super::source::Source;
use super::step::Step;
use crate::layers::layer_name;
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{LiteralOp, Op};
use brisk_core::token::Bytes;
use brisk_core::{Error, Key, Result};
use polars::prelude as pl;
use std::sync::Arc;

/// A lazy, partitioned DataFrame.
#[derive(Clone)]
pub struct DataFrame {
    pub(super) base: Arc<Base>,
    pub(super) steps: Vec<Step>,
    pub(super) schema: Vec<(String, pl::DataType)>,
    pub(super) divisions: Option<Arc<Divisions>>,
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
pub(super) enum Base {
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

/// The steps' canonical bytes, for layer names.
pub(super) fn steps_bytes(steps: &[Step]) -> Result<Vec<u8>> {
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
    let schema = from_schema(df.schema());
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

    /// A frame of no rows with this frame's schema.
    fn empty(&self) -> pl::DataFrame {
        pl::DataFrame::empty_with_schema(&to_schema(&self.schema))
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
    ///
    /// Each partition computes the expressions alone, so they must be row-wise
    /// (elementwise): an aggregation, cumulative, shift, rank, sort, window, `head`
    /// or `unique` is an error naming it (use `agg` or `groupby(...).agg`).
    pub fn select<E: AsRef<[pl::Expr]>>(&self, exprs: E) -> Result<DataFrame> {
        check_row_wise("select", &self.schema, exprs.as_ref())?;
        self.with_step(Step::Select(exprs.as_ref().to_vec()))
    }

    /// The rows where `predicate` is true (a row-wise predicate, as for
    /// [`DataFrame::select`]).
    pub fn filter(&self, predicate: pl::Expr) -> Result<DataFrame> {
        check_row_wise("filter", &self.schema, std::slice::from_ref(&predicate))?;
        self.with_step(Step::Filter(predicate))
    }

    /// Adds or replaces columns (Polars' `with_columns`, Dask's `assign`).
    ///
    /// The expressions must be row-wise, as for [`DataFrame::select`].
    pub fn with_columns<E: AsRef<[pl::Expr]>>(&self, exprs: E) -> Result<DataFrame> {
        check_row_wise("with_columns", &self.schema, exprs.as_ref())?;
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

    pub(super) fn check_column(&self, name: &str) -> Result<()> {
        if self.schema.iter().any(|(n, _)| n == name) {
            Ok(())
        } else {
            Err(crate::Error::MissingColumn {
                column: name.to_string(),
                present: self.columns(),
            }
            .into())
        }
    }

    /// The columns a method works on: `columns` checked (each must exist and pass
    /// `keep`), or every column passing `keep` when none are given.
    pub(crate) fn chosen(
        &self,
        method: &str,
        columns: &[&str],
        keep: impl Fn(&pl::DataType) -> bool,
    ) -> Result<Vec<String>> {
        if columns.is_empty() {
            return Ok(self.columns_where(keep));
        }
        let mut out: Vec<String> = Vec::new();
        for c in columns {
            self.check_column(c)?;
            let t = self.dtype_of(c);
            if !keep(&t) {
                return Err(crate::error::invalid(format!(
                    "{method}: column '{c}' is {t}, not a number"
                )));
            }
            if !out.iter().any(|o| o == c) {
                out.push(c.to_string());
            }
        }
        Ok(out)
    }

    /// The type of a column of the schema (`Null` for an unknown name).
    pub(crate) fn dtype_of(&self, column: &str) -> pl::DataType {
        self.schema
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, t)| t.clone())
            .unwrap_or(pl::DataType::Null)
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
        concat_frames(values.iter().map(frame), || self.empty())
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
            let df = frame(&v[0])?;
            rows += df.height();
            got.push(df.clone());
        }
        if from_end {
            got.reverse();
        }
        let all = concat_frames(got.iter().map(Ok), || self.empty())?;
        Ok(if from_end {
            all.tail(Some(n))
        } else {
            all.head(Some(n))
        })
    }
}
