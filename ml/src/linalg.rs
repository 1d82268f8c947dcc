//! Dense linear algebra for the estimators: a thin bridge from ndarray to
//! [faer](https://docs.rs/faer).
//!
//! Why faer: it is pure Rust, so workers need no system BLAS or LAPACK installed;
//! its matrix product is competitive with OpenBLAS on one core; and it has
//! divide-and-conquer solvers for the symmetric eigendecomposition and the SVD.
//! The alternatives do not fit this workspace: linfa's crates pin ndarray 0.16 (the
//! workspace is on 0.17), and `ndarray-linalg` needs a system LAPACK.
//!
//! An ndarray view crosses to faer as a [`MatRef`] over the same memory with the
//! same strides (row-major, column-major, transposed or sliced: any strides), so
//! nothing is copied on the way in; results come back as owned ndarray arrays.
//! Every call runs sequentially (`Par::Seq`): parallelism belongs to the task
//! graph, which already runs one fit per core.
//!
//! What is here: `gram` (XᵀX), `matmul`, `eigh_descending` (symmetric
//! eigendecomposition, largest first), `thin_svd`, `solve_spd` (Cholesky), `lstsq`
//! (minimum-norm least squares by SVD with LAPACK `gelsd`'s cutoff) and
//! `orthonormal_basis` (the thin Q of a Householder QR).

use crate::error::{Error, Result};
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::linalg::{evd, svd};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};

/// The parallelism of every faer call: sequential.
const PAR: Par = Par::Seq;

/// `x` as a faer view of the same memory (any strides, no copy).
pub(crate) fn to_faer<'a>(x: ArrayView2<'a, f64>) -> MatRef<'a, f64> {
    let (nrows, ncols) = x.dim();
    let row_stride = x.stride_of(Axis(0));
    let col_stride = x.stride_of(Axis(1));
    // SAFETY: the pointer, shape and strides are those of a live ndarray view that
    // borrows its data for 'a: every element the faer view can address lies in that
    // view's allocation, is initialised, and is not written while the shared borrow
    // lasts. ndarray's pointer is never null, even for an empty array.
    unsafe { MatRef::from_raw_parts(x.as_ptr(), nrows, ncols, row_stride, col_stride) }
}

/// `x` as a mutable faer view of the same memory (any strides, no copy).
fn to_faer_mut<'a>(mut x: ArrayViewMut2<'a, f64>) -> MatMut<'a, f64> {
    let (nrows, ncols) = x.dim();
    let row_stride = x.stride_of(Axis(0));
    let col_stride = x.stride_of(Axis(1));
    let ptr = x.as_mut_ptr();
    // SAFETY: as in `to_faer`; the view is consumed, so the faer view is the only
    // access to these elements for 'a, and a mutable ndarray view never aliases
    // two of its elements.
    unsafe { MatMut::from_raw_parts_mut(ptr, nrows, ncols, row_stride, col_stride) }
}

