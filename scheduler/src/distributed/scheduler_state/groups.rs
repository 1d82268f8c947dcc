//! Task groups (Dask's `TaskGroup`): the tasks of one key prefix, counted by
//! state as they move, so progress bars and the graph of groups cost
//! O(prefixes) to read whatever the number of tasks.
//!
//! Every change of a task's state goes through [`TaskGroups::moved`] (from
//! `set_status`), every new task through [`TaskGroups::added`] and every dropped
//! one through [`TaskGroups::forgotten`]; [`SchedulerState::validate`] recounts.

use super::TaskStatus;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// The states a group counts, in the order of [`TaskGroup::states`].
pub const GROUP_STATES: [&str; 7] = [
    "released",
    "waiting",
    "queued",
    "no-worker",
    "processing",
    "memory",
    "erred",
];

/// Where a state is counted in [`TaskGroup::states`].
pub(crate) fn state_index(status: &TaskStatus) -> usize {
    match status {
        TaskStatus::Released => 0,
        TaskStatus::Waiting => 1,
        TaskStatus::Queued => 2,
        TaskStatus::NoWorker => 3,
        TaskStatus::Processing { .. } => 4,
        TaskStatus::Memory => 5,
        TaskStatus::Erred { .. } => 6,
    }
}

/// The tasks of one prefix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskGroup {
    /// Tasks of this prefix ever added.
    pub total: u64,
    /// Tasks in each state now, in the order of [`GROUP_STATES`].
    pub states: [u64; 7],
    /// Tasks dropped from the state so far.
    pub forgotten: u64,
    /// Tasks that reached memory so far (a task computed twice counts twice).
    pub finished: u64,
    /// Seconds of measured compute so far.
    pub duration: f64,
    /// Bytes of results made so far.
    pub nbytes: u64,
    /// Prefixes of the tasks this group's tasks read.
    pub dependencies: BTreeSet<Box<str>>,
}

impl TaskGroup {
    /// Tasks in `state` (one of [`GROUP_STATES`]) now.
    pub fn count(&self, state: &str) -> u64 {
        GROUP_STATES
            .iter()
            .position(|s| *s == state)
            .map_or(0, |i| self.states[i])
    }
}

/// Every task group, by prefix.
#[derive(Debug, Clone, Default)]
pub struct TaskGroups {
    groups: FxHashMap<Box<str>, TaskGroup>,
}

impl TaskGroups {
    fn entry(&mut self, prefix: &str) -> &mut TaskGroup {
        if !self.groups.contains_key(prefix) {
            self.groups.insert(prefix.into(), TaskGroup::default());
        }
        self.groups.get_mut(prefix).expect("inserted above")
    }

    /// A task of `prefix` was added in `status`, reading tasks of `inputs`.
    pub(crate) fn added<'a>(
        &mut self,
        prefix: &str,
        status: &TaskStatus,
        inputs: impl Iterator<Item = &'a str>,
    ) {
        let g = self.entry(prefix);
        g.total += 1;
        g.states[state_index(status)] += 1;
        for i in inputs {
            if i != prefix && !g.dependencies.contains(i) {
                g.dependencies.insert(i.into());
            }
        }
    }

    /// A task of `prefix` went from `from` to `to`.
    pub(crate) fn moved(&mut self, prefix: &str, from: &TaskStatus, to: &TaskStatus) {
        let (a, b) = (state_index(from), state_index(to));
        if a != b {
            let g = self.entry(prefix);
            g.states[a] = g.states[a].saturating_sub(1);
            g.states[b] += 1;
        }
    }

    /// A task of `prefix` finished: `duration` seconds, `nbytes` of result.
    pub(crate) fn finished(&mut self, prefix: &str, duration: f64, nbytes: u64) {
        let g = self.entry(prefix);
        g.finished += 1;
        if duration.is_finite() && duration > 0.0 {
            g.duration += duration;
        }
        g.nbytes += nbytes;
    }

    /// A task of `prefix` in `status` was dropped from the state.
    pub(crate) fn forgotten(&mut self, prefix: &str, status: &TaskStatus) {
        let g = self.entry(prefix);
        let i = state_index(status);
        g.states[i] = g.states[i].saturating_sub(1);
        g.forgotten += 1;
    }

    /// The group of `prefix`.
    pub fn get(&self, prefix: &str) -> Option<&TaskGroup> {
        self.groups.get(prefix)
    }

    /// Every group, by prefix.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &TaskGroup)> {
        self.groups.iter().map(|(p, g)| (&**p, g))
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_tasks_through_their_states() {
        let mut g = TaskGroups::default();
        g.added("inc", &TaskStatus::Released, ["load"].into_iter());
        g.added("inc", &TaskStatus::Released, ["load", "inc"].into_iter());
        g.moved("inc", &TaskStatus::Released, &TaskStatus::Waiting);
        g.moved("inc", &TaskStatus::Waiting, &TaskStatus::Memory);
        g.finished("inc", 0.5, 8);
        g.forgotten("inc", &TaskStatus::Released);
        let inc = g.get("inc").unwrap();
        assert_eq!(inc.total, 2);
        assert_eq!(inc.count("memory"), 1);
        assert_eq!(inc.count("released"), 0);
        assert_eq!(inc.forgotten, 1);
        assert_eq!((inc.finished, inc.nbytes), (1, 8));
        assert_eq!(inc.duration, 0.5);
        let deps: Vec<&str> = inc.dependencies.iter().map(|d| &**d).collect();
        assert_eq!(deps, ["load"], "a group never depends on itself");
    }
}
