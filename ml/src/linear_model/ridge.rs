//! Least squares: [`LinearRegression`] and its L2-penalised form [`Ridge`], as
//! scikit-learn's.
//!
//! With `fit_intercept`, `X` and `y` are centred on their means first, so the
//! intercept is not penalised and comes out as `ȳ − x̄·w`. Then:
//!
//! - `LinearRegression` takes the minimum-norm least-squares solution by SVD (a
//!   rank-deficient `X`, such as two equal columns, gets the shortest `w`).
//! - `Ridge` minimises `‖y − Xw‖² + α‖w‖²`, whose normal equations
//!   `(XᵀX + αI) w = Xᵀy` are symmetric positive definite for `α > 0` and are
//!   solved by Cholesky. With more features than samples it solves the smaller
//!   dual system `(XXᵀ + αI) a = y` and takes `w = Xᵀa`. Should a Cholesky
//!   factorisation fail (a penalty lost in the rounding of a huge `XᵀX`), the SVD
//!   form `w = V diag(s / (s² + α)) Uᵀy` gives the same solution. `α = 0` is
//!   ordinary least squares.
//!
//! ```
//! use brisk_ml::{Estimator, Predictor, Ridge};
//! use ndarray::array;
//! // One feature, centred x = (-1, 0, 1), centred y = (-1, 0, 1):
//! // w = Σxy / (Σx² + α) = 2 / (2 + 1), intercept = 1 − 1·w.
//! let x = array![[0.0], [1.0], [2.0]];
//! let y = array![0.0, 1.0, 2.0];
//! let model = Ridge::default().fit(x.view(), Some(y.view())).unwrap();
//! assert!((model.coef[0] - 2.0 / 3.0).abs() < 1e-12);
//! assert!((model.intercept - 1.0 / 3.0).abs() < 1e-12);
//! let p = model.predict(array![[3.0]].view()).unwrap();
//! assert!((p[0] - 7.0 / 3.0).abs() < 1e-12);
//! ```

use crate::check::{check_features, require_y};
use crate::error::{Error, Result};
use crate::estimator::{Estimator, Predictor, Role};
use crate::linalg::{gram, lstsq, matmul, solve_spd, thin_svd};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Linear least squares with an L2 penalty, as scikit-learn's `Ridge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ridge {
    /// The strength of the penalty `α‖w‖²` (default 1.0; 0 is ordinary least
    /// squares).
    pub alpha: f64,
    /// Fit an intercept, by centring `X` and `y` (default true).
    pub fit_intercept: bool,
}

impl Default for Ridge {
    fn default() -> Self {
        Ridge {
            alpha: 1.0,
            fit_intercept: true,
        }
    }
}

/// Ordinary least squares, as scikit-learn's `LinearRegression`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinearRegression {
    /// Fit an intercept, by centring `X` and `y` (default true).
    pub fit_intercept: bool,
}

impl Default for LinearRegression {
    fn default() -> Self {
        LinearRegression {
            fit_intercept: true,
        }
    }
}

/// A fitted [`Ridge`]: `predict(x) = x · coef + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRidge {
    /// One weight per feature (scikit-learn's `coef_`).
    pub coef: Vec<f64>,
    /// The constant term (`intercept_`; 0 without `fit_intercept`).
    pub intercept: f64,
    /// The number of features it was fit on.
    pub n_features: usize,
}

/// A fitted [`LinearRegression`]: `predict(x) = x · coef + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedLinearRegression {
    /// One weight per feature (scikit-learn's `coef_`).
    pub coef: Vec<f64>,
    /// The constant term (`intercept_`; 0 without `fit_intercept`).
    pub intercept: f64,
    /// The number of features it was fit on.
    pub n_features: usize,
}

/// `x` and `y`, centred on their means when fitting an intercept.
struct Centred {
    x: Array2<f64>,
    y: Array1<f64>,
    x_mean: Array1<f64>,
    y_mean: f64,
}

fn centre(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, fit_intercept: bool) -> Centred {
    let p = x.ncols();
    if !fit_intercept {
        return Centred {
            x: x.to_owned(),
            y: y.to_owned(),
            x_mean: Array1::zeros(p),
            y_mean: 0.0,
        };
    }
    let x_mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(p));
    let y_mean = y.mean().unwrap_or(0.0);
    let mut xc = x.to_owned();
    xc -= &x_mean;
    Centred {
        x: xc,
        y: y.mapv(|v| v - y_mean),
        x_mean,
        y_mean,
    }
}

