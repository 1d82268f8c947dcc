//! The one error enum of `brisk-io`.

/// What can go wrong while finding, reading or writing data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // the variants' docs describe their fields
pub enum Error {
    /// The URL could not be understood.
    #[error("bad URL '{url}': {reason}")]
    BadUrl { url: String, reason: String },

    /// A glob pattern matched nothing.
    #[error("no files match '{pattern}'")]
    NoMatch { pattern: String },

    /// The object or file does not exist.
    #[error("not found: {url}")]
    NotFound { url: String },

    /// The store failed (network, permissions, missing bucket...).
    #[error("cannot read {url}: {reason}")]
    Store { url: String, reason: String },

    /// A compressed file could not be decompressed (truncated or corrupt).
    #[error("cannot decompress {url} ({compression}): {reason}")]
    Decompress {
        url: String,
        compression: &'static str,
        reason: String,
    },

    /// A block was asked for with impossible bounds.
    #[error("bad block of {url}: {reason}")]
    BadBlock { url: String, reason: String },

    /// A file's contents are not in the format expected.
    #[error("{url}: {reason}")]
    Format { url: String, reason: String },

    /// An error from the core crate.
    #[error(transparent)]
    Core(#[from] brisk_core::Error),
}

/// The result type of `brisk-io`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Maps an object-store error for `url`, keeping "not found" apart.
    pub(crate) fn store(url: &str, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound {
                url: url.to_string(),
            },
            other => Error::Store {
                url: url.to_string(),
                reason: other.to_string(),
            },
        }
    }
}

/// A core error comes back as itself; any other is kept whole as
/// [`brisk_core::Error::External`], with the same message.
impl From<Error> for brisk_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(c) => c,
            other => brisk_core::Error::external(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn io_errors_reach_core_whole_with_their_message() {
        let e = Error::NoMatch {
            pattern: "data/*.csv".into(),
        };
        let message = e.to_string();
        let core = brisk_core::Error::from(e);
        assert_eq!(core.to_string(), message);
        let failed = core.in_task(&brisk_core::Key::new("read", &[0]), "read");
        let back = failed
            .external_source()
            .and_then(|s| s.downcast_ref::<Error>());
        assert!(matches!(back, Some(Error::NoMatch { .. })), "{failed:?}");
    }

    #[test]
    fn core_errors_come_back_as_themselves() {
        let core = brisk_core::Error::from(Error::Core(brisk_core::Error::NoExecutor));
        assert!(matches!(core, brisk_core::Error::NoExecutor), "{core:?}");
    }
}
