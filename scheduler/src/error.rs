//! The one error enum of `brisk-scheduler`'s distributed parts.

/// What can go wrong between Brisk processes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // the variants' docs describe their fields
pub enum Error {
    /// A message broke the wire format (hostile, corrupt or from another program).
    #[error("malformed message: {reason}")]
    Malformed { reason: String },

    /// A message or frame is larger than this process accepts.
    #[error("{what} of {size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },

    /// The connection ended inside a message.
    #[error("the connection closed after {got} of {needed} bytes of a message")]
    Truncated { needed: u64, got: u64 },

    /// The peer is not a Brisk process of a compatible version, or lacks the token.
    #[error("handshake refused: {reason}")]
    Handshake { reason: String },

    /// A peer did not do its part in time (connect, handshake).
    #[error("{what} timed out after {after:?}")]
    TimedOut {
        what: String,
        after: std::time::Duration,
    },

    /// Options that cannot be used as given (for example, open to anyone).
    #[error("{reason}")]
    Config { reason: String },

    /// A message header could not be encoded or decoded.
    #[error("message header: {0}")]
    Header(String),

    /// A spilled value could not be written or read back.
    #[error("the spill file {} of {what}: {reason}", path.display())]
    Spill {
        /// Whose value: `a value`, or the key.
        what: String,
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// The operating system refused (connect, read, write...).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The result type of the distributed parts.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Kept whole (the message unchanged, the source chain intact): callers can
/// downcast it back with [`brisk_core::Error::external_source`].
impl From<Error> for brisk_core::Error {
    fn from(e: Error) -> Self {
        brisk_core::Error::external(e)
    }
}
