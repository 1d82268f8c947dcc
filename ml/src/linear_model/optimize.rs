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

use ndarray::{aview1, Array2, ArrayView1, ArrayView2, Axis};
use std::collections::VecDeque;

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

// ---------------------------------------------------------------------------
// L-BFGS
// ---------------------------------------------------------------------------

/// Settings of [`lbfgs`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsOptions {
    /// Correction pairs kept (10).
    pub memory: usize,
    /// Iterations (accepted steps) at most.
    pub max_iter: usize,
    /// Converged when the largest absolute gradient entry is at most this.
    pub gtol: f64,
    /// Converged when a step lowers `f` by at most `ftol * max(|f|, |f_new|, 1)`
    /// (SciPy's `factr` test; scikit-learn passes `64 ε`).
    pub ftol: f64,
    /// Objective evaluations per line search at most.
    pub max_line_search: usize,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions {
            memory: 10,
            max_iter: 100,
            gtol: 1e-6,
            ftol: 64.0 * f64::EPSILON,
            max_line_search: 50,
        }
    }
}

/// What [`lbfgs`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsResult {
    /// The last accepted point.
    pub x: Vec<f64>,
    /// The objective there.
    pub f: f64,
    /// The largest absolute gradient entry there.
    pub grad_max: f64,
    /// Accepted steps taken.
    pub n_iter: usize,
    /// Whether the gradient or the decrease test stopped it (not the iteration cap
    /// or a failed line search).
    pub converged: bool,
}

/// One correction pair `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k`, `rho = 1 / s·y`.
struct Pair {
    s: Vec<f64>,
    y: Vec<f64>,
    rho: f64,
}

/// Minimises a smooth function from `x0`. `objective(x, grad)` returns `f(x)` and
/// writes the gradient into `grad` (as long as `x`).
pub fn lbfgs<F>(mut objective: F, x0: Vec<f64>, options: &LbfgsOptions) -> LbfgsResult
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let memory = options.memory.max(1);
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut f = objective(&x[..], &mut g[..]);
    let mut history: VecDeque<Pair> = VecDeque::with_capacity(memory);
    let mut direction = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut n_iter = 0;
    let mut converged = false;

    while f.is_finite() && n_iter < options.max_iter {
        if max_abs(&g) <= options.gtol {
            converged = true;
            break;
        }
        two_loop(&history, &g, &mut direction);
        let mut slope = dot(&g, &direction);
        if !(slope < 0.0) {
            // Not a descent direction (lost curvature information): restart.
            history.clear();
            for (d, gi) in direction.iter_mut().zip(&g) {
                *d = -gi;
            }
            slope = -dot(&g, &g);
        }
        let first = if history.is_empty() {
            (1.0 / dot(&g, &g).sqrt()).min(1.0)
        } else {
            1.0
        };
        let mut search = LineSearch {
            objective: &mut objective,
            x: &x,
            direction: &direction,
            x_new: &mut x_new,
            g_new: &mut g_new,
            last_step: f64::NAN,
            evals: 0,
            max_evals: options.max_line_search.max(2),
        };
        let Some(f_new) = search.run(f, slope, first) else {
            if history.is_empty() {
                break; // even steepest descent found no decrease
            }
            history.clear();
            continue;
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let yy = dot(&y, &y);
        if sy.is_finite() && sy > f64::EPSILON * yy && sy > 0.0 {
            if history.len() == memory {
                history.pop_front();
            }
            history.push_back(Pair {
                s,
                y,
                rho: 1.0 / sy,
            });
        }
        let decrease = f - f_new;
        let scale = f.abs().max(f_new.abs()).max(1.0);
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        f = f_new;
        n_iter += 1;
        if decrease <= options.ftol * scale {
            converged = true;
            break;
        }
    }
    let grad_max = max_abs(&g);
    if grad_max <= options.gtol {
        converged = true;
    }
    LbfgsResult {
        x,
        f,
        grad_max,
        n_iter,
        converged,
    }
}

