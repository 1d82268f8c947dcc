//! The 2016 "Pandas on HDFS with Dask Dataframes" session on generated NYC-taxi
//! trips: rides, passengers, payment types overall and for zero-tip rides, and the
//! mean tip fraction by weekday and by hour.
//!
//! ```text
//! cargo run --release --example nyc_taxi                # generates 1,000,000 trips in 4 CSV files
//! cargo run --release --example nyc_taxi -- DIR         # reads DIR/*.csv (generates if empty)
//! ```

use brisk::collections::dataframe::{col, lit, read_csv, Agg, CsvOptions};
use brisk::collections::datasets::{nyc_taxi, TaxiFormat};
use std::path::PathBuf;
use std::time::Instant;

fn timed<T>(label: &str, f: impl FnOnce() -> brisk::Result<T>) -> brisk::Result<T> {
    let t = Instant::now();
    let out = f()?;
    println!("  ({label}: {:.3} s)", t.elapsed().as_secs_f64());
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    brisk::init();
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("brisk-nyc-taxi"));
    let has_csv = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "csv"))
        })
        .unwrap_or(false);
    if !has_csv {
        let t = Instant::now();
        nyc_taxi(1_000_000, 4, 2015, &dir, TaxiFormat::Csv)?;
        println!(
            "generated 1,000,000 trips in 4 CSV files in {} ({:.2} s)",
            dir.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let options = CsvOptions {
        parse_dates: vec![
            "tpep_pickup_datetime".into(),
            "tpep_dropoff_datetime".into(),
        ],
        ..Default::default()
    };
    let source = format!("{}/*.csv", dir.display());
    println!("reading {source}");
    let df = read_csv(&[&source], &options)?;
    println!(
        "{} partitions; columns {:?}",
        df.npartitions(),
        df.columns()
    );
    // Keep the parsed frame in memory, as the 2016 session did with persist().
    let df = timed("read + parse + persist", || df.persist())?;

    let rides = timed("rides", || df.len())?;
    println!("rides: {rides}");

    let passengers = timed("passengers", || {
        df.agg(&[Agg::sum("passenger_count")])?.compute()
    })?;
    println!(
        "passengers: {}",
        passengers.column("passenger_count")?.get(0)?
    );

    let payments = timed("payment types", || {
        df.value_counts("payment_type")?.compute()
    })?;
    println!("payment types:\n{payments}");

    let zero_tip = timed("payment types of zero-tip rides", || {
        df.filter(col("tip_amount").eq(lit(0.0)))?
            .value_counts("payment_type")?
            .compute()
    })?;
    println!("payment types of zero-tip rides:\n{zero_tip}");

    let tipped = df
        .filter(
            col("tip_amount")
                .gt(lit(0.0))
                .and(col("fare_amount").gt(lit(0.0))),
        )?
        .with_columns([(col("tip_amount") / col("fare_amount")).alias("tip_fraction")])?;
    let by_weekday = timed("mean tip fraction by weekday", || {
        tipped
            .groupby([col("tpep_pickup_datetime").dt().weekday().alias("weekday")])
            .agg(&[Agg::mean("tip_fraction")])?
            .compute()
    })?;
    println!("mean tip fraction by weekday (1 = Monday):\n{by_weekday}");

    let by_hour = timed("mean tip fraction by hour", || {
        tipped
            .groupby([col("tpep_pickup_datetime").dt().hour().alias("hour")])
            .agg(&[Agg::mean("tip_fraction")])?
            .compute()
    })?;
    println!("mean tip fraction by hour:\n{by_hour}");
    Ok(())
}
