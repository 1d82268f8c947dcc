//! Picks, at compile time, how a function of concrete types applies to partitions
//! (autoref specialisation: an impl on `Probe` when the types fit, a fallback on
//! `&Probe` that reports the misuse). Only the code `#[brisk::task]` writes uses it.

use super::*;
use crate::bag::hash::stable_hash;

/// Stands for a function `In -> Out`.
pub struct Probe<In, Out>(PhantomData<fn(&In) -> Out>);

impl<In, Out> Probe<In, Out> {
    /// The probe.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Probe(PhantomData)
    }
}

type F<'a, In, Out> = &'a dyn Fn(&In) -> Result<Out>;

fn unfit<In, Out>(how: Apply) -> Error {
    error::invalid(format!(
        "a function from {} to {} does not fit {how:?} on a bag",
        std::any::type_name::<In>(),
        std::any::type_name::<Out>()
    ))
}

/// Map and filter: item types in and out.
pub trait OnItems<In, Out> {
    /// Applies `f` to each item.
    fn items(&self, how: Apply, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In: Item, Out: Item> OnItems<In, Out> for Probe<In, Out> {
    fn items(&self, how: Apply, partition: &Value, f: F<'_, In, Out>) -> Result<Value> {
        let xs = part::<In>(partition)?;
        if how == Apply::Filter {
            let mut kept = Vec::new();
            for x in xs {
                let keep = f(x)?;
                match (&keep as &dyn std::any::Any).downcast_ref::<bool>() {
                    Some(true) => kept.push(x.clone()),
                    Some(false) => {}
                    None => return Err(unfit::<In, Out>(how)),
                }
            }
            return Ok(Arc::new(Partition(kept)));
        }
        let out = xs.iter().map(f).collect::<Result<Vec<Out>>>()?;
        Ok(Arc::new(Partition(out)))
    }
}

/// The fallback of [`OnItems`].
pub trait OnItemsUnfit<In, Out> {
    /// Always an error.
    fn items(&self, how: Apply, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnItemsUnfit<In, Out> for &Probe<In, Out> {
    fn items(&self, how: Apply, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(how))
    }
}

/// Flat map: an item in, a `Vec` of items out.
pub trait OnItemsFlat<In, Out> {
    /// Applies `f` to each item and concatenates.
    fn flat(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In: Item, U: Item> OnItemsFlat<In, Vec<U>> for Probe<In, Vec<U>> {
    fn flat(&self, partition: &Value, f: F<'_, In, Vec<U>>) -> Result<Value> {
        let mut out = Vec::new();
        for x in part::<In>(partition)? {
            out.extend(f(x)?);
        }
        Ok(Arc::new(Partition(out)))
    }
}

/// The fallback of [`OnItemsFlat`].
pub trait OnItemsFlatUnfit<In, Out> {
    /// Always an error.
    fn flat(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnItemsFlatUnfit<In, Out> for &Probe<In, Out> {
    fn flat(&self, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::FlatMap))
    }
}

/// Map partitions: a `Vec` of items in, a `Vec` of items out.
pub trait OnPartition<In, Out> {
    /// Applies `f` to the whole partition.
    fn whole(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<T: Item, U: Item> OnPartition<Vec<T>, Vec<U>> for Probe<Vec<T>, Vec<U>> {
    fn whole(&self, partition: &Value, f: F<'_, Vec<T>, Vec<U>>) -> Result<Value> {
        let p = partition.expect_ref::<Partition<T>>()?;
        Ok(Arc::new(Partition(f(&p.0)?)))
    }
}

/// Top k: ordered keys of items.
pub trait OnKeys<In, Out> {
    /// The `k` items with the largest keys, largest first (ties keep input order).
    fn top(&self, k: usize, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In: Item, Out: Ord> OnKeys<In, Out> for Probe<In, Out> {
    fn top(&self, k: usize, partition: &Value, f: F<'_, In, Out>) -> Result<Value> {
        let items = items_of::<In>(partition)?;
        let mut keyed = items
            .into_iter()
            .map(|x| Ok((f(x)?, x)))
            .collect::<Result<Vec<(Out, &In)>>>()?;
        keyed.sort_by(|a, b| b.0.cmp(&a.0));
        keyed.truncate(k);
        Ok(Arc::new(Partition(
            keyed.into_iter().map(|(_, x)| x.clone()).collect(),
        )))
    }
}

/// The fallback of [`OnKeys`].
pub trait OnKeysUnfit<In, Out> {
    /// Always an error.
    fn top(&self, k: usize, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnKeysUnfit<In, Out> for &Probe<In, Out> {
    fn top(&self, k: usize, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::TopK { k }))
    }
}

/// Groupby: hashable, ordered keys of items.
pub trait OnGroups<In, Out> {
    /// Splits a partition into `m` buckets by the hash of the key.
    fn split(&self, m: usize, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
    /// Groups bucket `j` of every split by key.
    fn group(&self, j: usize, splits: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In: Item, Out: Item + Ord + std::hash::Hash> OnGroups<In, Out> for Probe<In, Out>
where
    (Out, Vec<In>): Item,
{
    fn split(&self, m: usize, partition: &Value, f: F<'_, In, Out>) -> Result<Value> {
        let mut buckets: Vec<Vec<In>> = vec![Vec::new(); m.max(1)];
        for x in part::<In>(partition)? {
            let b = (stable_hash(&f(x)?) % buckets.len() as u64) as usize;
            buckets[b].push(x.clone());
        }
        Ok(Arc::new(Buckets(buckets)))
    }

    fn group(&self, j: usize, splits: &Value, f: F<'_, In, Out>) -> Result<Value> {
        let splits = match splits.downcast_ref::<Inputs>() {
            Some(Inputs(all)) => all.iter().collect::<Vec<_>>(),
            None => vec![splits],
        };
        let mut groups: std::collections::BTreeMap<Out, Vec<In>> = Default::default();
        for s in splits {
            for x in s
                .expect_ref::<Buckets<In>>()?
                .0
                .get(j)
                .into_iter()
                .flatten()
            {
                groups.entry(f(x)?).or_default().push(x.clone());
            }
        }
        Ok(Arc::new(Partition(
            groups.into_iter().collect::<Vec<(Out, Vec<In>)>>(),
        )))
    }
}

/// The fallback of [`OnGroups`].
pub trait OnGroupsUnfit<In, Out> {
    /// Always an error.
    fn split(&self, m: usize, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
    /// Always an error.
    fn group(&self, j: usize, splits: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnGroupsUnfit<In, Out> for &Probe<In, Out> {
    fn split(&self, m: usize, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::GroupSplit { m }))
    }
    fn group(&self, j: usize, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::Group { j }))
    }
}

/// The fallback of [`OnPartition`].
pub trait OnPartitionUnfit<In, Out> {
    /// Always an error.
    fn whole(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnPartitionUnfit<In, Out> for &Probe<In, Out> {
    fn whole(&self, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::Partitions))
    }
}

/// Reductions: a partition to one value.
pub trait OnReduce<In, Out> {
    /// `f` on the partition's items, as a partition of one value.
    fn reduce(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<T: Item, A: Item> OnReduce<Vec<T>, A> for Probe<Vec<T>, A> {
    fn reduce(&self, partition: &Value, f: F<'_, Vec<T>, A>) -> Result<Value> {
        let p = partition.expect_ref::<Partition<T>>()?;
        Ok(Arc::new(Partition(vec![f(&p.0)?])))
    }
}

/// The fallback of [`OnReduce`].
pub trait OnReduceUnfit<In, Out> {
    /// Always an error.
    fn reduce(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnReduceUnfit<In, Out> for &Probe<In, Out> {
    fn reduce(&self, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::Reduce))
    }
}

/// Aggregates: the values of several partitions to one.
pub trait OnAggregate<In, Out> {
    /// `f` on the values of every input, as a partition of one value.
    fn aggregate(&self, inputs: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<A: Item> OnAggregate<Vec<A>, A> for Probe<Vec<A>, A> {
    fn aggregate(&self, inputs: &Value, f: F<'_, Vec<A>, A>) -> Result<Value> {
        let values: Vec<A> = items_of::<A>(inputs)?.into_iter().cloned().collect();
        Ok(Arc::new(Partition(vec![f(&values)?])))
    }
}

/// The fallback of [`OnAggregate`].
pub trait OnAggregateUnfit<In, Out> {
    /// Always an error.
    fn aggregate(&self, inputs: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnAggregateUnfit<In, Out> for &Probe<In, Out> {
    fn aggregate(&self, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::Aggregate))
    }
}

/// DataFrame partitions: a Polars DataFrame in, one out.
pub trait OnFrame<In, Out> {
    /// Applies `f` to the partition's frame.
    fn frame(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

#[cfg(feature = "dataframe")]
impl OnFrame<polars::prelude::DataFrame, polars::prelude::DataFrame>
    for Probe<polars::prelude::DataFrame, polars::prelude::DataFrame>
{
    fn frame(
        &self,
        partition: &Value,
        f: F<'_, polars::prelude::DataFrame, polars::prelude::DataFrame>,
    ) -> Result<Value> {
        use crate::dataframe::Frame;
        let df = partition.expect_ref::<Frame>()?;
        Ok(Arc::new(Frame(f(&df.0)?)))
    }
}

/// The fallback of [`OnFrame`].
pub trait OnFrameUnfit<In, Out> {
    /// Always an error.
    fn frame(&self, partition: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnFrameUnfit<In, Out> for &Probe<In, Out> {
    fn frame(&self, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::Frame))
    }
}

/// A tree's combine step: the items of several partitions, concatenated, to a
/// partition.
pub trait OnConcat<In, Out> {
    /// `f` on the concatenated items of every input.
    fn concat(&self, inputs: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<A: Item> OnConcat<Vec<A>, Vec<A>> for Probe<Vec<A>, Vec<A>> {
    fn concat(&self, inputs: &Value, f: F<'_, Vec<A>, Vec<A>>) -> Result<Value> {
        let items: Vec<A> = items_of::<A>(inputs)?.into_iter().cloned().collect();
        Ok(Arc::new(Partition(f(&items)?)))
    }
}

/// The fallback of [`OnConcat`].
pub trait OnConcatUnfit<In, Out> {
    /// Always an error.
    fn concat(&self, inputs: &Value, f: F<'_, In, Out>) -> Result<Value>;
}

impl<In, Out> OnConcatUnfit<In, Out> for &Probe<In, Out> {
    fn concat(&self, _: &Value, _: F<'_, In, Out>) -> Result<Value> {
        Err(unfit::<In, Out>(Apply::Concat))
    }
}
