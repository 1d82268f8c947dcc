//! The 2016 "Dask and Scikit-Learn — Model Parallelism" post: a grid search over a
//! pipeline of PCA and logistic regression on 10,000 × 500 generated data, where
//! each PCA with the same `n_components` on the same fold is fit once, however many
//! logistic regressions follow it. scikit-learn's `GridSearchCV` fits the whole
//! pipeline for every candidate on every fold.
//!
//! ```text
//! cargo run --release --features ml --example grid_search               # local scheduler
//! cargo run --release --features ml --example grid_search -- --workers 2 # a LocalCluster
//! ```

use brisk::core::executor::{default_executor, Executor};
use brisk::ml::model_selection::{GridSearchCV, KFold, ParameterGrid};
use brisk::ml::{datasets, Estimator, LogisticRegression, Pipeline, PCA};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    brisk::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workers = match args.iter().position(|a| a == "--workers") {
        Some(i) => Some(
            args.get(i + 1)
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(2),
        ),
        None => None,
    };
    let t = Instant::now();
    let (x, y) = datasets::make_classification(10_000, 500, 50, 250, 2, 0);
    println!(
        "generated X {:?} in {:.2} s",
        x.dim(),
        t.elapsed().as_secs_f64()
    );

    let pipeline = Pipeline::new()
        .step("pca", PCA::default())
        .step("logistic", LogisticRegression::default())
        .set_params(
            &[("logistic__solver".to_string(), "liblinear".into())]
                .into_iter()
                .collect(),
        )?;
    let grid = ParameterGrid::new()
        .param("pca__n_components", [50, 100, 250])
        .param("logistic__C", [1e-4, 1.0, 1e4])
        .param("logistic__penalty", ["l1", "l2"]);
    let n_candidates = grid.candidates()?.len();
    let search = GridSearchCV::new(pipeline, grid).cv(KFold::new(3));

    let local = default_executor()?;
    let cluster;
    let client;
    let executor: &dyn Executor = match workers {
        Some(n) => {
            cluster = brisk::LocalCluster::new(n, 1)?;
            client = cluster.client()?;
            println!("on a LocalCluster of {n} worker processes");
            &client
        }
        None => {
            println!("on the local scheduler");
            local.as_ref()
        }
    };
    let t = Instant::now();
    let result = search.fit_with(x.view(), y.view(), executor)?;
    let seconds = t.elapsed().as_secs_f64();

    println!("{n_candidates} candidates × 3 folds in {seconds:.2} s");
    for (c, m) in result.candidates.iter().zip(result.mean_scores()) {
        println!(
            "  {}  mean accuracy {m:.4}",
            brisk::ml::params::canonical(c)
        );
    }
    println!(
        "best parameters: {}",
        brisk::ml::params::canonical(&result.best_params)
    );
    println!("best score: {:.4}", result.best_score);
    println!(
        "PCA fits: {} here (scikit-learn's GridSearchCV: {} = {n_candidates} candidates × 3 folds + the refit)",
        result.fits_of(PCA::KIND),
        n_candidates * 3 + 1
    );
    let model = result
        .best_estimator
        .ok_or_else(|| anyhow::anyhow!("no refit model"))?;
    let train_accuracy =
        brisk::ml::metrics::accuracy_score(y.view(), model.predict(x.view())?.view());
    println!("the refit model's accuracy on all the data: {train_accuracy:.4}");
    Ok(())
}