/// The ridge weights of centred data: primal or dual normal equations by Cholesky,
/// the SVD form should Cholesky fail, least squares when `alpha` is 0.
fn ridge_weights(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    alpha: f64,
) -> Result<Array1<f64>> {
    let (n, p) = x.dim();
    if p == 0 {
        return Ok(Array1::zeros(0));
    }
    let y_col = y.insert_axis(Axis(1));
    if alpha == 0.0 {
        return Ok(column(lstsq(x, y_col)?));
    }
    let solved = if p <= n {
        // (XᵀX + αI) w = Xᵀy
        let mut a = gram(x);
        a.diag_mut().mapv_inplace(|v| v + alpha);
        let b = matmul(x.t(), y_col);
        solve_spd(a.view(), b.view())
    } else {
        // (XXᵀ + αI) a = y, w = Xᵀa
        let mut k = gram(x.t());
        k.diag_mut().mapv_inplace(|v| v + alpha);
        solve_spd(k.view(), y_col).map(|dual| matmul(x.t(), dual.view()))
    };
    match solved {
        Ok(w) => Ok(column(w)),
        Err(_) => ridge_by_svd(x, y, alpha),
    }
}

/// `w = V diag(s / (s² + α)) Uᵀy`: the ridge solution from the thin SVD of `x`.
fn ridge_by_svd(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, alpha: f64) -> Result<Array1<f64>> {
    let (u, s, vt) = thin_svd(x)?;
    let mut c = u.t().dot(&y);
    for (ci, &si) in c.iter_mut().zip(&s) {
        *ci *= si / (si * si + alpha);
    }
    Ok(vt.t().dot(&c))
}

/// The single column of a `p × 1` solution.
fn column(w: Array2<f64>) -> Array1<f64> {
    w.iter().copied().collect()
}

/// The intercept `ȳ − x̄·w` (0 without an intercept, where both means are 0).
fn intercept(c: &Centred, w: &Array1<f64>) -> f64 {
    c.y_mean - c.x_mean.dot(w)
}

/// `x · coef + intercept`, after checking `x` against the model.
fn predict_linear(
    kind: &str,
    owner: &str,
    coef: &[f64],
    intercept: f64,
    n_features: usize,
    x: ArrayView2<'_, f64>,
) -> Result<Array1<f64>> {
    check_features(owner, n_features, x)?;
    if coef.len() != n_features {
        return Err(Error::Decode {
            kind: kind.to_string(),
            message: format!("{} weights for {n_features} features", coef.len()),
        });
    }
    let w = ArrayView1::from(coef);
    Ok(x.dot(&w) + intercept)
}

impl Estimator for Ridge {
    const KIND: &'static str = "brisk_ml::Ridge";
    const ROLE: Role = Role::Regressor;
    type Fitted = FittedRidge;

    fn fit(&self, x: ArrayView2<'_, f64>, y: Option<ArrayView1<'_, f64>>) -> Result<FittedRidge> {
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return Err(Error::invalid(
                "Ridge",
                "alpha",
                format!("must be a finite number >= 0, got {}", self.alpha),
            ));
        }
        let y = require_y("Ridge", x, y)?;
        let c = centre(x, y, self.fit_intercept);
        let w = ridge_weights(c.x.view(), c.y.view(), self.alpha)?;
        Ok(FittedRidge {
            intercept: intercept(&c, &w),
            coef: w.to_vec(),
            n_features: x.ncols(),
        })
    }
}

impl Estimator for LinearRegression {
    const KIND: &'static str = "brisk_ml::LinearRegression";
    const ROLE: Role = Role::Regressor;
    type Fitted = FittedLinearRegression;

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedLinearRegression> {
        let y = require_y("LinearRegression", x, y)?;
        let c = centre(x, y, self.fit_intercept);
        let w = column(lstsq(c.x.view(), c.y.view().insert_axis(Axis(1)))?);
        Ok(FittedLinearRegression {
            intercept: intercept(&c, &w),
            coef: w.to_vec(),
            n_features: x.ncols(),
        })
    }
}

impl Predictor for FittedRidge {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        predict_linear(
            Ridge::KIND,
            "Ridge",
            &self.coef,
            self.intercept,
            self.n_features,
            x,
        )
    }
}

impl Predictor for FittedLinearRegression {
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        predict_linear(
            LinearRegression::KIND,
            "LinearRegression",
            &self.coef,
            self.intercept,
            self.n_features,
            x,
        )
    }
}