/// A faer matrix copied into an ndarray array (row-major).
pub(crate) fn from_faer(m: MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// `a · b` by faer's matrix product.
///
/// Panics when `a.ncols() != b.nrows()`: callers check shapes first (a mismatch
/// is a bug here, never bad user input).
pub(crate) fn matmul(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((a.nrows(), b.ncols()));
    faer::linalg::matmul::matmul(
        to_faer_mut(out.view_mut()),
        Accum::Replace,
        to_faer(a),
        to_faer(b),
        1.0,
        PAR,
    );
    out
}

/// The Gram matrix `xᵀx` (`ncols × ncols`), exactly symmetric.
pub(crate) fn gram(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let p = x.ncols();
    let xf = to_faer(x);
    let mut out = Array2::<f64>::zeros((p, p));
    faer::linalg::matmul::matmul(
        to_faer_mut(out.view_mut()),
        Accum::Replace,
        xf.transpose(),
        xf,
        1.0,
        PAR,
    );
    // The two triangles are summed in different orders: make them agree bit for bit.
    for i in 0..p {
        for j in 0..i {
            let v = 0.5 * (out[[i, j]] + out[[j, i]]);
            out[[i, j]] = v;
            out[[j, i]] = v;
        }
    }
    out
}

/// The eigendecomposition of the symmetric matrix `a` (its lower triangle is read):
/// eigenvalues in descending order, and the matching unit eigenvectors as columns.
pub(crate) fn eigh_descending(a: ArrayView2<'_, f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    const WHAT: &str = "symmetric eigendecomposition";
    let n = a.nrows();
    if a.ncols() != n {
        return Err(Error::numerical(
            WHAT,
            format!("the matrix is {n}×{}, not square", a.ncols()),
        ));
    }
    let mut s: Diag<f64> = Diag::zeros(n);
    let mut u: Mat<f64> = Mat::zeros(n, n);
    if n > 0 {
        let mut buf = MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
            n,
            evd::ComputeEigenvectors::Yes,
            PAR,
            Default::default(),
        ));
        evd::self_adjoint_evd(
            to_faer(a),
            s.as_mut(),
            Some(u.as_mut()),
            PAR,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .map_err(|e| Error::numerical(WHAT, format!("{e:?}")))?;
    }
    // faer sorts ascending: reverse the values and the columns.
    let ascending: Vec<f64> = s.column_vector().iter().copied().collect();
    let values = Array1::from_iter(ascending.into_iter().rev());
    let vectors = Array2::from_shape_fn((n, n), |(i, j)| u[(i, n - 1 - j)]);
    Ok((values, vectors))
}

/// The thin SVD as faer matrices: `U` (`m × r`), the `r` singular values in
/// descending order, `V` (`n × r`), with `r = min(m, n)`.
fn svd_faer(x: ArrayView2<'_, f64>) -> Result<(Mat<f64>, Vec<f64>, Mat<f64>)> {
    let (m, n) = x.dim();
    let r = m.min(n);
    let mut u: Mat<f64> = Mat::zeros(m, r);
    let mut v: Mat<f64> = Mat::zeros(n, r);
    let mut s: Diag<f64> = Diag::zeros(r);
    if r > 0 {
        let mut buf = MemBuffer::new(svd::svd_scratch::<f64>(
            m,
            n,
            svd::ComputeSvdVectors::Thin,
            svd::ComputeSvdVectors::Thin,
            PAR,
            Default::default(),
        ));
        svd::svd(
            to_faer(x),
            s.as_mut(),
            Some(u.as_mut()),
            Some(v.as_mut()),
            PAR,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .map_err(|e| Error::numerical("singular value decomposition", format!("{e:?}")))?;
    }
    let values: Vec<f64> = s.column_vector().iter().copied().collect();
    Ok((u, values, v))
}

/// The thin SVD `x = U · diag(s) · Vt`: `U` is `m × r`, `s` the `r = min(m, n)`
/// singular values in descending order, `Vt` is `r × n`.
pub(crate) fn thin_svd(x: ArrayView2<'_, f64>) -> Result<(Array2<f64>, Array1<f64>, Array2<f64>)> {
    let (u, s, v) = svd_faer(x)?;
    Ok((
        from_faer(u.as_ref()),
        Array1::from(s),
        from_faer(v.transpose()),
    ))
}

/// Solves `a · w = b` for a symmetric positive definite `a` (its lower triangle is
/// read) by a Cholesky factorisation; an error when `a` is not positive definite.
pub(crate) fn solve_spd(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    const WHAT: &str = "Cholesky solve";
    let n = a.nrows();
    if a.ncols() != n || b.nrows() != n {
        return Err(Error::numerical(
            WHAT,
            format!(
                "the matrix is {n}×{} and the right-hand side has {} rows",
                a.ncols(),
                b.nrows()
            ),
        ));
    }
    if n == 0 {
        return Ok(Array2::zeros((0, b.ncols())));
    }
    let af = to_faer(a);
    let mut l: Mat<f64> = Mat::from_fn(n, n, |i, j| if i >= j { af[(i, j)] } else { 0.0 });
    let mut buf = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<f64>(
        n,
        PAR,
        Default::default(),
    ));
    llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        PAR,
        MemStack::new(&mut buf),
        Default::default(),
    )
    .map_err(|e| {
        #[allow(unreachable_patterns)]
        let detail = match e {
            llt::factor::LltError::NonPositivePivot { index } => {
                format!("pivot {index} is not positive")
            }
            other => format!("{other:?}"),
        };
        Error::numerical(
            "Cholesky factorisation",
            format!("the matrix is not positive definite ({detail})"),
        )
    })?;
    let mut rhs: Mat<f64> = to_faer(b).to_owned();
    let mut buf = MemBuffer::new(llt::solve::solve_in_place_scratch::<f64>(
        n,
        rhs.ncols(),
        PAR,
    ));
    llt::solve::solve_in_place(l.as_ref(), rhs.as_mut(), PAR, MemStack::new(&mut buf));
    Ok(from_faer(rhs.as_ref()))
}

