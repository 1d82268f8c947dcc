//! A CSV block reader for the common case: no quotes, and only 64-bit integer, float,
//! string and datetime columns.
//!
//! Such a block needs no quote-aware tokenizer: fields end at the separator and
//! records at `\n`. The reader finds both as bit masks of 64-byte windows (eight
//! bytes per word operation), walks the set bits of the projected fields, counts the
//! separators of the others with popcounts (so a record with the wrong number of
//! fields is still seen), and parses the projected fields straight into column
//! buffers (datetimes straight to microseconds, with no string column in between).
//! Anything it does not handle exactly as Polars does (a quote, a ragged line, a
//! value it does not recognise, rows to skip, another type) makes it return `None`,
//! and the block is read by Polars' reader, whose result or error is the reference:
//! this reader is only a faster way to the same frame, which the tests check
//! against Polars on generated blocks.
//!
//! ```ignore
//! let frame = read(b"a,b\n1,2.5\n3,\n", &layout)?;   // Some(frame) or None
//! ```

use super::dates;
use polars::prelude as pl;
use polars::prelude::{IntoColumn, IntoSeries, NewChunkedArray};

/// What a block reader needs to know about the file's columns.
pub(crate) struct Layout<'a> {
    /// Every column of the file, in order, with its type.
    pub schema: &'a [(String, pl::DataType)],
    /// The columns to read, in file order.
    pub projection: &'a [pl::PlSmallStr],
    /// Columns held as text and parsed as datetimes.
    pub dates: &'a [String],
    pub separator: u8,
    /// Whether the block's first line is a header to skip.
    pub header: bool,
    /// Lines to skip before the header (this reader declines blocks with any).
    pub skip_rows: usize,
    /// Field texts read as null (besides the empty field).
    pub null_values: &'a [String],
}

/// One projected column being filled.
enum Buffer<'b> {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Text(Vec<Option<&'b str>>),
    /// Microseconds since the epoch.
    Datetime(Vec<i64>),
}

struct Column<'b> {
    name: pl::PlSmallStr,
    buffer: Buffer<'b>,
    /// Row numbers of nulls (numeric columns), in order.
    nulls: Vec<usize>,
}

/// The block as a frame of the projected columns, or `None` when it needs Polars'
/// general reader.
pub(crate) fn read(bytes: &[u8], layout: &Layout<'_>) -> Option<pl::DataFrame> {
    let sep = layout.separator;
    // A zero separator would match the padding past the end of the block.
    if matches!(sep, 0 | b'"' | b'\n' | b'\r') || layout.schema.len() < 2 || layout.skip_rows > 0 {
        return None;
    }
    if memchr::memchr(b'"', bytes).is_some() {
        return None;
    }
    let mut body = bytes;
    if layout.header {
        // Polars drops blank lines before a header; such blocks go to Polars.
        if matches!(body.first(), Some(b'\n' | b'\r')) {
            return None;
        }
        body = match memchr::memchr(b'\n', body) {
            Some(p) => &body[p + 1..],
            None => &[],
        };
    }
    // Which column each field fills (`slots[field]`), and the columns.
    let mut slots: Vec<Option<usize>> = vec![None; layout.schema.len()];
    let mut columns = Vec::with_capacity(layout.projection.len());
    let rows_guess = body.len() / 64 + 1;
    for name in layout.projection {
        let field = layout.schema.iter().position(|(n, _)| n == name.as_str())?;
        let buffer = if layout.dates.iter().any(|d| d == name.as_str()) {
            Buffer::Datetime(Vec::with_capacity(rows_guess))
        } else {
            match layout.schema[field].1 {
                pl::DataType::Int64 => Buffer::Int(Vec::with_capacity(rows_guess)),
                pl::DataType::Float64 => Buffer::Float(Vec::with_capacity(rows_guess)),
                pl::DataType::String => Buffer::Text(Vec::with_capacity(rows_guess)),
                _ => return None,
            }
        };
        slots[field] = Some(columns.len());
        columns.push(Column {
            name: name.clone(),
            buffer,
            nulls: Vec::new(),
        });
    }
    let rows = scan(body, sep, &slots, &mut columns, layout.null_values)?;
    let out: Vec<pl::Column> = columns.into_iter().map(|c| c.finish(rows)).collect();
    pl::DataFrame::new(rows, out).ok()
}

