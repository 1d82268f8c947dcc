//! The ops of a search graph, registered so that workers rebuild them by name:
//! rows of a fold, a step's fit, a transform, a score, and a fit's duration.
//!
//! Each op's token is its parameters (the fold's rows, the estimator kind and its
//! canonical parameters, the scorer's name), so with its input keys it names the
//! work: equal fits on equal data are one task.

use crate::error::Error;
use crate::estimator::FittedStep;
use crate::params::{canonical, Params};
use crate::pipeline::Step;
use brisk_core::op::{Op, OpRegistration};
use brisk_core::token::{Hasher, Token};
use brisk_core::{Result, Value};
use ndarray::{ArrayD, ArrayView1, ArrayView2, Axis, Ix1, Ix2};
use std::sync::Arc;
use std::time::Instant;

fn params_error(op: &str, e: impl std::fmt::Display) -> brisk_core::Error {
    brisk_core::Error::OpParams {
        op: op.to_string(),
        message: e.to_string(),
    }
}

/// The inputs, when there are exactly `N` (a task from another process may carry
/// any number).
fn inputs_of<'a, const N: usize>(op: &str, inputs: &'a [Value]) -> Result<&'a [Value; N]> {
    inputs.try_into().map_err(|_| brisk_core::Error::Arity {
        op: op.to_string(),
        expected: N,
        found: inputs.len(),
    })
}

/// An op without parameters: a unit struct, its registered name and its call.
macro_rules! parameterless_op {
    ($(#[$doc:meta])* $t:ident, $name:expr, |$inputs:ident| $body:block) => {
        $(#[$doc])*
        pub struct $t;

        impl $t {
            /// The registered name.
            pub const NAME: &'static str = $name;
        }

        impl Op for $t {
            fn name(&self) -> &str {
                Self::NAME
            }
            fn tokenize_params(&self, _h: &mut Hasher) -> Result<()> {
                Ok(())
            }
            fn params(&self) -> Result<Vec<u8>> {
                Ok(Vec::new())
            }
            fn call(&self, $inputs: &[Value]) -> Result<Value> $body
        }

        inventory::submit! {
            OpRegistration { name: $t::NAME, rebuild: |_| Ok(Arc::new($t)) }
        }
    };
}

/// The input as a matrix of samples in rows.
pub(crate) fn matrix<'a>(v: &'a Value, what: &str) -> Result<ArrayView2<'a, f64>> {
    let a = v.expect_ref::<ArrayD<f64>>()?;
    a.view().into_dimensionality::<Ix2>().map_err(|_| {
        brisk_core::Error::from(Error::invalid(
            "the search",
            what,
            format!("expected a 2-D matrix, got shape {:?}", a.shape()),
        ))
    })
}

/// The input as a vector of targets.
pub(crate) fn vector<'a>(v: &'a Value, what: &str) -> Result<ArrayView1<'a, f64>> {
    let a = v.expect_ref::<ArrayD<f64>>()?;
    a.view().into_dimensionality::<Ix1>().map_err(|_| {
        brisk_core::Error::from(Error::invalid(
            "the search",
            what,
            format!("expected a 1-D vector, got shape {:?}", a.shape()),
        ))
    })
}

// ---------------------------------------------------------------- rows of a fold

/// Rows `indices` of an array: a fold's train or test part.
pub struct TakeRows {
    indices: Arc<Vec<u32>>,
    token: Token,
}

impl TakeRows {
    /// The registered name.
    pub const NAME: &'static str = "brisk_ml::take_rows";

    /// Takes `indices`, in order.
    pub fn new(indices: Vec<u32>) -> TakeRows {
        let mut h = Hasher::new();
        h.write_len(indices.len());
        let bytes: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
        h.write_bytes(&bytes);
        TakeRows {
            indices: Arc::new(indices),
            token: h.finish(),
        }
    }
}

impl Op for TakeRows {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        h.write_token(&self.token);
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        rmp_serde::to_vec(self.indices.as_ref()).map_err(|e| params_error(Self::NAME, e))
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let [a] = inputs_of::<1>(Self::NAME, inputs)?;
        let a = a.expect_ref::<ArrayD<f64>>()?;
        let n = a.shape().first().copied().unwrap_or(0);
        if let Some(&bad) = self.indices.iter().find(|&&i| i as usize >= n) {
            return Err(Error::TooFewSamples {
                message: format!("a fold names row {bad}, but the data has {n} rows"),
            }
            .into());
        }
        // Row by row from a standard-layout array: one copy of each row's slice.
        let row_len: usize = a.shape().iter().skip(1).product();
        let mut shape = a.shape().to_vec();
        if let (Some(first), Some(data)) = (shape.first_mut(), a.as_slice()) {
            *first = self.indices.len();
            let mut out = Vec::with_capacity(self.indices.len() * row_len);
            for &i in self.indices.iter() {
                let start = i as usize * row_len;
                out.extend_from_slice(&data[start..start + row_len]);
            }
            let rows = ArrayD::from_shape_vec(shape, out)
                .map_err(|e| brisk_core::Error::Other(e.to_string()))?;
            return Ok(Arc::new(rows));
        }
        let rows: Vec<usize> = self.indices.iter().map(|&i| i as usize).collect();
        Ok(Arc::new(a.select(Axis(0), &rows)))
    }
}

