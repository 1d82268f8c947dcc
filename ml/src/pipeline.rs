//! Pipelines: named steps whose parameters are set as `step__param`.
//!
//! A [`Pipeline`] is data: each step is an estimator kind and its parameters
//! ([`Step`]), so a pipeline with parameters set is a value that names work
//! exactly, and two candidates of a search that share a prefix of steps with equal
//! parameters share that prefix's tasks. Every step but the last transforms; the
//! last may transform, predict or both.
//!
//! ```
//! use brisk_ml::{LogisticRegression, Pipeline, StandardScaler, PCA};
//! use brisk_ml::params::Params;
//! let pipe = Pipeline::new()
//!     .step("scale", StandardScaler::default())
//!     .step("pca", PCA::default())
//!     .step("logistic", LogisticRegression::default());
//! let mut p = Params::new();
//! p.insert("pca__n_components".into(), 2.into());
//! let two = pipe.set_params(&p).unwrap();
//! assert_eq!(two.steps()[1].params["n_components"], 2);
//! p.insert("pcaa__whiten".into(), true.into());
//! let e = pipe.set_params(&p).unwrap_err().to_string();
//! assert!(e.contains("no parameter 'pcaa__whiten'"), "{e}");
//! ```

use crate::error::{Error, Result};
use crate::estimator::{registration, Estimator, FittedStep, Role};
use crate::params::{split_name, Params};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, CowArray, Ix2};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// One step: a name, the estimator kind and its complete parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The step's name in the pipeline (the `step` of `step__param`).
    pub name: String,
    /// The registered estimator kind ([`Estimator::KIND`]).
    pub kind: String,
    /// Every parameter of the estimator.
    pub params: Params,
}

impl Step {
    /// The step `name` running `est`.
    pub fn new<E: Estimator>(name: &str, est: &E) -> Result<Step> {
        Ok(Step {
            name: name.to_string(),
            kind: E::KIND.to_string(),
            params: est.get_params()?,
        })
    }

    /// What the step's estimator is for.
    pub fn role(&self) -> Result<Role> {
        Ok(registration(&self.kind)?.role)
    }

    /// Fits the step's estimator on `x` (and `y`), timing the fit.
    pub fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedStep> {
        let reg = registration(&self.kind)?;
        let t0 = Instant::now();
        let model = (reg.fit)(&self.params, x, y)?;
        let seconds = t0.elapsed().as_secs_f64();
        let nbytes = model.encoded_len();
        Ok(FittedStep::new(model, seconds, nbytes))
    }
}

/// A step's token is its estimator kind and canonical parameters (its name is a
/// label, not part of the work): with the keys of its inputs, it names a fit.
///
/// ```
/// use brisk_core::tokenize;
/// use brisk_ml::{Step, PCA};
/// let a = Step::new("pca", &PCA { n_components: Some(2), ..PCA::default() }).unwrap();
/// let b = Step::new("reduce", &PCA { n_components: Some(2), ..PCA::default() }).unwrap();
/// let c = Step::new("pca", &PCA { n_components: Some(3), ..PCA::default() }).unwrap();
/// assert_eq!(tokenize(&a).unwrap(), tokenize(&b).unwrap());
/// assert_ne!(tokenize(&a).unwrap(), tokenize(&c).unwrap());
/// ```
impl brisk_core::Tokenize for Step {
    fn tokenize(&self, h: &mut brisk_core::token::Hasher) -> brisk_core::Result<()> {
        h.write_str("brisk_ml::Step");
        h.write_str(&self.kind);
        h.write_str(&crate::params::canonical(&self.params));
        Ok(())
    }
}

/// A pipeline's token is its steps' names, kinds and parameters.
impl brisk_core::Tokenize for Pipeline {
    fn tokenize(&self, h: &mut brisk_core::token::Hasher) -> brisk_core::Result<()> {
        h.write_str("brisk_ml::Pipeline");
        h.write_len(self.steps.len());
        for s in &self.steps {
            h.write_str(&s.name);
            s.tokenize(h)?;
        }
        Ok(())
    }
}

/// Named steps; the last is the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    steps: Vec<Step>,
    /// A single estimator searched on its own: its parameters have no `step__`.
    single: bool,
    /// An estimator whose parameters could not be read, reported at first use.
    invalid: Option<String>,
}

impl Pipeline {
    /// A pipeline with no steps yet.
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    /// A single estimator, searched with its own parameter names (`C`, not
    /// `logistic__C`).
    pub fn of<E: Estimator>(est: E) -> Pipeline {
        let p = Pipeline::new().step(E::KIND.rsplit("::").next().unwrap_or(E::KIND), est);
        Pipeline { single: true, ..p }
    }

