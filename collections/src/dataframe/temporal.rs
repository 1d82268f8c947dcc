//! Integer kernels for the `dt()` accessors `hour`, `minute`, `second`, `weekday`,
//! `day`, `month` and `year` on datetimes without a time zone.
//!
//! Polars computes these by turning every timestamp into a calendar datetime (a
//! chrono date, then the time of day): on the taxi queries that conversion is a
//! tenth of the CPU time. Without a time zone each part is plain arithmetic on the
//! timestamp: floored division and remainder for the time of day and the weekday
//! (so times before 1970 come out right), and the days-to-civil-date formula of
//! H. Hinnant's `chrono`-compatible date algorithms for day, month and year.
//! [`fast_accessors`] swaps these accessors for the kernels when a partition's plan
//! is run; the plan as stored and hashed keeps Polars' own expression. Other inputs
//! (a time zone, a `Date` or `Time` column) get Polars' own method.
//!
//! ```ignore
//! let e = fast_accessors(col("pickup").dt().hour());   // same values, same Int8 type
//! ```

use polars::chunked_array::ops::arity::unary_elementwise_values;
use polars::prelude as pl;
use polars::prelude::TemporalMethods;
use polars::prelude::{FunctionExpr, IntoColumn, IntoSeries, PolarsResult, TemporalFunction};

/// A calendar or time-of-day part of a timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Hour,
    Minute,
    Second,
    /// ISO weekday: Monday 1 to Sunday 7.
    Weekday,
    Day,
    Month,
    Year,
}

