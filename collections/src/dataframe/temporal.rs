//! Integer kernels for `dt().hour()`, `minute()` and `second()` on datetimes without
//! a time zone.
//!
//! Polars computes these by turning every timestamp into a calendar datetime (a
//! chrono date, then the time of day): on the taxi queries that conversion is a
//! tenth of the CPU time. Without a time zone the time of day is plain arithmetic on
//! the timestamp (floored division and remainder, so times before 1970 come out
//! right). [`fast_accessors`] swaps these accessors for the kernels when a
//! partition's plan is run; the plan as stored and hashed keeps Polars' own
//! expression. Other inputs (a time zone, a `Time` column) get Polars' own method.
//!
//! ```ignore
//! let e = fast_accessors(col("pickup").dt().hour());   // same values, same Int8 type
//! ```

use polars::chunked_array::ops::arity::unary_elementwise_values;
use polars::prelude as pl;
use polars::prelude::TemporalMethods;
use polars::prelude::{FunctionExpr, IntoColumn, IntoSeries, PolarsResult, TemporalFunction};

/// A part of the time of day.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Hour,
    Minute,
    Second,
}

/// `expr` with every hour, minute and second accessor replaced by its kernel.
pub(crate) fn fast_accessors(expr: pl::Expr) -> pl::Expr {
    expr.map_expr(|node| match node {
        pl::Expr::Function {
            mut input,
            function: FunctionExpr::TemporalExpr(f),
        } if input.len() == 1 => match part_of(&f) {
            Some(part) => input.remove(0).map_with_fmt_str(
                move |c| part.apply(c),
                |_, f| Ok(pl::Field::new(f.name().clone(), pl::DataType::Int8)),
                format!("dt.{part:?}").to_lowercase(),
            ),
            None => pl::Expr::Function {
                input,
                function: FunctionExpr::TemporalExpr(f),
            },
        },
        other => other,
    })
}

/// Timestamp units in a second.
fn per_second(unit: pl::TimeUnit) -> i64 {
    match unit {
        pl::TimeUnit::Milliseconds => 1_000,
        pl::TimeUnit::Microseconds => 1_000_000,
        pl::TimeUnit::Nanoseconds => 1_000_000_000,
    }
}

fn part_of(f: &TemporalFunction) -> Option<Part> {
    match f {
        TemporalFunction::Hour => Some(Part::Hour),
        TemporalFunction::Minute => Some(Part::Minute),
        TemporalFunction::Second => Some(Part::Second),
        _ => None,
    }
}

impl Part {
    fn apply(self, c: pl::Column) -> PolarsResult<pl::Column> {
        let s = c.as_materialized_series();
        let out = match s.dtype() {
            pl::DataType::Datetime(unit, None) => {
                let per_second = per_second(*unit);
                unary_elementwise_values(s.datetime()?.physical(), |t: i64| {
                    self.of_second(t.div_euclid(per_second))
                })
            }
            _ => match self {
                Part::Hour => s.hour()?,
                Part::Minute => s.minute()?,
                Part::Second => s.second()?,
            },
        };
        Ok(out.with_name(s.name().clone()).into_series().into_column())
    }

    /// The part of the time of day of second `secs` since the epoch.
    #[inline]
    fn of_second(self, secs: i64) -> i8 {
        let v = match self {
            Part::Hour => secs.div_euclid(3600).rem_euclid(24),
            Part::Minute => secs.div_euclid(60).rem_euclid(60),
            Part::Second => secs.rem_euclid(60),
        };
        v as i8
    }
}

#[cfg(test)]
mod tests {
    //! The kernels give exactly Polars' own values and type, before and after 1970,
    //! in every time unit, with nulls; other inputs still get Polars' method.
    use super::{fast_accessors, per_second};
    use polars::prelude as pl;
    use polars::prelude::{IntoLazy, NamedFrom};

    type Accessor = fn(pl::Expr) -> pl::Expr;

    fn accessors() -> Vec<(&'static str, Accessor)> {
        vec![
            ("hour", |e| e.dt().hour()),
            ("minute", |e| e.dt().minute()),
            ("second", |e| e.dt().second()),
        ]
    }

    fn frame(unit: pl::TimeUnit) -> pl::DataFrame {
        let per_second = per_second(unit);
        // Seconds around 1970 and up to 150 years from it, with sub-second parts of
        // both signs.
        let mut values: Vec<Option<i64>> = Vec::new();
        let mut x: i64 = 12_345;
        for i in -400..400i64 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let secs = i * 7_919 + (x >> 20) % 4_700_000_000;
            let frac = (x >> 8).rem_euclid(per_second);
            values.push((i % 37 != 0).then_some(secs * per_second + frac * secs.signum()));
        }
        values.extend([
            Some(-1),
            Some(0),
            Some(1),
            Some(-per_second),
            Some(-3600 * per_second - 1),
        ]);
        let ints = pl::Series::new("t".into(), values);
        let t = ints.cast(&pl::DataType::Datetime(unit, None)).unwrap();
        pl::DataFrame::new_infer_height(vec![t.into()]).unwrap()
    }

    #[test]
    fn time_of_day_matches_polars() {
        for unit in [
            pl::TimeUnit::Milliseconds,
            pl::TimeUnit::Microseconds,
            pl::TimeUnit::Nanoseconds,
        ] {
            let df = frame(unit);
            for (name, accessor) in accessors() {
                let ours = df
                    .clone()
                    .lazy()
                    .select([fast_accessors(accessor(pl::col("t")).alias("out"))])
                    .collect()
                    .unwrap();
                let polars = df
                    .clone()
                    .lazy()
                    .select([accessor(pl::col("t")).alias("out")])
                    .collect()
                    .unwrap();
                assert_eq!(ours.schema(), polars.schema(), "{name} {unit:?}");
                assert!(
                    ours.equals_missing(&polars),
                    "{name} {unit:?}\n{ours}\n{polars}"
                );
            }
        }
    }

    #[test]
    fn names_and_nesting_are_kept() {
        let df = frame(pl::TimeUnit::Microseconds);
        let e = (pl::col("t").dt().hour().cast(pl::DataType::Int64) * pl::lit(60i64))
            + pl::col("t").dt().minute().cast(pl::DataType::Int64);
        let ours = df
            .clone()
            .lazy()
            .select([fast_accessors(e.clone())])
            .collect()
            .unwrap();
        let polars = df.lazy().select([e]).collect().unwrap();
        assert_eq!(ours.get_column_names(), ["t"]);
        assert!(ours.equals_missing(&polars));
    }

    #[test]
    fn other_accessors_and_inputs_are_left_to_polars() {
        let day = pl::col("t").dt().day();
        assert_eq!(fast_accessors(day.clone()), day);
        let df = frame(pl::TimeUnit::Microseconds)
            .lazy()
            .select([pl::col("t").dt().date().alias("d")])
            .collect()
            .unwrap();
        // A Date column has no time of day: both give Polars' own error.
        let ours = df
            .clone()
            .lazy()
            .select([fast_accessors(pl::col("d").dt().hour())])
            .collect();
        assert!(ours.is_err());
    }
}
