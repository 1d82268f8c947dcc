//! Array operations checked against eager ndarray on the whole array, with awkward
//! chunkings (blocks of one, a short last block, unknown sizes after a mask), on the
//! local scheduler and on an executor that rebuilds every op from its name and
//! parameter bytes and passes every value through its encoder, as a worker would.

use brisk_collections::array::{
    self, concatenate, stack, Array, AxisChunks, ChunkSpec, Ix, Rechunk,
};
use brisk_core::executor::Executor;
use brisk_core::op::rebuild;
use brisk_core::value::{decode, Value};
use brisk_core::{Graph, Key, Result};
use brisk_scheduler::LocalScheduler;
use ndarray::{ArrayD, Axis, Dimension, IxDyn};
use std::collections::HashMap;

/// Runs a graph the way a worker would: ops rebuilt from bytes, values decoded
/// from their encoding.
struct Rebuilding;

impl Executor for Rebuilding {
    fn get(&self, graph: &Graph, keys: &[Key]) -> Result<Vec<Value>> {
        let tg = graph.lower(keys)?;
        let mut done: HashMap<u32, Value> = HashMap::new();
        for &t in tg.topological() {
            let op = tg.op(t);
            // A closure has no parameter bytes: an error, as on a worker.
            let op = rebuild(op.name(), &op.params()?)?;
            let inputs = tg
                .dependencies(t)
                .iter()
                .map(|d| decode(done[&d.0].encode()?))
                .collect::<Result<Vec<_>>>()?;
            done.insert(t.0, op.call(&inputs)?);
        }
        Ok(keys
            .iter()
            .map(|k| done[&tg.id_of(k).unwrap().0].clone())
            .collect())
    }
}

fn executors() -> Vec<Box<dyn Executor>> {
    vec![Box::new(LocalScheduler::new()), Box::new(Rebuilding)]
}

/// A 3-D array of distinct values with negatives and fractions.
fn sample(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let flat: usize = i.slice().iter().fold(0, |a, &x| a * 31 + x);
        ((flat * 7919) % 1013) as f64 / 7.0 - 60.0
    })
}

const SHAPE: [usize; 3] = [7, 5, 6];

/// Chunkings of SHAPE: one block, blocks of one, short last blocks, explicit uneven.
fn chunkings() -> Vec<ChunkSpec> {
    vec![
        ChunkSpec::Uniform(vec![7, 5, 6]),
        ChunkSpec::Uniform(vec![1, 1, 1]),
        ChunkSpec::Uniform(vec![3, 2, 4]),
        ChunkSpec::Explicit(vec![vec![1, 4, 2], vec![5], vec![2, 1, 3]]),
    ]
}

fn close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    for (i, (a, b)) in got.iter().zip(want.iter()).enumerate() {
        let ok = (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(ok, "{what}: element {i}: got {a}, want {b}");
    }
}

