//! The errors of the collections come back from `brisk_core::Error` as
//! `brisk_collections::Error`, with their context as fields and the error of Polars
//! below them as their source.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::{from_polars, read_csv, read_json, CsvOptions, JsonOptions};
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
fn a_polars_error_is_kept_whole_and_said_once() {
    let e = frame().select([col("nope")]).unwrap_err();
    let ours = ours(&e);
    let Error::Polars { error, .. } = ours else {
        panic!("{ours:?}");
    };
    assert!(error.to_string().contains("\"nope\""), "{error:?}");
    assert_eq!(e.to_string(), error.to_string());
    // Its message is the whole story: no source repeats it.
    assert!(std::error::Error::source(&e).is_none(), "{e:?}");
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
            column,
            value,
            message,
        } => {
            assert_eq!(file, path.to_str().unwrap());
            assert_eq!(*line, 4);
            assert_eq!((column, value), (&None, &None));
            assert_eq!(message, "expected 2 fields, found 3");
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An empty scratch directory for one test.
fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brisk-errors-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The error and its sources, one message a line, as error reporters print them.
fn chain(e: &brisk_core::Error) -> String {
    let mut text = e.to_string();
    let mut next = std::error::Error::source(e);
    while let Some(source) = next {
        text.push('\n');
        text.push_str(&source.to_string());
        next = source.source();
    }
    text
}

/// Checks that `e` is the parse error `headline` (file, line, column, value first),
/// said once in the whole chain, with the task it came from after it.
fn assert_reported_once(e: &brisk_core::Error, headline: &str) {
    let text = chain(e);
    assert!(e.to_string().starts_with(headline), "{text}");
    assert_eq!(text.matches(headline).count(), 1, "{text}");
    assert!(e.to_string().contains("(in task "), "{text}");
}

/// Rows `n,t,s` with dates written month first; the row of file line `bad_line`
/// (the header is line 1) has `bad` instead of its fields.
fn month_first_rows(rows: usize, bad_line: usize, bad: &str) -> String {
    let mut text = String::from("n,t,s\n");
    for i in 0..rows {
        if i + 2 == bad_line {
            text.push_str(bad);
        } else {
            let (month, day) = (i % 12 + 1, i % 28 + 1);
            text.push_str(&format!(
                "{i},{month:02}/{day:02}/2015 10:{:02}:00,row {i}",
                i % 60
            ));
        }
        text.push('\n');
    }
    text
}

#[test]
fn a_bad_value_far_down_is_named_by_its_file_line_column_and_value_whatever_the_blocks() {
    let dir = scratch("far-down");
    let path = dir.join("dates.csv");
    let url = path.to_str().unwrap().to_string();
    // Month-first datetimes, which the reader accepts; one integer is not one (the
    // sample that finds the schema holds the whole file here, so `n` is typed).
    std::fs::write(
        &path,
        month_first_rows(3000, 2871, "28x9,01/05/2015 10:00:00,x"),
    )
    .unwrap();
    for blocksize in [Some(64), Some(4096), None] {
        let options = CsvOptions {
            parse_dates: vec!["t".into()],
            dtypes: vec![("n".into(), DataType::Int64)],
            blocksize,
            ..Default::default()
        };
        let e = read_csv(&[&url], &options).unwrap().compute().unwrap_err();
        assert_reported_once(
            &e,
            &format!("{url} line 2871, column 'n': cannot parse '28x9' as i64"),
        );
        match ours(&e) {
            Error::Parse {
                file,
                line,
                column,
                value,
                ..
            } => {
                assert_eq!((file.as_str(), *line), (url.as_str(), 2871));
                assert_eq!(column.as_deref(), Some("n"));
                assert_eq!(value.as_deref(), Some("28x9"));
            }
            other => panic!("{blocksize:?}: {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_month_first_date_far_down_is_blamed_not_the_good_ones_before_it() {
    let dir = scratch("month-first");
    let path = dir.join("dates.csv");
    let url = path.to_str().unwrap().to_string();
    std::fs::write(
        &path,
        month_first_rows(3000, 2504, "2502,13/45/2015 10:00:00,x"),
    )
    .unwrap();
    for blocksize in [Some(64), Some(1000), None] {
        let options = CsvOptions {
            parse_dates: vec!["t".into()],
            blocksize,
            ..Default::default()
        };
        let ddf = read_csv(&[&url], &options).unwrap();
        let headline = format!(
            "{url} line 2504, column 't': cannot parse '13/45/2015 10:00:00' as datetime[μs]"
        );
        assert_reported_once(&ddf.compute().unwrap_err(), &headline);
        // Reading the date column alone blames the same line.
        assert_reported_once(&ddf.column("t").unwrap().compute().unwrap_err(), &headline);
        // The other columns read without it are fine.
        assert_eq!(ddf.column("s").unwrap().compute().unwrap().len(), 3000);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_row_with_too_many_fields_is_the_same_error_from_len_a_column_and_compute() {
    let dir = scratch("too-many");
    let url = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let rows = |bad: &str| -> String {
        let mut text = String::from("n,s,x\n");
        for i in 0..400 {
            if i + 2 == 333 {
                text.push_str(bad);
            } else {
                text.push_str(&format!("{i},s{i},{i}.5"));
            }
            text.push('\n');
        }
        text
    };
    std::fs::write(dir.join("plain.csv"), rows("331,s331,331.5,extra")).unwrap();
    // Quoted fields send every read to Polars' reader.
    std::fs::write(dir.join("quoted.csv"), rows("331,\"s,331\",331.5,extra")).unwrap();
    for (name, found) in [("plain.csv", 4), ("quoted.csv", 4)] {
        for blocksize in [Some(64), Some(2048), None] {
            let options = CsvOptions {
                blocksize,
                ..Default::default()
            };
            let ddf = read_csv(&[&url(name)], &options).unwrap();
            let headline = format!("{} line 333: expected 3 fields, found {found}", url(name));
            let errors = [
                ddf.len().unwrap_err(),
                ddf.column("s").unwrap().compute().unwrap_err(),
                ddf.column("x")
                    .unwrap()
                    .sum()
                    .unwrap()
                    .compute()
                    .unwrap_err(),
                ddf.compute().unwrap_err(),
            ];
            for e in &errors {
                assert_reported_once(e, &headline);
                assert!(
                    matches!(
                        ours(e),
                        Error::Parse {
                            line: 333,
                            column: None,
                            ..
                        }
                    ),
                    "{name} {blocksize:?}: {e}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_row_with_too_few_fields_is_read_with_nulls_by_len_a_column_and_compute_alike() {
    let dir = scratch("too-few");
    let path = dir.join("short.csv");
    let url = path.to_str().unwrap().to_string();
    std::fs::write(&path, "n,s,x\n1,a,1.5\n2,b\n3,c,3.5\n").unwrap();
    for blocksize in [Some(8), None] {
        let options = CsvOptions {
            blocksize,
            ..Default::default()
        };
        let ddf = read_csv(&[&url], &options).unwrap();
        // As Polars (and pandas) read it: the missing field is null.
        assert_eq!(ddf.len().unwrap(), 3);
        let x = ddf.column("x").unwrap().compute().unwrap();
        assert_eq!(
            x.f64().unwrap().iter().collect::<Vec<_>>(),
            [Some(1.5), None, Some(3.5)]
        );
        assert_eq!(ddf.compute().unwrap().height(), 3);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_malformed_json_line_far_down_is_named_by_its_file_line_whatever_the_blocks() {
    let dir = scratch("json");
    let path = dir.join("events.json");
    let url = path.to_str().unwrap().to_string();
    // The bad line is past the sample that finds the schema (the first 256 KB).
    let mut text = String::new();
    for i in 0..10_000 {
        if i == 9_420 {
            text.push_str("{\"n\": 9420, \"s\": \"unterminated}\n");
        } else {
            text.push_str(&format!("{{\"n\": {i}, \"s\": \"row {i}\"}}\n"));
        }
    }
    std::fs::write(&path, text).unwrap();
    for blocksize in [Some(512), Some(64 * 1024), None] {
        let options = JsonOptions {
            blocksize,
            ..Default::default()
        };
        let e = read_json(&[&url], &options).unwrap().compute().unwrap_err();
        assert_reported_once(&e, &format!("{url} line 9421: "));
        assert!(
            matches!(ours(&e), Error::Parse { line: 9421, .. }),
            "{blocksize:?}: {e}"
        );
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
