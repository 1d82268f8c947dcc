//! Array indexing, structure and creation checked against eager ndarray, on the
//! local scheduler and on the rebuilding executor: slices, masks, rechunk,
//! transpose, reshape, concatenation, products, creation, user functions.

mod support;

use brisk_collections::array::{
    self, concatenate, stack, Array, AxisChunks, ChunkSpec, Ix, Rechunk,
};
use ndarray::{ArrayD, Axis, IxDyn};
use support::*;

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
        .map_blocks::<f64, _>(("double", |b: &ArrayD<f64>| Ok(b * 2.0)), None)
        .unwrap();
    close(&doubled.compute().unwrap(), &(&x * 2.0), "map_blocks");
    let b = array::from_array(&x, &[2, 2]).unwrap();
    let hypot = |bs: &[&ArrayD<f64>]| {
        Ok(ndarray::Zip::from(bs[0])
            .and(bs[1])
            .map_collect(|p, q| p.hypot(*q)))
    };
    let s = array::blockwise::<f64, f64>(("hypot", hypot), &[&a, &b]).unwrap();
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
