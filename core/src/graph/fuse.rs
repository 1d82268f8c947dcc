use super::lower::TaskGraph;
use super::task::Task;
use super::wrappers;
use crate::error::{Error, Result};
use crate::key::{Key, TaskId};
use crate::op::{rebuild, Op, OpRegistration};
use crate::token::Hasher;
use crate::value::Value;
use std::sync::Arc;

/// Several ops run one after the other as a single task: the first gets the task's
/// inputs, each next one the previous result.
pub struct FusedOp {
    ops: Vec<Arc<dyn Op>>,
}

impl FusedOp {
    /// The registered name of fused ops.
    pub const NAME: &'static str = wrappers::FUSED;

    /// The ops of the chain, first to last.
    pub fn ops(&self) -> &[Arc<dyn Op>] {
        &self.ops
    }
}

impl Op for FusedOp {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        h.write_len(self.ops.len());
        for op in &self.ops {
            h.write_str(op.name());
            op.tokenize_params(h)?;
        }
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        let parts: Vec<(String, Vec<u8>)> = self
            .ops
            .iter()
            .map(|op| Ok((op.name().to_string(), op.params()?)))
            .collect::<Result<_>>()?;
        rmp_serde::to_vec(&parts).map_err(|e| Error::OpParams {
            op: Self::NAME.into(),
            message: e.to_string(),
        })
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let mut ops = self.ops.iter();
        let first = ops
            .next()
            .ok_or_else(|| Error::Other("empty fused op".into()))?;
        let inner = |op: &Arc<dyn Op>, e: Error| Error::InOp {
            op: op.name().to_string(),
            error: Box::new(e),
        };
        let mut v = first.call(inputs).map_err(|e| inner(first, e))?;
        for op in ops {
            v = op
                .call(std::slice::from_ref(&v))
                .map_err(|e| inner(op, e))?;
        }
        Ok(v)
    }
    fn is_local_only(&self) -> bool {
        self.ops.iter().any(|o| o.is_local_only())
    }
}

inventory::submit! {
    OpRegistration {
        name: FusedOp::NAME,
        rebuild: |bytes| {
            let parts: Vec<(String, Vec<u8>)> = rmp_serde::from_slice(bytes)
                .map_err(|e| Error::OpParams { op: FusedOp::NAME.into(), message: e.to_string() })?;
            // Only plain ops inside: a hostile message cannot nest wrappers deep
            // enough to exhaust the stack.
            if let Some((n, _)) = parts.iter().find(|(n, _)| wrappers::is_wrapper(n)) {
                return Err(Error::OpParams { op: FusedOp::NAME.into(), message: format!("a fused op cannot hold '{n}'") });
            }
            let ops = parts.iter().map(|(n, p)| rebuild(n, p)).collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(FusedOp { ops }))
        },
    }
}

/// Folds linear chains into single tasks.
///
/// A task joins its dependent's chain when that dependent is its only reader, reads
/// only it, and the task was not requested. The fused task keeps the key of the chain's
/// last task (what readers and requesters name), so results do not change; the tasks
/// in between disappear, with their scheduling overhead.
///
/// ```text
///   a ─▶ b ─▶ c ─▶ d ─▶ out        a ─▶ (b·c·d) ─▶ out    a has two readers, so it
///   a ─▶ e ─────────────▶ out      a ─▶ e ───────▶ out    stays; out reads two tasks
/// ```
pub fn fuse_linear(graph: &TaskGraph) -> Vec<Task> {
    let n = graph.len();
    let mut requested = vec![false; n];
    for t in graph.requested() {
        requested[t.idx()] = true;
    }
    // `absorbed_into[t]`: t is folded into its single dependent.
    let fusable = |t: TaskId| -> Option<TaskId> {
        if requested[t.idx()] {
            return None;
        }
        match graph.dependents(t) {
            [d] if graph.dependencies(*d).len() == 1 => Some(*d),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(n);
    for &t in graph.topological() {
        if fusable(t).is_some() {
            continue; // emitted as part of the chain that ends below it
        }
        // Walk up the chain: while the single input would be absorbed into us.
        let mut chain = vec![t];
        let mut head = t;
        while let [d] = graph.dependencies(head) {
            if fusable(*d) == Some(head) {
                chain.push(*d);
                head = *d;
            } else {
                break;
            }
        }
        let inputs: Vec<Key> = graph
            .dependencies(head)
            .iter()
            .map(|d| graph.key(*d).clone())
            .collect();
        let op: Arc<dyn Op> = if chain.len() == 1 {
            graph.op(t).clone()
        } else {
            Arc::new(FusedOp {
                ops: chain.iter().rev().map(|c| graph.op(*c).clone()).collect(),
            })
        };
        out.push(Task {
            key: graph.key(t).clone(),
            op,
            inputs,
        });
    }
    out
}