/// The quasi-Newton direction `-H g` from the stored pairs (two-loop recursion),
/// written into `out`.
fn two_loop(history: &VecDeque<Pair>, g: &[f64], out: &mut [f64]) {
    out.copy_from_slice(g);
    let mut alphas = vec![0.0; history.len()];
    for (pair, alpha) in history.iter().zip(alphas.iter_mut()).rev() {
        *alpha = pair.rho * dot(&pair.s, out);
        axpy(-*alpha, &pair.y, out);
    }
    if let Some(last) = history.back() {
        let yy = dot(&last.y, &last.y);
        if yy > 0.0 {
            let gamma = 1.0 / (last.rho * yy);
            out.iter_mut().for_each(|v| *v *= gamma);
        }
    }
    for (pair, alpha) in history.iter().zip(&alphas) {
        let beta = pair.rho * dot(&pair.y, out);
        axpy(alpha - beta, &pair.s, out);
    }
    out.iter_mut().for_each(|v| *v = -*v);
}

/// A point of the line `x + step * direction`: the objective and its slope.
#[derive(Debug, Clone, Copy)]
struct Trial {
    step: f64,
    f: f64,
    slope: f64,
}

/// Sufficient decrease and curvature constants of the strong Wolfe conditions.
const WOLFE_C1: f64 = 1e-4;
const WOLFE_C2: f64 = 0.9;

struct LineSearch<'a, F> {
    objective: &'a mut F,
    x: &'a [f64],
    direction: &'a [f64],
    x_new: &'a mut [f64],
    g_new: &'a mut [f64],
    /// The step whose point `x_new`, `g_new` hold.
    last_step: f64,
    evals: usize,
    max_evals: usize,
}

impl<F: FnMut(&[f64], &mut [f64]) -> f64> LineSearch<'_, F> {
    fn evaluate(&mut self, step: f64) -> Trial {
        for ((xn, xi), di) in self.x_new.iter_mut().zip(self.x).zip(self.direction) {
            *xn = xi + step * di;
        }
        let f = (*self.objective)(&*self.x_new, &mut *self.g_new);
        self.evals += 1;
        self.last_step = step;
        Trial {
            step,
            f,
            slope: dot(&*self.g_new, self.direction),
        }
    }

    /// Whether `t` fails the sufficient decrease condition (or is not finite).
    fn too_high(t: &Trial, f0: f64, slope0: f64) -> bool {
        !t.f.is_finite() || t.f > f0 + WOLFE_C1 * t.step * slope0
    }

    /// A step meeting the strong Wolfe conditions (or, when evaluations run out, the
    /// best step with sufficient decrease), leaving its point in `x_new`, `g_new`;
    /// its objective, or None when no step lowered the objective.
    fn run(&mut self, f0: f64, slope0: f64, first: f64) -> Option<f64> {
        let origin = Trial {
            step: 0.0,
            f: f0,
            slope: slope0,
        };
        let mut prev = origin;
        let mut step = first;
        loop {
            if self.evals >= self.max_evals {
                return self.accept(prev);
            }
            let t = self.evaluate(step);
            if Self::too_high(&t, f0, slope0) || (prev.step > 0.0 && t.f >= prev.f) {
                return self.zoom(prev, t, f0, slope0);
            }
            if t.slope.abs() <= -WOLFE_C2 * slope0 {
                return Some(t.f);
            }
            if t.slope >= 0.0 {
                return self.zoom(t, prev, f0, slope0);
            }
            prev = t;
            step *= 2.0;
        }
    }

    /// Narrows `[lo, hi]` (lo: sufficient decrease and the lowest value so far; the
    /// minimiser lies between) until a point meets the curvature condition.
    fn zoom(&mut self, mut lo: Trial, mut hi: Trial, f0: f64, slope0: f64) -> Option<f64> {
        while self.evals < self.max_evals {
            let width = (hi.step - lo.step).abs();
            if width <= 1e-14 * lo.step.abs().max(hi.step.abs()) {
                break;
            }
            let step = interpolate(&lo, &hi);
            let t = self.evaluate(step);
            if Self::too_high(&t, f0, slope0) || t.f >= lo.f {
                hi = t;
            } else {
                if t.slope.abs() <= -WOLFE_C2 * slope0 {
                    return Some(t.f);
                }
                if t.slope * (hi.step - lo.step) >= 0.0 {
                    hi = lo;
                }
                lo = t;
            }
        }
        self.accept(lo)
    }

    /// Settles on `t` when it moved and lowered the objective.
    fn accept(&mut self, t: Trial) -> Option<f64> {
        if t.step <= 0.0 || !t.f.is_finite() {
            return None;
        }
        if self.last_step != t.step {
            let again = self.evaluate(t.step);
            return again.f.is_finite().then_some(again.f);
        }
        Some(t.f)
    }
}

