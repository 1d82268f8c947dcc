//! Fast datetime parsing for CSV columns: `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with a
//! `T`) is read by hand, anything else by chrono with a few common formats.
//! Polars' own inference runs a regex and a generic strftime parser per value,
//! which costs more than reading the rest of a taxi-trip row.

use polars::prelude as pl;
use polars::prelude::{polars_err, IntoColumn, IntoSeries, NamedFrom, PolarsResult};

/// The Polars type of parsed datetimes.
pub(crate) fn datetime_type() -> pl::DataType {
    pl::DataType::Datetime(pl::TimeUnit::Microseconds, None)
}

/// An expression parsing string column `name` into microsecond datetimes; a value
/// that is not a datetime is an error naming it.
pub(crate) fn parse_expr(name: &str) -> pl::Expr {
    pl::col(name).map(parse_column, |_, f| {
        Ok(pl::Field::new(f.name().clone(), datetime_type()))
    })
}

fn parse_column(c: pl::Column) -> PolarsResult<pl::Column> {
    if c.dtype() == &datetime_type() {
        return Ok(c);
    }
    let s = c.as_materialized_series();
    let ca = s.str()?;
    let mut out: Vec<Option<i64>> = Vec::with_capacity(ca.len());
    for v in ca.iter() {
        out.push(match v {
            None => None,
            Some(t) => {
                Some(parse_micros(t).ok_or_else(
                    || polars_err!(ComputeError: "cannot parse '{}' as a datetime", t),
                )?)
            }
        });
    }
    let ints = pl::Int64Chunked::new(s.name().clone(), out);
    Ok(ints
        .into_datetime(pl::TimeUnit::Microseconds, None)
        .into_series()
        .into_column())
}

/// Microseconds since 1970-01-01 of a datetime string.
pub(crate) fn parse_micros(t: &str) -> Option<i64> {
    fast(t.as_bytes()).or_else(|| slow(t.trim()))
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn fast(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut micros = days_from_civil(y, m, d) * 86_400_000_000;
    if b.len() == 10 {
        return Some(micros);
    }
    if b.len() < 19 || !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    micros += ((h * 60 + mi) * 60 + s) * 1_000_000;
    match &b[19..] {
        [] => Some(micros),
        [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= 9 => {
            let f = digits(frac)?;
            let scaled = f * 10i64.pow(9 - frac.len() as u32) / 1000;
            Some(micros + scaled)
        }
        _ => None,
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn slow(t: &str) -> Option<i64> {
    use chrono::NaiveDateTime;
    const FORMATS: [&str; 6] = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .map(|dt| dt.and_utc().timestamp_micros())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%m/%d/%Y")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|dt| dt.and_utc().timestamp_micros())
        })
}

#[cfg(test)]
mod tests {
    use super::parse_micros;

    #[test]
    fn datetimes_parse_like_chrono() {
        let cases = [
            ("1970-01-01 00:00:00", 0),
            ("2015-01-15 19:05:39", 1_421_348_739_000_000),
            ("2015-01-15T19:05:39.5", 1_421_348_739_500_000),
            ("2016-02-29", 1_456_704_000_000_000),
            ("1969-12-31 23:59:59", -1_000_000),
            ("2015-01-15 19:05", 1_421_348_700_000_000),
            ("01/15/2015 19:05:39", 1_421_348_739_000_000),
        ];
        for (text, micros) in cases {
            assert_eq!(parse_micros(text), Some(micros), "{text}");
        }
        for bad in [
            "2015-02-29",
            "2015-13-01 00:00:00",
            "not a date",
            "2015-01-15 25:00:00",
            "",
        ] {
            assert_eq!(parse_micros(bad), None, "{bad}");
        }
    }
}
