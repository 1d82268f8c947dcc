//! Principal component analysis: [`PCA`], as scikit-learn's.
//!
//! Fitting centres `X` on its column means and finds the directions of largest
//! variance, by one of three exact-or-not methods (`svd_solver`):
//!
//! - `"full"`: the thin SVD of the centred `X`; the right singular vectors are the
//!   components and `s² / (n - 1)` their variances.
//! - `"covariance_eigh"`: the eigendecomposition of the covariance matrix
//!   `XcᵀXc / (n - 1)` (`n_features × n_features`), which is much cheaper than the
//!   SVD when there are many more samples than features.
//! - `"randomized"`: Halko, Martinsson and Tropp's randomised range finder. A
//!   seeded Gaussian test matrix of `n_components + n_oversamples` columns is
//!   multiplied by `Xc`, refined by `iterated_power` power iterations (each
//!   re-orthonormalised by a QR factorisation), and the small matrix `QᵀXc` is
//!   decomposed exactly.
//! - `"auto"` picks `covariance_eigh` when `n_features <= 1000` and
//!   `n_samples >= 10 · n_features`, else `full`. Unlike scikit-learn's `"auto"`, it
//!   never picks `randomized` for large inputs: exact solvers are both accurate and
//!   fast at these sizes with faer, so the randomised one is opt-in.
//!
//! Components follow scikit-learn's (≥ 1.5) deterministic signs: in each component
//! the entry of largest absolute value is positive. `transform` projects the centred
//! data on the components, and with `whiten` divides each projection by the square
//! root of its variance.
//!
//! ```
//! use brisk_ml::{Estimator, Transformer, PCA};
//! use ndarray::array;
//! // Points on the line y = 2x: one direction holds all the variance.
//! let x = array![[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
//! let pca = PCA { n_components: Some(1), ..PCA::default() }.fit(x.view(), None).unwrap();
//! let c = pca.components();
//! assert!((c[[0, 0]] - 1.0 / 5f64.sqrt()).abs() < 1e-12);
//! assert!((c[[0, 1]] - 2.0 / 5f64.sqrt()).abs() < 1e-12);
//! assert!((pca.explained_variance_ratio()[0] - 1.0).abs() < 1e-12);
//! let z = pca.transform(x.view()).unwrap();
//! assert_eq!(z.dim(), (4, 1));
//! ```

use crate::check::{check_features, check_finite, check_x};
use crate::datasets::normal;
use crate::error::{Error, Result};
use crate::estimator::{Estimator, Role, Transformer};
use crate::linalg::{eigh_descending, gram, matmul, orthonormal_basis, thin_svd};
use brisk_collections::datasets::Rng;
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

const OWNER: &str = "PCA";

/// How [`PCA`] finds its components (scikit-learn's `svd_solver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SvdSolver {
    /// `covariance_eigh` for tall inputs of at most 1000 features, else `full`.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// The thin SVD of the centred data.
    #[serde(rename = "full")]
    Full,
    /// The eigendecomposition of the covariance matrix.
    #[serde(rename = "covariance_eigh")]
    CovarianceEigh,
    /// The randomised range finder (approximate, seeded by `random_state`).
    #[serde(rename = "randomized")]
    Randomized,
}

/// Principal component analysis, as scikit-learn's `PCA` (integer `n_components`).
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PCA {
    /// How many components to keep; `None` keeps `min(n_samples, n_features)`.
    pub n_components: Option<usize>,
    /// Scale the projections to unit variance (default false).
    pub whiten: bool,
    /// The method (default `"auto"`).
    pub svd_solver: SvdSolver,
    /// Power iterations of the randomised solver; `None` is scikit-learn's
    /// `"auto"`: 7 when `n_components < 0.1 · min(n_samples, n_features)`, else 4.
    /// Written as `"auto"` in parameters, and read from `"auto"` or null.
    #[serde(with = "auto_or_count")]
    pub iterated_power: Option<usize>,
    /// Extra random directions of the randomised solver (default 10).
    pub n_oversamples: usize,
    /// Seed of the randomised solver; `None` uses seed 0, so that a fit, like every
    /// task of a graph, gives the same result each time it runs.
    pub random_state: Option<u64>,
}

