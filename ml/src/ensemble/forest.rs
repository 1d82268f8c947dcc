//! Random forests of CART trees: the estimators, their parameters and their fitted
//! models.
//!
//! Fitting checks the parameters, draws one seed per tree from the generator of
//! `random_state` (0 when unset), grows the trees in parallel (see [`super::tree`])
//! and averages their normalised feature importances over the trees that split at
//! least once. Predicting averages the trees' leaf values, row by row in parallel.

use super::tree::{grow, Growth, Target, TrainingSet, Tree};
use super::MaxFeatures;
use crate::check::{check_features, require_y};
use crate::error::{Error, Result};
use crate::estimator::{Estimator, Predictor, Role};
use brisk_collections::datasets::Rng;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const CLASSIFIER: &str = "RandomForestClassifier";
const REGRESSOR: &str = "RandomForestRegressor";

/// The impurity a tree of classes minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassificationCriterion {
    /// `"gini"`: Gini impurity, `1 - Σ p²`.
    #[default]
    Gini,
    /// `"entropy"` (also read as `"log_loss"`): Shannon entropy, `-Σ p log₂ p`.
    #[serde(alias = "log_loss")]
    Entropy,
}

/// The impurity a tree of values minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RegressionCriterion {
    /// `"squared_error"`: the variance of the values.
    #[default]
    #[serde(rename = "squared_error")]
    SquaredError,
}

/// A random forest of classification trees (scikit-learn's
/// `RandomForestClassifier`); its fields are scikit-learn's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RandomForestClassifier {
    /// The number of trees (at least 1).
    pub n_estimators: usize,
    /// `"gini"` or `"entropy"`.
    pub criterion: ClassificationCriterion,
    /// The deepest a tree grows (at least 1); `None` grows until the leaves are pure
    /// or too small to split.
    pub max_depth: Option<usize>,
    /// The fewest samples a node needs to be split (at least 2).
    pub min_samples_split: usize,
    /// The fewest samples each side of a split keeps (at least 1).
    pub min_samples_leaf: usize,
    /// The features each split draws from (default `"sqrt"`).
    pub max_features: MaxFeatures,
    /// Grow each tree on a bootstrap sample (else on every sample).
    pub bootstrap: bool,
    /// The size of each bootstrap sample as a fraction of the samples, in (0, 1];
    /// `None` draws as many as there are samples. Needs `bootstrap`.
    pub max_samples: Option<f64>,
    /// The seed of the trees' generators; `None` is seed 0, so fits repeat.
    pub random_state: Option<u64>,
}

impl Default for RandomForestClassifier {
    fn default() -> Self {
        RandomForestClassifier {
            n_estimators: 100,
            criterion: ClassificationCriterion::Gini,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::Sqrt,
            bootstrap: true,
            max_samples: None,
            random_state: None,
        }
    }
}

/// A random forest of regression trees (scikit-learn's `RandomForestRegressor`);
/// its fields are scikit-learn's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RandomForestRegressor {
    /// The number of trees (at least 1).
    pub n_estimators: usize,
    /// `"squared_error"`.
    pub criterion: RegressionCriterion,
    /// The deepest a tree grows (at least 1); `None` grows until the leaves are pure
    /// or too small to split.
    pub max_depth: Option<usize>,
    /// The fewest samples a node needs to be split (at least 2).
    pub min_samples_split: usize,
    /// The fewest samples each side of a split keeps (at least 1).
    pub min_samples_leaf: usize,
    /// The features each split draws from (default `1.0`, every feature).
    pub max_features: MaxFeatures,
    /// Grow each tree on a bootstrap sample (else on every sample).
    pub bootstrap: bool,
    /// The size of each bootstrap sample as a fraction of the samples, in (0, 1];
    /// `None` draws as many as there are samples. Needs `bootstrap`.
    pub max_samples: Option<f64>,
    /// The seed of the trees' generators; `None` is seed 0, so fits repeat.
    pub random_state: Option<u64>,
}

impl Default for RandomForestRegressor {
    fn default() -> Self {
        RandomForestRegressor {
            n_estimators: 100,
            criterion: RegressionCriterion::SquaredError,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::Fraction(1.0),
            bootstrap: true,
            max_samples: None,
            random_state: None,
        }
    }
}

