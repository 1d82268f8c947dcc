//! DataFrame operations checked against eager Polars on the whole data, with one,
//! several and more partitions than rows.
#![cfg(feature = "dataframe")]

use brisk_collections::dataframe::{from_polars, Agg, DataFrame};
use brisk_core::op::rebuild;
use brisk_core::value::{decode, Value};
use brisk_scheduler as _;
use polars::prelude::*;
use std::collections::HashMap;

/// A frame with ints, floats, strings and nulls.
fn sample(rows: usize) -> polars::prelude::DataFrame {
    let k: Vec<Option<&str>> = (0..rows)
        .map(|i| {
            if i % 11 == 5 {
                None
            } else {
                Some(["a", "b", "c"][i % 3])
            }
        })
        .collect();
    let x: Vec<i64> = (0..rows as i64).map(|i| (i * 7) % 13 - 4).collect();
    let y: Vec<Option<f64>> = (0..rows)
        .map(|i| {
            if i % 7 == 3 {
                None
            } else {
                Some(1e6 + (i as f64) * 0.37)
            }
        })
        .collect();
    df!("k" => k, "x" => x, "y" => y).unwrap()
}

/// Same names, types and values (floats within a relative 1e-9; null where null).
fn assert_same(got: &polars::prelude::DataFrame, want: &polars::prelude::DataFrame) {
    assert_eq!(got.schema(), want.schema(), "schemas");
    assert_eq!(got.height(), want.height(), "heights");
    for (a, b) in got.columns().iter().zip(want.columns()) {
        let (a, b) = (a.as_materialized_series(), b.as_materialized_series());
        if a.dtype().is_float() {
            let (a, b) = (
                a.cast(&DataType::Float64).unwrap(),
                b.cast(&DataType::Float64).unwrap(),
            );
            for (x, y) in a.f64().unwrap().iter().zip(b.f64().unwrap().iter()) {
                match (x, y) {
                    (Some(x), Some(y)) => assert!(
                        (x - y).abs() <= 1e-9 * y.abs().max(1.0) || (x.is_nan() && y.is_nan()),
                        "column {}: {x} vs {y}",
                        a.name()
                    ),
                    (x, y) => assert_eq!(x, y, "column {}", a.name()),
                }
            }
        } else {
            assert!(
                a.equals_missing(b),
                "column {}:\n{got}\nvs\n{want}",
                a.name()
            );
        }
    }
}

const PARTITIONS: [usize; 3] = [1, 4, 1000];

#[test]
fn from_polars_keeps_rows_schema_and_order() {
    let pdf = sample(97);
    for n in PARTITIONS {
        let ddf = from_polars(&pdf, n).unwrap();
        assert_eq!(ddf.npartitions(), n.min(97));
        assert_eq!(ddf.columns(), ["k", "x", "y"]);
        assert_eq!(ddf.dtypes()[1], ("x".to_string(), DataType::Int64));
        assert_same(&ddf.compute().unwrap(), &pdf);
        assert_eq!(ddf.len().unwrap(), 97);
        assert_same(&ddf.head(10).unwrap(), &pdf.head(Some(10)));
        assert_same(&ddf.tail(10).unwrap(), &pdf.tail(Some(10)));
        assert_same(&ddf.head(500).unwrap(), &pdf);
    }
}

#[test]
fn blockwise_chains_match_eager_polars() {
    let pdf = sample(200);
    let eager = pdf
        .clone()
        .lazy()
        .filter(col("x").gt(lit(0)))
        .with_columns([
            (col("y") * col("x")).alias("xy"),
            col("k").str().to_uppercase().alias("K"),
        ])
        .select([col("K"), col("xy"), col("x"), col("y")])
        .rename(["xy"], ["product"], true)
        .drop(by_name(["y"], true, false))
        .with_columns([col("x").strict_cast(DataType::Float64)])
        .collect()
        .unwrap();
    for n in PARTITIONS {
        let got = from_polars(&pdf, n)
            .unwrap()
            .filter(col("x").gt(lit(0)))
            .unwrap()
            .with_columns([
                (col("y") * col("x")).alias("xy"),
                col("k").str().to_uppercase().alias("K"),
            ])
            .unwrap()
            .select([col("K"), col("xy"), col("x"), col("y")])
            .unwrap()
            .rename(&[("xy", "product")])
            .unwrap()
            .drop(&["y"])
            .unwrap()
            .cast(&[("x", DataType::Float64)])
            .unwrap();
        assert_eq!(got.columns(), ["K", "product", "x"]);
        assert_same(&got.compute().unwrap(), &eager);
    }
}