/// Walks the records of `body`, filling the projected columns; the number of records,
/// or `None` at the first thing this reader does not handle.
///
/// Fields before, between and after the projected ones are skipped by counting
/// separators in whole 64-byte windows where possible; every record must still have
/// exactly one field per column.
fn scan<'b>(
    body: &'b [u8],
    sep: u8,
    slots: &[Option<usize>],
    columns: &mut [Column<'b>],
    null_values: &[String],
) -> Option<usize> {
    let last = slots.len() - 1;
    let projected: Vec<(usize, usize)> = slots
        .iter()
        .enumerate()
        .filter_map(|(field, slot)| slot.map(|index| (field, index)))
        .collect();
    let mut ends = Structure::new(body, sep);
    let mut start = 0;
    let mut rows = 0;
    while start < body.len() {
        // The field that starts at `start`.
        let mut field = 0;
        for &(wanted, index) in &projected {
            if wanted > field {
                start = ends.skip_separators(wanted - field)? + 1;
            }
            let end = ends.next_end();
            let line_ends = end == body.len() || body[end] == b'\n';
            if line_ends != (wanted == last) {
                return None;
            }
            let mut text = body.get(start..end)?;
            if wanted == last {
                if let [head @ .., b'\r'] = text {
                    text = head;
                }
            }
            columns[index].push(text, rows, null_values)?;
            start = end + 1;
            field = wanted + 1;
        }
        if field <= last {
            let (separators, end) = ends.line_end();
            if separators != last - field {
                return None;
            }
            start = end + 1;
        }
        rows += 1;
    }
    Some(rows)
}

impl<'b> Column<'b> {
    /// Appends one field's value; `None` when the text is not one this reader parses.
    #[inline]
    fn push(&mut self, text: &'b [u8], row: usize, null_values: &[String]) -> Option<()> {
        let null = text.is_empty() || null_values.iter().any(|n| n.as_bytes() == text);
        match &mut self.buffer {
            Buffer::Text(v) => v.push(if null {
                None
            } else {
                Some(std::str::from_utf8(text).ok()?)
            }),
            Buffer::Int(v) => v.push(if null {
                self.nulls.push(row);
                0
            } else {
                parse_int(text)?
            }),
            Buffer::Float(v) => v.push(if null {
                self.nulls.push(row);
                0.0
            } else {
                parse_float(text)?
            }),
            Buffer::Datetime(v) => v.push(if null {
                self.nulls.push(row);
                0
            } else {
                dates::parse_micros(std::str::from_utf8(text).ok()?)?
            }),
        }
        Some(())
    }

    fn finish(self, rows: usize) -> pl::Column {
        let (name, nulls) = (self.name, self.nulls);
        let series = match self.buffer {
            Buffer::Text(v) => {
                pl::StringChunked::from_iter_options(name, v.into_iter()).into_series()
            }
            Buffer::Int(v) => numbers::<pl::Int64Type>(name, v, &nulls).into_series(),
            Buffer::Float(v) => numbers::<pl::Float64Type>(name, v, &nulls).into_series(),
            Buffer::Datetime(v) => numbers::<pl::Int64Type>(name, v, &nulls)
                .into_datetime(pl::TimeUnit::Microseconds, None)
                .into_series(),
        };
        debug_assert_eq!(series.len(), rows);
        series.into_column()
    }
}

/// A numeric column of `values`, null at the rows in `nulls` (sorted).
fn numbers<T: pl::PolarsNumericType>(
    name: pl::PlSmallStr,
    values: Vec<T::Native>,
    nulls: &[usize],
) -> pl::ChunkedArray<T> {
    if nulls.is_empty() {
        return pl::ChunkedArray::from_vec(name, values);
    }
    pl::ChunkedArray::from_iter_options(
        name,
        values
            .into_iter()
            .enumerate()
            .map(|(i, x)| nulls.binary_search(&i).is_err().then_some(x)),
    )
}

/// A decimal integer (`-?[0-9]{1,18}`; longer ones go to Polars).
#[inline]
fn parse_int(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v = 0i64;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if negative { -v } else { v })
}

