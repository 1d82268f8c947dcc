//! Methods whose answer at a row reads other rows, computed across partitions:
//! `cumsum` / `cumprod` / `cummin` / `cummax`, `shift` / `diff`, `rolling`, and
//! the approximate `quantile` / `median`; and sums of small integers that must
//! not wrap. Each is checked against eager Polars (or, for rolling windows,
//! which this Polars build lacks, each window computed from scratch) on the
//! same rows, split one partition, a few, one row per partition, and with
//! partitions left empty by a filter; nulls included; on the local scheduler and
//! with every op rebuilt from its bytes, as a worker process would.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::{from_polars, Agg, DataFrame};
use brisk_core::executor::Executor;
use brisk_scheduler as _;
use polars::prelude::*;

mod support;

/// `i` (a row number), `x` (Int64 with nulls), `y` (Float64 with nulls), `s`
/// (Int32 with nulls), `u` (UInt32), `k` (strings). (This Polars build has no
/// 8- or 16-bit integer types.)
fn sample(rows: usize) -> polars::prelude::DataFrame {
    let i: Vec<i64> = (0..rows as i64).collect();
    let x: Vec<Option<i64>> = (0..rows as i64)
        .map(|i| (i % 5 != 2).then_some((i * 7) % 13 - 4))
        .collect();
    let y: Vec<Option<f64>> = (0..rows)
        .map(|i| (i % 7 != 3).then_some(((i * 37) % 23) as f64 * 0.25 - 2.0))
        .collect();
    let s: Vec<Option<i32>> = (0..rows as i32)
        .map(|i| (i % 6 != 4).then_some((i * 5) % 9 + 1))
        .collect();
    let u: Vec<u32> = (0..rows).map(|i| ((i * 11) % 17) as u32).collect();
    let k: Vec<&str> = (0..rows).map(|i| ["a", "b", "c"][i % 3]).collect();
    df!("i" => i, "x" => x, "y" => y, "s" => s, "u" => u, "k" => k).unwrap()
}

/// Rows outside 4..12, 28..32 and 37: with 40 rows in 10 partitions of 4,
/// partitions 1, 2 and 7 are left empty and partition 9 short.
fn kept() -> Expr {
    let i = || col("i");
    let dropped = (i().gt_eq(lit(4)).and(i().lt(lit(12))))
        .or(i().gt_eq(lit(28)).and(i().lt(lit(32))))
        .or(i().eq(lit(37)));
    dropped.not()
}

/// The frames each test runs on: a label, the partitioned frame and eager
/// Polars' frame of the same rows.
fn cases() -> Vec<(String, DataFrame, polars::prelude::DataFrame)> {
    let pdf = sample(40);
    let mut out: Vec<(String, DataFrame, polars::prelude::DataFrame)> = [1, 3, 40]
        .into_iter()
        .map(|n| {
            (
                format!("{n} partitions"),
                from_polars(&pdf, n).unwrap(),
                pdf.clone(),
            )
        })
        .collect();
    let filtered = from_polars(&pdf, 10).unwrap().filter(kept()).unwrap();
    let want = pdf.clone().lazy().filter(kept()).collect().unwrap();
    out.push(("empty partitions".into(), filtered, want));
    out
}

