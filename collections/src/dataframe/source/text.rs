//! A block of a CSV or NDJSON file as a partition's source: its bytes (aligned on
//! lines, read into kept buffers for local files), parsed into a LazyFrame by
//! [`csv_scan`] or Polars' readers, or its rows counted without parsing.
//!
//! A parser's error is explained (file, line, column and value) in `diagnose.rs`.

use super::file_ref::FileRef;
use super::records::{self, preamble_bytes};
use crate::dataframe::csv_scan;
use crate::dataframe::dates;
use crate::dataframe::schema::to_schema;
use brisk_core::Result;
use brisk_io::blocks::{self, Block};
use brisk_io::compression::Compression;
use polars::prelude as pl;
use polars::prelude::{LazyFileListReader, SerReader};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The parser settings a CSV block needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CsvParse {
    /// Columns read as strings and parsed into datetimes by [`dates`].
    pub dates: Vec<String>,
    pub has_header: bool,
    pub separator: u8,
    pub skip_rows: usize,
    pub null_values: Vec<String>,
}

/// The text formats read by blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum TextFormat {
    Csv(CsvParse),
    Ndjson,
}

/// One block of a CSV or NDJSON file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TextBlock {
    pub file: FileRef,
    pub offset: u64,
    pub length: Option<u64>,
    pub compression: Compression,
    pub format: TextFormat,
    pub schema: Vec<(String, pl::DataType)>,
}

/// Buffers that local CSV blocks are read into, kept for the next block so that its
/// bytes land in memory already mapped (a fresh 64 MB buffer per block cost a fifth
/// of the CPU time in the kernel zeroing its pages). A buffer is taken out while in
/// use, so a task nested inside another on the same thread takes another one.
static BLOCK_BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Buffers kept at most (blocks read at once, for two to four threads).
const KEPT_BUFFERS: usize = 4;

/// Buffers larger than this (blocks far above the default 64 MB) are not kept.
const MAX_KEPT_BYTES: usize = 160 * 1024 * 1024;

