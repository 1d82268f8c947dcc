//! Grid and randomised search with cross-validation, as one graph on any scheduler.
//!
//! [`GridSearchCV::fit`] plans every candidate on every fold into one graph
//! ([`super::plan`]), computes every score in one run of the executor, ranks the
//! candidates, and (with `refit`) fits the best candidate on all the data in a
//! second run. Work shared between candidates (a PCA with the same
//! `n_components` on the same fold, whatever the classifier after it) is one task.
//!
//! ```
//! use brisk_ml::model_selection::{GridSearchCV, KFold, ParameterGrid};
//! use brisk_ml::{Pipeline, Ridge, StandardScaler};
//! use brisk_scheduler as _; // links the default (local) scheduler
//! use ndarray::{Array1, Array2};
//! let x = Array2::from_shape_fn((30, 2), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
//! let y: Array1<f64> = x.rows().into_iter().map(|r| 2.0 * r[0] - r[1]).collect();
//! let search = GridSearchCV::new(
//!     Pipeline::new().step("scale", StandardScaler::default()).step("ridge", Ridge::default()),
//!     ParameterGrid::new().param("ridge__alpha", [0.001, 100.0]),
//! )
//! .cv(KFold::new(3));
//! let result = search.fit(x.view(), y.view()).unwrap();
//! assert_eq!(result.best_params["ridge__alpha"], 0.001);
//! assert_eq!(result.cv_results.height(), 2);
//! assert!(result.best_estimator.is_some());
//! ```

use super::grid::{ParameterGrid, ParameterSampler};
use super::plan::{self, FoldKeys, Scored, Tasks};
use super::results::{self, SearchResult};
use super::split::{KFold, Splitter, StratifiedKFold};
use crate::check::{check_xy, classes};
use crate::error::{Error, Result};
use crate::estimator::{FittedStep, Role};
use crate::params::Params;
use crate::pipeline::{FittedPipeline, Pipeline};
use brisk_core::executor::{default_executor, Executor};
use brisk_core::graph::Graph;
use brisk_core::value::take;
use brisk_core::Key;
use ndarray::{ArrayView1, ArrayView2};
use std::sync::Arc;

/// Where candidates come from.
#[derive(Debug, Clone)]
enum Candidates {
    Grid(ParameterGrid),
    Sampled(ParameterSampler),
}

/// The settings shared by grid and randomised search.
#[derive(Debug, Clone)]
struct Search {
    pipeline: Pipeline,
    candidates: Candidates,
    cv: Option<Arc<dyn Splitter>>,
    n_splits: usize,
    scoring: Option<String>,
    refit: bool,
}

/// scikit-learn's `GridSearchCV`: every combination of a [`ParameterGrid`].
#[derive(Debug, Clone)]
pub struct GridSearchCV(Search);

/// scikit-learn's `RandomizedSearchCV`: `n_iter` seeded draws of a
/// [`ParameterSampler`].
#[derive(Debug, Clone)]
pub struct RandomizedSearchCV(Search);

