//! The errors of the collections come back from `brisk_core::Error` as
//! `brisk_collections::Error`, with their context as fields and the error of Polars
//! below them as their source.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::{from_polars, read_csv, CsvOptions};
use brisk_collections::{array, Bag, Error};
use brisk_scheduler as _;
use polars::prelude::*;

/// The collections' error below a core error, if it is one.
fn ours(e: &brisk_core::Error) -> &Error {
    e.external_source()
        .and_then(|s| s.downcast_ref::<Error>())
        .unwrap_or_else(|| panic!("not a collections error: {e:?}"))
}

fn frame() -> brisk_collections::dataframe::DataFrame {
    let df = df!("k" => ["a", "b", "c"], "x" => [1i64, 2, 3]).unwrap();
    from_polars(&df, 2).unwrap()
}

#[test]
fn a_missing_column_lists_the_columns_present() {
    let e = frame().drop(&["nope"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"no column 'nope'; the columns are ["k", "x"]"#
    );
    match ours(&e) {
        Error::MissingColumn { column, present } => {
            assert_eq!(column, "nope");
            assert_eq!(present, &["k", "x"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_polars_error_keeps_its_source() {
    let e = frame().select([col("nope")]).unwrap_err();
    let ours = ours(&e);
    assert!(matches!(ours, Error::Polars { .. }), "{ours:?}");
    let source = std::error::Error::source(ours).expect("the Polars error is kept");
    assert!(source.downcast_ref::<PolarsError>().is_some(), "{source:?}");
    assert_eq!(e.to_string(), source.to_string());
}

#[test]
fn a_bad_csv_line_names_the_file_and_line_as_fields() {
    let dir = std::env::temp_dir().join(format!("brisk-errors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.csv");
    std::fs::write(&path, "n,s\n1,x\n2,y\n3,z,extra\n").unwrap();
    let e = read_csv(&[path.to_str().unwrap()], &CsvOptions::default())
        .unwrap()
        .compute()
        .unwrap_err();
    match ours(&e) {
        Error::Parse {
            file,
            line,
            block,
            message,
        } => {
            assert_eq!(file, path.to_str().unwrap());
            assert_eq!(*line, 4);
            assert_eq!(*block, None);
            assert_eq!(message, "expected 2 fields, found 3");
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn array_and_bag_errors_carry_their_numbers() {
    let a = array::zeros::<f64>(&[4, 4], &[2, 2]).unwrap();
    let e = a.sum(&[-3], false).unwrap_err();
    assert!(
        matches!(ours(&e), Error::AxisOutOfBounds { axis: -3, ndim: 2 }),
        "{e:?}"
    );
    let e = a.sum(&[1, -1], false).unwrap_err();
    assert!(
        matches!(ours(&e), Error::RepeatedAxis { axis: -1 }),
        "{e:?}"
    );
    let e = Bag::<i64>::from_sequence(vec![], 2)
        .unwrap()
        .max()
        .unwrap()
        .compute()
        .unwrap_err();
    assert!(
        matches!(ours(&e), Error::EmptyBag { reduction } if reduction == "max"),
        "{e:?}"
    );
}