/// The minimiser of the cubic through `a` and `b` (values and slopes), kept inside
/// the middle 80% of the interval; the midpoint when the cubic has none there.
fn interpolate(a: &Trial, b: &Trial) -> f64 {
    let (low, high) = (a.step.min(b.step), a.step.max(b.step));
    let mid = 0.5 * (low + high);
    let margin = 0.1 * (high - low);
    if !(a.f.is_finite() && b.f.is_finite() && a.slope.is_finite() && b.slope.is_finite()) {
        return mid;
    }
    let d1 = a.slope + b.slope - 3.0 * (a.f - b.f) / (a.step - b.step);
    let disc = d1 * d1 - a.slope * b.slope;
    if !(disc >= 0.0) {
        return mid;
    }
    let d2 = (b.step - a.step).signum() * disc.sqrt();
    let denom = b.slope - a.slope + 2.0 * d2;
    if denom == 0.0 {
        return mid;
    }
    let m = b.step - (b.step - a.step) * (b.slope + d2 - d1) / denom;
    if m.is_finite() && m >= low + margin && m <= high - margin {
        m
    } else {
        mid
    }
}

// ---------------------------------------------------------------------------
// Smooth objectives
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// L1-penalised binary log-loss: proximal Newton with coordinate descent
// ---------------------------------------------------------------------------

/// Settings of [`l1_logistic`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L1Options {
    /// Newton (outer) steps at most.
    pub max_outer: usize,
    /// Converged when the summed violation of the optimality conditions is at most
    /// `tol` times its value at `w = 0`.
    pub tol: f64,
}

impl Default for L1Options {
    fn default() -> Self {
        L1Options {
            max_outer: 100,
            tol: 1e-6,
        }
    }
}

/// What [`l1_logistic`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct L1Result {
    /// The weights, one per row of `xt`.
    pub w: Vec<f64>,
    /// Newton steps taken.
    pub n_iter: usize,
    /// Whether the optimality test stopped it.
    pub converged: bool,
}

/// Damping added to the model's curvature along each coordinate (liblinear's ν).
const NU: f64 = 1e-12;
/// Armijo constant of the backtracking on the full objective.
const ARMIJO: f64 = 0.01;
/// Halvings of the step at most.
const MAX_BACKTRACK: usize = 40;
/// Coordinate-descent sweeps per Newton step at most, with the Hessian formed
/// (sweeps are cheap) and applied through a running vector `X d` (sweeps cost a
/// pass over the data).
const GRAM_SWEEPS: usize = 1000;
const DIRECT_SWEEPS: usize = 200;
/// The inner solve stops when its violation drops to this fraction of the outer one.
const INNER_FRACTION: f64 = 0.1;

/// How far `w_j` is from optimal for `|w_j| + (the smooth part)` with partial
/// derivative `g`: the size of the smallest subgradient.
fn l1_violation(w: f64, g: f64) -> f64 {
    if w > 0.0 {
        (g + 1.0).abs()
    } else if w < 0.0 {
        (g - 1.0).abs()
    } else {
        (g.abs() - 1.0).max(0.0)
    }
}

/// The change `z` minimising `g z + h z² / 2 + |a + z|` (soft-thresholding).
fn l1_newton_step(g: f64, h: f64, a: f64) -> f64 {
    if g + 1.0 <= h * a {
        -(g + 1.0) / h
    } else if g - 1.0 >= h * a {
        -(g - 1.0) / h
    } else {
        -a
    }
}

