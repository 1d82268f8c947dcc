//! Explaining a text block's parser error: finding the block's first bad line, so
//! that the error can name the file and line (Polars' own messages name neither).

use super::text::{TextBlock, TextFormat};
use crate::error;
use brisk_core::Error;
use polars::prelude as pl;

impl TextBlock {
    /// Turns a parser error into one naming the file and line, by looking for the
    /// first bad line of the block.
    pub(crate) fn explain(&self, e: pl::PolarsError) -> Error {
        let found = self
            .bytes()
            .ok()
            .and_then(|bytes| first_bad_line(self, &bytes));
        match found {
            Some((line, message)) => crate::Error::Parse {
                file: self.file.url.clone(),
                line: line + 1,
                block: (self.offset != 0).then_some(self.offset),
                message,
            }
            .into(),
            None => error::polars(format!("reading {}", self.file.url), e),
        }
    }
}

/// The first line of `bytes` (0-based within the block) that the block's schema
/// cannot read, and what is wrong with it.
fn first_bad_line(block: &TextBlock, bytes: &[u8]) -> Option<(usize, String)> {
    let mut lines = bytes.split(|&b| b == b'\n').enumerate().peekable();
    match &block.format {
        TextFormat::Ndjson => lines
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            .find_map(|(i, l)| {
                sonic_rs::from_slice::<sonic_rs::Value>(l)
                    .err()
                    .map(|e| (i, format!("malformed JSON: {e}")))
            }),
        TextFormat::Csv(p) => {
            if block.offset == 0 {
                for _ in 0..p.skip_rows + usize::from(p.has_header) {
                    lines.next();
                }
            }
            let ncols = block.schema.len();
            for (i, raw) in lines {
                let line = raw.strip_suffix(b"\r").unwrap_or(raw);
                if line.is_empty() {
                    continue;
                }
                let Ok(text) = std::str::from_utf8(line) else {
                    return Some((i, "the line is not valid UTF-8".into()));
                };
                let fields = split_fields(text, p.separator as char);
                if fields.len() != ncols {
                    return Some((
                        i,
                        format!("expected {ncols} fields, found {}", fields.len()),
                    ));
                }
                for (value, (name, dtype)) in fields.iter().zip(&block.schema) {
                    if value.is_empty() || p.null_values.iter().any(|n| n == value) {
                        continue;
                    }
                    if !parses_as(value, dtype) {
                        return Some((
                            i,
                            format!("cannot parse '{value}' as {dtype} in column '{name}'"),
                        ));
                    }
                }
            }
            None
        }
    }
}

/// The fields of one CSV line (double quotes group, `""` escapes a quote).
fn split_fields(line: &str, sep: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

fn parses_as(v: &str, dtype: &pl::DataType) -> bool {
    use chrono::{NaiveDate, NaiveDateTime};
    let v = v.trim();
    match dtype {
        t if t.is_integer() => v.parse::<i128>().is_ok(),
        t if t.is_float() => v.parse::<f64>().is_ok(),
        pl::DataType::Boolean => matches!(v.to_ascii_lowercase().as_str(), "true" | "false"),
        pl::DataType::Date => NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok(),
        pl::DataType::Datetime(_, _) => {
            [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .any(|f| NaiveDateTime::parse_from_str(v, f).is_ok())
                || NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
        }
        _ => true,
    }
}
