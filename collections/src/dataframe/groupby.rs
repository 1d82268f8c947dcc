//! [`GroupBy`]: `groupby(keys).agg(...)`, a reduction (`reduction.rs`) whose chunk
//! is a per-partition group-by of chunk statistics, combined in a tree; with
//! `split_out = k` the groups are hash-partitioned into `k` output partitions, each
//! combined in its own tree. And `groupby(keys).apply(f)`, `f` run on each whole
//! group after a shuffle.

use super::agg::{Agg, AggKind};
use super::dataframe::DataFrame;
use super::frame::{concat_frames, frame, Frame};
use super::plan::{Plan, SpecOp};
use super::reduction::Reduction;
use super::schema::{from_schema, schema_after};
use super::shuffle::{hash_bucket, BUCKET};
use super::source::Source;
use super::step::Step;
use crate::error;
use crate::layers::{layer_name, SPLIT_EVERY};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::{Key, Result, Value};
use polars::prelude as pl;
use polars::prelude::{col, lit};
use std::sync::Arc;

/// A grouped DataFrame waiting for its aggregations.
#[derive(Debug, Clone)]
pub struct GroupBy {
    pub(crate) df: DataFrame,
    pub(crate) keys: Vec<pl::Expr>,
    split_every: usize,
    split_out: usize,
}

impl DataFrame {
    /// Groups rows by `keys`: column names (`col("a")`) or derived expressions
    /// (`col("pickup").dt().hour().alias("hour")`).
    pub fn groupby<E: AsRef<[pl::Expr]>>(&self, keys: E) -> GroupBy {
        GroupBy {
            df: self.clone(),
            keys: keys.as_ref().to_vec(),
            split_every: SPLIT_EVERY,
            split_out: 1,
        }
    }

    /// Counts of each distinct value of `column` (nulls included), largest first,
    /// ties by value: columns `[column, "count"]`.
    pub fn value_counts(&self, column: &str) -> Result<DataFrame> {
        self.check_column(column)?;
        self.groupby([col(column)])
            .agg(&[Agg::size().alias("count")])?
            .with_step(Step::Sort {
                by: vec!["count".into(), column.into()],
                descending: vec![true, false],
            })
    }
}

impl GroupBy {
    /// The fan-in of the combine tree (default 8).
    pub fn split_every(mut self, n: usize) -> GroupBy {
        self.split_every = n.max(2);
        self
    }

    /// The number of output partitions, groups assigned by a hash of the keys
    /// (default 1).
    pub fn split_out(mut self, k: usize) -> GroupBy {
        self.split_out = k.max(1);
        self
    }

