//! Feature scaling: [`StandardScaler`] centres each feature on its mean and divides
//! it by its standard deviation, as scikit-learn's does.
//!
//! Fitting takes the column means, then the population variances (`ddof = 0`) in a
//! second pass over the centred values (exact even when the mean is large). A
//! feature that is constant, up to the rounding error of its mean, keeps a scale of
//! 1, so it is centred but not blown up.
//!
//! ```
//! use brisk_ml::{Estimator, StandardScaler, Transformer};
//! use ndarray::array;
//! let x = array![[1.0, 10.0], [2.0, 10.0], [3.0, 10.0]];
//! let scaler = StandardScaler::default().fit(x.view(), None).unwrap();
//! assert_eq!(scaler.mean, vec![2.0, 10.0]);
//! assert_eq!(scaler.scale[1], 1.0); // a constant feature is not scaled
//! let z = scaler.transform(x.view()).unwrap();
//! assert!((z[[2, 0]] - 1.5f64.sqrt()).abs() < 1e-12);
//! assert_eq!(z[[2, 1]], 0.0);
//! let back = scaler.inverse_transform(z.view()).unwrap();
//! assert!((back[[0, 0]] - 1.0).abs() < 1e-12);
//! ```

use crate::check::{check_features, check_x};
use crate::error::{Error, Result};
use crate::estimator::{Estimator, Role, Transformer};
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

const OWNER: &str = "StandardScaler";

/// Standardises features: `(x - mean) / std`, as scikit-learn's `StandardScaler`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StandardScaler {
    /// Subtract each feature's mean (default true).
    pub with_mean: bool,
    /// Divide each feature by its standard deviation (default true).
    pub with_std: bool,
}

impl Default for StandardScaler {
    fn default() -> Self {
        StandardScaler {
            with_mean: true,
            with_std: true,
        }
    }
}

/// A fitted [`StandardScaler`]: scikit-learn's `mean_`, `var_`, `scale_` and
/// `n_samples_seen_`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedStandardScaler {
    /// The mean of each feature.
    pub mean: Vec<f64>,
    /// The population variance (`ddof = 0`) of each feature.
    pub var: Vec<f64>,
    /// What each feature is divided by: its standard deviation, or 1 for a
    /// constant feature; all ones when `with_std` is false.
    pub scale: Vec<f64>,
    /// The number of features it was fit on.
    pub n_features: usize,
    /// The number of samples it was fit on.
    pub n_samples_seen: usize,
    /// Whether `transform` subtracts the mean.
    pub with_mean: bool,
    /// Whether `transform` divides by the scale.
    pub with_std: bool,
}

impl Estimator for StandardScaler {
    const KIND: &'static str = "brisk_ml::StandardScaler";
    const ROLE: Role = Role::Transformer;
    type Fitted = FittedStandardScaler;

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedStandardScaler> {
        check_x(x)?;
        let (n, p) = x.dim();
        let count = n as f64;
        let mut mean = vec![0.0; p];
        for row in x.rows() {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += *v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= count);
        let mut var = vec![0.0; p];
        for row in x.rows() {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                let d = *v - *m;
                *s += d * d;
            }
        }
        var.iter_mut().for_each(|s| *s /= count);
        let scale = if self.with_std {
            var.iter()
                .zip(&mean)
                .map(|(&v, &m)| {
                    if is_constant(v, m, count) {
                        1.0
                    } else {
                        v.sqrt()
                    }
                })
                .collect()
        } else {
            vec![1.0; p]
        };
        Ok(FittedStandardScaler {
            mean,
            var,
            scale,
            n_features: p,
            n_samples_seen: n,
            with_mean: self.with_mean,
            with_std: self.with_std,
        })
    }
}

/// Whether a feature of variance `var` and mean `mean` over `n` samples is constant:
/// its variance is no larger than the rounding error that computing the mean and
/// the squares could leave (`n·ε·var + (n·|mean|·ε)²`), so an exactly constant
/// column whose mean did not come out exact still counts as constant.
fn is_constant(var: f64, mean: f64, n: f64) -> bool {
    let eps = f64::EPSILON;
    let bound = n * eps * var + (n * mean * eps).powi(2);
    var <= bound
}

