//! Brisk's Parquet writer: eager Polars reads back every value as it was written, bit
//! for bit; float columns whose values repeat are dictionary-encoded, the others are
//! stored as Polars stores them.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::write_parquet;
use polars::prelude::*;
use polars_parquet::parquet::metadata::FileMetadata;
use polars_parquet::parquet::read::read_metadata;
use std::io::Cursor;

/// Columns of every kind the writer treats apart: floats that repeat (amounts in
/// cents, f64 and f32), floats that hardly repeat, floats with nulls, the float
/// values a dictionary must keep apart (`0.0`, `-0.0`, NaN, infinity), and integers,
/// strings and datetimes (Polars' own encoders).
fn sample(n: usize) -> DataFrame {
    // Amounts in cents from a fixed pseudo-random sequence (no period for zstd to find).
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut cents = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 800) as f64 / 100.0
    };
    let odd = [0.0, -0.0, f64::NAN, f64::INFINITY, 1.5, f64::NEG_INFINITY];
    df!(
        "cents" => (0..n).map(|_| cents()).collect::<Vec<_>>(),
        "quarters32" => (0..n).map(|i| (i % 7) as f32 * 0.25).collect::<Vec<_>>(),
        "spread" => (0..n).map(|i| (i as f64 + 0.5).sqrt() * 1.000_001).collect::<Vec<_>>(),
        "with_nulls" => (0..n).map(|i| (i % 5 != 0).then_some((i % 3) as f64)).collect::<Vec<_>>(),
        "odd" => (0..n).map(|i| odd[i % odd.len()]).collect::<Vec<_>>(),
        "n" => (0..n as i64).collect::<Vec<_>>(),
        "s" => (0..n).map(|i| format!("k{}", i % 4)).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_column(
        (col("n") * lit(1_000_000i64))
            .cast(DataType::Datetime(TimeUnit::Microseconds, None))
            .alias("t"),
    )
    .collect()
    .unwrap()
}

fn write(df: &DataFrame, row_group: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let size = write_parquet(df, &mut out, row_group).unwrap();
    assert_eq!(size as usize, out.len());
    out
}

fn read_back(bytes: &[u8]) -> DataFrame {
    ParquetReader::new(Cursor::new(bytes.to_vec()))
        .finish()
        .unwrap()
}

fn metadata(bytes: &[u8]) -> FileMetadata {
    read_metadata(&mut Cursor::new(bytes)).unwrap()
}

/// Whether `column`'s chunk in every row group starts with a dictionary page.
fn dictionary_encoded(meta: &FileMetadata, column: &str) -> Vec<bool> {
    meta.row_groups
        .iter()
        .map(|rg| {
            let mut chunks = rg.columns_under_root_iter(column).unwrap();
            chunks.next().unwrap().dictionary_page_offset().is_some()
        })
        .collect()
}

/// A float column's values as their bits (`None`: not a float column).
fn float_bits(s: &Series) -> Option<Vec<Option<u64>>> {
    match s.dtype() {
        DataType::Float64 => Some(
            s.f64()
                .unwrap()
                .iter()
                .map(|v| v.map(f64::to_bits))
                .collect(),
        ),
        DataType::Float32 => Some(
            s.f32()
                .unwrap()
                .iter()
                .map(|v| v.map(|v| u64::from(v.to_bits())))
                .collect(),
        ),
        _ => None,
    }
}

/// `a` and `b` hold the same columns, dtypes, nulls and values, floats compared by
/// their bits (so `-0.0` is not `0.0` and NaN is NaN).
fn assert_same_bits(a: &DataFrame, b: &DataFrame) {
    assert_eq!(a.schema(), b.schema());
    for (x, y) in a.columns().iter().zip(b.columns()) {
        let (x, y) = (x.as_materialized_series(), y.as_materialized_series());
        match float_bits(x) {
            Some(bits) => assert_eq!(Some(bits), float_bits(y), "{}", x.name()),
            None => assert!(x.equals_missing(y), "{}", x.name()),
        }
    }
}

#[test]
fn every_value_reads_back_bit_for_bit() {
    let df = sample(10_000);
    let bytes = write(&df, 4_096);
    assert_same_bits(&df, &read_back(&bytes));
}

#[test]
fn rows_are_cut_into_row_groups_of_the_size_asked() {
    let df = sample(10_000);
    let meta = metadata(&write(&df, 4_096));
    let rows: Vec<usize> = meta.row_groups.iter().map(|rg| rg.num_rows()).collect();
    assert_eq!(rows, [4_096, 4_096, 1_808]);
}

#[test]
fn floats_that_repeat_are_dictionary_encoded_and_the_others_plain() {
    let meta = metadata(&write(&sample(10_000), 5_000));
    for repeating in ["cents", "quarters32", "with_nulls", "odd"] {
        assert_eq!(
            dictionary_encoded(&meta, repeating),
            [true; 2],
            "{repeating}"
        );
    }
    assert_eq!(dictionary_encoded(&meta, "spread"), [false; 2]);
    // Whether it pays is decided per row group: 700-odd distinct amounts pay in
    // 5,000 rows, not in 1,000.
    let meta = metadata(&write(&sample(6_000), 5_000));
    assert_eq!(dictionary_encoded(&meta, "cents"), [true, false]);
}

#[test]
fn a_dictionary_keeps_zero_negative_zero_and_nan_apart() {
    let df =
        df!("x" => [0.0, -0.0, f64::NAN, -f64::NAN, 0.0, -0.0, f64::NAN, -f64::NAN].repeat(64))
            .unwrap();
    let bytes = write(&df, 1_000);
    assert_eq!(dictionary_encoded(&metadata(&bytes), "x"), [true]);
    assert_same_bits(&df, &read_back(&bytes));
}

#[test]
fn a_float_column_of_nulls_only_is_written_plain() {
    let df = df!("x" => [None::<f64>; 100], "n" => [1i64; 100]).unwrap();
    let bytes = write(&df, 64);
    assert_eq!(dictionary_encoded(&metadata(&bytes), "x"), [false, false]);
    assert_same_bits(&df, &read_back(&bytes));
}

#[test]
fn an_empty_frame_keeps_its_schema() {
    let df = sample(0);
    let back = read_back(&write(&df, 100));
    assert_eq!(back.height(), 0);
    assert_eq!(back.schema(), df.schema());
}

#[test]
fn floats_that_repeat_make_a_smaller_file_than_polars_writes() {
    let df = sample(100_000).select(["cents", "quarters32"]).unwrap();
    let ours = write(&df, 50_000).len();
    let mut polars = Vec::new();
    ParquetWriter::new(&mut polars)
        .with_row_group_size(Some(50_000))
        .finish(&mut df.clone())
        .unwrap();
    assert!(
        ours < polars.len(),
        "{ours} bytes against Polars' {}",
        polars.len()
    );
}
