//! Shuffles: rows moved between partitions by a bucket column, so that rows with the
//! same key (or in the same sorted range) end up in the same output partition.
//!
//! ```text
//!   input i ──split──▶ buckets (one frame per output)        n tasks
//!   output j ◀─collect── bucket j of every input              k tasks
//! ```
//!
//! Here: [`DataFrame::shuffle`] and [`DataFrame::drop_duplicates`]. Built on it
//! elsewhere: hash joins (`join.rs`), [`DataFrame::sort_values`] /
//! [`DataFrame::set_index`] (`sort.rs`) and `groupby(...).apply(...)`
//! (`groupby.rs`).

use super::dataframe::DataFrame;
use super::frame::{frame, Frame};
use super::plan::{Plan, SpecOp};
use super::schema::schema_after;
use super::source::Source;
use super::step::Step;
use crate::error;
use crate::layers::layer_name;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{Op, OpRegistration};
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::token::Bytes;
use brisk_core::value::{Data, DecoderRegistration, Encoded};
use brisk_core::{Error, Key, Result, Value};
use polars::prelude as pl;
use polars::prelude::{col, lit, SerReader, SerWriter};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The column holding each row's output partition during a shuffle.
pub(crate) const BUCKET: &str = "__brisk_bucket";

/// One input partition split by bucket: frame `j` goes to output partition `j`.
#[derive(Debug, Clone)]
pub struct FrameBuckets(pub Vec<pl::DataFrame>);

const BUCKETS_TAG: &str = "dataframe+buckets";

impl Data for FrameBuckets {
    fn nbytes(&self) -> usize {
        self.0.iter().map(|f| f.estimated_size()).sum()
    }
    fn type_tag(&self) -> &'static str {
        BUCKETS_TAG
    }
    fn encode(&self) -> Result<Encoded> {
        let mut frames = Vec::with_capacity(self.0.len());
        for df in &self.0 {
            let mut buf = Vec::new();
            pl::IpcWriter::new(&mut buf)
                .finish(&mut df.clone())
                .map_err(|e| Error::Encode {
                    type_tag: BUCKETS_TAG.into(),
                    reason: e.to_string(),
                })?;
            frames.push(buf);
        }
        Ok(Encoded {
            type_tag: BUCKETS_TAG.into(),
            header: Vec::new(),
            frames,
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn decode_buckets(e: &Encoded) -> Result<Value> {
    let mut out = Vec::with_capacity(e.frames.len());
    for bytes in &e.frames {
        let read = std::panic::catch_unwind(|| {
            pl::IpcReader::new(std::io::Cursor::new(bytes.as_slice())).finish()
        });
        match read {
            Ok(Ok(df)) => out.push(df),
            Ok(Err(err)) => {
                return Err(Error::Decode {
                    type_tag: BUCKETS_TAG.into(),
                    reason: err.to_string(),
                })
            }
            Err(_) => {
                return Err(Error::Decode {
                    type_tag: BUCKETS_TAG.into(),
                    reason: "the Arrow IPC bytes are malformed".into(),
                })
            }
        }
    }
    Ok(Arc::new(FrameBuckets(out)))
}

inventory::submit! {
    DecoderRegistration { type_tag: BUCKETS_TAG, decode: decode_buckets }
}

/// Runs a plan whose output has a [`BUCKET`] column, then splits the rows into `k`
/// frames by it (the column dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SplitSpec {
    plan: Plan,
    k: u32,
}

impl Spec for SplitSpec {
    const NAME: &'static str = "brisk::dataframe::split";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let out = self.plan.call(inputs)?;
        let df = frame(&out)?;
        let err = |e: pl::PolarsError| error::polars("shuffle", e);
        let k = self.k as usize;
        let data_schema: pl::Schema = df
            .schema()
            .iter()
            .filter(|(n, _)| n.as_str() != BUCKET)
            .map(|(n, t)| pl::Field::new(n.clone(), t.clone()))
            .collect();
        let mut buckets: Vec<pl::DataFrame> =
            vec![pl::DataFrame::empty_with_schema(&data_schema); k];
        for part in df.partition_by_stable([BUCKET], true).map_err(err)? {
            let j = part
                .column(BUCKET)
                .and_then(|c| c.u64().map(|c| c.get(0)))
                .map_err(err)?
                .unwrap_or(0) as usize;
            if j >= k {
                return Err(error::malformed(format!("shuffle: bucket {j} of {k}")));
            }
            buckets[j] = part.drop(BUCKET).map_err(err)?;
        }
        Ok(Arc::new(FrameBuckets(buckets)))
    }
}

/// Concatenates bucket `j` of every input, then runs `steps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CollectSpec {
    j: u32,
    steps: Vec<Step>,
    schema: Vec<(String, pl::DataType)>,
}

