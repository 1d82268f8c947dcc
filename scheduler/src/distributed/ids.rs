//! Small value types shared by the state machines and the wire: ids, task specs,
//! priorities, stimulus ids and story lines, the submitted task.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A worker, as numbered by the scheduler when it joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkerId(pub u32);

/// A client connection, as numbered by the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClientId(pub u32);

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "worker-{}", self.0)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client-{}", self.0)
    }
}

/// The code of a task as it travels: the op's registered name and its parameter
/// bytes ([`brisk_core::op::rebuild`] turns them back into the op on a worker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// The registered op name.
    pub op: String,
    /// The op's parameters.
    #[serde(with = "serde_bytes")]
    pub params: Vec<u8>,
}

/// When a task runs relative to others: lower runs first. The user's priority
/// (higher first, like Dask's `priority=`), then the submission generation (earlier
/// graphs first), then the position in the graph's `order()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Priority {
    /// The user's priority, negated so that lower sorts first.
    pub neg_user: i64,
    /// The graph submission this task arrived with.
    pub generation: u64,
    /// The task's position in `order()` of its graph.
    pub order: u32,
}

impl Priority {
    /// A priority from the user's value (higher runs first), the generation and order.
    pub fn new(user: i32, generation: u64, order: u32) -> Priority {
        Priority {
            neg_user: -(user as i64),
            generation,
            order,
        }
    }
}

/// Who made a [`StimulusId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StimulusSource {
    /// The scheduler, for every event it handles; its messages carry the id.
    Scheduler,
    /// A worker, for what happens there alone (a task ran, a fetch ended).
    Worker,
}

/// The id of one stimulus (an event a state machine handled), Dask's
/// `stimulus_id`. The scheduler numbers every event it handles and sends the
/// number with the messages the event causes, so a worker's story of a key names
/// the same stimulus as the scheduler's and the two can be joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StimulusId {
    /// Who made it.
    pub source: StimulusSource,
    /// Its number, counting from 1 at its source.
    pub seq: u64,
}

impl StimulusId {
    /// The scheduler's stimulus number `seq`.
    pub fn scheduler(seq: u64) -> StimulusId {
        StimulusId {
            source: StimulusSource::Scheduler,
            seq,
        }
    }

    /// A worker's own stimulus number `seq`.
    pub fn worker(seq: u64) -> StimulusId {
        StimulusId {
            source: StimulusSource::Worker,
            seq,
        }
    }
}

impl fmt::Display for StimulusId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            StimulusSource::Scheduler => write!(f, "s{}", self.seq),
            StimulusSource::Worker => write!(f, "w{}", self.seq),
        }
    }
}

/// One line of a task's story: a transition and the stimulus that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryLine {
    /// The state before.
    pub from: &'static str,
    /// The state after.
    pub to: &'static str,
    /// The kind of event (`update-graph`, `compute`, `fetch-done`...).
    pub stimulus: &'static str,
    /// Which event of that kind.
    pub stimulus_id: StimulusId,
}

impl fmt::Display for StoryLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} ({} {})",
            self.from, self.to, self.stimulus, self.stimulus_id
        )
    }
}

/// How many lines of its story each task keeps.
pub const STORY_LEN: usize = 16;

/// Appends a line to a bounded story.
pub(crate) fn push_story(story: &mut std::collections::VecDeque<StoryLine>, line: StoryLine) {
    if story.len() == STORY_LEN {
        story.pop_front();
    }
    story.push_back(line);
}

/// A task of a submitted graph, as a client sends it and the scheduler takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTask {
    /// Its key.
    pub key: brisk_core::Key,
    /// Its code.
    pub spec: TaskSpec,
    /// Its inputs, in order.
    pub dependencies: Vec<brisk_core::Key>,
    /// Its position in `order()` of the submitted graph.
    pub order: u32,
}
