//! Logistic regression, as scikit-learn's `LogisticRegression`.
//!
//! Two classes fit one weight vector, whose positive side is `classes[1]`. With
//! more classes, solver "lbfgs" fits the multinomial (softmax) model over all K
//! classes and "liblinear" one binary model per class against the rest, as
//! scikit-learn 1.5+ does. The objectives are scikit-learn's:
//!
//! - "lbfgs": `C Σ logloss + ||w||² / 2` (penalty "l2") or `Σ logloss` (null);
//!   the intercept is not penalised.
//! - "liblinear": the intercept is the weight of an extra feature of constant
//!   value `intercept_scaling`, penalised like the others: `C Σ logloss +
//!   ||w||² / 2` ("l2") or `C Σ logloss + ||w||₁` ("l1").
//!
//! Smooth problems are solved by L-BFGS and the L1 problem by a proximal Newton
//! method with coordinate descent (module `optimize`). Both stop at a hundredth of
//! `tol`, tighter than scikit-learn does, so the answer is the optimum that
//! scikit-learn's solvers approach.

use super::optimize::{
    self, sigmoid, BinaryLogistic, InterceptTerm, L1Options, LbfgsOptions, MultinomialLogistic,
};
use crate::check;
use crate::error::{Error, Result};
use crate::estimator::{Estimator, Predictor, Role};
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

const OWNER: &str = "LogisticRegression";

/// The solvers stop at `tol` times this (see the module doc).
const TIGHTER: f64 = 1e-2;

/// The penalty on the weights (`penalty`; JSON null is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Penalty {
    /// `||w||₁` (solver "liblinear" only).
    L1,
    /// `||w||² / 2`.
    L2,
}

/// The optimiser (`solver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// L-BFGS; multinomial with more than two classes; intercept not penalised.
    Lbfgs,
    /// liblinear's problems; one-vs-rest with more than two classes; the intercept
    /// is a penalised weight of a constant feature `intercept_scaling`.
    Liblinear,
}

/// scikit-learn's `LogisticRegression`: a linear classifier fit by penalised
/// maximum likelihood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogisticRegression {
    /// "l2" (default), "l1" (liblinear only) or null for none (lbfgs only).
    pub penalty: Option<Penalty>,
    /// Inverse penalty strength (`C`, 1.0): smaller is stronger.
    #[serde(rename = "C")]
    pub c: f64,
    /// Whether to fit an intercept (true).
    pub fit_intercept: bool,
    /// liblinear: the value of the constant feature whose weight is the intercept
    /// divided by it (1.0).
    pub intercept_scaling: f64,
    /// "lbfgs" (default) or "liblinear".
    pub solver: Solver,
    /// Iterations at most (100): L-BFGS steps, or Newton steps for "l1".
    pub max_iter: usize,
    /// Tolerance of the stopping test (1e-4).
    pub tol: f64,
}

impl Default for LogisticRegression {
    fn default() -> Self {
        LogisticRegression {
            penalty: Some(Penalty::L2),
            c: 1.0,
            fit_intercept: true,
            intercept_scaling: 1.0,
            solver: Solver::Lbfgs,
            max_iter: 100,
            tol: 1e-4,
        }
    }
}

/// A fitted [`LogisticRegression`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedLogisticRegression {
    /// The sorted class labels.
    pub classes: Vec<f64>,
    /// The weights, row-major: one row (for `classes[1]`) with two classes, one row
    /// per class otherwise; `n_features` columns.
    pub coef: Vec<f64>,
    /// One intercept per row of `coef`.
    pub intercept: Vec<f64>,
    /// The number of features it was fit on.
    pub n_features: usize,
    /// Solver iterations (the most over the one-vs-rest problems).
    pub n_iter: usize,
    /// Whether the rows are a multinomial model (softmax probabilities) rather than
    /// one-vs-rest ones (normalised sigmoids).
    pub multinomial: bool,
}

/// Weights and intercepts as a solver leaves them.
struct Solution {
    coef: Vec<f64>,
    intercept: Vec<f64>,
    n_iter: usize,
    multinomial: bool,
}