/// `expr` with every accessor that has a kernel replaced by it.
pub(crate) fn fast_accessors(expr: pl::Expr) -> pl::Expr {
    expr.map_expr(|node| match node {
        pl::Expr::Function {
            mut input,
            function: FunctionExpr::TemporalExpr(f),
        } if input.len() == 1 => match part_of(&f) {
            Some(part) => input.remove(0).map_with_fmt_str(
                move |c| part.apply(c),
                move |_, f| part.field(f),
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

fn part_of(f: &TemporalFunction) -> Option<Part> {
    match f {
        TemporalFunction::Hour => Some(Part::Hour),
        TemporalFunction::Minute => Some(Part::Minute),
        TemporalFunction::Second => Some(Part::Second),
        TemporalFunction::WeekDay => Some(Part::Weekday),
        TemporalFunction::Day => Some(Part::Day),
        TemporalFunction::Month => Some(Part::Month),
        TemporalFunction::Year => Some(Part::Year),
        _ => None,
    }
}

impl Part {
    /// Polars' result field for the part of `input`; an error when the plan is made
    /// for a column that has no such part (Polars' own accessor fails then or when
    /// it runs).
    fn field(self, input: &pl::Field) -> PolarsResult<pl::Field> {
        let of_day = matches!(self, Part::Hour | Part::Minute | Part::Second);
        let has = match input.dtype() {
            pl::DataType::Datetime(..) => true,
            pl::DataType::Date => !of_day,
            pl::DataType::Time => of_day,
            _ => false,
        };
        if !has {
            polars::prelude::polars_bail!(
                InvalidOperation: "dt.{}: no such part in a {} column",
                format!("{self:?}").to_lowercase(),
                input.dtype()
            );
        }
        let dtype = match self {
            Part::Year => pl::DataType::Int32,
            _ => pl::DataType::Int8,
        };
        Ok(pl::Field::new(input.name().clone(), dtype))
    }

    fn apply(self, c: pl::Column) -> PolarsResult<pl::Column> {
        let s = c.as_materialized_series();
        let out = match s.dtype() {
            pl::DataType::Datetime(unit, None) => {
                let t = s.datetime()?.physical();
                // The unit as a constant, so that every division is by a constant.
                match unit {
                    pl::TimeUnit::Milliseconds => self.kernel::<1_000>(t),
                    pl::TimeUnit::Microseconds => self.kernel::<1_000_000>(t),
                    pl::TimeUnit::Nanoseconds => self.kernel::<1_000_000_000>(t),
                }
            }
            _ => match self {
                Part::Hour => s.hour()?.into_series(),
                Part::Minute => s.minute()?.into_series(),
                Part::Second => s.second()?.into_series(),
                Part::Weekday => s.weekday()?.into_series(),
                Part::Day => s.day()?.into_series(),
                Part::Month => s.month()?.into_series(),
                Part::Year => s.year()?.into_series(),
            },
        };
        Ok(out.with_name(s.name().clone()).into_column())
    }

    /// The part of every timestamp of `t`, in units of `1 / PER_SECOND` seconds.
    fn kernel<const PER_SECOND: i64>(self, t: &pl::Int64Chunked) -> pl::Series {
        let day = 86_400 * PER_SECOND;
        // Generic, not a function pointer: each part's loop is compiled on its own.
        fn each<F: Fn(i64) -> i64>(t: &pl::Int64Chunked, f: F) -> pl::Series {
            unary_elementwise_values::<_, pl::Int8Type, _>(t, |t: i64| f(t) as i8).into_series()
        }
        match self {
            Part::Hour => each(t, |t| t.div_euclid(3_600 * PER_SECOND).rem_euclid(24)),
            Part::Minute => each(t, |t| t.div_euclid(60 * PER_SECOND).rem_euclid(60)),
            Part::Second => each(t, |t| t.div_euclid(PER_SECOND).rem_euclid(60)),
            // 1970-01-01 was a Thursday (4).
            Part::Weekday => each(t, |t| (t.div_euclid(day) + 3).rem_euclid(7) + 1),
            Part::Day => each(t, |t| civil(t.div_euclid(day)).2),
            Part::Month => each(t, |t| civil(t.div_euclid(day)).1),
            Part::Year => unary_elementwise_values::<_, pl::Int32Type, _>(t, |t: i64| {
                civil(t.div_euclid(day)).0 as i32
            })
            .into_series(),
        }
    }
}

/// `(year, month, day)` of day `z` since 1970-01-01 in the proleptic Gregorian
/// calendar (Hinnant's `civil_from_days`: 400-year eras of 146,097 days, years
/// counted from March so that the leap day ends the year).
#[inline]
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    //! The kernels give exactly Polars' own values and type, before and after 1970,
    //! in every time unit, with nulls; other inputs still get Polars' method.
    use super::fast_accessors;
    use polars::prelude as pl;
    use polars::prelude::{IntoLazy, NamedFrom};

    /// Timestamp units in a second.
    fn per_second(unit: pl::TimeUnit) -> i64 {
        match unit {
            pl::TimeUnit::Milliseconds => 1_000,
            pl::TimeUnit::Microseconds => 1_000_000,
            pl::TimeUnit::Nanoseconds => 1_000_000_000,
        }
    }

    type Accessor = fn(pl::Expr) -> pl::Expr;

    fn accessors() -> Vec<(&'static str, Accessor)> {
        vec![
            ("hour", |e| e.dt().hour()),
            ("minute", |e| e.dt().minute()),
            ("second", |e| e.dt().second()),
            ("weekday", |e| e.dt().weekday()),
            ("day", |e| e.dt().day()),
            ("month", |e| e.dt().month()),
            ("year", |e| e.dt().year()),
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
        // Every 13th day from 1770 to 2169 (leap days and century years among them),
        // at the last second of the day's first hour.
        values.extend(
            (-73_000..73_000i64)
                .step_by(13)
                .map(|d| Some((d * 86_400 + 3_599) * per_second)),
        );
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
    fn every_part_matches_polars() {
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
        let ordinal = pl::col("t").dt().ordinal_day();
        assert_eq!(fast_accessors(ordinal.clone()), ordinal);
        let df = frame(pl::TimeUnit::Microseconds)
            .lazy()
            .select([pl::col("t").dt().date().alias("d")])
            .collect()
            .unwrap();
        // Planning finds a column without the part (Polars' own accessor fails too,
        // when planning or when run).
        for (column, accessor) in [("d", "hour"), ("s", "year")] {
            let frame = df.clone().lazy().with_columns([pl::lit("text").alias("s")]);
            let e = match accessor {
                "hour" => pl::col(column).dt().hour(),
                _ => pl::col(column).dt().year(),
            };
            let mut ours = frame.clone().select([fast_accessors(e.clone())]);
            let polars = frame.select([e]);
            assert!(polars.collect().is_err(), "{column} {accessor}");
            assert!(ours.collect_schema().is_err(), "{column} {accessor}");
        }
        // A Date column has no time of day: both give Polars' own error.
        let ours = df
            .clone()
            .lazy()
            .select([fast_accessors(pl::col("d").dt().hour())])
            .collect();
        assert!(ours.is_err());
    }
}
