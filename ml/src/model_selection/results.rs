//! What a search found: scikit-learn's `cv_results_` as a Polars DataFrame, the best
//! candidate, and the refit model.
//!
//! Candidates rank by mean test score, best first; equal means share the lower rank
//! (`rank_test_score`, as scikit-learn's "min" ranking), and the best candidate is
//! the first of rank 1.

use crate::error::{Error, Result};
use crate::params::{canonical, ParamValue, Params};
use crate::pipeline::{FittedPipeline, Pipeline};
use polars::prelude::{Column, DataFrame, NamedFrom, Series};

/// The outcome of a search.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// One row per candidate: `params` (canonical JSON), one `param_<name>` column
    /// per parameter, `split<i>_test_score`, `mean_test_score`, `std_test_score`,
    /// `rank_test_score`, `mean_fit_time`, `std_fit_time`, `mean_score_time`,
    /// `std_score_time`.
    pub cv_results: DataFrame,
    /// Each candidate's parameters, in the order of `cv_results`.
    pub candidates: Vec<Params>,
    /// Each candidate's score on each fold.
    pub split_scores: Vec<Vec<f64>>,
    /// The row of the best candidate.
    pub best_index: usize,
    /// The best candidate's parameters.
    pub best_params: Params,
    /// The best candidate's mean test score.
    pub best_score: f64,
    /// The scorer used.
    pub scoring: String,
    /// The best candidate fit on all the data (when `refit`).
    pub best_estimator: Option<FittedPipeline>,
    fits_by_kind: Vec<(String, usize)>,
}

impl SearchResult {
    /// The mean test score of each candidate.
    pub fn mean_scores(&self) -> Vec<f64> {
        self.split_scores.iter().map(|s| mean(s)).collect()
    }

    /// How many distinct fits of the estimator kind `kind` the search ran, the
    /// refit included: equal fits shared by candidates count once.
    pub fn fits_of(&self, kind: &str) -> usize {
        fits_of(&self.fits_by_kind, kind)
    }

    pub(crate) fn count_refit(&mut self, pipeline: &Pipeline) {
        for s in pipeline.steps() {
            match self.fits_by_kind.iter_mut().find(|(k, _)| *k == s.kind) {
                Some((_, n)) => *n += 1,
                None => self.fits_by_kind.push((s.kind.clone(), 1)),
            }
        }
    }
}

/// The count of `kind` in a list of (kind, fits).
pub(crate) fn fits_of(fits_by_kind: &[(String, usize)], kind: &str) -> usize {
    fits_by_kind
        .iter()
        .find(|(k, _)| k == kind)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The population standard deviation (scikit-learn's `std_test_score`).
fn std(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

/// "min" ranks of the mean scores, best (highest) first; every NaN shares the rank
/// after the last number, as in scikit-learn.
fn ranks(means: &[f64]) -> Vec<u32> {
    let finite = means.iter().filter(|m| !m.is_nan()).count() as u32;
    means
        .iter()
        .map(|m| {
            if m.is_nan() {
                return finite + 1;
            }
            1 + means.iter().filter(|o| !o.is_nan() && *o > m).count() as u32
        })
        .collect()
}

fn polars_error(e: polars::error::PolarsError) -> Error {
    Error::Polars {
        what: "cv_results".into(),
        error: e,
    }
}

/// A column of one parameter's values: numbers as floats when every candidate has
/// a number, text otherwise (missing where a candidate lacks the parameter).
fn param_column(name: &str, candidates: &[Params]) -> Column {
    let values: Vec<Option<&ParamValue>> = candidates.iter().map(|c| c.get(name)).collect();
    let column = format!("param_{name}");
    if values.iter().all(|v| v.is_none_or(|v| v.is_number())) {
        let nums: Vec<Option<f64>> = values.iter().map(|v| v.and_then(|v| v.as_f64())).collect();
        Series::new(column.into(), nums).into()
    } else {
        let text: Vec<Option<String>> = values
            .iter()
            .map(|v| {
                v.map(|v| match v {
                    ParamValue::String(s) => s.clone(),
                    other => other.to_string(),
                })
            })
            .collect();
        Series::new(column.into(), text).into()
    }
}

pub(crate) fn assemble(
    candidates: Vec<Params>,
    split_scores: Vec<Vec<f64>>,
    fit_times: Vec<Vec<f64>>,
    score_times: Vec<Vec<f64>>,
    scoring: String,
    fits_by_kind: Vec<(String, usize)>,
) -> Result<SearchResult> {
    let means: Vec<f64> = split_scores.iter().map(|s| mean(s)).collect();
    let rank = ranks(&means);
    let best_index = rank
        .iter()
        .enumerate()
        .min_by_key(|(i, r)| (**r, *i))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let mut names: Vec<String> = candidates.iter().flat_map(|c| c.keys().cloned()).collect();
    names.sort();
    names.dedup();
    let mut columns: Vec<Column> = Vec::new();
    let text: Vec<String> = candidates.iter().map(canonical).collect();
    columns.push(Series::new("params".into(), text).into());
    for n in &names {
        columns.push(param_column(n, &candidates));
    }
    let n_splits = split_scores.first().map(Vec::len).unwrap_or(0);
    for f in 0..n_splits {
        let v: Vec<f64> = split_scores.iter().map(|s| s[f]).collect();
        columns.push(Series::new(format!("split{f}_test_score").into(), v).into());
    }
    let per =
        |v: &[Vec<f64>], f: fn(&[f64]) -> f64| -> Vec<f64> { v.iter().map(|x| f(x)).collect() };
    columns.push(Series::new("mean_test_score".into(), means.clone()).into());
    columns.push(Series::new("std_test_score".into(), per(&split_scores, std)).into());
    columns.push(Series::new("rank_test_score".into(), rank).into());
    columns.push(Series::new("mean_fit_time".into(), per(&fit_times, mean)).into());
    columns.push(Series::new("std_fit_time".into(), per(&fit_times, std)).into());
    columns.push(Series::new("mean_score_time".into(), per(&score_times, mean)).into());
    columns.push(Series::new("std_score_time".into(), per(&score_times, std)).into());
    let cv_results = DataFrame::new_infer_height(columns).map_err(polars_error)?;
    Ok(SearchResult {
        cv_results,
        best_params: candidates[best_index].clone(),
        best_score: means[best_index],
        candidates,
        split_scores,
        best_index,
        scoring,
        best_estimator: None,
        fits_by_kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_lower_rank_and_the_first_wins() {
        assert_eq!(ranks(&[0.5, 0.9, 0.9, 0.1]), vec![3, 1, 1, 4]);
        assert_eq!(ranks(&[f64::NAN, 0.2, f64::NAN]), vec![2, 1, 2]);
    }
}
