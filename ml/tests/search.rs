//! What a search reports: `cv_results` with scikit-learn's columns, ranks that follow
//! the mean scores, a refit model equal to fitting the best candidate by hand, and
//! randomised searches that draw the same candidates from the same seed.

use brisk_ml::model_selection::{
    Distribution, GridSearchCV, KFold, ParameterGrid, ParameterSampler, RandomizedSearchCV,
    ShuffleSplit,
};
use brisk_ml::{datasets, Pipeline, Ridge, StandardScaler};
use brisk_scheduler::LocalScheduler;
use std::collections::BTreeMap;

fn pipe() -> Pipeline {
    Pipeline::new()
        .step("scale", StandardScaler::default())
        .step("ridge", Ridge::default())
}

#[test]
fn cv_results_have_scikit_learns_columns_and_consistent_values() {
    let (x, y) = datasets::make_regression(90, 5, 3, 10.0, 11);
    let result = GridSearchCV::new(
        pipe(),
        ParameterGrid::new()
            .param("ridge__alpha", [0.1, 10.0, 1000.0])
            .param("scale__with_std", [true, false]),
    )
    .cv(KFold::new(3))
    .fit_with(x.view(), y.view(), &LocalScheduler::with_threads(2))
    .unwrap();
    let df = &result.cv_results;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "params",
            "param_ridge__alpha",
            "param_scale__with_std",
            "split0_test_score",
            "split1_test_score",
            "split2_test_score",
            "mean_test_score",
            "std_test_score",
            "rank_test_score",
            "mean_fit_time",
            "std_fit_time",
            "mean_score_time",
            "std_score_time",
        ]
    );
    assert_eq!(df.height(), 6);
    let col = |n: &str| -> Vec<f64> {
        df.column(n)
            .unwrap()
            .cast(&polars::prelude::DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    let (s0, s1, s2, mean) = (
        col("split0_test_score"),
        col("split1_test_score"),
        col("split2_test_score"),
        col("mean_test_score"),
    );
    for i in 0..6 {
        assert!((mean[i] - (s0[i] + s1[i] + s2[i]) / 3.0).abs() < 1e-12);
    }
    let rank = col("rank_test_score");
    let best = result.best_index;
    assert_eq!(rank[best], 1.0);
    assert!(mean.iter().all(|m| *m <= result.best_score));
    assert!(col("mean_fit_time").iter().all(|t| *t > 0.0));
    assert_eq!(
        col("param_ridge__alpha"),
        vec![0.1, 0.1, 10.0, 10.0, 1000.0, 1000.0]
    );
    // The refit model is the best candidate fit on all the data.
    let by_hand = pipe()
        .set_params(&result.best_params)
        .unwrap()
        .fit(x.view(), Some(y.view()))
        .unwrap();
    let refit = result.best_estimator.as_ref().unwrap();
    assert_eq!(
        refit.predict(x.view()).unwrap(),
        by_hand.predict(x.view()).unwrap()
    );
}

#[test]
fn a_randomised_search_draws_the_same_candidates_from_the_same_seed() {
    let (x, y) = datasets::make_regression(80, 4, 4, 5.0, 12);
    let mut d = BTreeMap::new();
    d.insert(
        "ridge__alpha".to_string(),
        Distribution::LogUniform {
            low: 1e-3,
            high: 1e3,
        },
    );
    d.insert(
        "scale__with_mean".to_string(),
        Distribution::Choice(vec![true.into(), false.into()]),
    );
    let sampler = ParameterSampler {
        distributions: d,
        n_iter: 5,
        random_state: 4,
    };
    let search = RandomizedSearchCV::new(pipe(), sampler).cv(ShuffleSplit::new(3, 0.25, 1));
    let a = search
        .fit_with(x.view(), y.view(), &LocalScheduler::with_threads(2))
        .unwrap();
    let b = search
        .fit_with(x.view(), y.view(), &LocalScheduler::with_threads(1))
        .unwrap();
    assert_eq!(a.candidates, b.candidates);
    assert_eq!(a.split_scores, b.split_scores);
    assert_eq!(a.cv_results.height(), 5);
    for c in &a.candidates {
        let alpha = c["ridge__alpha"].as_f64().unwrap();
        assert!((1e-3..1e3).contains(&alpha), "{alpha}");
    }
    assert!(a.split_scores.iter().all(|s| s.len() == 3));
}

#[test]
fn without_refit_there_is_no_best_estimator() {
    let (x, y) = datasets::make_regression(40, 3, 3, 1.0, 13);
    let r = GridSearchCV::new(pipe(), ParameterGrid::new().param("ridge__alpha", [1.0]))
        .cv(KFold::new(2))
        .refit(false)
        .fit_with(x.view(), y.view(), &LocalScheduler::with_threads(1))
        .unwrap();
    assert!(r.best_estimator.is_none());
    assert_eq!(r.fits_of(Ridge::KIND), 2);
}

use brisk_ml::Estimator as _;
