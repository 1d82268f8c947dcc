//! The one error enum of `brisk-collections`.
//!
//! Collection methods return [`brisk_core::Result`]; their errors are built here and
//! reach `brisk_core::Error` whole, as [`brisk_core::Error::External`], with the same
//! message. [`brisk_core::Error::external_source`] hands them back, to downcast to
//! [`Error`] and match on the variant and its fields.

use std::fmt::Display;

/// What can go wrong while building or computing a collection.
///
/// Variants carry their context as fields (the column and the columns present, the
/// two files whose schemas disagree, the file, line, column and value that does not
/// parse); the errors of Polars, ndarray, NetCDF, HDF5 and the file system are kept
/// whole in their `error` field.
///
/// A message says everything once: a variant that prints the error it wraps does
/// not also return it from [`std::error::Error::source`], so a reporter that prints
/// a chain of sources (`anyhow`'s `{:?}`) does not print the same text twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // the variants' docs describe their fields
pub enum Error {
    // ---------------------------------------------------------------- arguments
    /// An argument is outside what the method accepts; `message` says which and why.
    #[error("{message}")]
    InvalidArgument { message: String },

    /// An axis of a reduction is not an axis of the array.
    #[error("axis {axis} is out of bounds for an array of {ndim} axes")]
    AxisOutOfBounds { axis: isize, ndim: usize },

    /// An axis is named twice in a reduction.
    #[error("axis {axis} is repeated")]
    RepeatedAxis { axis: isize },

    /// An integer index is past the end of its axis.
    #[error("index {index} is out of bounds for axis {axis} with size {size}")]
    IndexOutOfBounds {
        index: i64,
        axis: usize,
        size: usize,
    },

    /// An operation needs the chunk sizes, which a boolean mask left unknown.
    #[error("{what} needs known chunk sizes; call compute_chunk_sizes() first")]
    UnknownChunkSizes { what: String },

    /// An operation is not defined on boolean arrays.
    #[error("{what} is not defined for boolean arrays; use astype first")]
    NotForBool { what: String },

    /// Arrays, chunks or blocks whose shapes or chunks do not fit together;
    /// `message` names both.
    #[error("{message}")]
    ShapeMismatch { message: String },

    /// A reduction with no identity (`min`, `max`) of a bag with no items.
    #[error("{reduction} of an empty bag")]
    EmptyBag { reduction: String },

    /// A reader was given no files.
    #[error("{function}: no files")]
    NoFiles { function: String },

    /// An item has no value under `key`.
    #[error("{function}: no key '{key}' in {item}")]
    MissingKey {
        function: String,
        key: String,
        item: String,
    },

    // ----------------------------------------------------------------- data
    /// A column is not in the frame; `present` lists the columns that are.
    #[error("no column '{column}'; the columns are {present:?}")]
    MissingColumn {
        column: String,
        present: Vec<String>,
    },

    /// An option of a reader names a column that the file does not have.
    #[error("{function}: no column '{column}' in {file} ({option})")]
    MissingColumnInFile {
        function: String,
        column: String,
        file: String,
        option: String,
    },