fn each(mut f: impl FnMut(&Array<f64>, &ArrayD<f64>, &dyn Executor, &str)) {
    let x = sample(&SHAPE);
    for c in chunkings() {
        let a = array::from_array(&x, c.clone()).unwrap();
        for ex in executors() {
            f(&a, &x, ex.as_ref(), &format!("{c:?}"));
        }
    }
}

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
fn slicing_with_steps_negative_bounds_and_new_axes() {
    each(|a, x, ex, w| {
        use ndarray::{s, SliceInfoElem};
        let cases: Vec<(Vec<Ix>, Vec<SliceInfoElem>)> = vec![
            (
                vec![Ix::i(0), Ix::i(0), Ix::i(0)],
                vec![0.into(), 0.into(), 0.into()],
            ),
            (vec![Ix::i(-1)], vec![(-1).into(), (..).into(), (..).into()]),
            (
                vec![Ix::r(1, 6), Ix::s(None, None, 2)],
                vec![(1..6).into(), s![..;2][0], (..).into()],
            ),
            (
                vec![Ix::s(None, None, -1)],
                vec![s![..;-1][0], (..).into(), (..).into()],
            ),
            (
                vec![
                    Ix::all(),
                    Ix::s(Some(-2), None, 1),
                    Ix::s(Some(5), Some(0), -2),
                ],
                vec![
                    (..).into(),
                    (-2..).into(),
                    SliceInfoElem::Slice {
                        start: 1,
                        end: Some(6),
                        step: -2,
                    },
                ],
            ),
            (
                vec![Ix::new_axis(), Ix::i(3), Ix::new_axis()],
                vec![
                    SliceInfoElem::NewAxis,
                    3.into(),
                    SliceInfoElem::NewAxis,
                    (..).into(),
                    (..).into(),
                ],
            ),
            (
                vec![Ix::r(4, 2)],
                vec![(4..4).into(), (..).into(), (..).into()],
            ),
        ];
        for (ix, nd) in cases {
            let info =
                ndarray::SliceInfo::<Vec<SliceInfoElem>, IxDyn, IxDyn>::try_from(nd).unwrap();
            let want = x.slice(info).to_owned();
            let got = a.get(&ix).unwrap();
            assert_eq!(
                got.dims().iter().map(|d| d.unwrap()).collect::<Vec<_>>(),
                want.shape(),
                "{w} {ix:?}"
            );
            close(
                &got.compute_with(ex).unwrap(),
                &want,
                &format!("{w} {ix:?}"),
            );
        }
        // Integer lists, in any order with repeats, on any axis.
        let got = a
            .get(&[Ix::all(), Ix::list([4, 0, -1, 0])])
            .unwrap()
            .compute_with(ex)
            .unwrap();
        close(&got, &x.select(Axis(1), &[4, 0, 4, 0]), w);
        let got = a
            .get(&[Ix::i(2), Ix::all(), Ix::list([5, 1])])
            .unwrap()
            .compute_with(ex)
            .unwrap();
        close(
            &got,
            &x.index_axis(Axis(0), 2).select(Axis(1), &[5, 1]).into_dyn(),
            w,
        );
        assert!(a
            .get(&[Ix::i(7)])
            .unwrap_err()
            .to_string()
            .contains("out of bounds"));
        assert!(a.get(&[Ix::i(0), Ix::i(0), Ix::i(0), Ix::i(0)]).is_err());
    });
}

#[test]
fn a_slice_reads_only_the_blocks_it_needs() {
    let x = sample(&SHAPE);
    let a = array::from_array(&x, &[1, 5, 6]).unwrap();
    let z = a.sub_scalar(1.0).unwrap().index(3).unwrap();
    let tg = z.graph().lower(z.keys()).unwrap();
    // One literal block and one subtraction (and the indexing task).
    assert!(tg.len() <= 3, "{} tasks", tg.len());
}

#[test]
fn boolean_masks_give_unknown_chunks_until_computed() {
    each(|a, x, ex, w| {
        let m = a.gt_scalar(0.0).unwrap();
        let pos = a.mask(&m).unwrap();
        assert_eq!(pos.dims(), [None], "{w}");
        assert!(pos.shape().is_err());
        let want: Vec<f64> = x.iter().copied().filter(|&v| v > 0.0).collect();
        assert_eq!(
            pos.compute_with(ex).unwrap().into_raw_vec_and_offset().0,
            want,
            "{w}"
        );
        let known = pos.compute_chunk_sizes_with(ex).unwrap();
        assert_eq!(known.shape().unwrap(), [want.len()], "{w}");
        // Math on unknown chunks still works, and reductions too.
        let s = pos
            .mul_scalar(2.0)
            .unwrap()
            .sum(&[], false)
            .unwrap()
            .compute_with(ex)
            .unwrap()[[]];
        assert!((s - 2.0 * want.iter().sum::<f64>()).abs() < 1e-9, "{w}");
        // Slicing a known copy.
        let head = known.get(&[Ix::r(0, 3)]).unwrap().compute_with(ex).unwrap();
        assert_eq!(head.into_raw_vec_and_offset().0, want[..3].to_vec(), "{w}");
    });
}

