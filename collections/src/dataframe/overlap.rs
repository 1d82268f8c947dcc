//! Rows from neighbouring partitions, for the methods whose answer at a row reads
//! rows before or after it (`shift`, `diff`, `rolling`; Dask's `map_overlap`).
//!
//! ```text
//!   partition i ──► ends_i: its last n rows (only the columns read)
//!   nulls ──► carry_0 ──► carry_1 ──► … ──► carry_{k-1}
//!             carry_i = the last n rows of carry_{i-1} ++ ends_{i-1}
//! ```
//!
//! `carry_i` holds exactly `n` rows: the last `n` rows before partition `i`,
//! gathered from as many earlier partitions as it takes (short and empty ones
//! included), preceded by null rows where the frame has fewer than `n` rows before
//! `i`. A method then runs on `carry_i ++ partition_i` and drops the first `n`
//! rows. [`Side::After`] is the mirror image: the first `n` rows after partition
//! `i`, from the later partitions, followed by null rows at the frame's end.
//!
//! The carries keep the frame's schema (so that they stack on a partition), but
//! the columns a method does not read are nulls.

use super::dataframe::Parts;
use super::frame::Frame;
use super::plan::{Plan, SpecOp};
use super::schema::to_schema;
use super::source::Source;
use super::step::Step;
use crate::error;
use crate::layers::layer_name;
use brisk_core::graph::{Graph, Layer, Task};
use brisk_core::op::{LiteralOp, Op};
use brisk_core::{Key, Result};
use polars::prelude as pl;
use std::sync::Arc;

/// Which neighbours' rows a partition needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The rows before the partition (from earlier partitions).
    Before,
    /// The rows after the partition (from later partitions).
    After,
}

/// `n` as a row count of a slice step, or an error naming `method`.
pub(super) fn rows_u32(method: &str, n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        error::invalid(format!(
            "{method}: {n} rows of overlap is more than {} rows",
            u32::MAX
        ))
    })
}

/// For each of the partitions `parts` (of `schema`), the key of a frame of
/// exactly `n` rows: the `n` rows on `side` of it, `columns` kept and the others
/// null. `method` names the layers. Returns the graph (over `parts.graph`) and
/// the keys in partition order.
pub(super) fn neighbour_rows(
    method: &str,
    parts: &Parts,
    schema: &[(String, pl::DataType)],
    columns: &[String],
    n: usize,
    side: Side,
) -> Result<(Graph, Vec<Key>)> {
    let len = rows_u32(method, n)?;
    let k = parts.npartitions;
    let token = [parts.name.as_str().to_string(), format!("{side:?}")];
    let ends_name = layer_name(&format!("{method}-ends"), &[&token, &n, &columns])?;
    let nulls_name = layer_name(&format!("{method}-nulls"), &[&token, &n, &columns])?;
    let carry_name = layer_name(&format!("{method}-carry"), &[&token, &n, &columns])?;
    let plan = |steps: Vec<Step>| -> Arc<dyn Op> {
        Arc::new(SpecOp(Plan {
            source: Source::Inputs,
            steps,
            schema: schema.to_vec(),
        }))
    };
    let slice = match side {
        Side::Before => Step::Slice {
            offset: -i64::from(len),
            len,
        },
        Side::After => Step::Slice { offset: 0, len },
    };
    let masked: Vec<pl::Expr> = schema
        .iter()
        .map(|(c, t)| {
            if columns.contains(c) {
                pl::col(c.as_str())
            } else {
                pl::lit(pl::NULL).cast(t.clone()).alias(c.as_str())
            }
        })
        .collect();
    // The ends of the partitions that some carry reads (not the last / first).
    let ends_op = plan(vec![slice.clone(), Step::Select(masked)]);
    let read = |i: usize| match side {
        Side::Before => i + 1 < k,
        Side::After => i > 0,
    };
    let ends: Vec<Task> = (0..k)
        .filter(|&i| read(i))
        .map(|i| {
            Task::new(
                Key::new(ends_name.as_str(), &[i as u32]),
                ends_op.clone(),
                vec![parts.key(i)],
            )
        })
        .collect();
    let nulls_key = Key::new(nulls_name.as_str(), &[0]);
    let nulls = pl::DataFrame::full_null(&to_schema(schema), n);
    let nulls = Task::new(
        nulls_key.clone(),
        Arc::new(LiteralOp::new(
            Arc::new(Frame(nulls)),
            brisk_core::tokenize(&nulls_key)?,
        )),
        vec![],
    );
    let carry_op = plan(vec![slice]);
    let carry_key = |i: usize| Key::new(carry_name.as_str(), &[i as u32]);
    let ends_key = |i: usize| Key::new(ends_name.as_str(), &[i as u32]);
    let carries: Vec<Task> = (0..k)
        .map(|i| {
            let inputs = match side {
                Side::Before if i == 0 => vec![nulls_key.clone()],
                Side::Before => vec![carry_key(i - 1), ends_key(i - 1)],
                Side::After if i + 1 == k => vec![nulls_key.clone()],
                Side::After => vec![ends_key(i + 1), carry_key(i + 1)],
            };
            Task::new(carry_key(i), carry_op.clone(), inputs)
        })
        .collect();
    let graph = Graph::from_layer(
        Layer {
            name: ends_name,
            tasks: ends,
        },
        [&parts.graph],
    );
    let graph = Graph::from_layer(
        Layer {
            name: nulls_name,
            tasks: vec![nulls],
        },
        [&graph],
    );
    let graph = Graph::from_layer(
        Layer {
            name: carry_name.clone(),
            tasks: carries,
        },
        [&graph],
    );
    Ok((graph, (0..k).map(carry_key).collect()))
}
