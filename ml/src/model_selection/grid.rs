//! Candidate parameters: every combination of a grid, or seeded draws from
//! distributions.
//!
//! A [`ParameterGrid`] lists candidates in scikit-learn's order: grid by grid,
//! names sorted, the last name varying fastest. A [`ParameterSampler`] draws
//! `n_iter` candidates: without replacement from the grid when every parameter is a
//! list (as scikit-learn does), and independently per parameter otherwise.
//!
//! ```
//! use brisk_ml::model_selection::ParameterGrid;
//! let grid = ParameterGrid::new()
//!     .param("pca__n_components", [2, 4])
//!     .param("logistic__C", [0.1, 1.0]);
//! let candidates = grid.candidates().unwrap();
//! assert_eq!(candidates.len(), 4);
//! assert_eq!(candidates[1]["logistic__C"], 0.1);
//! assert_eq!(candidates[1]["pca__n_components"], 4);
//! ```

use crate::error::{Error, Result};
use crate::params::{ParamValue, Params};
use brisk_collections::datasets::Rng;
use std::collections::BTreeMap;

/// One grid: each parameter name with the values it takes.
pub type Grid = BTreeMap<String, Vec<ParamValue>>;

/// One or more grids whose combinations are the candidates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParameterGrid {
    grids: Vec<Grid>,
}

impl ParameterGrid {
    /// An empty grid (add parameters with [`ParameterGrid::param`]).
    pub fn new() -> ParameterGrid {
        ParameterGrid::default()
    }

    /// Adds `name` with its `values` to the last grid.
    pub fn param<V: Into<ParamValue>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> ParameterGrid {
        if self.grids.is_empty() {
            self.grids.push(Grid::new());
        }
        let last = self.grids.len() - 1;
        self.grids[last].insert(
            name.to_string(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Starts another grid: candidates are those of each grid, one after the other.
    pub fn or(mut self) -> ParameterGrid {
        self.grids.push(Grid::new());
        self
    }

    /// A grid from maps of names to values.
    pub fn from_grids(grids: Vec<Grid>) -> ParameterGrid {
        ParameterGrid { grids }
    }

    /// Every parameter name of any grid.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.grids.iter().flat_map(|g| g.keys().cloned()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every candidate, in scikit-learn's order.
    pub fn candidates(&self) -> Result<Vec<Params>> {
        if self.grids.is_empty() {
            return Err(Error::EmptyGrid {
                message: "no parameters were given".into(),
            });
        }
        let mut out = Vec::new();
        for grid in &self.grids {
            if let Some((name, _)) = grid.iter().find(|(_, v)| v.is_empty()) {
                return Err(Error::EmptyGrid {
                    message: format!("parameter '{name}' has no values"),
                });
            }
            let names: Vec<&String> = grid.keys().collect();
            let mut index = vec![0usize; names.len()];
            'odometer: loop {
                out.push(
                    names
                        .iter()
                        .zip(&index)
                        .map(|(n, &i)| ((*n).clone(), grid[*n][i].clone()))
                        .collect(),
                );
                // The last name varies fastest.
                let mut pos = names.len();
                loop {
                    if pos == 0 {
                        break 'odometer;
                    }
                    pos -= 1;
                    index[pos] += 1;
                    if index[pos] < grid[names[pos]].len() {
                        break;
                    }
                    index[pos] = 0;
                }
            }
        }
        Ok(out)
    }
}

/// Where a randomised search draws one parameter from.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// One of these values, each as likely.
    Choice(Vec<ParamValue>),
    /// A float uniform in `[low, high)`.
    Uniform {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
    },
    /// A float whose logarithm is uniform in `[ln low, ln high)` (`low > 0`).
    LogUniform {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
    },
    /// An integer uniform in `[low, high)`.
    IntRange {
        /// The lower bound.
        low: i64,
        /// The upper bound (excluded).
        high: i64,
    },
}

impl Distribution {
    fn draw(&self, name: &str, rng: &mut Rng) -> Result<ParamValue> {
        let bad = |m: String| Error::InvalidParameter {
            owner: "the parameter distributions".into(),
            name: name.to_string(),
            message: m,
        };
        Ok(match self {
            Distribution::Choice(values) => {
                if values.is_empty() {
                    return Err(Error::EmptyGrid {
                        message: format!("parameter '{name}' has no values"),
                    });
                }
                values[rng.below(values.len() as u64) as usize].clone()
            }
            Distribution::Uniform { low, high } if low < high && (high - low).is_finite() => {
                (low + (high - low) * rng.f64()).into()
            }
            Distribution::LogUniform { low, high }
                if *low > 0.0 && low < high && high.is_finite() =>
            {
                (low.ln() + (high.ln() - low.ln()) * rng.f64()).exp().into()
            }
            Distribution::IntRange { low, high } if low < high => {
                // In i128: the span of two i64 may not fit in an i64.
                let span = (*high as i128 - *low as i128) as u64;
                ((*low as i128 + rng.below(span) as i128) as i64).into()
            }
            other => return Err(bad(format!("{other:?} is empty or out of range"))),
        })
    }
}

/// `n_iter` seeded draws of candidates, as scikit-learn's `ParameterSampler`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSampler {
    /// Each parameter's distribution.
    pub distributions: BTreeMap<String, Distribution>,
    /// How many candidates to draw.
    pub n_iter: usize,
    /// The seed.
    pub random_state: u64,
}