macro_rules! settings {
    ($t:ty) => {
        impl $t {
            /// Folds from `splitter` (default: 5 folds, stratified for classifiers).
            pub fn cv(mut self, splitter: impl Splitter + 'static) -> Self {
                self.0.cv = Some(Arc::new(splitter));
                self
            }

            /// The number of default folds (KFold, or StratifiedKFold for classifiers).
            pub fn n_splits(mut self, n: usize) -> Self {
                self.0.n_splits = n;
                self.0.cv = None;
                self
            }

            /// The scorer's name (default: accuracy for classifiers, R² for regressors).
            pub fn scoring(mut self, name: &str) -> Self {
                self.0.scoring = Some(name.to_string());
                self
            }

            /// Whether to fit the best candidate on all the data (default true).
            pub fn refit(mut self, refit: bool) -> Self {
                self.0.refit = refit;
                self
            }

            /// Plans the search on `x` and `y` without running it: checks the
            /// parameters, the data and the folds now, at graph-building time.
            pub fn plan(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<Planned> {
                self.0.plan(x, y)
            }

            /// Runs the search on the default executor.
            pub fn fit(
                &self,
                x: ArrayView2<'_, f64>,
                y: ArrayView1<'_, f64>,
            ) -> Result<SearchResult> {
                self.fit_with(x, y, default_executor()?.as_ref())
            }

            /// Runs the search on `executor` (a local scheduler or a cluster's client).
            pub fn fit_with(
                &self,
                x: ArrayView2<'_, f64>,
                y: ArrayView1<'_, f64>,
                executor: &dyn Executor,
            ) -> Result<SearchResult> {
                let planned = self.plan(x, y)?;
                Ok(run_all(vec![planned], executor)?.remove(0))
            }
        }
    };
}

settings!(GridSearchCV);
settings!(RandomizedSearchCV);

impl GridSearchCV {
    /// A search of `pipeline` over every candidate of `grid`.
    pub fn new(pipeline: Pipeline, grid: ParameterGrid) -> GridSearchCV {
        GridSearchCV(Search::new(pipeline, Candidates::Grid(grid)))
    }
}

impl RandomizedSearchCV {
    /// A search of `pipeline` over the candidates `sampler` draws.
    pub fn new(pipeline: Pipeline, sampler: ParameterSampler) -> RandomizedSearchCV {
        RandomizedSearchCV(Search::new(pipeline, Candidates::Sampled(sampler)))
    }
}

/// A search planned on its data: the graph and the keys to compute.
pub struct Planned {
    pub(crate) tasks: Tasks,
    pub(crate) candidates: Vec<Params>,
    pub(crate) pipelines: Vec<Pipeline>,
    pub(crate) scores: Vec<Vec<Scored>>,
    pub(crate) x: Key,
    pub(crate) y: Key,
    pub(crate) refit: bool,
    pub(crate) scoring: String,
    fits_by_kind: Vec<(String, usize)>,
}

impl Planned {
    /// The number of distinct tasks.
    pub fn task_count(&self) -> usize {
        self.tasks.order_len()
    }

    /// The number of distinct fits of the estimator kind `kind` (each runs once).
    pub fn fits_of(&self, kind: &str) -> usize {
        results::fits_of(&self.fits_by_kind, kind)
    }
}

impl Search {
    fn new(pipeline: Pipeline, candidates: Candidates) -> Search {
        Search {
            pipeline,
            candidates,
            cv: None,
            n_splits: 5,
            scoring: None,
            refit: true,
        }
    }

    fn plan(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<Planned> {
        let role = self.pipeline.role()?;
        let last = &self.pipeline.steps()[self.pipeline.steps().len() - 1];
        if role == Role::Transformer {
            return Err(Error::Unsupported {
                kind: last.kind.clone(),
                what: "predict, so a search cannot score it (end the pipeline with a predictor)"
                    .into(),
            });
        }
        let scoring = match &self.scoring {
            Some(s) => s.clone(),
            None => crate::metrics::default_scoring(role, &last.kind)?.to_string(),
        };
        crate::metrics::scorer(&scoring)?;
        let candidates = match &self.candidates {
            Candidates::Grid(g) => g.candidates()?,
            Candidates::Sampled(s) => s.candidates()?,
        };
        let pipelines = candidates
            .iter()
            .map(|c| self.pipeline.set_params(c))
            .collect::<Result<Vec<_>>>()?;
        check_xy(x, y)?;
        let splitter: Arc<dyn Splitter> = match &self.cv {
            Some(s) => s.clone(),
            None if role == Role::Classifier => Arc::new(StratifiedKFold::new(self.n_splits)),
            None => Arc::new(KFold::new(self.n_splits)),
        };
        let folds = splitter.split(x.nrows(), Some(y))?;
        check_folds(&folds, x.nrows())?;
        if role == Role::Classifier {
            classes(y, "y")?;
            for (i, (train, _)) in folds.iter().enumerate() {
                let part: Vec<f64> = train.iter().map(|&r| y[r as usize]).collect();
                classes(
                    ndarray::ArrayView1::from(&part[..]),
                    &format!("the training part of fold {i}"),
                )?;
            }
        }
        let mut tasks = Tasks::default();
        let (xk, yk) = plan::data(&mut tasks, x, y)?;
        let fold_keys: Vec<FoldKeys> = folds
            .iter()
            .map(|f| plan::fold(&mut tasks, &xk, &yk, f))
            .collect::<Result<_>>()?;
        let scores = pipelines
            .iter()
            .map(|p| {
                fold_keys
                    .iter()
                    .map(|f| plan::score_on_fold(&mut tasks, p, f, &scoring))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let mut kinds: Vec<String> = self
            .pipeline
            .steps()
            .iter()
            .map(|s| s.kind.clone())
            .collect();
        kinds.dedup();
        let fits_by_kind = kinds
            .into_iter()
            .map(|k| {
                let n = tasks.count_fits(&k);
                (k, n)
            })
            .collect();
        Ok(Planned {
            tasks,
            candidates,
            pipelines,
            scores,
            x: xk,
            y: yk,
            refit: self.refit,
            scoring,
            fits_by_kind,
        })
    }
}

/// Every fold trains and tests on some rows, each row once, and only rows that
/// exist (a custom splitter may break any of these).
fn check_folds(folds: &[super::split::Fold], n: usize) -> Result<()> {
    if folds.is_empty() {
        return Err(Error::TooFewSamples {
            message: "the splitter made no folds".into(),
        });
    }
    for (f, (train, test)) in folds.iter().enumerate() {
        if train.is_empty() || test.is_empty() {
            return Err(Error::TooFewSamples {
                message: format!(
                    "fold {f} has no {} rows",
                    if train.is_empty() { "training" } else { "test" }
                ),
            });
        }
        let mut seen = vec![0u8; n];
        for (part, rows) in [(1u8, train), (2u8, test)] {
            for &r in rows {
                let Some(slot) = seen.get_mut(r as usize) else {
                    return Err(Error::TooFewSamples {
                        message: format!("fold {f} names row {r}, but there are {n} samples"),
                    });
                };
                if *slot != 0 {
                    return Err(Error::TooFewSamples {
                        message: format!(
                            "fold {f} names row {r} twice{}",
                            if *slot != part {
                                " (in training and in test)"
                            } else {
                                ""
                            }
                        ),
                    });
                }
                *slot = part;
            }
        }
    }
    Ok(())
}

/// Runs several planned searches in one graph (their shared work runs once), then
/// refits each best candidate, again in one graph.
///
/// ```
/// use brisk_ml::model_selection::{run_all, GridSearchCV, KFold, ParameterGrid};
/// use brisk_ml::{Pipeline, Ridge, StandardScaler};
/// use brisk_scheduler::LocalScheduler;
/// use ndarray::{Array1, Array2};
/// let x = Array2::from_shape_fn((20, 2), |(i, j)| ((i * 5 + j) % 7) as f64);
/// let y: Array1<f64> = x.rows().into_iter().map(|r| r[0] + r[1]).collect();
/// let pipe = Pipeline::new().step("scale", StandardScaler::default()).step("ridge", Ridge::default());
/// let a = GridSearchCV::new(pipe.clone(), ParameterGrid::new().param("ridge__alpha", [1.0])).cv(KFold::new(2));
/// let b = GridSearchCV::new(pipe, ParameterGrid::new().param("ridge__alpha", [2.0])).cv(KFold::new(2));
/// let plans = vec![a.plan(x.view(), y.view()).unwrap(), b.plan(x.view(), y.view()).unwrap()];
/// let results = run_all(plans, &LocalScheduler::with_threads(2)).unwrap();
/// assert_eq!(results.len(), 2);
/// ```
pub fn run_all(mut plans: Vec<Planned>, executor: &dyn Executor) -> Result<Vec<SearchResult>> {
    // Every score and fit time of every search, each key once.
    let mut keys: Vec<Key> = plans
        .iter()
        .flat_map(|p| p.scores.iter().flatten())
        .flat_map(|s| std::iter::once(&s.score).chain(&s.fit_seconds))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    let parts: Vec<Graph> = plans
        .iter_mut()
        .map(|p| std::mem::take(&mut p.tasks).into_graph("grid-search"))
        .collect();
    let graph = Graph::merge(parts.iter());
    let values = executor.get(&graph, &keys)?;
    let value_of = |k: &Key| -> Result<brisk_core::Value> {
        let i = keys
            .binary_search(k)
            .map_err(|_| Error::Graph(brisk_core::Error::MissingKey { key: k.clone() }))?;
        Ok(values[i].clone())
    };

    let mut out = Vec::with_capacity(plans.len());
    let mut refits: Vec<(usize, Pipeline, Key, Key)> = Vec::new();
    for (i, p) in plans.into_iter().enumerate() {
        let Planned {
            candidates,
            pipelines,
            scores,
            x,
            y,
            refit,
            scoring,
            fits_by_kind,
            ..
        } = p;
        let mut split_scores = Vec::with_capacity(scores.len());
        let mut fit_times = Vec::with_capacity(scores.len());
        let mut score_times = Vec::with_capacity(scores.len());
        for per_fold in &scores {
            let mut s = Vec::new();
            let mut ft = Vec::new();
            let mut st = Vec::new();
            for fold in per_fold {
                let (score, seconds): (f64, f64) = take(&value_of(&fold.score)?)?;
                s.push(score);
                st.push(seconds);
                let mut fit = 0.0;
                for k in &fold.fit_seconds {
                    fit += take::<f64>(&value_of(k)?)?;
                }
                ft.push(fit);
            }
            split_scores.push(s);
            fit_times.push(ft);
            score_times.push(st);
        }
        let mut result = results::assemble(
            candidates,
            split_scores,
            fit_times,
            score_times,
            scoring,
            fits_by_kind,
        )?;
        if refit {
            refits.push((i, pipelines[result.best_index].clone(), x, y));
            result.count_refit(&pipelines[result.best_index]);
        }
        out.push(result);
    }
    if !refits.is_empty() {
        let mut tasks = Tasks::default();
        let mut chains = Vec::new();
        for (_, pipeline, x, y) in &refits {
            // The data tasks are already in the first graph: take them from there.
            chains.push(plan::fit_chain(&mut tasks, pipeline, x, y)?);
        }
        let refit_graph = Graph::merge([&graph, &tasks.into_graph("refit")]);
        let fit_keys: Vec<Key> = chains.iter().flat_map(|c| c.fits.iter().cloned()).collect();
        let values = executor.get(&refit_graph, &fit_keys)?;
        let mut at = 0;
        for ((i, pipeline, _, _), chain) in refits.iter().zip(&chains) {
            let steps = pipeline
                .steps()
                .iter()
                .zip(&values[at..at + chain.fits.len()])
                .map(|(s, v)| Ok((s.name.clone(), take::<FittedStep>(v)?)))
                .collect::<Result<Vec<_>>>()?;
            at += chain.fits.len();
            out[*i].best_estimator = Some(FittedPipeline { steps });
        }
    }
    Ok(out)
}
