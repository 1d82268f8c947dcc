//! Shuffles: rows moved between partitions by a bucket column, so that rows with the
//! same key (or in the same sorted range) end up in the same output partition.
//!
//! ```text
//!   input i ──split──▶ buckets (one frame per output)        n tasks
//!   output j ◀─collect── bucket j of every input              k tasks
//! ```
//!
//! Built on it: [`DataFrame::shuffle`], hash joins, [`DataFrame::drop_duplicates`],
//! [`DataFrame::sort_values`] / [`DataFrame::set_index`] (sampled quantiles for the
//! boundaries) and `groupby(...).apply(...)`.

use super::frame::{frame, Frame};
use super::plan::{from_schema, schema_after, to_schema, Plan, Source, SpecOp, Step};
use super::{DataFrame, Parts};
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
        let err = |e: pl::PolarsError| Error::user(format!("shuffle: {e}"));
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
                return Err(Error::user(format!("shuffle: bucket {j} of {k}")));
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
                Error::user(format!("shuffle: no bucket {j} among {}", b.0.len()))
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

/// Joins its two inputs (left, right) with Polars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JoinSpec {
    pub left_on: Vec<String>,
    pub right_on: Vec<String>,
    pub how: How,
    pub suffix: String,
}

/// The kinds of join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum How {
    /// Rows with a match on both sides.
    Inner,
    /// Every left row, with its matches (or nulls).
    Left,
    /// Every row of both sides, matched where possible (keys coalesced).
    Outer,
}

impl JoinSpec {
    fn apply(&self, left: pl::LazyFrame, right: pl::LazyFrame) -> pl::LazyFrame {
        let how = match self.how {
            How::Inner => pl::JoinType::Inner,
            How::Left => pl::JoinType::Left,
            How::Outer => pl::JoinType::Full,
        };
        let args = pl::JoinArgs::new(how)
            .with_suffix(Some(self.suffix.as_str().into()))
            .with_coalesce(pl::JoinCoalesce::CoalesceColumns);
        let l: Vec<pl::Expr> = self.left_on.iter().map(|c| col(c.as_str())).collect();
        let r: Vec<pl::Expr> = self.right_on.iter().map(|c| col(c.as_str())).collect();
        left.join(right, l, r, args)
    }
}

impl Spec for JoinSpec {
    const NAME: &'static str = "brisk::dataframe::join";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        use pl::IntoLazy;
        let [left, right] = inputs else {
            return Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 2,
                found: inputs.len(),
            });
        };
        let out = self
            .apply(frame(left)?.clone().lazy(), frame(right)?.clone().lazy())
            .collect()
            .map_err(|e| Error::user(format!("join: {e}")))?;
        Ok(Arc::new(Frame(out)))
    }
}

