//! `dataframe.parquet_floor.*`: how fast the tip-by-hour question could go on these
//! Parquet files with a reader written for it, as a bound for Brisk and Polars.
//!
//! Lines over all files, row groups in parallel on rayon:
//! - `read_decompress.<question>` and `read_decompress.total`: for each of the six
//!   questions, the footers and the column chunks it reads taken from the files and
//!   every page of them decompressed (dictionary pages too), nothing decoded: what
//!   any engine answering the questions one at a time from these files must spend,
//!   summed over the questions;
//!   (`read_decompress.tip_fraction_by_hour` is what the `decompress` line of
//!   earlier builds measured);
//! - `decompress_bulk`: the pages of the tip question's three columns decompressed by
//!   zstd in one call each (the page headers read here), where the reader above
//!   streams them through a decoder;
//! - `tip_fraction_by_hour`: decompressed, the values decoded (plain, or dictionary
//!   keys looked up), and the question (`tip > 0 and fare > 0`, mean of `tip / fare` by pickup hour)
//!   in one pass into 24 sums and counts. Its means are checked against Polars.
//!
//! Only files whose three columns are plain- or dictionary-encoded without nulls are
//! measured; anything else is an error saying what.

use anyhow::{anyhow, bail, Result};
use brisk::collections::dataframe::polars::prelude as pl;
use brisk_benches::{emit, median_seconds, round};
use polars_buffer::Buffer;
use polars_parquet::parquet::encoding::hybrid_rle::HybridRleDecoder;
use polars_parquet::parquet::encoding::Encoding;
use polars_parquet::parquet::metadata::{ColumnChunkMetadata, FileMetadata};
use polars_parquet::parquet::page::split_buffer;
use polars_parquet::parquet::read::{read_metadata, BasicDecompressor, PageReader};
use rayon::prelude::*;
use serde_json::json;
use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

const COLUMNS: [&str; 3] = ["tip_amount", "fare_amount", "tpep_pickup_datetime"];

/// The columns each of the six questions of `brisk-bench dataframe` reads (`rides`
/// counts rows from the footers).
const QUESTIONS: [(&str, &[&str]); 6] = [
    ("rides", &[]),
    ("passengers", &["passenger_count"]),
    ("payment_types", &["payment_type"]),
    ("zero_tip_payment_types", &["tip_amount", "payment_type"]),
    ("tip_fraction_by_weekday", &COLUMNS),
    ("tip_fraction_by_hour", &COLUMNS),
];

/// A file's footer, and the column chunks read so far, each in a buffer of its own.
struct File {
    meta: FileMetadata,
    chunks: HashMap<(usize, String), Buffer<u8>>,
}

/// Per hour: the sum of tip fractions and the rides counted.
type Bins = ([f64; 24], [u64; 24]);

/// The column chunk of `column` in row group `rg`.
fn chunk<'a>(file: &'a File, rg: usize, column: &str) -> Result<&'a ColumnChunkMetadata> {
    file.meta.row_groups[rg]
        .columns_under_root_iter(column)
        .and_then(|mut c| c.next())
        .ok_or_else(|| anyhow!("no column {column}"))
}

/// The bytes of the column chunk of `column` in row group `rg`.
fn chunk_bytes<'a>(file: &'a File, rg: usize, column: &str) -> Result<&'a Buffer<u8>> {
    file.chunks
        .get(&(rg, column.to_string()))
        .ok_or_else(|| anyhow!("{column} was not read"))
}

/// The pages of `column` in row group `rg`, compressed.
fn page_reader(file: &File, rg: usize, column: &str) -> Result<PageReader> {
    let bytes = chunk_bytes(file, rg, column)?.clone();
    Ok(PageReader::new(
        Cursor::new(bytes),
        chunk(file, rg, column)?,
        vec![],
        usize::MAX,
    ))
}

/// Decompresses every page of `column` in row group `rg`, its dictionary page
/// included; returns the bytes out.
fn decompress_all(file: &File, rg: usize, column: &str) -> Result<usize> {
    let mut pages = BasicDecompressor::new(page_reader(file, rg, column)?, vec![]);
    let mut n = pages.read_dict_page()?.map_or(0, |d| d.buffer.len());
    while let Some(item) = pages.next() {
        let page = item?.decompress(&mut pages)?;
        n += page.buffer().len();
        pages.reuse_page_buffer(page);
    }
    Ok(n)
}

