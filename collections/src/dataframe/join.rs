//! Joins: [`DataFrame::merge`], a hash join (both sides shuffled by the keys) or a
//! broadcast join of every partition with a one-partition frame; each output
//! partition joined by Polars.

use super::dataframe::{DataFrame, Parts};
use super::frame::{frame, Frame};
use super::plan::SpecOp;
use super::schema::{from_schema, to_schema};
use super::shuffle::hash_bucket;
use crate::error;
use crate::layers::layer_name;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{Op, OpRegistration};
use brisk_core::spec_op::{rebuild_spec, Spec};
use brisk_core::token::Bytes;
use brisk_core::{Error, Key, Result, Value};
use polars::prelude as pl;
use polars::prelude::col;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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
            .map_err(|e| error::polars("join", e))?;
        Ok(Arc::new(Frame(out)))
    }
}

inventory::submit! {
    OpRegistration { name: JoinSpec::NAME, rebuild: rebuild_spec::<JoinSpec> }
}

impl DataFrame {
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
            return Err(error::invalid(
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
            from_schema(&*lf.collect_schema().map_err(|e| error::polars("merge", e))?)
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
}
