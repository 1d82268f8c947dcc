//! The 2016 "Ad Hoc Distributed Random Forests" post on generated NYC-taxi trips:
//! one random forest per partition (file), trained on the cluster where the
//! partition is read; the test set scattered to the workers once; each forest
//! predicts it; the predictions combined by majority vote in a tree reduction. The
//! forests never leave the workers: only the votes come back.
//!
//! The model predicts whether a ride's fare was more than $15 from the passengers,
//! the distance, the time-of-day surcharge and the pick-up and drop-off places (the
//! fare also depends on the ride's duration, which the model does not see).
//!
//! ```text
//! cargo run --release --features ml --example random_forest                # 2 workers
//! cargo run --release --features ml --example random_forest -- --workers 4
//! ```

use brisk::collections::datasets::{nyc_taxi, TaxiFormat};
use brisk::delayed::Delayed;
use brisk::ml::{lazy, metrics, RandomForestClassifier, Step};
use ndarray::{s, Array2, ArrayD, Axis, Ix2};
use polars::prelude::{CsvReadOptions, DataType, SerReader};
use std::time::Instant;

const FEATURES: [&str; 7] = [
    "passenger_count",
    "trip_distance",
    "extra",
    "pickup_longitude",
    "pickup_latitude",
    "dropoff_longitude",
    "dropoff_latitude",
];

/// One file's rides as a matrix: the features, then whether the fare was more than
/// $15.
#[brisk::task]
fn load(path: String) -> Result<ArrayD<f64>, String> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.clone().into()))
        .and_then(|r| r.finish())
        .map_err(|e| format!("{path}: {e}"))?;
    let mut m = Array2::<f64>::zeros((df.height(), FEATURES.len() + 1));
    for (j, name) in FEATURES.iter().chain(["fare_amount"].iter()).enumerate() {
        let c = df
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|e| format!("{path}: {e}"))?;
        let v = c.f64().map_err(|e| format!("{path}: {e}"))?;
        for (i, x) in v.iter().enumerate() {
            m[[i, j]] = x.unwrap_or(0.0);
        }
    }
    m.column_mut(FEATURES.len())
        .mapv_inplace(|fare| f64::from(fare > 15.0));
    Ok(m.into_dyn())
}

/// The feature columns.
#[brisk::task]
fn features(m: &ArrayD<f64>) -> Result<ArrayD<f64>, String> {
    let m = m
        .view()
        .into_dimensionality::<Ix2>()
        .map_err(|e| e.to_string())?;
    Ok(m.slice(s![.., ..FEATURES.len()]).to_owned().into_dyn())
}

/// The label column.
#[brisk::task]
fn labels(m: &ArrayD<f64>) -> Result<ArrayD<f64>, String> {
    let m = m
        .view()
        .into_dimensionality::<Ix2>()
        .map_err(|e| e.to_string())?;
    Ok(m.column(FEATURES.len()).to_owned().into_dyn())
}

/// One forest's predictions as votes: a row per ride, a column per class.
#[brisk::task]
fn votes(predictions: &ArrayD<f64>) -> ArrayD<f64> {
    let mut v = Array2::<f64>::zeros((predictions.len(), 2));
    for (i, p) in predictions.iter().enumerate() {
        v[[i, usize::from(*p > 0.5)]] += 1.0;
    }
    v.into_dyn()
}

/// The votes of two groups of forests.
#[brisk::task]
fn add_votes(a: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
    a + b
}

/// A binary tree of `add_votes` over `parts`.
fn tree_sum(parts: Vec<Delayed<ArrayD<f64>>>) -> brisk::Result<Delayed<ArrayD<f64>>> {
    let mut level = parts;
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [a, b] => add_votes::delayed(a, b),
                [a] => Ok(a.clone()),
                _ => unreachable!("chunks of two"),
            })
            .collect::<brisk::Result<_>>()?;
    }
    level
        .pop()
        .ok_or_else(|| brisk::Error::Other("no partitions".into()))
}

fn main() -> anyhow::Result<()> {
    brisk::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workers = args
        .iter()
        .position(|a| a == "--workers")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(2);
    let dir = std::env::temp_dir().join("brisk-random-forest");
    let _ = std::fs::remove_dir_all(&dir);
    let t = Instant::now();
    let mut files = nyc_taxi(240_000, 8, 2016, &dir, TaxiFormat::Csv)?;
    files.sort();
    let test_file = files.pop().ok_or_else(|| anyhow::anyhow!("no files"))?;
    println!(
        "generated 240,000 trips in 8 CSV files ({:.2} s): {} to train on, 1 to test",
        t.elapsed().as_secs_f64(),
        files.len()
    );

    let cluster = brisk::LocalCluster::new(workers, 1)?;
    let client = cluster.client()?;
    println!("on a LocalCluster of {workers} worker processes");

    // The test set: read here, scattered to the workers once.
    let test = load(test_file.display().to_string()).map_err(anyhow::Error::msg)?;
    let test_x = features(&test).map_err(anyhow::Error::msg)?;
    let test_y = labels(&test).map_err(anyhow::Error::msg)?;
    let scattered = client.scatter(vec![test_x], true)?;
    let test_x = Delayed::of(&scattered[0]);

    let forest = Step::new(
        "forest",
        &RandomForestClassifier {
            n_estimators: 20,
            max_depth: Some(12),
            random_state: Some(0),
            ..Default::default()
        },
    )?;
    let t = Instant::now();
    let mut per_forest = Vec::new();
    for f in &files {
        let part = load::delayed(f.display().to_string())?;
        let model = lazy::fit(
            &forest,
            &features::delayed(&part)?,
            Some(&labels::delayed(&part)?),
        )?;
        per_forest.push(votes::delayed(&lazy::predict(&model, &test_x)?)?);
    }
    let total = tree_sum(per_forest)?.compute_with(&client)?;
    let total = total.into_dimensionality::<Ix2>()?;
    let predicted: ndarray::Array1<f64> = total
        .axis_iter(Axis(0))
        .map(|v| if v[1] > v[0] { 1.0 } else { 0.0 })
        .collect();
    let accuracy = metrics::accuracy_score(test_y.view().into_dimensionality()?, predicted.view());
    println!(
        "{} forests of 20 trees trained and voted in {:.2} s",
        files.len(),
        t.elapsed().as_secs_f64()
    );
    let share = test_y.iter().filter(|&&v| v == 1.0).count() as f64 / test_y.len() as f64;
    println!(
        "rides over $15 in the test set: {share:.4} (always guessing the larger class: {:.4})",
        share.max(1.0 - share)
    );
    println!(
        "majority-vote accuracy on {} test rides: {accuracy:.4}",
        test_y.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