#[test]
fn unknown_columns_are_errors_before_anything_runs() {
    let ddf = from_polars(&sample(10), 2).unwrap();
    let err = ddf.select([col("nope")]).unwrap_err().to_string();
    assert!(err.contains("nope"), "{err}");
    let err = ddf.drop(&["nope"]).unwrap_err().to_string();
    assert_eq!(
        err,
        "no column 'nope'; the columns are [\"k\", \"x\", \"y\"]"
    );
    let err = ddf.agg(&[Agg::sum("nope")]).unwrap_err().to_string();
    assert!(err.starts_with("no column 'nope'"), "{err}");
}

/// The eager Polars expression of an aggregation.
fn eager_expr(a: &Agg) -> Expr {
    use brisk_collections::dataframe::AggKind as K;
    let c = col(a.column.as_str());
    let e = match a.kind {
        K::Count => c.count(),
        K::Size => len(),
        K::Sum => c.sum(),
        K::Mean => c.mean(),
        K::Min => c.min(),
        K::Max => c.max(),
        K::Var(d) => c.var(d),
        K::Std(d) => c.std(d),
        K::NUnique => c.n_unique(),
        K::First => c.first(),
        K::Last => c.last(),
    };
    e.alias(a.name.as_str())
}

fn all_aggs() -> Vec<Agg> {
    vec![
        Agg::count("y").alias("y_count"),
        Agg::size(),
        Agg::sum("x"),
        Agg::sum("y").alias("y_sum"),
        Agg::mean("y").alias("y_mean"),
        Agg::mean("x").alias("x_mean"),
        Agg::min("k").alias("k_min"),
        Agg::max("y").alias("y_max"),
        Agg::var("y", 1).alias("y_var"),
        Agg::std("x", 0).alias("x_std0"),
        Agg::std("y", 1).alias("y_std"),
        Agg::nunique("k").alias("k_nunique"),
        Agg::nunique("x").alias("x_nunique"),
        Agg::first("y").alias("y_first"),
        Agg::last("k").alias("k_last"),
    ]
}

#[test]
fn aggregations_match_eager_polars() {
    let pdf = sample(301);
    let aggs = all_aggs();
    let eager = pdf
        .clone()
        .lazy()
        .select(aggs.iter().map(eager_expr).collect::<Vec<_>>())
        .collect()
        .unwrap();
    for n in PARTITIONS {
        for split_every in [2, 8] {
            let ddf = from_polars(&pdf, n).unwrap();
            let got = ddf.agg_split_every(&aggs, split_every).unwrap();
            assert_eq!(got.npartitions(), 1);
            assert_same(&got.compute().unwrap(), &eager);
        }
    }
    // Partitions left empty by a filter (the first two and the last of five) add
    // nothing: first and last are those of the rows that remain.
    let indexed = pdf.with_row_index("i".into(), None).unwrap();
    let middle = || col("i").gt(lit(130u32)).and(col("i").lt(lit(200u32)));
    let eager = indexed
        .clone()
        .lazy()
        .filter(middle())
        .select(aggs.iter().map(eager_expr).collect::<Vec<_>>())
        .collect()
        .unwrap();
    for split_every in [2, 8] {
        let ddf = from_polars(&indexed, 5).unwrap().filter(middle()).unwrap();
        let got = ddf.agg_split_every(&aggs, split_every).unwrap();
        assert_same(&got.compute().unwrap(), &eager);
    }
    // The shortcuts agree with the same aggregation per column.
    let ddf = from_polars(&pdf, 5).unwrap();
    let mean = ddf.mean().unwrap().compute().unwrap();
    let want = pdf
        .clone()
        .lazy()
        .select([col("x").mean(), col("y").mean()])
        .collect()
        .unwrap();
    assert_same(&mean, &want);
    let counts = ddf.count().unwrap().compute().unwrap();
    let want = pdf
        .clone()
        .lazy()
        .select([col("k").count(), col("x").count(), col("y").count()])
        .collect()
        .unwrap();
    assert_same(&counts, &want);
}