/// Same names, types and values (floats within a relative 1e-9; null where null).
fn assert_same(got: &polars::prelude::DataFrame, want: &polars::prelude::DataFrame, what: &str) {
    assert_eq!(got.schema(), want.schema(), "{what}: schemas");
    assert_eq!(got.height(), want.height(), "{what}: heights");
    for (a, b) in got.columns().iter().zip(want.columns()) {
        let (a, b) = (a.as_materialized_series(), b.as_materialized_series());
        if a.dtype().is_float() {
            let (a, b) = (
                a.cast(&DataType::Float64).unwrap(),
                b.cast(&DataType::Float64).unwrap(),
            );
            for (r, (x, y)) in a
                .f64()
                .unwrap()
                .iter()
                .zip(b.f64().unwrap().iter())
                .enumerate()
            {
                match (x, y) {
                    (Some(x), Some(y)) => assert!(
                        (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                        "{what}: column {} row {r}: {x} vs {y}",
                        a.name()
                    ),
                    (x, y) => assert_eq!(x, y, "{what}: column {} row {r}", a.name()),
                }
            }
        } else {
            assert!(
                a.equals_missing(b),
                "{what}: column {}:\n{got}\nvs\n{want}",
                a.name()
            );
        }
    }
}

/// `got` computed on each executor, against `want`.
fn check(got: &DataFrame, want: &polars::prelude::DataFrame, what: &str) {
    for executor in support::executors() {
        let executor: &dyn Executor = executor.as_ref();
        assert_same(&got.compute_with(executor).unwrap(), want, what);
    }
}

fn eager(pdf: &polars::prelude::DataFrame, exprs: Vec<Expr>) -> polars::prelude::DataFrame {
    pdf.clone().lazy().with_columns(exprs).collect().unwrap()
}

#[test]
fn cumulative_scans_match_eager_polars_across_partitions() {
    let numeric = ["i", "x", "y", "s", "u"];
    // Sums and products of small integers accumulate in 64 bits.
    let wide = |c: &str| match c {
        "s" | "q" => col(c).cast(DataType::Int64),
        "u" => col(c).cast(DataType::UInt64),
        _ => col(c),
    };
    for (label, ddf, pdf) in cases() {
        let what = |m: &str| format!("{m} on {label}");
        let want = eager(
            &pdf,
            numeric.iter().map(|c| wide(c).cum_sum(false)).collect(),
        );
        check(&ddf.cumsum(&[]).unwrap(), &want, &what("cumsum"));
        let want = eager(&pdf, vec![col("x").cum_min(false), col("y").cum_min(false)]);
        check(&ddf.cummin(&["x", "y"]).unwrap(), &want, &what("cummin"));
        let want = eager(&pdf, vec![col("s").cum_max(false), col("u").cum_max(false)]);
        check(&ddf.cummax(&["s", "u"]).unwrap(), &want, &what("cummax"));
        // Products of values near 1 (so that 40 of them stay small): a float
        // column and an Int32 one of 1s and 2s.
        let near_one = [
            (col("y") / lit(8.0) + lit(1.0)).alias("p"),
            (col("s") % lit(2) + lit(1)).alias("q"),
        ];
        let ddf = ddf.with_columns(near_one.clone()).unwrap();
        let pdf = eager(&pdf, near_one.to_vec());
        let want = eager(
            &pdf,
            vec![col("p").cum_prod(false), wide("q").cum_prod(false)],
        );
        check(&ddf.cumprod(&["p", "q"]).unwrap(), &want, &what("cumprod"));
    }
}

#[test]
fn cumulative_sums_of_int32_do_not_wrap() {
    let big = vec![2_000_000_000i32; 6];
    let pdf = df!("v" => big, "w" => vec![4_000_000_000u32; 6]).unwrap();
    let got = from_polars(&pdf, 3).unwrap().cumsum(&[]).unwrap();
    assert_eq!(
        got.dtypes(),
        [
            ("v".to_string(), DataType::Int64),
            ("w".to_string(), DataType::UInt64)
        ]
    );
    let got = got.compute().unwrap();
    let v: Vec<Option<i64>> = (1..=6).map(|n| Some(n * 2_000_000_000)).collect();
    let w: Vec<Option<u64>> = (1..=6).map(|n| Some(n * 4_000_000_000)).collect();
    assert_eq!(got.column("v").unwrap().i64().unwrap().to_vec(), v);
    assert_eq!(got.column("w").unwrap().u64().unwrap().to_vec(), w);
}

#[test]
fn cumulative_scans_refuse_columns_that_are_not_numbers() {
    let ddf = from_polars(&sample(10), 2).unwrap();
    let message = ddf.cumsum(&["k"]).unwrap_err().to_string();
    assert!(
        message.contains("cumsum") && message.contains("'k'"),
        "{message}"
    );
    assert!(ddf.cummax(&["nope"]).is_err());
}

#[test]
fn shift_matches_eager_polars_for_periods_longer_than_partitions() {
    for (label, ddf, pdf) in cases() {
        for n in [0i64, 1, 2, 3, 5, 9, 50, -1, -2, -5, -9, -50] {
            let what = format!("shift({n}) on {label}");
            let all: Vec<Expr> = pdf
                .get_column_names()
                .iter()
                .map(|c| col(c.as_str()).shift(lit(n)))
                .collect();
            check(&ddf.shift(n, &[]).unwrap(), &eager(&pdf, all), &what);
            let some = vec![col("y").shift(lit(n)), col("k").shift(lit(n))];
            check(
                &ddf.shift(n, &["y", "k"]).unwrap(),
                &eager(&pdf, some),
                &what,
            );
        }
    }
}

/// Polars' `diff` (not in this build) is `x - x.shift(n)` with unsigned types
/// made signed first (polars-ops `series/ops/diff.rs`).
#[test]
fn diff_matches_x_minus_x_shifted_in_eager_polars() {
    for (label, ddf, pdf) in cases() {
        for n in [1i64, 2, 7, -1, -3, -41] {
            let what = format!("diff({n}) on {label}");
            let d = |c: &str, t: Option<DataType>| {
                let x = || match &t {
                    Some(t) => col(c).cast(t.clone()),
                    None => col(c),
                };
                (x() - x().shift(lit(n))).alias(c)
            };
            let want = eager(
                &pdf,
                vec![
                    d("i", None),
                    d("x", None),
                    d("y", None),
                    d("s", None),
                    d("u", Some(DataType::Int64)),
                ],
            );
            check(&ddf.diff(n, &[]).unwrap(), &want, &what);
        }
    }
}

/// Each window of a column computed from scratch: `f` of its non-null values,
/// null with fewer than `min` of them.
fn by_hand(
    pdf: &polars::prelude::DataFrame,
    column: &str,
    window: usize,
    min: usize,
    f: impl Fn(&[f64]) -> Option<f64>,
) -> Column {
    let values = pdf
        .column(column)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let values: Vec<Option<f64>> = values.f64().unwrap().iter().collect();
    let out: Vec<Option<f64>> = (0..values.len())
        .map(|i| {
            let xs: Vec<f64> = values[(i + 1).saturating_sub(window)..=i]
                .iter()
                .flatten()
                .copied()
                .collect();
            if xs.len() < min {
                None
            } else {
                f(&xs)
            }
        })
        .collect();
    Column::new(column.into(), out)
}

fn variance(xs: &[f64], ddof: usize) -> Option<f64> {
    let n = xs.len();
    (n > ddof).then(|| {
        let mean = xs.iter().sum::<f64>() / n as f64;
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - ddof) as f64
    })
}

