//! Explaining a text block's parser error: the file, line, column and value that
//! the reader refused (Polars' own messages name neither file nor line).
//!
//! The bad record is found by the reader itself: the block's records are read again
//! in halves with the very same settings (schema, separator, null values, quoting,
//! and the same datetime parsing), keeping the half that fails, so a record the
//! reader accepted can never be blamed. Reading a block of `n` bytes so costs about
//! `2n` bytes of parsing, paid only when there is an error to report. The column is
//! then the first that fails when the record is read one column at a time.
//!
//! Lines are lines of the file: those before the block are counted (only when an
//! error is reported) by reading the file up to the block, 16 MB at a time. They are
//! physical lines, as an editor numbers them: a record whose quoted fields hold line
//! ends is named by the line it starts on.

use super::records::{preamble_bytes, record_bounds, split_fields};
use super::text::{CsvParse, TextBlock, TextFormat};
use crate::error;
use brisk_core::{Error, Result};
use brisk_io::blocks::{self, Block};
use brisk_io::compression::Compression;
use polars::prelude as pl;
use std::collections::BTreeSet;
use std::ops::Range;

/// Bytes read at a time while counting the lines before a block.
const COUNT_CHUNK: u64 = 16 * 1024 * 1024;

/// A record the reader refuses, and why.
struct BadRecord {
    /// Where the record starts in the block's bytes.
    at: usize,
    column: Option<String>,
    value: Option<String>,
    message: String,
}

impl TextBlock {
    /// Turns a parser error of the block, read for `columns` (`None`: all), into one
    /// naming the file, line, column and value.
    pub(crate) fn explain(&self, e: pl::PolarsError, columns: Option<&BTreeSet<String>>) -> Error {
        let projection = columns.map(|wanted| self.projection(wanted));
        match self.bytes() {
            Ok(bytes) => self.explain_in(e, &bytes, projection.as_deref()),
            Err(_) => self.unexplained(e),
        }
    }

    /// [`TextBlock::explain`] with the block's bytes at hand and the columns read.
    pub(crate) fn explain_in(
        &self,
        e: pl::PolarsError,
        bytes: &[u8],
        projection: Option<&[pl::PlSmallStr]>,
    ) -> Error {
        let found = match &self.format {
            TextFormat::Csv(p) => self.bad_csv_record(p, bytes, projection),
            TextFormat::Ndjson => self.bad_json_line(bytes),
        };
        let Some(bad) = found else {
            return self.unexplained(e);
        };
        let Ok(before) = self.lines_before() else {
            return self.unexplained(e);
        };
        let within = memchr::memchr_iter(b'\n', &bytes[..bad.at]).count();
        crate::Error::Parse {
            file: self.file.url.clone(),
            line: before + within + 1,
            column: bad.column,
            value: bad.value,
            message: bad.message,
        }
        .into()
    }

    /// The error for a CSV block whose data ends in a quoted field that never
    /// closes (a lone quote as its last field), at the line of that quote.
    pub(crate) fn unclosed_quote(&self, bytes: &[u8]) -> Error {
        let within = memchr::memchr_iter(b'\n', bytes).count();
        crate::Error::Parse {
            file: self.file.url.clone(),
            line: self.lines_before().unwrap_or(0) + within + 1,
            column: None,
            value: Some("\"".into()),
            message: "the data ends inside a quoted field: its last field is a lone quote".into(),
        }
        .into()
    }

    /// Polars' error with the file it was reading, when no record is to blame (an
    /// error of a later step, or of the block as a whole).
    fn unexplained(&self, e: pl::PolarsError) -> Error {
        error::polars(format!("reading {}", self.file.url), e)
    }