impl Default for PCA {
    fn default() -> Self {
        PCA {
            n_components: None,
            whiten: false,
            svd_solver: SvdSolver::Auto,
            iterated_power: None,
            n_oversamples: 10,
            random_state: None,
        }
    }
}

/// `iterated_power` as scikit-learn writes it: a count, or `"auto"` for `None`.
mod auto_or_count {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(n) => s.serialize_u64(*n as u64),
            None => s.serialize_str("auto"),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Count(u64),
        Word(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Word(w)) if w == "auto" => Ok(None),
            Some(Raw::Count(n)) => usize::try_from(n).map(Some).map_err(D::Error::custom),
            Some(Raw::Word(w)) => Err(D::Error::custom(format!(
                "expected a number of power iterations or \"auto\", got \"{w}\""
            ))),
        }
    }
}

/// A fitted [`PCA`]: scikit-learn's `components_`, `explained_variance_`,
/// `explained_variance_ratio_`, `singular_values_`, `mean_`, `n_components_`,
/// `noise_variance_`, through the methods of the same names without the trailing
/// underscore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPCA {
    /// `n_components × n_features`, row-major.
    components: Vec<f64>,
    n_components: usize,
    n_features: usize,
    n_samples: usize,
    mean: Vec<f64>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    singular_values: Vec<f64>,
    noise_variance: f64,
    whiten: bool,
    svd_solver: SvdSolver,
}

/// The directions found by a solver, largest variance first (at least
/// `n_components` of them), and the total variance of the data.
struct Spectrum {
    /// One direction per row.
    vt: Array2<f64>,
    singular_values: Array1<f64>,
    /// The variance along each direction: `s² / (n - 1)`.
    variances: Array1<f64>,
    total_variance: f64,
}

impl PCA {
    /// The solver `"auto"` stands for on an `n × p` input.
    fn resolved_solver(&self, n: usize, p: usize) -> SvdSolver {
        match self.svd_solver {
            SvdSolver::Auto if p <= 1000 && n >= 10 * p => SvdSolver::CovarianceEigh,
            SvdSolver::Auto => SvdSolver::Full,
            other => other,
        }
    }
}

impl Estimator for PCA {
    const KIND: &'static str = "brisk_ml::PCA";
    const ROLE: Role = Role::Transformer;
    type Fitted = FittedPCA;

    fn fit(&self, x: ArrayView2<'_, f64>, _y: Option<ArrayView1<'_, f64>>) -> Result<FittedPCA> {
        check_x(x)?;
        let (n, p) = x.dim();
        let limit = n.min(p);
        let k = self.n_components.unwrap_or(limit);
        if k == 0 || k > limit {
            return Err(Error::invalid(
                OWNER,
                "n_components",
                format!(
                    "must be between 1 and min(n_samples, n_features) = min({n}, {p}) = {limit}, got {k}"
                ),
            ));
        }
        if self.n_oversamples == 0 {
            return Err(Error::invalid(
                OWNER,
                "n_oversamples",
                "must be at least 1, got 0",
            ));
        }
        let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(p));
        let mut xc = x.to_owned();
        xc -= &mean;
        let dof = n.saturating_sub(1).max(1) as f64;
        let solver = self.resolved_solver(n, p);
        let spectrum = match solver {
            SvdSolver::CovarianceEigh => by_covariance(xc.view(), dof)?,
            SvdSolver::Randomized => {
                let auto = if (k as f64) < 0.1 * limit as f64 {
                    7
                } else {
                    4
                };
                let iterations = self.iterated_power.unwrap_or(auto);
                let size = k.saturating_add(self.n_oversamples).min(limit);
                let seed = self.random_state.unwrap_or(0);
                by_randomized(xc.view(), size, iterations, seed, dof)?
            }
            SvdSolver::Full | SvdSolver::Auto => by_svd(xc.view(), dof)?,
        };
        if spectrum.vt.nrows() < k
            || spectrum.variances.len() < k
            || spectrum.singular_values.len() < k
        {
            return Err(Error::numerical(
                "PCA",
                format!(
                    "the solver found {} directions, {k} were asked for",
                    spectrum.vt.nrows()
                ),
            ));
        }
        let mut components = spectrum.vt.slice(s![..k, ..]).to_owned();
        flip_signs(&mut components);
        let explained_variance: Vec<f64> = spectrum.variances.iter().take(k).copied().collect();
        let singular_values: Vec<f64> = spectrum.singular_values.iter().take(k).copied().collect();
        let total = spectrum.total_variance;
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| if total > 0.0 { v / total } else { 0.0 })
            .collect();
        // The mean variance of the directions left out: the total not explained,
        // spread over the other min(n, p) - k directions.
        let kept: f64 = explained_variance.iter().sum();
        let noise_variance = if k < limit {
            ((total - kept) / (limit - k) as f64).max(0.0)
        } else {
            0.0
        };
        Ok(FittedPCA {
            components: components.iter().copied().collect(),
            n_components: k,
            n_features: p,
            n_samples: n,
            mean: mean.to_vec(),
            explained_variance,
            explained_variance_ratio,
            singular_values,
            noise_variance,
            whiten: self.whiten,
            svd_solver: solver,
        })
    }
}