/// A fitted [`RandomForestClassifier`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRandomForestClassifier {
    /// The sorted distinct labels of `y`; tree outputs are fractions in this order.
    pub classes: Vec<f64>,
    /// The number of features it was fit on.
    pub n_features: usize,
    /// The trees.
    pub trees: Vec<Tree>,
    importances: Vec<f64>,
}

/// A fitted [`RandomForestRegressor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRandomForestRegressor {
    /// The number of features it was fit on.
    pub n_features: usize,
    /// The trees.
    pub trees: Vec<Tree>,
    importances: Vec<f64>,
}

impl Estimator for RandomForestClassifier {
    const KIND: &'static str = "brisk_ml::RandomForestClassifier";
    const ROLE: Role = Role::Classifier;
    type Fitted = FittedRandomForestClassifier;

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedRandomForestClassifier> {
        let common = Common {
            n_estimators: self.n_estimators,
            max_depth: self.max_depth,
            min_samples_split: self.min_samples_split,
            min_samples_leaf: self.min_samples_leaf,
            max_features: self.max_features,
            bootstrap: self.bootstrap,
            max_samples: self.max_samples,
            random_state: self.random_state,
        };
        common.check(CLASSIFIER)?;
        let y = require_y(CLASSIFIER, x, y)?;
        let (classes, index) = crate::check::classes(y, "y")?;
        let target = Target::Classes {
            y: index,
            n_classes: classes.len(),
            entropy: self.criterion == ClassificationCriterion::Entropy,
        };
        let (trees, importances) = common.grow_trees(CLASSIFIER, x, target)?;
        Ok(FittedRandomForestClassifier {
            classes,
            n_features: x.ncols(),
            trees,
            importances,
        })
    }
}

impl Estimator for RandomForestRegressor {
    const KIND: &'static str = "brisk_ml::RandomForestRegressor";
    const ROLE: Role = Role::Regressor;
    type Fitted = FittedRandomForestRegressor;

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedRandomForestRegressor> {
        let common = Common {
            n_estimators: self.n_estimators,
            max_depth: self.max_depth,
            min_samples_split: self.min_samples_split,
            min_samples_leaf: self.min_samples_leaf,
            max_features: self.max_features,
            bootstrap: self.bootstrap,
            max_samples: self.max_samples,
            random_state: self.random_state,
        };
        common.check(REGRESSOR)?;
        let y = require_y(REGRESSOR, x, y)?;
        let target = Target::Values(y.to_vec());
        let (trees, importances) = common.grow_trees(REGRESSOR, x, target)?;
        Ok(FittedRandomForestRegressor {
            n_features: x.ncols(),
            trees,
            importances,
        })
    }
}

impl FittedRandomForestClassifier {
    /// The probability of each class (columns in the order of `classes`) for each
    /// row: the mean over the trees of the class fractions of the leaf the row
    /// falls in.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(CLASSIFIER, self.n_features, x)?;
        let k = self.classes.len();
        let kind = <RandomForestClassifier as Estimator>::KIND;
        let mean = mean_of_leaves(kind, &self.trees, k, x)?;
        Array2::from_shape_vec((x.nrows(), k), mean)
            .map_err(|e| Error::numerical("RandomForestClassifier.predict_proba", e))
    }

    /// The impurity-based importance of each feature: each tree's total weighted
    /// impurity decrease per feature, normalised, averaged over the trees that split
    /// and normalised again (zeros when no tree splits).
    pub fn feature_importances(&self) -> &[f64] {
        &self.importances
    }
}

impl FittedRandomForestRegressor {
    /// The impurity-based importance of each feature: each tree's total weighted
    /// impurity decrease per feature, normalised, averaged over the trees that split
    /// and normalised again (zeros when no tree splits).
    pub fn feature_importances(&self) -> &[f64] {
        &self.importances
    }
}

