//! The built-in ops of bags that are generic over the item type (aggregations and
//! repartitioning), as registered ops, so they run on workers.
//!
//! Each aggregation is two stages over partitions: `partition` (one partition to a
//! partial result) and `combine` (partial results to one). The stage functions are
//! generic over the item type; a task names the aggregation, the stage and the item
//! type's tag ([`ReduceSpec`]), and a worker finds the functions of that type in a
//! table that [`crate::bag_item!`] registers for every item type ([`ItemOps`]),
//! holding the aggregations the type supports (sum needs `Sum`, frequencies
//! `Hash + Ord`, and so on). Repartitioning ([`ReshapeSpec`]) works for every item
//! type the same way.

use super::{part, Item, Partition, Summable};
use crate::error;
use brisk_core::spec_op::{rebuild_spec, Spec, SpecOp};
use brisk_core::{Error, Result, Value};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, OnceLock};

/// A built-in aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Reduction {
    /// Number of items.
    Count,
    /// Sum of the items.
    Sum,
    /// Smallest item (an unordered one, like NaN, wins).
    Min,
    /// Largest item (an unordered one, like NaN, wins).
    Max,
    /// `(count, mean, M2)` as `f64`, for mean, var and std.
    Moments,
    /// `(item, count)`, most frequent first.
    Frequencies,
    /// The distinct items, sorted.
    Distinct,
}

/// The two stages of an aggregation for one item type.
#[derive(Clone, Copy)]
pub struct Stages {
    /// One partition to a partial result (a partition).
    pub partition: fn(&Value) -> Result<Value>,
    /// Partial results to one.
    pub combine: fn(&[Value]) -> Result<Value>,
}

/// The generic ops of one item type (registered by [`crate::bag_item!`]).
pub struct ItemOps {
    /// The item type's partition tag.
    pub tag: &'static str,
    /// The stages of an aggregation, if the type supports it.
    pub stages: fn(Reduction) -> Option<Stages>,
    /// Repartitioning.
    pub reshape: ReshapeFn,
}

inventory::collect!(ItemOps);

fn table() -> &'static HashMap<&'static str, &'static ItemOps> {
    static TABLE: OnceLock<HashMap<&'static str, &'static ItemOps>> = OnceLock::new();
    TABLE.get_or_init(|| {
        inventory::iter::<ItemOps>
            .into_iter()
            .map(|r| (r.tag, r))
            .collect()
    })
}

fn ops_of(item: &str) -> Result<&'static ItemOps> {
    table().get(item).copied().ok_or_else(|| {
        error::invalid(format!(
            "no bag ops are registered for {item} items in this executable (bag_item!)"
        ))
    })
}

/// Runs a repartitioning step for one item type.
type ReshapeFn = fn(Reshape, &[Value]) -> Result<Value>;

/// How a repartitioning task makes its partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Reshape {
    /// Concatenates its inputs.
    Join,
    /// Piece `p` of `pieces` near-equal pieces of its input.
    Cut {
        /// Which piece.
        p: usize,
        /// Of how many.
        pieces: usize,
    },
}

/// Repartitioning for every item type.
pub fn reshape<T: Item>(how: Reshape, inputs: &[Value]) -> Result<Value> {
    match how {
        Reshape::Join => {
            let mut out = Vec::new();
            for v in inputs {
                out.extend_from_slice(part::<T>(v)?);
            }
            one(out)
        }
        Reshape::Cut { p, pieces } => {
            let items = match inputs {
                [v] => part::<T>(v)?,
                _ => return Err(error::malformed("a repartition cut takes one partition")),
            };
            if p >= pieces {
                return Err(error::malformed(format!(
                    "a repartition cut asks for piece {p} of {pieces}"
                )));
            }
            let n = items.len();
            one(items[p * n / pieces..(p + 1) * n / pieces].to_vec())
        }
    }
}

/// One repartitioning task.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReshapeSpec {
    how: Reshape,
    item: String,
    #[serde(skip)]
    run: Option<ReshapeFn>,
}

impl ReshapeSpec {
    /// The op, with the item type's function at hand.
    pub(crate) fn op<T: Item>(how: Reshape) -> Arc<SpecOp<Self>> {
        Arc::new(SpecOp(ReshapeSpec {
            how,
            item: T::PARTITION_TAG.to_string(),
            run: Some(reshape::<T>),
        }))
    }
}

impl Spec for ReshapeSpec {
    const NAME: &'static str = "brisk::bag::reshape";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let run = match self.run {
            Some(r) => r,
            None => ops_of(&self.item)?.reshape,
        };
        run(self.how, inputs)
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration { name: ReshapeSpec::NAME, rebuild: rebuild_spec::<ReshapeSpec> }
}

/// Which stage a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stage {
    /// On one partition.
    Partition,
    /// On partial results.
    Combine,
}