#[test]
fn variance_stays_accurate_with_a_large_mean() {
    // Values near 1e9 with unit spread: a naive sum-of-squares merge loses it all.
    let v: Vec<f64> = (0..10_000).map(|i| 1e9 + (i % 10) as f64).collect();
    let pdf = df!("v" => v).unwrap();
    let got = from_polars(&pdf, 37)
        .unwrap()
        .agg(&[Agg::var("v", 1)])
        .unwrap()
        .compute()
        .unwrap();
    let want = pdf.lazy().select([col("v").var(1)]).collect().unwrap();
    assert_same(&got, &want);
}

fn eager_groupby(
    pdf: &polars::prelude::DataFrame,
    keys: Vec<Expr>,
    aggs: &[Agg],
    sort: &[&str],
) -> polars::prelude::DataFrame {
    pdf.clone()
        .lazy()
        .group_by(keys)
        .agg(aggs.iter().map(eager_expr).collect::<Vec<_>>())
        .sort(
            sort.to_vec(),
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .collect()
        .unwrap()
}

#[test]
fn groupby_aggregations_match_eager_polars() {
    let pdf = sample(250);
    let aggs: Vec<Agg> = all_aggs().into_iter().filter(|a| a.column != "k").collect();
    let want = eager_groupby(&pdf, vec![col("k")], &aggs, &["k"]);
    for n in PARTITIONS {
        for split_every in [2, 8] {
            let ddf = from_polars(&pdf, n).unwrap();
            let got = ddf
                .groupby([col("k")])
                .split_every(split_every)
                .agg(&aggs)
                .unwrap();
            assert_eq!(got.npartitions(), 1);
            assert_same(&got.compute().unwrap(), &want);
        }
    }
}

#[test]
fn groupby_by_derived_keys_with_split_out() {
    let pdf = sample(400);
    let keys = vec![(col("x") % lit(5)).alias("x5"), col("k")];
    let aggs = [Agg::mean("y"), Agg::size().alias("n"), Agg::nunique("x")];
    let want = eager_groupby(&pdf, keys.clone(), &aggs, &["x5", "k"]);
    for n in PARTITIONS {
        let ddf = from_polars(&pdf, n).unwrap();
        let got = ddf.groupby(&keys).split_out(3).agg(&aggs).unwrap();
        assert_eq!(got.npartitions(), 3);
        // Every group lands in exactly one output partition.
        let all = got.compute().unwrap();
        assert_eq!(all.height(), want.height());
        let sorted = all
            .lazy()
            .sort(
                ["x5", "k"],
                SortMultipleOptions::default().with_nulls_last(true),
            )
            .collect()
            .unwrap();
        assert_same(&sorted, &want);
    }
}

#[test]
fn value_counts_match_eager_polars() {
    let pdf = sample(120);
    let got = from_polars(&pdf, 7)
        .unwrap()
        .value_counts("k")
        .unwrap()
        .compute()
        .unwrap();
    let mut want: HashMap<Option<String>, u32> = HashMap::new();
    for v in pdf.column("k").unwrap().str().unwrap().iter() {
        *want.entry(v.map(str::to_string)).or_default() += 1;
    }
    assert_eq!(got.height(), want.len());
    let counts = got.column("count").unwrap().idx().unwrap();
    let keys = got.column("k").unwrap().str().unwrap();
    let mut last = u32::MAX;
    for (k, c) in keys.iter().zip(counts.iter()) {
        let c = c.unwrap();
        assert_eq!(want[&k.map(str::to_string)], c);
        assert!(c <= last, "largest first");
        last = c;
    }
}

/// Runs a DataFrame's graph the way a worker process would: every op rebuilt from
/// its registered name and parameter bytes, every input encoded and decoded.
fn run_rebuilt(ddf: &DataFrame) -> polars::prelude::DataFrame {
    let (graph, keys) = ddf.to_graph().unwrap();
    let tg = graph.lower(&keys).unwrap();
    let mut done: HashMap<usize, Value> = HashMap::new();
    for &t in tg.topological() {
        let op = tg.op(t);
        assert!(!op.is_local_only(), "{} is local-only", op.name());
        let op = rebuild(op.name(), &op.params().unwrap()).unwrap();
        let inputs: Vec<Value> = tg
            .dependencies(t)
            .iter()
            .map(|d| decode(done[&(d.0 as usize)].encode().unwrap()).unwrap())
            .collect();
        done.insert(t.0 as usize, op.call(&inputs).unwrap());
    }
    let mut out: Option<polars::prelude::DataFrame> = None;
    for k in &keys {
        let v = &done[&(tg.id_of(k).unwrap().0 as usize)];
        let df = v
            .downcast_ref::<brisk_collections::dataframe::Frame>()
            .unwrap()
            .0
            .clone();
        match &mut out {
            None => out = Some(df),
            Some(o) => {
                o.vstack_mut(&df).unwrap();
            }
        }
    }
    out.unwrap()
}

#[test]
fn plans_rebuild_from_their_bytes_like_on_a_worker() {
    let pdf = sample(150);
    let ddf = from_polars(&pdf, 4)
        .unwrap()
        .filter(col("y").is_not_null())
        .unwrap()
        .with_columns([(col("x") * lit(2)).alias("x2")])
        .unwrap();
    let local = ddf.compute().unwrap();
    assert_same(&run_rebuilt(&ddf), &local);
    let grouped = ddf
        .groupby([col("k")])
        .split_every(2)
        .agg(&[Agg::mean("x2"), Agg::std("y", 1)])
        .unwrap();
    assert_same(&run_rebuilt(&grouped), &grouped.compute().unwrap());
}

#[test]
fn fused_parquet_reads_rebuild_from_their_bytes_like_on_a_worker() {
    use brisk_collections::dataframe::{read_parquet, ParquetOptions};
    use brisk_collections::datasets::{nyc_taxi, TaxiFormat};
    let dir = std::env::temp_dir().join(format!("brisk-df-rebuild-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    nyc_taxi(4 * 300, 4, 7, &dir, TaxiFormat::Parquet).unwrap();
    let options = ParquetOptions {
        aggregate_files: true,
        ..Default::default()
    };
    let ddf = read_parquet(&[&format!("{}/*.parquet", dir.display())], &options).unwrap();
    let grouped = ddf
        .filter(col("fare_amount").gt(lit(0.0)))
        .unwrap()
        .groupby([col("payment_type")])
        .agg(&[Agg::mean("tip_amount"), Agg::size()])
        .unwrap();
    let (graph, _) = grouped.to_graph().unwrap();
    assert!(graph.layers().iter().any(|l| l.name.contains("fused")));
    assert_same(&run_rebuilt(&grouped), &grouped.compute().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The partitions of a frame, computed one by one.
fn partitions(ddf: &DataFrame) -> Vec<polars::prelude::DataFrame> {
    let (graph, keys) = ddf.to_graph().unwrap();
    brisk_core::executor::default_executor()
        .unwrap()
        .get(&graph, &keys)
        .unwrap()
        .iter()
        .map(|v| {
            v.downcast_ref::<brisk_collections::dataframe::Frame>()
                .unwrap()
                .0
                .clone()
        })
        .collect()
}

fn sorted(df: polars::prelude::DataFrame, by: &[&str]) -> polars::prelude::DataFrame {
    df.lazy()
        .sort(
            by.to_vec(),
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .collect()
        .unwrap()
}

#[test]
fn shuffle_puts_each_key_in_one_partition() {
    let pdf = sample(300);
    for n in PARTITIONS {
        let ddf = from_polars(&pdf, n).unwrap().shuffle(&["x"], 4).unwrap();
        assert_eq!(ddf.npartitions(), 4);
        let parts = partitions(&ddf);
        let mut seen: HashMap<i64, usize> = HashMap::new();
        for (j, p) in parts.iter().enumerate() {
            for x in p.column("x").unwrap().i64().unwrap().iter().flatten() {
                assert_eq!(*seen.entry(x).or_insert(j), j, "key {x} in two partitions");
            }
        }
        assert_same(
            &sorted(ddf.compute().unwrap(), &["x", "y", "k"]),
            &sorted(pdf.clone(), &["x", "y", "k"]),
        );
    }
}

#[test]
fn merges_match_eager_polars_joins() {
    use brisk_collections::dataframe::How;
    let left = sample(200);
    let right = df!(
        "x" => [-4i64, -3, 0, 1, 2, 3, 5, 7, 100],
        "label" => ["m4", "m3", "z", "o", "t", "th", "f", "s", "h"],
        "y" => [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5]
    )
    .unwrap();
    for (how, jt) in [
        (How::Inner, JoinType::Inner),
        (How::Left, JoinType::Left),
        (How::Outer, JoinType::Full),
    ] {
        let args = JoinArgs::new(jt)
            .with_suffix(Some("_right".into()))
            .with_coalesce(JoinCoalesce::CoalesceColumns);
        let want = left
            .clone()
            .lazy()
            .join(right.clone().lazy(), [col("x")], [col("x")], args)
            .collect()
            .unwrap();
        let order = ["x", "y", "k", "label", "y_right"];
        for (nl, nr) in [(1, 1), (4, 1), (5, 3), (1000, 2)] {
            let got = from_polars(&left, nl)
                .unwrap()
                .merge(&from_polars(&right, nr).unwrap(), &["x"], &["x"], how)
                .unwrap();
            assert_eq!(
                got.columns(),
                want.get_column_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
            );
            assert_same(
                &sorted(got.compute().unwrap(), &order),
                &sorted(want.clone(), &order),
            );
        }
    }
}

#[test]
fn drop_duplicates_matches_eager_unique() {
    let pdf = sample(240);
    for n in PARTITIONS {
        let ddf = from_polars(&pdf, n).unwrap();
        let got = ddf.drop_duplicates(&["k", "x"]).unwrap().compute().unwrap();
        let want = pdf
            .clone()
            .lazy()
            .unique_stable_generic(Some(vec![col("k"), col("x")]), UniqueKeepStrategy::First)
            .collect()
            .unwrap();
        assert_same(&sorted(got, &["k", "x"]), &sorted(want, &["k", "x"]));
        let all = ddf
            .select([col("k")])
            .unwrap()
            .drop_duplicates(&[])
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(all.height(), 4, "a, b, c and null");
    }
}

#[test]
fn sort_values_and_set_index_sort_across_partitions() {
    let pdf = sample(500);
    for n in PARTITIONS {
        let ddf = from_polars(&pdf, n).unwrap();
        let got = ddf.sort_values("y", false).unwrap();
        let want = sorted(pdf.clone(), &["y"]);
        assert_same(&got.compute().unwrap(), &want);
        let desc = ddf.sort_values("x", true).unwrap().compute().unwrap();
        let want = pdf
            .clone()
            .lazy()
            .sort(
                ["x"],
                SortMultipleOptions::default()
                    .with_order_descending(true)
                    .with_maintain_order(true),
            )
            .collect()
            .unwrap();
        assert_same(&desc, &want);
        let indexed = ddf.set_index("x").unwrap();
        let div = indexed.divisions().expect("set_index knows its divisions");
        assert_eq!(div.column, "x");
        // Every partition's values lie between its boundaries.
        for (j, p) in partitions(&indexed).iter().enumerate() {
            for x in p.column("x").unwrap().i64().unwrap().iter().flatten() {
                if let Some(hi) = div.boundaries.get(j) {
                    assert!(AnyValue::Int64(x) <= *hi);
                }
                if j > 0 && j <= div.boundaries.len() {
                    assert!(AnyValue::Int64(x) > div.boundaries[j - 1]);
                }
            }
        }
    }
}

#[test]
fn repartition_keeps_rows_in_order() {
    let pdf = sample(101);
    for n in [1, 3, 8] {
        let ddf = from_polars(&pdf, n).unwrap();
        for k in [1, 2, 5, 20] {
            let r = ddf.repartition(k).unwrap();
            assert_eq!(r.npartitions(), k);
            assert_same(&r.compute().unwrap(), &pdf);
        }
    }
    let by_size = from_polars(&pdf, 1)
        .unwrap()
        .repartition_by_size(500)
        .unwrap();
    assert!(by_size.npartitions() > 1);
    assert_same(&by_size.compute().unwrap(), &pdf);
}

#[test]
fn groupby_apply_sees_whole_groups() {
    let pdf = sample(333);
    let spread =
        |g: &polars::prelude::DataFrame| -> brisk_core::Result<polars::prelude::DataFrame> {
            Ok(g.clone()
                .lazy()
                .select([
                    col("k").first(),
                    (col("x").max() - col("x").min()).alias("spread"),
                    len().alias("n"),
                ])
                .collect()
                .unwrap())
        };
    let want = pdf
        .clone()
        .lazy()
        .group_by([col("k")])
        .agg([
            (col("x").max() - col("x").min()).alias("spread"),
            len().alias("n"),
        ])
        .collect()
        .unwrap();
    for n in PARTITIONS {
        let got = from_polars(&pdf, n)
            .unwrap()
            .groupby([col("k")])
            .apply(("spread", spread))
            .unwrap()
            .compute()
            .unwrap();
        assert_same(&sorted(got, &["k"]), &sorted(want.clone(), &["k"]));
    }
}

#[test]
fn approx_nunique_is_within_two_percent() {
    // 200,000 distinct integers (each twice) and a few nulls, in 9 partitions.
    let v: Vec<Option<i64>> = (0..400_000i64)
        .map(|i| {
            if i % 1000 == 7 {
                None
            } else {
                Some((i * 7919) % 200_000)
            }
        })
        .collect();
    let pdf = df!("v" => v).unwrap();
    let exact = pdf.column("v").unwrap().drop_nulls().n_unique().unwrap() as f64;
    let got = from_polars(&pdf, 9)
        .unwrap()
        .approx_nunique("v")
        .unwrap()
        .compute()
        .unwrap();
    let est = got.column("v").unwrap().u64().unwrap().get(0).unwrap() as f64;
    assert!((est - exact).abs() / exact <= 0.02, "{est} vs {exact}");
    // Small counts are (nearly) exact: linear counting.
    let small = df!("s" => ["a", "b", "c", "a", "b", "d"]).unwrap();
    let got = from_polars(&small, 4)
        .unwrap()
        .approx_nunique("s")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(got.column("s").unwrap().u64().unwrap().get(0), Some(4));
}

#[test]
fn describe_matches_eager_statistics() {
    let v: Vec<f64> = (0..10_000).map(|i| ((i * 37) % 1000) as f64).collect();
    let pdf =
        df!("v" => v.clone(), "w" => (0..10_000i64).collect::<Vec<_>>(), "s" => vec!["x"; 10_000])
            .unwrap();
    let d = from_polars(&pdf, 6).unwrap().describe().unwrap();
    assert_eq!(d.get_column_names(), ["statistic", "v", "w"]);
    let col_v = d.column("v").unwrap().f64().unwrap();
    let exact = pdf
        .clone()
        .lazy()
        .select([
            col("v").count().cast(DataType::Float64),
            col("v").mean().alias("mean"),
            col("v").std(1).alias("std"),
            col("v").min().alias("min"),
            col("v").max().alias("max"),
        ])
        .collect()
        .unwrap();
    let e = |name: &str| exact.column(name).unwrap().f64().unwrap().get(0).unwrap();
    assert_eq!(col_v.get(0), Some(10_000.0));
    assert!((col_v.get(1).unwrap() - e("mean")).abs() < 1e-9);
    assert!((col_v.get(2).unwrap() - e("std")).abs() < 1e-9);
    assert_eq!(col_v.get(3), Some(e("min")));
    assert_eq!(col_v.get(7), Some(e("max")));
    // Percentiles of a uniform 0..999 spread: within 2 % of the range.
    for (row, q) in [(4, 250.0), (5, 500.0), (6, 750.0)] {
        let got = col_v.get(row).unwrap();
        assert!((got - q).abs() <= 20.0, "{q}: {got}");
    }
}

#[test]
fn series_reductions_match_eager_polars() {
    let pdf = sample(211);
    let ddf = from_polars(&pdf, 5).unwrap();
    let y = ddf.column("y").unwrap();
    assert_eq!(y.name(), "y");
    assert_eq!(y.dtype(), &DataType::Float64);
    let eager = pdf.column("y").unwrap().as_materialized_series().clone();
    assert!(y.compute().unwrap().equals_missing(&eager));
    assert!(y.head(7).unwrap().equals_missing(&eager.head(Some(7))));
    assert_eq!(y.len().unwrap(), 211);
    let m = y.mean().unwrap().compute_f64().unwrap();
    assert!((m - eager.mean().unwrap()).abs() < 1e-9);
    let s = y.std(1).unwrap().compute_f64().unwrap();
    assert!((s - eager.std(1).unwrap()).abs() < 1e-9);
    assert_eq!(
        y.count().unwrap().compute().unwrap(),
        AnyValue::UInt32((211 - eager.null_count()) as u32)
    );
    let k = ddf.column("k").unwrap();
    assert_eq!(k.nunique().unwrap().compute().unwrap(), AnyValue::UInt32(4));
    assert_eq!(k.unique().unwrap().len().unwrap(), 4);
    assert_eq!(
        k.max().unwrap().compute().unwrap(),
        AnyValue::StringOwned("c".into())
    );
    assert!(ddf.column("nope").is_err());
}

/// A blockwise method runs each partition alone, so an expression that reads
/// across rows would give one answer per partition (on `x = 1..8` in 4 partitions,
/// `sum` gave `[3, 7, 11, 15]`, `cum_sum` restarted in each partition and `shift`
/// put a null at each partition's start). Such expressions are refused, naming the
/// expression; row-wise ones give eager Polars' answer.
#[test]
fn expressions_that_read_across_rows_are_refused_not_answered_per_partition() {
    let pdf = df!("x" => (1..=8i64).collect::<Vec<_>>()).unwrap();
    let ddf = from_polars(&pdf, 4).unwrap();
    assert_eq!(ddf.npartitions(), 4);
    let refused = [
        ddf.select([col("x").sum()]).map(|_| ()),
        ddf.select([col("x").cum_sum(false)]).map(|_| ()),
        ddf.with_columns([col("x").shift(lit(1)).alias("prev")])
            .map(|_| ()),
        ddf.filter(col("x").gt(col("x").mean())).map(|_| ()),
        ddf.select([col("x").head(Some(2))]).map(|_| ()),
    ];
    for (r, what) in refused
        .into_iter()
        .zip(["sum()", "cum_sum", "shift", "mean()", "head"])
    {
        let message = r.unwrap_err().to_string();
        assert!(
            message.contains("runs on each partition alone"),
            "{message}"
        );
        assert!(message.contains(what), "{what}: {message}");
    }
    // Row-wise steps are fine, and the whole-frame sum is `agg`'s.
    let got = ddf
        .with_columns([(col("x") * lit(2)).alias("y")])
        .unwrap()
        .filter(col("y").gt(lit(4)))
        .unwrap()
        .compute()
        .unwrap();
    let want = pdf
        .clone()
        .lazy()
        .with_columns([(col("x") * lit(2)).alias("y")])
        .filter(col("y").gt(lit(4)))
        .collect()
        .unwrap();
    assert!(got.equals(&want), "{got} {want}");
    let total = ddf.agg(&[Agg::sum("x")]).unwrap().compute().unwrap();
    assert_eq!(
        total
            .column("x")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0),
        Some(36)
    );
}

/// Two aggregations of one column would share its name: refused with the name and
/// how to tell them apart (not a plan dump of internal names); with aliases both
/// are computed.
#[test]
fn aggregations_whose_results_share_a_name_are_refused_by_name() {
    let pdf = df!("k" => [1i64, 1, 2, 2], "delay" => [1.0, 3.0, 5.0, 7.0]).unwrap();
    let ddf = from_polars(&pdf, 2).unwrap();
    let message = ddf
        .groupby([col("k")])
        .agg(&[Agg::count("delay"), Agg::mean("delay")])
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "groupby(...).agg: the result would have more than one column named \"delay\"; \
         name each aggregation with `Agg::alias` (for example \
         `Agg::mean(\"delay\").alias(\"delay_mean\")`)"
    );
    assert!(!message.contains("__brisk"));
    let key_too = ddf.groupby([col("k")]).agg(&[Agg::count("k")]).unwrap_err();
    assert!(key_too.to_string().contains("named \"k\""), "{key_too}");
    let whole = ddf
        .agg(&[Agg::min("delay"), Agg::max("delay")])
        .unwrap_err();
    assert!(whole.to_string().starts_with("agg: the result"), "{whole}");
    let got = ddf
        .groupby([col("k")])
        .agg(&[
            Agg::count("delay").alias("delay_count"),
            Agg::mean("delay").alias("delay_mean"),
        ])
        .unwrap()
        .compute()
        .unwrap()
        .sort(["k"], Default::default())
        .unwrap();
    let mean = got.column("delay_mean").unwrap().f64().unwrap();
    assert_eq!((mean.get(0), mean.get(1)), (Some(2.0), Some(6.0)));
}
