//! Small value types shared by the state machines and the wire: ids, task specs,
//! priorities.

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
