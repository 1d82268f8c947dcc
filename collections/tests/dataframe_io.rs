//! DataFrames read from CSV, Parquet and NDJSON files, checked against eager Polars
//! reading the same files; bad files give errors naming the file and line.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::{
    read_csv, read_json, read_parquet, Agg, CsvOptions, JsonOptions, ParquetOptions,
};
use brisk_collections::datasets::{nyc_taxi, TaxiFormat};
use brisk_io::url::StoreOptions;
use brisk_scheduler as _;
use polars::prelude::*;
use std::path::{Path, PathBuf};

mod frames;
use frames::{concat, eager_parquet, tempdir};

/// Eager Polars over each file, concatenated.
fn eager_csv(paths: &[PathBuf], dates: &[&str]) -> polars::prelude::DataFrame {
    concat(paths.iter().map(|p| {
        let mut overwrite = Schema::default();
        for d in dates {
            overwrite.with_column(
                (*d).into(),
                DataType::Datetime(TimeUnit::Microseconds, None),
            );
        }
        CsvReadOptions::default()
            .with_has_header(true)
            .with_schema_overwrite(Some(Arc::new(overwrite)))
            .try_into_reader_with_file_path(Some(p.clone()))
            .unwrap()
            .finish()
            .unwrap()
    }))
}

fn glob(dir: &Path, ext: &str) -> String {
    format!("{}/*.{ext}", dir.display())
}

const DATES: [&str; 2] = ["tpep_pickup_datetime", "tpep_dropoff_datetime"];

#[test]
fn taxi_csv_in_blocks_matches_eager_polars() {
    let dir = tempdir("csv");
    let paths = nyc_taxi(3000, 3, 11, &dir, TaxiFormat::Csv).unwrap();
    let want = eager_csv(&paths, &DATES);
    assert_eq!(want.height(), 3000);
    assert_eq!(want.width(), 19);
    for blocksize in [None, Some(20_000), Some(1_000_000)] {
        let options = CsvOptions {
            parse_dates: DATES.iter().map(|s| s.to_string()).collect(),
            blocksize,
            ..Default::default()
        };
        let ddf = read_csv(&[&glob(&dir, "csv")], &options).unwrap();
        if blocksize == Some(20_000) {
            assert!(ddf.npartitions() > 3, "files are cut into blocks");
        }
        assert_eq!(ddf.dtypes(), &polars_fields(&want));
        let got = ddf.compute().unwrap();
        assert!(got.equals_missing(&want), "blocksize {blocksize:?}");
        // The post's questions on the parsed frame.
        let zero_tip = ddf
            .filter(col("tip_amount").eq(lit(0.0)))
            .unwrap()
            .value_counts("payment_type")
            .unwrap()
            .compute()
            .unwrap();
        let eager = want
            .clone()
            .lazy()
            .filter(col("tip_amount").eq(lit(0.0)))
            .group_by([col("payment_type")])
            .agg([len().alias("count")])
            .sort(
                ["count"],
                SortMultipleOptions::default().with_order_descending(true),
            )
            .collect()
            .unwrap();
        assert!(zero_tip.equals(&eager), "{zero_tip}\n{eager}");
        let by_hour = ddf
            .with_columns([(col("tip_amount") / col("fare_amount")).alias("tip_fraction")])
            .unwrap()
            .filter(col("fare_amount").gt(lit(0.0)))
            .unwrap()
            .groupby([col("tpep_pickup_datetime").dt().hour().alias("hour")])
            .agg(&[Agg::mean("tip_fraction")])
            .unwrap()
            .compute()
            .unwrap();
        let eager = want
            .clone()
            .lazy()
            .with_columns([(col("tip_amount") / col("fare_amount")).alias("tip_fraction")])
            .filter(col("fare_amount").gt(lit(0.0)))
            .group_by([col("tpep_pickup_datetime").dt().hour().alias("hour")])
            .agg([col("tip_fraction").mean()])
            .sort(["hour"], Default::default())
            .collect()
            .unwrap();
        assert_eq!(by_hour.height(), 24);
        let (a, b) = (
            by_hour.column("tip_fraction").unwrap().f64().unwrap(),
            eager.column("tip_fraction").unwrap().f64().unwrap(),
        );
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x.unwrap() - y.unwrap()).abs() < 1e-12);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn polars_fields(df: &polars::prelude::DataFrame) -> Vec<(String, DataType)> {
    df.schema()
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect()
}

