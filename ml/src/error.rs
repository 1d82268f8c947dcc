//! The one error enum of `brisk-ml`.
//!
//! Every variant says what is wrong and where: the parameter and the parameters
//! that exist, the two lengths that differ, the row and column of a NaN, the fold
//! with one class. Errors of the task graph (a lost worker, a missing key) come back
//! whole as [`Error::Graph`]; errors of this crate reach `brisk_core::Error` as
//! [`brisk_core::Error::External`], so a search that fails inside a task still
//! hands back this enum to match on.

/// What can go wrong while building, fitting or scoring a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // the variants' docs describe their fields
pub enum Error {
    /// A parameter name that the estimator (or no step of a pipeline) has.
    #[error("{owner} has no parameter '{name}'; its parameters are: {}", known.join(", "))]
    UnknownParameter {
        owner: String,
        name: String,
        known: Vec<String>,
    },

    /// A parameter value the estimator does not accept.
    #[error("parameter '{name}' of {owner}: {message}")]
    InvalidParameter {
        owner: String,
        name: String,
        message: String,
    },

    /// A search over no candidates (an empty grid, or a list of values with none).
    #[error("the parameter grid is empty: {message}")]
    EmptyGrid { message: String },

    /// `X` and `y` hold different numbers of samples.
    #[error("X has {x_rows} rows but y has {y_len} values")]
    LengthMismatch { x_rows: usize, y_len: usize },

    /// A value that is NaN or infinite in the input.
    #[error("{what} holds a non-finite value ({value}) at row {row}, column {column}")]
    NotFinite {
        what: String,
        row: usize,
        column: usize,
        value: f64,
    },

    /// A classifier given (or a fold holding) fewer than two classes.
    #[error("{where_}: a classifier needs at least two classes, found only {class}")]
    OneClass { where_: String, class: f64 },

    /// Too few samples for what was asked (more folds than samples, an empty input).
    #[error("{message}")]
    TooFewSamples { message: String },

    /// A matrix whose number of columns differs from what the model was fit on.
    #[error("{owner} was fit on {expected} features, X has {found}")]
    FeatureMismatch {
        owner: String,
        expected: usize,
        found: usize,
    },

    /// A step used for what it cannot do (`transform` on a classifier, say).
    #[error("{kind} cannot {what}")]
    Unsupported { kind: String, what: String },

    /// An estimator kind that this executable does not register.
    #[error(
        "no estimator is registered as '{kind}' (register it with brisk_ml::register_estimator!)"
    )]
    UnknownEstimator { kind: String },

    /// Two registrations of one name in this executable.
    #[error("{count} registrations of the {what} '{name}': each must be registered once")]
    DuplicateRegistration {
        what: String,
        name: String,
        count: usize,
    },

    /// A search without `scoring=` whose last step has no default score.
    #[error("the last step ({kind}) is a {role}: give the search a scoring")]
    NoDefaultScoring { kind: String, role: String },

    /// A scoring name that is neither built in nor registered.
    #[error("unknown scoring '{name}'; known: {}", known.join(", "))]
    UnknownScorer { name: String, known: Vec<String> },

    /// A decomposition or solve that did not succeed.
    #[error("{what} failed: {message}")]
    Numerical { what: String, message: String },

    /// Model bytes that do not decode.
    #[error("cannot decode a fitted {kind}: {message}")]
    Decode { kind: String, message: String },

    /// A model that does not encode.
    #[error("cannot encode a fitted {kind}: {message}")]
    Encode { kind: String, message: String },

    /// A file that cannot be read as a data set.
    #[error("{path}: {message}")]
    Data { path: String, message: String },

    /// An error of Polars while building a table of results.
    #[error("building {what}: {error}")]
    Polars {
        what: String,
        #[source]
        error: polars::error::PolarsError,
    },

    /// An error of the task graph or its scheduler.
    #[error(transparent)]
    Graph(#[from] brisk_core::Error),
}

/// The result type of `brisk-ml`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for brisk_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Graph(inner) => inner,
            other => brisk_core::Error::external(other),
        }
    }
}

impl Error {
    pub(crate) fn invalid(owner: &str, name: &str, message: impl std::fmt::Display) -> Error {
        Error::InvalidParameter {
            owner: owner.to_string(),
            name: name.to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn numerical(what: &str, message: impl std::fmt::Display) -> Error {
        Error::Numerical {
            what: what.to_string(),
            message: message.to_string(),
        }
    }
}
