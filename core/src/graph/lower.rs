use super::layer::Layer;
use super::task::Task;
use crate::error::{Error, Result};
use crate::key::{Key, TaskId};
use crate::op::Op;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

/// The low-level graph a scheduler runs: the tasks needed for the requested keys,
/// keys interned to dense ids, edges in flat arrays, and a topological order.
///
/// Ids are given in discovery order from the requested keys (breadth-first over
/// inputs), so the same graph and request always give the same ids.
pub struct TaskGraph {
    keys: Vec<Key>,
    ops: Vec<Arc<dyn Op>>,
    dep_start: Vec<u32>,
    deps: Vec<TaskId>,
    dependent_start: Vec<u32>,
    dependents: Vec<TaskId>,
    index: FxHashMap<Key, TaskId>,
    requested: Vec<TaskId>,
    topo: Vec<TaskId>,
}

impl TaskGraph {
    /// Builds the culled graph for `requested` from the tasks of `layers`.
    ///
    /// Errors: a requested key that no layer produces ([`Error::MissingKey`]), an input
    /// that no layer produces ([`Error::MissingDependency`]), a cycle ([`Error::Cycle`]).
    pub fn build(layers: &[Arc<Layer>], requested: &[Key]) -> Result<TaskGraph> {
        let mut all: FxHashMap<&Key, &Task> = FxHashMap::default();
        all.reserve(layers.iter().map(|l| l.tasks.len()).sum());
        for layer in layers {
            for t in &layer.tasks {
                all.insert(&t.key, t);
            }
        }
        Self::from_lookup(|k| all.get(k).copied(), requested)
    }

    /// Builds the culled graph for `requested` from plain tasks.
    pub fn from_tasks(tasks: &[Task], requested: &[Key]) -> Result<TaskGraph> {
        let all: FxHashMap<&Key, &Task> = tasks.iter().map(|t| (&t.key, t)).collect();
        Self::from_lookup(|k| all.get(k).copied(), requested)
    }

