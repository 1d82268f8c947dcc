//! Array math checked against eager ndarray on the whole array, with awkward
//! chunkings (blocks of one, a short last block, unknown sizes after a mask), on the
//! local scheduler and on an executor that rebuilds every op from its name and
//! parameter bytes and passes every value through its encoder, as a worker would:
//! elementwise operations, broadcasting, reductions, fusion.

mod support;

use brisk_collections::array::{self, Array, AxisChunks};
use brisk_core::executor::Executor;
use brisk_scheduler::LocalScheduler;
use ndarray::{ArrayD, Axis, IxDyn};
use support::*;

#[test]
fn chunks_shape_and_round_trip() {
    let x = sample(&SHAPE);
    let a = array::from_array(&x, &[3, 2, 4]).unwrap();
    assert_eq!(a.shape().unwrap(), SHAPE);
    assert_eq!(a.numblocks(), [3, 3, 2]);
    assert_eq!(a.chunks()[0], AxisChunks::Known(vec![3, 3, 1]));
    assert_eq!(a.npartitions(), 18);
    assert_eq!(a.dtype().name(), "float64");
    assert_eq!(a.nbytes().unwrap(), 7 * 5 * 6 * 8);
    each(|a, x, ex, w| close(&a.compute_with(ex).unwrap(), x, w));
    let p = a.persist().unwrap();
    assert_eq!(p.compute().unwrap(), x);
}

#[test]
fn the_same_computation_has_the_same_name() {
    let x = sample(&SHAPE);
    let a = array::from_array(&x, &[3, 2, 4]).unwrap();
    let b = array::from_array(&x, &[3, 2, 4]).unwrap();
    assert_eq!(a.name(), b.name());
    assert_eq!(
        a.add_scalar(1.0).unwrap().name(),
        b.add_scalar(1.0).unwrap().name()
    );
    assert_ne!(
        a.add_scalar(1.0).unwrap().name(),
        a.add_scalar(2.0).unwrap().name()
    );
    let c = array::from_array(&x, &[3, 3, 3]).unwrap();
    assert_ne!(a.name(), c.name());
}

#[test]
fn elementwise_math_broadcasts_like_numpy() {
    each(|a, x, ex, w| {
        let got = a
            .mul_scalar(2.0)
            .unwrap()
            .add_scalar(1.0)
            .unwrap()
            .compute_with(ex)
            .unwrap();
        close(&got, &x.mapv(|v| v * 2.0 + 1.0), w);
        let got = a.rsub_scalar(3.0).unwrap().compute_with(ex).unwrap();
        close(&got, &x.mapv(|v| 3.0 - v), w);
        let got = (a * a).unwrap().compute_with(ex).unwrap();
        close(&got, &(x * x), w);
        let got = a.abs().unwrap().sqrt().unwrap().compute_with(ex).unwrap();
        close(&got, &x.mapv(|v| v.abs().sqrt()), w);
        for (name, got, f) in [
            (
                "exp",
                a.div_scalar(50.0).unwrap().exp().unwrap(),
                (|v: f64| (v / 50.0).exp()) as fn(f64) -> f64,
            ),
            ("sin", a.sin().unwrap(), f64::sin),
            ("cos", a.cos().unwrap(), f64::cos),
            (
                "log",
                a.abs().unwrap().add_scalar(1.0).unwrap().log().unwrap(),
                |v: f64| (v.abs() + 1.0).ln(),
            ),
            ("clip", a.clip(-10.0, 10.0).unwrap(), |v: f64| {
                v.clamp(-10.0, 10.0)
            }),
            ("neg", a.neg().unwrap(), |v: f64| -v),
            (
                "pow",
                a.abs().unwrap().pow_scalar(1.5).unwrap(),
                |v: f64| v.abs().powf(1.5),
            ),
        ] {
            close(
                &got.compute_with(ex).unwrap(),
                &x.mapv(f),
                &format!("{w} {name}"),
            );
        }
        // Broadcasting against a row (5, 6), a column (7, 1, 1) and a (6,) vector,
        // each with its own chunking.
        let row = x.index_axis(Axis(0), 2).to_owned();
        let r = array::from_array(&row, &[2, 5]).unwrap();
        close(
            &a.sub(&r).unwrap().compute_with(ex).unwrap(),
            &(x - &row),
            &format!("{w} row"),
        );
        let col = x.slice(ndarray::s![.., 0..1, 0..1]).to_owned().into_dyn();
        let c = array::from_array(&col, &[4, 1, 1]).unwrap();
        close(
            &a.div(&c).unwrap().compute_with(ex).unwrap(),
            &(x / &col),
            &format!("{w} col"),
        );
        let v = x.slice(ndarray::s![0, 0, ..]).to_owned().into_dyn();
        let vv = array::from_array(&v, &[5]).unwrap();
        close(
            &vv.add(a).unwrap().compute_with(ex).unwrap(),
            &(&v + x),
            &format!("{w} vec"),
        );
    });
}