/// Powers of ten exactly representable as `f64`.
const EXACT_POWERS: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A decimal float, correctly rounded (as Polars' parser rounds). Plain decimals of at
/// most 15 significant digits take the exact path: both the digits and the power of
/// ten are exact doubles, so one division rounds correctly. Other forms (exponents,
/// longer numbers) go through the standard library's correctly rounded parser; text
/// that is not a plain number (`inf`, `NaN`, spaces) goes to Polars.
#[inline]
fn parse_float(text: &[u8]) -> Option<f64> {
    let (negative, body) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    let mut mantissa = 0u64;
    let mut digits = 0usize;
    let mut scale = None;
    for (i, &c) in body.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d <= 9 {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            digits += 1;
        } else if c == b'.' && scale.is_none() {
            scale = Some(body.len() - i - 1);
        } else {
            return parse_float_general(text);
        }
    }
    let scale = scale.unwrap_or(0);
    if digits == 0 {
        return None;
    }
    if digits > 15 || scale >= EXACT_POWERS.len() {
        return parse_float_general(text);
    }
    let v = mantissa as f64 / EXACT_POWERS[scale];
    Some(if negative { -v } else { v })
}

fn parse_float_general(text: &[u8]) -> Option<f64> {
    if !text
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// The positions of separators and line ends in a block, in order, found 64 bytes
/// at a time.
struct Structure<'b> {
    bytes: &'b [u8],
    sep: u8,
    /// Where the current 64-byte window starts.
    base: usize,
    /// Bits of the structural bytes of the window not yet consumed.
    mask: u64,
    /// Bits of the window's line ends (consumed or not).
    lines: u64,
}

impl<'b> Structure<'b> {
    fn new(bytes: &'b [u8], sep: u8) -> Self {
        let mut s = Structure {
            bytes,
            sep,
            base: 0,
            mask: 0,
            lines: 0,
        };
        s.load();
        s
    }

