//! Tests of the solvers.

use super::l1::*;
use super::lbfgs::*;
use super::objectives::*;
use super::*;
use ndarray::{array, aview1, Array1, Array2};

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
        let numeric = (f(&up[..], &mut scratch[..]) - f(&down[..], &mut scratch[..])) / (2.0 * h);
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
