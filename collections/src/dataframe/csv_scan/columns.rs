//! The projected columns being filled, straight from the field texts (datetimes
//! to microseconds), and the integer and float parsers that fill them.

use crate::dataframe::dates;
use polars::prelude as pl;
use polars::prelude::{IntoColumn, IntoSeries, NewChunkedArray};

/// One projected column being filled.
pub(super) enum Buffer<'b> {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Text(Vec<Option<&'b str>>),
    /// Microseconds since the epoch.
    Datetime(Vec<i64>),
}

/// A projected column and its nulls.
pub(super) struct Column<'b> {
    pub name: pl::PlSmallStr,
    pub buffer: Buffer<'b>,
    /// Row numbers of nulls (numeric columns), in order.
    pub nulls: Vec<usize>,
}

impl<'b> Column<'b> {
    /// Appends one field's value; `None` when the text is not one this reader parses.
    #[inline]
    pub(super) fn push(
        &mut self,
        text: &'b [u8],
        row: usize,
        null_values: &[String],
    ) -> Option<()> {
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

    pub(super) fn finish(self, rows: usize) -> pl::Column {
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
pub(super) fn parse_float(text: &[u8]) -> Option<f64> {
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