/// The spectrum from the thin SVD of the centred data.
fn by_svd(xc: ArrayView2<'_, f64>, dof: f64) -> Result<Spectrum> {
    let (_, s, vt) = thin_svd(xc)?;
    let variances = s.mapv(|v| v * v / dof);
    let total_variance = variances.sum();
    Ok(Spectrum {
        vt,
        singular_values: s,
        variances,
        total_variance,
    })
}

/// The spectrum from the eigendecomposition of the covariance matrix.
fn by_covariance(xc: ArrayView2<'_, f64>, dof: f64) -> Result<Spectrum> {
    let mut covariance = gram(xc);
    covariance.mapv_inplace(|v| v / dof);
    let (values, vectors) = eigh_descending(covariance.view())?;
    // Rounding can leave the eigenvalues of a singular covariance slightly negative.
    let variances = values.mapv(|v| v.max(0.0));
    let singular_values = variances.mapv(|v| (v * dof).sqrt());
    let total_variance = variances.sum();
    Ok(Spectrum {
        vt: vectors.reversed_axes(),
        singular_values,
        variances,
        total_variance,
    })
}

/// The spectrum from the randomised range finder with `size` random directions.
fn by_randomized(
    xc: ArrayView2<'_, f64>,
    size: usize,
    iterations: usize,
    seed: u64,
    dof: f64,
) -> Result<Spectrum> {
    let p = xc.ncols();
    let mut rng = Rng::new(seed);
    let omega = Array2::from_shape_fn((p, size), |_| normal(&mut rng));
    let mut q = orthonormal_basis(matmul(xc, omega.view()).view());
    for _ in 0..iterations {
        let z = orthonormal_basis(matmul(xc.t(), q.view()).view());
        q = orthonormal_basis(matmul(xc, z.view()).view());
    }
    // Xc ≈ Q · (QᵀXc): the SVD of the small factor gives the components.
    let b = matmul(q.t(), xc);
    let (_, s, vt) = thin_svd(b.view())?;
    let variances = s.mapv(|v| v * v / dof);
    let total_variance = xc.iter().map(|v| v * v).sum::<f64>() / dof;
    Ok(Spectrum {
        vt,
        singular_values: s,
        variances,
        total_variance,
    })
}

/// scikit-learn's sign convention: in each row, the entry of largest absolute
/// value (the first of equals) is made positive.
fn flip_signs(components: &mut Array2<f64>) {
    for mut row in components.rows_mut() {
        let mut largest = 0.0f64;
        let mut negative = false;
        for &v in row.iter() {
            if v.abs() > largest {
                largest = v.abs();
                negative = v < 0.0;
            }
        }
        if negative {
            row.mapv_inplace(|v| -v);
        }
    }
}

impl FittedPCA {
    /// The principal axes, one per row (`n_components × n_features`), largest
    /// variance first. Empty if a decoded model's values do not fit its dimensions.
    pub fn components(&self) -> Array2<f64> {
        Array2::from_shape_vec(
            (self.n_components, self.n_features),
            self.components.clone(),
        )
        .unwrap_or_else(|_| Array2::zeros((0, 0)))
    }

    /// The variance along each component (`s² / (n_samples - 1)`).
    pub fn explained_variance(&self) -> Array1<f64> {
        Array1::from(self.explained_variance.clone())
    }