impl FittedStandardScaler {
    /// Undoes [`Transformer::transform`]: `z · scale + mean`.
    pub fn inverse_transform(&self, z: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(OWNER, self.n_features, z)?;
        self.check_lengths()?;
        let mut out = z.to_owned();
        for mut row in out.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                if self.with_std {
                    *v *= *s;
                }
                if self.with_mean {
                    *v += *m;
                }
            }
        }
        Ok(out)
    }

    /// The means and scales hold one value per feature (a decoded model might not).
    fn check_lengths(&self) -> Result<()> {
        let p = self.n_features;
        if self.mean.len() != p || self.scale.len() != p {
            return Err(Error::Decode {
                kind: StandardScaler::KIND.to_string(),
                message: format!(
                    "{} means and {} scales for {p} features",
                    self.mean.len(),
                    self.scale.len()
                ),
            });
        }
        Ok(())
    }
}

impl Transformer for FittedStandardScaler {
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(OWNER, self.n_features, x)?;
        self.check_lengths()?;
        let mut out = x.to_owned();
        for mut row in out.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                if self.with_mean {
                    *v -= *m;
                }
                if self.with_std {
                    *v /= *s;
                }
            }
        }
        Ok(out)
    }
}

crate::register_estimator!(StandardScaler => FittedStandardScaler: transformer);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_two_three_has_mean_two_and_scale_root_two_thirds() {
        let x = array![[1.0], [2.0], [3.0]];
        let s = StandardScaler::default().fit(x.view(), None).unwrap();
        assert_eq!(s.mean, vec![2.0]);
        assert!(close(s.var[0], 2.0 / 3.0));
        assert!(close(s.scale[0], (2.0f64 / 3.0).sqrt()));
        assert_eq!((s.n_features, s.n_samples_seen), (1, 3));
        let z = s.transform(x.view()).unwrap();
        let r = 1.5f64.sqrt();
        assert!(close(z[[0, 0]], -r) && close(z[[1, 0]], 0.0) && close(z[[2, 0]], r));
    }

    #[test]
    fn a_constant_feature_keeps_scale_one() {
        // 0.1 is not exact in binary: the mean of three of them is not exactly 0.1.
        let x = array![[0.1, 5.0], [0.1, 5.0], [0.1, 5.0]];
        let s = StandardScaler::default().fit(x.view(), None).unwrap();
        assert_eq!(s.scale, vec![1.0, 1.0]);
        let z = s.transform(x.view()).unwrap();
        assert!(z.iter().all(|v| v.abs() < 1e-15));
    }

    #[test]
    fn without_mean_it_only_divides() {
        let x = array![[1.0], [3.0]];
        let s = StandardScaler {
            with_mean: false,
            ..StandardScaler::default()
        }
        .fit(x.view(), None)
        .unwrap();
        // mean 2, std 1: 1 → 1, 3 → 3.
        assert_eq!(s.transform(x.view()).unwrap(), array![[1.0], [3.0]]);
    }

    #[test]
    fn without_std_it_only_centres() {
        let x = array![[1.0], [5.0]];
        let s = StandardScaler {
            with_std: false,
            ..StandardScaler::default()
        }
        .fit(x.view(), None)
        .unwrap();
        assert_eq!(s.scale, vec![1.0]);
        assert_eq!(s.transform(x.view()).unwrap(), array![[-2.0], [2.0]]);
    }

    #[test]
    fn inverse_transform_undoes_transform() {
        let x = array![[1.0, -4.0], [2.5, 0.0], [7.0, 3.0]];
        let s = StandardScaler::default().fit(x.view(), None).unwrap();
        let back = s
            .inverse_transform(s.transform(x.view()).unwrap().view())
            .unwrap();
        assert!(back.iter().zip(x.iter()).all(|(a, b)| close(*a, *b)));
    }

    #[test]
    fn transforming_another_number_of_features_is_an_error() {
        let s = StandardScaler::default()
            .fit(array![[1.0, 2.0], [3.0, 4.0]].view(), None)
            .unwrap();
        let e = s.transform(array![[1.0]].view()).unwrap_err().to_string();
        assert_eq!(e, "StandardScaler was fit on 2 features, X has 1");
    }

    #[test]
    fn a_nan_is_refused_at_fit() {
        let e = StandardScaler::default()
            .fit(array![[1.0], [f64::NAN]].view(), None)
            .unwrap_err();
        assert!(e.to_string().contains("row 1, column 0"), "{e}");
    }
}
