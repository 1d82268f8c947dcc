//! DataFrames read and written through `s3://` on a real S3-compatible server give
//! the same frames as from local disk.
#![cfg(feature = "dataframe")]

#[path = "../../io/tests/support/moto.rs"]
mod moto;

use brisk_collections::dataframe::{read_csv, read_parquet, Agg, CsvOptions, ParquetOptions};
use brisk_collections::datasets::{nyc_taxi, TaxiFormat};
use brisk_io::objects;
use brisk_io::url::StoreOptions;
use brisk_scheduler as _;
use polars::prelude::col;

#[test]
fn taxi_files_from_s3_match_local_disk() {
    let Some(server) = moto::start_moto() else {
        return;
    };
    assert_eq!(moto::http(server.port, "PUT", "/taxi").unwrap(), 200);
    let store = moto::options(server.port);
    let dir = std::env::temp_dir().join(format!("brisk-df-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut paths = nyc_taxi(2000, 2, 3, &dir, TaxiFormat::Csv).unwrap();
    paths.extend(nyc_taxi(2000, 2, 3, &dir, TaxiFormat::Parquet).unwrap());
    for p in &paths {
        let name = p.file_name().unwrap().to_str().unwrap();
        objects::put(
            &format!("s3://taxi/2015/{name}"),
            std::fs::read(p).unwrap(),
            &store,
        )
        .unwrap();
    }
    let dates = vec![
        "tpep_pickup_datetime".to_string(),
        "tpep_dropoff_datetime".to_string(),
    ];
    let csv = |url: &str, store: &StoreOptions| {
        read_csv(
            &[url],
            &CsvOptions {
                parse_dates: dates.clone(),
                blocksize: Some(50_000),
                store: store.clone(),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let remote = csv("s3://taxi/2015/*.csv", &store);
    let local = csv(
        &format!("{}/*.csv", dir.display()),
        &StoreOptions::default(),
    );
    assert_eq!(remote.npartitions(), local.npartitions());
    assert!(remote
        .compute()
        .unwrap()
        .equals_missing(&local.compute().unwrap()));

    let s3 = ParquetOptions {
        store: store.clone(),
        ..Default::default()
    };
    let remote = read_parquet(&["s3://taxi/2015/*.parquet"], &s3).unwrap();
    let local = read_parquet(
        &[&format!("{}/*.parquet", dir.display())],
        &ParquetOptions::default(),
    )
    .unwrap();
    let q = |df: &brisk_collections::dataframe::DataFrame| {
        df.groupby([col("payment_type")])
            .agg(&[Agg::mean("tip_amount"), Agg::size()])
            .unwrap()
            .compute()
            .unwrap()
    };
    assert!(q(&remote).equals_missing(&q(&local)));
    // Objects are fetched whole, so `aggregate_files` leaves them one a task.
    let fused = ParquetOptions {
        aggregate_files: true,
        ..s3.clone()
    };
    let remote = read_parquet(&["s3://taxi/2015/*.parquet"], &fused).unwrap();
    let counts = |df: &brisk_collections::dataframe::DataFrame| {
        df.groupby([col("payment_type")])
            .agg(&[Agg::sum("passenger_count"), Agg::size()])
            .unwrap()
            .compute()
            .unwrap()
    };
    assert!(counts(&remote).equals_missing(&counts(&local)));
    let (graph, _) = remote.agg(&[Agg::size()]).unwrap().to_graph().unwrap();
    assert!(!graph.layers().iter().any(|l| l.name.contains("fused")));

    // Written to S3 and read back.
    let files = local
        .to_parquet("s3://taxi/out/part-*.parquet", &store)
        .unwrap();
    assert_eq!(files[0], "s3://taxi/out/part-0.parquet");
    let back = read_parquet(&["s3://taxi/out/*.parquet"], &s3).unwrap();
    assert!(back
        .compute()
        .unwrap()
        .equals_missing(&local.compute().unwrap()));

    // A missing object is an error naming the URL.
    let err = read_parquet(&["s3://taxi/2015/nope.parquet"], &s3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("s3://taxi/2015/nope.parquet"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
