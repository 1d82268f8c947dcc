//! Integer and boolean arrays follow NumPy: sums, products and cumulative sums
//! accumulate in `int64` / `uint64` and return that type, means and variances are
//! `float64`, and every element type NumPy's readers produce is an array type. The
//! expected values are NumPy's on the same data, written in. Every result is also
//! computed on an executor that rebuilds each op from its parameters and passes each
//! value through its encoder, as a worker does.

mod support;

use brisk_collections::array::{self, Array, DType};
use ndarray::{arr1, arr2, ArrayD, IxDyn};
use support::*;

/// The array computed on every executor, checked to agree (NaN agreeing with NaN).
fn all<T: array::Elem>(a: &Array<T>) -> ArrayD<T> {
    let mut got = Vec::new();
    for ex in executors() {
        got.push(a.compute_with(ex.as_ref()).unwrap());
    }
    let shown: Vec<String> = got.iter().map(|g| format!("{g:?}")).collect();
    assert!(
        shown.windows(2).all(|w| w[0] == w[1]),
        "executors disagree: {shown:?}"
    );
    got.remove(0)
}

#[test]
fn sums_of_small_integers_do_not_wrap() {
    // np.full(1000, 200, np.uint8).sum() == 200000 (uint64)
    let a = array::from_array(&ArrayD::from_elem(IxDyn(&[1000]), 200u8), &[64]).unwrap();
    let s: Array<u64> = a.sum(&[], false).unwrap();
    assert_eq!(all(&s)[[]], 200_000);
    assert_eq!(s.dtype(), DType::UInt64);
    // np.full(1000, -100, np.int8).sum() == -100000 (int64)
    let a = array::from_array(&ArrayD::from_elem(IxDyn(&[1000]), -100i8), &[64]).unwrap();
    assert_eq!(all(&a.sum(&[], false).unwrap())[[]], -100_000i64);
    // np.array([4e9, 4e9], np.uint32).sum() == 8000000000 (uint64)
    let a = array::from_array(&arr1(&[4_000_000_000u32, 4_000_000_000]).into_dyn(), &[1]).unwrap();
    assert_eq!(all(&a.sum(&[], false).unwrap())[[]], 8_000_000_000u64);
    // np.array([[30000, 30000], [30000, 30000]], np.int16).sum(axis=0) == [60000, 60000]
    let a = array::from_array(
        &arr2(&[[30000i16, 30000], [30000, 30000]]).into_dyn(),
        &[1, 1],
    )
    .unwrap();
    assert_eq!(
        all(&a.sum(&[0], false).unwrap()),
        arr1(&[60000i64, 60000]).into_dyn()
    );
    // int64 itself wraps, as NumPy's does: np.array([2**63-1, 1]).sum() == -2**63
    let a = array::from_array(&arr1(&[i64::MAX, 1]).into_dyn(), &[1]).unwrap();
    assert_eq!(all(&a.sum(&[], false).unwrap())[[]], i64::MIN);
}

#[test]
fn products_and_cumulative_sums_widen_too() {
    // np.array([300, 300, 300], np.int16).prod() == 27000000 (int64)
    let a = array::from_array(&arr1(&[300i16, 300, 300]).into_dyn(), &[2]).unwrap();
    assert_eq!(all(&a.prod(&[], false).unwrap())[[]], 27_000_000i64);
    // np.array([200]*4, np.uint8).cumsum() == [200, 400, 600, 800] (uint64)
    let a = array::from_array(&arr1(&[200u8, 200, 200, 200]).into_dyn(), &[1]).unwrap();
    let c: Array<u64> = a.cumsum(0).unwrap();
    assert_eq!(all(&c), arr1(&[200u64, 400, 600, 800]).into_dyn());
    // np.array([100]*4, np.uint8).cumprod() == [100, 10000, 1000000, 100000000]
    let a = array::from_array(&arr1(&[100u8, 100, 100, 100]).into_dyn(), &[3]).unwrap();
    assert_eq!(
        all(&a.cumprod(0).unwrap()),
        arr1(&[100u64, 10_000, 1_000_000, 100_000_000]).into_dyn()
    );
    // Booleans count: np.array([True, False, True]).sum() == 2, .cumsum() == [1, 1, 2]
    let b = array::from_array(&arr1(&[true, false, true]).into_dyn(), &[2]).unwrap();
    assert_eq!(all(&b.sum(&[], false).unwrap())[[]], 2i64);
    assert_eq!(all(&b.cumsum(0).unwrap()), arr1(&[1i64, 1, 2]).into_dyn());
}

#[test]
fn means_and_variances_of_integers_are_float64() {
    // np.array([250, 250, 251, 255], np.uint8): mean 251.5, var 4.25
    let a = array::from_array(&arr1(&[250u8, 250, 251, 255]).into_dyn(), &[1]).unwrap();
    let m: Array<f64> = a.mean(&[], false).unwrap();
    assert_eq!(all(&m)[[]], 251.5);
    assert!((all(&a.var(&[], 0, false).unwrap())[[]] - 4.25).abs() < 1e-12);
}