crate::register_estimator!(Ridge => FittedRidge: predictor);
crate::register_estimator!(LinearRegression => FittedLinearRegression: predictor);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-10
    }

    fn all_close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(*x, *y))
    }

    #[test]
    fn ridge_without_penalty_fits_the_exact_line() {
        // y = 2x + 1.
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let y = array![1.0, 3.0, 5.0, 7.0];
        let m = Ridge {
            alpha: 0.0,
            ..Ridge::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        assert!(
            all_close(&m.coef, &[2.0]) && close(m.intercept, 1.0),
            "{m:?}"
        );
        let p = m.predict(array![[10.0]].view()).unwrap();
        assert!(close(p[0], 21.0));
    }

    #[test]
    fn ridge_matches_the_closed_form_of_a_three_by_two_example() {
        // XᵀX + I = [[3, 1], [1, 3]], Xᵀy = [4, 5]  →  w = [7/8, 11/8].
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let y = array![1.0, 2.0, 3.0];
        let m = Ridge {
            fit_intercept: false,
            ..Ridge::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        assert!(all_close(&m.coef, &[7.0 / 8.0, 11.0 / 8.0]), "{m:?}");
        assert_eq!(m.intercept, 0.0);
    }

    #[test]
    fn ridge_centres_to_fit_the_intercept() {
        // Centred x = y = (-1, 0, 1): w = 2 / (2 + 1), intercept = 1 - w.
        let x = array![[0.0], [1.0], [2.0]];
        let y = array![0.0, 1.0, 2.0];
        let m = Ridge::default().fit(x.view(), Some(y.view())).unwrap();
        assert!(
            all_close(&m.coef, &[2.0 / 3.0]) && close(m.intercept, 1.0 / 3.0),
            "{m:?}"
        );
    }

    #[test]
    fn ridge_with_more_features_than_samples_solves_the_dual() {
        // Primal: diag(1, 1, 0) + I, Xᵀy = (1, 2, 0)  →  w = (1/2, 1, 0).
        // Dual: XXᵀ + I = 2I, a = y / 2, w = Xᵀa: the same.
        let x = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let y = array![1.0, 2.0];
        let m = Ridge {
            fit_intercept: false,
            ..Ridge::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        assert!(all_close(&m.coef, &[0.5, 1.0, 0.0]), "{m:?}");
    }

    #[test]
    fn the_svd_form_agrees_with_the_normal_equations() {
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let y = array![1.0, 2.0, 3.0];
        let w = ridge_by_svd(x.view(), y.view(), 1.0).unwrap();
        assert!(
            all_close(w.as_slice().unwrap_or(&[]), &[7.0 / 8.0, 11.0 / 8.0]),
            "{w}"
        );
    }

    #[test]
    fn linear_regression_of_equal_columns_takes_the_shortest_weights() {
        // x1 = x2 and y = 2·x1: w1 + w2 = 2, shortest at (1, 1).
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let y = array![2.0, 4.0, 6.0];
        for fit_intercept in [false, true] {
            let m = LinearRegression { fit_intercept }
                .fit(x.view(), Some(y.view()))
                .unwrap();
            assert!(
                all_close(&m.coef, &[1.0, 1.0]) && close(m.intercept, 0.0),
                "{m:?}"
            );
        }
    }

    #[test]
    fn linear_regression_fits_a_plane_with_intercept() {
        // y = 1 + 2a - b, exactly.
        let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 3.0]];
        let y: Array1<f64> = x
            .rows()
            .into_iter()
            .map(|r| 1.0 + 2.0 * r[0] - r[1])
            .collect();
        let m = LinearRegression::default()
            .fit(x.view(), Some(y.view()))
            .unwrap();
        assert!(
            all_close(&m.coef, &[2.0, -1.0]) && close(m.intercept, 1.0),
            "{m:?}"
        );
        let p = m.predict(array![[4.0, 4.0]].view()).unwrap();
        assert!(close(p[0], 5.0));
    }

    #[test]
    fn a_negative_alpha_is_refused() {
        let x = array![[1.0], [2.0]];
        let y = array![1.0, 2.0];
        let e = Ridge {
            alpha: -1.0,
            ..Ridge::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "parameter 'alpha' of Ridge: must be a finite number >= 0, got -1"
        );
    }

    #[test]
    fn fitting_without_y_is_an_error() {
        let e = LinearRegression::default()
            .fit(array![[1.0]].view(), None)
            .unwrap_err();
        assert!(e.to_string().contains("without y"), "{e}");
    }

    #[test]
    fn predicting_another_number_of_features_is_an_error() {
        let x = array![[1.0], [2.0]];
        let y = array![1.0, 2.0];
        let m = Ridge::default().fit(x.view(), Some(y.view())).unwrap();
        let e = m.predict(array![[1.0, 2.0]].view()).unwrap_err();
        assert_eq!(e.to_string(), "Ridge was fit on 1 features, X has 2");
    }
}
