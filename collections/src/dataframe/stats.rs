//! Approximate statistics: distinct counts by HyperLogLog, and `describe()` with
//! percentiles from `quantile.rs`.

use super::agg::Agg;
use super::dataframe::DataFrame;
use super::reduction::Reduction;
use super::step::Step;
use crate::error;
use brisk_core::Result;
use polars::prelude as pl;
use polars::prelude::{col, lit};

/// HyperLogLog precision: 2^14 registers, a standard error of about 0.8 %.
const P: u32 = 14;
const M: f64 = (1u64 << P) as f64;

impl DataFrame {
    /// An estimate of the distinct values of `column` (nulls not counted) by
    /// HyperLogLog with 16,384 registers (standard error ≈ 0.8 %): a one-row frame
    /// with a `UInt64` column named `column`. Each partition sends at most 16,384
    /// register rows up the tree, however many values it holds.
    pub fn approx_nunique(&self, column: &str) -> Result<DataFrame> {
        self.check_column(column)?;
        let h = || col(column).hash(0x51_7cc1_b727, 0x2204_08f5, 0x9e37_79b9, 0x7f4a_7c15);
        let low_bits = 2f64.powi(64 - P as i32);
        // Register index: the top P bits; rank: leading zeros of the rest, plus one.
        let idx = (h().cast(pl::DataType::Float64) / lit(low_bits))
            .floor()
            .cast(pl::DataType::UInt32)
            .clip(lit(0u32), lit((1u32 << P) - 1))
            .alias("idx");
        let w = (h() % lit(1u64 << (64 - P))).cast(pl::DataType::Float64);
        let rank = pl::when(w.clone().gt(lit(0.0)))
            .then(lit(f64::from(64 - P)) - w.log(lit(2.0)).floor())
            .otherwise(lit(f64::from(64 - P + 1)))
            .alias("rank");
        let sketch = vec![
            Step::Filter(col(column).is_not_null()),
            Step::Select(vec![idx, rank]),
            Step::GroupBy {
                keys: vec![col("idx")],
                aggs: vec![col("rank").max()],
            },
        ];
        let combine = Step::GroupBy {
            keys: vec![col("idx")],
            aggs: vec![col("rank").max()],
        };
        // alpha · m² / Σ 2^-rank (missing registers count 2^0), with linear counting
        // while many registers are still empty.
        let alpha = 0.7213 / (1.0 + 1.079 / M);
        // Two selects: the sums first, then the estimate from one-row columns.
        let sums = Step::Select(vec![
            (col("rank") * lit(-std::f64::consts::LN_2))
                .exp()
                .sum()
                .alias("harmonic"),
            (lit(M) - col("rank").count().cast(pl::DataType::Float64)).alias("zeros"),
        ]);
        let zeros = || col("zeros");
        let raw = || lit(alpha * M * M) / (col("harmonic") + zeros());
        let linear = lit(M) * (lit(M) / zeros()).log(lit(std::f64::consts::E));
        let estimate = pl::when(raw().lt_eq(lit(2.5 * M)).and(zeros().gt(lit(0.0))))
            .then(linear)
            .otherwise(raw())
            .round(0, pl::RoundMode::HalfToEven)
            .cast(pl::DataType::UInt64)
            .alias(column);
        let aggregate = vec![sums, Step::Select(vec![estimate])];
        Reduction::new("approx_nunique", sketch, vec![combine], aggregate).apply(self)
    }

    /// Summary statistics of every numeric column, computed now: a frame with a
    /// `statistic` column (`count`, `mean`, `std`, `min`, `25%`, `50%`, `75%`,
    /// `max`) and one `Float64` column per numeric column. Count, mean, std, min and
    /// max are exact; the percentiles are approximate ([`DataFrame::quantile`]'s
    /// estimate), like Dask's.
    pub fn describe(&self) -> Result<pl::DataFrame> {
        let numeric = self.columns_where(|t| t.is_primitive_numeric());
        if numeric.is_empty() {
            return Err(error::invalid("describe: no numeric columns"));
        }
        let mut aggs = Vec::new();
        for c in &numeric {
            aggs.push(Agg::count(c).alias(&format!("{c}/count")));
            aggs.push(Agg::mean(c).alias(&format!("{c}/mean")));
            aggs.push(Agg::std(c, 1).alias(&format!("{c}/std")));
            aggs.push(Agg::min(c).alias(&format!("{c}/min")));
            aggs.push(Agg::max(c).alias(&format!("{c}/max")));
        }
        let exact = self.agg(&aggs)?.compute()?;
        let quartiles = self
            .quantile_of("describe", &numeric, &[0.25, 0.5, 0.75], false)?
            .compute()?;
        let at = |df: &pl::DataFrame, name: &str, row: usize| -> Result<Option<f64>> {
            df.column(name)
                .and_then(|c| c.cast(&pl::DataType::Float64))
                .and_then(|c| c.f64().map(|c| c.get(row)))
                .map_err(|e| error::polars("", e))
        };
        let get = |name: &str| at(&exact, name, 0);
        let mut columns = vec![pl::Column::new(
            "statistic".into(),
            ["count", "mean", "std", "min", "25%", "50%", "75%", "max"],
        )];
        for c in &numeric {
            let values: Vec<Option<f64>> = vec![
                get(&format!("{c}/count"))?,
                get(&format!("{c}/mean"))?,
                get(&format!("{c}/std"))?,
                get(&format!("{c}/min"))?,
                at(&quartiles, c, 0)?,
                at(&quartiles, c, 1)?,
                at(&quartiles, c, 2)?,
                get(&format!("{c}/max"))?,
            ];
            columns.push(pl::Column::new(c.as_str().into(), values));
        }
        pl::DataFrame::new_infer_height(columns).map_err(|e| error::polars("", e))
    }
}