    /// Two files of one reader have different columns; `column` is the first that
    /// differs.
    #[error(
        "the schemas of {first_file} and {other_file} disagree at column '{column}': \
         columns {first_columns:?} versus {other_columns:?}"
    )]
    ColumnsMismatch {
        first_file: String,
        other_file: String,
        column: String,
        first_columns: Vec<String>,
        other_columns: Vec<String>,
    },

    /// Two files of one reader give a column types that do not widen to one.
    #[error(
        "the schemas of {first_file} and {other_file} disagree at column '{column}': \
         {first_dtype} versus {other_dtype}"
    )]
    SchemaMismatch {
        first_file: String,
        other_file: String,
        column: String,
        first_dtype: String,
        other_dtype: String,
    },

    /// A record of a text file that the reader refuses: `line` (counted from 1) is
    /// the line of the file it starts on, `column` and `value` the field it could
    /// not parse (`None` when the record as a whole is wrong, such as one with too
    /// many fields).
    #[error("{file} line {line}{}: {message}", fmt_column(.column))]
    Parse {
        file: String,
        line: usize,
        column: Option<String>,
        value: Option<String>,
        message: String,
    },

    /// A line of a JSON-lines file that is not JSON.
    #[error("malformed JSON at {}: {error}", place(.file, *.line, .block))]
    MalformedJson {
        file: String,
        line: usize,
        block: Option<u64>,
        error: sonic_rs::Error,
    },

    /// A line of a text file that is not UTF-8.
    #[error("invalid UTF-8 at {}: {error}", place(.file, *.line, .block))]
    InvalidUtf8 {
        file: String,
        line: usize,
        block: Option<u64>,
        error: std::string::FromUtf8Error,
    },

    /// A file has no dataset or variable of this name; `present` lists those it has,
    /// when known.
    #[error("{file}: no {kind} '{name}'{}", fmt_present(.present))]
    MissingVariable {
        file: String,
        kind: String,
        name: String,
        present: Option<Vec<String>>,
    },

    /// A file could not be read or written; `error` says why.
    #[error("{file}: {error}")]
    InFile {
        file: String,
        error: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    // -------------------------------------------------------------- sources
    /// A blockwise method was given an expression that reads across rows, which
    /// each partition would compute alone (one answer per partition, not the
    /// frame's).
    #[error(
        "{method} runs on each partition alone, but `{expression}` reads across rows \
         (an aggregation, cumulative, shift, rank, sort, window, head or unique), so it \
         would give one answer per partition instead of the frame's; {instead}"
    )]
    NotRowWise {
        method: &'static str,
        expression: String,
        instead: &'static str,
    },

    /// Aggregations whose results would share a column name.
    #[error(
        "{method}: the result would have more than one column named {}; name each \
         aggregation with `Agg::alias` (for example `Agg::mean(\"delay\").alias(\"delay_mean\")`)",
        quoted(.names)
    )]
    DuplicateColumns {
        method: &'static str,
        names: Vec<String>,
    },

    /// Polars failed; `context` says at what (empty when the message says enough).
    #[cfg(feature = "dataframe")]
    #[error("{}", with_context(.context, .error))]
    Polars {
        context: String,
        error: polars::error::PolarsError,
    },

    /// ndarray refused a shape or an index.
    #[error("{}", with_context(.context, .error))]
    Ndarray {
        context: String,
        error: ndarray::ShapeError,
    },

    /// The file system failed.
    #[error("{}", with_context(.context, .error))]
    Io {
        context: String,
        error: std::io::Error,
    },

    /// A NetCDF classic file could not be encoded.
    #[error("{}", with_context(.context, .error))]
    Netcdf {
        context: String,
        error: brisk_io::netcdf3::NcError,
    },

    /// JSON could not be written or read.
    #[error("{}", with_context(.context, .error))]
    Json {
        context: String,
        error: serde_json::Error,
    },

    // ---------------------------------------------------------------- graph
    /// A task's inputs or parameters do not fit its op: a graph built by hand, or
    /// a bug in Brisk.
    #[error("{message}")]
    MalformedTask { message: String },
}

/// Our errors are kept whole as [`brisk_core::Error::External`], with the same
/// message.
impl From<Error> for brisk_core::Error {
    fn from(e: Error) -> Self {
        brisk_core::Error::external(e)
    }
}

/// A bad argument: [`Error::InvalidArgument`], as a core error.
pub(crate) fn invalid(message: impl Display) -> brisk_core::Error {
    Error::InvalidArgument {
        message: message.to_string(),
    }
    .into()
}

/// Shapes that do not fit: [`Error::ShapeMismatch`], as a core error.
pub(crate) fn shape(message: impl Display) -> brisk_core::Error {
    Error::ShapeMismatch {
        message: message.to_string(),
    }
    .into()
}

/// A task that does not fit its op: [`Error::MalformedTask`], as a core error.
pub(crate) fn malformed(message: impl Display) -> brisk_core::Error {
    Error::MalformedTask {
        message: message.to_string(),
    }
    .into()
}

/// A Polars error with what was being done (`""` when its message says enough).
#[cfg(feature = "dataframe")]
pub(crate) fn polars(
    context: impl Display,
    source: polars::error::PolarsError,
) -> brisk_core::Error {
    Error::Polars {
        context: context.to_string(),
        error: source,
    }
    .into()
}