impl Predictor for FittedRandomForestClassifier {
    /// The class of highest mean probability (the first of equals).
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let proba = self.predict_proba(x)?;
        Ok(proba
            .rows()
            .into_iter()
            .map(|row| {
                let mut best = 0;
                let mut best_p = f64::NEG_INFINITY;
                for (j, &p) in row.iter().enumerate() {
                    if p > best_p {
                        best = j;
                        best_p = p;
                    }
                }
                self.classes.get(best).copied().unwrap_or(f64::NAN)
            })
            .collect())
    }
}

impl Predictor for FittedRandomForestRegressor {
    /// The mean over the trees of the mean value of the leaf each row falls in.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        check_features(REGRESSOR, self.n_features, x)?;
        let kind = <RandomForestRegressor as Estimator>::KIND;
        Ok(Array1::from(mean_of_leaves(kind, &self.trees, 1, x)?))
    }
}

/// The parameters both forests share.
struct Common {
    n_estimators: usize,
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: usize,
    max_features: MaxFeatures,
    bootstrap: bool,
    max_samples: Option<f64>,
    random_state: Option<u64>,
}

impl Common {
    /// The checks that do not need the data.
    fn check(&self, owner: &str) -> Result<()> {
        if self.n_estimators == 0 {
            return Err(Error::invalid(
                owner,
                "n_estimators",
                "must be at least 1, got 0",
            ));
        }
        if self.max_depth == Some(0) {
            return Err(Error::invalid(
                owner,
                "max_depth",
                "must be at least 1 (or null for no limit), got 0",
            ));
        }
        if self.min_samples_split < 2 {
            return Err(Error::invalid(
                owner,
                "min_samples_split",
                format!("must be at least 2, got {}", self.min_samples_split),
            ));
        }
        if self.min_samples_leaf == 0 {
            return Err(Error::invalid(
                owner,
                "min_samples_leaf",
                "must be at least 1, got 0",
            ));
        }
        match (self.bootstrap, self.max_samples) {
            (false, Some(_)) => Err(Error::invalid(
                owner,
                "max_samples",
                "can only be set when bootstrap is true",
            )),
            (true, Some(f)) if !(f > 0.0 && f <= 1.0) => Err(Error::invalid(
                owner,
                "max_samples",
                format!("must be a fraction in (0, 1], got {f}"),
            )),
            _ => Ok(()),
        }
    }

    /// Grows the trees on `x` (already checked) and `target`; returns them and the
    /// forest's feature importances.
    fn grow_trees(
        &self,
        owner: &str,
        x: ArrayView2<'_, f64>,
        target: Target,
    ) -> Result<(Vec<Tree>, Vec<f64>)> {
        let (n, n_features) = x.dim();
        if n_features == 0 {
            return Err(Error::TooFewSamples {
                message: format!("{owner}: X has no columns (features)"),
            });
        }
        let draws = match (self.bootstrap, self.max_samples) {
            (false, _) => None,
            (true, None) => Some(n),
            (true, Some(f)) => Some(((f * n as f64).round() as usize).max(1)),
        };
        let growth = Growth {
            max_depth: self.max_depth.unwrap_or(usize::MAX),
            min_samples_split: self.min_samples_split,
            min_samples_leaf: self.min_samples_leaf,
            max_features: self.max_features.resolve(owner, n_features)?,
            draws,
        };
        let data = TrainingSet::new(x, target);
        let mut master = Rng::new(self.random_state.unwrap_or(0));
        let seeds: Vec<u64> = (0..self.n_estimators).map(|_| master.next_u64()).collect();
        let grown: Vec<(Tree, Vec<f64>)> = seeds
            .into_par_iter()
            .map(|seed| grow(&data, growth, seed))
            .collect();
        let mut importances = vec![0.0; n_features];
        for (_, tree_importances) in grown.iter().filter(|(t, _)| t.node_count() > 1) {
            for (sum, v) in importances.iter_mut().zip(tree_importances) {
                *sum += v;
            }
        }
        // The mean over splitting trees, normalised: the count cancels.
        let total: f64 = importances.iter().sum();
        if total > 0.0 {
            importances.iter_mut().for_each(|v| *v /= total);
        }
        Ok((grown.into_iter().map(|(t, _)| t).collect(), importances))
    }
}