impl Estimator for LogisticRegression {
    const KIND: &'static str = "brisk_ml::LogisticRegression";
    const ROLE: Role = Role::Classifier;
    type Fitted = FittedLogisticRegression;

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedLogisticRegression> {
        self.validate()?;
        let y = check::require_y(OWNER, x, y)?;
        let (classes, class_of) = check::classes(y, "y")?;
        let x = x.as_standard_layout();
        let x = x.view();
        let k = classes.len();
        let solution = match self.solver {
            Solver::Lbfgs => self.fit_lbfgs(x, &class_of, k),
            Solver::Liblinear => self.fit_liblinear(x, &class_of, k),
        };
        if let Some(bad) = solution
            .coef
            .iter()
            .chain(&solution.intercept)
            .find(|v| !v.is_finite())
        {
            return Err(Error::numerical(
                "fitting LogisticRegression",
                format!("the solver ended on a non-finite weight ({bad}); check the scale of X and of C"),
            ));
        }
        Ok(FittedLogisticRegression {
            classes,
            coef: solution.coef,
            intercept: solution.intercept,
            n_features: x.ncols(),
            n_iter: solution.n_iter,
            multinomial: solution.multinomial,
        })
    }
}

impl LogisticRegression {
    fn validate(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(Error::invalid(
                OWNER,
                "C",
                format!("must be a positive finite number, got {}", self.c),
            ));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(Error::invalid(
                OWNER,
                "tol",
                format!("must be a positive finite number, got {}", self.tol),
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::invalid(
                OWNER,
                "max_iter",
                "must be at least 1, got 0",
            ));
        }
        if !(self.intercept_scaling.is_finite() && self.intercept_scaling > 0.0) {
            return Err(Error::invalid(
                OWNER,
                "intercept_scaling",
                format!(
                    "must be a positive finite number, got {}",
                    self.intercept_scaling
                ),
            ));
        }
        match (self.penalty, self.solver) {
            (Some(Penalty::L1), Solver::Lbfgs) => Err(Error::invalid(
                OWNER,
                "penalty",
                "'l1' needs solver 'liblinear'; solver 'lbfgs' supports only 'l2' or null",
            )),
            (None, Solver::Liblinear) => Err(Error::invalid(
                OWNER,
                "penalty",
                "null (no penalty) is not supported by solver 'liblinear'; use 'l1' or 'l2'",
            )),
            _ => Ok(()),
        }
    }

    fn lbfgs_options(&self) -> LbfgsOptions {
        LbfgsOptions {
            max_iter: self.max_iter,
            gtol: self.tol * TIGHTER,
            ..LbfgsOptions::default()
        }
    }

    /// Binary: one weight vector; more classes: multinomial. Intercepts unpenalised.
    fn fit_lbfgs(&self, x: ArrayView2<'_, f64>, class_of: &[usize], k: usize) -> Solution {
        let p = x.ncols();
        let c = self.penalty.map(|_| self.c);
        let options = self.lbfgs_options();
        if k == 2 {
            let target: Array1<f64> = class_of
                .iter()
                .map(|&i| if i == 1 { 1.0 } else { 0.0 })
                .collect();
            let term = self.fit_intercept.then_some(InterceptTerm {
                scale: 1.0,
                penalized: false,
            });
            let objective = BinaryLogistic::new(x, target.view(), c, term);
            let result = optimize::lbfgs(
                |theta, grad| objective.value_grad(theta, grad),
                vec![0.0; objective.n_params()],
                &options,
            );
            let (w, b) = result.x.split_at(p.min(result.x.len()));
            return Solution {
                coef: w.to_vec(),
                intercept: vec![b.first().copied().unwrap_or(0.0)],
                n_iter: result.n_iter,
                multinomial: false,
            };
        }
        let objective = MultinomialLogistic::new(x, class_of, k, c, self.fit_intercept);
        let result = optimize::lbfgs(
            |theta, grad| objective.value_grad(theta, grad),
            vec![0.0; objective.n_params()],
            &options,
        );
        let (w, b) = result.x.split_at((k * p).min(result.x.len()));
        let mut intercept = vec![0.0; k];
        if self.fit_intercept {
            // Softmax ignores a common shift; report the centred intercepts.
            let mean = b.iter().sum::<f64>() / k as f64;
            for (out, v) in intercept.iter_mut().zip(b) {
                *out = v - mean;
            }
        }
        Solution {
            coef: w.to_vec(),
            intercept,
            n_iter: result.n_iter,
            multinomial: true,
        }
    }

