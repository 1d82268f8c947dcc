//! The L1-penalised binary log-loss: proximal Newton with coordinate descent.

use super::*;
use ndarray::{aview1, Array2, ArrayView1, ArrayView2, Axis};

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
pub(super) fn l1_violation(w: f64, g: f64) -> f64 {
    if w > 0.0 {
        (g + 1.0).abs()
    } else if w < 0.0 {
        (g - 1.0).abs()
    } else {
        (g.abs() - 1.0).max(0.0)
    }
}

/// The change `z` minimising `g z + h z² / 2 + |a + z|` (soft-thresholding).
pub(super) fn l1_newton_step(g: f64, h: f64, a: f64) -> f64 {
    if g + 1.0 <= h * a {
        -(g + 1.0) / h
    } else if g - 1.0 >= h * a {
        -(g - 1.0) / h
    } else {
        -a
    }
}

/// `Σ xᵢ dᵢ vᵢ` with four running sums (so the loop is not one long dependency).
pub(super) fn weighted_dot(x: ArrayView1<'_, f64>, d: &[f64], v: &[f64]) -> f64 {
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
pub(super) fn abs_change(w: f64, d: f64) -> f64 {
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
pub(super) fn l1_change(
    w: &[f64],
    d: &[f64],
    z: &[f64],
    dz: &[f64],
    y: &[f64],
    c: f64,
    step: f64,
) -> f64 {
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
pub(super) fn newton_direction_gram(
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
pub(super) fn newton_direction_direct(
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