/// The minimum-norm least-squares solution `w` of `x · w ≈ y` (`x` is `n × p`, `y`
/// is `n × k`, `w` is `p × k`), by SVD. As LAPACK's `gelsd` does, singular values
/// at most `max(n, p) · ε · s_max` count as zero, so a rank-deficient `x` gives the
/// solution of least norm rather than noise.
pub(crate) fn lstsq(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let (n, p) = x.dim();
    let k = y.ncols();
    if y.nrows() != n {
        return Err(Error::numerical(
            "least squares",
            format!("X has {n} rows and y has {}", y.nrows()),
        ));
    }
    let mut w = Array2::<f64>::zeros((p, k));
    if n == 0 || p == 0 || k == 0 {
        return Ok(w);
    }
    let (u, s, v) = svd_faer(x)?;
    let s_max = s.first().copied().unwrap_or(0.0);
    let cutoff = n.max(p) as f64 * f64::EPSILON * s_max;
    // c = diag(1/s) · Uᵀ · y, with the small singular values dropped.
    let mut c: Mat<f64> = Mat::zeros(s.len(), k);
    faer::linalg::matmul::matmul(
        c.as_mut(),
        Accum::Replace,
        u.transpose(),
        to_faer(y),
        1.0,
        PAR,
    );
    for (i, &si) in s.iter().enumerate() {
        let inv = if si > cutoff { 1.0 / si } else { 0.0 };
        for j in 0..k {
            c[(i, j)] *= inv;
        }
    }
    faer::linalg::matmul::matmul(
        to_faer_mut(w.view_mut()),
        Accum::Replace,
        v.as_ref(),
        c.as_ref(),
        1.0,
        PAR,
    );
    Ok(w)
}

