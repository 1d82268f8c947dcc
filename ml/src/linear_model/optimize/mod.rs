//! Solvers for logistic regression, written from the textbook algorithms.
//!
//! - [`lbfgs`]: limited-memory BFGS (Nocedal & Wright, algorithm 7.5) with the
//!   two-loop recursion over the last `memory` correction pairs and a line search
//!   that finds a step meeting the strong Wolfe conditions (bracketing, then
//!   zooming with safeguarded cubic interpolation; algorithms 3.5 and 3.6). It
//!   stops as SciPy's L-BFGS-B does: when the largest gradient entry is at most
//!   `gtol`, or when an iteration lowers the objective by a relative `ftol`.
//! - [`BinaryLogistic`] and [`MultinomialLogistic`]: the smooth objectives it
//!   minimises, the mean log-loss plus `||w||² / (2 C n)`, which is scikit-learn's
//!   `C Σ loss + ||w||² / 2` divided by `C n` (same minimiser, better scaled).
//! - [`l1_logistic`]: `||w||₁ + C Σ ln(1 + exp(-yᵢ w·xᵢ))` by a proximal Newton
//!   method (liblinear's newGLMNET): each outer step minimises the second-order
//!   model of the log-loss plus the exact L1 norm by cyclic coordinate descent with
//!   soft-thresholding, then backtracks on the full objective. Coordinates at zero
//!   whose gradient lies well inside `[-1, 1]` sit out a step. The model's Hessian
//!   is either formed once per step on the active coordinates (when they are few
//!   next to the samples) or applied through a running vector `X d`.

mod l1;
mod lbfgs;
mod objectives;
#[cfg(test)]
mod tests;

pub use l1::{l1_logistic, L1Options, L1Result};
pub use lbfgs::{lbfgs, LbfgsOptions, LbfgsResult};
pub use objectives::{BinaryLogistic, InterceptTerm, MultinomialLogistic};

/// The logistic function `1 / (1 + e^-t)`, without overflow for any `t`.
pub fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^t)`, without overflow and accurate for large `|t|`.
pub fn log1pexp(t: f64) -> f64 {
    if t > 0.0 {
        t + (-t).exp().ln_1p()
    } else {
        t.exp().ln_1p()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// `y += alpha * x`.
fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}
