//! The one error enum of `brisk-core`.

use crate::key::Key;
use std::sync::Arc;

/// Everything that can go wrong while building, ordering or running a task graph.
///
/// Messages say what failed and where (the key, the op, the type tag), and what to do
/// about it where there is something to do. A message says everything once: the
/// wrappers [`Error::Task`] and [`Error::InOp`] print the error they wrap (first,
/// with the task after it) and so do not return it again from
/// [`std::error::Error::source`]; [`Error::root_cause`] and
/// [`Error::external_source`] reach it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // the variants' docs describe their fields
pub enum Error {
    /// The graph has a dependency cycle; `keys` are the tasks on the cycle, in order.
    #[error("the task graph has a cycle: {}", fmt_cycle(.keys))]
    Cycle { keys: Vec<Key> },

    /// A task names an input that no layer of the graph produces.
    #[error("task {key} depends on {dependency}, which is not in the graph")]
    MissingDependency { key: Key, dependency: Key },

    /// A key was requested that no layer of the graph produces.
    #[error("key {key} was requested but is not in the graph")]
    MissingKey { key: Key },

    /// No op is registered under this name in this executable.
    #[error(
        "unknown op '{name}': no function is registered under this name in this executable; \
         mark the function with #[brisk::task] and make sure the crate that defines it is linked"
    )]
    UnknownOp { name: String },

    /// The bound parameters of an op could not be encoded or decoded.
    #[error("op '{op}': bad parameters: {message}")]
    OpParams { op: String, message: String },

    /// The op was built from a closure and cannot be rebuilt in another process.
    #[error(
        "task {key} runs the closure '{op}', which only exists in this process; \
         register the function with #[brisk::task] to send it to other processes"
    )]
    LocalOnly { key: Key, op: String },

    /// A value could not be tokenized deterministically.
    #[error("cannot tokenize {what}: {reason}")]
    Tokenize { what: String, reason: String },

    /// A value could not be decoded from its frames.
    #[error("cannot decode a value of type '{type_tag}': {reason}")]
    Decode { type_tag: String, reason: String },

    /// A value could not be encoded into frames.
    #[error("cannot encode a value of type '{type_tag}': {reason}")]
    Encode { type_tag: String, reason: String },

    /// A task's input or output had another type than the op expects.
    #[error("type mismatch: expected {expected}, found {found}")]
    TypeMismatch { expected: String, found: String },

    /// The op was called with the wrong number of inputs.
    #[error("op '{op}' takes {expected} inputs but was given {found}")]
    Arity {
        op: String,
        expected: usize,
        found: usize,
    },

    /// A user function returned an error.
    #[error("{message}")]
    User { message: String },

    /// A user function panicked.
    #[error("panicked: {message}")]
    Panic { message: String },

    /// One op of a fused chain failed; `error` says why, and the op follows it.
    #[error("{error} (in op '{op}')")]
    InOp { op: String, error: Box<Error> },

    /// A task failed: `error` says why, and the task follows it as context, so that
    /// the message opens with what went wrong.
    #[error("{error} (in task {key}, op '{op}')")]
    Task {
        key: Key,
        op: String,
        error: Box<Error>,
    },

    /// No executor is available to run a graph.
    #[error(
        "no scheduler is linked into this executable: depend on `brisk` (or `brisk-scheduler`) \
         or pass an executor explicitly"
    )]
    NoExecutor,

    /// An error of another Brisk crate (reading or writing data in `brisk-io`, talking
    /// to other processes in `brisk-scheduler`), kept whole: its message is the
    /// source's, and [`Error::external_source`] hands it back to be downcast to that
    /// crate's error type.
    #[error(transparent)]
    External {
        source: Arc<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// Something else, with a message saying what.
    #[error("{0}")]
    Other(String),
}

/// The result type of `brisk-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A user error from anything printable.
    pub fn user(message: impl std::fmt::Display) -> Self {
        Error::User {
            message: message.to_string(),
        }
    }

    /// The error of another crate, kept whole as [`Error::External`].
    ///
    /// ```
    /// use brisk_core::Error;
    /// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file: a.csv");
    /// let e = Error::external(io);
    /// assert_eq!(e.to_string(), "no such file: a.csv");
    /// let back = e.external_source().unwrap().downcast_ref::<std::io::Error>().unwrap();
    /// assert_eq!(back.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn external(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::External {
            source: Arc::new(source),
        }
    }

    /// The other crate's error of an [`Error::External`], below any [`Error::Task`]
    /// wrappers, to downcast to its type.
    pub fn external_source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self.root_cause() {
            Error::External { source } => Some(source.as_ref()),
            _ => None,
        }
    }

    /// Wraps `self` as the failure of task `key` running `op`.
    pub fn in_task(self, key: &Key, op: &str) -> Self {
        Error::Task {
            key: key.clone(),
            op: op.to_string(),
            error: Box::new(self),
        }
    }

    /// The innermost error, below any [`Error::Task`] wrappers.
    pub fn root_cause(&self) -> &Error {
        match self {
            Error::Task { error, .. } | Error::InOp { error, .. } => error.root_cause(),
            other => other,
        }
    }
}

fn fmt_cycle(keys: &[Key]) -> String {
    let mut s: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    if let Some(first) = keys.first() {
        s.push(first.to_string());
    }
    s.join(" -> ")
}

/// Returns early with an error built from the arguments.
///
/// ```
/// use brisk_core::{bail, Error, Result};
/// fn check(n: usize) -> Result<()> {
///     if n == 0 {
///         bail!(Error::Other("n must be positive".into()));
///     }
///     Ok(())
/// }
/// assert!(check(0).is_err());
/// ```
#[macro_export]
macro_rules! bail {
    ($err:expr) => {
        return Err($err.into())
    };
}

/// Returns early with the error unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $err:expr) => {
        if !$cond {
            return Err($err.into());
        }
    };
}
