//! DataFrame readers: CSV and NDJSON cut into byte blocks, Parquet by row group.
//!
//! The schema is found from a sample at the start of each file (never the whole
//! data), and every file's sample must agree with the first file's: a disagreement
//! is an error naming both files and the column.

use super::csv_scan;
use super::diagnose;
use super::plan::{from_schema, to_schema, Plan, Source, Step};
use super::DataFrame;
use brisk_core::{Error, Result};
use brisk_io::blocks::{self, Block};
use brisk_io::compression::Compression;
use brisk_io::glob::{self, FileInfo};
use brisk_io::objects;
use brisk_io::url::{parse, StoreOptions};
use polars::prelude as pl;
use polars::prelude::{LazyFileListReader, SerReader};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Bytes read from the start of each file to find its schema.
const SAMPLE_BYTES: u64 = 256 * 1024;

/// How to read CSV files (Dask's `read_csv` keywords, Polars' parser).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// The first line (after `skip_rows`) names the columns. Default true.
    pub has_header: bool,
    /// Field separator. Default `,`.
    pub separator: u8,
    /// Lines to skip at the start of every file, before the header.
    pub skip_rows: usize,
    /// Strings read as null (e.g. `"NA"`), in every column.
    pub null_values: Vec<String>,
    /// Columns parsed as datetimes (microseconds).
    pub parse_dates: Vec<String>,
    /// Column types that override inference.
    pub dtypes: Vec<(String, pl::DataType)>,
    /// Cut uncompressed files into blocks of about this many bytes (`None`: one
    /// partition per file). Compressed files are one partition each.
    pub blocksize: Option<u64>,
    /// Compression of every file (`None`: from each file's extension).
    pub compression: Option<Compression>,
    /// Store settings (S3 endpoint, credentials...).
    pub store: StoreOptions,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            has_header: true,
            separator: b',',
            skip_rows: 0,
            null_values: Vec::new(),
            parse_dates: Vec::new(),
            dtypes: Vec::new(),
            blocksize: Some(64 * 1024 * 1024),
            compression: None,
            store: StoreOptions::default(),
        }
    }
}

/// A file as a task names it: URL plus what identifies its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileRef {
    pub url: String,
    pub size: u64,
    pub modified_ns: i128,
    pub e_tag: Option<String>,
    pub store: StoreOptions,
}

impl FileRef {
    fn new(f: &FileInfo, store: &StoreOptions) -> FileRef {
        FileRef {
            url: f.url.clone(),
            size: f.size,
            modified_ns: f.modified_ns,
            e_tag: f.e_tag.clone(),
            store: store.clone(),
        }
    }

    fn info(&self) -> Result<(brisk_io::url::Location, FileInfo)> {
        let loc = parse(&self.url, &self.store)?;
        let path = loc.object_path(&loc.path)?;
        let info = FileInfo {
            url: self.url.clone(),
            path,
            size: self.size,
            modified_ns: self.modified_ns,
            e_tag: self.e_tag.clone(),
        };
        Ok((loc, info))
    }

    /// The local path, for files on local disk.
    pub(crate) fn local_path(&self) -> Option<String> {
        let loc = parse(&self.url, &self.store).ok()?;
        (loc.root == "file://").then(|| loc.url(&loc.path))
    }
}