impl ParameterSampler {
    /// The drawn candidates.
    pub fn candidates(&self) -> Result<Vec<Params>> {
        if self.distributions.is_empty() || self.n_iter == 0 {
            return Err(Error::EmptyGrid {
                message: if self.n_iter == 0 {
                    "n_iter is 0".into()
                } else {
                    "no parameter distributions were given".into()
                },
            });
        }
        let mut rng = Rng::new(self.random_state);
        let all_lists = self
            .distributions
            .values()
            .all(|d| matches!(d, Distribution::Choice(_)));
        if all_lists {
            let grid: Grid = self
                .distributions
                .iter()
                .map(|(k, d)| match d {
                    Distribution::Choice(v) => (k.clone(), v.clone()),
                    _ => unreachable!("all distributions are lists"),
                })
                .collect();
            let mut every = ParameterGrid::from_grids(vec![grid]).candidates()?;
            // A seeded partial Fisher–Yates: n_iter distinct candidates (all of them
            // when the grid is smaller).
            let take = self.n_iter.min(every.len());
            for i in 0..take {
                let j = i + rng.below((every.len() - i) as u64) as usize;
                every.swap(i, j);
            }
            every.truncate(take);
            return Ok(every);
        }
        (0..self.n_iter)
            .map(|_| {
                self.distributions
                    .iter()
                    .map(|(name, d)| Ok((name.clone(), d.draw(name, &mut rng)?)))
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_follow_scikit_learns_order() {
        let grid = ParameterGrid::new()
            .param("b", [1, 2])
            .param("a", ["x", "y"])
            .or()
            .param("c", [true]);
        let c: Vec<String> = grid
            .candidates()
            .unwrap()
            .iter()
            .map(crate::params::canonical)
            .collect();
        assert_eq!(
            c,
            vec![
                r#"{"a":"x","b":1}"#,
                r#"{"a":"x","b":2}"#,
                r#"{"a":"y","b":1}"#,
                r#"{"a":"y","b":2}"#,
                r#"{"c":true}"#
            ]
        );
    }

    #[test]
    fn an_empty_grid_is_an_error() {
        assert!(ParameterGrid::new().candidates().is_err());
        let e = ParameterGrid::new()
            .param("a", Vec::<i64>::new())
            .candidates()
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "the parameter grid is empty: parameter 'a' has no values"
        );
    }

    #[test]
    fn sampling_a_grid_draws_distinct_candidates() {
        let mut d = BTreeMap::new();
        d.insert(
            "a".to_string(),
            Distribution::Choice(vec![1.into(), 2.into(), 3.into()]),
        );
        d.insert(
            "b".to_string(),
            Distribution::Choice(vec![1.into(), 2.into()]),
        );
        let s = ParameterSampler {
            distributions: d,
            n_iter: 4,
            random_state: 3,
        };
        let c = s.candidates().unwrap();
        assert_eq!(c.len(), 4);
        let mut keys: Vec<String> = c.iter().map(crate::params::canonical).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 4);
        assert_eq!(c, s.candidates().unwrap());
    }
}