impl Spec for CollectSpec {
    const NAME: &'static str = "brisk::dataframe::collect";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let j = self.j as usize;
        let mut frames: Vec<Value> = Vec::with_capacity(inputs.len());
        for v in inputs {
            let b = v.expect_ref::<FrameBuckets>()?;
            let part = b.0.get(j).ok_or_else(|| {
                error::malformed(format!("shuffle: no bucket {j} among {}", b.0.len()))
            })?;
            frames.push(Arc::new(Frame(part.clone())));
        }
        Plan {
            source: Source::Inputs,
            steps: self.steps.clone(),
            schema: self.schema.clone(),
        }
        .call(&frames)
    }
}

inventory::submit! {
    OpRegistration { name: SplitSpec::NAME, rebuild: rebuild_spec::<SplitSpec> }
}
inventory::submit! {
    OpRegistration { name: CollectSpec::NAME, rebuild: rebuild_spec::<CollectSpec> }
}
/// A bucket in `0..k` from a hash of `keys` (fixed seeds: the same key gets the same
/// bucket in every process).
pub(crate) fn hash_bucket(keys: &[String], k: usize) -> pl::Expr {
    let k = lit(k as u64);
    let mut acc = lit(0u64);
    for name in keys {
        let h =
            col(name.as_str()).hash(0x9e37_79b9, 0x85eb_ca6b, 0xc2b2_ae35, 0x27d4_eb2f) % k.clone();
        acc = (acc * lit(31u64) + h) % k.clone();
    }
    acc.cast(pl::DataType::UInt64).alias(BUCKET)
}

impl DataFrame {
    /// Moves rows into `k` partitions by `bucket` (an expression giving `0..k`),
    /// running `after` on each output partition.
    pub(crate) fn shuffle_by(
        &self,
        method: &str,
        bucket: pl::Expr,
        k: usize,
        after: Vec<Step>,
    ) -> Result<DataFrame> {
        let k = k.max(1);
        let parts = self.parts(&[])?;
        let split_plan = Plan {
            source: Source::Inputs,
            steps: vec![Step::WithColumns(vec![bucket])],
            schema: self.schema.clone(),
        };
        let spec = SplitSpec {
            plan: split_plan,
            k: k as u32,
        };
        let bytes = rmp_serde::to_vec_named(&(&spec, &after)).map_err(|e| Error::Tokenize {
            what: "a shuffle".into(),
            reason: e.to_string(),
        })?;
        let split_layer = layer_name(
            &format!("{method}-split"),
            &[&parts.name.as_str(), &Bytes(&bytes)],
        )?;
        let split_op: Arc<dyn Op> = Arc::new(SpecOp(spec));
        let split_tasks: Vec<Task> = (0..parts.npartitions)
            .map(|i| {
                Task::new(
                    Key::new(split_layer.as_str(), &[i as u32]),
                    split_op.clone(),
                    vec![parts.key(i)],
                )
            })
            .collect();
        let split_keys: Vec<Key> = split_tasks.iter().map(|t| t.key.clone()).collect();
        let graph = Graph::from_layer(
            Layer {
                name: split_layer.clone(),
                tasks: split_tasks,
            },
            [&parts.graph],
        );
        let out_schema = schema_after(&self.schema, &after)?;
        let layer = layer_name(method, &[&split_layer.as_str()])?;
        let tasks = (0..k)
            .map(|j| {
                Task::new(
                    Key::new(layer.as_str(), &[j as u32]),
                    Arc::new(SpecOp(CollectSpec {
                        j: j as u32,
                        steps: after.clone(),
                        schema: self.schema.clone(),
                    })) as Arc<dyn Op>,
                    split_keys.clone(),
                )
            })
            .collect();
        let graph = Graph::from_layer(
            Layer {
                name: layer.clone(),
                tasks,
            },
            [&graph],
        );
        Ok(DataFrame::from_keys(layer, k, graph, out_schema))
    }

    /// Rows with equal values of `on` moved into the same of `npartitions`
    /// partitions (Dask's `shuffle`).
    pub fn shuffle(&self, on: &[&str], npartitions: usize) -> Result<DataFrame> {
        for c in on {
            self.check_column(c)?;
        }
        let keys: Vec<String> = on.iter().map(|s| s.to_string()).collect();
        self.shuffle_by(
            "shuffle",
            hash_bucket(&keys, npartitions),
            npartitions,
            vec![],
        )
    }

    /// Rows that differ in `subset` (every column when empty), first occurrence kept
    /// within each output partition; the result has as many partitions as this frame.
    pub fn drop_duplicates(&self, subset: &[&str]) -> Result<DataFrame> {
        for c in subset {
            self.check_column(c)?;
        }
        let cols: Vec<String> = if subset.is_empty() {
            self.columns()
        } else {
            subset.iter().map(|s| s.to_string()).collect()
        };
        let unique = Step::Unique(cols.clone());
        // Drop duplicates inside each partition first: less to move.
        let local = self.with_step(unique.clone())?;
        local.shuffle_by(
            "drop_duplicates",
            hash_bucket(&cols, self.npartitions()),
            self.npartitions(),
            vec![unique],
        )
    }
}