#[test]
fn operands_that_do_not_broadcast_are_an_error_at_build_time() {
    let a = array::from_array(&sample(&[4, 3]), &[2, 2]).unwrap();
    let b = array::from_array(&sample(&[4, 2]), &[2, 2]).unwrap();
    let err = a.add(&b).unwrap_err().to_string();
    assert!(err.contains("broadcast"), "{err}");
}

#[test]
fn comparisons_logic_where_and_masked_assignment() {
    each(|a, x, ex, w| {
        let m = a.gt_scalar(0.0).unwrap();
        let got = m.compute_with(ex).unwrap();
        assert_eq!(got, x.mapv(|v| v > 0.0), "{w}");
        let both = m
            .and(&a.lt_scalar(20.0).unwrap())
            .unwrap()
            .compute_with(ex)
            .unwrap();
        assert_eq!(both, x.mapv(|v| v > 0.0 && v < 20.0), "{w}");
        let either = m
            .not()
            .unwrap()
            .or(&a.ge_scalar(30.0).unwrap())
            .unwrap()
            .compute_with(ex)
            .unwrap();
        assert_eq!(either, x.mapv(|v| v <= 0.0 || v >= 30.0), "{w}");
        let set = a.set_where(&m, 0.0).unwrap().compute_with(ex).unwrap();
        close(&set, &x.mapv(|v| if v > 0.0 { 0.0 } else { v }), w);
        let neg = a.neg().unwrap();
        let wh = Array::where_(&m, a, &neg)
            .unwrap()
            .compute_with(ex)
            .unwrap();
        close(&wh, &x.mapv(f64::abs), w);
        let eq = a
            .eq_array(a)
            .unwrap()
            .all(&[], false)
            .unwrap()
            .compute_with(ex)
            .unwrap();
        assert!(eq[[]], "{w}");
        let ints = a.astype::<i64>().unwrap().compute_with(ex).unwrap();
        assert_eq!(ints, x.mapv(|v| v as i64), "{w}");
    });
}

