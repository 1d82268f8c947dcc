//! Which expressions a blockwise method may run on each partition alone: those
//! that give every row its answer from that row only (Polars' elementwise
//! expressions). An aggregation, a cumulative, `shift`, `rank`, a sort, an `over`
//! window, `head` or `unique` reads across rows: run on each partition alone it
//! gives one answer per partition, which is the wrong answer for the frame, so the
//! method refuses it and says what computes it across partitions.

use super::schema::to_schema;
use crate::error::Error;
use polars::prelude as pl;
use polars_plan::plans::{all_elementwise, is_scalar_ae, IR};

/// What computes an expression that reads across rows, when no DataFrame method
/// does it by name.
const INSTEAD: &str = "compute whole-frame aggregations with `agg` (or `sum`, `mean`, \
    `count`, ...), per-group ones with `groupby(...).agg`, and anything else on the \
    computed frame with Polars";

/// The DataFrame method computing `e` (its first node that one computes) across
/// partitions, or [`INSTEAD`].
fn instead(e: &pl::Expr) -> &'static str {
    use polars_plan::dsl::{AggExpr, Expr, FunctionExpr as F};
    for node in e {
        let hint = match node {
            Expr::Function { function, .. } => match function {
                F::CumSum { .. } => {
                    "use `DataFrame::cumsum`, which carries the running \
                    sum from one partition to the next"
                }
                F::CumProd { .. } => {
                    "use `DataFrame::cumprod`, which carries the running \
                    product from one partition to the next"
                }
                F::CumMin { .. } => {
                    "use `DataFrame::cummin`, which carries the running \
                    minimum from one partition to the next"
                }
                F::CumMax { .. } => {
                    "use `DataFrame::cummax`, which carries the running \
                    maximum from one partition to the next"
                }
                F::Shift | F::ShiftAndFill => {
                    "use `DataFrame::shift` (or `DataFrame::diff` \
                    for `x - x.shift(n)`), which reads rows across partition boundaries"
                }
                F::Quantile { .. } => {
                    "use `DataFrame::quantile` (approximate, across \
                    partitions) or `Series::quantile`"
                }
                _ => continue,
            },
            Expr::Agg(AggExpr::Median(_)) => {
                "use `DataFrame::median` (approximate, across partitions) or `Series::median`"
            }
            _ => continue,
        };
        return hint;
    }
    INSTEAD
}

/// The first of `exprs` that is not row-wise over a frame of `schema`, as the
/// error `method` reports. An expression Polars cannot plan is left to the
/// method's own schema check, which names the problem.
pub(crate) fn check_row_wise(
    method: &'static str,
    schema: &[(String, pl::DataType)],
    exprs: &[pl::Expr],
) -> brisk_core::Result<()> {
    use pl::IntoLazy;
    let empty = || pl::DataFrame::empty_with_schema(&to_schema(schema)).lazy();
    for e in exprs {
        let lf = match method {
            "select" => empty().select([e.clone()]),
            "filter" => empty().filter(e.clone()),
            _ => empty().with_columns([e.clone()]),
        };
        let Ok(plan) = lf.to_alp() else {
            return Ok(());
        };
        let arena = &plan.expr_arena;
        let row_wise = match plan.lp_arena.get(plan.lp_top) {
            IR::Select { expr, .. } => {
                all_elementwise(expr, arena)
                    // A scalar alone would be one row per partition.
                    && (exprs.len() > 1 || expr.iter().any(|x| !is_scalar_ae(x.node(), arena)))
            }
            IR::HStack { exprs: x, .. } => all_elementwise(x, arena),
            IR::Filter { predicate, .. } => all_elementwise(std::slice::from_ref(predicate), arena),
            // A plain column selection or anything Polars simplified away.
            _ => true,
        };
        if !row_wise {
            return Err(Error::NotRowWise {
                method,
                expression: format!("{e}"),
                instead: instead(e),
            }
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{col, lit};

    fn schema() -> Vec<(String, pl::DataType)> {
        vec![
            ("x".into(), pl::DataType::Int64),
            ("y".into(), pl::DataType::Float64),
        ]
    }

    #[test]
    fn elementwise_expressions_pass() {
        let s = schema();
        for e in [
            col("x"),
            col("x") + lit(1),
            (col("x").cast(pl::DataType::Float64) * col("y")).alias("z"),
            col("y").is_null(),
        ] {
            check_row_wise("select", &s, std::slice::from_ref(&e)).unwrap();
            check_row_wise("with_columns", &s, std::slice::from_ref(&e)).unwrap();
        }
        check_row_wise("filter", &s, &[col("x").gt(lit(3))]).unwrap();
        // A literal beside a column is broadcast to its rows.
        check_row_wise("select", &s, &[col("x"), lit(1).alias("one")]).unwrap();
        check_row_wise("with_columns", &s, &[lit(1).alias("one")]).unwrap();
    }

    #[test]
    fn expressions_across_rows_are_refused_by_name() {
        let s = schema();
        for (method, e) in [
            ("select", col("x").sum()),
            ("select", col("x").count()),
            (
                "with_columns",
                (col("y") - col("y").mean()).alias("centred"),
            ),
            ("filter", col("x").gt(col("x").mean())),
            ("select", lit(1).alias("one")),
        ] {
            let err = check_row_wise(method, &s, std::slice::from_ref(&e)).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with(method), "{text}");
            assert!(text.contains(&format!("`{e}`")), "{text}");
            assert!(text.contains("groupby(...).agg"), "{text}");
        }
    }

    #[test]
    fn a_refusal_names_the_method_that_computes_it_across_partitions() {
        let s = schema();
        for (e, method) in [
            (col("x").cum_sum(false), "`DataFrame::cumsum`"),
            (col("x").cum_prod(false), "`DataFrame::cumprod`"),
            (col("x").cum_min(false) + lit(1), "`DataFrame::cummin`"),
            (col("x").cum_max(false), "`DataFrame::cummax`"),
            (col("x") - col("x").shift(lit(1)), "`DataFrame::diff`"),
            (col("y").shift(lit(-2)), "`DataFrame::shift`"),
            (
                col("y").quantile(lit(0.9), pl::QuantileMethod::Linear),
                "`DataFrame::quantile`",
            ),
            (col("y").median(), "`DataFrame::median`"),
            (col("y").sum(), "`agg`"),
        ] {
            let err = check_row_wise("select", &s, std::slice::from_ref(&e)).unwrap_err();
            assert!(err.to_string().contains(method), "{method}: {err}");
        }
    }
}
