use crate::error::Result;
use crate::key::Key;
use crate::op::{task_token, Op};
use std::fmt;
use std::sync::Arc;

/// One unit of work: an op applied to the results of its input keys.
#[derive(Clone)]
pub struct Task {
    /// The key of the result.
    pub key: Key,
    /// The code to run.
    pub op: Arc<dyn Op>,
    /// The keys whose results are the op's inputs, in order.
    pub inputs: Vec<Key>,
}

impl Task {
    /// A task with an explicit key.
    pub fn new(key: Key, op: Arc<dyn Op>, inputs: Vec<Key>) -> Task {
        Task { key, op, inputs }
    }

    /// A task whose key is `prefix-<token>` with the token of the op and its inputs:
    /// the same op on the same inputs always gets the same key.
    pub fn tokenized(prefix: &str, op: Arc<dyn Op>, inputs: Vec<Key>) -> Result<Task> {
        let token = task_token(op.as_ref(), &inputs)?;
        Ok(Task {
            key: Key::from_token(prefix, &token, &[]),
            op,
            inputs,
        })
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({} = {}(", self.key, self.op.name())?;
        for (i, k) in self.inputs.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{k}")?;
        }
        write!(f, "))")
    }
}