    /// Each component's share of the total variance.
    pub fn explained_variance_ratio(&self) -> Array1<f64> {
        Array1::from(self.explained_variance_ratio.clone())
    }

    /// The singular values of the centred data along the components.
    pub fn singular_values(&self) -> Array1<f64> {
        Array1::from(self.singular_values.clone())
    }

    /// The mean of each feature, subtracted before projecting.
    pub fn mean(&self) -> Array1<f64> {
        Array1::from(self.mean.clone())
    }

    /// The probabilistic-PCA noise: the mean variance of the directions left out
    /// (0 when all `min(n_samples, n_features)` are kept).
    pub fn noise_variance(&self) -> f64 {
        self.noise_variance
    }

    /// The number of components kept.
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// The number of features it was fit on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The number of samples it was fit on.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Whether projections are scaled to unit variance.
    pub fn whiten(&self) -> bool {
        self.whiten
    }

    /// The solver that ran (what `"auto"` resolved to).
    pub fn svd_solver(&self) -> SvdSolver {
        self.svd_solver
    }

    /// Maps projections back to the feature space: `z · components + mean` (after
    /// undoing the whitening). Exact when all components were kept.
    pub fn inverse_transform(&self, z: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if z.ncols() != self.n_components {
            return Err(Error::FeatureMismatch {
                owner: "PCA's inverse_transform (its n_components)".into(),
                expected: self.n_components,
                found: z.ncols(),
            });
        }
        check_finite(z, "X")?;
        self.check_lengths()?;
        let mut scaled = z.to_owned();
        if self.whiten {
            self.scale_columns(&mut scaled, |c, d| c * d);
        }
        let mut x = matmul(scaled.view(), self.components().view());
        x += &self.mean();
        Ok(x)
    }

    /// Applies `f(value, sqrt(variance))` to each column with a positive variance.
    fn scale_columns(&self, z: &mut Array2<f64>, f: impl Fn(f64, f64) -> f64) {
        for (mut col, &v) in z.columns_mut().into_iter().zip(&self.explained_variance) {
            if v > 0.0 {
                let d = v.sqrt();
                col.mapv_inplace(|c| f(c, d));
            }
        }
    }

    /// The stored values fit the dimensions (a decoded model might not).
    fn check_lengths(&self) -> Result<()> {
        let (k, p) = (self.n_components, self.n_features);
        if k.checked_mul(p) != Some(self.components.len())
            || self.mean.len() != p
            || self.explained_variance.len() != k
        {
            return Err(Error::Decode {
                kind: PCA::KIND.to_string(),
                message: format!(
                    "{} component values, {} means and {} variances for {k} components of {p} features",
                    self.components.len(),
                    self.mean.len(),
                    self.explained_variance.len()
                ),
            });
        }
        Ok(())
    }
}

impl Transformer for FittedPCA {
    /// `(x - mean) · componentsᵀ`, divided by `sqrt(explained_variance)` when
    /// whitening (a component of zero variance is left unscaled).
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(OWNER, self.n_features, x)?;
        self.check_lengths()?;
        let mut xc = x.to_owned();
        xc -= &self.mean();
        let components = self.components();
        let mut z = matmul(xc.view(), components.t());
        if self.whiten {
            self.scale_columns(&mut z, |c, d| c / d);
        }
        Ok(z)
    }
}

