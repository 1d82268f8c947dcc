use super::lower::TaskGraph;
use super::task::Task;
use super::wrappers;
use crate::error::{Error, Result};
use crate::key::{Key, TaskId};
use crate::op::{rebuild, Op, OpRegistration};
use crate::token::Hasher;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where an argument of an [`InlinedOp`]'s op comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    /// The task's input at this position.
    Input(u32),
    /// The result of the inlined root at this position, computed inside the task.
    Root(u32),
}

/// An op some of whose arguments are computed inside the task by root ops that were
/// inlined into it (see [`inline_roots`]): each root runs once per call, its result
/// lives only while the op runs.
pub struct InlinedOp {
    op: Arc<dyn Op>,
    roots: Vec<Arc<dyn Op>>,
    args: Vec<Arg>,
}

type Parts = ((String, Vec<u8>), Vec<(String, Vec<u8>)>, Vec<Arg>);

impl InlinedOp {
    /// The registered name of inlined ops.
    pub const NAME: &'static str = wrappers::INLINED;

    /// `op` called on `args`, each a task input or the result of one of `roots`.
    ///
    /// Errors: an argument naming a root that is not there.
    pub fn new(op: Arc<dyn Op>, roots: Vec<Arc<dyn Op>>, args: Vec<Arg>) -> Result<InlinedOp> {
        if let Some(a) = args
            .iter()
            .find(|a| matches!(a, Arg::Root(j) if *j as usize >= roots.len()))
        {
            return Err(Error::OpParams {
                op: Self::NAME.into(),
                message: format!("argument {a:?} names one of {} inlined roots", roots.len()),
            });
        }
        Ok(InlinedOp { op, roots, args })
    }

    /// The op that receives the arguments.
    pub fn op(&self) -> &Arc<dyn Op> {
        &self.op
    }

    /// The inlined roots.
    pub fn roots(&self) -> &[Arc<dyn Op>] {
        &self.roots
    }
}

impl Op for InlinedOp {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        h.write_str(self.op.name());
        self.op.tokenize_params(h)?;
        h.write_len(self.roots.len());
        for r in &self.roots {
            h.write_str(r.name());
            r.tokenize_params(h)?;
        }
        h.write_len(self.args.len());
        for a in &self.args {
            match a {
                Arg::Input(i) => h.write_str(&format!("input {i}")),
                Arg::Root(j) => h.write_str(&format!("root {j}")),
            }
        }
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        let named = |op: &Arc<dyn Op>| Ok((op.name().to_string(), op.params()?));
        let parts: Parts = (
            named(&self.op)?,
            self.roots.iter().map(named).collect::<Result<_>>()?,
            self.args.clone(),
        );
        rmp_serde::to_vec(&parts).map_err(|e| Error::OpParams {
            op: Self::NAME.into(),
            message: e.to_string(),
        })
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let in_op = |op: &Arc<dyn Op>, e: Error| Error::InOp {
            op: op.name().to_string(),
            error: Box::new(e),
        };
        let roots: Vec<Value> = self
            .roots
            .iter()
            .map(|r| r.call(&[]).map_err(|e| in_op(r, e)))
            .collect::<Result<_>>()?;
        let args: Vec<Value> = self
            .args
            .iter()
            .map(|a| match *a {
                Arg::Input(i) => inputs.get(i as usize).cloned().ok_or(Error::Arity {
                    op: Self::NAME.into(),
                    expected: i as usize + 1,
                    found: inputs.len(),
                }),
                Arg::Root(j) => Ok(roots[j as usize].clone()),
            })
            .collect::<Result<_>>()?;
        drop(roots);
        // The reader's own errors are its errors, as without inlining.
        self.op.call(&args)
    }
    fn is_local_only(&self) -> bool {
        self.op.is_local_only() || self.roots.iter().any(|r| r.is_local_only())
    }
}

inventory::submit! {
    OpRegistration {
        name: InlinedOp::NAME,
        rebuild: |bytes| {
            let ((name, params), roots, args): Parts = rmp_serde::from_slice(bytes)
                .map_err(|e| Error::OpParams { op: InlinedOp::NAME.into(), message: e.to_string() })?;
            // Only plain ops inside: a hostile message cannot nest wrappers deep
            // enough to exhaust the stack.
            let plain = |n: &str, p: &[u8]| {
                if wrappers::is_wrapper(n) {
                    return Err(Error::OpParams {
                        op: InlinedOp::NAME.into(),
                        message: format!("an inlined op cannot hold '{n}'"),
                    });
                }
                rebuild(n, p)
            };
            let roots = roots.iter().map(|(n, p)| plain(n, p)).collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(InlinedOp::new(plain(&name, &params)?, roots, args)?))
        },
    }
}

/// Inlines the roots whose ops ask for it ([`Op::inline`]) into the tasks that read
/// them, as Dask inlines cheap chunk getters into their readers.
///
/// A root (a task with no inputs) that is not requested and whose op is cheaper to
/// run again than to hold (a slab of a local file) disappears from the graph; each
/// reader runs it itself, once per call, and lets the result go when it is done. A
/// z-score then reads each file twice (once for the moments, once for the scores)
/// instead of holding every block until the moments are known. Keys do not change.
///
/// Returns the graph unchanged when there is nothing to inline.
pub fn inline_roots(graph: TaskGraph) -> Result<TaskGraph> {
    let inlined = |t: TaskId| {
        graph.dependencies(t).is_empty() && !graph.dependents(t).is_empty() && graph.op(t).inline()
    };
    let n = graph.len();
    let mut gone: Vec<bool> = (0..n as u32).map(|i| inlined(TaskId(i))).collect();
    for &r in graph.requested() {
        gone[r.idx()] = false;
    }
    if !gone.contains(&true) {
        return Ok(graph);
    }
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let t = TaskId(i as u32);
        if gone[i] {
            continue;
        }
        let deps = graph.dependencies(t);
        if !deps.iter().any(|d| gone[d.idx()]) {
            tasks.push(Task::new(
                graph.key(t).clone(),
                graph.op(t).clone(),
                deps.iter().map(|d| graph.key(*d).clone()).collect(),
            ));
            continue;
        }
        let mut inputs: Vec<Key> = Vec::new();
        let mut roots: Vec<TaskId> = Vec::new();
        let mut args = Vec::with_capacity(deps.len());
        for &d in deps {
            if gone[d.idx()] {
                // A root read twice by one task runs once.
                let j = roots.iter().position(|r| *r == d).unwrap_or_else(|| {
                    roots.push(d);
                    roots.len() - 1
                });
                args.push(Arg::Root(j as u32));
            } else {
                args.push(Arg::Input(inputs.len() as u32));
                inputs.push(graph.key(d).clone());
            }
        }
        let roots = roots.iter().map(|r| graph.op(*r).clone()).collect();
        let op = InlinedOp::new(graph.op(t).clone(), roots, args)?;
        tasks.push(Task::new(graph.key(t).clone(), Arc::new(op), inputs));
    }
    let requested: Vec<Key> = graph
        .requested()
        .iter()
        .map(|r| graph.key(*r).clone())
        .collect();
    TaskGraph::from_tasks(&tasks, &requested)
}
