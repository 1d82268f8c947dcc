//! Machine learning on Brisk: scikit-learn's estimators, pipelines and searches,
//! where a search is one content-hashed task graph.
//!
//! Estimators are plain serde data whose fields are scikit-learn's parameters
//! ([`params`]); fitting one gives a model that transforms, predicts or both
//! ([`Estimator`], [`Transformer`], [`Predictor`]). A [`Pipeline`] chains named
//! steps, set as `step__param`. [`model_selection::GridSearchCV`] and
//! [`model_selection::RandomizedSearchCV`] plan every candidate on every fold as
//! tasks whose keys are content tokens of (estimator kind, parameters, input keys):
//! a pipeline prefix with equal parameters on an equal fold is one task however many
//! candidates use it, so in the classic search of PCA then logistic regression over
//! `n_components` × `C` the PCA is fit once per `n_components` and fold, where
//! scikit-learn refits it for every candidate. The graph runs on any executor: the
//! local scheduler, or a cluster's client (the ops are registered by name, so workers
//! rebuild them; the data are literal tasks, sent once and referenced by key).
//!
//! Built in: [`StandardScaler`], [`PCA`] (exact by SVD or by the covariance's
//! eigendecomposition; randomised on request), [`LinearRegression`], [`Ridge`],
//! [`LogisticRegression`] (L1 / L2; binary, multinomial, one-vs-rest), [`KMeans`],
//! [`RandomForestClassifier`] and [`RandomForestRegressor`]. Register your own with
//! [`register_estimator!`] and your own scorer with [`register_scorer!`].
//!
//! **Linear algebra: faer.** Eigendecompositions, SVDs, Cholesky solves and large
//! products use [faer](https://docs.rs/faer), chosen because it is pure Rust (no
//! system BLAS or LAPACK to install on workers), its matrix product is close to
//! OpenBLAS on one core, and it has divide-and-conquer eigen and SVD solvers.
//! `ndarray-linalg` needs a system LAPACK, and linfa's crates pin ndarray 0.16 while
//! the workspace (Polars, HDF5, NetCDF) is on 0.17. Matrices cross to faer as views of
//! the same memory, without copying.
//!
//! ```
//! use brisk_ml::model_selection::{GridSearchCV, KFold, ParameterGrid};
//! use brisk_ml::{datasets, LogisticRegression, Pipeline, PCA};
//! use brisk_scheduler as _; // links the default (local) scheduler
//! let (x, y) = datasets::make_classification(200, 10, 4, 4, 2, 0);
//! let pipe = Pipeline::new()
//!     .step("pca", PCA::default())
//!     .step("logistic", LogisticRegression::default());
//! let grid = ParameterGrid::new()
//!     .param("pca__n_components", [2, 6])
//!     .param("logistic__C", [0.01, 1.0, 100.0]);
//! let search = GridSearchCV::new(pipe, grid).cv(KFold::new(3));
//! let result = search.fit(x.view(), y.view()).unwrap();
//! // 2 values of n_components × 3 folds, plus the refit: not 6 × 3 + 1.
//! assert_eq!(result.fits_of(PCA::KIND), 7);
//! assert!(result.best_score > 0.6);
//! # use brisk_ml::Estimator;
//! ```
#![warn(missing_docs)]

pub mod check;
pub mod cluster;
pub mod datasets;
pub mod decomposition;
pub mod ensemble;
mod error;
pub mod estimator;
pub mod lazy;
pub(crate) mod linalg;
pub mod linear_model;
pub mod metrics;
pub mod model_selection;
pub mod params;
pub mod pipeline;
pub mod preprocessing;

pub use cluster::{FittedKMeans, KMeans};
pub use decomposition::{FittedPCA, PCA};
pub use ensemble::{
    FittedRandomForestClassifier, FittedRandomForestRegressor, RandomForestClassifier,
    RandomForestRegressor,
};
pub use error::{Error, Result};
pub use estimator::{
    DynModel, Estimator, EstimatorRegistration, FittedStep, Predictor, Role, Transformer,
};
pub use linear_model::{
    FittedLinearRegression, FittedLogisticRegression, FittedRidge, LinearRegression,
    LogisticRegression, Ridge,
};
pub use pipeline::{FittedPipeline, Pipeline, Step};
pub use preprocessing::{FittedStandardScaler, StandardScaler};

#[doc(hidden)]
pub mod __private {
    pub use crate::estimator::erased::*;
    pub use inventory;
    pub use ndarray;
}