#[test]
fn reductions_along_any_axes_match_ndarray() {
    each(|a, x, ex, w| {
        for axes in [
            vec![],
            vec![0],
            vec![1],
            vec![2],
            vec![0, 2],
            vec![1, 2],
            vec![-1],
        ] {
            let nd: Vec<usize> = if axes.is_empty() {
                vec![0, 1, 2]
            } else {
                axes.iter()
                    .map(|&k| if k < 0 { (3 + k) as usize } else { k as usize })
                    .collect()
            };
            // The oracle: fold the axes from the highest down.
            let fold = |f: &dyn Fn(ndarray::ArrayViewD<f64>) -> f64| {
                let mut perm: Vec<usize> = (0..3).filter(|k| !nd.contains(k)).collect();
                perm.extend(&nd);
                let p = x.view().permuted_axes(IxDyn(&perm));
                let kept: Vec<usize> = perm[..3 - nd.len()].iter().map(|&k| x.shape()[k]).collect();
                let inner: usize = nd.iter().map(|&k| x.shape()[k]).product();
                let flat = p
                    .as_standard_layout()
                    .into_owned()
                    .into_shape_with_order(IxDyn(&[kept.iter().product(), inner]))
                    .unwrap();
                let vals: Vec<f64> = flat.outer_iter().map(|r| f(r.into_dyn())).collect();
                ArrayD::from_shape_vec(IxDyn(&kept), vals).unwrap()
            };
            let w = format!("{w} axes {axes:?}");
            close(
                &a.sum(&axes, false).unwrap().compute_with(ex).unwrap(),
                &fold(&|r| r.sum()),
                &format!("{w} sum"),
            );
            close(
                &a.mean(&axes, false).unwrap().compute_with(ex).unwrap(),
                &fold(&|r| r.mean().unwrap()),
                &format!("{w} mean"),
            );
            close(
                &a.min(&axes, false).unwrap().compute_with(ex).unwrap(),
                &fold(&|r| r.fold(f64::INFINITY, |m, &v| m.min(v))),
                &format!("{w} min"),
            );
            close(
                &a.max(&axes, false).unwrap().compute_with(ex).unwrap(),
                &fold(&|r| r.fold(f64::NEG_INFINITY, |m, &v| m.max(v))),
                &format!("{w} max"),
            );
            for ddof in [0u32, 1] {
                let var = |r: ndarray::ArrayViewD<f64>| r.var(ddof as f64);
                close(
                    &a.var(&axes, ddof, false).unwrap().compute_with(ex).unwrap(),
                    &fold(&var),
                    &format!("{w} var{ddof}"),
                );
                close(
                    &a.std(&axes, ddof, false).unwrap().compute_with(ex).unwrap(),
                    &fold(&|r| r.std(ddof as f64)),
                    &format!("{w} std{ddof}"),
                );
            }
            let any = a
                .gt_scalar(59.0)
                .unwrap()
                .any(&axes, false)
                .unwrap()
                .compute_with(ex)
                .unwrap();
            assert_eq!(
                any,
                fold(&|r| f64::from(u8::from(r.iter().any(|&v| v > 59.0)))).mapv(|v| v == 1.0),
                "{w} any"
            );
            let all = a
                .gt_scalar(-59.0)
                .unwrap()
                .all(&axes, false)
                .unwrap()
                .compute_with(ex)
                .unwrap();
            assert_eq!(
                all,
                fold(&|r| f64::from(u8::from(r.iter().all(|&v| v > -59.0)))).mapv(|v| v == 1.0),
                "{w} all"
            );
        }
        // keepdims keeps length-one axes.
        let k = a.sum(&[0, 2], true).unwrap();
        assert_eq!(k.shape().unwrap(), [1, 5, 1]);
        close(
            &k.compute_with(ex).unwrap(),
            &x.sum_axis(Axis(2))
                .sum_axis(Axis(0))
                .insert_axis(Axis(0))
                .insert_axis(Axis(2)),
            w,
        );
    });
}

#[test]
fn split_every_changes_the_tree_not_the_answer() {
    let x = sample(&[40, 3]);
    let a = array::from_array(&x, &[1, 3]).unwrap();
    for split in [2, 3, 7, 100] {
        let s = a
            .reduction::<f64>(array::Reduction::Std { ddof: 1 }, &[0], false, split)
            .unwrap();
        close(
            &s.compute().unwrap(),
            &x.std_axis(Axis(0), 1.0),
            &format!("split {split}"),
        );
    }
    let deep = a
        .reduction::<f64>(array::Reduction::Sum, &[0], false, 2)
        .unwrap();
    let shallow = a
        .reduction::<f64>(array::Reduction::Sum, &[0], false, 100)
        .unwrap();
    assert!(deep.graph().task_count() > shallow.graph().task_count());
}

#[test]
fn variance_is_stable_with_a_large_offset() {
    let x = ArrayD::from_shape_fn(IxDyn(&[1000]), |i| 1e9 + (i[0] % 10) as f64);
    let a = array::from_array(&x, &[7]).unwrap();
    let got = a.var(&[], 0, false).unwrap().compute().unwrap()[[]];
    assert!((got - 8.25).abs() < 1e-6, "{got}");
}

