//! The smooth logistic objectives: binary and multinomial, with their gradients.

use super::*;
use ndarray::{aview1, Array2, ArrayView1, ArrayView2, Axis};

/// The intercept of a [`BinaryLogistic`]: the weight of a constant feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterceptTerm {
    /// The constant feature's value: 1 for lbfgs, `intercept_scaling` for liblinear.
    /// The intercept is this times the weight.
    pub scale: f64,
    /// Whether its weight is penalised like the others (liblinear) or not (lbfgs).
    pub penalized: bool,
}

/// The binary objective `(1/n) Σ ln(1 + e^{zᵢ}) - tᵢ zᵢ + ||w||² / (2 C n)`, with
/// `zᵢ = xᵢ·w + scale · b`, targets `tᵢ` in {0, 1}. Its parameters are `w` then,
/// when there is an intercept, `b`.
#[derive(Debug, Clone)]
pub struct BinaryLogistic<'a> {
    x: ArrayView2<'a, f64>,
    target: ArrayView1<'a, f64>,
    l2: f64,
    intercept: Option<InterceptTerm>,
}

impl<'a> BinaryLogistic<'a> {
    /// The objective on `x` (samples in rows) and 0/1 `target`, with inverse
    /// penalty strength `c` (None: no penalty).
    pub fn new(
        x: ArrayView2<'a, f64>,
        target: ArrayView1<'a, f64>,
        c: Option<f64>,
        intercept: Option<InterceptTerm>,
    ) -> Self {
        let n = x.nrows().max(1) as f64;
        BinaryLogistic {
            x,
            target,
            l2: c.map_or(0.0, |c| 1.0 / (c * n)),
            intercept,
        }
    }

    /// The number of parameters: features, plus one with an intercept.
    pub fn n_params(&self) -> usize {
        self.x.ncols() + usize::from(self.intercept.is_some())
    }

    /// The objective at `theta`; its gradient goes into `grad`.
    pub fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let p = self.x.ncols();
        let (w, rest) = theta.split_at(p.min(theta.len()));
        let b = rest.first().copied().unwrap_or(0.0);
        let shift = self.intercept.map_or(0.0, |t| t.scale * b);
        let inv_n = 1.0 / self.x.nrows().max(1) as f64;
        let mut z = self.x.dot(&aview1(w));
        let mut loss = 0.0;
        let mut residual_sum = 0.0;
        for (zi, &ti) in z.iter_mut().zip(self.target.iter()) {
            let m = *zi + shift;
            loss += ti * log1pexp(-m) + (1.0 - ti) * log1pexp(m);
            // σ(m) - t, without cancellation when σ(m) is near 1.
            let r = ((1.0 - ti) * sigmoid(m) - ti * sigmoid(-m)) * inv_n;
            residual_sum += r;
            *zi = r;
        }
        let gw = z.view().insert_axis(Axis(0)).dot(&self.x);
        let mut f = loss * inv_n;
        for ((gj, &wj), &v) in grad.iter_mut().zip(w).zip(gw.iter()) {
            *gj = v + self.l2 * wj;
            f += 0.5 * self.l2 * wj * wj;
        }
        if let Some(term) = self.intercept {
            let pen = if term.penalized { self.l2 } else { 0.0 };
            if let Some(gb) = grad.get_mut(p) {
                *gb = term.scale * residual_sum + pen * b;
            }
            f += 0.5 * pen * b * b;
        }
        f
    }
}

/// The multinomial objective `(1/n) Σ [logsumexp(zᵢ) - zᵢ,yᵢ] + ||W||² / (2 C n)`
/// with `zᵢ = W xᵢ + b` over all K classes (the full, symmetric parametrisation;
/// the intercepts are not penalised). Parameters: `W` row-major (K × p), then `b`
/// (K) when there is an intercept.
#[derive(Debug, Clone)]
pub struct MultinomialLogistic<'a> {
    x: ArrayView2<'a, f64>,
    class_of: &'a [usize],
    n_classes: usize,
    l2: f64,
    fit_intercept: bool,
}

impl<'a> MultinomialLogistic<'a> {
    /// The objective on `x` with each sample's class index in `class_of` (below
    /// `n_classes`), inverse penalty strength `c` (None: no penalty).
    pub fn new(
        x: ArrayView2<'a, f64>,
        class_of: &'a [usize],
        n_classes: usize,
        c: Option<f64>,
        fit_intercept: bool,
    ) -> Self {
        let n = x.nrows().max(1) as f64;
        MultinomialLogistic {
            x,
            class_of,
            n_classes,
            l2: c.map_or(0.0, |c| 1.0 / (c * n)),
            fit_intercept,
        }
    }

    /// The number of parameters: `K p`, plus `K` with intercepts.
    pub fn n_params(&self) -> usize {
        self.n_classes * (self.x.ncols() + usize::from(self.fit_intercept))
    }

    /// The objective at `theta`; its gradient goes into `grad`.
    pub fn value_grad(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let p = self.x.ncols();
        let k = self.n_classes;
        let at = |i: usize| theta.get(i).copied().unwrap_or(0.0);
        let w = Array2::from_shape_fn((k, p), |(c, j)| at(c * p + j));
        let intercepts: Vec<f64> = (0..k)
            .map(|c| {
                if self.fit_intercept {
                    at(k * p + c)
                } else {
                    0.0
                }
            })
            .collect();
        let inv_n = 1.0 / self.x.nrows().max(1) as f64;
        let mut z = self.x.dot(&w.t());
        let mut loss = 0.0;
        for (mut row, &yi) in z.rows_mut().into_iter().zip(self.class_of) {
            for (v, b) in row.iter_mut().zip(&intercepts) {
                *v += b;
            }
            let top = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let own = row.get(yi).copied().unwrap_or(top);
            let mut sum = 0.0;
            for v in row.iter_mut() {
                *v = (*v - top).exp();
                sum += *v;
            }
            loss += top + sum.ln() - own;
            for v in row.iter_mut() {
                *v *= inv_n / sum;
            }
            if let Some(v) = row.get_mut(yi) {
                *v -= inv_n;
            }
        }
        let gw = z.t().dot(&self.x);
        let mut f = loss * inv_n;
        let (grad_w, grad_b) = grad.split_at_mut((k * p).min(grad.len()));
        for ((g, &gv), &wv) in grad_w.iter_mut().zip(gw.iter()).zip(w.iter()) {
            *g = gv + self.l2 * wv;
            f += 0.5 * self.l2 * wv * wv;
        }
        if self.fit_intercept {
            for (g, v) in grad_b.iter_mut().zip(z.sum_axis(Axis(0)).iter()) {
                *g = *v;
            }
        }
        f
    }
}