/// An ndarray error with what was being done (`""` when its message says enough).
pub(crate) fn ndarray(context: impl Display, source: ndarray::ShapeError) -> brisk_core::Error {
    Error::Ndarray {
        context: context.to_string(),
        error: source,
    }
    .into()
}

/// A file-system error with what was being done.
pub(crate) fn io(context: impl Display, source: std::io::Error) -> brisk_core::Error {
    Error::Io {
        context: context.to_string(),
        error: source,
    }
    .into()
}

/// An error reading or writing `file`, kept as the source.
pub(crate) fn in_file(
    file: impl Display,
    source: impl std::error::Error + Send + Sync + 'static,
) -> brisk_core::Error {
    Error::InFile {
        file: file.to_string(),
        error: Box::new(source),
    }
    .into()
}

/// Where line `line` (counted from 1) of `file` is, for messages, with the block's
/// start when the file was read in blocks.
fn place(file: &str, line: usize, block: &Option<u64>) -> String {
    match block {
        None => format!("{file} line {line}"),
        Some(offset) => format!("{file} line {line} of the block at byte {offset}"),
    }
}

fn fmt_column(column: &Option<String>) -> String {
    match column {
        Some(c) => format!(", column '{c}'"),
        None => String::new(),
    }
}

fn fmt_present(present: &Option<Vec<String>>) -> String {
    match present {
        Some(p) => format!("; the file has {p:?}"),
        None => String::new(),
    }
}

fn with_context(context: &str, source: &dyn Display) -> String {
    if context.is_empty() {
        source.to_string()
    } else {
        format!("{context}: {source}")
    }
}

/// `"a", "b"`: names as a message lists them.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn a_missing_column_lists_the_columns_and_comes_back_from_core() {
        let e = Error::MissingColumn {
            column: "nope".into(),
            present: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            r#"no column 'nope'; the columns are ["a", "b"]"#
        );
        let core = brisk_core::Error::from(e);
        assert_eq!(
            core.to_string(),
            r#"no column 'nope'; the columns are ["a", "b"]"#
        );
        let failed = core.in_task(&brisk_core::Key::new("select", &[0]), "select");
        match failed
            .external_source()
            .and_then(|s| s.downcast_ref::<Error>())
        {
            Some(Error::MissingColumn { column, present }) => {
                assert_eq!(column, "nope");
                assert_eq!(present, &["a", "b"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(feature = "dataframe")]
    #[test]
    fn a_polars_error_is_kept_and_said_once() {
        use std::error::Error as _;
        let polars_error = polars::error::PolarsError::ColumnNotFound("t".into());
        let message = polars_error.to_string();
        let e = Error::Polars {
            context: "join".into(),
            error: polars_error,
        };
        assert_eq!(e.to_string(), format!("join: {message}"));
        // The message holds the Polars error's, so it is not a source too.
        assert!(e.source().is_none());
        assert!(matches!(
            &e,
            Error::Polars {
                error: polars::error::PolarsError::ColumnNotFound(_),
                ..
            }
        ));
        let core = brisk_core::Error::from(e);
        let back = core
            .external_source()
            .and_then(|s| s.downcast_ref::<Error>());
        assert!(
            matches!(back, Some(Error::Polars { context, .. }) if context == "join"),
            "{core:?}"
        );
        let e = Error::Polars {
            context: String::new(),
            error: polars::error::PolarsError::ColumnNotFound("t".into()),
        };
        assert_eq!(e.to_string(), message);
    }

    #[test]
    fn a_parse_error_names_the_file_line_column_and_value() {
        let e = Error::Parse {
            file: "a.csv".into(),
            line: 3,
            column: None,
            value: None,
            message: "expected 2 fields, found 3".into(),
        };
        assert_eq!(e.to_string(), "a.csv line 3: expected 2 fields, found 3");
        let e = Error::Parse {
            file: "a.csv".into(),
            line: 3,
            column: Some("n".into()),
            value: Some("x".into()),
            message: "cannot parse 'x' as i64".into(),
        };
        assert_eq!(
            e.to_string(),
            "a.csv line 3, column 'n': cannot parse 'x' as i64"
        );
    }
}
