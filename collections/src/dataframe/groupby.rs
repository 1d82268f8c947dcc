//! `groupby(keys).agg(...)`: per-partition group-by of partial statistics, merged in
//! a tree; with `split_out = k` the groups are hash-partitioned into `k` output
//! partitions, each merged in its own tree.

use super::plan::{schema_after, Plan, Source, SpecOp, Step};
use super::reduce::{tree, Agg, AggKind};
use super::shuffle::{hash_bucket, BUCKET};
use super::DataFrame;
use crate::layers::{layer_name, SPLIT_EVERY};
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::{Error, Key, Result};
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
    /// The fan-in of the merge tree (default 8).
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
            return Err(Error::user("groupby: no aggregations given"));
        }
        if self.keys.is_empty() {
            return Err(Error::user("groupby: no keys given"));
        }
        for a in aggs {
            if a.kind != AggKind::Size {
                self.df.check_column(&a.column)?;
            }
        }
        let partials: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.partials(j, true))
            .collect();
        let chunk = Step::GroupBy {
            keys: self.keys.clone(),
            aggs: partials,
            sort_by: vec![],
        };
        let grouped_schema = schema_after(self.df.dtypes(), std::slice::from_ref(&chunk))?;
        let key_names: Vec<String> = grouped_schema[..self.keys.len()]
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        let mut merge_keys: Vec<pl::Expr> = key_names.iter().map(|n| col(n.as_str())).collect();
        let mut first = vec![chunk];
        if self.split_out > 1 {
            first.push(Step::WithColumns(vec![hash_bucket(
                &key_names,
                self.split_out,
            )]));
            merge_keys.push(col(BUCKET));
        }
        let merges: Vec<pl::Expr> = aggs
            .iter()
            .enumerate()
            .flat_map(|(j, a)| a.merges(j, true))
            .collect();
        let merge = Step::GroupBy {
            keys: merge_keys,
            aggs: merges,
            sort_by: vec![],
        };
        let finish = vec![
            Step::Select(
                key_names
                    .iter()
                    .map(|n| col(n.as_str()))
                    .chain(aggs.iter().enumerate().map(|(j, a)| a.finish(j)))
                    .collect(),
            ),
            Step::Sort {
                by: key_names.clone(),
                descending: vec![false; key_names.len()],
            },
        ];
        let partial_schema = schema_after(self.df.dtypes(), &first)?;
        let out_schema = schema_after(
            &partial_schema,
            &std::iter::once(merge.clone())
                .chain(finish.iter().cloned())
                .collect::<Vec<_>>(),
        )?;
        if self.split_out == 1 {
            let parts = self.df.partials(&first)?;
            let (name, graph) = tree(
                "groupby",
                parts,
                vec![merge],
                finish,
                partial_schema,
                self.split_every,
            )?;
            return Ok(DataFrame::from_keys(name, 1, graph, out_schema));
        }
        // One tree per output partition, each starting from its bucket's rows.
        let mut outputs = Vec::with_capacity(self.split_out);
        for j in 0..self.split_out {
            let parts = self.df.partials(&first)?;
            let only_j = Step::Filter(col(BUCKET).eq(lit(j as u64)));
            outputs.push(tree(
                &format!("groupby-out{j}"),
                parts,
                vec![only_j, merge.clone()],
                finish.clone(),
                partial_schema.clone(),
                self.split_every,
            )?);
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
