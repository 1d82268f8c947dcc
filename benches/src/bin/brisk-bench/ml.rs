//! `brisk-bench ml [--data DIR] [--workers N]`: the model-parallelism post's grid
//! search. A pipeline of PCA and logistic regression (liblinear) on 10,000 × 500
//! generated data (250 redundant features), `pca__n_components` in {50, 100, 250},
//! `logistic__C` in {1e-4, 1, 1e4}, `logistic__penalty` in {l1, l2}: 18 candidates ×
//! 3 folds (KFold without shuffling), plus the refit.
//!
//! With `--data DIR` it reads `X.npy` and `y.npy` from DIR; otherwise it generates
//! them with a seed and writes them to a temporary directory, so that
//! `benches/compare/sklearn_grid.py --data DIR` searches the same data. Prints one
//! JSON line: `seconds`, `pca_fits`, `best_params`, `best_score`, `mean_scores`.

use anyhow::{bail, Result};
use brisk::core::executor::{default_executor, Executor};
use brisk::ml::model_selection::{GridSearchCV, KFold, ParameterGrid};
use brisk::ml::params::{canonical, Params};
use brisk::ml::{datasets, Estimator, LogisticRegression, Pipeline, PCA};
use brisk_benches::{emit, round};
use ndarray::{Array1, Array2, Ix1, Ix2};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::time::Instant;

fn data(dir: Option<PathBuf>) -> Result<(Array2<f64>, Array1<f64>, PathBuf)> {
    match dir {
        Some(dir) => {
            let x = datasets::read_npy(&dir.join("X.npy"))?.into_dimensionality::<Ix2>()?;
            let y = datasets::read_npy(&dir.join("y.npy"))?.into_dimensionality::<Ix1>()?;
            Ok((x, y, dir))
        }
        None => {
            let dir = std::env::temp_dir().join("brisk-bench-ml");
            std::fs::create_dir_all(&dir)?;
            let (x, y) = datasets::make_classification(10_000, 500, 50, 250, 2, 0);
            datasets::write_npy(&dir.join("X.npy"), &x)?;
            datasets::write_npy(&dir.join("y.npy"), &y)?;
            eprintln!("wrote X.npy and y.npy to {}", dir.display());
            Ok((x, y, dir))
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let mut dir = None;
    let mut workers = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--data", Some(d)) => dir = Some(PathBuf::from(d)),
            ("--workers", Some(n)) => workers = Some(n.parse::<usize>()?),
            _ => bail!("usage: brisk-bench ml [--data DIR] [--workers N]"),
        }
    }
    let (x, y, dir) = data(dir)?;
    let liblinear: Params = [("logistic__solver".to_string(), json!("liblinear"))]
        .into_iter()
        .collect();
    let pipeline = Pipeline::new()
        .step("pca", PCA::default())
        .step("logistic", LogisticRegression::default())
        .set_params(&liblinear)?;
    let grid = ParameterGrid::new()
        .param("pca__n_components", [50, 100, 250])
        .param("logistic__C", [1e-4, 1.0, 1e4])
        .param("logistic__penalty", ["l1", "l2"]);
    let search = GridSearchCV::new(pipeline, grid).cv(KFold::new(3));

    let local = default_executor()?;
    let cluster;
    let client;
    let (executor, on): (&dyn Executor, String) = match workers {
        Some(n) => {
            cluster = brisk::LocalCluster::new(n, 1)?;
            client = cluster.client()?;
            (&client, format!("LocalCluster({n}x1)"))
        }
        None => (local.as_ref(), "local".to_string()),
    };
    let t = Instant::now();
    let result = search.fit_with(x.view(), y.view(), executor)?;
    let seconds = t.elapsed().as_secs_f64();
    let mut means = Map::new();
    for (c, m) in result.candidates.iter().zip(result.mean_scores()) {
        means.insert(canonical(c), json!(round(m, 6)));
    }
    emit(
        "ml.grid",
        &[
            ("impl", json!("brisk")),
            ("on", json!(on)),
            ("data", json!(dir.display().to_string())),
            ("rows", json!(x.nrows())),
            ("features", json!(x.ncols())),
            ("seconds", json!(round(seconds, 3))),
            ("pca_fits", json!(result.fits_of(PCA::KIND))),
            (
                "logistic_fits",
                json!(result.fits_of(LogisticRegression::KIND)),
            ),
            (
                "best_params",
                Value::Object(result.best_params.clone().into_iter().collect()),
            ),
            ("best_score", json!(round(result.best_score, 6))),
            ("mean_scores", Value::Object(means)),
        ],
    );
    Ok(())
}
