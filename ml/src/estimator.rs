//! Estimators, transformers and predictors, and the registry that lets a fitted model
//! travel between processes.
//!
//! An [`Estimator`] is plain serde data: its fields are its parameters
//! ([`crate::params`]). Fitting it gives its [`Estimator::Fitted`] model, which is a
//! [`Transformer`], a [`Predictor`] or both. [`register_estimator!`] names the pair
//! under the estimator's [`Estimator::KIND`], so a task can be sent as `(kind,
//! parameters)` and a fitted model as `(kind, bytes)`: code never travels.
//!
//! ```
//! use brisk_ml::{Estimator, Predictor, Ridge};
//! use ndarray::array;
//! let x = array![[0.0], [1.0], [2.0], [3.0]];
//! let y = array![1.0, 3.0, 5.0, 7.0];
//! let model = Ridge { alpha: 0.0, ..Ridge::default() }.fit(x.view(), Some(y.view())).unwrap();
//! let p = model.predict(array![[4.0]].view()).unwrap();
//! assert!((p[0] - 9.0).abs() < 1e-9);
//! ```

use crate::error::{Error, Result};
use crate::params::{get_params, Params};
use brisk_core::value::{Data, DecoderRegistration, Encoded};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// What an estimator is for: it picks the default scoring and cross-validation
/// (stratified folds for classifiers, as scikit-learn does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// Transforms `X` (a scaler, PCA).
    Transformer,
    /// Predicts a class (labels are `f64` values of `y`).
    Classifier,
    /// Predicts a number.
    Regressor,
    /// Finds clusters (transforms to distances and predicts a cluster).
    Clusterer,
}

/// Something with scikit-learn's `fit`.
pub trait Estimator:
    Clone + Default + std::fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The stable name it is registered under, e.g. `brisk_ml::PCA`.
    const KIND: &'static str;
    /// What it is for.
    const ROLE: Role;
    /// The fitted model.
    type Fitted: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Fits the model on `x` (samples in rows) and, for supervised estimators, `y`.
    fn fit(&self, x: ArrayView2<'_, f64>, y: Option<ArrayView1<'_, f64>>) -> Result<Self::Fitted>;

    /// The parameters by name.
    fn get_params(&self) -> Result<Params> {
        get_params(self)
    }

    /// A copy with `params` set.
    fn set_params(&self, params: &Params) -> Result<Self> {
        crate::params::set_params(self, params)
    }
}

/// A fitted model that transforms `X`.
pub trait Transformer {
    /// The transformed matrix, one row per row of `x`.
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>>;
}

/// A fitted model that predicts `y`.
pub trait Predictor {
    /// One prediction per row of `x`.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>>;
}

/// A fitted model behind a pointer: what a task holds and sends. Implemented by
/// [`register_estimator!`] for each fitted type.
pub trait DynModel: Send + Sync + 'static {
    /// The estimator kind that fit it.
    fn kind(&self) -> &'static str;
    /// The model as bytes that the registration of [`DynModel::kind`] decodes.
    fn encode(&self) -> Result<Vec<u8>>;
    /// The length of [`DynModel::encode`]'s bytes, counted without keeping them
    /// (a task result's size for the scheduler's memory accounting).
    fn encoded_len(&self) -> usize;
    /// [`Transformer::transform`], when the model is one.
    fn transform(&self, _x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        Err(Error::Unsupported {
            kind: self.kind().to_string(),
            what: "transform (it is not a transformer)".into(),
        })
    }
    /// [`Predictor::predict`], when the model is one.
    fn predict(&self, _x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        Err(Error::Unsupported {
            kind: self.kind().to_string(),
            what: "predict (it is not a predictor)".into(),
        })
    }
    /// Upcast, to get the typed model back.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A link-time registration of an estimator kind; written by [`register_estimator!`].