    fn from_lookup<'a>(
        lookup: impl Fn(&Key) -> Option<&'a Task>,
        requested: &[Key],
    ) -> Result<TaskGraph> {
        let mut index: FxHashMap<Key, TaskId> = FxHashMap::default();
        let mut tasks: Vec<&Task> = Vec::new();
        let mut req_ids = Vec::with_capacity(requested.len());
        for k in requested {
            let id = match index.get(k) {
                Some(&id) => id,
                None => {
                    let t = lookup(k).ok_or_else(|| Error::MissingKey { key: k.clone() })?;
                    let id = TaskId(tasks.len() as u32);
                    index.insert(k.clone(), id);
                    tasks.push(t);
                    id
                }
            };
            req_ids.push(id);
        }
        // Breadth-first over inputs, interning as we go.
        let mut dep_start = Vec::with_capacity(tasks.len() + 1);
        let mut deps = Vec::new();
        let mut i = 0;
        while i < tasks.len() {
            let t = tasks[i];
            dep_start.push(deps.len() as u32);
            for input in &t.inputs {
                let id = match index.get(input) {
                    Some(&id) => id,
                    None => {
                        let dt = lookup(input).ok_or_else(|| Error::MissingDependency {
                            key: t.key.clone(),
                            dependency: input.clone(),
                        })?;
                        let id = TaskId(tasks.len() as u32);
                        index.insert(input.clone(), id);
                        tasks.push(dt);
                        id
                    }
                };
                deps.push(id);
            }
            i += 1;
        }
        dep_start.push(deps.len() as u32);
        let n = tasks.len();

        // Dependents, as a transposed CSR.
        let mut counts = vec![0u32; n + 1];
        for d in &deps {
            counts[d.idx() + 1] += 1;
        }
        for j in 0..n {
            counts[j + 1] += counts[j];
        }
        let dependent_start = counts.clone();
        let mut fill = counts;
        let mut dependents = vec![TaskId(0); deps.len()];
        for (t, w) in dep_start.windows(2).enumerate() {
            for d in &deps[w[0] as usize..w[1] as usize] {
                let slot = &mut fill[d.idx()];
                dependents[*slot as usize] = TaskId(t as u32);
                *slot += 1;
            }
        }

        let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        let ops: Vec<Arc<dyn Op>> = tasks.iter().map(|t| t.op.clone()).collect();
        let mut g = TaskGraph {
            keys,
            ops,
            dep_start,
            deps,
            dependent_start,
            dependents,
            index,
            requested: req_ids,
            topo: Vec::new(),
        };
        g.topo = g.topological_order()?;
        Ok(g)
    }

    /// Kahn's algorithm; on a cycle, finds one and names its keys.
    fn topological_order(&self) -> Result<Vec<TaskId>> {
        let n = self.len();
        let mut missing: Vec<u32> = (0..n)
            .map(|i| self.dependencies(TaskId(i as u32)).len() as u32)
            .collect();
        let mut queue: VecDeque<TaskId> = (0..n as u32)
            .map(TaskId)
            .filter(|t| missing[t.idx()] == 0)
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(t) = queue.pop_front() {
            order.push(t);
            for &d in self.dependents(t) {
                missing[d.idx()] -= 1;
                if missing[d.idx()] == 0 {
                    queue.push_back(d);
                }
            }
        }
        if order.len() == n {
            return Ok(order);
        }
        // Every task left has an unfinished dependency that is also left: walk them
        // until one repeats.
        let start = (0..n).find(|&i| missing[i] > 0).unwrap_or(0);
        let mut pos: FxHashMap<u32, usize> = FxHashMap::default();
        let mut path: Vec<TaskId> = Vec::new();
        let mut cur = TaskId(start as u32);
        loop {
            if let Some(&p) = pos.get(&cur.0) {
                let mut cycle: Vec<Key> = path[p..]
                    .iter()
                    .map(|t| self.keys[t.idx()].clone())
                    .collect();
                // The walk follows dependencies; report the cycle in execution order.
                cycle.reverse();
                return Err(Error::Cycle { keys: cycle });
            }
            pos.insert(cur.0, path.len());
            path.push(cur);
            match self.dependencies(cur).iter().find(|d| missing[d.idx()] > 0) {
                Some(&next) => cur = next,
                None => {
                    return Err(Error::Cycle {
                        keys: vec![self.keys[cur.idx()].clone()],
                    })
                }
            }
        }
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no tasks.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of a task.
    pub fn key(&self, t: TaskId) -> &Key {
        &self.keys[t.idx()]
    }

    /// Every key, by id.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The op of a task.
    pub fn op(&self, t: TaskId) -> &Arc<dyn Op> {
        &self.ops[t.idx()]
    }

    /// The inputs of a task, in the op's argument order.
    #[inline]
    pub fn dependencies(&self, t: TaskId) -> &[TaskId] {
        &self.deps[self.dep_start[t.idx()] as usize..self.dep_start[t.idx() + 1] as usize]
    }

    /// The tasks that read a task's result (once per use).
    #[inline]
    pub fn dependents(&self, t: TaskId) -> &[TaskId] {
        &self.dependents
            [self.dependent_start[t.idx()] as usize..self.dependent_start[t.idx() + 1] as usize]
    }

    /// The id of a key, if the task is in the graph.
    pub fn id_of(&self, key: &Key) -> Option<TaskId> {
        self.index.get(key).copied()
    }

    /// The requested tasks, in request order (repeats kept).
    pub fn requested(&self) -> &[TaskId] {
        &self.requested
    }

    /// A topological order: every task after its dependencies.
    pub fn topological(&self) -> &[TaskId] {
        &self.topo
    }

    /// Rebuilds the tasks (for fusing or sending elsewhere).
    pub fn tasks(&self) -> Vec<Task> {
        (0..self.len())
            .map(|i| {
                let t = TaskId(i as u32);
                Task {
                    key: self.keys[i].clone(),
                    op: self.ops[i].clone(),
                    inputs: self
                        .dependencies(t)
                        .iter()
                        .map(|d| self.keys[d.idx()].clone())
                        .collect(),
                }
            })
            .collect()
    }
}

impl std::fmt::Debug for TaskGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TaskGraph({} tasks, {} requested)",
            self.len(),
            self.requested.len()
        )
    }
}