#[test]
fn nan_aware_reductions_and_arg_reductions() {
    let mut x = sample(&[6, 4]);
    x[[1, 2]] = f64::NAN;
    x[[4, 0]] = f64::NAN;
    for c in [vec![6, 4], vec![1, 1], vec![4, 3]] {
        let a = array::from_array(&x, c.as_slice()).unwrap();
        for ex in executors() {
            let ex = ex.as_ref();
            let w = format!("{c:?}");
            let ns = a.nansum(&[], false).unwrap().compute_with(ex).unwrap()[[]];
            let want: f64 = x.iter().filter(|v| !v.is_nan()).sum();
            assert!((ns - want).abs() < 1e-9, "{w}");
            let nm = a.nanmean(&[0], false).unwrap().compute_with(ex).unwrap();
            for j in 0..4 {
                let col: Vec<f64> = x
                    .index_axis(Axis(1), j)
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                assert!(
                    (nm[[j]] - col.iter().sum::<f64>() / col.len() as f64).abs() < 1e-9,
                    "{w}"
                );
            }
            let all = a.nanmean(&[], false).unwrap().compute_with(ex).unwrap()[[]];
            let vals: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
            assert!(
                (all - vals.iter().sum::<f64>() / vals.len() as f64).abs() < 1e-9,
                "{w}"
            );
            let sd = a.std(&[], 1, false).unwrap().compute_with(ex).unwrap()[[]];
            assert!(sd.is_nan(), "{w}: NaN propagates through std");
            assert!(a.sum(&[], false).unwrap().compute_with(ex).unwrap()[[]].is_nan());
            assert!(a.max(&[], false).unwrap().compute_with(ex).unwrap()[[]].is_nan());
            // argmin / argmax over all (first NaN wins, as NumPy) and along an axis.
            assert_eq!(
                a.argmax(None).unwrap().compute_with(ex).unwrap()[[]],
                6,
                "{w}"
            );
            let clean = a.isnan().unwrap();
            let filled = a.set_where(&clean, 0.0).unwrap();
            let y = x.mapv(|v| if v.is_nan() { 0.0 } else { v });
            let am = filled.argmin(None).unwrap().compute_with(ex).unwrap()[[]];
            let (want_i, _) = y
                .iter()
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |(bi, bv), (i, &v)| if v < bv { (i, v) } else { (bi, bv) },
                );
            assert_eq!(am as usize, want_i, "{w}");
            let ax1 = filled.argmax(Some(1)).unwrap().compute_with(ex).unwrap();
            for r in 0..6 {
                let row = y.index_axis(Axis(0), r);
                let best = row
                    .iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
                        if v > bv {
                            (i, v)
                        } else {
                            (bi, bv)
                        }
                    })
                    .0;
                assert_eq!(ax1[[r]] as usize, best, "{w} row {r}");
            }
        }
    }
}

#[test]
fn cumsum_carries_across_blocks() {
    let x = sample(&[7, 5]);
    for c in [vec![7, 5], vec![1, 1], vec![3, 2]] {
        let a = array::from_array(&x, c.as_slice()).unwrap();
        for axis in [0usize, 1] {
            let mut want = x.clone();
            want.accumulate_axis_inplace(Axis(axis), |&p, c| *c += p);
            for ex in executors() {
                close(
                    &a.cumsum(axis as isize)
                        .unwrap()
                        .compute_with(ex.as_ref())
                        .unwrap(),
                    &want,
                    &format!("{c:?} axis {axis}"),
                );
            }
        }
    }
}

#[test]
fn integer_and_f32_arrays_keep_their_types() {
    let x = ArrayD::from_shape_fn(IxDyn(&[5, 3]), |i| (i[0] * 3 + i[1]) as i32 - 7);
    let a = array::from_array(&x, &[2, 2]).unwrap();
    // Sums of int32 accumulate and come back in int64, as NumPy's.
    let s: Array<i64> = a.sum(&[0], false).unwrap();
    assert_eq!(s.compute().unwrap(), x.mapv(i64::from).sum_axis(Axis(0)));
    let m: Array<f64> = a.mean(&[], false).unwrap();
    assert!((m.compute().unwrap()[[]] - x.mapv(f64::from).mean().unwrap()).abs() < 1e-12);
    assert_eq!(
        a.div_scalar(0).unwrap().compute().unwrap(),
        ArrayD::<i32>::zeros(IxDyn(&[5, 3]))
    );
    let f = a.astype::<f32>().unwrap();
    let s: Array<f32> = f.std(&[1], 0, false).unwrap();
    let want = x.mapv(|v| v as f32).std_axis(Axis(1), 0.0);
    for (g, w) in s.compute().unwrap().iter().zip(want.iter()) {
        assert!((g - w).abs() < 1e-5);
    }
}

#[test]
fn mean_and_std_of_the_same_array_share_one_tree_of_partials() {
    let x = sample(&SHAPE);
    let a = array::from_array(&x, &[1, 5, 6]).unwrap();
    let z = a
        .sub(&a.mean(&[0], false).unwrap())
        .unwrap()
        .div(&a.std(&[0], 0, false).unwrap())
        .unwrap();
    let tg = z.graph().lower(z.keys()).unwrap();
    let partials = tg
        .keys()
        .iter()
        .filter(|k| k.name().starts_with("reduce-chunk"))
        .count();
    assert_eq!(
        partials, 7,
        "one moments partial per block, shared by mean and std"
    );
    let m = x.mean_axis(Axis(0)).unwrap();
    let s = x.std_axis(Axis(0), 0.0);
    close(&z.compute().unwrap(), &((&x - &m) / &s), "z-score");
}

