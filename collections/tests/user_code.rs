//! One method per operation: DataFrame `map_partitions` and `groupby(..).apply`,
//! Array `map_blocks` and `Delayed::then` take a registered `#[brisk::task]`
//! function or a named closure. Registered functions give eager Polars' and
//! ndarray's results on every executor, including one that rebuilds every op from
//! its name and bytes as a worker does; closures run locally and are refused
//! there.

mod support;

use brisk_collections::array;
use brisk_collections::dataframe::from_polars;
use brisk_collections::delayed;
use brisk_core::executor::Executor;
use brisk_macros::task;
use ndarray::ArrayD;
use polars::prelude::*;
use support::{close, executors, sample, Rebuilding};

fn trips() -> DataFrame {
    let n = 97;
    df!(
        "vendor" => (0..n).map(|i| ["a", "b", "c"][i % 3]).collect::<Vec<_>>(),
        "fare" => (0..n).map(|i| ((i * 37) % 50) as f64 + 2.5).collect::<Vec<_>>(),
        "tip" => (0..n).map(|i| ((i * 11) % 7) as f64).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn sorted(df: DataFrame, by: &[&str]) -> DataFrame {
    df.sort(by.iter().copied(), SortMultipleOptions::default())
        .unwrap()
}

#[task]
fn with_total(df: &DataFrame, #[bound] tip_share: f64) -> DataFrame {
    df.clone()
        .lazy()
        .with_columns([(col("fare") + col("tip") * lit(tip_share)).alias("total")])
        .collect()
        .unwrap()
}

#[task]
fn largest_fare(group: &DataFrame) -> DataFrame {
    group
        .clone()
        .lazy()
        .sort(
            ["fare"],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .limit(1)
        .collect()
        .unwrap()
}

#[task]
fn shifted(block: &ArrayD<f64>, #[bound] by: f64) -> ArrayD<f64> {
    block.mapv(|v| v * 2.0 + by)
}

/// Each fare minus the mean of the fares on either side (null at the ends).
#[task]
fn against_neighbours(df: &DataFrame) -> DataFrame {
    df.clone()
        .lazy()
        .select([
            col("vendor"),
            (col("fare") - (col("fare").shift(lit(1)) + col("fare").shift(lit(-1))) / lit(2.0))
                .alias("bump"),
        ])
        .collect()
        .unwrap()
}

#[task]
fn fare_change(df: &DataFrame) -> DataFrame {
    df.clone()
        .lazy()
        .select([(col("fare") - col("fare").shift(lit(1))).alias("change")])
        .collect()
        .unwrap()
}

#[task]
fn weighted(a: &ArrayD<f64>, b: &ArrayD<f64>, #[bound] w: f64) -> ArrayD<f64> {
    a * w + b * (1.0 - w)
}

#[task]
fn squared(x: &i64) -> i64 {
    x * x
}

#[test]
fn map_partitions_with_a_registered_function_matches_eager_polars_everywhere() {
    let pdf = trips();
    let want = with_total(&pdf, 0.5);
    for ex in executors() {
        for n in [1, 3, 10] {
            let ddf = from_polars(&pdf, n).unwrap();
            let out = ddf.map_partitions(with_total::task_fn(0.5)).unwrap();
            assert_eq!(out.columns(), ["vendor", "fare", "tip", "total"]);
            assert_eq!(
                out.compute_with(ex.as_ref()).unwrap(),
                want,
                "{n} partitions"
            );
        }
    }
}

#[test]
fn a_bound_parameter_of_map_partitions_is_part_of_the_key() {
    let ddf = from_polars(&trips(), 3).unwrap();
    let a = ddf.map_partitions(with_total::task_fn(0.5)).unwrap();
    let b = ddf.map_partitions(with_total::task_fn(0.25)).unwrap();
    let again = ddf.map_partitions(with_total::task_fn(0.5)).unwrap();
    assert_ne!(a.to_graph().unwrap().1, b.to_graph().unwrap().1);
    assert_eq!(a.to_graph().unwrap().1, again.to_graph().unwrap().1);
}

#[test]
fn map_partitions_finds_the_schema_from_an_empty_frame_or_is_given_it() {
    let pdf = trips();
    let ddf = from_polars(&pdf, 4).unwrap();
    let counts = ddf
        .map_partitions(("rows", |df: &DataFrame| {
            Ok(df!("rows" => [df.height() as u32]).unwrap())
        }))
        .unwrap();
    assert_eq!(counts.dtypes(), [("rows".to_string(), DataType::UInt32)]);
    let got = counts.compute().unwrap();
    assert_eq!(got.column("rows").unwrap().u32().unwrap().sum(), Some(97));

    // A function that cannot run on an empty frame needs its schema given.
    let first_fare = |df: &DataFrame| -> brisk_core::Result<DataFrame> {
        if df.height() == 0 {
            return Err(brisk_core::Error::user("an empty partition"));
        }
        let v = df.column("fare").unwrap().f64().unwrap().get(0);
        Ok(df!("first" => [v]).unwrap())
    };
    let e = ddf
        .map_partitions(("first-fare", first_fare))
        .expect_err("no schema");
    let msg = e.to_string();
    assert!(
        msg.contains("map_partitions_with_meta") && msg.contains("an empty partition"),
        "{msg}"
    );
    let meta = Schema::from_iter([Field::new("first".into(), DataType::Float64)]);
    let firsts = ddf
        .map_partitions_with_meta(("first-fare", first_fare), &meta)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(firsts.height(), 4);

    // One that panics on an empty frame is an error too, not a panic here.
    let panicky = |df: &DataFrame| -> brisk_core::Result<DataFrame> {
        let v = df.column("fare").unwrap().f64().unwrap().get(0).unwrap();
        Ok(df!("first" => [v]).unwrap())
    };
    let e = ddf
        .map_partitions(("panicky", panicky))
        .expect_err("a panic");
    assert!(e.to_string().contains("panicked"), "{e}");
}

#[test]
fn groupby_apply_with_a_registered_function_matches_eager_polars_everywhere() {
    let pdf = trips();
    let want = sorted(
        pdf.clone()
            .lazy()
            .sort(
                ["fare"],
                SortMultipleOptions::default().with_order_descending(true),
            )
            .group_by_stable([col("vendor")])
            .agg([col("fare").first(), col("tip").first()])
            .collect()
            .unwrap(),
        &["vendor"],
    );
    for ex in executors() {
        for n in [1, 4] {
            let got = from_polars(&pdf, n)
                .unwrap()
                .groupby([col("vendor")])
                .apply(largest_fare::task_fn())
                .unwrap()
                .compute_with(ex.as_ref())
                .unwrap();
            let got = sorted(got.select(["vendor", "fare", "tip"]).unwrap(), &["vendor"]);
            assert_eq!(got, want, "{n} partitions");
        }
    }
}

#[test]
fn map_overlap_sees_the_rows_across_partition_edges() {
    let pdf = trips();
    let want = against_neighbours(&pdf);
    for ex in executors() {
        for n in [1, 2, 7, 20] {
            let ddf = from_polars(&pdf, n).unwrap();
            let got = ddf
                .map_overlap(against_neighbours::task_fn(), 1, 1)
                .unwrap()
                .compute_with(ex.as_ref())
                .unwrap();
            assert_eq!(got, want, "{n} partitions");
        }
    }
    // A function that drops rows cannot be trimmed back: an error saying so.
    let ddf = from_polars(&pdf, 4).unwrap();
    let e = ddf
        .map_overlap(("head", |df: &DataFrame| Ok(df.head(Some(1)))), 2, 2)
        .unwrap()
        .compute()
        .unwrap_err();
    assert!(
        e.to_string().contains("must keep the rows it is given"),
        "{e}"
    );
    // The column form: the function gets the column as a one-column frame.
    let want = fare_change(&pdf.select(["fare"]).unwrap());
    let got = ddf
        .column("fare")
        .unwrap()
        .map_overlap(fare_change::task_fn(), 1, 0)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(
        got,
        want.column("change")
            .unwrap()
            .as_materialized_series()
            .clone()
    );
}

#[test]
fn map_blocks_with_a_registered_function_matches_ndarray_everywhere() {
    let x = sample(&[9, 7]);
    let want = x.mapv(|v| v * 2.0 + 1.0);
    for ex in executors() {
        let a = array::from_array(&x, &[4, 3]).unwrap();
        let got = a.map_blocks(shifted::task_fn(1.0), None).unwrap();
        close(&got.compute_with(ex.as_ref()).unwrap(), &want, "map_blocks");
    }
}

#[test]
fn blockwise_with_registered_functions_of_one_and_two_blocks_matches_ndarray_everywhere() {
    let x = sample(&[9, 7]);
    let y = x.mapv(|v| v * 0.5 - 3.0);
    let want = &x * 0.25 + &y * 0.75;
    for ex in executors() {
        // Different chunks: the second is rechunked to the first's.
        let a = array::from_array(&x, &[4, 3]).unwrap();
        let b = array::from_array(&y, &[5, 7]).unwrap();
        let got = array::blockwise(weighted::task_fn(0.25), &[&a, &b]).unwrap();
        close(&got.compute_with(ex.as_ref()).unwrap(), &want, "two blocks");
        let one = array::blockwise(shifted::task_fn(1.0), &[&a]).unwrap();
        close(
            &one.compute_with(ex.as_ref()).unwrap(),
            &x.mapv(|v| v * 2.0 + 1.0),
            "one",
        );
    }
    let a = array::from_array(&x, &[4, 3]).unwrap();
    let e = array::blockwise(weighted::task_fn(0.5), &[&a]).unwrap_err();
    assert!(
        e.to_string().contains("takes 2 block(s), given 1 arrays"),
        "{e}"
    );
}

#[test]
fn delayed_then_with_a_registered_function_runs_anywhere() {
    let x = delayed::value(12_i64).unwrap();
    for ex in executors() {
        let y = x.then(squared::task_fn()).unwrap();
        assert_eq!(y.compute_with(ex.as_ref()).unwrap(), 144);
    }
}

#[test]
fn closures_run_locally_and_are_refused_where_code_must_travel() {
    let ddf = from_polars(&trips(), 2).unwrap();
    let local = ddf
        .map_partitions(("same", |df: &DataFrame| Ok(df.clone())))
        .unwrap();
    assert_eq!(local.compute().unwrap(), trips());
    let e = local
        .compute_with(&Rebuilding as &dyn Executor)
        .unwrap_err();
    assert!(e.to_string().contains("same"), "{e}");
    let a = array::from_array(&sample(&[4]), &[2]).unwrap();
    let b = a
        .map_blocks(("negated", |b: &ArrayD<f64>| Ok(-b)), None)
        .unwrap();
    assert!(b.compute_with(&Rebuilding as &dyn Executor).is_err());
}