/// The parser settings a CSV block needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CsvParse {
    /// Columns read as strings and parsed into datetimes by [`super::dates`].
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
        let schema = Arc::new(to_schema(&self.schema));
        match &self.format {
            TextFormat::Csv(p) => {
                let first = self.offset == 0;
                let mut read_schema = (*schema).clone();
                for d in &p.dates {
                    read_schema.with_column(d.as_str().into(), pl::DataType::String);
                }
                let projection = columns.map(|wanted| self.projection(wanted));
                let dates: Vec<&String> = p
                    .dates
                    .iter()
                    .filter(|d| {
                        projection
                            .as_ref()
                            .is_none_or(|names| names.iter().any(|n| n == d.as_str()))
                    })
                    .collect();
                let parse = pl::CsvParseOptions::default()
                    .with_separator(p.separator)
                    .with_null_values(null_values(&p.null_values));
                // A block may hold no record at all (one line longer than the block).
                let options = pl::CsvReadOptions::default()
                    .with_raise_if_empty(false)
                    .with_has_header(first && p.has_header)
                    .with_skip_rows(if first { p.skip_rows } else { 0 })
                    .with_schema(Some(Arc::new(read_schema)))
                    .with_columns(projection.clone().map(Arc::from))
                    .with_parse_options(parse);
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
                let (df, parsed) = self.with_bytes(|bytes| {
                    if let Some(df) = csv_scan::read(bytes, &layout) {
                        return Ok((df, true));
                    }
                    options
                        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
                        .finish()
                        .map(|df| (df, false))
                        .map_err(|e| self.explain(e))
                })?;
                let lf = df.lazy();
                // The fast reader parses the datetimes itself.
                let dates = if parsed { Vec::new() } else { dates };
                Ok(if dates.is_empty() {
                    lf
                } else {
                    lf.with_columns(
                        dates
                            .iter()
                            .map(|d| super::dates::parse_expr(d))
                            .collect::<Vec<_>>(),
                    )
                })
            }
            TextFormat::Ndjson => {
                let bytes = self.bytes()?;
                let sources =
                    pl::ScanSources::Buffers(Arc::new([polars_buffer::Buffer::from(bytes)]));
                pl::LazyJsonLineReader::new_with_sources(sources)
                    .with_schema(Some(schema))
                    .finish()
                    .map_err(|e| self.explain(e))
            }
        }
    }

    /// The block's columns in `wanted`, in file order (at least one: a row count
    /// needs no column, but the reader needs one to count).
    fn projection(&self, wanted: &BTreeSet<String>) -> Vec<pl::PlSmallStr> {
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

    /// The rows of a CSV block, counted without parsing (`None` for other formats):
    /// records outside quotes, less the skipped rows and the header of a file's
    /// first block. Like Polars' own row count, it does not check the fields.
    pub(crate) fn count_rows(&self) -> Result<Option<usize>> {
        let TextFormat::Csv(p) = &self.format else {
            return Ok(None);
        };
        let first = self.offset == 0;
        self.with_bytes(|b| {
            // Polars drops blank lines before a header: such files are parsed.
            if first && p.has_header && matches!(b.first(), Some(b'\n' | b'\r')) {
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

    /// Where line `line` (0-based within the block) is, for messages.
    pub(crate) fn place(&self, line: usize) -> String {
        if self.offset == 0 {
            format!("{} line {}", self.file.url, line + 1)
        } else {
            format!(
                "{} line {} of the block at byte {}",
                self.file.url,
                line + 1,
                self.offset
            )
        }
    }

    /// Turns a parser error into one naming the file and line, by looking for the
    /// first bad line of the block.
    pub(crate) fn explain(&self, e: pl::PolarsError) -> Error {
        let found = self
            .bytes()
            .ok()
            .and_then(|bytes| diagnose::first_bad_line(self, &bytes));
        match found {
            Some((line, what)) => Error::user(format!("{}: {what}", self.place(line))),
            None => Error::user(format!("reading {}: {e}", self.file.url)),
        }
    }
}

fn null_values(v: &[String]) -> Option<pl::NullValues> {
    (!v.is_empty())
        .then(|| pl::NullValues::AllColumns(v.iter().map(|s| s.as_str().into()).collect()))
}

/// A Parquet file, or rows `offset..offset + rows` of it (one row group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ParquetPart {
    pub file: FileRef,
    pub rows: Option<(u64, u64)>,
    /// A reduction may read this file in one scan with others of the same frame
    /// ([`ParquetOptions::aggregate_files`]).
    pub aggregate_files: bool,
}

impl ParquetPart {
    pub(crate) fn lazy(&self) -> Result<pl::LazyFrame> {
        let lf = scan_parquet(&self.file)?;
        Ok(match self.rows {
            Some((offset, rows)) => lf.slice(offset as i64, rows as pl::IdxSize),
            None => lf,
        })
    }
}

/// How to read Parquet files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParquetOptions {
    /// One partition per row group instead of per file (Dask's
    /// `split_row_groups`). Per file (the default), filters reach Polars' reader,
    /// which skips row groups by their statistics; per row group, only column
    /// selections do (a filter cannot move below the row-group slice).
    pub split_row_groups: bool,
    /// Let a reduction that reads few of the columns scan several whole files in one
    /// task (Dask's fused Parquet reads): `⌈columns / columns read⌉` files, at most
    /// `⌈√files⌉`, when the steps before it are row-wise. Fewer tasks and one Polars
    /// scan over several files: 5-8 % faster on the taxi queries of
    /// `brisk-bench dataframe`, but Polars then opens several files of each scan at
    /// once, and peak memory there is a quarter higher. Local files only: an object
    /// store's files are fetched whole, so several at once would be held in memory
    /// together. Off by default.
    pub aggregate_files: bool,
    /// Store settings (S3 endpoint, credentials...).
    pub store: StoreOptions,
}

fn scan_parquet(file: &FileRef) -> Result<pl::LazyFrame> {
    scan_parquet_files(std::slice::from_ref(file))
}

/// One scan over whole Parquet files, in order (their schemas must match).
pub(crate) fn scan_parquet_files(files: &[FileRef]) -> Result<pl::LazyFrame> {
    let mut args = pl::ScanArgsParquet::default();
    // Brisk expands globs and cuts the files itself: no second expansion (a file
    // whose name holds `[` or `*` is that file), no hive partitions from paths.
    args.glob = false;
    args.hive_options.enabled = Some(false);
    let named = |e: pl::PolarsError| {
        let urls: Vec<&str> = files.iter().map(|f| f.url.as_str()).collect();
        Error::user(format!("reading {}: {e}", urls.join(", ")))
    };
    let paths: Option<Vec<pl::PlRefPath>> = files
        .iter()
        .map(|f| f.local_path().map(pl::PlRefPath::new))
        .collect();
    let sources = match paths {
        Some(paths) => pl::ScanSources::Paths(paths.into_iter().collect()),
        None => {
            let mut buffers = Vec::with_capacity(files.len());
            for f in files {
                buffers.push(polars_buffer::Buffer::from(objects::get(&f.url, &f.store)?));
            }
            pl::ScanSources::Buffers(buffers.into())
        }
    };
    pl::LazyFrame::scan_parquet_sources(sources, args).map_err(named)
}

fn expand(urls: &[&str], store: &StoreOptions) -> Result<Vec<FileInfo>> {
    let mut files = Vec::new();
    for url in urls {
        files.extend(glob::expand(url, store)?.1);
    }
    Ok(files)
}

/// Checks that `schema` (of `file`) agrees with the first file's; numeric columns
/// that differ only in width or float-ness widen to the common supertype.
fn unify(
    first: &mut [(String, pl::DataType)],
    first_url: &str,
    schema: &[(String, pl::DataType)],
    url: &str,
) -> Result<()> {
    let names = |s: &[(String, pl::DataType)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    if names(first) != names(schema) {
        let a = names(first);
        let b = names(schema);
        let column = a
            .iter()
            .zip(&b)
            .find(|(x, y)| x != y)
            .map(|(x, _)| x.clone())
            .or_else(|| a.get(b.len()).cloned())
            .or_else(|| b.get(a.len()).cloned())
            .unwrap_or_default();
        return Err(Error::user(format!(
            "the schemas of {first_url} and {url} disagree at column '{column}': \
             columns {a:?} versus {b:?}"
        )));
    }
    for ((name, t1), (_, t2)) in first.iter_mut().zip(schema) {
        if t1 == t2 || t2 == &pl::DataType::Null {
            continue;
        }
        if t1 == &pl::DataType::Null {
            *t1 = t2.clone();
        } else if t1.is_primitive_numeric() && t2.is_primitive_numeric() {
            *t1 = polars_core::utils::get_supertype(t1, t2).unwrap_or(pl::DataType::Float64);
        } else {
            return Err(Error::user(format!(
                "the schemas of {first_url} and {url} disagree at column '{name}': {t1} versus {t2}"
            )));
        }
    }
    Ok(())
}

/// The schema of a CSV sample (whole lines from the start of a file).
fn csv_sample_schema(
    sample: &[u8],
    options: &CsvOptions,
    url: &str,
) -> Result<Vec<(String, pl::DataType)>> {
    let cut = match memchr::memrchr(b'\n', sample) {
        Some(p) => &sample[..=p],
        None => sample,
    };
    // Ragged lines are found (with their line numbers) when the blocks are read.
    let parse = pl::CsvParseOptions::default()
        .with_truncate_ragged_lines(true)
        .with_separator(options.separator)
        .with_null_values(null_values(&options.null_values));
    let df = pl::CsvReadOptions::default()
        .with_has_header(options.has_header)
        .with_skip_rows(options.skip_rows)
        .with_infer_schema_length(None)
        .with_parse_options(parse)
        .into_reader_with_file_handle(std::io::Cursor::new(cut))
        .finish()
        .map_err(|e| Error::user(format!("cannot read the start of {url} as CSV: {e}")))?;
    let mut schema = from_schema(df.schema());
    for (name, t) in schema.iter_mut() {
        if let Some((_, given)) = options.dtypes.iter().find(|(n, _)| n == name) {
            *t = given.clone();
        } else if options.parse_dates.contains(name) {
            *t = super::dates::datetime_type();
        }
    }
    for (name, _) in options.dtypes.iter() {
        if !schema.iter().any(|(n, _)| n == name) {
            return Err(Error::user(format!(
                "read_csv: no column '{name}' in {url} (dtypes)"
            )));
        }
    }
    for name in &options.parse_dates {
        if !schema.iter().any(|(n, _)| n == name) {
            return Err(Error::user(format!(
                "read_csv: no column '{name}' in {url} (parse_dates)"
            )));
        }
    }
    Ok(schema)
}

/// The first bytes of a file, decompressed.
fn head_bytes(f: &FileInfo, store: &StoreOptions, compression: Compression) -> Result<Vec<u8>> {
    let loc = parse(&f.url, store)?;
    let block = Block {
        file: f.clone(),
        offset: 0,
        length: (compression == Compression::None).then_some(SAMPLE_BYTES),
        compression,
    };
    let mut bytes = blocks::read(loc.store.as_ref(), &block, b"\n")?;
    bytes.truncate(SAMPLE_BYTES as usize * 4);
    Ok(bytes)
}

/// CSV files (local paths, `file://` or `s3://` URLs, globs allowed) as a DataFrame,
/// one partition per block of `options.blocksize` bytes (or per compressed file).
///
/// ```
/// use brisk_collections::dataframe::{read_csv, CsvOptions};
/// # use brisk_scheduler as _;
/// let dir = std::env::temp_dir().join(format!("brisk-csv-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.csv"), "x,y\n1,a\n2,NA\n3,c\n").unwrap();
/// let options = CsvOptions { null_values: vec!["NA".into()], ..Default::default() };
/// let df = read_csv(&[&format!("{}/*.csv", dir.display())], &options).unwrap();
/// assert_eq!(df.columns(), ["x", "y"]);
/// let out = df.compute().unwrap();
/// assert_eq!(out.column("y").unwrap().null_count(), 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_csv(urls: &[&str], options: &CsvOptions) -> Result<DataFrame> {
    let files = expand(urls, &options.store)?;
    let mut schema: Option<(Vec<(String, pl::DataType)>, String)> = None;
    let mut preambles = Vec::with_capacity(files.len());
    for f in &files {
        let compression = options
            .compression
            .unwrap_or_else(|| Compression::infer(&f.url));
        let head = head_bytes(f, &options.store, compression)?;
        preambles.push(preamble_bytes(
            &head,
            options.skip_rows + usize::from(options.has_header),
        ));
        let s = csv_sample_schema(&head, options, &f.url)?;
        match &mut schema {
            None => schema = Some((s, f.url.clone())),
            Some((first, first_url)) => unify(first, first_url, &s, &f.url)?,
        }
    }
    let Some((schema, _)) = schema else {
        return Err(Error::user("read_csv: no files".to_string()));
    };
    // Columns typed as datetimes (by parse_dates or dtypes) are parsed by hand.
    let dates = schema
        .iter()
        .filter(|(_, t)| t == &super::dates::datetime_type())
        .map(|(n, _)| n.clone())
        .collect();
    let parse = CsvParse {
        dates,
        has_header: options.has_header,
        separator: options.separator,
        skip_rows: options.skip_rows,
        null_values: options.null_values.clone(),
    };
    text_frame(
        "read-csv",
        &files,
        &preambles,
        options.blocksize,
        options.compression,
        &options.store,
        TextFormat::Csv(parse),
        schema,
    )
}

/// Newline-delimited JSON files as a DataFrame (schema from a sample of each file).
pub fn read_json(urls: &[&str], blocksize: Option<u64>, store: &StoreOptions) -> Result<DataFrame> {
    let files = expand(urls, store)?;
    let mut schema: Option<(Vec<(String, pl::DataType)>, String)> = None;
    for f in &files {
        let bytes = head_bytes(f, store, Compression::infer(&f.url))?;
        let cut = match memchr::memrchr(b'\n', &bytes) {
            Some(p) => &bytes[..=p],
            None => &bytes[..],
        };
        let df = pl::JsonReader::new(std::io::Cursor::new(cut))
            .with_json_format(pl::JsonFormat::JsonLines)
            .finish()
            .map_err(|e| {
                Error::user(format!("cannot read the start of {} as NDJSON: {e}", f.url))
            })?;
        let s = from_schema(df.schema());
        match &mut schema {
            None => schema = Some((s, f.url.clone())),
            Some((first, first_url)) => unify(first, first_url, &s, &f.url)?,
        }
    }
    let Some((schema, _)) = schema else {
        return Err(Error::user("read_json: no files".to_string()));
    };
    text_frame(
        "read-json",
        &files,
        &[],
        blocksize,
        None,
        store,
        TextFormat::Ndjson,
        schema,
    )
}

/// The bytes that the first `lines` non-blank records of a file take, from its
/// first bytes: at least the skipped lines and the header, whichever way blank lines
/// count and whether a line end inside quotes ends a skipped line (here it does
/// not). `u64::MAX` (the whole file) when the sample holds fewer.
fn preamble_bytes(head: &[u8], lines: usize) -> u64 {
    if lines == 0 {
        return 0;
    }
    let (mut seen, mut quoted, mut blank) = (0, false, true);
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                if !blank {
                    seen += 1;
                    if seen == lines {
                        return i as u64 + 1;
                    }
                }
                blank = true;
                continue;
            }
            _ => {}
        }
        if b != b'\r' {
            blank = false;
        }
    }
    u64::MAX
}

