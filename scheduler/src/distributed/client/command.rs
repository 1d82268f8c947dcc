//! What the client's threads ask its connection to do.

use crate::distributed::ids::WorkerId;
use crate::distributed::messages::Outgoing;
use crate::distributed::WorkerInfo;
use brisk_core::{Key, Result, Value};
use tokio::sync::oneshot;

/// A request to the connection thread.
pub(super) enum Cmd {
    Send(Outgoing),
    WhoHas {
        keys: Vec<Key>,
        reply: oneshot::Sender<Result<WhoHas>>,
    },
    Gather {
        keys: Vec<Key>,
        reply: oneshot::Sender<Result<Vec<Value>>>,
    },
    Workers {
        reply: oneshot::Sender<Result<Vec<WorkerInfo>>>,
    },
    /// A request the scheduler answers with `Done` once the cluster did it.
    Request {
        what: Request,
        reply: oneshot::Sender<Result<()>>,
    },
    /// A question about the cluster, answered with JSON.
    Diagnostics {
        query: crate::distributed::messages::DiagnosticsQuery,
        reply: oneshot::Sender<Result<String>>,
    },
    Close,
}

/// The requests answered with `Done`.
pub(super) enum Request {
    Restart,
    Rebalance,
    RetireWorkers(Vec<String>),
}

/// Holders by key, and the number of workers.
pub(super) type WhoHas = (Vec<(Key, Vec<(WorkerId, String)>)>, u32);