/// The mean over `trees` of the `k` leaf values of each row of `x`, row-major.
fn mean_of_leaves(
    kind: &str,
    trees: &[Tree],
    k: usize,
    x: ArrayView2<'_, f64>,
) -> Result<Vec<f64>> {
    let corrupt = |message: String| Error::Decode {
        kind: kind.to_string(),
        message,
    };
    if k == 0 || trees.is_empty() {
        return Err(corrupt(format!(
            "the model has {} trees and {k} outputs per leaf",
            trees.len()
        )));
    }
    if let Some(t) = trees.iter().position(|t| t.n_outputs() != k) {
        let found = trees[t].n_outputs();
        return Err(corrupt(format!(
            "tree {t} has {found} outputs per leaf, expected {k}"
        )));
    }
    let scale = 1.0 / trees.len() as f64;
    let mut out = vec![0.0; x.nrows() * k];
    out.par_chunks_mut(k)
        .enumerate()
        .try_for_each(|(r, slot)| -> Result<(), usize> {
            let row = x.row(r);
            for (t, tree) in trees.iter().enumerate() {
                let value = tree.leaf_value(row).ok_or(t)?;
                for (s, v) in slot.iter_mut().zip(value) {
                    *s += v;
                }
            }
            slot.iter_mut().for_each(|s| *s *= scale);
            Ok(())
        })
        .map_err(|t| corrupt(format!("tree {t} does not lead every row to a leaf")))?;
    Ok(out)
}