    /// One row per group: the keys, then one column per aggregation. With one
    /// output partition the rows are sorted by the keys; with several, each
    /// partition is.
    pub fn agg(&self, aggs: &[Agg]) -> Result<DataFrame> {
        if aggs.is_empty() {
            return Err(error::invalid("groupby: no aggregations given"));
        }
        if self.keys.is_empty() {
            return Err(error::invalid("groupby: no keys given"));
        }
        for a in aggs {
            if a.kind != AggKind::Size {
                self.df.check_column(&a.column)?;
            }
        }
        let chunk_aggs: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.chunk(j, true, &self.df.dtype_of(&a.column)))
            .collect();
        let chunk = Step::GroupBy {
            keys: self.keys.clone(),
            aggs: chunk_aggs,
        };
        let grouped_schema = schema_after(self.df.dtypes(), std::slice::from_ref(&chunk))?;
        let key_names: Vec<String> = grouped_schema[..self.keys.len()]
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        Agg::check_names("groupby(...).agg", &key_names, aggs)?;
        let mut combine_keys: Vec<pl::Expr> = key_names.iter().map(|n| col(n.as_str())).collect();
        let mut chunk = vec![chunk];
        if self.split_out > 1 {
            chunk.push(Step::WithColumns(vec![hash_bucket(
                &key_names,
                self.split_out,
            )]));
            combine_keys.push(col(BUCKET));
        }
        let combine_aggs: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.combine(j, true))
            .collect();
        let combine = Step::GroupBy {
            keys: combine_keys,
            aggs: combine_aggs,
        };
        let aggregate = vec![
            Step::Select(
                key_names
                    .iter()
                    .map(|n| col(n.as_str()))
                    .chain(aggs.iter().enumerate().map(|(j, a)| a.aggregate(j)))
                    .collect(),
            ),
            Step::Sort {
                by: key_names.clone(),
                descending: vec![false; key_names.len()],
            },
        ];
        let reduction = Reduction::new("groupby", chunk, vec![combine], aggregate)
            .split_every(self.split_every);
        if self.split_out == 1 {
            return reduction.apply(&self.df);
        }
        let (chunk_schema, out_schema) = reduction.schemas(self.df.dtypes())?;
        // One tree per output partition, each starting from its bucket's rows.
        let mut outputs = Vec::with_capacity(self.split_out);
        for j in 0..self.split_out {
            let only_j = Step::Filter(col(BUCKET).eq(lit(j as u64)));
            let bucket_j = Reduction {
                method: format!("groupby-out{j}"),
                combine: [only_j]
                    .into_iter()
                    .chain(reduction.combine.clone())
                    .collect(),
                chunk: reduction.chunk.clone(),
                aggregate: reduction.aggregate.clone(),
                split_every: reduction.split_every,
            };
            outputs.push(bucket_j.graph(&self.df, chunk_schema.clone())?);
        }
        let layer = layer_name(
            "groupby-split-out",
            &[&outputs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()],
        )?;
        let pass: Arc<dyn Op> = Arc::new(SpecOp(Plan {
            source: Source::Inputs,
            steps: vec![],
            schema: out_schema.clone(),
        }));
        let tasks = outputs
            .iter()
            .enumerate()
            .map(|(j, (name, _))| {
                Task::new(
                    Key::new(layer.as_str(), &[j as u32]),
                    pass.clone(),
                    vec![Key::new(name.as_str(), &[0])],
                )
            })
            .collect();
        let graph = Graph::from_layer(
            Layer {
                name: layer.clone(),
                tasks,
            },
            outputs.iter().map(|(_, g)| g),
        );
        Ok(DataFrame::from_keys(
            layer,
            self.split_out,
            graph,
            out_schema,
        ))
    }
}

impl GroupBy {
    /// Runs `f` on each whole group (Dask's groupby-apply) after a shuffle that
    /// brings every group into one partition. `f` receives the group's rows and
    /// returns any frame; the result's schema is found by calling `f` on an empty
    /// frame. Runs on the local scheduler (`f` is a closure named by `name`).
    pub fn apply(
        &self,
        name: &str,
        f: impl Fn(pl::DataFrame) -> Result<pl::DataFrame> + Send + Sync + 'static,
    ) -> Result<DataFrame> {
        let keyed = self.df.with_columns(&self.keys)?;
        let names: Vec<String> =
            schema_after(self.df.dtypes(), &[Step::Select(self.keys.clone())])?
                .into_iter()
                .map(|(n, _)| n)
                .collect();
        let k = self.df.npartitions();
        let shuffled = keyed.shuffle_by("groupby-apply", hash_bucket(&names, k), k, vec![])?;
        let empty = pl::DataFrame::empty_with_schema(&shuffled.schema());
        let meta = f(empty)?;
        let out_schema = from_schema(meta.schema());
        let f = Arc::new(f);
        let names2 = names.clone();
        let op: Arc<dyn Op> = Arc::new(brisk_core::op::ClosureOp::new(
            format!("groupby-apply:{name}"),
            move |xs: &[Value]| {
                let df = frame(&xs[0])?;
                let mut outs: Vec<pl::DataFrame> = Vec::new();
                let groups = df
                    .partition_by_stable(names2.iter().map(String::as_str), true)
                    .map_err(|e| error::polars("", e))?;
                for g in groups {
                    outs.push(f(g)?);
                }
                let out = concat_frames(outs.iter().map(Ok), || meta.clear())?;
                Ok(Arc::new(Frame(out)) as Value)
            },
        ));
        let parts = shuffled.parts(&[])?;
        let layer = layer_name("groupby-apply", &[&parts.name.as_str(), &name])?;
        let graph =
            crate::layers::per_partition(&parts.graph, &layer, parts.npartitions, &op, |i| {
                vec![parts.key(i)]
            });
        Ok(DataFrame::from_keys(
            layer,
            parts.npartitions,
            graph,
            out_schema,
        ))
    }
}