/// An orthonormal basis of the column space of `y` (`m × n`, `m ≥ n`): the first
/// `n` columns of `Q` of its Householder QR (`m × min(m, n)`).
///
/// faer's `Qr` runs with faer's global parallelism, which is sequential because
/// the crate is built without its `rayon` feature.
pub(crate) fn orthonormal_basis(y: ArrayView2<'_, f64>) -> Array2<f64> {
    let (m, n) = y.dim();
    if m == 0 || n == 0 {
        return Array2::zeros((m, m.min(n)));
    }
    let q = to_faer(y).qr().compute_thin_Q();
    from_faer(q.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-10
    }

    fn all_close(a: &Array2<f64>, b: &Array2<f64>) -> bool {
        a.dim() == b.dim() && a.iter().zip(b.iter()).all(|(x, y)| close(*x, *y))
    }

    #[test]
    fn a_transposed_view_crosses_to_faer_without_copying() {
        let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let t = x.t();
        let m = to_faer(t);
        assert_eq!((m.nrows(), m.ncols()), (3, 2));
        assert_eq!(m[(2, 1)], 6.0);
        assert_eq!(m[(0, 1)], 4.0);
        assert_eq!(from_faer(m), t.to_owned());
    }

    #[test]
    fn the_gram_matrix_of_two_columns_is_hand_computed() {
        let x = array![[1.0, 2.0], [3.0, 4.0]];
        assert_eq!(gram(x.view()), array![[10.0, 14.0], [14.0, 20.0]]);
    }

    #[test]
    fn matmul_agrees_with_ndarray_on_strided_views() {
        let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let b = array![[1.0, 0.0, 2.0], [-1.0, 1.0, 0.5]];
        assert!(all_close(&matmul(a.view(), b.view()), &a.dot(&b)));
        // aᵀ · a through a transposed view.
        assert!(all_close(&matmul(a.t(), a.view()), &a.t().dot(&a)));
    }

    #[test]
    fn eigenvalues_come_largest_first_with_their_vectors() {
        let a = array![[2.0, 1.0], [1.0, 2.0]];
        let (values, vectors) = eigh_descending(a.view()).unwrap();
        assert!(close(values[0], 3.0) && close(values[1], 1.0));
        let h = std::f64::consts::FRAC_1_SQRT_2;
        // (1, 1)/√2 for 3 and (1, -1)/√2 for 1, up to sign.
        assert!(close(vectors[[0, 0]].abs(), h) && close(vectors[[0, 0]], vectors[[1, 0]]));
        assert!(close(vectors[[0, 1]].abs(), h) && close(vectors[[0, 1]], -vectors[[1, 1]]));
    }

    #[test]
    fn a_non_square_matrix_has_no_eigendecomposition() {
        let e = eigh_descending(array![[1.0, 2.0]].view()).unwrap_err();
        assert!(e.to_string().contains("not square"), "{e}");
    }

    #[test]
    fn the_thin_svd_reconstructs_its_matrix() {
        let x = array![[3.0, 0.0], [0.0, -2.0], [0.0, 0.0]];
        let (u, s, vt) = thin_svd(x.view()).unwrap();
        assert_eq!((u.dim(), s.len(), vt.dim()), ((3, 2), 2, (2, 2)));
        assert!(close(s[0], 3.0) && close(s[1], 2.0));
        let back = (&u * &s).dot(&vt);
        assert!(all_close(&back, &x));
        // A wide matrix too.
        let w = x.t().to_owned();
        let (u, s, vt) = thin_svd(w.view()).unwrap();
        assert_eq!((u.dim(), vt.dim()), ((2, 2), (2, 3)));
        assert!(all_close(&(&u * &s).dot(&vt), &w));
    }

    #[test]
    fn cholesky_solves_a_two_by_two_system() {
        // 4a + 2b = 6, 2a + 3b = 5  →  a = b = 1.
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let b = array![[6.0], [5.0]];
        let w = solve_spd(a.view(), b.view()).unwrap();
        assert!(all_close(&w, &array![[1.0], [1.0]]));
    }

    #[test]
    fn cholesky_refuses_an_indefinite_matrix() {
        let a = array![[1.0, 2.0], [2.0, 1.0]];
        let e = solve_spd(a.view(), array![[1.0], [1.0]].view()).unwrap_err();
        assert!(e.to_string().contains("not positive definite"), "{e}");
    }

    #[test]
    fn least_squares_fits_an_exact_line() {
        let x = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]];
        let y = array![[1.0], [3.0], [5.0]];
        let w = lstsq(x.view(), y.view()).unwrap();
        assert!(all_close(&w, &array![[1.0], [2.0]]));
    }

    #[test]
    fn least_squares_of_equal_columns_is_the_minimum_norm_solution() {
        // w1 + w2 = 2 has many solutions; the shortest is (1, 1).
        let x = array![[1.0, 1.0], [1.0, 1.0]];
        let y = array![[2.0], [2.0]];
        let w = lstsq(x.view(), y.view()).unwrap();
        assert!(all_close(&w, &array![[1.0], [1.0]]));
    }

    #[test]
    fn the_orthonormal_basis_spans_the_columns() {
        let y = array![[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        let q = orthonormal_basis(y.view());
        assert_eq!(q.dim(), (3, 2));
        assert!(all_close(&q.t().dot(&q), &Array2::eye(2)));
        // Projecting y on span(Q) gives y back.
        assert!(all_close(&q.dot(&q.t().dot(&y)), &y));
    }
}