/// The column's values of a row group, decoded from plain or dictionary-encoded
/// pages without nulls (anything else is an error).
fn column<T: Copy>(file: &File, rg: usize, name: &str, from: fn([u8; 8]) -> T) -> Result<Vec<T>> {
    let plain = |bytes: &[u8]| -> Vec<T> {
        bytes
            .chunks_exact(8)
            .map(|w| from(w.try_into().expect("eight bytes")))
            .collect()
    };
    let mut pages = BasicDecompressor::new(page_reader(file, rg, name)?, vec![]);
    let dictionary = pages.read_dict_page()?.map(|d| plain(&d.buffer));
    let mut out = Vec::with_capacity(file.meta.row_groups[rg].num_rows());
    while let Some(item) = pages.next() {
        let page = item?.decompress(&mut pages)?;
        if page.null_count().is_some_and(|n| n > 0) {
            bail!("{name}: a page holds nulls");
        }
        let values = split_buffer(&page)?.values;
        match (page.encoding(), &dictionary) {
            (Encoding::Plain, _) if values.len() == page.num_values() * 8 => {
                out.extend(plain(values))
            }
            (Encoding::RleDictionary | Encoding::PlainDictionary, Some(dictionary)) => {
                let (&bits, keys) = values
                    .split_first()
                    .ok_or_else(|| anyhow!("{name}: an empty page"))?;
                for key in
                    HybridRleDecoder::new(keys, u32::from(bits), page.num_values()).collect()?
                {
                    out.push(
                        *dictionary
                            .get(key as usize)
                            .ok_or_else(|| anyhow!("{name}: a key past the dictionary"))?,
                    );
                }
            }
            (encoding, _) => bail!("{name}: a page in {encoding:?} or of another width"),
        }
        pages.reuse_page_buffer(page);
    }
    Ok(out)
}

/// The bytes of the column's pages in row group `rg`, each page decompressed with one
/// call of zstd into `out` (reused).
fn pages_bulk(
    file: &File,
    rg: usize,
    column: &str,
    zstd: &mut zstd::bulk::Decompressor<'static>,
    out: &mut Vec<u8>,
) -> Result<usize> {
    use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
    use polars_parquet_format::{PageHeader, PageType};
    let mut rest = &chunk_bytes(file, rg, column)?[..];
    let mut total = 0;
    while !rest.is_empty() {
        let mut cursor = Cursor::new(rest);
        let header = PageHeader::read_from_in_protocol(&mut TCompactInputProtocol::new(
            &mut cursor,
            1 << 20,
        ))
        .map_err(|e| anyhow!("{column}: a page header: {e}"))?;
        let start = cursor.position() as usize;
        let end = start + usize::try_from(header.compressed_page_size)?;
        let body = rest
            .get(start..end)
            .ok_or_else(|| anyhow!("{column}: a page runs past its column chunk"))?;
        rest = &rest[end..];
        let levels = match header.type_ {
            PageType::DATA_PAGE => 0,
            PageType::DATA_PAGE_V2 => header.data_page_header_v2.as_ref().map_or(0, |h| {
                (h.definition_levels_byte_length + h.repetition_levels_byte_length) as usize
            }),
            PageType::DICTIONARY_PAGE => 0,
            _ => bail!("{column}: a page that is neither data nor dictionary"),
        };
        let (Some(values), Some(size)) = (
            body.get(levels..),
            usize::try_from(header.uncompressed_page_size)?.checked_sub(levels),
        ) else {
            bail!("{column}: page levels longer than the page");
        };
        out.clear();
        out.resize(size, 0);
        total += zstd.decompress_to_buffer(values, &mut out[..])? + levels;
    }
    Ok(total)
}

fn tip_by_hour(file: &File, rg: usize, per_hour: i64) -> Result<Bins> {
    let tip = column(file, rg, COLUMNS[0], f64::from_le_bytes)?;
    let fare = column(file, rg, COLUMNS[1], f64::from_le_bytes)?;
    let pickup = column(file, rg, COLUMNS[2], i64::from_le_bytes)?;
    let (mut sums, mut counts) = ([0.0; 24], [0u64; 24]);
    for ((t, f), p) in tip.iter().zip(&fare).zip(&pickup) {
        if *t > 0.0 && *f > 0.0 {
            let h = p.div_euclid(per_hour).rem_euclid(24) as usize;
            sums[h] += t / f;
            counts[h] += 1;
        }
    }
    Ok((sums, counts))
}

