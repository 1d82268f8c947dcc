//! Tests of the fast CSV block reader: it must give exactly the frame of Polars'
//! reader (with datetimes parsed afterwards, as the general path does) or decline.

use super::columns::parse_float;
use super::reader::{read, Layout};
use super::structure::{mask64, Structure};
use crate::dataframe::dates;
use polars::prelude as pl;
use polars::prelude::{IntoLazy, SerReader};
use proptest::prelude::*;
use std::sync::Arc;

fn schema() -> Vec<(String, pl::DataType)> {
    vec![
        ("id".into(), pl::DataType::Int64),
        ("x".into(), pl::DataType::Float64),
        ("s".into(), pl::DataType::String),
        ("t".into(), dates::datetime_type()),
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
        .map(|d| dates::parse_expr(d))
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
        prop_assert_eq!(mask64(&chunk, byte), expected);
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
    let projection: Vec<pl::PlSmallStr> = schema.iter().map(|(n, _)| n.as_str().into()).collect();
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