#[test]
fn nan_reductions_skip_nan_and_give_nan_for_all_nan_slices() {
    let n = f64::NAN;
    let x = arr2(&[[1.0, n, 3.0], [n, n, 6.0], [2.0, n, 0.0]]).into_dyn();
    let a = array::from_array(&x, &[2, 2]).unwrap();
    let same = |got: ArrayD<f64>, want: &[f64], what: &str| {
        let got = got.into_raw_vec_and_offset().0;
        assert_eq!(got.len(), want.len(), "{what}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.is_nan() && w.is_nan()) || (g - w).abs() < 1e-12,
                "{what}: {got:?} != {want:?}"
            );
        }
    };
    // np.nanmin(x, axis=0) == [1, nan, 0] (with a warning), np.nanmax(x, axis=0) == [2, nan, 6]
    same(
        all(&a.nanmin(&[0], false).unwrap()),
        &[1.0, n, 0.0],
        "nanmin",
    );
    same(
        all(&a.nanmax(&[0], false).unwrap()),
        &[2.0, n, 6.0],
        "nanmax",
    );
    // np.nanprod(x, axis=0) == [2, 1, 0]; np.nansum(x) == 12
    same(
        all(&a.nanprod(&[0], false).unwrap()),
        &[2.0, 1.0, 0.0],
        "nanprod",
    );
    same(all(&a.nansum(&[], false).unwrap()), &[12.0], "nansum");
    // np.nanvar(x) == 4.24, np.nanstd(x, ddof=1) == sqrt(5.3)
    same(all(&a.nanvar(&[], 0, false).unwrap()), &[4.24], "nanvar");
    same(
        all(&a.nanstd(&[], 1, false).unwrap()),
        &[5.3f64.sqrt()],
        "nanstd",
    );
    // The NaN-propagating forms see the NaN.
    same(all(&a.min(&[0], false).unwrap()), &[n, n, 0.0], "min");
    // np.nancumsum(x, axis=0) == [[1, 0, 3], [1, 0, 9], [3, 0, 9]]
    same(
        all(&a.nancumsum(0).unwrap()),
        &[1.0, 0.0, 3.0, 1.0, 0.0, 9.0, 3.0, 0.0, 9.0],
        "nancumsum",
    );
    // np.nancumprod(x, axis=1) == [[1, 1, 3], [1, 1, 6], [2, 2, 0]]
    same(
        all(&a.nancumprod(1).unwrap()),
        &[1.0, 1.0, 3.0, 1.0, 1.0, 6.0, 2.0, 2.0, 0.0],
        "nancumprod",
    );
    // On integers the NaN forms are the plain ones.
    let i = array::from_array(&arr1(&[5i32, -3, 7]).into_dyn(), &[2]).unwrap();
    assert_eq!(all(&i.nanmin(&[], false).unwrap())[[]], -3);
    assert_eq!(all(&i.nanmax(&[], false).unwrap())[[]], 7);
}

#[test]
fn every_numpy_integer_type_is_an_array_type() {
    fn check<T: array::Num + PartialEq>(v: [T; 4], name: &str)
    where
        T::Acc: PartialEq,
    {
        let x = arr1(&v).into_dyn();
        let a = array::from_array(&x, &[3]).unwrap();
        assert_eq!(a.dtype().name(), name);
        assert_eq!(all(&a), x, "{name}");
        assert_eq!(all(&a.max(&[], false).unwrap())[[]], v[3], "{name}");
        let doubled = all(&a.add(&a).unwrap());
        assert_eq!(doubled, x.mapv(|e| e.add(e)), "{name}");
        let wide: ArrayD<T::Acc> = x.mapv(|e| e.acc());
        let total = wide
            .iter()
            .fold(<T::Acc as array::Num>::ZERO, |s, &e| array::Num::add(s, e));
        assert_eq!(all(&a.sum(&[], false).unwrap())[[]], total, "{name}");
        let back: ArrayD<T> = all(&a.astype::<f64>().unwrap().astype::<T>().unwrap());
        assert_eq!(back, x, "{name}");
        let npy = array::npy_bytes(&x);
        let descr = format!("'descr': '{}'", npy_descr(name));
        assert!(String::from_utf8_lossy(&npy).contains(&descr), "{name}");
    }
    fn npy_descr(name: &str) -> &'static str {
        match name {
            "int8" => "|i1",
            "int16" => "<i2",
            "uint16" => "<u2",
            "uint32" => "<u4",
            _ => "<u8",
        }
    }
    check([-128i8, 0, 5, 127], "int8");
    check([-32768i16, 0, 5, 32767], "int16");
    check([0u16, 1, 5, 65535], "uint16");
    check([0u32, 1, 5, u32::MAX], "uint32");
    check([0u64, 1, 5, u64::MAX], "uint64");
}