    /// liblinear's problems, one per class against the rest (one for two classes).
    fn fit_liblinear(&self, x: ArrayView2<'_, f64>, class_of: &[usize], k: usize) -> Solution {
        let (n, p) = x.dim();
        let positives: Vec<usize> = if k == 2 { vec![1] } else { (0..k).collect() };
        let scale = self.intercept_scaling;
        let mut coef = Vec::with_capacity(positives.len() * p);
        let mut intercept = Vec::with_capacity(positives.len());
        let mut n_iter = 0;
        if self.penalty == Some(Penalty::L1) {
            // Features in rows (contiguous for coordinate descent), then the
            // constant intercept feature.
            let extra = usize::from(self.fit_intercept);
            let mut xt = Array2::<f64>::zeros((p + extra, n));
            xt.slice_mut(s![..p, ..]).assign(&x.t());
            if self.fit_intercept {
                xt.row_mut(p).fill(scale);
            }
            let options = L1Options {
                max_outer: self.max_iter,
                tol: self.tol * TIGHTER,
            };
            for &positive in &positives {
                let signs: Array1<f64> = class_of
                    .iter()
                    .map(|&i| if i == positive { 1.0 } else { -1.0 })
                    .collect();
                let result = optimize::l1_logistic(xt.view(), signs.view(), self.c, &options);
                let (w, b) = result.w.split_at(p.min(result.w.len()));
                coef.extend_from_slice(w);
                intercept.push(scale * b.first().copied().unwrap_or(0.0));
                n_iter = n_iter.max(result.n_iter);
            }
        } else {
            let options = self.lbfgs_options();
            let term = self.fit_intercept.then_some(InterceptTerm {
                scale,
                penalized: true,
            });
            for &positive in &positives {
                let target: Array1<f64> = class_of
                    .iter()
                    .map(|&i| if i == positive { 1.0 } else { 0.0 })
                    .collect();
                let objective = BinaryLogistic::new(x, target.view(), Some(self.c), term);
                let result = optimize::lbfgs(
                    |theta, grad| objective.value_grad(theta, grad),
                    vec![0.0; objective.n_params()],
                    &options,
                );
                let (w, b) = result.x.split_at(p.min(result.x.len()));
                coef.extend_from_slice(w);
                intercept.push(scale * b.first().copied().unwrap_or(0.0));
                n_iter = n_iter.max(result.n_iter);
            }
        }
        Solution {
            coef,
            intercept,
            n_iter,
            multinomial: false,
        }
    }
}

impl FittedLogisticRegression {
    /// The parts agree with each other (a model decoded from another process may
    /// not): at least two classes, one weight row for two classes or one per class,
    /// one intercept per row.
    fn check_shape(&self) -> Result<()> {
        let k = self.classes.len();
        let rows = if k == 2 { 1 } else { k };
        let ok = k >= 2
            && self.intercept.len() == rows
            && Some(self.coef.len()) == rows.checked_mul(self.n_features);
        if ok {
            Ok(())
        } else {
            Err(Error::Decode {
                kind: LogisticRegression::KIND.into(),
                message: format!(
                    "{k} classes, {} weights and {} intercepts for {} features do not fit together",
                    self.coef.len(),
                    self.intercept.len(),
                    self.n_features
                ),
            })
        }
    }

    /// The weights, one row per intercept (`coef_`).
    pub fn coef(&self) -> Array2<f64> {
        let p = self.n_features;
        Array2::from_shape_fn((self.intercept.len(), p), |(r, j)| {
            self.coef.get(r * p + j).copied().unwrap_or(0.0)
        })
    }

    /// The intercepts (`intercept_`).
    pub fn intercept(&self) -> Array1<f64> {
        Array1::from(self.intercept.clone())
    }

    /// `X coefᵀ + intercept`: one column with two classes (positive means
    /// `classes[1]`), one per class otherwise.
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.check_shape()?;
        check::check_features(OWNER, self.n_features, x)?;
        let mut scores = x.dot(&self.coef().t());
        for mut row in scores.rows_mut() {
            for (v, b) in row.iter_mut().zip(&self.intercept) {
                *v += b;
            }
        }
        Ok(scores)
    }

    /// Class probabilities, one column per class: `[1 - σ(d), σ(d)]` with two
    /// classes, the softmax of the scores for a multinomial model, and the
    /// sigmoids of the scores normalised to sum to one for one-vs-rest.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let mut scores = self.decision_function(x)?;
        if scores.ncols() == 1 {
            let column = scores.column(0);
            return Ok(Array2::from_shape_fn((scores.nrows(), 2), |(i, c)| {
                let d = column.get(i).copied().unwrap_or(0.0);
                if c == 1 {
                    sigmoid(d)
                } else {
                    sigmoid(-d)
                }
            }));
        }
        for mut row in scores.rows_mut() {
            if self.multinomial {
                let top = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                row.mapv_inplace(|v| (v - top).exp());
            } else {
                row.mapv_inplace(sigmoid);
            }
            let sum = row.sum();
            if sum > 0.0 {
                row.mapv_inplace(|v| v / sum);
            }
        }
        Ok(scores)
    }
}