crate::register_estimator!(RandomForestClassifier => FittedRandomForestClassifier: predictor);
crate::register_estimator!(RandomForestRegressor => FittedRandomForestRegressor: predictor);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Two features: the first decides the class (below 5 or not), the second is
    /// noise from a seeded generator.
    fn blobs(n: usize) -> (Array2<f64>, Array1<f64>) {
        let mut rng = Rng::new(42);
        let x = Array2::from_shape_fn(
            (n, 2),
            |(i, j)| {
                if j == 0 {
                    (i % 10) as f64
                } else {
                    rng.f64()
                }
            },
        );
        let y = x.column(0).mapv(|v| if v < 5.0 { 1.0 } else { 2.0 });
        (x, y)
    }

    #[test]
    fn the_classifier_predicts_the_labels_of_separable_classes() {
        let (x, y) = blobs(60);
        let model = RandomForestClassifier {
            n_estimators: 20,
            max_features: MaxFeatures::All,
            ..Default::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        assert_eq!(model.classes, vec![1.0, 2.0]);
        assert_eq!(model.predict(x.view()).unwrap(), y);
        let proba = model.predict_proba(x.view()).unwrap();
        assert_eq!(proba.dim(), (60, 2));
        for row in proba.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn one_tree_on_every_sample_is_a_plain_cart_tree() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let y = array![1.0, 1.0, 5.0, 5.0];
        let model = RandomForestRegressor {
            n_estimators: 1,
            bootstrap: false,
            ..Default::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        assert_eq!(model.trees.len(), 1);
        assert_eq!(model.trees[0].node_count(), 3);
        let p = model
            .predict(array![[0.4], [1.4], [1.6], [9.0]].view())
            .unwrap();
        assert_eq!(p, array![1.0, 1.0, 5.0, 5.0]);
        assert_eq!(model.feature_importances(), &[1.0]);
    }

    #[test]
    fn an_uninformative_feature_has_no_importance() {
        let x = array![[0.0, 7.0], [1.0, 7.0], [2.0, 7.0], [3.0, 7.0]];
        let y = array![0.0, 0.0, 1.0, 1.0];
        let model = RandomForestClassifier {
            n_estimators: 10,
            max_features: MaxFeatures::All,
            ..Default::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        assert_eq!(model.feature_importances(), &[1.0, 0.0]);
    }

    #[test]
    fn the_forest_does_not_depend_on_the_number_of_threads() {
        let (x, _) = blobs(200);
        let y = x.column(1).mapv(|v| v * 3.0) + &x.column(0);
        let est = RandomForestRegressor {
            n_estimators: 16,
            max_features: MaxFeatures::Sqrt,
            random_state: Some(3),
            ..Default::default()
        };
        let fit_with = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| est.fit(x.view(), Some(y.view())).unwrap())
        };
        let one = fit_with(1);
        assert_eq!(one, fit_with(3));
        let other_seed = RandomForestRegressor {
            random_state: Some(4),
            ..est.clone()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        assert_ne!(one, other_seed);
    }

    #[test]
    fn a_fitted_forest_survives_encoding() {
        let (x, y) = blobs(30);
        let model = RandomForestClassifier {
            n_estimators: 3,
            ..Default::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        let bytes = rmp_serde::to_vec_named(&model).unwrap();
        let back: FittedRandomForestClassifier = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, model);
    }

    #[test]
    fn parameters_read_and_write_as_scikit_learn_writes_them() {
        let p = serde_json::to_value(RandomForestClassifier::default()).unwrap();
        assert_eq!(p["max_features"], "sqrt");
        assert_eq!(p["criterion"], "gini");
        assert_eq!(p["max_depth"], serde_json::Value::Null);
        let p = serde_json::to_value(RandomForestRegressor::default()).unwrap();
        assert_eq!(p["max_features"], 1.0);
        assert_eq!(p["criterion"], "squared_error");
        let e: RandomForestClassifier = serde_json::from_value(serde_json::json!({
            "criterion": "entropy", "max_features": null, "max_depth": 3
        }))
        .unwrap();
        assert_eq!(e.criterion, ClassificationCriterion::Entropy);
        assert_eq!(e.max_features, MaxFeatures::All);
        assert_eq!(e.max_depth, Some(3));
        assert_eq!(e.n_estimators, 100);
    }

    #[test]
    fn bad_parameters_and_inputs_are_errors() {
        let x = array![[0.0], [1.0]];
        let y = array![0.0, 1.0];
        let fit = |est: RandomForestClassifier| {
            est.fit(x.view(), Some(y.view())).unwrap_err().to_string()
        };
        let e = fit(RandomForestClassifier {
            n_estimators: 0,
            ..Default::default()
        });
        assert!(e.contains("n_estimators"), "{e}");
        let e = fit(RandomForestClassifier {
            max_features: MaxFeatures::Count(2),
            ..Default::default()
        });
        assert!(e.contains("max_features"), "{e}");
        let e = fit(RandomForestClassifier {
            min_samples_split: 1,
            ..Default::default()
        });
        assert!(e.contains("min_samples_split"), "{e}");
        let e = fit(RandomForestClassifier {
            min_samples_leaf: 0,
            ..Default::default()
        });
        assert!(e.contains("min_samples_leaf"), "{e}");
        let e = fit(RandomForestClassifier {
            bootstrap: false,
            max_samples: Some(0.5),
            ..Default::default()
        });
        assert!(e.contains("max_samples"), "{e}");
        let one_class = RandomForestClassifier::default()
            .fit(x.view(), Some(array![3.0, 3.0].view()))
            .unwrap_err();
        assert!(matches!(one_class, Error::OneClass { .. }), "{one_class}");
        let no_y = RandomForestRegressor::default()
            .fit(x.view(), None)
            .unwrap_err();
        assert!(matches!(no_y, Error::Unsupported { .. }), "{no_y}");
        let model = RandomForestRegressor::default()
            .fit(x.view(), Some(y.view()))
            .unwrap();
        let wide = model.predict(array![[0.0, 1.0]].view()).unwrap_err();
        assert!(
            matches!(
                wide,
                Error::FeatureMismatch {
                    expected: 1,
                    found: 2,
                    ..
                }
            ),
            "{wide}"
        );
    }

    #[test]
    fn max_samples_bootstraps_fewer_samples() {
        // One draw per tree: each tree is a single leaf holding one sample's value.
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let y = array![0.0, 10.0, 20.0, 30.0];
        let model = RandomForestRegressor {
            n_estimators: 5,
            max_samples: Some(0.1),
            ..Default::default()
        }
        .fit(x.view(), Some(y.view()))
        .unwrap();
        for tree in &model.trees {
            assert_eq!(tree.node_count(), 1);
        }
        assert_eq!(model.feature_importances(), &[0.0]);
    }
}
