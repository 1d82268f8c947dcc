//! Linear models: ridge and least-squares regression, and logistic regression.

mod logistic;
pub mod optimize;
mod ridge;

pub use logistic::{FittedLogisticRegression, LogisticRegression, Penalty, Solver};
pub use ridge::{FittedLinearRegression, FittedRidge, LinearRegression, Ridge};
