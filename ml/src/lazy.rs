//! Estimators on lazy data: fit, transform and predict as tasks of any graph, so
//! models train where their data are (one model per partition on a cluster, say)
//! and only small results come back.
//!
//! ```
//! use brisk_collections::delayed;
//! use brisk_ml::{lazy, Ridge, Step};
//! use brisk_scheduler as _; // links the default (local) scheduler
//! use ndarray::{array, ArrayD};
//! let x = delayed::value(array![[0.0], [1.0], [2.0]].into_dyn()).unwrap();
//! let y = delayed::value(array![1.0, 3.0, 5.0].into_dyn()).unwrap();
//! let step = Step::new("ridge", &Ridge { alpha: 0.0, ..Ridge::default() }).unwrap();
//! let model = lazy::fit(&step, &x, Some(&y)).unwrap();
//! let p: ArrayD<f64> = lazy::predict(&model, &x).unwrap().compute().unwrap();
//! assert!((p[[2]] - 5.0).abs() < 1e-9);
//! ```

use crate::estimator::FittedStep;
use crate::model_selection::{Fit, Predict, Transform};
use crate::pipeline::Step;
use brisk_collections::delayed::{delayed_call, IntoArg};
use brisk_collections::Delayed;
use brisk_core::Result;
use ndarray::ArrayD;
use std::sync::Arc;

/// A lazy fit of `step` on `x` (samples in rows) and, for supervised steps, `y`.
pub fn fit(
    step: &Step,
    x: &Delayed<ArrayD<f64>>,
    y: Option<&Delayed<ArrayD<f64>>>,
) -> Result<Delayed<FittedStep>> {
    let mut args = vec![IntoArg::<ArrayD<f64>>::into_arg(x)?];
    if let Some(y) = y {
        args.push(IntoArg::<ArrayD<f64>>::into_arg(y)?);
    }
    delayed_call(Arc::new(Fit::new(step)), args)
}

/// The lazy predictions of `model` for `x`.
pub fn predict(
    model: &Delayed<FittedStep>,
    x: &Delayed<ArrayD<f64>>,
) -> Result<Delayed<ArrayD<f64>>> {
    delayed_call(
        Arc::new(Predict),
        vec![
            IntoArg::<FittedStep>::into_arg(model)?,
            IntoArg::<ArrayD<f64>>::into_arg(x)?,
        ],
    )
}

/// `x` transformed lazily by `model`.
pub fn transform(
    model: &Delayed<FittedStep>,
    x: &Delayed<ArrayD<f64>>,
) -> Result<Delayed<ArrayD<f64>>> {
    delayed_call(
        Arc::new(Transform),
        vec![
            IntoArg::<FittedStep>::into_arg(model)?,
            IntoArg::<ArrayD<f64>>::into_arg(x)?,
        ],
    )
}