#[test]
fn rolling_windows_match_each_window_computed_from_scratch() {
    type Stat = fn(&[f64]) -> Option<f64>;
    let stats: [(&str, Stat); 6] = [
        ("sum", |xs| Some(xs.iter().sum())),
        ("mean", |xs| {
            (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
        }),
        ("min", |xs| xs.iter().copied().reduce(f64::min)),
        ("max", |xs| xs.iter().copied().reduce(f64::max)),
        ("var", |xs| variance(xs, 1)),
        ("std", |xs| variance(xs, 1).map(f64::sqrt)),
    ];
    for (label, ddf, pdf) in cases() {
        for window in [1usize, 3, 6, 45] {
            for min_periods in [None, Some(1)] {
                let mut rolling = ddf.rolling(window).columns(&["x", "y", "s"]);
                if let Some(m) = min_periods {
                    rolling = rolling.min_periods(m);
                }
                let min = min_periods.unwrap_or(window);
                for (name, f) in stats {
                    let got = match name {
                        "sum" => rolling.sum(),
                        "mean" => rolling.mean(),
                        "min" => rolling.min(),
                        "max" => rolling.max(),
                        "var" => rolling.var(1),
                        _ => rolling.std(1),
                    }
                    .unwrap();
                    let mut want = pdf.clone();
                    for c in ["x", "y", "s"] {
                        want.with_column(by_hand(&pdf, c, window, min, f)).unwrap();
                    }
                    let what = format!("rolling({window}, {min_periods:?}).{name} on {label}");
                    check(&got, &want, &what);
                }
            }
        }
    }
}

#[test]
fn rolling_refuses_empty_windows_and_min_periods_past_the_window() {
    let ddf = from_polars(&sample(10), 2).unwrap();
    assert!(ddf.rolling(0).sum().is_err());
    let message = ddf
        .rolling(3)
        .min_periods(4)
        .mean()
        .unwrap_err()
        .to_string();
    assert!(message.contains("min_periods 4"), "{message}");
    assert!(ddf.rolling(2).columns(&["k"]).max().is_err());
}

/// Approximate quantiles, within 1 % of the range of eager Polars' exact ones
/// (the values are a shuffled 0..1000, nulls left out).
#[test]
fn quantiles_are_within_one_percent_of_eager_polars() {
    let rows = 4000usize;
    let v: Vec<Option<f64>> = (0..rows)
        .map(|i| (i % 9 != 4).then_some(((i * 7919) % 1000) as f64))
        .collect();
    let w: Vec<i32> = (0..rows as i32).map(|i| (i * 31) % 1000).collect();
    let pdf = df!("v" => v, "w" => w, "i" => (0..rows as i64).collect::<Vec<_>>()).unwrap();
    let qs = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0];
    let holes = col("i").gt_eq(lit(400)).and(col("i").lt(lit(1600))).not();
    let splits = [
        ("1 partition", from_polars(&pdf, 1).unwrap(), pdf.clone()),
        ("7 partitions", from_polars(&pdf, 7).unwrap(), pdf.clone()),
        (
            "empty partitions",
            from_polars(&pdf, 10)
                .unwrap()
                .filter(holes.clone())
                .unwrap(),
            pdf.clone().lazy().filter(holes).collect().unwrap(),
        ),
    ];
    for (label, ddf, pdf) in splits {
        let got = ddf.quantile(&qs).unwrap();
        assert_eq!(got.npartitions(), 1);
        let got = got.compute().unwrap();
        assert_eq!(got.get_column_names(), ["quantile", "v", "w", "i"]);
        let qcol = got.column("quantile").unwrap().f64().unwrap().to_vec();
        assert_eq!(qcol, qs.map(Some));
        for c in ["v", "w", "i"] {
            let s = pdf.column(c).unwrap().as_materialized_series();
            let range = (s.max::<f64>().unwrap().unwrap() - s.min::<f64>().unwrap().unwrap()).abs();
            for (row, q) in qs.iter().enumerate() {
                let exact = s.quantile_reduce(*q, QuantileMethod::Linear).unwrap();
                let exact = exact.value().extract::<f64>().unwrap();
                let approx = got.column(c).unwrap().f64().unwrap().get(row).unwrap();
                assert!(
                    (approx - exact).abs() <= 0.01 * range,
                    "{label}: {c} q={q}: {approx} vs {exact}"
                );
            }
        }
        let median = ddf.median().unwrap().compute().unwrap();
        assert_eq!(median.get_column_names(), ["v", "w", "i"]);
        for c in ["v", "w", "i"] {
            let m = median.column(c).unwrap().f64().unwrap().get(0).unwrap();
            assert_eq!(
                Some(m),
                got.column(c).unwrap().f64().unwrap().get(3),
                "{label}"
            );
        }
        let series = ddf
            .column("v")
            .unwrap()
            .quantile(0.5)
            .unwrap()
            .compute_f64()
            .unwrap();
        assert_eq!(Some(series), got.column("v").unwrap().f64().unwrap().get(3));
    }
}