    /// Adds a step named `name`.
    pub fn step<E: Estimator>(mut self, name: &str, est: E) -> Pipeline {
        match Step::new(name, &est) {
            Ok(step) => self.steps.push(step),
            Err(e) => self.invalid = Some(e.to_string()),
        }
        self
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Checks the pipeline is usable: at least one step, distinct names without `__`,
    /// registered kinds, and every step but the last a transformer.
    pub fn validate(&self) -> Result<()> {
        if let Some(e) = &self.invalid {
            return Err(Error::invalid("the pipeline", "steps", e));
        }
        if self.steps.is_empty() {
            return Err(Error::invalid(
                "the pipeline",
                "steps",
                "a pipeline needs at least one step",
            ));
        }
        for (i, s) in self.steps.iter().enumerate() {
            if s.name.contains("__") {
                return Err(Error::invalid(
                    "the pipeline",
                    "steps",
                    format!("step name '{}' contains '__'", s.name),
                ));
            }
            if self.steps[..i].iter().any(|t| t.name == s.name) {
                return Err(Error::invalid(
                    "the pipeline",
                    "steps",
                    format!("two steps are named '{}'", s.name),
                ));
            }
            let role = s.role()?;
            if i + 1 < self.steps.len() && !matches!(role, Role::Transformer | Role::Clusterer) {
                return Err(Error::invalid(
                    "the pipeline",
                    "steps",
                    format!(
                        "step '{}' ({}) is not a transformer, so only the last step can be it",
                        s.name, s.kind
                    ),
                ));
            }
        }
        Ok(())
    }

    /// What the last step is for.
    pub fn role(&self) -> Result<Role> {
        self.validate()?;
        self.steps[self.steps.len() - 1].role()
    }

    /// Every parameter name `set_params` takes.
    pub fn param_names(&self) -> Vec<String> {
        self.steps
            .iter()
            .flat_map(|s| {
                s.params.keys().map(move |p| {
                    if self.single {
                        p.clone()
                    } else {
                        format!("{}__{p}", s.name)
                    }
                })
            })
            .collect()
    }

    /// A copy with `params` set (`step__param` names, or the estimator's own names
    /// for a single estimator); each changed step's parameters are checked by its
    /// estimator.
    pub fn set_params(&self, params: &Params) -> Result<Pipeline> {
        self.validate()?;
        let mut out = self.clone();
        let mut touched = vec![false; out.steps.len()];
        for (name, value) in params {
            let target = if self.single {
                Some((0, name.as_str()))
            } else {
                split_name(name).and_then(|(step, p)| {
                    out.steps
                        .iter()
                        .position(|s| s.name == step)
                        .map(|i| (i, p))
                })
            };
            let slot =
                target.and_then(|(i, p)| out.steps[i].params.get_mut(p).map(|slot| (i, slot)));
            match slot {
                Some((i, slot)) => {
                    *slot = value.clone();
                    touched[i] = true;
                }
                None => {
                    return Err(Error::UnknownParameter {
                        owner: if self.single {
                            self.steps[0].kind.clone()
                        } else {
                            "the pipeline".into()
                        },
                        name: name.clone(),
                        known: self.param_names(),
                    })
                }
            }
        }
        for (s, t) in out.steps.iter_mut().zip(touched) {
            if t {
                s.params = (registration(&s.kind)?.normalize)(&s.params)?;
            }
        }
        Ok(out)
    }

    /// Fits every step in turn, here (not as a graph).
    pub fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedPipeline> {
        self.validate()?;
        let mut cur: CowArray<'_, f64, Ix2> = CowArray::from(x);
        let mut fitted = Vec::with_capacity(self.steps.len());
        for (i, s) in self.steps.iter().enumerate() {
            let f = s.fit(cur.view(), y)?;
            if i + 1 < self.steps.len() {
                cur = CowArray::from(f.model.transform(cur.view())?);
            }
            fitted.push((s.name.clone(), f));
        }
        Ok(FittedPipeline { steps: fitted })
    }
}

/// A fitted pipeline: each step's fitted model.
#[derive(Debug, Clone)]
pub struct FittedPipeline {
    /// The steps' names and models, in order.
    pub steps: Vec<(String, FittedStep)>,
}

impl FittedPipeline {
    /// The fitted step named `name`.
    pub fn step(&self, name: &str) -> Option<&FittedStep> {
        self.steps.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    fn through(&self, x: ArrayView2<'_, f64>, n: usize) -> Result<Array2<f64>> {
        let mut cur = x.to_owned();
        for (_, s) in &self.steps[..n] {
            cur = s.model.transform(cur.view())?;
        }
        Ok(cur)
    }

    /// `x` transformed by every step.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        self.through(x, self.steps.len())
    }

    /// `x` transformed by every step but the last, then predicted by the last.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let n = self.steps.len();
        let xt = self.through(x, n.saturating_sub(1))?;
        match self.steps.last() {
            Some((_, last)) => last.model.predict(xt.view()),
            None => Err(Error::invalid("the pipeline", "steps", "no steps")),
        }
    }

    /// The predictions of `x` scored against `y` by the scorer `scoring`.
    pub fn score(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        scoring: &str,
    ) -> Result<f64> {
        let f = crate::metrics::scorer(scoring)?;
        crate::check::check_xy(x, y)?;
        Ok(f(y, self.predict(x)?.view()))
    }
}