#[test]
fn chains_of_arithmetic_fuse_into_one_task_per_block() {
    let x = sample(&SHAPE);
    let a = array::from_array(&x, &[3, 5, 6]).unwrap();
    let m = a.mean(&[0], false).unwrap();
    let s = a.std(&[0], 0, false).unwrap();
    let z = a
        .sub(&m)
        .unwrap()
        .div(&s)
        .unwrap()
        .mul_scalar(2.0)
        .unwrap()
        .neg()
        .unwrap();
    let tg = z.graph().lower(z.keys()).unwrap();
    let names: Vec<&str> = tg
        .keys()
        .iter()
        .map(|k| tg.op(tg.id_of(k).unwrap()).name())
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "brisk::array::chain")
            .count(),
        3,
        "one per block"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "brisk::array::elementwise")
            .count(),
        0,
        "{names:?}"
    );
    let want =
        ((&x - &x.mean_axis(Axis(0)).unwrap()) / &x.std_axis(Axis(0), 0.0)).mapv(|v| -(v * 2.0));
    for ex in executors() {
        close(
            &z.compute_with(ex.as_ref()).unwrap(),
            &want,
            "fused z-score",
        );
        close(
            &z.index(1).unwrap().compute_with(ex.as_ref()).unwrap(),
            &want.index_axis(Axis(0), 1).to_owned(),
            "fused and indexed",
        );
    }
    // A rechunk in the middle stops the fusion but not the answer.
    let b = array::from_array(&x, &[2, 5, 6]).unwrap();
    let mixed = a.sub(&b).unwrap().add_scalar(1.0).unwrap();
    close(&mixed.compute().unwrap(), &x.mapv(|_| 1.0), "mixed chunks");
}

#[test]
fn chains_on_long_rows_run_row_by_row_with_the_same_answer() {
    // Rows of 40 take the row-by-row path; the operands broadcast along the leading
    // axes (a row), along the last axis (a column: a stride-0 lane) and not at all.
    let x = ArrayD::from_shape_fn(IxDyn(&[5, 9, 40]), |i| {
        ((i[0] * 31 + i[1] * 7 + i[2] * 3) % 23) as f64 - 11.0
    });
    let row = ArrayD::from_shape_fn(IxDyn(&[40]), |i| i[0] as f64 * 0.5 + 1.0);
    let col = ArrayD::from_shape_fn(IxDyn(&[9, 1]), |i| i[0] as f64 - 4.5);
    let y = x.mapv(|v| v * 0.25 + 2.0);
    for chunks in [[5, 9, 40], [2, 4, 40], [3, 9, 17]] {
        let a = array::from_array(&x, &chunks).unwrap();
        let r = array::from_array(&row, &[40]).unwrap();
        let c = array::from_array(&col, &[9, 1]).unwrap();
        let b = array::from_array(&y, &chunks).unwrap();
        let m = a.mean(&[0], false).unwrap();
        let s = a.std(&[0], 0, false).unwrap();
        let z = a
            .sub(&m)
            .unwrap()
            .div(&s)
            .unwrap()
            .mul(&r)
            .unwrap()
            .add(&c)
            .unwrap()
            .sub(&b)
            .unwrap()
            .maximum(&b)
            .unwrap()
            .rsub_scalar(3.0)
            .unwrap()
            .clip(-8.0, 8.0)
            .unwrap()
            .abs()
            .unwrap()
            .neg()
            .unwrap();
        let mean = x.mean_axis(Axis(0)).unwrap();
        let sd = x.std_axis(Axis(0), 0.0);
        let before = (((&x - &mean) / &sd) * &row + &col) - &y;
        let want = ndarray::Zip::from(&before)
            .and(&y)
            .map_collect(|&v, &w| -(3.0 - v.max(w)).clamp(-8.0, 8.0).abs());
        for ex in executors() {
            close(
                &z.compute_with(ex.as_ref()).unwrap(),
                &want,
                &format!("{chunks:?}"),
            );
        }
    }
    // Integers: the same steps as the element-by-element path (division truncates).
    let xi = ArrayD::from_shape_fn(IxDyn(&[3, 32]), |i| (i[0] * 32 + i[1]) as i64 - 40);
    let di = ArrayD::from_shape_fn(IxDyn(&[32]), |i| (i[0] % 5) as i64 + 1);
    let a = array::from_array(&xi, &[2, 32]).unwrap();
    let d = array::from_array(&di, &[32]).unwrap();
    let got = a.mul_scalar(3).unwrap().div(&d).unwrap().compute().unwrap();
    assert_eq!(got, (&xi * 3) / &di);
}

