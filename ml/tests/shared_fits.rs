//! A search fits each pipeline prefix once per distinct (parameters, fold): a
//! transformer that counts its fits shows it, for one search and for two searches
//! computed together.

use brisk_ml::model_selection::{run_all, GridSearchCV, KFold, ParameterGrid};
use brisk_ml::{datasets, Estimator, Pipeline, Ridge, Role, Transformer};
use brisk_scheduler::LocalScheduler;
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Fits counted by the `tag` parameter (tests run in parallel: each uses its own
/// tags).
static FITS: Mutex<Option<HashMap<i64, usize>>> = Mutex::new(None);

fn fits(tag: i64) -> usize {
    FITS.lock()
        .unwrap()
        .as_ref()
        .and_then(|m| m.get(&tag).copied())
        .unwrap_or(0)
}

/// A transformer that passes `X` through and counts its fits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct Counting {
    tag: i64,
    scale: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FittedCounting {
    scale: f64,
}

impl Estimator for Counting {
    const KIND: &'static str = "tests::Counting";
    const ROLE: Role = Role::Transformer;
    type Fitted = FittedCounting;

    fn fit(
        &self,
        _x: ArrayView2<'_, f64>,
        _y: Option<ArrayView1<'_, f64>>,
    ) -> brisk_ml::Result<FittedCounting> {
        *FITS
            .lock()
            .unwrap()
            .get_or_insert_with(HashMap::new)
            .entry(self.tag)
            .or_default() += 1;
        Ok(FittedCounting {
            scale: if self.scale == 0.0 { 1.0 } else { self.scale },
        })
    }
}

impl Transformer for FittedCounting {
    fn transform(&self, x: ArrayView2<'_, f64>) -> brisk_ml::Result<Array2<f64>> {
        Ok(x.to_owned() * self.scale)
    }
}

brisk_ml::register_estimator!(Counting => FittedCounting: transformer);

fn pipeline(tag: i64) -> Pipeline {
    Pipeline::new()
        .step("count", Counting { tag, scale: 1.0 })
        .step("ridge", Ridge::default())
}

#[test]
fn a_prefix_shared_by_candidates_is_fit_once_per_fold() {
    let (x, y) = datasets::make_regression(60, 4, 3, 1.0, 1);
    let grid = ParameterGrid::new()
        .param("count__scale", [1.0, 2.0])
        .param("ridge__alpha", [0.1, 1.0, 10.0]);
    let search = GridSearchCV::new(pipeline(1), grid).cv(KFold::new(3));
    let result = search
        .fit_with(x.view(), y.view(), &LocalScheduler::with_threads(2))
        .unwrap();
    // 6 candidates × 3 folds use 2 distinct counting fits per fold, plus the refit.
    assert_eq!(fits(1), 2 * 3 + 1);
    assert_eq!(result.fits_of(Counting::KIND), 7);
    assert_eq!(result.fits_of(Ridge::KIND), 6 * 3 + 1);
    assert_eq!(result.cv_results.height(), 6);
}

#[test]
fn two_searches_computed_together_share_their_common_fits() {
    let (x, y) = datasets::make_regression(60, 4, 3, 1.0, 2);
    let a = GridSearchCV::new(
        pipeline(2),
        ParameterGrid::new().param("ridge__alpha", [0.1, 1.0]),
    )
    .cv(KFold::new(3));
    let b = GridSearchCV::new(
        pipeline(2),
        ParameterGrid::new().param("ridge__alpha", [10.0]),
    )
    .cv(KFold::new(3));
    let plans = vec![
        a.plan(x.view(), y.view()).unwrap(),
        b.plan(x.view(), y.view()).unwrap(),
    ];
    let results = run_all(plans, &LocalScheduler::with_threads(2)).unwrap();
    // One counting fit per fold serves both searches, and the two refits of the
    // same counting step on all the data are one task.
    assert_eq!(fits(2), 3 + 1);
    assert_eq!(results[0].cv_results.height(), 2);
    assert_eq!(results[1].best_params["ridge__alpha"], 10.0);

    // Computed apart, each search fits its own.
    let apart = b
        .fit_with(x.view(), y.view(), &LocalScheduler::with_threads(2))
        .unwrap();
    assert_eq!(fits(2), 3 + 1 + 3 + 1);
    assert_eq!(apart.split_scores, results[1].split_scores);
}

#[test]
fn an_unchanged_prefix_is_shared_even_when_later_steps_differ_in_kind() {
    use brisk_ml::LinearRegression;
    let (x, y) = datasets::make_regression(40, 3, 3, 0.5, 3);
    let ridge = GridSearchCV::new(
        pipeline(3),
        ParameterGrid::new().param("ridge__alpha", [1.0]),
    )
    .cv(KFold::new(2));
    let ols = GridSearchCV::new(
        Pipeline::new()
            .step("count", Counting { tag: 3, scale: 1.0 })
            .step("ols", LinearRegression::default()),
        ParameterGrid::new().param("ols__fit_intercept", [true, false]),
    )
    .cv(KFold::new(2));
    let plans = vec![
        ridge.plan(x.view(), y.view()).unwrap(),
        ols.plan(x.view(), y.view()).unwrap(),
    ];
    run_all(plans, &LocalScheduler::with_threads(1)).unwrap();
    assert_eq!(fits(3), 2 + 1);
}