inventory::submit! {
    OpRegistration {
        name: TakeRows::NAME,
        rebuild: |bytes| {
            let indices: Vec<u32> = rmp_serde::from_slice(bytes).map_err(|e| params_error(TakeRows::NAME, e))?;
            Ok(Arc::new(TakeRows::new(indices)))
        },
    }
}

// ---------------------------------------------------------------- fit

/// Fits one step on `[x, y]`.
pub struct Fit {
    step: Step,
}

impl Fit {
    /// The registered name.
    pub const NAME: &'static str = "brisk_ml::fit";

    /// Fits `step` (its name is not part of the work: only kind and parameters).
    pub fn new(step: &Step) -> Fit {
        Fit {
            step: Step {
                name: String::new(),
                kind: step.kind.clone(),
                params: step.params.clone(),
            },
        }
    }
}

impl Op for Fit {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        brisk_core::Tokenize::tokenize(&self.step, h)
    }
    fn params(&self) -> Result<Vec<u8>> {
        let json = canonical(&self.step.params);
        rmp_serde::to_vec(&(&self.step.kind, json)).map_err(|e| params_error(Self::NAME, e))
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let (x, y) = match inputs {
            [x] => (matrix(x, "X")?, None),
            [x, y] => (matrix(x, "X")?, Some(vector(y, "y")?)),
            _ => {
                return Err(brisk_core::Error::Arity {
                    op: Self::NAME.into(),
                    expected: 2,
                    found: inputs.len(),
                })
            }
        };
        Ok(Arc::new(self.step.fit(x, y)?))
    }
}

inventory::submit! {
    OpRegistration {
        name: Fit::NAME,
        rebuild: |bytes| {
            let (kind, json): (String, String) = rmp_serde::from_slice(bytes).map_err(|e| params_error(Fit::NAME, e))?;
            let params: Params = serde_json::from_str(&json).map_err(|e| params_error(Fit::NAME, e))?;
            Ok(Arc::new(Fit { step: Step { name: String::new(), kind, params } }))
        },
    }
}

// ---------------------------------------------------------------- transform

parameterless_op! {
    /// `[fitted, x]` → the transformed `x`.
    Transform, "brisk_ml::transform", |inputs| {
        let [fitted, x] = inputs_of::<2>(Transform::NAME, inputs)?;
        let fitted = fitted.expect_ref::<FittedStep>()?;
        Ok(Arc::new(fitted.model.transform(matrix(x, "X")?)?.into_dyn()))
    }
}

// ---------------------------------------------------------------- score

/// `[fitted, x, y]` → `(score, seconds)`: the scorer's value of the last step's
/// predictions, and how long predicting and scoring took.
pub struct Score {
    scoring: String,
}

impl Score {
    /// The registered name.
    pub const NAME: &'static str = "brisk_ml::score";

    /// Scores with the scorer registered as `scoring`.
    pub fn new(scoring: &str) -> Score {
        Score {
            scoring: scoring.to_string(),
        }
    }
}

impl Op for Score {
    fn name(&self) -> &str {
        Self::NAME
    }
    fn tokenize_params(&self, h: &mut Hasher) -> Result<()> {
        h.write_str(&self.scoring);
        Ok(())
    }
    fn params(&self) -> Result<Vec<u8>> {
        Ok(self.scoring.as_bytes().to_vec())
    }
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let t0 = Instant::now();
        let scorer = crate::metrics::scorer(&self.scoring)?;
        let [fitted, x, y] = inputs_of::<3>(Self::NAME, inputs)?;
        let fitted = fitted.expect_ref::<FittedStep>()?;
        let x = matrix(x, "X")?;
        let y = vector(y, "y")?;
        crate::check::check_xy(x, y)?;
        let pred = fitted.model.predict(x)?;
        if pred.len() != y.len() {
            return Err(Error::LengthMismatch {
                x_rows: pred.len(),
                y_len: y.len(),
            }
            .into());
        }
        let score = scorer(y, pred.view());
        Ok(Arc::new((score, t0.elapsed().as_secs_f64())))
    }
}

inventory::submit! {
    OpRegistration {
        name: Score::NAME,
        rebuild: |bytes| {
            let s = std::str::from_utf8(bytes).map_err(|e| params_error(Score::NAME, e))?;
            Ok(Arc::new(Score::new(s)))
        },
    }
}

// ---------------------------------------------------------------- fit time

parameterless_op! {
    /// `[fitted]` → the seconds its fit took (a small result, so the models stay
    /// on the workers).
    FitSeconds, "brisk_ml::fit_seconds", |inputs| {
        let [fitted] = inputs_of::<1>(FitSeconds::NAME, inputs)?;
        Ok(Arc::new(fitted.expect_ref::<FittedStep>()?.fit_seconds))
    }
}

// ---------------------------------------------------------------- predict

parameterless_op! {
    /// `[fitted, x]` → the predictions of `x`.
    Predict, "brisk_ml::predict", |inputs| {
        let [fitted, x] = inputs_of::<2>(Predict::NAME, inputs)?;
        let fitted = fitted.expect_ref::<FittedStep>()?;
        Ok(Arc::new(fitted.model.predict(matrix(x, "X")?)?.into_dyn()))
    }
}