#[test]
fn a_value_that_is_not_finite_makes_its_variance_nan_whatever_the_chunking() {
    // NaN and inf in the first row (the shift of the one-pass moments) and later.
    let mut x = ArrayD::from_shape_fn(IxDyn(&[3, 20]), |i| (i[0] * 20 + i[1]) as f64 * 0.5);
    x[[0, 2]] = f64::NAN;
    x[[0, 7]] = f64::INFINITY;
    x[[1, 5]] = f64::NEG_INFINITY;
    let bad = [2usize, 5, 7];
    for chunks in [[3, 20], [1, 20], [2, 7]] {
        let a = array::from_array(&x, &chunks).unwrap();
        let var = a.var(&[0], 0, false).unwrap().compute().unwrap();
        let want = x.var_axis(Axis(0), 0.0);
        for j in 0..20 {
            if bad.contains(&j) {
                assert!(var[[j]].is_nan(), "{chunks:?} position {j}: {}", var[[j]]);
            } else {
                assert!(
                    (var[[j]] - want[[j]]).abs() < 1e-9,
                    "{chunks:?} position {j}"
                );
            }
        }
    }
    // A reduced length of one: the variance of one NaN or inf is NaN, not 0.
    let one = x.slice(ndarray::s![0..1, ..]).to_owned().into_dyn();
    let var = array::from_array(&one, &[1, 20])
        .unwrap()
        .var(&[0], 0, false)
        .unwrap();
    let var = var.compute().unwrap();
    assert!(var[[2]].is_nan() && var[[7]].is_nan(), "{var}");
    assert_eq!(var[[0]], 0.0);
}

#[test]
fn large_blocks_reduce_in_tiles_with_the_same_answer() {
    // Kept parts above the tile size (2^16 positions) are processed in tiles.
    let mut x = ArrayD::from_shape_fn(IxDyn(&[3, 301, 257]), |i| {
        ((i[0] * 7 + i[1] * 13 + i[2] * 17) % 101) as f64 + 1e6
    });
    x[[1, 300, 256]] = f64::NAN;
    let a = array::from_array(&x, &[2, 301, 257]).unwrap();
    let nm = a.nanmean(&[0], false).unwrap().compute().unwrap();
    let sd = a.std(&[0], 1, false).unwrap().compute().unwrap();
    for i in [0usize, 150, 300] {
        for j in [0usize, 100, 256] {
            let col: Vec<f64> = (0..3).map(|t| x[[t, i, j]]).collect();
            let ok: Vec<f64> = col.iter().copied().filter(|v| !v.is_nan()).collect();
            let mean = ok.iter().sum::<f64>() / ok.len() as f64;
            assert!((nm[[i, j]] - mean).abs() < 1e-6, "({i}, {j})");
            if col.iter().any(|v| v.is_nan()) {
                assert!(sd[[i, j]].is_nan());
            } else {
                let m = col.iter().sum::<f64>() / 3.0;
                let v = col.iter().map(|c| (c - m).powi(2)).sum::<f64>() / 2.0;
                assert!((sd[[i, j]] - v.sqrt()).abs() < 1e-6, "({i}, {j})");
            }
        }
    }
}

#[test]
fn a_compute_inside_a_task_does_not_wait_on_its_own_pool() {
    let x = sample(&[8, 4]);
    let a = array::from_array(&x, &[1, 4]).unwrap();
    let inner = array::from_array(&x, &[2, 2]).unwrap();
    let shifted = a
        .map_blocks::<f64, _>(
            ("shift-by-inner-sum", move |b: &ArrayD<f64>| {
                let s = inner.sum(&[], false)?.compute()?[[]];
                Ok(b.mapv(|v| v + s))
            }),
            None,
        )
        .unwrap();
    let total = x.sum();
    for ex in [
        Box::new(LocalScheduler::new()) as Box<dyn Executor>,
        Box::new(LocalScheduler::with_threads(2)),
    ] {
        close(
            &shifted.compute_with(ex.as_ref()).unwrap(),
            &x.mapv(|v| v + total),
            "nested compute",
        );
    }
}
