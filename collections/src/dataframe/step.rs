//! One blockwise step of a partition's plan (`select`, `filter`, `group_by`...), as
//! serde data added to a Polars LazyFrame, and the source columns a list of steps
//! reads (so that a reader parses only those).

use super::temporal::fast_accessors;
use polars::prelude as pl;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One blockwise step of a partition's LazyFrame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Step {
    /// `select(exprs)`.
    Select(Vec<pl::Expr>),
    /// `filter(predicate)`.
    Filter(pl::Expr),
    /// `with_columns(exprs)`.
    WithColumns(Vec<pl::Expr>),
    /// `group_by(keys).agg(aggs)`.
    #[serde(
        serialize_with = "group_by_wire::serialize",
        deserialize_with = "group_by_wire::deserialize"
    )]
    GroupBy {
        keys: Vec<pl::Expr>,
        aggs: Vec<pl::Expr>,
    },
    /// Rows `offset..offset + len` (a negative offset counts from the end).
    Slice { offset: i64, len: u32 },
    /// Rows `floor(r * of / rows) == index`: piece `index` of `of` near-equal pieces.
    Part { index: u32, of: u32 },
    /// The first row of each distinct combination of `columns`, order kept.
    Unique(Vec<String>),
    /// Sorted by columns (ascending unless `descending`), nulls last, stable.
    Sort {
        by: Vec<String>,
        descending: Vec<bool>,
    },
}

impl Step {
    /// Adds this step to a LazyFrame.
    ///
    /// Expressions run with [`fast_accessors`] applied; the step as stored keeps
    /// them as written.
    pub(crate) fn apply(&self, lf: pl::LazyFrame) -> pl::LazyFrame {
        let fast = |e: &[pl::Expr]| e.iter().cloned().map(fast_accessors).collect::<Vec<_>>();
        match self {
            Step::Select(e) => lf.select(fast(e)),
            Step::Filter(e) => lf.filter(fast_accessors(e.clone())),
            Step::WithColumns(e) => lf.with_columns(fast(e)),
            Step::GroupBy { keys, aggs } => lf.group_by(fast(keys)).agg(fast(aggs)),
            Step::Slice { offset, len } => lf.slice(*offset, *len),
            Step::Part { index, of } => {
                const ROW: &str = "__brisk_row";
                let f64 = pl::DataType::Float64;
                let piece = ((pl::col(ROW).cast(f64.clone()) * pl::lit(f64::from(*of)))
                    / pl::len().cast(f64))
                .floor();
                lf.with_row_index(ROW, None)
                    .filter(piece.eq(pl::lit(f64::from(*index))))
                    .drop(pl::by_name([ROW], true, false))
            }
            Step::Unique(columns) => lf.unique_stable_generic(
                Some(columns.iter().map(|c| pl::col(c.as_str())).collect()),
                pl::UniqueKeepStrategy::First,
            ),
            Step::Sort { by, descending } => lf.sort(
                by.iter().map(String::as_str).collect::<Vec<_>>(),
                pl::SortMultipleOptions::default()
                    .with_order_descending_multi(descending.clone())
                    .with_nulls_last(true)
                    .with_maintain_order(true),
            ),
        }
    }
}

