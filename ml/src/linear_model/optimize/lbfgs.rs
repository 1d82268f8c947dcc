//! L-BFGS with a strong-Wolfe line search.

use super::*;
use std::collections::VecDeque;

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
pub(super) struct Pair {
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
pub(super) fn two_loop(history: &VecDeque<Pair>, g: &[f64], out: &mut [f64]) {
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
pub(super) struct Trial {
    step: f64,
    f: f64,
    slope: f64,
}

/// Sufficient decrease and curvature constants of the strong Wolfe conditions.
const WOLFE_C1: f64 = 1e-4;
const WOLFE_C2: f64 = 0.9;

pub(super) struct LineSearch<'a, F> {
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
pub(super) fn interpolate(a: &Trial, b: &Trial) -> f64 {
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
