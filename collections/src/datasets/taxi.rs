//! NYC yellow-taxi trips shaped like the 2015 TLC files.

use super::Rng;
use crate::dataframe::write_parquet;
use crate::error;
use brisk_core::Result;
use polars::prelude as pl;
use polars::prelude::SerWriter;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file format of [`nyc_taxi`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxiFormat {
    /// CSV with a header; datetimes as `2015-01-15 19:05:39`.
    Csv,
    /// Parquet with datetime columns, row groups of 131,072 rows, written by
    /// [`write_parquet`] (amounts dictionary-encoded, as pyarrow writes them).
    Parquet,
}

/// Rows in a Parquet row group.
const ROW_GROUP: usize = 131_072;

/// Seconds in 2015.
const YEAR_SECONDS: i64 = 365 * 24 * 3600;
/// 2015-01-01 00:00:00 UTC in Unix seconds.
const START: i64 = 1_420_070_400;

/// Relative pickup volume by hour of day (quiet before dawn, busy in the evening).
const HOURLY: [f64; 24] = [
    3.5, 2.6, 1.9, 1.4, 1.1, 1.0, 2.0, 3.6, 4.6, 4.6, 4.4, 4.6, 4.9, 4.9, 5.1, 5.1, 4.7, 5.4, 6.3,
    6.4, 6.0, 5.6, 5.2, 4.5,
];

/// Writes `rows` taxi trips into `files` files `yellow_tripdata_2015-NN.csv` (or
/// `.parquet`) in `dir`, each covering the next stretch of 2015, sorted by pickup
/// time; returns their paths. The same arguments write the same bytes.
///
/// The 19 columns of the 2015 yellow-taxi files, with plausible distributions:
/// mostly one passenger; payment type 1 (card, 62 %) or 2 (cash, 37 %, never a
/// tip); tips higher late at night; a few zero fares.
pub fn nyc_taxi(
    rows: usize,
    files: usize,
    seed: u64,
    dir: &Path,
    format: TaxiFormat,
) -> Result<Vec<PathBuf>> {
    let files = files.max(1);
    std::fs::create_dir_all(dir)
        .map_err(|e| error::io(format!("cannot create {}", dir.display()), e))?;
    let mut rng = Rng::new(seed);
    let mut cumulative = [0.0; 24];
    let mut acc = 0.0;
    for (h, w) in HOURLY.iter().enumerate() {
        acc += w;
        cumulative[h] = acc;
    }
    let mut paths = Vec::with_capacity(files);
    for f in 0..files {
        let n = (f + 1) * rows / files - f * rows / files;
        let span = (
            YEAR_SECONDS / files as i64,
            f as i64 * YEAR_SECONDS / files as i64,
        );
        let mut df = trips(&mut rng, n, span, &cumulative, acc)?;
        let ext = match format {
            TaxiFormat::Csv => "csv",
            TaxiFormat::Parquet => "parquet",
        };
        let path = dir.join(format!("yellow_tripdata_2015-{:02}.{ext}", f + 1));
        let file = std::fs::File::create(&path)
            .map_err(|e| error::io(format!("cannot create {}", path.display()), e))?;
        let written = match format {
            TaxiFormat::Csv => pl::CsvWriter::new(file)
                .with_datetime_format(Some("%Y-%m-%d %H:%M:%S".into()))
                .finish(&mut df),
            TaxiFormat::Parquet => {
                let mut out = std::io::BufWriter::new(file);
                write_parquet(&df, &mut out, ROW_GROUP)
                    .and_then(|_| out.flush().map_err(pl::PolarsError::from))
            }
        };
        written.map_err(|e| error::polars(format!("cannot write {}", path.display()), e))?;
        paths.push(path);
    }
    Ok(paths)
}

fn pick(rng: &mut Rng, table: &[(f64, i64)]) -> i64 {
    let mut u = rng.f64();
    for (p, v) in table {
        if u < *p {
            return *v;
        }
        u -= p;
    }
    table[table.len() - 1].1
}

fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.f64().max(1e-12);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn trips(
    rng: &mut Rng,
    n: usize,
    (span, from): (i64, i64),
    cumulative: &[f64; 24],
    total: f64,
) -> Result<pl::DataFrame> {
    let days = (span / 86_400).max(1);
    let mut pickups: Vec<i64> = (0..n)
        .map(|_| {
            let day = rng.below(days as u64) as i64;
            let u = rng.f64() * total;
            let hour = cumulative.iter().position(|c| u < *c).unwrap_or(23) as i64;
            START + from + day * 86_400 + hour * 3600 + rng.below(3600) as i64
        })
        .collect();
    pickups.sort_unstable();
    let mut c = Columns::with_capacity(n);
    for &pickup in &pickups {
        let hour = ((pickup - START) % 86_400) / 3600;
        let distance = round2((0.9 + 0.8 * normal(rng)).exp().min(60.0));
        let minutes = distance * (2.5 + 2.0 * rng.f64()) + 2.0 + 4.0 * rng.f64();
        let dropoff = pickup + (minutes * 60.0) as i64;
        let rate = pick(rng, &[(0.97, 1), (0.02, 2), (0.005, 5), (0.005, 3)]);
        let payment = pick(rng, &[(0.62, 1), (0.372, 2), (0.006, 3), (0.002, 4)]);
        let zero_fare = rng.f64() < 0.001;
        let fare = if zero_fare {
            0.0
        } else if rate == 2 {
            52.0
        } else {
            round2((2.5 + 2.5 * distance + 0.5 * minutes * 0.3).max(2.5) * 2.0).round() / 2.0
        };
        let extra = match hour {
            20..=23 | 0..=5 => 0.5,
            16..=19 => 1.0,
            _ => 0.0,
        };
        let mta = if zero_fare { 0.0 } else { 0.5 };
        let late = matches!(hour, 22..=23 | 0..=3);
        let tip = if payment == 1 && !zero_fare {
            let rate = if late { 0.22 } else { 0.16 } + 0.05 * normal(rng);
            round2((fare * rate.max(0.0)).max(0.0))
        } else {
            0.0
        };
        let tolls = if rng.f64() < 0.05 { 5.54 } else { 0.0 };
        let surcharge = if zero_fare { 0.0 } else { 0.3 };
        c.vendor.push(if rng.f64() < 0.52 { 2 } else { 1 });
        c.pickup.push(pickup * 1_000_000);
        c.dropoff.push(dropoff * 1_000_000);
        c.passengers.push(pick(
            rng,
            &[
                (0.70, 1),
                (0.14, 2),
                (0.04, 3),
                (0.02, 4),
                (0.05, 5),
                (0.03, 6),
                (0.02, 0),
            ],
        ));
        c.distance.push(distance);
        c.pickup_lon.push(-73.98 + 0.03 * normal(rng));
        c.pickup_lat.push(40.75 + 0.03 * normal(rng));
        c.rate.push(rate);
        c.flag.push(if rng.f64() < 0.01 { "Y" } else { "N" });
        c.dropoff_lon.push(-73.97 + 0.04 * normal(rng));
        c.dropoff_lat.push(40.75 + 0.04 * normal(rng));
        c.payment.push(payment);
        c.fare.push(fare);
        c.extra.push(extra);
        c.mta.push(mta);
        c.tip.push(tip);
        c.tolls.push(tolls);
        c.surcharge.push(surcharge);
        c.total
            .push(round2(fare + extra + mta + tip + tolls + surcharge));
    }
    c.into_frame()
}

#[derive(Default)]
struct Columns {
    vendor: Vec<i64>,
    pickup: Vec<i64>,
    dropoff: Vec<i64>,
    passengers: Vec<i64>,
    distance: Vec<f64>,
    pickup_lon: Vec<f64>,
    pickup_lat: Vec<f64>,
    rate: Vec<i64>,
    flag: Vec<&'static str>,
    dropoff_lon: Vec<f64>,
    dropoff_lat: Vec<f64>,
    payment: Vec<i64>,
    fare: Vec<f64>,
    extra: Vec<f64>,
    mta: Vec<f64>,
    tip: Vec<f64>,
    tolls: Vec<f64>,
    surcharge: Vec<f64>,
    total: Vec<f64>,
}

impl Columns {
    fn with_capacity(n: usize) -> Columns {
        let mut c = Columns::default();
        c.pickup.reserve(n);
        c
    }

    fn into_frame(self) -> Result<pl::DataFrame> {
        use pl::{IntoColumn, NamedFrom};
        let datetime = |name: &str, v: Vec<i64>| -> Result<pl::Column> {
            pl::Series::new(name.into(), v)
                .cast(&pl::DataType::Datetime(pl::TimeUnit::Microseconds, None))
                .map(|s| s.into_column())
                .map_err(|e| error::polars("", e))
        };
        let i = |name: &str, v: Vec<i64>| pl::Series::new(name.into(), v).into_column();
        let f = |name: &str, v: Vec<f64>| pl::Series::new(name.into(), v).into_column();
        let columns = vec![
            i("VendorID", self.vendor),
            datetime("tpep_pickup_datetime", self.pickup)?,
            datetime("tpep_dropoff_datetime", self.dropoff)?,
            i("passenger_count", self.passengers),
            f("trip_distance", self.distance),
            f("pickup_longitude", self.pickup_lon),
            f("pickup_latitude", self.pickup_lat),
            i("RateCodeID", self.rate),
            pl::Series::new("store_and_fwd_flag".into(), self.flag).into_column(),
            f("dropoff_longitude", self.dropoff_lon),
            f("dropoff_latitude", self.dropoff_lat),
            i("payment_type", self.payment),
            f("fare_amount", self.fare),
            f("extra", self.extra),
            f("mta_tax", self.mta),
            f("tip_amount", self.tip),
            f("tolls_amount", self.tolls),
            f("improvement_surcharge", self.surcharge),
            f("total_amount", self.total),
        ];
        pl::DataFrame::new_infer_height(columns).map_err(|e| error::polars("", e))
    }
}
