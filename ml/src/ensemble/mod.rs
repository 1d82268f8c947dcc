//! Ensembles of decision trees: scikit-learn's random forests, for classes
//! ([`RandomForestClassifier`]) and for values ([`RandomForestRegressor`]).
//!
//! A forest grows `n_estimators` CART trees ([`Tree`]), each on its own bootstrap
//! sample (drawn as per-sample counts) and, at each node, on its own random subset of
//! `max_features` features. Trees are independent and grow in parallel; each takes its
//! generator's seed from one sequence drawn from `random_state`, so a forest does not
//! depend on the number of threads. A forest of classes predicts the mean of its
//! trees' leaf class fractions, a forest of values the mean of their leaf means.

mod forest;
mod tree;

pub use forest::{
    ClassificationCriterion, FittedRandomForestClassifier, FittedRandomForestRegressor,
    RandomForestClassifier, RandomForestRegressor, RegressionCriterion,
};
pub use tree::Tree;

use crate::error::{Error, Result};
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// How many features each split considers: scikit-learn's `max_features`, written
/// as its values are (`"sqrt"`, `"log2"`, `null`, an integer count, a float
/// fraction). An integer and a float differ: `1` is one feature, `1.0` all of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxFeatures {
    /// `"sqrt"`: the square root of the number of features (at least one).
    Sqrt,
    /// `"log2"`: the base-2 logarithm of the number of features (at least one).
    Log2,
    /// `null`: every feature.
    All,
    /// An integer: this many features, between 1 and the number of features.
    Count(usize),
    /// A float in (0, 1]: this fraction of the features (at least one).
    Fraction(f64),
}

impl MaxFeatures {
    /// The number of features per split for data with `n_features` (at least one)
    /// columns; an error naming `owner` when a count or fraction is out of range.
    pub(crate) fn resolve(self, owner: &str, n_features: usize) -> Result<usize> {
        let n = n_features as f64;
        let count = match self {
            MaxFeatures::Sqrt => n.sqrt() as usize,
            MaxFeatures::Log2 => n.log2() as usize,
            MaxFeatures::All => n_features,
            MaxFeatures::Count(c) if (1..=n_features).contains(&c) => c,
            MaxFeatures::Count(c) => {
                return Err(Error::invalid(
                    owner,
                    "max_features",
                    format!("must be between 1 and the number of features ({n_features}), got {c}"),
                ))
            }
            MaxFeatures::Fraction(f) if f > 0.0 && f <= 1.0 => (f * n) as usize,
            MaxFeatures::Fraction(f) => {
                return Err(Error::invalid(
                    owner,
                    "max_features",
                    format!("a fraction must be in (0, 1], got {f}"),
                ))
            }
        };
        Ok(count.clamp(1, n_features.max(1)))
    }
}

impl Serialize for MaxFeatures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            MaxFeatures::Sqrt => s.serialize_str("sqrt"),
            MaxFeatures::Log2 => s.serialize_str("log2"),
            MaxFeatures::All => s.serialize_none(),
            MaxFeatures::Count(c) => s.serialize_u64(c as u64),
            MaxFeatures::Fraction(f) => s.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for MaxFeatures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MaxFeaturesVisitor)
    }
}

/// Reads a [`MaxFeatures`] from whichever JSON type it was written as.
struct MaxFeaturesVisitor;

impl<'de> Visitor<'de> for MaxFeaturesVisitor {
    type Value = MaxFeatures;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "\"sqrt\", \"log2\", null (every feature), an integer count of features \
             or a float fraction of them",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<MaxFeatures, E> {
        match v {
            "sqrt" => Ok(MaxFeatures::Sqrt),
            "log2" => Ok(MaxFeatures::Log2),
            _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<MaxFeatures, E> {
        usize::try_from(v)
            .map(MaxFeatures::Count)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<MaxFeatures, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<MaxFeatures, E> {
        Ok(MaxFeatures::Fraction(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<MaxFeatures, E> {
        Ok(MaxFeatures::All)
    }

    fn visit_none<E: de::Error>(self) -> Result<MaxFeatures, E> {
        Ok(MaxFeatures::All)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<MaxFeatures, D::Error> {
        d.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> MaxFeatures {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn max_features_reads_scikit_learn_values() {
        assert_eq!(read(json!("sqrt")), MaxFeatures::Sqrt);
        assert_eq!(read(json!("log2")), MaxFeatures::Log2);
        assert_eq!(read(json!(null)), MaxFeatures::All);
        assert_eq!(read(json!(3)), MaxFeatures::Count(3));
        assert_eq!(read(json!(0.5)), MaxFeatures::Fraction(0.5));
        assert_eq!(read(json!(1.0)), MaxFeatures::Fraction(1.0));
        assert!(serde_json::from_value::<MaxFeatures>(json!("auto")).is_err());
        assert!(serde_json::from_value::<MaxFeatures>(json!(-1)).is_err());
    }

    #[test]
    fn max_features_writes_what_it_reads() {
        for m in [
            MaxFeatures::Sqrt,
            MaxFeatures::Log2,
            MaxFeatures::All,
            MaxFeatures::Count(2),
            MaxFeatures::Fraction(1.0),
        ] {
            let v = serde_json::to_value(m).unwrap();
            assert_eq!(read(v), m);
        }
        assert_eq!(
            serde_json::to_value(MaxFeatures::Fraction(1.0)).unwrap(),
            json!(1.0)
        );
        assert_eq!(serde_json::to_value(MaxFeatures::All).unwrap(), json!(null));
    }

    #[test]
    fn max_features_resolves_like_scikit_learn() {
        assert_eq!(MaxFeatures::Sqrt.resolve("F", 10).unwrap(), 3);
        assert_eq!(MaxFeatures::Log2.resolve("F", 10).unwrap(), 3);
        assert_eq!(MaxFeatures::Log2.resolve("F", 1).unwrap(), 1);
        assert_eq!(MaxFeatures::All.resolve("F", 10).unwrap(), 10);
        assert_eq!(MaxFeatures::Fraction(0.25).resolve("F", 10).unwrap(), 2);
        assert_eq!(MaxFeatures::Fraction(0.01).resolve("F", 10).unwrap(), 1);
        assert_eq!(MaxFeatures::Count(4).resolve("F", 10).unwrap(), 4);
        assert!(MaxFeatures::Count(11).resolve("F", 10).is_err());
        assert!(MaxFeatures::Count(0).resolve("F", 10).is_err());
        assert!(MaxFeatures::Fraction(1.5).resolve("F", 10).is_err());
        assert!(MaxFeatures::Fraction(f64::NAN).resolve("F", 10).is_err());
    }
}