/// One task of a built-in aggregation.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReduceSpec {
    reduction: Reduction,
    stage: Stage,
    /// The partition tag of the items.
    item: String,
    /// The functions, when built in this process (a rebuilt spec looks them up).
    #[serde(skip)]
    stages: Option<Stages>,
}

impl ReduceSpec {
    /// The op of one stage, with the item type's functions at hand.
    pub(crate) fn op<T: Item>(
        reduction: Reduction,
        stage: Stage,
        stages: Stages,
    ) -> Arc<SpecOp<Self>> {
        Arc::new(SpecOp(ReduceSpec {
            reduction,
            stage,
            item: T::PARTITION_TAG.to_string(),
            stages: Some(stages),
        }))
    }
}

impl Spec for ReduceSpec {
    const NAME: &'static str = "brisk::bag::reduce";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let stages = match self.stages {
            Some(s) => s,
            None => (ops_of(&self.item)?.stages)(self.reduction).ok_or_else(|| {
                error::invalid(format!(
                    "{:?} is not defined for {} items",
                    self.reduction, self.item
                ))
            })?,
        };
        match self.stage {
            Stage::Partition => match inputs {
                [p] => (stages.partition)(p),
                _ => Err(Error::Arity {
                    op: Self::NAME.into(),
                    expected: 1,
                    found: inputs.len(),
                }),
            },
            Stage::Combine => (stages.combine)(inputs),
        }
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration { name: ReduceSpec::NAME, rebuild: rebuild_spec::<ReduceSpec> }
}

/// Turns mean/var partials into the mean or the standard deviation.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub enum Finish {
    /// The mean (NaN for no items).
    Mean,
    /// The standard deviation with `ddof` delta degrees of freedom.
    Std {
        /// Delta degrees of freedom.
        ddof: u32,
    },
}

impl Spec for Finish {
    const NAME: &'static str = "brisk::bag::finish-moments";
    fn call(&self, inputs: &[Value]) -> Result<Value> {
        let [partials] = inputs else {
            return Err(Error::Arity {
                op: Self::NAME.into(),
                expected: 1,
                found: inputs.len(),
            });
        };
        let out = part::<(f64, f64, f64)>(partials)?
            .iter()
            .map(|&(n, mean, m2)| match *self {
                Finish::Mean if n > 0.0 => mean,
                Finish::Std { ddof } if n - ddof as f64 > 0.0 => (m2 / (n - ddof as f64)).sqrt(),
                _ => f64::NAN,
            })
            .collect();
        Ok(Arc::new(Partition(out)))
    }
}

inventory::submit! {
    brisk_core::op::OpRegistration { name: Finish::NAME, rebuild: rebuild_spec::<Finish> }
}

fn one<A: Item>(a: Vec<A>) -> Result<Value> {
    Ok(Arc::new(Partition(a)))
}

fn all<A: Item>(parts: &[Value]) -> Result<impl Iterator<Item = &A>> {
    let slices = parts.iter().map(part::<A>).collect::<Result<Vec<_>>>()?;
    Ok(slices.into_iter().flatten())
}

/// Count: any item type.
pub fn count<T: Item>() -> Stages {
    Stages {
        partition: |p| one(vec![part::<T>(p)?.len() as u64]),
        combine: |ps| one(vec![all::<u64>(ps)?.sum::<u64>()]),
    }
}

/// Sum: items that add up, in their [`Summable::Total`] type; an overflow of that
/// is an error naming the type.
pub fn sum<T: Summable>() -> Stages {
    fn overflow<T: Summable>() -> Error {
        error::invalid(format!(
            "the sum overflows {}: map the items to f64 to add them approximately",
            std::any::type_name::<T::Total>()
        ))
    }
    Stages {
        partition: |p| {
            let mut total = T::ZERO;
            for x in part::<T>(p)? {
                total = T::add_item(total, x).ok_or_else(overflow::<T>)?;
            }
            one(vec![total])
        },
        combine: |ps| {
            let mut total = T::ZERO;
            for &x in all::<T::Total>(ps)? {
                total = T::add_totals(total, x).ok_or_else(overflow::<T>)?;
            }
            one(vec![total])
        },
    }
}

/// The best item by `better`; an unordered value (NaN) wins wherever it is, as in
/// NumPy; nothing for no items.
fn pick<'a, T: PartialOrd + 'a>(
    xs: impl Iterator<Item = &'a T>,
    better: fn(&T, &T) -> bool,
) -> Option<&'a T> {
    let mut best: Option<&T> = None;
    for x in xs {
        if x.partial_cmp(x).is_none() {
            return Some(x);
        }
        if best.is_none_or(|b| better(b, x)) {
            best = Some(x);
        }
    }
    best
}

/// Min: ordered items.
pub fn min<T: Item + PartialOrd>() -> Stages {
    Stages {
        partition: |p| {
            one(pick(part::<T>(p)?.iter(), |b, x| x < b)
                .into_iter()
                .cloned()
                .collect())
        },
        combine: |ps| {
            one(pick(all::<T>(ps)?, |b, x| x < b)
                .into_iter()
                .cloned()
                .collect())
        },
    }
}