#[test]
fn rechunk_transpose_reshape() {
    each(|a, x, ex, w| {
        for spec in [
            Rechunk::Uniform(vec![Some(2), None, Some(5)]),
            Rechunk::Explicit(vec![vec![7], vec![1, 1, 3], vec![6]]),
            Rechunk::Auto { bytes: 64 },
        ] {
            let r = a.rechunk(spec.clone()).unwrap();
            close(&r.compute_with(ex).unwrap(), x, &format!("{w} {spec:?}"));
        }
        let r = a
            .rechunk(Rechunk::Uniform(vec![Some(2), None, Some(5)]))
            .unwrap();
        assert_eq!(r.chunks()[0], AxisChunks::Known(vec![2, 2, 2, 1]));
        assert_eq!(r.chunks()[2], AxisChunks::Known(vec![5, 1]));
        close(
            &a.transpose(&[2, 0, 1]).unwrap().compute_with(ex).unwrap(),
            &x.view().permuted_axes(IxDyn(&[2, 0, 1])).to_owned(),
            w,
        );
        close(
            &a.t().unwrap().compute_with(ex).unwrap(),
            &x.t().to_owned(),
            w,
        );
        close(
            &a.swapaxes(0, 1).unwrap().compute_with(ex).unwrap(),
            &x.view().permuted_axes(IxDyn(&[1, 0, 2])).to_owned(),
            w,
        );
        for shape in [
            vec![210],
            vec![7, 30],
            vec![35, 6],
            vec![14, 15],
            vec![3, 70],
        ] {
            let r = a.reshape(&shape).unwrap();
            let want = x
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order(IxDyn(&shape))
                .unwrap();
            close(
                &r.compute_with(ex).unwrap(),
                &want,
                &format!("{w} reshape {shape:?}"),
            );
        }
        assert!(a.reshape(&[4, 4]).is_err());
    });
}

#[test]
fn concatenate_stack_and_block() {
    let x = sample(&[4, 3]);
    let y = sample(&[2, 3]).mapv(|v| v + 1000.0);
    let a = array::from_array(&x, &[3, 2]).unwrap();
    let b = array::from_array(&y, &[1, 3]).unwrap();
    for ex in executors() {
        let ex = ex.as_ref();
        let c = concatenate(&[a.clone(), b.clone()], 0).unwrap();
        close(
            &c.compute_with(ex).unwrap(),
            &ndarray::concatenate(Axis(0), &[x.view(), y.view()]).unwrap(),
            "concat 0",
        );
        let xt = array::from_array(&x.t().to_owned(), &[2, 2]).unwrap();
        let c1 = concatenate(&[xt.clone(), xt.clone()], 1).unwrap();
        close(
            &c1.compute_with(ex).unwrap(),
            &ndarray::concatenate(Axis(1), &[x.t(), x.t()]).unwrap(),
            "concat 1",
        );
        let a2 = array::from_array(&x, &[1, 1]).unwrap();
        for axis in 0..3 {
            let s = stack(&[a.clone(), a2.clone()], axis).unwrap();
            close(
                &s.compute_with(ex).unwrap(),
                &ndarray::stack(Axis(axis), &[x.view(), x.view()]).unwrap(),
                &format!("stack {axis}"),
            );
        }
        let blk =
            array::block(&[vec![a.clone(), a2.clone()], vec![a2.clone(), a.clone()]]).unwrap();
        let row = ndarray::concatenate(Axis(1), &[x.view(), x.view()]).unwrap();
        close(
            &blk.compute_with(ex).unwrap(),
            &ndarray::concatenate(Axis(0), &[row.view(), row.view()]).unwrap(),
            "block",
        );
    }
    assert!(concatenate(
        &[
            a.clone(),
            array::from_array(&sample(&[2, 2]), &[2, 2]).unwrap()
        ],
        0
    )
    .is_err());
}