/// The serialised form of `Step::GroupBy`: its fields plus a `sort_by` list that
/// is always empty. A step once sorted the groups by `sort_by`; nothing asked for
/// it, and the field went, but a plan's bytes name its layers (their tokens are a
/// contract), so the bytes keep the empty list and a group-by's keys stay as they
/// were.
mod group_by_wire {
    use polars::prelude as pl;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct GroupBy<'a> {
        keys: &'a [pl::Expr],
        aggs: &'a [pl::Expr],
        sort_by: [String; 0],
    }

    #[derive(Deserialize)]
    struct OwnedGroupBy {
        keys: Vec<pl::Expr>,
        aggs: Vec<pl::Expr>,
        #[serde(default)]
        sort_by: Vec<String>,
    }

    pub(super) fn serialize<S: Serializer>(
        keys: &[pl::Expr],
        aggs: &[pl::Expr],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        GroupBy {
            keys,
            aggs,
            sort_by: [],
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<(Vec<pl::Expr>, Vec<pl::Expr>), D::Error> {
        let g = OwnedGroupBy::deserialize(d)?;
        if !g.sort_by.is_empty() {
            return Err(D::Error::custom(
                "a group-by step's sort_by is always empty",
            ));
        }
        Ok((g.keys, g.aggs))
    }
}

/// The columns of the source that `steps` read (`None`: all of them), found by
/// walking the steps backwards from the last one that selects. A superset is always
/// safe; an expression this walk does not understand (a selector other than names)
/// makes it give up and read everything.
pub(crate) fn needed_columns(steps: &[Step]) -> Option<BTreeSet<String>> {
    let mut needed: Option<BTreeSet<String>> = None;
    for step in steps.iter().rev() {
        match step {
            Step::Select(exprs) => needed = leaves(exprs),
            Step::GroupBy { keys, aggs, .. } => needed = leaves(keys.iter().chain(aggs)),
            Step::Filter(e) => needed = union(needed, leaves([e])),
            Step::WithColumns(exprs) => needed = union(needed, leaves(exprs)),
            Step::Slice { .. } | Step::Part { .. } => {}
            Step::Unique(columns) if columns.is_empty() => needed = None,
            Step::Unique(columns) => {
                needed = union(needed, Some(columns.iter().cloned().collect()))
            }
            Step::Sort { by, .. } => needed = union(needed, Some(by.iter().cloned().collect())),
        }
    }
    needed
}

fn union(a: Option<BTreeSet<String>>, b: Option<BTreeSet<String>>) -> Option<BTreeSet<String>> {
    let (mut a, b) = (a?, b?);
    a.extend(b);
    Some(a)
}

/// The column names that `exprs` read, or `None` when one of them selects columns
/// in a way other than by name (`all()`, by type, by pattern...).
fn leaves<'a>(exprs: impl IntoIterator<Item = &'a pl::Expr>) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for expr in exprs {
        for node in expr {
            match node {
                pl::Expr::Column(name) => {
                    names.insert(name.to_string());
                }
                pl::Expr::Selector(pl::Selector::ByName { names: by, .. }) => {
                    names.extend(by.iter().map(|n| n.to_string()));
                }
                // Columns this walk cannot see: types computed from expressions.
                // (Rolling windows, whose index column the walk would miss, are not
                // in this build of Polars: `dynamic_group_by` is off; enabling it
                // needs an arm here.)
                pl::Expr::Selector(_)
                | pl::Expr::DataTypeFunction(_)
                | pl::Expr::Eval { .. }
                | pl::Expr::StructEval { .. } => return None,
                pl::Expr::Cast { dtype, .. } if !matches!(dtype, pl::DataTypeExpr::Literal(_)) => {
                    return None
                }
                _ => {}
            }
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> Option<BTreeSet<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn needed_columns_walk_back_from_the_last_selection() {
        // filter(a > 0) -> with_columns(d = b / c) -> group_by(hour(e)).agg(mean(d))
        let steps = vec![
            Step::Filter(pl::col("a").gt(pl::lit(0))),
            Step::WithColumns(vec![(pl::col("b") / pl::col("c")).alias("d")]),
            Step::GroupBy {
                keys: vec![pl::col("e").dt().hour()],
                aggs: vec![pl::col("d").mean()],
            },
        ];
        assert_eq!(needed_columns(&steps), set(&["a", "b", "c", "d", "e"]));
        // A selection ends what earlier steps may add; a row count needs no column.
        let count = [Step::Select(vec![pl::len().alias("n")])];
        assert_eq!(needed_columns(&count), set(&[]));
        let sorted = [
            Step::Sort {
                by: vec!["k".into()],
                descending: vec![false],
            },
            Step::Select(vec![pl::col("x")]),
        ];
        // ... and a sort before the selection needs its key too.
        assert_eq!(needed_columns(&sorted), set(&["k", "x"]));
    }

    #[test]
    fn needed_columns_read_everything_unless_a_step_selects_by_name() {
        assert_eq!(needed_columns(&[]), None);
        assert_eq!(
            needed_columns(&[Step::Filter(pl::col("a").is_null())]),
            None
        );
        assert_eq!(needed_columns(&[Step::Select(vec![pl::col("*")])]), None);
        assert_eq!(
            needed_columns(&[Step::Select(vec![pl::col("^x.*$")])]),
            None
        );
        // A cast to the type of another expression reads that expression's columns.
        let cast = pl::col("a").cast(pl::DataTypeExpr::OfExpr(Box::new(pl::col("b"))));
        assert_eq!(needed_columns(&[Step::Select(vec![cast])]), None);
        assert_eq!(needed_columns(&[Step::Unique(vec![])]), None);
        // ... but a selection before it bounds what the source must give.
        let unique_after = [Step::Select(vec![pl::col("a")]), Step::Unique(vec![])];
        assert_eq!(needed_columns(&unique_after), set(&["a"]));
    }

    /// The serialised group-by step is the one with the `sort_by` field it once
    /// had (always empty), so that the layer names hashed from plans are unchanged.
    #[test]
    fn a_group_by_step_serialises_as_before_its_sort_by_field_went() {
        #[derive(Serialize)]
        enum Before {
            #[allow(dead_code)]
            Select(Vec<pl::Expr>),
            GroupBy {
                keys: Vec<pl::Expr>,
                aggs: Vec<pl::Expr>,
                sort_by: Vec<String>,
            },
        }
        let (keys, aggs) = (vec![pl::col("k")], vec![pl::col("x").sum()]);
        let now = Step::GroupBy {
            keys: keys.clone(),
            aggs: aggs.clone(),
        };
        let before = Before::GroupBy {
            keys,
            aggs,
            sort_by: vec![],
        };
        let bytes = rmp_serde::to_vec_named(&now).unwrap();
        assert_eq!(bytes, rmp_serde::to_vec_named(&before).unwrap());
        let back: Step = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, now);
    }
}