pub fn run(dir: &Path, reps: usize) -> Result<()> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    paths.sort();
    let pattern = format!("{}/*.parquet", dir.display());
    let schema =
        pl::LazyFrame::scan_parquet(pl::PlRefPath::new(pattern.as_str()), Default::default())?
            .collect_schema()?;
    let per_hour = match schema.get(COLUMNS[2]) {
        Some(pl::DataType::Datetime(pl::TimeUnit::Milliseconds, _)) => 3_600_000,
        Some(pl::DataType::Datetime(pl::TimeUnit::Microseconds, _)) => 3_600_000_000,
        Some(pl::DataType::Datetime(pl::TimeUnit::Nanoseconds, _)) => 3_600_000_000_000,
        other => bail!("{}: {other:?}", COLUMNS[2]),
    };
    // Each file's footer and the chunks of `columns`, each read into a buffer of its
    // own.
    let open_columns = |columns: &[&str]| -> Result<Vec<File>> {
        use std::os::unix::fs::FileExt;
        paths
            .iter()
            .map(|p| {
                let f = std::fs::File::open(p)?;
                let len = f.metadata()?.len();
                // The footer: its length and the magic in the last eight bytes.
                if len < 12 {
                    bail!("{}: too short for Parquet", p.display());
                }
                let mut end = [0u8; 8];
                f.read_exact_at(&mut end, len - 8)?;
                let footer = u64::from(u32::from_le_bytes(end[..4].try_into()?));
                let tail = (footer + 8).min(len);
                let mut bytes = vec![0u8; tail as usize];
                f.read_exact_at(&mut bytes, len - tail)?;
                let meta = read_metadata(&mut Cursor::new(&bytes))?;
                let mut chunks = HashMap::new();
                for (rg, group) in meta.row_groups.iter().enumerate() {
                    for c in columns {
                        for chunk in group.columns_under_root_iter(c).into_iter().flatten() {
                            let r = chunk.byte_range();
                            let mut bytes = vec![0u8; usize::try_from(r.end - r.start)?];
                            f.read_exact_at(&mut bytes, r.start)?;
                            chunks.insert((rg, c.to_string()), Buffer::from(bytes));
                        }
                    }
                }
                Ok(File { meta, chunks })
            })
            .collect()
    };
    let open = || open_columns(&COLUMNS);
    let units = |files: &[File]| -> Vec<(usize, usize)> {
        files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| (0..f.meta.row_groups.len()).map(move |rg| (i, rg)))
            .collect()
    };

    let mut total = 0.0;
    for (question, columns) in QUESTIONS {
        let (s, out) = median_seconds(reps, || -> Result<usize> {
            let files = open_columns(columns)?;
            units(&files)
                .into_par_iter()
                .map(|(i, rg)| {
                    columns
                        .iter()
                        .map(|c| decompress_all(&files[i], rg, c))
                        .sum::<Result<usize>>()
                })
                .sum()
        });
        total += s;
        emit(
            &format!("dataframe.parquet_floor.read_decompress.{question}"),
            &[("seconds", json!(round(s, 4))), ("bytes", json!(out?))],
        );
    }
    emit(
        "dataframe.parquet_floor.read_decompress.total",
        &[("seconds", json!(round(total, 4)))],
    );

    let (s, out) = median_seconds(reps, || -> Result<usize> {
        let files = open()?;
        units(&files)
            .into_par_iter()
            .map_init(
                || (zstd::bulk::Decompressor::new(), Vec::new()),
                |(zstd, buf), (i, rg)| {
                    let zstd = zstd.as_mut().map_err(|e| anyhow!("zstd: {e}"))?;
                    let mut n = 0;
                    for c in COLUMNS {
                        n += pages_bulk(&files[i], rg, c, zstd, buf)?;
                    }
                    Ok(n)
                },
            )
            .sum()
    });
    emit(
        "dataframe.parquet_floor.decompress_bulk",
        &[("seconds", json!(round(s, 4))), ("bytes", json!(out?))],
    );

    let (s, out) = median_seconds(reps, || -> Result<Bins> {
        let files = open()?;
        units(&files)
            .into_par_iter()
            .map(|(i, rg)| tip_by_hour(&files[i], rg, per_hour))
            .try_reduce(
                || ([0.0; 24], [0; 24]),
                |(mut s, mut c), (s2, c2)| {
                    for h in 0..24 {
                        s[h] += s2[h];
                        c[h] += c2[h];
                    }
                    Ok((s, c))
                },
            )
    });
    let (sums, counts) = out?;
    // The oracle: Polars lazy on the same files.
    let want =
        pl::LazyFrame::scan_parquet(pl::PlRefPath::new(pattern.as_str()), Default::default())?
            .filter(
                pl::col("tip_amount")
                    .gt(pl::lit(0.0))
                    .and(pl::col("fare_amount").gt(pl::lit(0.0))),
            )
            .group_by([pl::col("tpep_pickup_datetime")
                .dt()
                .hour()
                .cast(pl::DataType::Int64)
                .alias("h")])
            .agg([(pl::col("tip_amount") / pl::col("fare_amount"))
                .mean()
                .alias("m")])
            .collect()?;
    let hours = want.column("h")?.i64()?;
    let means = want.column("m")?.f64()?;
    for (h, m) in hours.iter().zip(means.iter()) {
        let (h, m) = (
            h.ok_or_else(|| anyhow!("null hour"))? as usize,
            m.unwrap_or(f64::NAN),
        );
        let ours = sums[h] / counts[h] as f64;
        if (ours - m).abs() > 1e-9 * m.abs().max(1.0) {
            bail!("hour {h}: {ours} against Polars' {m}");
        }
    }
    emit(
        "dataframe.parquet_floor.tip_fraction_by_hour",
        &[
            ("seconds", json!(round(s, 4))),
            ("result_rows", json!(want.height())),
        ],
    );
    Ok(())
}
