//! The tree-reduction builder behind every DataFrame reduction (whole-frame
//! aggregations, group-by aggregations, `approx_nunique`), in Dask's three stages:
//!
//! ```text
//!   partition → chunk (statistics: sum, count, M2 …)           one task per partition
//!        combine ≤ split_every chunk results                  levels until one is left
//!        aggregate (mean = sum / count, var = M2 / (n − ddof) …) after the last combine
//! ```
//!
//! The chunk steps run inside each partition's own plan, after its pending steps
//! (so a reader still sees the columns they need); over Parquet files read with
//! `aggregate_files`, one chunk task may read several files (`fuse.rs`). Every
//! combine and the final aggregate run as plans over their concatenated inputs.

use super::dataframe::{DataFrame, Parts};
use super::fuse::fused_chunks;
use super::plan::{Plan, SpecOp};
use super::schema::schema_after;
use super::source::Source;
use super::step::Step;
use crate::layers::{layer_name, tree_reduction, SPLIT_EVERY};
use brisk_core::graph::Graph;
use brisk_core::op::Op;
use brisk_core::token::Bytes;
use brisk_core::Result;
use polars::prelude as pl;
use std::sync::Arc;

/// A schema as name/type pairs.
type Fields = Vec<(String, pl::DataType)>;

/// A tree reduction of a DataFrame: `chunk` steps on each partition, `combine`
/// steps on groups of at most `split_every` results, level after level, and the
/// `aggregate` steps after the last combine.
pub(crate) struct Reduction {
    /// Names the tree's layers: `{method}-aggregate-<token>`.
    pub method: String,
    /// Steps run on each partition (after its pending steps).
    pub chunk: Vec<Step>,
    /// Steps run on the concatenated results of a group of chunks (or combines).
    pub combine: Vec<Step>,
    /// Steps run after the last combine.
    pub aggregate: Vec<Step>,
    /// The fan-in of the tree (at least 2).
    pub split_every: usize,
}

impl Reduction {
    /// A reduction with the default fan-in ([`SPLIT_EVERY`]).
    pub(crate) fn new(
        method: impl Into<String>,
        chunk: Vec<Step>,
        combine: Vec<Step>,
        aggregate: Vec<Step>,
    ) -> Reduction {
        Reduction {
            method: method.into(),
            chunk,
            combine,
            aggregate,
            split_every: SPLIT_EVERY,
        }
    }

    /// The same reduction with another fan-in.
    pub(crate) fn split_every(mut self, split_every: usize) -> Reduction {
        self.split_every = split_every;
        self
    }

    /// The schemas of a chunk's result and of the reduction's result, over
    /// partitions of `schema` (an error here is an error in the steps).
    pub(crate) fn schemas(&self, schema: &[(String, pl::DataType)]) -> Result<(Fields, Fields)> {
        let chunk_schema = schema_after(schema, &self.chunk)?;
        let steps: Vec<Step> = self
            .combine
            .iter()
            .chain(&self.aggregate)
            .cloned()
            .collect();
        let out_schema = schema_after(&chunk_schema, &steps)?;
        Ok((chunk_schema, out_schema))
    }

    /// The reduction of `df`: a one-partition DataFrame.
    pub(crate) fn apply(&self, df: &DataFrame) -> Result<DataFrame> {
        let (chunk_schema, out_schema) = self.schemas(df.dtypes())?;
        let (name, graph) = self.graph(df, chunk_schema)?;
        Ok(DataFrame::from_keys(name, 1, graph, out_schema))
    }

    /// The chunks of `df` and the tree over them: the final layer's name (its one
    /// key is index 0) and the graph. `chunk_schema` is the chunks' schema
    /// ([`Reduction::schemas`]).
    pub(crate) fn graph(&self, df: &DataFrame, chunk_schema: Fields) -> Result<(String, Graph)> {
        let chunks = df.chunks(&self.chunk)?;
        self.tree(chunks, chunk_schema)
    }

    /// The combine levels over `chunks`, the last one running the aggregate steps
    /// too.
    fn tree(&self, chunks: Parts, chunk_schema: Fields) -> Result<(String, Graph)> {
        let (combine, aggregate) = (&self.combine, &self.aggregate);
        let split_every = self.split_every.max(2);
        let bytes = rmp_serde::to_vec_named(&(combine, aggregate)).map_err(|e| {
            brisk_core::Error::Tokenize {
                what: "an aggregation".into(),
                reason: e.to_string(),
            }
        })?;
        let combine_op: Arc<dyn Op> = Arc::new(SpecOp(Plan {
            source: Source::Inputs,
            steps: combine.clone(),
            schema: chunk_schema.clone(),
        }));
        let aggregate_op: Arc<dyn Op> = Arc::new(SpecOp(Plan {
            source: Source::Inputs,
            steps: combine.iter().chain(aggregate).cloned().collect(),
            schema: chunk_schema,
        }));
        let leaves = chunks.keys();
        tree_reduction(
            chunks.graph,
            leaves,
            split_every,
            |depth| {
                layer_name(
                    &format!("{}-aggregate", self.method),
                    &[&chunks.name.as_str(), &depth, &split_every, &Bytes(&bytes)],
                )
            },
            |last| {
                if last {
                    aggregate_op.clone()
                } else {
                    combine_op.clone()
                }
            },
        )
    }
}

impl DataFrame {
    /// The partitions with the pending steps and a reduction's `chunk` steps
    /// applied, as graph keys: several Parquet files per task when `fuse.rs`
    /// allows it, one partition per task otherwise.
    pub(crate) fn chunks(&self, chunk: &[Step]) -> Result<Parts> {
        match fused_chunks(self, chunk)? {
            Some(fused) => Ok(fused),
            None => self.parts(chunk),
        }
    }
}