inventory::submit! {
    OpRegistration { name: SplitSpec::NAME, rebuild: rebuild_spec::<SplitSpec> }
}
inventory::submit! {
    OpRegistration { name: CollectSpec::NAME, rebuild: rebuild_spec::<CollectSpec> }
}
inventory::submit! {
    OpRegistration { name: JoinSpec::NAME, rebuild: rebuild_spec::<JoinSpec> }
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

/// A bucket from sorted `boundaries` of `column`: the number of boundaries below the
/// value (nulls go last).
fn range_bucket(column: &str, boundaries: &[pl::AnyValue<'static>], descending: bool) -> pl::Expr {
    let n = boundaries.len() as u64;
    let past: Vec<pl::Expr> = boundaries
        .iter()
        .map(|b| {
            let v = lit(pl::Scalar::new(b.dtype(), b.clone()));
            let past = if descending {
                col(column).lt(v)
            } else {
                col(column).gt(v)
            };
            past.cast(pl::DataType::UInt64)
        })
        .collect();
    let acc = balanced_sum(past);
    pl::when(col(column).is_null())
        .then(lit(n))
        .otherwise(acc)
        .cast(pl::DataType::UInt64)
        .alias(BUCKET)
}

/// The sum of `terms` as a balanced tree of additions (a chain of a thousand would
/// overflow the stack of the expression walkers).
fn balanced_sum(mut terms: Vec<pl::Expr>) -> pl::Expr {
    if terms.is_empty() {
        return lit(0u64);
    }
    while terms.len() > 1 {
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        let mut it = terms.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => a + b,
                None => a,
            });
        }
        terms = next;
    }
    terms.pop().unwrap_or_else(|| lit(0u64))
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

    /// A database-style join on columns: a hash join (both sides shuffled by the
    /// keys) or, when `other` has one partition and `how` is not outer, a broadcast
    /// join of every partition with it. Clashing right-hand column names get
    /// `_right`; outer joins coalesce the keys.
    pub fn merge(
        &self,
        other: &DataFrame,
        left_on: &[&str],
        right_on: &[&str],
        how: How,
    ) -> Result<DataFrame> {
        if left_on.is_empty() || left_on.len() != right_on.len() {
            return Err(Error::user(
                "merge: left_on and right_on need the same, non-zero number of columns",
            ));
        }
        for c in left_on {
            self.check_column(c)?;
        }
        for c in right_on {
            other.check_column(c)?;
        }
        let spec = JoinSpec {
            left_on: left_on.iter().map(|s| s.to_string()).collect(),
            right_on: right_on.iter().map(|s| s.to_string()).collect(),
            how,
            suffix: "_right".into(),
        };
        let out_schema = {
            use pl::IntoLazy;
            let l = pl::DataFrame::empty_with_schema(&to_schema(&self.schema)).lazy();
            let r = pl::DataFrame::empty_with_schema(&to_schema(&other.schema)).lazy();
            let mut lf = spec.apply(l, r);
            from_schema(
                &*lf.collect_schema()
                    .map_err(|e| Error::user(format!("merge: {e}")))?,
            )
        };
        let broadcast = other.npartitions() == 1 && how != How::Outer;
        let (left, right): (Parts, Parts) = if broadcast {
            (self.parts(&[])?, other.parts(&[])?)
        } else {
            let k = self.npartitions().max(other.npartitions());
            let l = self.shuffle_by("merge-left", hash_bucket(&spec.left_on, k), k, vec![])?;
            let r = other.shuffle_by("merge-right", hash_bucket(&spec.right_on, k), k, vec![])?;
            (l.parts(&[])?, r.parts(&[])?)
        };
        let bytes = rmp_serde::to_vec_named(&spec).map_err(|e| Error::Tokenize {
            what: "a join".into(),
            reason: e.to_string(),
        })?;
        let layer = layer_name(
            "merge",
            &[&left.name.as_str(), &right.name.as_str(), &Bytes(&bytes)],
        )?;
        let op: Arc<dyn Op> = Arc::new(SpecOp(spec));
        let tasks = (0..left.npartitions)
            .map(|i| {
                let r = if broadcast { 0 } else { i };
                Task::new(
                    Key::new(layer.as_str(), &[i as u32]),
                    op.clone(),
                    vec![left.key(i), right.key(r)],
                )
            })
            .collect();
        let n = left.npartitions;
        let graph = Graph::from_layer(
            Layer {
                name: layer.clone(),
                tasks,
            },
            [&left.graph, &right.graph],
        );
        Ok(DataFrame::from_keys(layer, n, graph, out_schema))
    }

    /// Rows sorted by `column` across partitions: boundaries from sampled quantiles
    /// of every partition (computed now, as Dask does), rows moved into ranges, each
    /// range sorted. Nulls go last. The boundaries are the result's divisions.
    pub fn sort_values(&self, column: &str, descending: bool) -> Result<DataFrame> {
        self.check_column(column)?;
        let k = self.npartitions();
        let boundaries = self.quantile_boundaries(column, k, descending)?;
        let sort = Step::Sort {
            by: vec![column.to_string()],
            descending: vec![descending],
        };
        let sorted = self.shuffle_by(
            "sort_values",
            range_bucket(column, &boundaries, descending),
            boundaries.len() + 2,
            vec![sort],
        )?;
        Ok(sorted.with_divisions(column, boundaries))
    }

    /// [`DataFrame::sort_values`] ascending, remembering `column` as the index
    /// (Polars frames have no index: the column stays a column).
    pub fn set_index(&self, column: &str) -> Result<DataFrame> {
        self.sort_values(column, false)
    }

    /// `k - 1` boundaries splitting the values of `column` into `k` near-equal
    /// ranges, from 64 quantiles of each partition.
    fn quantile_boundaries(
        &self,
        column: &str,
        k: usize,
        descending: bool,
    ) -> Result<Vec<pl::AnyValue<'static>>> {
        const SAMPLES: usize = 64;
        let qs: Vec<pl::Expr> = (0..SAMPLES)
            .map(|i| {
                col(column)
                    .quantile(
                        lit((i as f64 + 0.5) / SAMPLES as f64),
                        pl::QuantileMethod::Nearest,
                    )
                    .alias(format!("q{i}"))
            })
            .collect();
        let dtype = self
            .schema
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, t)| t.clone())
            .unwrap_or(pl::DataType::Null);
        let samples = self
            .select([col(column).drop_nulls()])?
            .with_step(Step::Select(qs))?
            .compute()?;
        let mut values: Vec<pl::AnyValue<'static>> = Vec::new();
        for c in samples.columns() {
            let c = c.cast(&dtype).map_err(|e| Error::user(e.to_string()))?;
            for i in 0..c.len() {
                let v = c
                    .get(i)
                    .map_err(|e| Error::user(e.to_string()))?
                    .into_static();
                if !v.is_null() {
                    values.push(v);
                }
            }
        }
        let mut series = pl::Series::from_any_values(column.into(), &values, false)
            .map_err(|e| Error::user(e.to_string()))?
            .sort(pl::SortOptions::default().with_order_descending(descending))
            .map_err(|e| Error::user(e.to_string()))?;
        series = series.rechunk();
        let n = series.len();
        let mut out: Vec<pl::AnyValue<'static>> = Vec::new();
        for j in 1..k {
            if n == 0 {
                break;
            }
            let v = series
                .get((j * n / k).min(n - 1))
                .map_err(|e| Error::user(e.to_string()))?
                .into_static();
            if out.last() != Some(&v) {
                out.push(v);
            }
        }
        Ok(out)
    }
}

impl super::GroupBy {
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
                    .map_err(|e| Error::user(e.to_string()))?;
                for g in groups {
                    outs.push(f(g)?);
                }
                let mut acc: Option<pl::DataFrame> = None;
                for o in outs {
                    match &mut acc {
                        None => acc = Some(o),
                        Some(a) => {
                            a.vstack_mut(&o).map_err(|e| Error::user(e.to_string()))?;
                        }
                    }
                }
                Ok(Arc::new(Frame(acc.unwrap_or_else(|| meta.clear()))) as Value)
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