#[test]
fn taxi_parquet_by_row_group_matches_eager_polars() {
    let dir = tempdir("parquet");
    let paths = nyc_taxi(300_000, 2, 5, &dir, TaxiFormat::Parquet).unwrap();
    let by_file = read_parquet(&[&glob(&dir, "parquet")], &ParquetOptions::default()).unwrap();
    assert_eq!(by_file.npartitions(), 2);
    let split = ParquetOptions {
        split_row_groups: true,
        ..Default::default()
    };
    let ddf = read_parquet(&[&glob(&dir, "parquet")], &split).unwrap();
    // 150,000 rows a file in row groups of 131,072: two row groups each.
    assert_eq!(ddf.npartitions(), 4);
    let want = eager_parquet(&paths);
    assert!(ddf.compute().unwrap().equals_missing(&want));
    assert!(by_file.compute().unwrap().equals_missing(&want));
    // A projection and a filter run inside each partition's scan.
    for ddf in [&ddf, &by_file] {
        let got = ddf
            .filter(col("passenger_count").gt(lit(3)))
            .unwrap()
            .select([col("passenger_count"), col("trip_distance")])
            .unwrap()
            .agg(&[Agg::size(), Agg::sum("trip_distance")])
            .unwrap()
            .compute()
            .unwrap();
        let eager = want
            .clone()
            .lazy()
            .filter(col("passenger_count").gt(lit(3)))
            .select([len().alias("size"), col("trip_distance").sum()])
            .collect()
            .unwrap();
        assert_eq!(got.column("size").unwrap(), eager.column("size").unwrap());
        let (a, b) = (
            got.column("trip_distance")
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap(),
            eager
                .column("trip_distance")
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap(),
        );
        assert!((a - b).abs() < 1e-6 * b, "{a} vs {b}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ndjson_and_csv_options_match_eager_polars() {
    let dir = tempdir("ndjson");
    let lines: String = (0..500)
        .map(|i| {
            format!(
                "{{\"a\": {i}, \"b\": \"s{}\", \"c\": {}}}\n",
                i % 7,
                i as f64 / 4.0
            )
        })
        .collect();
    std::fs::write(dir.join("x.json"), &lines).unwrap();
    let options = JsonOptions {
        blocksize: Some(4000),
        ..Default::default()
    };
    let ddf = read_json(&[&glob(&dir, "json")], &options).unwrap();
    assert!(ddf.npartitions() > 1);
    let want = JsonReader::new(std::io::Cursor::new(lines.as_bytes()))
        .with_json_format(JsonFormat::JsonLines)
        .finish()
        .unwrap();
    assert!(ddf.compute().unwrap().equals_missing(&want));

    // skip_rows, a separator, null values and a dtype override.
    std::fs::write(
        dir.join("t.csv"),
        "a comment line\nx;y;z\n1;NA;2.5\n2;b;NA\n3;c;1\n",
    )
    .unwrap();
    let options = CsvOptions {
        skip_rows: 1,
        separator: b';',
        null_values: vec!["NA".into()],
        dtypes: vec![("x".into(), DataType::Float64)],
        ..Default::default()
    };
    let got = read_csv(&[&glob(&dir, "csv")], &options)
        .unwrap()
        .compute()
        .unwrap();
    let want = df!(
        "x" => [1.0, 2.0, 3.0],
        "y" => [None, Some("b"), Some("c")],
        "z" => [Some(2.5), None, Some(1.0)]
    )
    .unwrap();
    assert!(got.equals_missing(&want), "{got}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `len()` and `agg(size)` of a CSV frame count records without parsing them; the
/// counts, and the parsed frame, must equal eager Polars reading the whole file,
/// whatever the blocks: quoted fields holding line ends, a row of empty fields,
/// skipped rows, blank lines before the header, a file without a final line end, a
/// file holding only its header, and lines longer than a block (blocks holding no
/// record at all).
#[test]
fn csv_row_counts_equal_the_parsed_height() {
    let dir = tempdir("csv-count");
    let mut quoted = String::from("id,note,v\n");
    for i in 0..400 {
        if i % 37 == 0 {
            quoted.push_str(&format!("{i},\"two\nlines, and a comma\",{i}.5\n"));
        } else {
            quoted.push_str(&format!("{i},plain,{i}.25\n"));
        }
    }
    let long = format!(
        "id,note,v\n1,{},1.5\n2,b,2.5\n3,{},3.5\n",
        "x".repeat(90),
        "y".repeat(60)
    );
    // Blocks are cut at line ends (as Dask's are), so a file whose quoted fields hold
    // line ends is read whole.
    let whole: &[Option<u64>] = &[None];
    let cut: &[Option<u64>] = &[None, Some(24), Some(1_000)];
    let cases: [(&str, String, usize, &[Option<u64>]); 9] = [
        ("quoted", quoted, 0, whole),
        (
            "unterminated",
            "id,note,v\n1,a,1.5\n2,b,2.5\n3,c,3.5".to_string(),
            0,
            cut,
        ),
        (
            "skipped",
            "generated by hand\nid,note,v\n1,a,1.5\n,,\n2,b,2.5\n".to_string(),
            1,
            cut,
        ),
        (
            "blank_first",
            "\n\nid,note,v\n1,a,1.5\n2,b,2.5\n".to_string(),
            0,
            whole,
        ),
        ("header_only", "id,note,v\n".to_string(), 0, cut),
        ("long_lines", long, 0, &[None, Some(8), Some(24), Some(40)]),
        // Skipped lines and a header longer than a block: later blocks start after
        // them, not inside them.
        (
            "long_preamble",
            "# written by a tool with a long banner line\n# second\n# third\nid,note,v\n1,a,1.5\n2,b,2.5\n3,c,3.5\n"
                .to_string(),
            3,
            &[None, Some(8), Some(24), Some(40), Some(70)],
        ),
        (
            "blank_preamble",
            "# banner line one\n\n# two\n\nid,note,v\n1,a,1.5\n2,b,2.5\n".to_string(),
            4,
            &[None, Some(6), Some(20), Some(30)],
        ),
        (
            "quoted_preamble",
            "\"a skipped line,\nquoted over two lines\"\nid,note,v\n1,a,1.5\n2,b,2.5\n".to_string(),
            1,
            &[None, Some(6), Some(20), Some(30), Some(45)],
        ),
    ];
    for (name, text, skip_rows, blocksizes) in cases {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join("t.csv");
        std::fs::write(&path, &text).unwrap();
        let want = CsvReadOptions::default()
            .with_skip_rows(skip_rows)
            .try_into_reader_with_file_path(Some(path.clone()))
            .unwrap()
            .finish()
            .unwrap();
        for &blocksize in blocksizes {
            let options = CsvOptions {
                skip_rows,
                blocksize,
                ..Default::default()
            };
            let ddf = read_csv(&[&glob(&sub, "csv")], &options).unwrap();
            let got = ddf.compute().unwrap();
            assert!(
                got.equals_missing(&want),
                "{name}, blocksize {blocksize:?}: {got} vs {want}"
            );
            assert_eq!(
                ddf.len().unwrap(),
                want.height(),
                "{name}, blocksize {blocksize:?}"
            );
            let size = ddf.agg(&[Agg::size()]).unwrap().compute().unwrap();
            let counted = size
                .column("size")
                .unwrap()
                .cast(&DataType::UInt64)
                .unwrap();
            assert_eq!(
                counted.u64().unwrap().get(0),
                Some(want.height() as u64),
                "{name}"
            );
        }
    }
    // The heights, by hand, so the oracle itself is pinned.
    let height = |name: &str, skip_rows: usize| {
        let options = CsvOptions {
            skip_rows,
            ..Default::default()
        };
        read_csv(&[&glob(&dir.join(name), "csv")], &options)
            .unwrap()
            .len()
            .unwrap()
    };
    assert_eq!(height("quoted", 0), 400);
    assert_eq!(height("skipped", 1), 3);
    assert_eq!(height("blank_first", 0), 2);
    assert_eq!(height("long_lines", 0), 3);
    assert_eq!(height("long_preamble", 3), 3);
    assert_eq!(height("blank_preamble", 4), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_csv_rows_are_errors_naming_the_file_and_line() {
    let dir = tempdir("bad-csv");
    let good: String = (0..50)
        .map(|i| format!("{i},2015-01-01 00:00:{:02},x\n", i % 60))
        .collect();
    std::fs::write(dir.join("a.csv"), format!("n,t,s\n{good}")).unwrap();
    let options = CsvOptions {
        parse_dates: vec!["t".into()],
        ..Default::default()
    };
    // A row with too many fields on line 30 of the file.
    let mut rows: Vec<String> = good.lines().map(str::to_string).collect();
    rows[28] = "28,2015-01-01 00:00:28,x,extra".into();
    std::fs::write(dir.join("b.csv"), format!("n,t,s\n{}\n", rows.join("\n"))).unwrap();
    let ddf = read_csv(&[dir.join("b.csv").to_str().unwrap()], &options).unwrap();
    let err = ddf.compute().unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "{} line 30: expected 3 fields, found 4",
            dir.join("b.csv").display()
        )),
        "{err}"
    );
    // An unparsable date on line 12.
    let mut rows: Vec<String> = good.lines().map(str::to_string).collect();
    rows[10] = "10,not a date,x".into();
    std::fs::write(dir.join("c.csv"), format!("n,t,s\n{}\n", rows.join("\n"))).unwrap();
    let err = read_csv(&[dir.join("c.csv").to_str().unwrap()], &options)
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "{} line 12, column 't': cannot parse 'not a date' as datetime[μs]",
            dir.join("c.csv").display()
        )),
        "{err}"
    );
    // Files whose schemas disagree: both files and the column are named.
    let disagreement = |name: &str, text: &str| -> String {
        std::fs::write(dir.join(name), text).unwrap();
        let files = [dir.join("a.csv"), dir.join(name)];
        let urls: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
        let err = read_csv(&urls, &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.csv") && err.contains(name), "{err}");
        err
    };
    let err = disagreement("d.csv", "n,u,s\n1,2,x\n");
    assert!(err.contains("column 't'"), "{err}");
    let err = disagreement("e.csv", "n,t,s\n1,2,3.5\n");
    assert!(err.ends_with("column 't': str versus i64"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_parquet_and_csv_read_back_the_same() {
    let dir = tempdir("write");
    let pdf = df!(
        "a" => [1i64, 2, 3, 4, 5],
        "b" => [Some("x"), None, Some("z"), Some("w"), Some("v")],
        "c" => [0.5, 1.5, 2.5, 3.5, 4.5]
    )
    .unwrap();
    let ddf = brisk_collections::dataframe::from_polars(&pdf, 3).unwrap();
    let store = StoreOptions::default();
    let files = ddf
        .to_parquet(&format!("{}/pq/part-*.parquet", dir.display()), &store)
        .unwrap();
    assert_eq!(files.len(), 3);
    assert!(files[2].ends_with("pq/part-2.parquet"), "{files:?}");
    let back = read_parquet(
        &[&format!("{}/pq/*.parquet", dir.display())],
        &ParquetOptions::default(),
    )
    .unwrap();
    assert!(back.compute().unwrap().equals_missing(&pdf));
    let files = ddf
        .to_csv(&format!("{}/csv/part-*.csv.gz", dir.display()), &store)
        .unwrap();
    assert_eq!(files.len(), 3);
    let back = read_csv(
        &[&format!("{}/csv/*.csv.gz", dir.display())],
        &CsvOptions::default(),
    )
    .unwrap();
    assert!(back.compute().unwrap().equals_missing(&pdf));
    let err = ddf
        .to_csv(&format!("{}/x.csv", dir.display()), &store)
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs exactly one '*'"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file found by a glob is read as that file, even when its name looks like a
/// pattern (read as one, `run[1]-0.parquet` names `run1-0.parquet`, which is not there).
#[test]
fn parquet_files_with_pattern_characters_in_their_names_are_read() {
    let dir = tempdir("pattern-names");
    let pdf = df!("a" => [1i64, 2, 3], "b" => [0.5, 1.5, 2.5]).unwrap();
    let ddf = brisk_collections::dataframe::from_polars(&pdf, 1).unwrap();
    let store = StoreOptions::default();
    ddf.to_parquet(&format!("{}/run[1]-*.parquet", dir.display()), &store)
        .unwrap();
    let back = read_parquet(
        &[&format!("{}/*.parquet", dir.display())],
        &ParquetOptions::default(),
    )
    .unwrap();
    assert_eq!(back.npartitions(), 1);
    assert!(back.compute().unwrap().equals_missing(&pdf));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bag_records_become_a_dataframe() {
    use brisk_collections::bag::{Bag, Json};
    let texts: Vec<String> = (0..50)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"type\": \"t{}\", \"score\": {:.1}}}",
                i % 3,
                i as f64 / 2.0
            )
        })
        .collect();
    let records: Vec<Json> = texts
        .iter()
        .map(|t| Json::parse(t.as_bytes()).unwrap())
        .collect();
    let want = JsonReader::new(std::io::Cursor::new(texts.join("\n").into_bytes()))
        .with_json_format(JsonFormat::JsonLines)
        .finish()
        .unwrap();
    for n in [1, 4, 80] {
        let ddf = Bag::from_sequence(records.clone(), n)
            .unwrap()
            .to_dataframe()
            .unwrap();
        assert_eq!(ddf.columns(), ["id", "type", "score"]);
        assert!(
            ddf.compute().unwrap().equals_missing(&want),
            "{n} partitions"
        );
    }
}

/// Files whose numeric columns differ in width (or integer against float) are read
/// as Polars' common supertype (Int32 and Int64: Int64; Int32 and Float64:
/// Float64), which every partition then has.
#[test]
fn parquet_files_whose_numbers_differ_in_width_are_read_as_the_common_type() {
    let dir = tempdir("widen");
    let mut a = df!("k" => ["a", "b"], "x" => [1i32, 2], "y" => [0.5f64, 1.5]).unwrap();
    let mut b = df!("k" => ["a", "c"], "x" => [3i64, 4], "y" => [2i32, 3]).unwrap();
    for (name, df) in [("a.parquet", &mut a), ("b.parquet", &mut b)] {
        ParquetWriter::new(std::fs::File::create(dir.join(name)).unwrap())
            .finish(df)
            .unwrap();
    }
    for split_row_groups in [false, true] {
        let options = ParquetOptions {
            split_row_groups,
            ..Default::default()
        };
        let ddf = read_parquet(&[&glob(&dir, "parquet")], &options).unwrap();
        assert_eq!(
            ddf.dtypes(),
            [
                ("k".to_string(), DataType::String),
                ("x".to_string(), DataType::Int64),
                ("y".to_string(), DataType::Float64),
            ]
        );
        let want = df!(
            "k" => ["a", "b", "a", "c"],
            "x" => [1i64, 2, 3, 4],
            "y" => [0.5f64, 1.5, 2.0, 3.0]
        )
        .unwrap();
        assert!(ddf.compute().unwrap().equals_missing(&want));
        let sums = ddf
            .groupby([col("k")])
            .agg(&[Agg::sum("x"), Agg::sum("y")])
            .unwrap()
            .compute()
            .unwrap();
        let want = df!(
            "k" => ["a", "b", "c"],
            "x" => [4i64, 2, 4],
            "y" => [2.5f64, 1.5, 3.0]
        )
        .unwrap();
        assert!(sums.equals_missing(&want), "{sums}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