crate::register_estimator!(PCA => FittedPCA: transformer);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{get_params, set_params, Params};
    use ndarray::array;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn with(solver: SvdSolver, n_components: Option<usize>) -> PCA {
        PCA {
            n_components,
            svd_solver: solver,
            ..PCA::default()
        }
    }

    const SOLVERS: [SvdSolver; 3] = [
        SvdSolver::Full,
        SvdSolver::CovarianceEigh,
        SvdSolver::Randomized,
    ];

    /// A cross: variance 8/3 along y, 2/3 along x (n - 1 = 3).
    fn cross() -> Array2<f64> {
        array![[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]]
    }

    #[test]
    fn points_on_a_line_give_one_component_along_it() {
        let x = array![[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
        for solver in SOLVERS {
            let pca = with(solver, Some(1)).fit(x.view(), None).unwrap();
            let c = pca.components();
            let r5 = 5f64.sqrt();
            assert!(close(c[[0, 0]], 1.0 / r5, 1e-10), "{solver:?}: {c}");
            assert!(close(c[[0, 1]], 2.0 / r5, 1e-10), "{solver:?}: {c}");
            assert!(
                close(pca.explained_variance_ratio()[0], 1.0, 1e-10),
                "{solver:?}"
            );
            // Centred, the points sum 25 in squares: variance 25 / 3.
            assert!(
                close(pca.explained_variance()[0], 25.0 / 3.0, 1e-10),
                "{solver:?}"
            );
            assert!(close(pca.singular_values()[0], 5.0, 1e-10), "{solver:?}");
            assert!(close(pca.noise_variance(), 0.0, 1e-10), "{solver:?}");
            assert_eq!(pca.mean(), array![1.5, 3.0]);
        }
    }

    #[test]
    fn a_cross_has_hand_computed_components_and_variances() {
        for solver in SOLVERS {
            let pca = with(solver, None).fit(cross().view(), None).unwrap();
            let c = pca.components();
            let expected = array![[0.0, 1.0], [1.0, 0.0]];
            assert!(
                c.iter()
                    .zip(expected.iter())
                    .all(|(a, b)| close(*a, *b, 1e-10)),
                "{solver:?}: {c}"
            );
            let ev = pca.explained_variance();
            assert!(
                close(ev[0], 8.0 / 3.0, 1e-10) && close(ev[1], 2.0 / 3.0, 1e-10),
                "{solver:?}"
            );
            let ratio = pca.explained_variance_ratio();
            assert!(
                close(ratio[0], 0.8, 1e-10) && close(ratio[1], 0.2, 1e-10),
                "{solver:?}"
            );
            let sv = pca.singular_values();
            assert!(close(sv[0], 8f64.sqrt(), 1e-10) && close(sv[1], 2f64.sqrt(), 1e-10));
            assert_eq!(pca.noise_variance(), 0.0);
        }
    }

    #[test]
    fn the_left_out_variance_is_the_noise_variance() {
        let pca = with(SvdSolver::Full, Some(1))
            .fit(cross().view(), None)
            .unwrap();
        assert!(close(pca.noise_variance(), 2.0 / 3.0, 1e-12));
        let z = pca
            .transform(array![[0.0, 2.0], [1.0, 0.0]].view())
            .unwrap();
        assert!(
            close(z[[0, 0]], 2.0, 1e-12) && close(z[[1, 0]], 0.0, 1e-12),
            "{z}"
        );
    }

    #[test]
    fn whitening_divides_by_the_standard_deviation() {
        let pca = PCA {
            whiten: true,
            ..with(SvdSolver::Full, Some(1))
        }
        .fit(cross().view(), None)
        .unwrap();
        // 2 / sqrt(8/3) = sqrt(3/2).
        let z = pca.transform(array![[0.0, 2.0]].view()).unwrap();
        assert!(close(z[[0, 0]], 1.5f64.sqrt(), 1e-12), "{z}");
        let back = pca.inverse_transform(z.view()).unwrap();
        assert!(close(back[[0, 1]], 2.0, 1e-12) && close(back[[0, 0]], 0.0, 1e-12));
    }

    /// A 40 × 4 sample with unequal spreads, from a fixed seed.
    fn sample() -> Array2<f64> {
        let mut rng = Rng::new(3);
        let spread = [5.0, 3.0, 2.0, 1.0];
        let mut x = Array2::from_shape_fn((40, 4), |(_, j)| spread[j] * normal(&mut rng));
        // Correlate two features so the axes are not the coordinate axes.
        for mut row in x.rows_mut() {
            let first = row[0];
            row[1] += 0.5 * first;
        }
        x
    }

    #[test]
    fn the_three_solvers_agree_and_signs_are_deterministic() {
        let x = sample();
        let fits: Vec<FittedPCA> = SOLVERS
            .iter()
            .map(|&s| with(s, Some(3)).fit(x.view(), None).unwrap())
            .collect();
        let reference = fits[0].components();
        for pca in &fits {
            let c = pca.components();
            assert!(
                c.iter()
                    .zip(reference.iter())
                    .all(|(a, b)| close(*a, *b, 1e-8)),
                "{c}\n{reference}"
            );
            let ev = pca.explained_variance();
            let ev0 = fits[0].explained_variance();
            assert!(ev
                .iter()
                .zip(ev0.iter())
                .all(|(a, b)| close(*a, *b, 1e-8 * ev0[0])));
            assert!(close(pca.noise_variance(), fits[0].noise_variance(), 1e-8));
            for row in c.rows() {
                let top = row
                    .iter()
                    .copied()
                    .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
                assert!(top > 0.0, "{row}");
            }
        }
    }

    #[test]
    fn the_randomized_solver_finds_the_range_of_low_rank_data() {
        // Rank 2 in 20 features: 5 random directions capture the range exactly.
        let mut rng = Rng::new(11);
        let a = Array2::from_shape_fn((30, 2), |_| normal(&mut rng));
        let b = Array2::from_shape_fn((2, 20), |_| normal(&mut rng));
        let x = a.dot(&b) + 1.0;
        let randomized = PCA {
            n_oversamples: 3,
            random_state: Some(5),
            ..with(SvdSolver::Randomized, Some(2))
        };
        let fast = randomized.fit(x.view(), None).unwrap();
        let exact = with(SvdSolver::Full, Some(2)).fit(x.view(), None).unwrap();
        let (c, e) = (fast.components(), exact.components());
        assert!(
            c.iter().zip(e.iter()).all(|(a, b)| close(*a, *b, 1e-9)),
            "{c}\n{e}"
        );
        assert!(close(fast.explained_variance_ratio().sum(), 1.0, 1e-9));
        // The same seed gives the same model.
        assert_eq!(randomized.fit(x.view(), None).unwrap(), fast);
    }

    #[test]
    fn auto_picks_the_covariance_for_tall_inputs_and_the_svd_otherwise() {
        let tall = PCA::default().fit(sample().view(), None).unwrap();
        assert_eq!(tall.svd_solver(), SvdSolver::CovarianceEigh);
        let small = PCA::default().fit(cross().view(), None).unwrap();
        assert_eq!(small.svd_solver(), SvdSolver::Full);
        assert_eq!(small.n_components(), 2);
    }

    #[test]
    fn all_components_invert_exactly() {
        let x = sample();
        let pca = PCA::default().fit(x.view(), None).unwrap();
        let back = pca
            .inverse_transform(pca.transform(x.view()).unwrap().view())
            .unwrap();
        assert!(back.iter().zip(x.iter()).all(|(a, b)| close(*a, *b, 1e-9)));
    }

    #[test]
    fn too_many_components_name_the_limit() {
        let e = with(SvdSolver::Full, Some(3))
            .fit(cross().view(), None)
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("n_components") && text.contains("= 2, got 3"),
            "{text}"
        );
        let e = with(SvdSolver::Full, Some(0))
            .fit(cross().view(), None)
            .unwrap_err();
        assert!(e.to_string().contains("got 0"), "{e}");
    }

    #[test]
    fn transforming_another_number_of_features_is_an_error() {
        let pca = PCA::default().fit(cross().view(), None).unwrap();
        let e = pca.transform(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert_eq!(e.to_string(), "PCA was fit on 2 features, X has 3");
    }

    #[test]
    fn parameters_use_scikit_learns_words() {
        let params = get_params(&PCA::default()).unwrap();
        assert_eq!(params["iterated_power"], "auto");
        assert_eq!(params["svd_solver"], "auto");
        assert_eq!(params["n_components"], serde_json::Value::Null);
        let mut p = Params::new();
        p.insert("iterated_power".into(), 3.into());
        p.insert("svd_solver".into(), "covariance_eigh".into());
        let set: PCA = set_params(&PCA::default(), &p).unwrap();
        assert_eq!(set.iterated_power, Some(3));
        assert_eq!(set.svd_solver, SvdSolver::CovarianceEigh);
        p.insert("iterated_power".into(), serde_json::Value::Null);
        assert_eq!(
            set_params(&PCA::default(), &p).unwrap().iterated_power,
            None
        );
        p.insert("iterated_power".into(), "fast".into());
        assert!(set_params(&PCA::default(), &p).is_err());
    }
}
