//! DataFrame readers: CSV and NDJSON cut into byte blocks, Parquet by row group.
//!
//! The schema is found from a sample at the start of each file (never the whole
//! data), and every file's sample must agree with the first file's: a disagreement
//! is an error naming both files and the column.
//!
//! This file plans the partitions (one [`Plan`] per block or file, when the graph
//! is built); what a task then does with its block or file is in `source/`.

use super::dataframe::DataFrame;
use super::dates;
use super::plan::Plan;
use super::schema::from_schema;
use super::source::{
    ends_in_lone_quote, null_values, preamble_bytes, scan_parquet, CsvParse, FileRef, ParquetPart,
    Source, TextBlock, TextFormat,
};
use super::step::Step;
use crate::error;
use brisk_core::Result;
use brisk_io::blocks::{self, Block};
use brisk_io::compression::Compression;
use brisk_io::glob::{self, FileInfo};
use brisk_io::objects;
use brisk_io::url::{parse, StoreOptions};
use polars::prelude as pl;
use polars::prelude::SerReader;

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

/// How to read newline-delimited JSON files.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOptions {
    /// Cut uncompressed files into blocks of about this many bytes (`None`: one
    /// partition per file). Compressed files are one partition each. Default 64 MB.
    pub blocksize: Option<u64>,
    /// Store settings (S3 endpoint, credentials...).
    pub store: StoreOptions,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            blocksize: Some(64 * 1024 * 1024),
            store: StoreOptions::default(),
        }
    }
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
        return Err(crate::Error::ColumnsMismatch {
            first_file: first_url.to_string(),
            other_file: url.to_string(),
            column,
            first_columns: a,
            other_columns: b,
        }
        .into());
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
            return Err(crate::Error::SchemaMismatch {
                first_file: first_url.to_string(),
                other_file: url.to_string(),
                column: name.clone(),
                first_dtype: t1.to_string(),
                other_dtype: t2.to_string(),
            }
            .into());
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
    if ends_in_lone_quote(cut, options.separator) {
        return Err(crate::Error::Parse {
            file: url.to_string(),
            line: memchr::memchr_iter(b'\n', cut).count() + 1,
            column: None,
            value: Some("\"".into()),
            message: "the data ends inside a quoted field: its last field is a lone quote".into(),
        }
        .into());
    }
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
        .map_err(|e| error::polars(format!("cannot read the start of {url} as CSV"), e))?;
    let mut schema = from_schema(df.schema());
    for (name, t) in schema.iter_mut() {
        if let Some((_, given)) = options.dtypes.iter().find(|(n, _)| n == name) {
            *t = given.clone();
        } else if options.parse_dates.contains(name) {
            *t = dates::datetime_type();
        }
    }
    for (name, _) in options.dtypes.iter() {
        if !schema.iter().any(|(n, _)| n == name) {
            return Err(crate::Error::MissingColumnInFile {
                function: "read_csv".into(),
                column: name.clone(),
                file: url.to_string(),
                option: "dtypes".into(),
            }
            .into());
        }
    }
    for name in &options.parse_dates {
        if !schema.iter().any(|(n, _)| n == name) {
            return Err(crate::Error::MissingColumnInFile {
                function: "read_csv".into(),
                column: name.clone(),
                file: url.to_string(),
                option: "parse_dates".into(),
            }
            .into());
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
        return Err(crate::Error::NoFiles {
            function: "read_csv".into(),
        }
        .into());
    };
    // Columns typed as datetimes (by parse_dates or dtypes) are parsed by hand.
    let dates = schema
        .iter()
        .filter(|(_, t)| t == &dates::datetime_type())
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

/// Newline-delimited JSON files (local paths, `file://` or `s3://` URLs, globs
/// allowed) as a DataFrame, one partition per block of `options.blocksize` bytes (or
/// per compressed file); the schema is found from a sample at the start of each file.
///
/// ```
/// use brisk_collections::dataframe::{read_json, JsonOptions};
/// # use brisk_scheduler as _;
/// let dir = std::env::temp_dir().join(format!("brisk-json-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.json"), "{\"x\": 1, \"y\": \"a\"}\n{\"x\": 2, \"y\": null}\n").unwrap();
/// let options = JsonOptions { blocksize: Some(16), ..Default::default() };
/// let df = read_json(&[&format!("{}/*.json", dir.display())], &options).unwrap();
/// assert_eq!(df.columns(), ["x", "y"]);
/// let out = df.compute().unwrap();
/// assert_eq!(out.height(), 2);
/// assert_eq!(out.column("y").unwrap().null_count(), 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_json(urls: &[&str], options: &JsonOptions) -> Result<DataFrame> {
    let store = &options.store;
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
                error::polars(format!("cannot read the start of {} as NDJSON", f.url), e)
            })?;
        let s = from_schema(df.schema());
        match &mut schema {
            None => schema = Some((s, f.url.clone())),
            Some((first, first_url)) => unify(first, first_url, &s, &f.url)?,
        }
    }
    let Some((schema, _)) = schema else {
        return Err(crate::Error::NoFiles {
            function: "read_json".into(),
        }
        .into());
    };
    text_frame(
        "read-json",
        &files,
        &[],
        options.blocksize,
        None,
        store,
        TextFormat::Ndjson,
        schema,
    )
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
                .map_err(|e| error::polars(format!("reading {}", f.url), e))?,
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
        return Err(crate::Error::NoFiles {
            function: "read_parquet".into(),
        }
        .into());
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
    let bad = |e: pl::PolarsError| error::polars(format!("reading {}", file.url), e);
    let counts: Vec<u64> = match file.local_path() {
        Some(path) => {
            let f = std::fs::File::open(&path)
                .map_err(|e| error::io(format!("cannot open {path}"), e))?;
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