/// The index of the first largest value.
fn argmax(values: ArrayView1<'_, f64>) -> usize {
    let mut best = 0;
    let mut top = f64::NEG_INFINITY;
    for (i, &v) in values.iter().enumerate() {
        if v > top {
            top = v;
            best = i;
        }
    }
    best
}

impl Predictor for FittedLogisticRegression {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let scores = self.decision_function(x)?;
        let first = self.classes.first().copied().unwrap_or(f64::NAN);
        let label = |i: usize| self.classes.get(i).copied().unwrap_or(first);
        Ok(scores
            .rows()
            .into_iter()
            .map(|row| {
                if row.len() == 1 {
                    label(usize::from(row.iter().any(|&d| d > 0.0)))
                } else {
                    label(argmax(row))
                }
            })
            .collect())
    }
}

crate::register_estimator!(LogisticRegression => FittedLogisticRegression: predictor);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn binary_data() -> (Array2<f64>, Array1<f64>) {
        let x = array![
            [0.0, 1.0],
            [1.0, 0.5],
            [2.0, -1.0],
            [3.0, 0.0],
            [0.5, 2.0],
            [2.5, 1.5],
            [1.5, 0.2],
            [3.5, -0.5]
        ];
        let y = array![0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        (x, y)
    }

    /// `Σᵢ (σ(zᵢ) - tᵢ) xᵢ` and `Σᵢ (σ(zᵢ) - tᵢ)`: the log-loss gradient.
    fn loss_gradient(x: &Array2<f64>, y: &Array1<f64>, w: &[f64], b: f64) -> (Vec<f64>, f64) {
        let mut gw = vec![0.0; x.ncols()];
        let mut gb = 0.0;
        for (row, &t) in x.rows().into_iter().zip(y.iter()) {
            let z: f64 = row.iter().zip(w).map(|(a, c)| a * c).sum::<f64>() + b;
            let r = sigmoid(z) - t;
            gb += r;
            for (g, v) in gw.iter_mut().zip(row.iter()) {
                *g += r * v;
            }
        }
        (gw, gb)
    }

    #[test]
    fn an_unpenalised_fit_recovers_each_groups_log_odds() {
        // x = 0: one positive in four (log-odds -ln 3); x = 1: three in four (ln 3).
        let x = array![[0.0], [0.0], [0.0], [0.0], [1.0], [1.0], [1.0], [1.0]];
        let y = array![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0];
        let est = LogisticRegression {
            penalty: None,
            tol: 1e-8,
            ..LogisticRegression::default()
        };
        let m = est.fit(x.view(), Some(y.view())).unwrap();
        let ln3 = 3f64.ln();
        assert!((m.coef[0] - 2.0 * ln3).abs() < 1e-5, "{m:?}");
        assert!((m.intercept[0] + ln3).abs() < 1e-5, "{m:?}");
        let p = m.predict_proba(array![[0.0], [1.0]].view()).unwrap();
        assert!((p[[0, 1]] - 0.25).abs() < 1e-6 && (p[[1, 1]] - 0.75).abs() < 1e-6);
        assert!((p[[0, 0]] - 0.75).abs() < 1e-6);
    }

    #[test]
    fn lbfgs_l2_stops_where_the_gradient_vanishes() {
        // Optimum of C Σ loss + ||w||²/2, intercept free: C ∇loss + w = 0.
        let (x, y) = binary_data();
        let c = 2.0;
        let est = LogisticRegression {
            c,
            ..LogisticRegression::default()
        };
        let m = est.fit(x.view(), Some(y.view())).unwrap();
        let (gw, gb) = loss_gradient(&x, &y, &m.coef, m.intercept[0]);
        for (g, w) in gw.iter().zip(&m.coef) {
            assert!((c * g + w).abs() < 1e-4, "{gw:?} {m:?}");
        }
        assert!((c * gb).abs() < 1e-4, "{gb}");
        assert_eq!(m.coef().dim(), (1, 2));
    }

    #[test]
    fn liblinear_l2_penalises_the_intercept_as_a_scaled_feature() {
        // The intercept is B·v for the weight v of a constant feature B, and v is
        // penalised: C ∇loss · B + v = 0.
        let (x, y) = binary_data();
        let (c, scale) = (10.0, 2.0);
        let est = LogisticRegression {
            c,
            solver: Solver::Liblinear,
            intercept_scaling: scale,
            ..LogisticRegression::default()
        };
        let m = est.fit(x.view(), Some(y.view())).unwrap();
        let (gw, gb) = loss_gradient(&x, &y, &m.coef, m.intercept[0]);
        for (g, w) in gw.iter().zip(&m.coef) {
            assert!((c * g + w).abs() < 1e-3, "{gw:?} {m:?}");
        }
        let v = m.intercept[0] / scale;
        assert!((c * gb * scale + v).abs() < 1e-3, "{gb} {v}");
        assert!(v != 0.0);
    }

    #[test]
    fn liblinear_l1_meets_the_subgradient_conditions() {
        // 0 ∈ C ∇loss + ∂||w||₁, the intercept's weight included.
        let (x, y) = binary_data();
        let c = 10.0;
        let est = LogisticRegression {
            c,
            penalty: Some(Penalty::L1),
            solver: Solver::Liblinear,
            ..LogisticRegression::default()
        };
        let m = est.fit(x.view(), Some(y.view())).unwrap();
        let (gw, gb) = loss_gradient(&x, &y, &m.coef, m.intercept[0]);
        let mut weights = m.coef.clone();
        weights.push(m.intercept[0]);
        let mut grads = gw;
        grads.push(gb);
        for (w, g) in weights.iter().zip(&grads) {
            let g = c * g;
            let violation = if *w > 0.0 {
                (g + 1.0).abs()
            } else if *w < 0.0 {
                (g - 1.0).abs()
            } else {
                (g.abs() - 1.0).max(0.0)
            };
            assert!(violation < 1e-3, "w {w}, g {g}: {m:?}");
        }
        assert!(m.coef.iter().any(|&w| w != 0.0), "{m:?}");
    }

    #[test]
    fn l1_with_a_tiny_c_zeroes_every_weight() {
        let (x, y) = binary_data();
        let est = LogisticRegression {
            c: 1e-4,
            penalty: Some(Penalty::L1),
            solver: Solver::Liblinear,
            ..LogisticRegression::default()
        };
        let m = est.fit(x.view(), Some(y.view())).unwrap();
        assert_eq!(m.coef, vec![0.0, 0.0]);
        assert_eq!(m.intercept, vec![0.0]);
        let p = m.predict_proba(x.view()).unwrap();
        assert!(p.iter().all(|&v| v == 0.5));
        // A zero score is not positive: every prediction is classes[0].
        assert!(m.predict(x.view()).unwrap().iter().all(|&v| v == 0.0));
    }

    fn three_clusters() -> (Array2<f64>, Array1<f64>) {
        let x = array![
            [0.0, 0.0],
            [0.5, 0.3],
            [-0.4, 0.2],
            [0.1, -0.5],
            [5.0, 0.0],
            [5.3, 0.4],
            [4.6, -0.3],
            [5.1, 0.5],
            [0.0, 5.0],
            [0.4, 5.2],
            [-0.3, 4.7],
            [0.2, 5.4]
        ];
        let y = array![10.0, 10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0, 30.0, 30.0, 30.0, 30.0];
        (x, y)
    }

    #[test]
    fn three_clusters_are_predicted_as_their_classes() {
        let (x, y) = three_clusters();
        let centres = array![[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]];
        for solver in [Solver::Lbfgs, Solver::Liblinear] {
            let est = LogisticRegression {
                solver,
                ..LogisticRegression::default()
            };
            let m = est.fit(x.view(), Some(y.view())).unwrap();
            assert_eq!(m.classes, vec![10.0, 20.0, 30.0]);
            assert_eq!(m.coef().dim(), (3, 2));
            assert_eq!(m.multinomial, solver == Solver::Lbfgs);
            assert_eq!(m.predict(centres.view()).unwrap(), array![10.0, 20.0, 30.0]);
            assert_eq!(m.predict(x.view()).unwrap(), y);
            let p = m.predict_proba(centres.view()).unwrap();
            for (i, row) in p.rows().into_iter().enumerate() {
                assert!((row.sum() - 1.0).abs() < 1e-12);
                assert_eq!(argmax(row), i);
            }
        }
    }

    #[test]
    fn the_multinomial_penalty_centres_the_weights_over_classes() {
        // At the optimum Σ_k ∇_k loss = 0, so Σ_k w_k = 0; intercepts are centred.
        let (x, y) = three_clusters();
        let m = LogisticRegression::default()
            .fit(x.view(), Some(y.view()))
            .unwrap();
        let coef = m.coef();
        for column in coef.columns() {
            assert!(column.sum().abs() < 1e-6, "{coef}");
        }
        assert!(m.intercept().sum().abs() < 1e-12);
    }

    #[test]
    fn two_classes_use_the_sign_of_one_score() {
        let (x, y) = binary_data();
        let y = y.mapv(|v| if v == 1.0 { 3.0 } else { -1.0 });
        let m = LogisticRegression::default()
            .fit(x.view(), Some(y.view()))
            .unwrap();
        let scores = m.decision_function(x.view()).unwrap();
        assert_eq!(scores.ncols(), 1);
        let predicted = m.predict(x.view()).unwrap();
        for (d, p) in scores.column(0).iter().zip(predicted.iter()) {
            assert_eq!(*p, if *d > 0.0 { 3.0 } else { -1.0 });
        }
        let proba = m.predict_proba(x.view()).unwrap();
        for (d, row) in scores.column(0).iter().zip(proba.rows()) {
            assert!((row[1] - sigmoid(*d)).abs() < 1e-15);
            assert!((row[0] + row[1] - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        let (x, y) = binary_data();
        let fit =
            |est: LogisticRegression| est.fit(x.view(), Some(y.view())).unwrap_err().to_string();
        let e = fit(LogisticRegression {
            penalty: Some(Penalty::L1),
            ..LogisticRegression::default()
        });
        assert!(e.contains("'penalty'") && e.contains("liblinear"), "{e}");
        let e = fit(LogisticRegression {
            c: 0.0,
            ..LogisticRegression::default()
        });
        assert!(e.contains("'C'"), "{e}");
        let e = fit(LogisticRegression {
            max_iter: 0,
            ..LogisticRegression::default()
        });
        assert!(e.contains("'max_iter'"), "{e}");
        let e = fit(LogisticRegression {
            tol: -1.0,
            ..LogisticRegression::default()
        });
        assert!(e.contains("'tol'"), "{e}");
        let e = fit(LogisticRegression {
            penalty: None,
            solver: Solver::Liblinear,
            ..LogisticRegression::default()
        });
        assert!(e.contains("'penalty'"), "{e}");
    }

    #[test]
    fn one_class_and_wrong_widths_are_errors() {
        let (x, _) = binary_data();
        let y = Array1::from_elem(x.nrows(), 1.0);
        let e = LogisticRegression::default()
            .fit(x.view(), Some(y.view()))
            .unwrap_err();
        assert!(matches!(e, Error::OneClass { .. }), "{e}");
        let (x, y) = binary_data();
        let m = LogisticRegression::default()
            .fit(x.view(), Some(y.view()))
            .unwrap();
        let e = m.predict(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert!(matches!(e, Error::FeatureMismatch { .. }), "{e}");
    }

    #[test]
    fn parameters_use_scikit_learn_names_and_values() {
        let est: LogisticRegression =
            serde_json::from_str(r#"{"penalty": "l1", "C": 0.5, "solver": "liblinear"}"#).unwrap();
        assert_eq!(est.penalty, Some(Penalty::L1));
        assert_eq!(est.c, 0.5);
        assert_eq!(est.solver, Solver::Liblinear);
        assert_eq!(est.max_iter, 100);
        let none: LogisticRegression = serde_json::from_str(r#"{"penalty": null}"#).unwrap();
        assert_eq!(none.penalty, None);
        let json = serde_json::to_value(LogisticRegression::default()).unwrap();
        assert_eq!(json["penalty"], "l2");
        assert_eq!(json["C"], 1.0);
        assert_eq!(json["solver"], "lbfgs");
        assert_eq!(json["intercept_scaling"], 1.0);
    }
}