    /// Reads the masks of the window at `base` (bytes past the end count as neither).
    #[inline]
    fn load(&mut self) {
        let rest = self.bytes.get(self.base..).unwrap_or(&[]);
        let mut padded = [0u8; 64];
        let chunk = match rest.first_chunk::<64>() {
            Some(chunk) => chunk,
            None => {
                // Zero bytes are neither separator nor line end (the separator is not 0).
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        self.lines = mask64(chunk, b'\n');
        self.mask = mask64(chunk, self.sep) | self.lines;
    }

    /// Moves to the next window; false past the end.
    #[inline]
    fn advance(&mut self) -> bool {
        if self.base >= self.bytes.len() {
            return false;
        }
        self.base += 64;
        self.load();
        true
    }

    /// The position of the next separator or line end (`bytes.len()` when none is left).
    #[inline]
    fn next_end(&mut self) -> usize {
        while self.mask == 0 {
            if !self.advance() {
                return self.bytes.len();
            }
        }
        let bit = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        self.base + bit
    }

    /// Consumes the next `n` (at least 1) structural bytes, which must all be
    /// separators; the position of the last, or `None` when a line or the data ends
    /// first.
    #[inline]
    fn skip_separators(&mut self, mut n: usize) -> Option<usize> {
        loop {
            let available = self.mask.count_ones() as usize;
            if available < n {
                if self.mask & self.lines != 0 {
                    return None;
                }
                n -= available;
                self.mask = 0;
                if !self.advance() {
                    return None;
                }
                continue;
            }
            // The n-th remaining bit of this window.
            let mut m = self.mask;
            for _ in 1..n {
                m &= m - 1;
            }
            let bit = m.trailing_zeros();
            let taken = through(bit);
            if self.mask & self.lines & taken != 0 {
                return None;
            }
            self.mask &= !taken;
            return Some(self.base + bit as usize);
        }
    }

    /// Consumes everything up to and including the next line end: the number of
    /// separators before it and its position (`bytes.len()` when the data ends first).
    #[inline]
    fn line_end(&mut self) -> (usize, usize) {
        let mut separators = 0;
        loop {
            let pending = self.mask & self.lines;
            if pending != 0 {
                let bit = pending.trailing_zeros();
                let before = (1u64 << bit) - 1;
                separators += (self.mask & before).count_ones() as usize;
                self.mask &= !through(bit);
                return (separators, self.base + bit as usize);
            }
            separators += self.mask.count_ones() as usize;
            self.mask = 0;
            if !self.advance() {
                return (separators, self.bytes.len());
            }
        }
    }
}

/// Bits `0..=bit`.
#[inline]
fn through(bit: u32) -> u64 {
    u64::MAX >> (63 - bit)
}

/// Bit `i` is set when `chunk[i]` is `byte`: eight bytes at a time as one word (a
/// plain loop over the bytes compiles to shuffles and shifts, five times slower).
#[inline]
fn mask64(chunk: &[u8; 64], byte: u8) -> u64 {
    let pattern = u64::from(byte) * 0x0101_0101_0101_0101;
    let mut m = 0u64;
    for (k, word) in chunk.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        m |= matches8(u64::from_le_bytes(w) ^ pattern) << (8 * k);
    }
    m
}

/// Bit `i` is set when byte `i` of `x` is zero. The high bit of a byte survives
/// `(low seven bits + 0x7f) | byte` exactly when the byte is not zero, with no carry
/// into the next byte; the multiplication gathers the eight flags into one byte.
#[inline]
fn matches8(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let zero = !(((x & LOW7).wrapping_add(LOW7)) | x) & !LOW7;
    (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

#[cfg(test)]
mod tests {
    //! The fast reader must give exactly the frame of Polars' reader (with datetimes
    //! parsed afterwards, as the general path does) or decline.
    use super::{parse_float, read, Layout, Structure};
    use polars::prelude as pl;
    use polars::prelude::{IntoLazy, SerReader};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn schema() -> Vec<(String, pl::DataType)> {
        vec![
            ("id".into(), pl::DataType::Int64),
            ("x".into(), pl::DataType::Float64),
            ("s".into(), pl::DataType::String),
            ("t".into(), super::dates::datetime_type()),
            ("k".into(), pl::DataType::Int64),
        ]
    }

    /// Polars' reader on the same bytes: the general path of `TextBlock::lazy`.
    fn polars_read(bytes: &[u8], layout: &Layout<'_>) -> pl::DataFrame {
        let mut read_schema = pl::Schema::default();
        for (n, t) in layout.schema {
            let t = if layout.dates.contains(n) {
                pl::DataType::String
            } else {
                t.clone()
            };
            read_schema.with_column(n.as_str().into(), t);
        }
        let nulls = (!layout.null_values.is_empty()).then(|| {
            pl::NullValues::AllColumns(
                layout
                    .null_values
                    .iter()
                    .map(|s| s.as_str().into())
                    .collect(),
            )
        });
        let df = pl::CsvReadOptions::default()
            .with_raise_if_empty(false)
            .with_has_header(layout.header)
            .with_schema(Some(Arc::new(read_schema)))
            .with_columns(Some(Arc::from(layout.projection.to_vec())))
            .with_parse_options(
                pl::CsvParseOptions::default()
                    .with_separator(layout.separator)
                    .with_null_values(nulls),
            )
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .expect("Polars reads the block");
        let dates: Vec<pl::Expr> = layout
            .dates
            .iter()
            .filter(|d| layout.projection.iter().any(|p| p == d.as_str()))
            .map(|d| super::dates::parse_expr(d))
            .collect();
        df.lazy()
            .with_columns(dates)
            .collect()
            .expect("dates parse")
    }

    fn layout<'a>(
        schema: &'a [(String, pl::DataType)],
        projection: &'a [pl::PlSmallStr],
        header: bool,
        nulls: &'a [String],
    ) -> Layout<'a> {
        Layout {
            schema,
            projection,
            dates: std::slice::from_ref(&schema[3].0),
            separator: b',',
            header,
            skip_rows: 0,
            null_values: nulls,
        }
    }

    fn int_text() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => (-99_999_999_999_999_999i64..=99_999_999_999_999_999).prop_map(|v| v.to_string()),
            3 => (-20i64..20).prop_map(|v| v.to_string()),
            1 => Just(String::new()),
            1 => Just("NA".to_string()),
        ]
    }

    fn float_text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (-1e6f64..1e6).prop_map(|v| v.to_string()),
            2 => (any::<i32>(), 0u32..12).prop_map(|(m, k)| {
                let s = m.unsigned_abs().to_string();
                let k = (k as usize).min(s.len());
                let (a, b) = s.split_at(s.len() - k);
                format!("{}{a}.{b}", if m < 0 { "-" } else { "" })
            }),
            1 => (-1e300f64..1e300).prop_map(|v| format!("{v:e}")),
            1 => (1e-300f64..1e-200).prop_map(|v| v.to_string()),
            1 => (0u64..100_000_000_000_000_000).prop_map(|v| format!("0.{v}")),
            1 => prop::sample::select(vec!["1.", ".5", "-.25", "0", "-0.0", "1E5", "2e-3", "+4.5"])
                .prop_map(String::from),
            1 => Just(String::new()),
            1 => Just("NA".to_string()),
        ]
    }

    fn string_text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 _.é-]{0,8}"
    }

    fn date_text() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => (-2_208_988_800i64..4_102_444_800).prop_map(|s| {
                chrono::DateTime::from_timestamp(s, 0)
                    .unwrap()
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            }),
            1 => (0i64..2_000_000_000, 0u32..1_000_000).prop_map(|(s, us)| {
                chrono::DateTime::from_timestamp(s, us * 1000)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%S%.6f")
                    .to_string()
            }),
            1 => Just(String::new()),
        ]
    }

    fn row() -> impl Strategy<Value = Vec<String>> {
        (
            int_text(),
            float_text(),
            string_text(),
            date_text(),
            int_text(),
        )
            .prop_map(|(a, b, c, d, e)| vec![a, b, c, d, e])
    }

    /// A block's text: optional header, rows, `\n` or `\r\n`, a final line end or not.
    fn block(
        header: bool,
        rows: &[Vec<String>],
        separator: u8,
        crlf: bool,
        last_newline: bool,
    ) -> Vec<u8> {
        let eol = if crlf { "\r\n" } else { "\n" };
        let sep = char::from(separator).to_string();
        let mut lines = Vec::new();
        if header {
            lines.push(["id", "x", "s", "t", "k"].join(&sep));
        }
        lines.extend(rows.iter().map(|r| r.join(&sep)));
        let mut text = lines.join(eol);
        if last_newline && !lines.is_empty() {
            text.push_str(eol);
        }
        text.into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn reads_what_polars_reads(
            rows in prop::collection::vec(row(), 0..40),
            header in any::<bool>(),
            crlf in any::<bool>(),
            last_newline in any::<bool>(),
            wanted in prop::collection::vec(any::<bool>(), 5),
            na in any::<bool>(),
            separator in prop::sample::select(vec![b',', b';', b'\t', b'|']),
        ) {
            let schema = schema();
            let mut projection: Vec<pl::PlSmallStr> = schema
                .iter()
                .zip(&wanted)
                .filter(|(_, w)| **w)
                .map(|((n, _), _)| n.as_str().into())
                .collect();
            if projection.is_empty() {
                projection.push("k".into());
            }
            let nulls = if na { vec!["NA".to_string()] } else { Vec::new() };
            // Without "NA" as null, an "NA" number is an error: such blocks are not
            // for this test (see `declines_what_it_does_not_parse`).
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|mut r| {
                    if !na {
                        for (i, v) in r.iter_mut().enumerate() {
                            if v == "NA" && i != 2 {
                                v.clear();
                            }
                        }
                    }
                    r
                })
                .collect();
            let bytes = block(header, &rows, separator, crlf, last_newline);
            let layout = Layout { separator, ..layout(&schema, &projection, header, &nulls) };
            let fast = read(&bytes, &layout);
            prop_assert!(fast.is_some(), "declined {:?}", String::from_utf8_lossy(&bytes));
            let fast = fast.unwrap();
            let expected = polars_read(&bytes, &layout);
            prop_assert_eq!(fast.schema(), expected.schema());
            prop_assert!(
                fast.equals_missing(&expected),
                "{:?}\nfast {}\npolars {}", String::from_utf8_lossy(&bytes), fast, expected
            );
        }

        #[test]
        fn structure_finds_every_separator_and_line_end(
            bytes in prop::collection::vec(prop::sample::select(vec![b'a', b',', b'\n', b';']), 0..300)
        ) {
            let mut s = Structure::new(&bytes, b',');
            let mut found = Vec::new();
            loop {
                let p = s.next_end();
                if p == bytes.len() {
                    break;
                }
                found.push(p);
            }
            let expected: Vec<usize> = bytes
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == b',' || **c == b'\n')
                .map(|(i, _)| i)
                .collect();
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn masks_flag_exactly_the_matching_bytes(
            bytes in prop::collection::vec(any::<u8>(), 64),
            byte in any::<u8>(),
        ) {
            let chunk: [u8; 64] = bytes.clone().try_into().unwrap();
            let expected = bytes
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &c)| m | (u64::from(c == byte) << i));
            prop_assert_eq!(super::mask64(&chunk, byte), expected);
        }

        #[test]
        fn floats_round_like_the_standard_parser(
            m in prop_oneof![any::<i64>(), -999_999_999_999_999i64..=999_999_999_999_999],
            k in 0usize..20,
        ) {
            let s = m.unsigned_abs().to_string();
            let k = k.min(s.len());
            let (a, b) = s.split_at(s.len() - k);
            let text = format!("{}{a}.{b}", if m < 0 { "-" } else { "" });
            let expected: f64 = text.parse().unwrap();
            prop_assert_eq!(parse_float(text.as_bytes()).map(f64::to_bits), Some(expected.to_bits()));
        }
    }

    #[test]
    fn declines_ragged_lines_whatever_it_reads() {
        let schema = schema();
        let ok = "1,2.5,a,2015-01-15 19:05:39,3\n";
        for wanted in [
            vec!["id", "x", "s", "t", "k"],
            vec!["id"],
            vec!["x"],
            vec!["k"],
            vec!["id", "k"],
        ] {
            let projection: Vec<pl::PlSmallStr> = wanted.iter().map(|n| (*n).into()).collect();
            let layout = layout(&schema, &projection, false, &[]);
            assert!(
                read(format!("{ok}{ok}").as_bytes(), &layout).is_some(),
                "{wanted:?}"
            );
            for bad in [
                "1,2.5,a,2015-01-15 19:05:39\n",
                "1,2.5,a,2015-01-15 19:05:39,3,4\n",
                "1\n",
                "1,2.5,a,2015-01-15 19:05:39,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20\n",
                "\n",
                "1,2.5,a,2015-01-15 19:05:39", // the data ends inside a record
            ] {
                for bytes in [
                    format!("{ok}{bad}{ok}"),
                    format!("{bad}{ok}"),
                    format!("{ok}{bad}"),
                ] {
                    assert!(
                        read(bytes.as_bytes(), &layout).is_none(),
                        "{wanted:?} {bytes:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn declines_what_it_does_not_parse() {
        let schema = schema();
        let projection: Vec<pl::PlSmallStr> =
            schema.iter().map(|(n, _)| n.as_str().into()).collect();
        let ok = "1,2.5,a,2015-01-15 19:05:39,3\n";
        // Rows to skip are Polars' to count.
        let skipping = Layout {
            skip_rows: 1,
            ..layout(&schema, &projection, false, &[])
        };
        assert!(read(ok.as_bytes(), &skipping).is_none());
        let layout = layout(&schema, &projection, false, &[]);
        assert!(read(ok.as_bytes(), &layout).is_some());
        for bad in [
            "1,2.5,\"a\",2015-01-15 19:05:39,3\n",               // a quote
            "1,2.5,a,2015-01-15 19:05:39\n",                     // too few fields
            "1,2.5,a,2015-01-15 19:05:39,3,4\n",                 // too many fields
            "1,2.5,a,2015-01-15 19:05:39,3\n\n",                 // a blank line
            "x,2.5,a,2015-01-15 19:05:39,3\n",                   // not an integer
            "1,inf,a,2015-01-15 19:05:39,3\n",                   // a float spelled out
            " 1,2.5,a,2015-01-15 19:05:39,3\n",                  // a space before a number
            "1,2.5,a,2015-02-30 19:05:39,3\n",                   // no such date
            "1,2.5,a,2015-01-15 19:05:39,1234567890123456789\n", // 19 digits
            "1,2.5,a,2015-01-15 19:05:39,NA\n",                  // "NA" without null_values
        ] {
            let bytes = format!("{ok}{bad}");
            assert!(read(bytes.as_bytes(), &layout).is_none(), "{bad:?}");
        }
    }
}