#[test]
fn quantiles_of_few_values_and_of_none() {
    // One partition of five values: the samples are its linear quantiles.
    let pdf = df!("x" => [Some(5.0), None, Some(1.0), Some(3.0), Some(2.0), Some(4.0)]).unwrap();
    for n in [1, 2, 6] {
        let ddf = from_polars(&pdf, n).unwrap();
        let m = ddf
            .column("x")
            .unwrap()
            .median()
            .unwrap()
            .compute_f64()
            .unwrap();
        assert!((m - 3.0).abs() <= 0.5, "{n} partitions: {m}");
        let ends = ddf.quantile(&[0.0, 1.0]).unwrap().compute().unwrap();
        let ends = ends.column("x").unwrap().f64().unwrap().to_vec();
        assert!(
            ends[0].unwrap() >= 1.0 && ends[1].unwrap() <= 5.0,
            "{ends:?}"
        );
    }
    let none = from_polars(&pdf, 2)
        .unwrap()
        .filter(col("x").gt(lit(10.0)))
        .unwrap();
    let q = none.quantile(&[0.5]).unwrap().compute().unwrap();
    assert_eq!(q.column("x").unwrap().f64().unwrap().get(0), None);
    let ddf = from_polars(&pdf, 2).unwrap();
    assert!(ddf.quantile(&[1.5]).is_err());
    assert!(ddf.quantile(&[]).is_err());
}

