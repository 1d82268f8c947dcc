//! [`GroupBy`]: `groupby(keys).agg(...)`, a reduction (`reduction.rs`) whose chunk
//! is a per-partition group-by of chunk statistics, combined in a tree; with
//! `split_out = k` the groups are hash-partitioned into `k` output partitions, each
//! combined in its own tree. And `groupby(keys).apply(f)`, `f` run on each whole
//! group after a shuffle.

use super::agg::{Agg, AggKind};
use super::dataframe::DataFrame;
use super::frame::{concat_frames, frame, Frame};
use super::map_partitions::{call_registered, FrameFn, OnFrame};
use super::plan::{Plan, SpecOp};
use super::reduction::Reduction;
use super::schema::{from_schema, schema_after};
use super::shuffle::{hash_bucket, BUCKET};
use super::source::Source;
use super::step::Step;
use crate::error;
use crate::layers::{layer_name, SPLIT_EVERY};
use crate::user_fn::IntoCode;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::Op;
use brisk_core::spec_op::Spec;
use brisk_core::{Key, Result, Value};
use polars::prelude as pl;
use polars::prelude::{col, lit};
use std::sync::Arc;

/// `f` on each group of `df` by the columns `keys` (groups in order of first
/// appearance), concatenated; `empty` when there are no groups.
fn apply_by_group(
    df: &pl::DataFrame,
    keys: &[String],
    f: impl Fn(&pl::DataFrame) -> Result<pl::DataFrame>,
    empty: &pl::DataFrame,
) -> Result<pl::DataFrame> {
    let groups = df
        .partition_by_stable(keys.iter().map(String::as_str), true)
        .map_err(|e| error::polars("", e))?;
    let outs = groups.iter().map(f).collect::<Result<Vec<_>>>()?;
    concat_frames(outs.iter().map(Ok), || empty.clear())
}

/// A groupby-apply of a registered function on one shuffled partition.
#[derive(serde::Serialize, serde::Deserialize)]
struct GroupApplySpec {
    keys: Vec<String>,
    function: String,
    params: Vec<u8>,
}

impl Spec for GroupApplySpec {
    const NAME: &'static str = "brisk::dataframe::groupby_apply";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let run = |g: &pl::DataFrame| call_registered(&self.function, &self.params, g);
        let df = frame(
            inputs
                .first()
                .ok_or_else(|| error::malformed("groupby-apply without input"))?,
        )?;
        let empty = run(&df.clear())?;
        let out = apply_by_group(df, &self.keys, run, &empty)?;
        Ok(Arc::new(Frame(out)) as Value)
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration {
        name: GroupApplySpec::NAME,
        rebuild: brisk_core::spec_op::rebuild_spec::<GroupApplySpec>,
    }
}

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
    /// returns any frame: a registered function of a Polars DataFrame
    /// (`f::task_fn()`, runs on any scheduler) or a named closure `("name", |g:
    /// &DataFrame| -> Result<DataFrame>)` (local scheduler only). The result's
    /// schema is found by calling `f` on an empty frame.
    pub fn apply<M>(
        &self,
        f: impl IntoCode<pl::DataFrame, pl::DataFrame, OnFrame, M>,
    ) -> Result<DataFrame> {
        let f = FrameFn::new(f);
        let keyed = self.df.with_columns(&self.keys)?;
        let names: Vec<String> =
            schema_after(self.df.dtypes(), &[Step::Select(self.keys.clone())])?
                .into_iter()
                .map(|(n, _)| n)
                .collect();
        let k = self.df.npartitions();
        let shuffled = keyed.shuffle_by("groupby-apply", hash_bucket(&names, k), k, vec![])?;
        let meta = f.meta(&shuffled.schema(), "groupby(..).apply")?;
        let out_schema = from_schema(&meta);
        let name = f.label()?;
        let op: Arc<dyn Op> = match f {
            FrameFn::Registered(f) => Arc::new(SpecOp(GroupApplySpec {
                keys: names,
                function: f.name().to_string(),
                params: f.op().params()?,
            })),
            FrameFn::Closure(name, f) => {
                let meta = pl::DataFrame::empty_with_schema(&meta);
                Arc::new(brisk_core::op::ClosureOp::new(
                    format!("groupby-apply:{name}"),
                    move |xs: &[Value]| {
                        let out = apply_by_group(frame(&xs[0])?, &names, |g| f(g), &meta)?;
                        Ok(Arc::new(Frame(out)) as Value)
                    },
                ))
            }
        };
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