impl TextBlock {
    /// Runs `f` on the block's bytes, aligned on lines. An uncompressed block of a
    /// local file is read into a kept buffer ([`BLOCK_BUFFERS`]).
    pub(crate) fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> Result<R>) -> Result<R> {
        let (Compression::None, Some(length), Some(path)) =
            (self.compression, self.length, self.file.local_path())
        else {
            return f(&self.bytes()?);
        };
        let (_, info) = self.file.info()?;
        let mut buf = BLOCK_BUFFERS
            .lock()
            .ok()
            .and_then(|mut kept| kept.pop())
            .unwrap_or_default();
        let range = blocks::read_local_aligned(
            std::path::Path::new(&path),
            &info,
            self.offset,
            length,
            b"\n",
            &mut buf,
        )?;
        let out = f(&buf[range]);
        if buf.capacity() <= MAX_KEPT_BYTES {
            if let Ok(mut kept) = BLOCK_BUFFERS.lock() {
                if kept.len() < KEPT_BUFFERS {
                    kept.push(buf);
                }
            }
        }
        out
    }

    /// The block's bytes, aligned on lines.
    pub(crate) fn bytes(&self) -> Result<Vec<u8>> {
        let (loc, info) = self.file.info()?;
        let block = Block {
            file: info,
            offset: self.offset,
            length: self.length,
            compression: self.compression,
        };
        Ok(blocks::read(loc.store.as_ref(), &block, b"\n")?)
    }

    /// The block as a LazyFrame over the rows it holds, reading only the columns in
    /// `columns` (`None`: all) when the format allows it.
    ///
    /// A CSV block with no quote byte and only integer, float, string and datetime
    /// columns is read by [`csv_scan`], which finds fields a word at a time and parses
    /// only the projected ones, straight into columns. Any other block, or one that
    /// reader declines (a ragged line, a value it does not parse), goes to Polars'
    /// eager reader, whose result or error is the reference: its line splitter is
    /// quote-aware and several times faster on stable Rust than the streaming scan's
    /// (which tracks two quote states per byte), and a block is already a bounded
    /// piece of the file, so nothing is gained by streaming it.
    pub(crate) fn lazy(&self, columns: Option<&BTreeSet<String>>) -> Result<pl::LazyFrame> {
        use pl::IntoLazy;
        match &self.format {
            TextFormat::Csv(p) => {
                let first = self.offset == 0;
                let projection = columns.map(|wanted| self.projection(wanted));
                // Polars reading a few columns does not look at the others' fields.
                let partial = projection
                    .as_ref()
                    .is_some_and(|names| names.len() < self.schema.len());
                let all: Vec<pl::PlSmallStr>;
                let wanted = match &projection {
                    Some(names) => names.as_slice(),
                    None => {
                        all = self.schema.iter().map(|(n, _)| n.as_str().into()).collect();
                        &all
                    }
                };
                let layout = csv_scan::Layout {
                    schema: &self.schema,
                    projection: wanted,
                    dates: &p.dates,
                    separator: p.separator,
                    header: first && p.has_header,
                    skip_rows: if first { p.skip_rows } else { 0 },
                    null_values: &p.null_values,
                };
                self.with_bytes(|bytes| {
                    // The fast reader parses the datetimes itself, and declines a
                    // block with a record of the wrong width.
                    if let Some(df) = csv_scan::read(bytes, &layout) {
                        return Ok(df.lazy());
                    }
                    if ends_in_lone_quote(bytes, p.separator) {
                        return Err(self.unclosed_quote(bytes));
                    }
                    if partial && self.has_extra_fields(p, bytes) {
                        // The same error as reading every column, or none.
                        if let Err(e) = self
                            .polars_csv(p, bytes, None, first)
                            .and_then(|lf| lf.collect())
                        {
                            return Err(self.explain_in(e, bytes, None));
                        }
                    }
                    self.polars_csv(p, bytes, projection.as_deref(), first)
                        .map_err(|e| self.explain_in(e, bytes, projection.as_deref()))
                })
            }
            TextFormat::Ndjson => {
                let bytes = self.bytes()?;
                self.polars_ndjson(bytes)
                    .map_err(|e| self.explain(e, columns))
            }
        }
    }

    /// Polars' reading of CSV `bytes` with the block's settings: the columns of
    /// `projection` (`None`: all), datetime columns parsed by [`dates`] (lazily:
    /// their errors come when the frame is collected). `first`: the bytes start the
    /// file, with its skipped lines and header.
    pub(crate) fn polars_csv(
        &self,
        p: &CsvParse,
        bytes: &[u8],
        projection: Option<&[pl::PlSmallStr]>,
        first: bool,
    ) -> pl::PolarsResult<pl::LazyFrame> {
        use pl::IntoLazy;
        let mut read_schema = to_schema(&self.schema);
        for d in &p.dates {
            read_schema.with_column(d.as_str().into(), pl::DataType::String);
        }
        if ends_in_lone_quote(bytes, p.separator) {
            // Polars (0.55) slices such a field out of bounds when null values
            // are set; it is malformed either way.
            return Err(pl::PolarsError::ComputeError(
                "the data ends inside a quoted field: its last field is a lone quote (\")".into(),
            ));
        }
        let parse = pl::CsvParseOptions::default()
            .with_separator(p.separator)
            .with_null_values(null_values(&p.null_values));
        // A block may hold no record at all (one line longer than the block).
        let df = pl::CsvReadOptions::default()
            .with_raise_if_empty(false)
            .with_has_header(first && p.has_header)
            .with_skip_rows(if first { p.skip_rows } else { 0 })
            .with_schema(Some(Arc::new(read_schema)))
            .with_columns(projection.map(Arc::from))
            .with_parse_options(parse)
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()?;
        let dates: Vec<pl::Expr> = p
            .dates
            .iter()
            .filter(|d| projection.is_none_or(|names| names.iter().any(|n| n == d.as_str())))
            .map(|d| dates::parse_expr(d))
            .collect();
        let lf = df.lazy();
        Ok(if dates.is_empty() {
            lf
        } else {
            lf.with_columns(dates)
        })
    }

    /// Polars' reading of NDJSON `bytes` with the block's schema.
    pub(crate) fn polars_ndjson(&self, bytes: Vec<u8>) -> pl::PolarsResult<pl::LazyFrame> {
        let sources = pl::ScanSources::Buffers(Arc::new([polars_buffer::Buffer::from(bytes)]));
        pl::LazyJsonLineReader::new_with_sources(sources)
            .with_schema(Some(Arc::new(to_schema(&self.schema))))
            .finish()
    }

    /// Whether a record of this CSV block (after a file's skipped lines and header)
    /// has more fields than the file has columns.
    fn has_extra_fields(&self, p: &CsvParse, bytes: &[u8]) -> bool {
        let body = if self.offset == 0 {
            let preamble = preamble_bytes(bytes, p.skip_rows + usize::from(p.has_header));
            usize::try_from(preamble)
                .ok()
                .and_then(|at| bytes.get(at..))
                .unwrap_or(&[])
        } else {
            bytes
        };
        records::has_extra_fields(body, p.separator, self.schema.len())
    }

    /// The block's columns in `wanted`, in file order (at least one: a row count
    /// needs no column, but the reader needs one to count).
    pub(crate) fn projection(&self, wanted: &BTreeSet<String>) -> Vec<pl::PlSmallStr> {
        let mut names: Vec<pl::PlSmallStr> = self
            .schema
            .iter()
            .filter(|(n, _)| wanted.contains(n))
            .map(|(n, _)| n.as_str().into())
            .collect();
        if names.is_empty() {
            names.extend(self.schema.first().map(|(n, _)| n.as_str().into()));
        }
        names
    }

    /// The rows of a CSV block, counted without parsing (`None` for other formats,
    /// and for a block that must be parsed): records outside quotes, less the
    /// skipped rows and the header of a file's first block. A record with more
    /// fields than the file has columns is an error when the block is parsed, so
    /// such a block is parsed instead of counted, and the count gives the same error.
    pub(crate) fn count_rows(&self) -> Result<Option<usize>> {
        let TextFormat::Csv(p) = &self.format else {
            return Ok(None);
        };
        let first = self.offset == 0;
        self.with_bytes(|b| {
            // Polars reads every block as a file: it drops a byte-order mark at
            // the start, and blank lines after it before a header (such files are
            // parsed).
            let b = b.strip_prefix(BYTE_ORDER_MARK).unwrap_or(b);
            if first && p.has_header && matches!(b.first(), Some(b'\n' | b'\r')) {
                return Ok(None);
            }
            if self.has_extra_fields(p, b) {
                return Ok(None);
            }
            let records = brisk_io::records::count_records(b, b'\n', Some(b'"'));
            let skipped = if first {
                p.skip_rows + usize::from(p.has_header)
            } else {
                0
            };
            Ok(Some(records.saturating_sub(skipped)))
        })
    }
}

/// UTF-8's byte-order mark, which readers skip at the start of a file.
const BYTE_ORDER_MARK: &[u8] = "\u{feff}".as_bytes();

/// Whether CSV `bytes` end in a field that is a lone quote (`1,"` at the end of
/// the data): a quoted field that opens and never closes. (A quote after a line
/// break may also close a quoted field: it opens one only when the quotes before
/// it are balanced.)
pub(crate) fn ends_in_lone_quote(bytes: &[u8], separator: u8) -> bool {
    let Some((b'"', before)) = bytes.split_last() else {
        return false;
    };
    let starts_field =
        matches!(before.last(), None | Some(b'\n' | b'\r')) || before.last() == Some(&separator);
    starts_field && memchr::memchr_iter(b'"', before).count() % 2 == 0
}

/// Polars' null values for every column (`None` when there are none).
pub(crate) fn null_values(v: &[String]) -> Option<pl::NullValues> {
    (!v.is_empty())
        .then(|| pl::NullValues::AllColumns(v.iter().map(|s| s.as_str().into()).collect()))
}