/// `blocks` with every block that starts inside its file's first `preambles[i]`
/// bytes (skipped lines and the header, which only the first block skips) merged
/// into the file's first block; files without an entry have no preamble.
fn after_preambles(blocks: Vec<Block>, files: &[FileInfo], preambles: &[u64]) -> Vec<Block> {
    let by_url: std::collections::HashMap<&str, u64> = files
        .iter()
        .map(|f| f.url.as_str())
        .zip(preambles.iter().copied())
        .collect();
    let preamble = |b: &Block| by_url.get(b.file.url.as_str()).copied().unwrap_or(0);
    let mut out: Vec<Block> = Vec::with_capacity(blocks.len());
    for b in blocks {
        let inside = b.offset > 0 && b.offset < preamble(&b);
        match out.last_mut() {
            Some(first) if inside && first.file.url == b.file.url => {
                first.length = match (first.length, b.length) {
                    (Some(a), Some(l)) => Some(a + l),
                    _ => None,
                };
            }
            _ => out.push(b),
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn text_frame(
    method: &str,
    files: &[FileInfo],
    preambles: &[u64],
    blocksize: Option<u64>,
    compression: Option<Compression>,
    store: &StoreOptions,
    format: TextFormat,
    schema: Vec<(String, pl::DataType)>,
) -> Result<DataFrame> {
    let blocks = after_preambles(
        blocks::plan(files, blocksize, compression),
        files,
        preambles,
    );
    let plans: Vec<Plan> = blocks
        .into_iter()
        .map(|b| Plan {
            source: Source::Text(TextBlock {
                file: FileRef::new(&b.file, store),
                offset: b.offset,
                length: b.length,
                compression: b.compression,
                format: format.clone(),
                schema: schema.clone(),
            }),
            steps: Vec::new(),
            schema: schema.clone(),
        })
        .collect();
    DataFrame::from_scans(method, plans, schema)
}

/// Parquet files as a DataFrame, one partition per file (or per row group with
/// [`ParquetOptions::split_row_groups`]); column selections and filters applied
/// later run inside each partition's Parquet scan.
pub fn read_parquet(urls: &[&str], options: &ParquetOptions) -> Result<DataFrame> {
    let store = &options.store;
    let files = expand(urls, store)?;
    let mut schema: Option<(Vec<(String, pl::DataType)>, String)> = None;
    let mut plans = Vec::new();
    // Each plan's file's own schema, to cast it to the common one at the end.
    let mut own = Vec::new();
    for f in &files {
        let file = FileRef::new(f, store);
        let mut lf = scan_parquet(&file)?;
        let s = from_schema(
            &*lf.collect_schema()
                .map_err(|e| Error::user(format!("reading {}: {e}", f.url)))?,
        );
        match &mut schema {
            None => schema = Some((s.clone(), f.url.clone())),
            Some((first, first_url)) => unify(first, first_url, &s, &f.url)?,
        }
        let parts: Vec<Option<(u64, u64)>> = if options.split_row_groups {
            row_groups(&file)?.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        for rows in parts {
            own.push(s.clone());
            plans.push(Plan {
                source: Source::Parquet(ParquetPart {
                    file: file.clone(),
                    rows,
                    aggregate_files: options.aggregate_files,
                }),
                steps: Vec::new(),
                schema: Vec::new(),
            });
        }
    }
    let Some((schema, _)) = schema else {
        return Err(Error::user("read_parquet: no files".to_string()));
    };
    for (p, own) in plans.iter_mut().zip(&own) {
        p.schema = schema.clone();
        // A file whose column is narrower (or all null) than the common type is
        // cast to it as it is read, so that all partitions have the frame's schema.
        let casts: Vec<pl::Expr> = schema
            .iter()
            .zip(own)
            .filter(|((_, common), (_, mine))| common != mine)
            .map(|((name, common), _)| pl::col(name.as_str()).cast(common.clone()))
            .collect();
        if !casts.is_empty() {
            p.steps.push(Step::WithColumns(casts));
        }
    }
    DataFrame::from_scans("read-parquet", plans, schema)
}

/// `(first row, rows)` of every row group of a Parquet file.
fn row_groups(file: &FileRef) -> Result<Vec<(u64, u64)>> {
    let bad = |e: pl::PolarsError| Error::user(format!("reading {}: {e}", file.url));
    let counts: Vec<u64> = match file.local_path() {
        Some(path) => {
            let f = std::fs::File::open(&path)
                .map_err(|e| Error::user(format!("cannot open {path}: {e}")))?;
            let mut reader = pl::ParquetReader::new(f);
            let meta = reader.get_metadata().map_err(bad)?;
            meta.row_groups
                .iter()
                .map(|rg| rg.num_rows() as u64)
                .collect()
        }
        None => {
            let bytes = objects::get(&file.url, &file.store)?;
            let mut reader = pl::ParquetReader::new(std::io::Cursor::new(bytes));
            let meta = reader.get_metadata().map_err(bad)?;
            meta.row_groups
                .iter()
                .map(|rg| rg.num_rows() as u64)
                .collect()
        }
    };
    let mut out = Vec::with_capacity(counts.len());
    let mut start = 0;
    for n in counts {
        out.push((start, n));
        start += n;
    }
    if out.is_empty() {
        out.push((0, 0));
    }
    Ok(out)
}