#[test]
fn tensordot_matmul_and_dot() {
    let x = sample(&[5, 4]);
    let y = sample(&[4, 3]).mapv(|v| v / 10.0);
    let a = array::from_array(&x, &[2, 3]).unwrap();
    let b = array::from_array(&y, &[1, 2]).unwrap();
    let x2 = x.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
    let y2 = y.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
    for ex in executors() {
        let ex = ex.as_ref();
        close(
            &a.matmul(&b).unwrap().compute_with(ex).unwrap(),
            &x2.dot(&y2).into_dyn(),
            "matmul",
        );
        close(
            &a.dot(&b).unwrap().compute_with(ex).unwrap(),
            &x2.dot(&y2).into_dyn(),
            "dot",
        );
        let v = sample(&[4]);
        let vb = array::from_array(&v, &[3]).unwrap();
        let v1 = v.clone().into_dimensionality::<ndarray::Ix1>().unwrap();
        close(
            &a.dot(&vb).unwrap().compute_with(ex).unwrap(),
            &x2.dot(&v1).into_dyn(),
            "matvec",
        );
        // Contract both axes of x with both of x: the sum of squares.
        let t = a
            .tensordot(&a, &[0, 1], &[0, 1])
            .unwrap()
            .compute_with(ex)
            .unwrap();
        assert!((t[[]] - x.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-6);
    }
}

#[test]
fn creation_functions() {
    for ex in executors() {
        let ex = ex.as_ref();
        assert_eq!(
            array::zeros::<f32>(&[3, 4], &[2, 3])
                .unwrap()
                .compute_with(ex)
                .unwrap(),
            ArrayD::<f32>::zeros(IxDyn(&[3, 4]))
        );
        assert_eq!(
            array::ones::<i32>(&[5], &[2])
                .unwrap()
                .compute_with(ex)
                .unwrap(),
            ArrayD::<i32>::ones(IxDyn(&[5]))
        );
        assert_eq!(
            array::full::<u8>(&[2, 2], 7, &[1, 2])
                .unwrap()
                .compute_with(ex)
                .unwrap(),
            ArrayD::from_elem(IxDyn(&[2, 2]), 7u8)
        );
        assert_eq!(
            array::arange::<i64>(2.0, 11.0, 3.0, 2)
                .unwrap()
                .compute_with(ex)
                .unwrap()
                .into_raw_vec_and_offset()
                .0,
            vec![2, 5, 8]
        );
        let l = array::linspace::<f64>(0.0, 1.0, 5, 2)
            .unwrap()
            .compute_with(ex)
            .unwrap();
        assert_eq!(
            l.into_raw_vec_and_offset().0,
            vec![0.0, 0.25, 0.5, 0.75, 1.0]
        );
    }
    // Random arrays depend on the seed, not on the chunking.
    let u1 = array::random::uniform::<f64>(7, 0.0, 1.0, &[20, 30], &[20, 30])
        .unwrap()
        .compute()
        .unwrap();
    let u2 = array::random::uniform::<f64>(7, 0.0, 1.0, &[20, 30], &[3, 7])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(u1, u2);
    assert!(u1.iter().all(|&v| (0.0..1.0).contains(&v)));
    let mean = u1.mean().unwrap();
    assert!((mean - 0.5).abs() < 0.05, "{mean}");
    let u3 = array::random::uniform::<f64>(8, 0.0, 1.0, &[20, 30], &[3, 7])
        .unwrap()
        .compute()
        .unwrap();
    assert_ne!(u1, u3);
    let n = array::random::normal::<f64>(1, 10.0, 2.0, &[200, 100], &[64, 64])
        .unwrap()
        .compute()
        .unwrap();
    let (m, s) = (n.mean().unwrap(), n.std(0.0));
    assert!((m - 10.0).abs() < 0.05 && (s - 2.0).abs() < 0.05, "{m} {s}");
}

#[test]
fn map_blocks_and_blockwise_run_closures_locally() {
    let x = sample(&[6, 4]);
    let a = array::from_array(&x, &[4, 3]).unwrap();
    let doubled = a
        .map_blocks::<f64>("double", None, |b| Ok(b * 2.0))
        .unwrap();
    close(&doubled.compute().unwrap(), &(&x * 2.0), "map_blocks");
    let b = array::from_array(&x, &[2, 2]).unwrap();
    let s = array::blockwise::<f64, f64>("hypot", &[&a, &b], |bs| {
        Ok(ndarray::Zip::from(bs[0])
            .and(bs[1])
            .map_collect(|p, q| p.hypot(*q)))
    })
    .unwrap();
    close(&s.compute().unwrap(), &x.mapv(|v| v.hypot(v)), "blockwise");
    // A closure cannot travel: the rebuilding executor refuses it.
    let err = doubled.compute_with(&Rebuilding).unwrap_err().to_string();
    assert!(err.contains("#[brisk::task]"), "{err}");
}

#[test]
fn from_delayed_blocks() {
    use brisk_collections::delayed;
    let parts: Vec<Array<f64>> = (0..3)
        .map(|i| {
            let d = delayed::value(ArrayD::from_elem(IxDyn(&[2, 2]), i as f64)).unwrap();
            array::from_delayed(&d, &[2, 2]).unwrap()
        })
        .collect();
    let c = concatenate(&parts, 0).unwrap().compute().unwrap();
    assert_eq!(c.shape(), [6, 2]);
    assert_eq!(c[[5, 1]], 2.0);
}

#[test]
fn integer_and_f32_arrays_keep_their_types() {
    let x = ArrayD::from_shape_fn(IxDyn(&[5, 3]), |i| (i[0] * 3 + i[1]) as i32 - 7);
    let a = array::from_array(&x, &[2, 2]).unwrap();
    assert_eq!(
        a.sum(&[0], false).unwrap().compute().unwrap(),
        x.sum_axis(Axis(0))
    );
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
fn indexes_push_through_elementwise_ops_with_broadcasting() {
    use ndarray::{s, SliceInfoElem};
    each(|a, x, ex, w| {
        let row = array::from_array(&x.index_axis(Axis(0), 1).to_owned(), &[2, 6]).unwrap();
        let col = array::from_array(
            &x.slice(s![.., 0..1, 0..1]).to_owned().into_dyn(),
            &[3, 1, 1],
        )
        .unwrap();
        let z = a
            .sub(&row)
            .unwrap()
            .mul(&col)
            .unwrap()
            .add_scalar(0.5)
            .unwrap();
        let full =
            ((x - &x.index_axis(Axis(0), 1)) * &x.slice(s![.., 0..1, 0..1])).mapv(|v| v + 0.5);
        let cases: Vec<(Vec<Ix>, Vec<SliceInfoElem>)> = vec![
            (vec![Ix::i(2)], vec![2.into(), (..).into(), (..).into()]),
            (
                vec![Ix::all(), Ix::i(-1)],
                vec![(..).into(), (-1).into(), (..).into()],
            ),
            (
                vec![Ix::r(1, 4), Ix::all(), Ix::s(None, None, -2)],
                vec![(1..4).into(), (..).into(), s![..;-2][0]],
            ),
            (
                vec![Ix::i(0), Ix::i(0), Ix::i(0)],
                vec![0.into(), 0.into(), 0.into()],
            ),
        ];
        for (ix, nd) in cases {
            let info =
                ndarray::SliceInfo::<Vec<SliceInfoElem>, IxDyn, IxDyn>::try_from(nd).unwrap();
            close(
                &z.get(&ix).unwrap().compute_with(ex).unwrap(),
                &full.slice(info).to_owned(),
                &format!("{w} {ix:?}"),
            );
        }
    });
    // z[100]-style: the index reaches the inputs, so the big elementwise blocks
    // are never made.
    let x = sample(&[8, 4, 4]);
    let a = array::from_array(&x, &[1, 4, 4]).unwrap();
    let z = a.sub(&a.mean(&[0], false).unwrap()).unwrap();
    let z5 = z.index(5).unwrap();
    let tg = z5.graph().lower(z5.keys()).unwrap();
    let last = tg.op(tg.id_of(&z5.keys()[0]).unwrap());
    assert_eq!(
        last.name(),
        "brisk::array::elementwise",
        "x[5] is taken before the subtraction"
    );
    let selects = tg
        .tasks()
        .iter()
        .filter(|t| t.op.name() == "brisk::array::select")
        .count();
    assert_eq!(selects, 1);
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
        .map_blocks::<f64>("shift-by-inner-sum", None, move |b| {
            let s = inner.sum(&[], false)?.compute()?[[]];
            Ok(b.mapv(|v| v + s))
        })
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

#[test]
fn empty_axes_and_zero_dimensional_arrays() {
    // A 0-d array.
    let s = ArrayD::from_elem(IxDyn(&[]), 4.5f64);
    let a = array::from_array(&s, ChunkSpec::Uniform(vec![])).unwrap();
    assert_eq!(a.shape().unwrap(), Vec::<usize>::new());
    assert_eq!(a.compute().unwrap(), s);
    assert_eq!(a.mul_scalar(2.0).unwrap().compute().unwrap()[[]], 9.0);
    assert_eq!(a.sum(&[], false).unwrap().compute().unwrap()[[]], 4.5);
    // An axis of length zero.
    let e = ArrayD::<f64>::zeros(IxDyn(&[0, 3]));
    let b = array::from_array(&e, &[2, 2]).unwrap();
    assert_eq!(b.compute().unwrap().shape(), [0, 3]);
    assert_eq!(
        b.sum(&[0], false).unwrap().compute().unwrap(),
        ArrayD::<f64>::zeros(IxDyn(&[3]))
    );
    assert!(b
        .mean(&[0], false)
        .unwrap()
        .compute()
        .unwrap()
        .iter()
        .all(|v| v.is_nan()));
    assert_eq!(
        b.get(&[Ix::r(0, 0)]).unwrap().compute().unwrap().shape(),
        [0, 3]
    );
    assert!(
        b.argmin(None).unwrap().compute().is_err(),
        "argmin of nothing is an error"
    );
    // Slices that select nothing.
    let x = sample(&[5, 4]);
    let c = array::from_array(&x, &[2, 2]).unwrap();
    assert_eq!(
        c.get(&[Ix::r(3, 1)]).unwrap().compute().unwrap().shape(),
        [0, 4]
    );
    assert_eq!(
        c.get(&[Ix::all(), Ix::s(Some(0), Some(0), -1)])
            .unwrap()
            .compute()
            .unwrap()
            .shape(),
        [5, 0]
    );
    // A mask that selects nothing.
    let none = c.mask(&c.gt_scalar(1e9).unwrap()).unwrap();
    assert_eq!(none.compute().unwrap().len(), 0);
    assert_eq!(none.compute_chunk_sizes().unwrap().shape().unwrap(), [0]);
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let x = sample(&[4, 3]);
    let a = array::from_array(&x, &[2, 2]).unwrap();
    assert!(a
        .tensordot(&a, &[0, 0], &[0, 1])
        .unwrap_err()
        .to_string()
        .contains("bad axes"));
    assert!(a.rechunk(Rechunk::Explicit(vec![vec![], vec![3]])).is_err());
    assert!(a.rechunk(Rechunk::Explicit(vec![vec![4]])).is_err());
    assert!(array::arange::<f64>(0.0, f64::INFINITY, 1.0, 10).is_err());
    assert!(array::zeros::<f64>(&[usize::MAX, 4], &[1, 1]).is_err());
    assert!(a.reshape(&[usize::MAX, 2]).is_err());
    assert!(a.sum(&[5], false).is_err() && a.sum(&[0, 0], false).is_err());
    // Extreme steps select one element or none.
    let got = a
        .get(&[Ix::s(None, None, isize::MAX)])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(got, x.slice(ndarray::s![0..1, ..]).to_owned().into_dyn());
    let got = a
        .get(&[Ix::s(None, None, isize::MIN)])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(got, x.slice(ndarray::s![3..4, ..]).to_owned().into_dyn());
    // Reductions over an empty axis: sums are zero, min / max have no value.
    let e = array::from_array(&ArrayD::<f64>::zeros(IxDyn(&[3, 0])), &[2, 1]).unwrap();
    assert_eq!(e.sum(&[], false).unwrap().compute().unwrap()[[]], 0.0);
    assert!(!e.any(&[], false).unwrap().compute().unwrap()[[]]);
    assert!(e
        .min(&[1], false)
        .unwrap_err()
        .to_string()
        .contains("empty"));
}

#[cfg(feature = "dataframe")]
#[test]
fn dataframes_and_series_become_arrays_with_unknown_row_chunks() {
    use brisk_collections::dataframe::from_polars;
    use polars::prelude::df;
    let pdf = df!("a" => [1i64, 2, 3, 4, 5], "b" => [Some(0.5f64), None, Some(2.5), Some(3.5), Some(4.5)]).unwrap();
    let ddf = from_polars(&pdf, 2).unwrap();
    let a = ddf.to_array::<f64>().unwrap();
    assert_eq!(a.dims(), [None, Some(2)]);
    for ex in executors() {
        let got = a.compute_with(ex.as_ref()).unwrap();
        assert_eq!(got.shape(), [5, 2]);
        assert_eq!(got[[3, 0]], 4.0);
        assert!(got[[1, 1]].is_nan(), "a null becomes NaN");
        assert_eq!(got[[4, 1]], 4.5);
        let known = a.compute_chunk_sizes_with(ex.as_ref()).unwrap();
        assert_eq!(known.chunks()[0], AxisChunks::Known(vec![2, 3]));
        let col = ddf
            .column("a")
            .unwrap()
            .to_array::<i64>()
            .unwrap()
            .compute_with(ex.as_ref())
            .unwrap();
        assert_eq!(col.into_raw_vec_and_offset().0, vec![1, 2, 3, 4, 5]);
    }
}