/// Max: ordered items.
pub fn max<T: Item + PartialOrd>() -> Stages {
    Stages {
        partition: |p| {
            one(pick(part::<T>(p)?.iter(), |b, x| x > b)
                .into_iter()
                .cloned()
                .collect())
        },
        combine: |ps| {
            one(pick(all::<T>(ps)?, |b, x| x > b)
                .into_iter()
                .cloned()
                .collect())
        },
    }
}

/// Moments: numbers. Partials are merged with Chan's formula, so the result is
/// stable whatever the partitioning.
pub fn moments<T: Item + Into<f64> + Copy>() -> Stages {
    Stages {
        partition: |p| {
            let xs = part::<T>(p)?;
            let n = xs.len() as f64;
            let mean = xs.iter().map(|&x| x.into()).sum::<f64>() / n.max(1.0);
            let m2 = xs.iter().map(|&x| (x.into() - mean).powi(2)).sum::<f64>();
            one(vec![(n, mean, m2)])
        },
        combine: |ps| {
            let mut acc = (0.0f64, 0.0f64, 0.0f64);
            for &(n, mean, m2) in all::<(f64, f64, f64)>(ps)? {
                if n == 0.0 {
                    continue;
                }
                let total = acc.0 + n;
                let delta = mean - acc.1;
                acc = (
                    total,
                    acc.1 + delta * n / total,
                    acc.2 + m2 + delta * delta * acc.0 * n / total,
                );
            }
            one(vec![acc])
        },
    }
}

fn by_count<T: Ord>(m: impl IntoIterator<Item = (T, u64)>) -> Vec<(T, u64)> {
    let mut v: Vec<(T, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Frequencies: hashable, ordered items whose `(item, count)` pairs are items.
pub fn frequencies<T: Item + Eq + Hash + Ord>() -> Stages
where
    (T, u64): Item,
{
    Stages {
        // Count by reference: an item is cloned once per distinct value.
        partition: |p| {
            let mut m: FxHashMap<&T, u64> = FxHashMap::default();
            for x in part::<T>(p)? {
                *m.entry(x).or_insert(0) += 1;
            }
            one(by_count(m.into_iter().map(|(k, n)| (k.clone(), n))))
        },
        combine: |ps| {
            let mut m: FxHashMap<T, u64> = FxHashMap::default();
            for (k, n) in all::<(T, u64)>(ps)? {
                *m.entry(k.clone()).or_insert(0) += n;
            }
            one(by_count(m))
        },
    }
}

/// Distinct: ordered items.
pub fn distinct<T: Item + Ord>() -> Stages {
    fn uniq<'a, T: Item + Ord>(xs: impl Iterator<Item = &'a T>) -> Result<Value> {
        let set: std::collections::BTreeSet<&T> = xs.collect();
        one(set.into_iter().cloned().collect())
    }
    Stages {
        partition: |p| uniq(part::<T>(p)?.iter()),
        combine: |ps| uniq(all::<T>(ps)?),
    }
}

/// Fills an item type's table at compile time: an impl on `Probe<T>` when `T` has
/// what the aggregation needs, a fallback on `&Probe<T>` otherwise (autoref
/// specialisation). Only [`crate::bag_item!`] uses it.
pub mod probe {
    use super::*;

    /// Stands for the item type `T`.
    pub struct Probe<T>(std::marker::PhantomData<T>);

    impl<T> Probe<T> {
        /// The probe.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            Probe(std::marker::PhantomData)
        }
    }

    macro_rules! capability {
        ($method:ident, $has:ident, $lacks:ident, [$($bound:tt)*] $(where $($w:tt)*)?) => {
            #[doc = concat!("`", stringify!($method), "` where the type supports it.")]
            pub trait $has {
                /// The stages.
                fn $method(&self) -> Option<Stages>;
            }
            impl<T: Item + $($bound)*> $has for Probe<T> $(where $($w)*)? {
                fn $method(&self) -> Option<Stages> {
                    Some(super::$method::<T>())
                }
            }
            #[doc = concat!("No `", stringify!($method), "` for this type.")]
            pub trait $lacks {
                /// None.
                fn $method(&self) -> Option<Stages>;
            }
            impl<T> $lacks for &Probe<T> {
                fn $method(&self) -> Option<Stages> {
                    None
                }
            }
        };
    }

    capability!(sum, HasSum, LacksSum, [Summable]);
    capability!(min, HasMin, LacksMin, [PartialOrd]);
    capability!(max, HasMax, LacksMax, [PartialOrd]);
    capability!(moments, HasMoments, LacksMoments, [Into<f64> + Copy]);
    capability!(frequencies, HasFrequencies, LacksFrequencies, [Eq + Hash + Ord] where (T, u64): Item);
    capability!(distinct, HasDistinct, LacksDistinct, [Ord]);
}
