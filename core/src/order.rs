//! Static, memory-aware task priorities, shared by every scheduler.
//!
//! Goal (as in `dask.order`): keep the number of live intermediate results small by
//! finishing what was started — complete a branch and release its inputs before
//! opening a new one — rather than running every ready task breadth-first.
//!
//! The policy: a post-order depth-first walk from the requested keys, in request
//! order. Before a task runs, its inputs are computed one subtree at a time, the
//! subtree that needs the most simultaneously live results first (the Sethi–Ullman
//! rule for evaluating expression trees with the fewest registers), ties broken by
//! subtree size and then by id. Root tasks (readers, generators) are therefore run
//! only when the branch that consumes them is next, instead of all at once.
//!
//! The result is a priority per task (lower runs first) that schedulers use to pick
//! among ready tasks; run one task at a time in this order, the walk is the schedule.
//!
//! ```
//! use brisk_core::order::{order, peak_live, sequence, fifo_sequence};
//! # use brisk_core::{graph::{Graph, Task}, op::ClosureOp, Key, Value};
//! # use std::sync::Arc;
//! # let op = Arc::new(ClosureOp::new("f", |_| Ok(Arc::new(()) as Value)));
//! # let leaves: Vec<Task> = (0..64).map(|i| Task::new(Key::new("leaf", &[i]), op.clone(), vec![])).collect();
//! # let sums: Vec<Task> = (0..8).map(|j| Task::new(Key::new("sum", &[j]), op.clone(),
//! #     (0..8).map(|i| Key::new("leaf", &[j * 8 + i])).collect())).collect();
//! # let total = Task::new(Key::new("total", &[]), op.clone(), (0..8).map(|j| Key::new("sum", &[j])).collect());
//! # let mut tasks = leaves; tasks.extend(sums); tasks.push(total);
//! // 64 leaves summed 8 at a time, then the 8 sums summed.
//! let g = Graph::from_tasks("tree", tasks).lower(&[Key::new("total", &[])]).unwrap();
//! let by_priority = sequence(&order(&g));
//! assert!(peak_live(&g, &by_priority) <= 16);
//! assert_eq!(peak_live(&g, &fifo_sequence(&g)), 65); // all 64 leaves, then a sum
//! ```

use crate::graph::TaskGraph;
use crate::key::TaskId;

/// The priority of every task (indexed by [`TaskId`]): its position in the schedule.
pub fn order(graph: &TaskGraph) -> Vec<u32> {
    let n = graph.len();
    // Register need and subtree size, dependencies first.
    let mut need = vec![0u32; n];
    let mut size = vec![0u64; n];
    let mut scratch: Vec<u32> = Vec::new();
    for &t in graph.topological() {
        let deps = graph.dependencies(t);
        scratch.clear();
        scratch.extend(deps.iter().map(|d| need[d.idx()]));
        scratch.sort_unstable_by(|a, b| b.cmp(a));
        let mut r = 1u32;
        for (i, &c) in scratch.iter().enumerate() {
            r = r.max(c.saturating_add(i as u32));
        }
        need[t.idx()] = r;
        size[t.idx()] = deps
            .iter()
            .fold(1u64, |acc, d| acc.saturating_add(size[d.idx()]));
    }

    // Inputs of each task in visiting order.
    let mut sorted: Vec<TaskId> = Vec::with_capacity(n);
    let mut start: Vec<u32> = Vec::with_capacity(n + 1);
    for i in 0..n {
        start.push(sorted.len() as u32);
        let from = sorted.len();
        sorted.extend_from_slice(graph.dependencies(TaskId(i as u32)));
        sorted[from..].sort_by(|a, b| {
            need[b.idx()]
                .cmp(&need[a.idx()])
                .then(size[b.idx()].cmp(&size[a.idx()]))
                .then(a.cmp(b))
        });
    }
    start.push(sorted.len() as u32);

    // Iterative post-order walk from the requested keys.
    const UNSEEN: u32 = u32::MAX;
    let mut priority = vec![UNSEEN; n];
    let mut entered = vec![false; n];
    let mut next = 0u32;
    let mut stack: Vec<(TaskId, u32)> = Vec::new();
    let roots = graph
        .requested()
        .iter()
        .copied()
        .chain((0..n as u32).map(TaskId));
    for root in roots {
        if entered[root.idx()] {
            continue;
        }
        entered[root.idx()] = true;
        stack.push((root, start[root.idx()]));
        while let Some(top) = stack.last_mut() {
            let (t, cursor) = *top;
            if cursor < start[t.idx() + 1] {
                top.1 += 1;
                let d = sorted[cursor as usize];
                if !entered[d.idx()] {
                    entered[d.idx()] = true;
                    stack.push((d, start[d.idx()]));
                }
            } else {
                priority[t.idx()] = next;
                next += 1;
                stack.pop();
            }
        }
    }
    priority
}

/// Task ids sorted by priority: the order in which one worker would run them.
pub fn sequence(priority: &[u32]) -> Vec<TaskId> {
    let mut seq = vec![TaskId(0); priority.len()];
    for (t, &p) in priority.iter().enumerate() {
        seq[p as usize] = TaskId(t as u32);
    }
    seq
}

/// The breadth-first (FIFO) schedule: tasks run in the order they become ready, the
/// initially ready ones by id. The baseline that [`order`] is measured against.
pub fn fifo_sequence(graph: &TaskGraph) -> Vec<TaskId> {
    let n = graph.len();
    let mut missing: Vec<usize> = (0..n)
        .map(|i| graph.dependencies(TaskId(i as u32)).len())
        .collect();
    let mut queue: std::collections::VecDeque<TaskId> = (0..n as u32)
        .map(TaskId)
        .filter(|t| missing[t.idx()] == 0)
        .collect();
    let mut seq = Vec::with_capacity(n);
    while let Some(t) = queue.pop_front() {
        seq.push(t);
        for &d in graph.dependents(t) {
            missing[d.idx()] -= 1;
            if missing[d.idx()] == 0 {
                queue.push_back(d);
            }
        }
    }
    seq
}

/// The largest number of results held at once when the tasks run one at a time in
/// `seq`: a result lives from its task until its last reader has run, and requested
/// results live to the end. Inputs count as live while their reader runs.
pub fn peak_live(graph: &TaskGraph, seq: &[TaskId]) -> usize {
    let n = graph.len();
    let mut pending: Vec<usize> = (0..n)
        .map(|i| graph.dependents(TaskId(i as u32)).len())
        .collect();
    for t in graph.requested() {
        pending[t.idx()] += 1; // never released
    }
    let (mut live, mut peak) = (0usize, 0usize);
    for &t in seq {
        live += 1;
        peak = peak.max(live);
        for &d in graph.dependencies(t) {
            pending[d.idx()] -= 1;
            if pending[d.idx()] == 0 {
                live -= 1;
            }
        }
        if pending[t.idx()] == 0 {
            live -= 1;
        }
    }
    peak
}