/// `Σ xᵢ dᵢ vᵢ` with four running sums (so the loop is not one long dependency).
fn weighted_dot(x: ArrayView1<'_, f64>, d: &[f64], v: &[f64]) -> f64 {
    let Some(xs) = x.as_slice() else {
        return x.iter().zip(d).zip(v).map(|((a, b), c)| a * b * c).sum();
    };
    let mut acc = [0.0; 4];
    let mut xc = xs.chunks_exact(4);
    let mut dc = d.chunks_exact(4);
    let mut vc = v.chunks_exact(4);
    for ((a, b), c) in (&mut xc).zip(&mut dc).zip(&mut vc) {
        for (((s, a), b), c) in acc.iter_mut().zip(a).zip(b).zip(c) {
            *s += a * b * c;
        }
    }
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(dc.remainder())
        .zip(vc.remainder())
        .map(|((a, b), c)| a * b * c)
        .sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `|w + d| - |w|`, exact when `w + d` keeps the sign of `w` (so tiny steps near
/// the optimum are not lost to rounding).
fn abs_change(w: f64, d: f64) -> f64 {
    let moved = w + d;
    if (w > 0.0 && moved >= 0.0) || (w < 0.0 && moved <= 0.0) {
        w.signum() * d
    } else {
        moved.abs() - w.abs()
    }
}

/// `F(w + step · d) - F(w)` for `F = ||w||₁ + c Σ ln(1 + exp(-yᵢ zᵢ))`, `dz = X d`,
/// summed as differences: `ln(1 + e^{b+δ}) - ln(1 + e^b) = ln(1 + σ(b) (e^δ - 1))`
/// keeps its precision when the change is far below the objective's size.
fn l1_change(w: &[f64], d: &[f64], z: &[f64], dz: &[f64], y: &[f64], c: f64, step: f64) -> f64 {
    let norm: f64 = w
        .iter()
        .zip(d)
        .map(|(&a, &b)| abs_change(a, step * b))
        .sum();
    let loss: f64 = z
        .iter()
        .zip(dz)
        .zip(y)
        .map(|((&zi, &dzi), &yi)| (sigmoid(-yi * zi) * (-yi * step * dzi).exp_m1()).ln_1p())
        .sum();
    norm + c * loss
}

/// Minimises `||w||₁ + c Σᵢ ln(1 + exp(-yᵢ w·xᵢ))`, where `xt` holds the samples in
/// its columns (features in rows, so each feature is contiguous) and `y` is ±1.
/// A constant row in `xt` gives a penalised intercept, as liblinear's.
pub fn l1_logistic(
    xt: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    c: f64,
    options: &L1Options,
) -> L1Result {
    let xt = xt.as_standard_layout();
    let (p, n) = xt.dim();
    let y: Vec<f64> = y.to_vec();
    let mut w = vec![0.0; p];
    let mut z = vec![0.0; n];
    let mut r = vec![0.0; n];
    let mut curv = vec![0.0; n];
    let mut initial: Option<f64> = None;
    let mut n_iter = 0;
    let mut converged = false;

    loop {
        // Derivatives of c Σ loss at the margins z.
        for (((ri, di), &zi), &yi) in r.iter_mut().zip(curv.iter_mut()).zip(&z).zip(&y) {
            let t = yi * zi;
            let miss = sigmoid(-t);
            *ri = -c * yi * miss;
            *di = c * sigmoid(t) * miss;
        }
        let g = xt.dot(&aview1(&r[..])).to_vec();
        let violations: Vec<f64> = w
            .iter()
            .zip(&g)
            .map(|(&wj, &gj)| l1_violation(wj, gj))
            .collect();
        let total: f64 = violations.iter().sum();
        let worst = max_abs(&violations);
        if !total.is_finite() {
            break;
        }
        let reference = *initial.get_or_insert(total);
        if total <= options.tol * reference {
            converged = true;
            break;
        }
        if n_iter >= options.max_outer {
            break;
        }
        n_iter += 1;

        // Coordinates at zero whose gradient is well inside [-1, 1] sit out.
        let margin = (worst / n.max(1) as f64).min(1.0);
        let active: Vec<usize> = (0..p)
            .filter(|&j| w[j] != 0.0 || g[j].abs() > 1.0 - margin)
            .collect();
        let inner_tol = INNER_FRACTION * total;
        let mut d = vec![0.0; p];
        let dz = if active.len() * 4 <= n && active.len() <= 1024 {
            newton_direction_gram(&xt.view(), &active, &curv, &g, &w, &mut d, inner_tol)
        } else {
            newton_direction_direct(&xt.view(), &active, &curv, &g, &w, &mut d, inner_tol)
        };

        // Backtracking on the full objective.
        let delta: f64 = active
            .iter()
            .map(|&j| g[j] * d[j] + abs_change(w[j], d[j]))
            .sum();
        if !(delta < 0.0) {
            break; // no descent left at the working precision
        }
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..MAX_BACKTRACK {
            let change = l1_change(&w, &d, &z, &dz, &y, c, step);
            if change.is_finite() && change <= ARMIJO * step * delta {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
        axpy(step, &d, &mut w);
        // Exact margins again, so rounding does not pile up over the steps.
        let exact = aview1(&w[..]).insert_axis(Axis(0)).dot(&xt);
        for (zi, v) in z.iter_mut().zip(exact.iter()) {
            *zi = *v;
        }
    }
    L1Result {
        w,
        n_iter,
        converged,
    }
}

/// The Newton direction (into `d`) by coordinate descent on the active
/// coordinates with their Hessian `X_A' D X_A` formed once; returns `X d`.
fn newton_direction_gram(
    xt: &ArrayView2<'_, f64>,
    active: &[usize],
    curv: &[f64],
    g: &[f64],
    w: &[f64],
    d: &mut [f64],
    inner_tol: f64,
) -> Vec<f64> {
    let n = xt.ncols();
    let a = active.len();
    let root: Vec<f64> = curv.iter().map(|v| v.max(0.0).sqrt()).collect();
    let mut scaled = Array2::<f64>::zeros((a, n));
    for (mut row, &j) in scaled.rows_mut().into_iter().zip(active) {
        for ((o, &x), &s) in row.iter_mut().zip(xt.row(j).iter()).zip(&root) {
            *o = x * s;
        }
    }
    let hessian = scaled.dot(&scaled.t());
    let mut hd = vec![0.0; a];
    for _ in 0..GRAM_SWEEPS {
        let mut inner = 0.0;
        for (k, &j) in active.iter().enumerate() {
            let gj = g[j] + hd[k];
            let h = hessian[[k, k]] + NU;
            let here = w[j] + d[j];
            inner += l1_violation(here, gj);
            let step = l1_newton_step(gj, h, here);
            if step != 0.0 {
                d[j] += step;
                for (v, hk) in hd.iter_mut().zip(hessian.row(k).iter()) {
                    *v += step * hk;
                }
            }
        }
        if inner <= inner_tol {
            break;
        }
    }
    let dz = aview1(&*d).insert_axis(Axis(0)).dot(xt);
    dz.iter().copied().collect()
}

/// The Newton direction (into `d`) by coordinate descent on the active
/// coordinates, applying the Hessian through a running `X d`; returns `X d`.
fn newton_direction_direct(
    xt: &ArrayView2<'_, f64>,
    active: &[usize],
    curv: &[f64],
    g: &[f64],
    w: &[f64],
    d: &mut [f64],
    inner_tol: f64,
) -> Vec<f64> {
    let n = xt.ncols();
    let mut dz = vec![0.0; n];
    let diag: Vec<f64> = active
        .iter()
        .map(|&j| {
            xt.row(j)
                .iter()
                .zip(curv)
                .map(|(x, c)| x * x * c)
                .sum::<f64>()
                + NU
        })
        .collect();
    for _ in 0..DIRECT_SWEEPS {
        let mut inner = 0.0;
        for (&j, &h) in active.iter().zip(&diag) {
            let row = xt.row(j);
            let gj = g[j] + weighted_dot(row, curv, &dz);
            let here = w[j] + d[j];
            inner += l1_violation(here, gj);
            let step = l1_newton_step(gj, h, here);
            if step != 0.0 {
                d[j] += step;
                for (v, x) in dz.iter_mut().zip(row.iter()) {
                    *v += step * x;
                }
            }
        }
        if inner <= inner_tol {
            break;
        }
    }
    dz
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn sigmoid_and_log1pexp_hold_at_the_extremes() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(800.0) - 1.0).abs() < 1e-300);
        assert!(sigmoid(-800.0) >= 0.0 && sigmoid(-800.0) < 1e-300);
        assert!((log1pexp(0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(log1pexp(1000.0), 1000.0);
        assert!((log1pexp(-40.0) - (-40f64).exp()).abs() < 1e-30);
    }

    #[test]
    fn lbfgs_finds_the_minimum_of_rosenbrock() {
        let rosen = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let options = LbfgsOptions {
            max_iter: 200,
            gtol: 1e-9,
            ..LbfgsOptions::default()
        };
        let r = lbfgs(rosen, vec![-1.2, 1.0], &options);
        assert!(r.converged, "{r:?}");
        assert!(
            (r.x[0] - 1.0).abs() < 1e-6 && (r.x[1] - 1.0).abs() < 1e-6,
            "{r:?}"
        );
    }

    #[test]
    fn lbfgs_solves_a_quadratic() {
        // f = (x - 3)² + 10 (y + 1)², minimum at (3, -1).
        let quad = |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * (x[0] - 3.0);
            g[1] = 20.0 * (x[1] + 1.0);
            (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2)
        };
        let r = lbfgs(quad, vec![0.0, 0.0], &LbfgsOptions::default());
        assert!(
            (r.x[0] - 3.0).abs() < 1e-6 && (r.x[1] + 1.0).abs() < 1e-6,
            "{r:?}"
        );
    }

    fn finite_difference_check(f: &dyn Fn(&[f64], &mut [f64]) -> f64, theta: &[f64]) {
        let mut g = vec![0.0; theta.len()];
        f(theta, &mut g[..]);
        let mut scratch = vec![0.0; theta.len()];
        for i in 0..theta.len() {
            let h = 1e-6;
            let mut up = theta.to_vec();
            up[i] += h;
            let mut down = theta.to_vec();
            down[i] -= h;
            let numeric =
                (f(&up[..], &mut scratch[..]) - f(&down[..], &mut scratch[..])) / (2.0 * h);
            assert!(
                (numeric - g[i]).abs() < 1e-7,
                "parameter {i}: {numeric} vs {}",
                g[i]
            );
        }
    }

    #[test]
    fn the_binary_gradient_matches_finite_differences() {
        let x = array![[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0], [2.0, 1.0]];
        let t = array![1.0, 0.0, 0.0, 1.0];
        for penalized in [false, true] {
            let term = InterceptTerm {
                scale: 2.5,
                penalized,
            };
            let obj = BinaryLogistic::new(x.view(), t.view(), Some(0.7), Some(term));
            assert_eq!(obj.n_params(), 3);
            finite_difference_check(
                &|th: &[f64], g: &mut [f64]| obj.value_grad(th, g),
                &[0.3, -0.8, 0.4],
            );
        }
        let obj = BinaryLogistic::new(x.view(), t.view(), None, None);
        finite_difference_check(
            &|th: &[f64], g: &mut [f64]| obj.value_grad(th, g),
            &[0.3, -0.8],
        );
    }

    #[test]
    fn the_binary_objective_at_zero_is_ln_2() {
        let x = array![[1.0], [2.0]];
        let t = array![0.0, 1.0];
        let obj = BinaryLogistic::new(x.view(), t.view(), Some(1.0), None);
        let mut g = [0.0];
        let f = obj.value_grad(&[0.0], &mut g);
        assert!((f - 2f64.ln()).abs() < 1e-15);
        // (1/n) Σ (σ(0) - t) x = (0.5·1 - 0.5·2) / 2 = -0.25.
        assert!((g[0] + 0.25).abs() < 1e-15);
    }

    #[test]
    fn the_multinomial_gradient_matches_finite_differences() {
        let x = array![[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0], [2.0, 1.0], [0.0, 0.0]];
        let classes = [0usize, 1, 2, 1, 0];
        let obj = MultinomialLogistic::new(x.view(), &classes, 3, Some(0.5), true);
        assert_eq!(obj.n_params(), 9);
        let theta: Vec<f64> = (0..9).map(|i| 0.1 * i as f64 - 0.4).collect();
        finite_difference_check(&|th: &[f64], g: &mut [f64]| obj.value_grad(th, g), &theta);
        // At zero every class has probability 1/3: the loss is ln 3.
        let mut g = vec![0.0; 9];
        assert!((obj.value_grad(&[0.0; 9], &mut g) - 3f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn soft_thresholding_stops_at_zero_inside_the_band() {
        // g z + z²/2 + |1 + z| with g = 0.5: zero crossing is optimal (|g| < 1 at -1).
        assert_eq!(l1_newton_step(0.5, 1.0, 1.0), -1.0);
        // g = -3: moves right by (3 - 1) / 1 = 2.
        assert_eq!(l1_newton_step(-3.0, 1.0, 0.0), 2.0);
        assert_eq!(l1_violation(0.0, 0.5), 0.0);
        assert_eq!(l1_violation(2.0, -1.0), 0.0);
        assert_eq!(abs_change(2.0, -0.5), -0.5);
        assert_eq!(abs_change(0.5, -2.0), 1.0);
        assert_eq!(abs_change(0.0, -2.0), 2.0);
    }

    /// Checks `0 ∈ c ∇loss(w) + ∂||w||₁` coordinate by coordinate.
    fn assert_l1_optimal(xt: &Array2<f64>, y: &Array1<f64>, c: f64, w: &[f64]) {
        let z: Array1<f64> = aview1(w).dot(xt);
        for (j, &wj) in w.iter().enumerate() {
            let g: f64 = (0..y.len())
                .map(|i| -c * y[i] * sigmoid(-y[i] * z[i]) * xt[[j, i]])
                .sum();
            assert!(l1_violation(wj, g) < 1e-6, "feature {j}: w {wj}, g {g}");
        }
    }

    #[test]
    fn l1_meets_its_optimality_conditions() {
        // Features in rows; the last row is a constant 1 (a penalised intercept).
        // Few samples per coordinate: the Hessian is applied through X d.
        let xt = array![
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 1.5, 3.5],
            [1.0, -1.0, 0.5, 0.0, 2.0, -0.5, 0.3, 0.1],
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
        ];
        let y = array![-1.0, -1.0, 1.0, -1.0, 1.0, 1.0, 1.0, -1.0];
        let c = 3.0;
        let r = l1_logistic(
            xt.view(),
            y.view(),
            c,
            &L1Options {
                max_outer: 100,
                tol: 1e-10,
            },
        );
        assert!(r.converged, "{r:?}");
        assert_l1_optimal(&xt, &y, c, &r.w);
        assert!(r.w.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn l1_with_many_samples_meets_its_optimality_conditions() {
        // Many samples per coordinate: the Hessian is formed. A pure-noise feature
        // (row 2, |x| <= 1e-4) has |C Σ rᵢ xᵢ| < 1 for every C here: it stays at zero.
        let n = 60;
        let xt = Array2::from_shape_fn((4, n), |(j, i)| {
            let i = i as f64;
            match j {
                0 => 3.0 * (0.37 * i).sin(),
                1 => 2.0 * (0.71 * i).cos(),
                2 => 1e-4 * (1.9 * i).sin(),
                _ => 1.0,
            }
        });
        let y = Array1::from_shape_fn(n, |i| {
            let score = xt[[0, i]] + 0.5 * xt[[1, i]] + (1.3 * i as f64).sin();
            if score > 0.0 {
                1.0
            } else {
                -1.0
            }
        });
        for c in [0.05, 1.0, 100.0] {
            let r = l1_logistic(
                xt.view(),
                y.view(),
                c,
                &L1Options {
                    max_outer: 100,
                    tol: 1e-10,
                },
            );
            assert!(r.converged, "C = {c}: {r:?}");
            assert_l1_optimal(&xt, &y, c, &r.w);
            assert_eq!(r.w[2], 0.0, "C = {c}: {r:?}");
        }
    }

    #[test]
    fn l1_with_a_tiny_c_keeps_every_weight_at_zero() {
        let xt = array![[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]];
        let y = array![-1.0, -1.0, 1.0, 1.0];
        let r = l1_logistic(xt.view(), y.view(), 1e-3, &L1Options::default());
        assert_eq!(r.w, vec![0.0, 0.0]);
        assert!(r.converged);
        assert_eq!(r.n_iter, 0);
    }
}