#[test]
fn sums_of_small_integers_do_not_wrap() {
    let pdf = df!(
        "k" => ["a", "b", "a", "b"],
        "i32" => [2_000_000_000i32, 2_000_000_000, 2_000_000_000, -5],
        "u32" => [4_000_000_000u32; 4]
    )
    .unwrap();
    let ddf = from_polars(&pdf, 2).unwrap();
    let sums = ddf.sum().unwrap();
    let t = |n: &str, t: DataType| (n.to_string(), t);
    assert_eq!(
        sums.dtypes(),
        [t("i32", DataType::Int64), t("u32", DataType::UInt64)]
    );
    let sums = sums.compute().unwrap();
    assert_eq!(
        sums.column("i32").unwrap().i64().unwrap().get(0),
        Some(5_999_999_995)
    );
    assert_eq!(
        sums.column("u32").unwrap().u64().unwrap().get(0),
        Some(16_000_000_000)
    );
    let by_k = ddf
        .groupby([col("k")])
        .agg(&[Agg::sum("i32"), Agg::sum("u32")])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(
        by_k.column("i32").unwrap().i64().unwrap().to_vec(),
        [Some(4_000_000_000), Some(1_999_999_995)]
    );
    assert_eq!(
        by_k.column("u32").unwrap().u64().unwrap().to_vec(),
        [Some(8_000_000_000), Some(8_000_000_000)]
    );
}

/// On x = 1..8 in 4 partitions, a per-partition `sum`, `cum_sum` or `shift`
/// gave wrong answers; they are refused, naming the method that computes them
/// across partitions, and those methods give eager Polars' answers.
#[test]
fn refused_expressions_name_the_method_that_computes_them() {
    let pdf = df!("x" => (1..=8i64).collect::<Vec<_>>()).unwrap();
    let ddf = from_polars(&pdf, 4).unwrap();
    for (refused, method) in [
        (ddf.select([col("x").sum()]), "`agg` (or `sum`"),
        (ddf.select([col("x").cum_sum(false)]), "`DataFrame::cumsum`"),
        (
            ddf.with_columns([col("x").shift(lit(1)).alias("prev")]),
            "`DataFrame::shift`",
        ),
    ] {
        let message = refused.unwrap_err().to_string();
        assert!(message.contains(method), "{method}: {message}");
    }
    let sum = ddf.sum().unwrap().compute().unwrap();
    assert_same(&sum, &eager_select(&pdf, col("x").sum()), "sum");
    let running = ddf.cumsum(&["x"]).unwrap().compute().unwrap();
    assert_same(
        &running,
        &eager_select(&pdf, col("x").cum_sum(false)),
        "cumsum",
    );
    let shifted = ddf.shift(1, &[]).unwrap().compute().unwrap();
    assert_same(
        &shifted,
        &eager_select(&pdf, col("x").shift(lit(1))),
        "shift",
    );
}

fn eager_select(pdf: &polars::prelude::DataFrame, e: Expr) -> polars::prelude::DataFrame {
    pdf.clone().lazy().select([e]).collect().unwrap()
}