pub struct EstimatorRegistration {
    /// [`Estimator::KIND`].
    pub kind: &'static str,
    /// [`Estimator::ROLE`].
    pub role: Role,
    /// Builds the estimator from complete or partial parameters and fits it.
    pub fit: FitFn,
    /// Decodes a fitted model from [`DynModel::encode`]'s bytes.
    pub decode: fn(&[u8]) -> Result<Arc<dyn DynModel>>,
    /// The default parameters.
    pub defaults: fn() -> Result<Params>,
    /// Checks parameters without fitting (names and types) and returns them
    /// complete and in the estimator's own form (`1` for an integer given as `1.0`),
    /// so equal settings give equal keys.
    pub normalize: fn(&Params) -> Result<Params>,
}

/// Fits an estimator given by its parameters.
pub type FitFn =
    fn(&Params, ArrayView2<'_, f64>, Option<ArrayView1<'_, f64>>) -> Result<Arc<dyn DynModel>>;

inventory::collect!(EstimatorRegistration);

/// The registration of `kind`; an error when none, or more than one, has it.
pub fn registration(kind: &str) -> Result<&'static EstimatorRegistration> {
    static REGISTRY: OnceLock<HashMap<&'static str, Vec<&'static EstimatorRegistration>>> =
        OnceLock::new();
    let found = REGISTRY
        .get_or_init(|| {
            let mut m: HashMap<&'static str, Vec<&'static EstimatorRegistration>> = HashMap::new();
            for r in inventory::iter::<EstimatorRegistration> {
                m.entry(r.kind).or_default().push(r);
            }
            m
        })
        .get(kind);
    match found.map(Vec::as_slice) {
        Some([one]) => Ok(one),
        Some(many) if many.len() > 1 => Err(Error::DuplicateRegistration {
            what: "estimator kind".into(),
            name: kind.to_string(),
            count: many.len(),
        }),
        _ => Err(Error::UnknownEstimator {
            kind: kind.to_string(),
        }),
    }
}