    /// The first record of a CSV block that the reader refuses, with its column and
    /// value.
    fn bad_csv_record(
        &self,
        p: &CsvParse,
        bytes: &[u8],
        projection: Option<&[pl::PlSmallStr]>,
    ) -> Option<BadRecord> {
        let start = if self.offset == 0 {
            let preamble = preamble_bytes(bytes, p.skip_rows + usize::from(p.has_header));
            usize::try_from(preamble)
                .unwrap_or(usize::MAX)
                .min(bytes.len())
        } else {
            0
        };
        let body = &bytes[start..];
        let bounds = record_bounds(body);
        let records = |r: Range<usize>| &body[bounds[r.start]..bounds[r.end]];
        // The records alone, without the preamble: the schema is given, so the
        // header changes neither names nor types.
        let read = |text: &[u8], projection: Option<&[pl::PlSmallStr]>| {
            self.polars_csv(p, text, projection, false)
                .and_then(|lf| lf.collect())
                .err()
        };
        let i = first_failing(bounds.len() - 1, |r| read(records(r), projection).is_some())?;
        let record = records(i..i + 1);
        let fields = split_fields(record, p.separator);
        let columns = self.schema.len();
        let mut bad = BadRecord {
            at: start + bounds[i],
            column: None,
            value: None,
            message: String::new(),
        };
        if fields.len() > columns {
            bad.message = format!("expected {columns} fields, found {}", fields.len());
            return Some(bad);
        }
        let all: Vec<pl::PlSmallStr>;
        let names = match projection {
            Some(names) => names,
            None => {
                all = self.schema.iter().map(|(n, _)| n.as_str().into()).collect();
                &all
            }
        };
        for name in names {
            let Some(index) = self.schema.iter().position(|(n, _)| n == name.as_str()) else {
                continue;
            };
            if read(record, Some(std::slice::from_ref(name))).is_some() {
                let value = fields.get(index).cloned().unwrap_or_default();
                bad.message = format!("cannot parse '{value}' as {}", self.schema[index].1);
                bad.column = Some(name.to_string());
                bad.value = Some(value);
                return Some(bad);
            }
        }
        bad.message = first_line(&read(record, projection)?);
        Some(bad)
    }

    /// The first line of an NDJSON block that the reader refuses.
    fn bad_json_line(&self, bytes: &[u8]) -> Option<BadRecord> {
        let mut bounds = vec![0];
        bounds.extend(memchr::memchr_iter(b'\n', bytes).map(|p| p + 1));
        if bounds.last() != Some(&bytes.len()) {
            bounds.push(bytes.len());
        }
        let read = |r: Range<usize>| {
            self.polars_ndjson(bytes[bounds[r.start]..bounds[r.end]].to_vec())
                .and_then(|lf| lf.collect())
                .err()
        };
        let i = first_failing(bounds.len() - 1, |r| read(r).is_some())?;
        Some(BadRecord {
            at: bounds[i],
            column: None,
            value: None,
            message: first_line(&read(i..i + 1)?),
        })
    }

    /// The lines of the file before the block: its line ends up to where the block's
    /// first record starts (the first line end at or after its cut), read in chunks
    /// that tile the file the way blocks do.
    fn lines_before(&self) -> Result<usize> {
        if self.offset == 0 {
            return Ok(0);
        }
        let (loc, info) = self.file.info()?;
        let (mut lines, mut cut) = (0, 0);
        while cut < self.offset {
            let length = COUNT_CHUNK.min(self.offset - cut);
            let chunk = Block {
                file: info.clone(),
                offset: cut,
                length: Some(length),
                compression: Compression::None,
            };
            let bytes = blocks::read(loc.store.as_ref(), &chunk, b"\n")?;
            lines += memchr::memchr_iter(b'\n', &bytes).count();
            cut += length;
        }
        Ok(lines)
    }
}

/// The first of `n` records for which reading fails, found by halving: `fails(r)`
/// says whether reading the records `r` together fails. Records are read
/// independently (the schema is fixed), so a group of them fails exactly when one
/// of them does; the record found is checked alone all the same.
fn first_failing(n: usize, fails: impl Fn(Range<usize>) -> bool) -> Option<usize> {
    if n == 0 || !fails(0..n) {
        return None;
    }
    let (mut lo, mut hi) = (0, n);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fails(lo..mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    fails(lo..lo + 1).then_some(lo)
}

/// The first line of a Polars error (the rest are suggestions about Polars'
/// options, which Brisk sets itself).
fn first_line(e: &pl::PolarsError) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::first_failing;
    use std::cell::Cell;

    #[test]
    fn halving_finds_the_first_failing_record_in_about_two_passes() {
        let bad = [700usize, 900];
        let read = Cell::new(0);
        let fails = |r: std::ops::Range<usize>| {
            read.set(read.get() + r.len());
            bad.iter().any(|b| r.contains(b))
        };
        assert_eq!(first_failing(1000, fails), Some(700));
        assert!(read.get() <= 2 * 1000 + 1, "{}", read.get());
        assert_eq!(first_failing(1000, |_| false), None);
        assert_eq!(first_failing(0, |_| true), None);
        // A failure that no record has alone is not blamed on one.
        assert_eq!(first_failing(10, |r| r.len() > 1), None);
    }
}
