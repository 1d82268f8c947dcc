//! Questions put to the scheduler's thread from elsewhere in its process (the
//! dashboard's), and their answers.

use super::snapshot::StatusSnapshot;
use crate::distributed::messages::DiagnosticsQuery;
use tokio::sync::oneshot;

/// An answer.
#[derive(Debug)]
pub enum Answer {
    /// JSON text.
    Json(String),
    /// The cluster now (not turned into text on the scheduler's thread).
    Status(Box<StatusSnapshot>),
    /// Why there is no answer.
    Error(String),
}

/// A question and where its answer goes.
#[derive(Debug)]
pub struct Ask {
    /// The question.
    pub query: DiagnosticsQuery,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Answer>,
}

/// Puts questions to a scheduler's thread; false once the scheduler is gone.
pub type AskFn = std::sync::Arc<dyn Fn(Ask) -> bool + Send + Sync>;
