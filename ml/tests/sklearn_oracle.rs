//! scikit-learn is the oracle: the same pipelines on the same data and the same folds
//! give the same scores.
//!
//! Each test writes its data as `.npy` files, asks `oracle.py` (run by the Python
//! of `BRISK_PYTHON`, which the test script points at a virtualenv with
//! scikit-learn) for scikit-learn's answer, and compares. Closed-form pipelines
//! (scaler, PCA, ridge, least squares) agree to 1e-6; iterative solvers
//! (logistic regression) to 0.005 of accuracy per fold, a few borderline
//! predictions apart; k-means from the same initial centres to 1e-6 of inertia;
//! random forests, whose randomness differs, to 0.02 of accuracy.

use brisk_ml::model_selection::{
    GridSearchCV, KFold, ParameterGrid, PredefinedSplit, Splitter, StratifiedKFold,
};
use brisk_ml::params::{canonical, Params};
use brisk_ml::{
    datasets, Estimator, KMeans, LinearRegression, LogisticRegression, Pipeline, Predictor,
    RandomForestClassifier, Ridge, StandardScaler, PCA,
};
use brisk_scheduler::LocalScheduler;
use ndarray::{Array1, Array2, ArrayView1};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

fn python() -> String {
    std::env::var("BRISK_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The oracle's answer to `request`; `None` (and a message) only when no
/// scikit-learn is installed and the test script did not ask for one.
fn oracle(dir: &std::path::Path, request: Value) -> Option<Value> {
    let have = Command::new(python())
        .args(["-c", "import sklearn"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var_os("BRISK_PYTHON").is_none(),
            "BRISK_PYTHON={} has no scikit-learn",
            python()
        );
        eprintln!(
            "skipped: no scikit-learn for {} (scripts/test.sh installs it)",
            python()
        );
        return None;
    }
    let path = dir.join("request.json");
    std::fs::write(&path, request.to_string()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oracle.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("brisk-ml-oracle-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    fn data(&self, x: &Array2<f64>, y: &Array1<f64>) -> (String, String) {
        let (xp, yp) = (self.0.join("X.npy"), self.0.join("y.npy"));
        datasets::write_npy(&xp, x).unwrap();
        datasets::write_npy(&yp, y).unwrap();
        (xp.display().to_string(), yp.display().to_string())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One step for the oracle: its name, scikit-learn's class name and the
/// parameters set explicitly (the rest are both libraries' defaults).
fn step(name: &str, kind: &str, params: Value) -> Value {
    json!([name, kind, params])
}

fn grid_json(grid: &[(&str, Vec<Value>)]) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in grid {
        m.insert(k.to_string(), Value::Array(v.clone()));
    }
    Value::Object(m)
}

fn param_grid(grid: &[(&str, Vec<Value>)]) -> ParameterGrid {
    grid.iter()
        .fold(ParameterGrid::new(), |g, (k, v)| g.param(k, v.clone()))
}

/// Runs the search here and in scikit-learn on the same folds; returns
/// (ours, theirs) split scores by candidate, and both best parameters and means.
struct Compared {
    ours: Vec<Vec<f64>>,
    theirs: Vec<Vec<f64>>,
    our_best: usize,
    their_best: usize,
    means_ours: Vec<f64>,
    means_theirs: Vec<f64>,
}

fn compare(
    tag: &str,
    pipe: Pipeline,
    steps: Vec<Value>,
    grid: &[(&str, Vec<Value>)],
    x: &Array2<f64>,
    y: &Array1<f64>,
    splitter: &dyn Splitter,
    scoring: &str,
) -> Option<Compared> {
    let scratch = Scratch::new(tag);
    let (xp, yp) = scratch.data(x, y);
    let folds = splitter.split(x.nrows(), Some(y.view())).unwrap();
    let theirs = oracle(
        &scratch.0,
        json!({
            "what": "grid", "x": xp, "y": yp, "pipeline": steps, "grid": grid_json(grid),
            "folds": folds, "scoring": scoring,
        }),
    )?;
    let result = GridSearchCV::new(pipe, param_grid(grid))
        .cv(PredefinedSplit(folds))
        .scoring(scoring)
        .fit_with(x.view(), y.view(), &LocalScheduler::with_threads(2))
        .unwrap();
    let their_params: Vec<String> = theirs["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let our_params: Vec<String> = result.candidates.iter().map(canonical).collect();
    assert_eq!(our_params, their_params, "candidates in the same order");
    let theirs_scores: Vec<Vec<f64>> =
        serde_json::from_value(theirs["split_scores"].clone()).unwrap();
    Some(Compared {
        means_ours: result.mean_scores(),
        means_theirs: theirs_scores
            .iter()
            .map(|s| s.iter().sum::<f64>() / s.len() as f64)
            .collect(),
        ours: result.split_scores.clone(),
        theirs: theirs_scores,
        our_best: result.best_index,
        their_best: theirs["best_index"].as_u64().unwrap() as usize,
    })
}

fn assert_close(c: &Compared, tolerance: f64, what: &str) {
    for (i, (a, b)) in c.ours.iter().zip(&c.theirs).enumerate() {
        for (f, (p, q)) in a.iter().zip(b).enumerate() {
            assert!(
                (p - q).abs() <= tolerance,
                "{what}: candidate {i}, fold {f}: {p} here, {q} in scikit-learn"
            );
        }
    }
}

/// A classifier's search agrees with scikit-learn's: accuracies within 0.005 per
/// fold (a borderline prediction or so), and the same best candidate or a tie
/// within 0.002.
#[allow(clippy::too_many_arguments)]
fn classifies_as_scikit_learn(
    tag: &str,
    pipe: Pipeline,
    steps: Vec<Value>,
    grid: &[(&str, Vec<Value>)],
    x: &Array2<f64>,
    y: &Array1<f64>,
    splitter: &dyn Splitter,
    what: &str,
) {
    if let Some(c) = compare(tag, pipe, steps, grid, x, y, splitter, "accuracy") {
        assert_close(&c, 0.005 + 1e-12, what);
        assert_same_best(&c, 0.002);
    }
}

/// The same best candidate, or one whose mean score ties within `tie`.
fn assert_same_best(c: &Compared, tie: f64) {
    if c.our_best != c.their_best {
        let ours = c.means_theirs[c.our_best];
        let theirs = c.means_theirs[c.their_best];
        assert!(
            (ours - theirs).abs() <= tie,
            "best candidate {} here (their mean {ours}), {} in scikit-learn (mean {theirs})",
            c.our_best,
            c.their_best
        );
    }
    let _ = &c.means_ours;
}

#[test]
fn scaler_and_ridge_score_as_scikit_learn() {
    let (x, y) = datasets::make_regression(240, 12, 6, 8.0, 3);
    let pipe = Pipeline::new()
        .step("scale", StandardScaler::default())
        .step("ridge", Ridge::default());
    let grid = [
        ("ridge__alpha", vec![json!(0.01), json!(1.0), json!(100.0)]),
        ("scale__with_mean", vec![json!(true), json!(false)]),
    ];
    let steps = vec![
        step("scale", "StandardScaler", json!({})),
        step("ridge", "Ridge", json!({})),
    ];
    let Some(c) = compare("ridge", pipe, steps, &grid, &x, &y, &KFold::new(4), "r2") else {
        return;
    };
    assert_close(&c, 1e-6, "scaler + ridge");
    assert_eq!(c.our_best, c.their_best);
}

#[test]
fn pca_and_ridge_score_as_scikit_learn() {
    let (x, y) = datasets::make_regression(300, 20, 8, 4.0, 4);
    let pipe = Pipeline::new()
        .step("scale", StandardScaler::default())
        .step("pca", PCA::default())
        .step("ridge", Ridge::default());
    let grid = [
        ("pca__n_components", vec![json!(2), json!(8), json!(15)]),
        ("ridge__alpha", vec![json!(0.1), json!(10.0)]),
    ];
    let steps = vec![
        step("scale", "StandardScaler", json!({})),
        step("pca", "PCA", json!({})),
        step("ridge", "Ridge", json!({})),
    ];
    let Some(c) = compare(
        "pca-ridge",
        pipe,
        steps,
        &grid,
        &x,
        &y,
        &KFold::new(3),
        "neg_mean_squared_error",
    ) else {
        return;
    };
    // Relative to the squared errors' scale.
    let scale = c
        .theirs
        .iter()
        .flatten()
        .fold(1.0f64, |m, v| m.max(v.abs()));
    assert_close(&c, 1e-6 * scale, "pca + ridge");
    assert_eq!(c.our_best, c.their_best);
}

#[test]
fn least_squares_scores_as_scikit_learn() {
    let (x, y) = datasets::make_regression(120, 6, 6, 1.0, 5);
    let pipe = Pipeline::of(LinearRegression::default());
    let grid = [("fit_intercept", vec![json!(true), json!(false)])];
    let steps = vec![step("LinearRegression", "LinearRegression", json!({}))];
    let Some(c) = compare("ols", pipe, steps, &grid, &x, &y, &KFold::new(3), "r2") else {
        return;
    };
    assert_close(&c, 1e-6, "least squares");
}

#[test]
fn pca_and_logistic_regression_classify_as_scikit_learn() {
    let (x, y) = datasets::make_classification(900, 30, 10, 10, 2, 6);
    let pipe = Pipeline::new()
        .step("pca", PCA::default())
        .step("logistic", LogisticRegression::default());
    let grid = [
        ("pca__n_components", vec![json!(5), json!(15), json!(25)]),
        ("logistic__C", vec![json!(0.001), json!(1.0), json!(1000.0)]),
    ];
    let steps = vec![
        step("pca", "PCA", json!({})),
        step("logistic", "LogisticRegression", json!({"max_iter": 1000})),
    ];
    let pipe = pipe
        .set_params(
            &[("logistic__max_iter".to_string(), json!(1000))]
                .into_iter()
                .collect::<Params>(),
        )
        .unwrap();
    classifies_as_scikit_learn(
        "pca-logistic",
        pipe,
        steps,
        &grid,
        &x,
        &y,
        &StratifiedKFold::new(3),
        "pca + logistic (lbfgs)",
    );
}

#[test]
fn liblinear_l1_and_l2_classify_as_scikit_learn() {
    let (x, y) = datasets::make_classification(900, 40, 10, 20, 2, 7);
    let pipe = Pipeline::new()
        .step("pca", PCA::default())
        .step("logistic", LogisticRegression::default());
    let liblinear: Params = [("logistic__solver".to_string(), json!("liblinear"))]
        .into_iter()
        .collect();
    let pipe = pipe.set_params(&liblinear).unwrap();
    let grid = [
        ("pca__n_components", vec![json!(10), json!(30)]),
        (
            "logistic__C",
            vec![json!(0.0001), json!(1.0), json!(10000.0)],
        ),
        ("logistic__penalty", vec![json!("l1"), json!("l2")]),
    ];
    let steps = vec![
        step("pca", "PCA", json!({})),
        step(
            "logistic",
            "LogisticRegression",
            json!({"solver": "liblinear"}),
        ),
    ];
    classifies_as_scikit_learn(
        "liblinear",
        pipe,
        steps,
        &grid,
        &x,
        &y,
        &KFold::new(3),
        "pca + logistic (liblinear)",
    );
}

/// The handwritten digits that ship inside scikit-learn's wheel (1,797 × 64, ten
/// classes): multinomial logistic regression after scaling.
#[test]
fn digits_classify_as_scikit_learn() {
    let out = Command::new(python())
        .args(["-c", "import sklearn, os; print(os.path.join(os.path.dirname(sklearn.__file__), 'datasets', 'data', 'digits.csv.gz'))"])
        .output();
    let Some(path) = out.ok().filter(|o| o.status.success()) else {
        assert!(
            std::env::var_os("BRISK_PYTHON").is_none(),
            "no scikit-learn for the digits"
        );
        return;
    };
    let path = PathBuf::from(String::from_utf8_lossy(&path.stdout).trim());
    let (x, y) = datasets::load_digits(&path).unwrap();
    assert_eq!(x.dim(), (1797, 64));
    let pipe = Pipeline::new()
        .step("scale", StandardScaler::default())
        .step("logistic", LogisticRegression::default())
        .set_params(
            &[("logistic__max_iter".to_string(), json!(2000))]
                .into_iter()
                .collect::<Params>(),
        )
        .unwrap();
    let grid = [("logistic__C", vec![json!(0.01), json!(0.1), json!(1.0)])];
    let steps = vec![
        step("scale", "StandardScaler", json!({})),
        step("logistic", "LogisticRegression", json!({"max_iter": 2000})),
    ];
    classifies_as_scikit_learn(
        "digits",
        pipe,
        steps,
        &grid,
        &x,
        &y,
        &StratifiedKFold::new(3),
        "digits",
    );
}

#[test]
fn k_means_from_the_same_centres_reaches_scikit_learns_inertia() {
    let (x, _) = datasets::make_classification(500, 5, 5, 0, 3, 8);
    let init: Vec<Vec<f64>> = (0..4).map(|i| x.row(i * 7).to_vec()).collect();
    let scratch = Scratch::new("kmeans");
    let (xp, _) = scratch.data(&x, &Array1::zeros(x.nrows()));
    let Some(theirs) = oracle(
        &scratch.0,
        json!({"what": "kmeans", "x": xp, "init": init, "n_clusters": 4, "max_iter": 300, "tol": 0.0}),
    ) else {
        return;
    };
    let km: KMeans = KMeans::default()
        .set_params(
            &[
                ("n_clusters".to_string(), json!(4)),
                ("init".to_string(), json!(init)),
                ("tol".to_string(), json!(0.0)),
            ]
            .into_iter()
            .collect(),
        )
        .unwrap();
    let fitted = km.fit(x.view(), None).unwrap();
    let want = theirs["inertia"].as_f64().unwrap();
    assert!(
        (fitted.inertia - want).abs() <= 1e-6 * want,
        "inertia {} here, {want} in scikit-learn",
        fitted.inertia
    );
}

#[test]
fn a_random_forest_is_as_accurate_as_scikit_learns() {
    let (x, y) = datasets::make_classification(1200, 12, 6, 2, 2, 9);
    let (train, test) = (0..840usize, 840..1200usize);
    let xtr = x.slice(ndarray::s![train.clone(), ..]).to_owned();
    let ytr = y.slice(ndarray::s![train]).to_owned();
    let xte = x.slice(ndarray::s![test.clone(), ..]).to_owned();
    let yte = y.slice(ndarray::s![test]).to_owned();
    let scratch = Scratch::new("forest");
    let (a, b) = scratch.data(&xtr, &ytr);
    let c = scratch.0.join("Xt.npy");
    let d = scratch.0.join("yt.npy");
    datasets::write_npy(&c, &xte).unwrap();
    datasets::write_npy(&d, &yte).unwrap();
    let Some(theirs) = oracle(
        &scratch.0,
        json!({"what": "forest", "x_train": a, "y_train": b, "x_test": c, "y_test": d,
               "params": {"n_estimators": 100, "random_state": 0}, "classifier": true}),
    ) else {
        return;
    };
    let forest = RandomForestClassifier {
        n_estimators: 100,
        random_state: Some(0),
        ..Default::default()
    };
    let model = forest.fit(xtr.view(), Some(ytr.view())).unwrap();
    let ours =
        brisk_ml::metrics::accuracy_score(yte.view(), model.predict(xte.view()).unwrap().view());
    let want = theirs["score"]
        .as_f64()
        .or_else(|| theirs["accuracy"].as_f64())
        .unwrap();
    assert!(
        (ours - want).abs() <= 0.02,
        "accuracy {ours} here, {want} in scikit-learn"
    );
    let _: ArrayView1<f64> = yte.view();
}