/// Registers an estimator and its fitted model, so both can be steps of a pipeline
/// and travel to workers. List what the fitted model is: `transformer`,
/// `predictor` or both.
///
/// ```ignore
/// brisk_ml::register_estimator!(MyScaler => FittedMyScaler: transformer);
/// ```
#[macro_export]
macro_rules! register_estimator {
    ($est:ty => $fitted:ty : $($cap:ident),+ $(,)?) => {
        impl $crate::DynModel for $fitted {
            fn kind(&self) -> &'static str {
                <$est as $crate::Estimator>::KIND
            }
            fn encode(&self) -> $crate::Result<::std::vec::Vec<u8>> {
                $crate::__private::encode_model(<$est as $crate::Estimator>::KIND, self)
            }
            fn encoded_len(&self) -> usize {
                $crate::__private::encoded_len(self)
            }
            fn as_any(&self) -> &dyn ::std::any::Any {
                self
            }
            $( $crate::__dyn_capability!($cap); )+
        }
        $crate::__private::inventory::submit! {
            $crate::EstimatorRegistration {
                kind: <$est as $crate::Estimator>::KIND,
                role: <$est as $crate::Estimator>::ROLE,
                fit: $crate::__private::fit_erased::<$est>,
                decode: $crate::__private::decode_model::<$est>,
                defaults: $crate::__private::defaults::<$est>,
                normalize: $crate::__private::normalize::<$est>,
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __dyn_capability {
    (transformer) => {
        fn transform(
            &self,
            x: $crate::__private::ndarray::ArrayView2<'_, f64>,
        ) -> $crate::Result<$crate::__private::ndarray::Array2<f64>> {
            $crate::Transformer::transform(self, x)
        }
    };
    (predictor) => {
        fn predict(
            &self,
            x: $crate::__private::ndarray::ArrayView2<'_, f64>,
        ) -> $crate::Result<$crate::__private::ndarray::Array1<f64>> {
            $crate::Predictor::predict(self, x)
        }
    };
}

/// The glue [`register_estimator!`] expands to.
#[doc(hidden)]
pub mod erased {
    use super::*;

    pub fn encode_model<F: Serialize>(kind: &str, model: &F) -> Result<Vec<u8>> {
        rmp_serde::to_vec_named(model).map_err(|e| Error::Encode {
            kind: kind.to_string(),
            message: e.to_string(),
        })
    }

    /// The msgpack length of `model`, counted by a writer that keeps nothing.
    pub fn encoded_len<F: Serialize>(model: &F) -> usize {
        struct Count(usize);
        impl std::io::Write for Count {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0 += b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut c = Count(0);
        let _ = rmp_serde::encode::write_named(&mut c, model);
        c.0
    }

    pub fn decode_model<E: Estimator>(bytes: &[u8]) -> Result<Arc<dyn DynModel>>
    where
        E::Fitted: DynModel,
    {
        let model: E::Fitted = rmp_serde::from_slice(bytes).map_err(|e| Error::Decode {
            kind: E::KIND.to_string(),
            message: e.to_string(),
        })?;
        Ok(Arc::new(model))
    }

    pub fn fit_erased<E: Estimator>(
        params: &Params,
        x: ArrayView2<'_, f64>,
        y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Arc<dyn DynModel>>
    where
        E::Fitted: DynModel,
    {
        let est = E::default().set_params(params)?;
        Ok(Arc::new(est.fit(x, y)?))
    }

    pub fn defaults<E: Estimator>() -> Result<Params> {
        E::default().get_params()
    }

    pub fn normalize<E: Estimator>(params: &Params) -> Result<Params> {
        E::default().set_params(params)?.get_params()
    }
}

/// A fitted step as a task result: the model, the estimator kind that fit it, and
/// how long the fit took (for `cv_results`' fit times).
#[derive(Clone)]
pub struct FittedStep {
    /// The model.
    pub model: Arc<dyn DynModel>,
    /// Seconds the fit took.
    pub fit_seconds: f64,
    nbytes: usize,
}

impl std::fmt::Debug for FittedStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FittedStep({}, {:.3} s)",
            self.model.kind(),
            self.fit_seconds
        )
    }
}

impl FittedStep {
    /// Wraps a model; `nbytes` is its encoded size when known.
    pub fn new(model: Arc<dyn DynModel>, fit_seconds: f64, nbytes: usize) -> FittedStep {
        FittedStep {
            model,
            fit_seconds,
            nbytes,
        }
    }

    /// The typed model, when it is an `F`.
    pub fn downcast<F: 'static>(&self) -> Option<&F> {
        self.model.as_any().downcast_ref::<F>()
    }
}

const FITTED_TAG: &str = "brisk_ml::FittedStep";

impl Data for FittedStep {
    fn nbytes(&self) -> usize {
        self.nbytes
    }
    fn type_tag(&self) -> &'static str {
        FITTED_TAG
    }
    fn encode(&self) -> brisk_core::Result<Encoded> {
        let bytes = self.model.encode()?;
        let header = rmp_serde::to_vec(&(self.model.kind(), self.fit_seconds)).map_err(|e| {
            brisk_core::Error::Encode {
                type_tag: FITTED_TAG.into(),
                reason: e.to_string(),
            }
        })?;
        Ok(Encoded {
            type_tag: FITTED_TAG.into(),
            header,
            frames: vec![bytes],
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn decode_fitted(e: &Encoded) -> brisk_core::Result<brisk_core::Value> {
    let bad = |reason: String| brisk_core::Error::Decode {
        type_tag: FITTED_TAG.into(),
        reason,
    };
    let (kind, fit_seconds): (String, f64) =
        rmp_serde::from_slice(&e.header).map_err(|x| bad(x.to_string()))?;
    let [bytes] = e.frames.as_slice() else {
        return Err(bad(format!("expected one frame, got {}", e.frames.len())));
    };
    let model = (registration(&kind)?.decode)(bytes)?;
    Ok(Arc::new(FittedStep::new(model, fit_seconds, bytes.len())))
}

inventory::submit! {
    DecoderRegistration { type_tag: FITTED_TAG, decode: decode_fitted }
}
