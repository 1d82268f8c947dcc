//! A submitted graph must be acyclic: a task that reads itself, directly or
//! through others, could never run. Clients check before sending; the scheduler
//! checks again, since a peer on the wire may be anything.

use brisk_core::Key;
use rustc_hash::FxHashMap;

use super::NewTask;

/// A key on a cycle among `tasks`, if there is one. Tasks for which `known` is
/// true are skipped (they were checked when they arrived, and read only tasks
/// known then, so no cycle can pass through them). Iterative: any depth of graph
/// uses the same stack.
pub(super) fn find_cycle(tasks: &[NewTask], known: impl Fn(&Key) -> bool) -> Option<Key> {
    let mut index: FxHashMap<&Key, usize> = FxHashMap::default();
    let mut nodes: Vec<&NewTask> = Vec::new();
    for t in tasks {
        if !known(&t.key) && !index.contains_key(&t.key) {
            index.insert(&t.key, nodes.len());
            nodes.push(t);
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; nodes.len()];
    // (node, next dependency to look at)
    let mut path: Vec<(usize, usize)> = Vec::new();
    for root in 0..nodes.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::OnPath;
        path.push((root, 0));
        while let Some((node, next)) = path.last_mut() {
            let deps = &nodes[*node].dependencies;
            let Some(dep) = deps.get(*next) else {
                mark[*node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            let Some(&d) = index.get(dep) else { continue };
            match mark[d] {
                Mark::OnPath => return Some(nodes[d].key.clone()),
                Mark::New => {
                    mark[d] = Mark::OnPath;
                    path.push((d, 0));
                }
                Mark::Done => {}
            }
        }
    }
    None
}
