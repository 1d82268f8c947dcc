//! Scores of predictions, and scorers by name as scikit-learn's `scoring=` takes them.
//!
//! Built in: `accuracy`, `r2`, `neg_mean_squared_error`, `neg_mean_absolute_error`.
//! [`register_scorer!`](crate::register_scorer) adds a function under a name of its
//! own; a search then takes that name. Every scorer is "greater is better", as in
//! scikit-learn (errors are negated).
//!
//! ```
//! use brisk_ml::metrics::{accuracy_score, r2_score, scorer};
//! use ndarray::array;
//! assert_eq!(accuracy_score(array![1.0, 0.0, 1.0].view(), array![1.0, 1.0, 1.0].view()), 2.0 / 3.0);
//! assert_eq!(r2_score(array![1.0, 2.0, 3.0].view(), array![1.0, 2.0, 3.0].view()), 1.0);
//! let mse = scorer("neg_mean_squared_error").unwrap();
//! assert_eq!(mse(array![1.0, 2.0].view(), array![2.0, 2.0].view()), -0.5);
//! ```

use crate::error::{Error, Result};
use crate::estimator::Role;
use ndarray::ArrayView1;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A scoring function of `(y_true, y_pred)`; greater is better.
pub type ScoreFn = fn(ArrayView1<'_, f64>, ArrayView1<'_, f64>) -> f64;

/// The fraction of predictions equal to the truth.
pub fn accuracy_score(y_true: ArrayView1<'_, f64>, y_pred: ArrayView1<'_, f64>) -> f64 {
    if y_true.is_empty() {
        return f64::NAN;
    }
    let hits = y_true.iter().zip(y_pred).filter(|(a, b)| a == b).count();
    hits as f64 / y_true.len() as f64
}

/// The coefficient of determination: 1 − SS_res / SS_tot (1.0 for a perfect fit; a
/// constant truth scores 1.0 when predicted exactly and 0.0 otherwise, and fewer
/// than two samples NaN, as scikit-learn does).
pub fn r2_score(y_true: ArrayView1<'_, f64>, y_pred: ArrayView1<'_, f64>) -> f64 {
    // Undefined for fewer than two samples (scikit-learn warns and gives NaN).
    if y_true.len() < 2 {
        return f64::NAN;
    }
    let mean = y_true.sum() / y_true.len() as f64;
    let ss_res: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p).powi(2))
        .sum();
    let ss_tot: f64 = y_true.iter().map(|t| (t - mean).powi(2)).sum();
    if ss_tot == 0.0 {
        return if ss_res == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - ss_res / ss_tot
}

/// The mean of squared errors.
pub fn mean_squared_error(y_true: ArrayView1<'_, f64>, y_pred: ArrayView1<'_, f64>) -> f64 {
    if y_true.is_empty() {
        return f64::NAN;
    }
    let n = y_true.len() as f64;
    y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p).powi(2))
        .sum::<f64>()
        / n
}

/// The mean of absolute errors.
pub fn mean_absolute_error(y_true: ArrayView1<'_, f64>, y_pred: ArrayView1<'_, f64>) -> f64 {
    if y_true.is_empty() {
        return f64::NAN;
    }
    let n = y_true.len() as f64;
    y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p).abs())
        .sum::<f64>()
        / n
}

fn neg_mse(t: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> f64 {
    -mean_squared_error(t, p)
}

fn neg_mae(t: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>) -> f64 {
    -mean_absolute_error(t, p)
}

/// A scorer registered at link time; written by [`register_scorer!`](crate::register_scorer).
pub struct ScorerRegistration {
    /// The name `scoring=` takes.
    pub name: &'static str,
    /// The function; greater is better.
    pub score: ScoreFn,
}

inventory::collect!(ScorerRegistration);

/// Registers a scoring function under a name, for `scoring=` of a search (the
/// function must be greater-is-better: negate an error).
///
/// ```ignore
/// fn max_error(t: ArrayView1<f64>, p: ArrayView1<f64>) -> f64 { … }
/// brisk_ml::register_scorer!("neg_max_error", max_error);
/// ```
#[macro_export]
macro_rules! register_scorer {
    ($name:expr, $f:path) => {
        $crate::__private::inventory::submit! {
            $crate::metrics::ScorerRegistration { name: $name, score: $f }
        }
    };
}

inventory::submit! { ScorerRegistration { name: "accuracy", score: accuracy_score } }
inventory::submit! { ScorerRegistration { name: "r2", score: r2_score } }
inventory::submit! { ScorerRegistration { name: "neg_mean_squared_error", score: neg_mse } }
inventory::submit! { ScorerRegistration { name: "neg_mean_absolute_error", score: neg_mae } }

fn registry() -> &'static HashMap<&'static str, Vec<ScoreFn>> {
    static REGISTRY: OnceLock<HashMap<&'static str, Vec<ScoreFn>>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut m: HashMap<&'static str, Vec<ScoreFn>> = HashMap::new();
        for r in inventory::iter::<ScorerRegistration> {
            m.entry(r.name).or_default().push(r.score);
        }
        m
    })
}

/// The scorer registered as `name`.
pub fn scorer(name: &str) -> Result<ScoreFn> {
    match registry().get(name).map(Vec::as_slice) {
        Some([one]) => Ok(*one),
        Some(many) if many.len() > 1 => Err(Error::DuplicateRegistration {
            what: "scorer".into(),
            name: name.to_string(),
            count: many.len(),
        }),
        _ => {
            let mut known: Vec<String> = registry().keys().map(|k| k.to_string()).collect();
            known.sort();
            Err(Error::UnknownScorer {
                name: name.to_string(),
                known,
            })
        }
    }
}

/// The scoring scikit-learn uses for an estimator's own `score`: accuracy for
/// classifiers, R² for regressors.
pub fn default_scoring(role: Role, kind: &str) -> Result<&'static str> {
    match role {
        Role::Classifier => Ok("accuracy"),
        Role::Regressor => Ok("r2"),
        Role::Transformer | Role::Clusterer => Err(Error::NoDefaultScoring {
            kind: kind.to_string(),
            role: format!("{role:?}").to_lowercase(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn r2_of_the_mean_is_zero() {
        let t = array![1.0, 2.0, 3.0];
        assert_eq!(r2_score(t.view(), array![2.0, 2.0, 2.0].view()), 0.0);
    }

    #[test]
    fn an_unknown_scorer_lists_the_known_ones() {
        let e = scorer("acuracy").unwrap_err().to_string();
        assert!(
            e.contains("unknown scoring 'acuracy'") && e.contains("accuracy, neg_mean"),
            "{e}"
        );
    }
}
